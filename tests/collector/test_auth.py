"""Auth → tenant: no token, a wrong token, and a token of tenant A with spans claiming tenant B."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.conftest import collector_config, genai_spans, read_records, running, wait_records
from tests.collector.test_receivers import post


def _config(tmp_path: Path, **auth: Any) -> dict[str, Any]:
    def file(name: str) -> dict[str, Any]:
        return {"type": "file", "path": str(tmp_path / f"{name}.jsonl"), "queue": {"flush_interval": "50ms"}}

    return {
        "destinations": {"a": file("a"), "b": file("b"), "shared": file("shared")},
        "default_destinations": ["shared"],
        "tenants": {"team-a": {"destinations": ["a"]}, "team-b": {"destinations": ["b"]}},
        "collector": collector_config(
            tmp_path / "state",
            auth={"tokens": [{"token": "token-a", "tenant": "team-a"}, {"token": "token-b", "tenant": "team-b"},
                             {"token": "token-none"}], **auth},
        ),
    }


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong"}, {"authorization": "token-a"},
                                     {"authorization": "Basic dG9rZW4tYTo="}, {"x-api-key": "nope"}])
def test_http_without_a_valid_token_is_401(tmp_path: Path, headers: dict[str, str]) -> None:
    with running(_config(tmp_path)) as c:
        body = encode_spans(genai_spans(1)).SerializeToString()
        status, _, _ = post(f"{c.http}/v1/traces", body, {"content-type": "application/x-protobuf", **headers})
        assert status == 401
        ok, _, _ = post(f"{c.http}/v1/traces", body, {"content-type": "application/x-protobuf", "x-api-key": "token-a"})
        assert ok == 200
        assert len(wait_records(tmp_path / "a.jsonl", 1)) == 1


@pytest.mark.parametrize("metadata", [[], [("authorization", "Bearer wrong")]])
def test_grpc_without_a_valid_token_is_unauthenticated(tmp_path: Path, metadata: list[tuple[str, str]]) -> None:
    with running(_config(tmp_path)) as c, grpc.insecure_channel(c.grpc) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.Export(encode_spans(genai_spans(1)), metadata=metadata, timeout=10)
        assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED
        exporter = GrpcExporter(endpoint=c.grpc, insecure=True, headers={"authorization": "Bearer wrong"})
        assert exporter.export(genai_spans(1)) is SpanExportResult.FAILURE  # not retried: a permanent error
    assert read_records(tmp_path / "a.jsonl") == read_records(tmp_path / "shared.jsonl") == []


def test_a_token_of_tenant_a_cannot_claim_tenant_b(tmp_path: Path) -> None:
    forged = {"otel_llm.tenant.id": "team-b"}
    with running(_config(tmp_path)) as c:
        grpc_exporter = GrpcExporter(endpoint=c.grpc, insecure=True, headers={"authorization": "Bearer token-a"})
        assert grpc_exporter.export(genai_spans(2, attributes=forged)) is SpanExportResult.SUCCESS
        http_exporter = HttpExporter(endpoint=f"{c.http}/v1/traces", headers={"authorization": "Bearer token-a"})
        assert http_exporter.export(genai_spans(2, resource=forged)) is SpanExportResult.SUCCESS
        # a token without a tenant: forged tenants are removed, the spans take the default route
        none_exporter = GrpcExporter(endpoint=c.grpc, insecure=True, headers={"authorization": "Bearer token-none"})
        assert none_exporter.export(genai_spans(1, attributes=forged)) is SpanExportResult.SUCCESS
        records_a = wait_records(tmp_path / "a.jsonl", 4)
        shared = wait_records(tmp_path / "shared.jsonl", 1)
        time.sleep(0.3)  # let any stray span arrive before asserting there is none
    assert len(records_a) == 4 and {r["tenant_id"] for r in records_a} == {"team-a"}
    assert read_records(tmp_path / "b.jsonl") == []
    assert len(shared) == 1 and shared[0]["tenant_id"] is None
    assert "team-b" not in (tmp_path / "a.jsonl").read_text() + (tmp_path / "shared.jsonl").read_text()


def test_auth_off_trusts_the_spans_tenant(tmp_path: Path) -> None:
    config = _config(tmp_path)
    config["collector"]["auth"] = {}
    with running(config) as c:
        exporter = GrpcExporter(endpoint=c.grpc, insecure=True)
        assert exporter.export(genai_spans(1, attributes={"otel_llm.tenant.id": "team-b"})) is SpanExportResult.SUCCESS
        records = wait_records(tmp_path / "b.jsonl", 1)
    assert records[0]["tenant_id"] == "team-b"


def test_optional_auth_sets_the_tenant_of_known_tokens(tmp_path: Path) -> None:
    with running(_config(tmp_path, required=False)) as c:
        anonymous = GrpcExporter(endpoint=c.grpc, insecure=True)
        assert anonymous.export(genai_spans(1)) is SpanExportResult.SUCCESS
        known = GrpcExporter(endpoint=c.grpc, insecure=True, headers={"authorization": "Bearer token-b"})
        assert known.export(genai_spans(1, attributes={"otel_llm.tenant.id": "team-a"})) is SpanExportResult.SUCCESS
        assert len(wait_records(tmp_path / "shared.jsonl", 1)) == 1
        assert wait_records(tmp_path / "b.jsonl", 1)[0]["tenant_id"] == "team-b"
    assert read_records(tmp_path / "a.jsonl") == []
