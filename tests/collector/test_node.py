"""A Node.js app with the OpenTelemetry JS OTLP exporters (HTTP protobuf, HTTP JSON, gRPC) sending to the
collector: every span arrives, the tenant is the token's, and a forged tenant is ignored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.collector._node import PROTOCOLS, run_node_client
from tests.collector.conftest import collector_config, read_records, running, wait_records


def _config(tmp_path: Path) -> dict[str, Any]:
    def file(name: str) -> dict[str, Any]:
        return {"type": "file", "path": str(tmp_path / f"{name}.jsonl"), "queue": {"flush_interval": "50ms"}}

    return {
        "destinations": {"js": file("js"), "other": file("other")},
        "default_destinations": ["other"],
        "tenants": {"team-js": {"destinations": ["js"]}, "team-x": {"destinations": ["other"]}},
        "collector": collector_config(tmp_path / "state", auth={"tokens": [{"token": "js-token", "tenant": "team-js"}]}),
    }


def _endpoint(c: Any, protocol: str) -> str:
    return f"http://{c.grpc}" if protocol == "grpc" else f"{c.http}/v1/traces"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_node_app_spans_arrive_with_the_tokens_tenant(tmp_path: Path, protocol: str) -> None:
    with running(_config(tmp_path)) as c:
        result = run_node_client(
            protocol,
            _endpoint(c, protocol),
            "js-token",
            spans=20,
            batch=7,
            attrs={"otel_llm.tenant.id": "team-x"},
            resource_attrs={"otel_llm.tenant.id": "team-x"},
            service_name="node-app",
        )
        assert result.ok, result
        assert result.exported == 20
        records = wait_records(tmp_path / "js.jsonl", 20)
    assert len(records) == 20
    assert {r["tenant_id"] for r in records} == {"team-js"}
    assert {r["service"]["name"] for r in records} == {"node-app"}
    assert {r["request_model"] for r in records} == {"gpt-4o-mini"}
    assert sorted(r["status"] for r in records).count("error") == 1
    assert len({r["trace_id"] for r in records}) == 1
    assert read_records(tmp_path / "other.jsonl") == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_node_app_with_a_wrong_token_fails(tmp_path: Path, protocol: str) -> None:
    with running(_config(tmp_path)) as c:
        result = run_node_client(protocol, _endpoint(c, protocol), "wrong", spans=2, timeout_ms=3000)
    assert not result.ok and result.failed == 2
    assert result.error_code in (401, 16)  # HTTP 401, gRPC UNAUTHENTICATED
