"""OTLP into the collector from real clients (the OpenTelemetry Python SDK exporters, raw HTTP), and
what reaches a destination: every span, with its GenAI attributes, redacted as the file says."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.collector.conftest import collector_config, genai_spans, read_records, running, wait_records
from tests.servers import http_sink, wait_for

TOKEN = "team-a-token"


def _config(tmp_path: Path, records: Path, **collector: Any) -> dict[str, Any]:
    return {
        "destinations": {"records": {"type": "file", "path": str(records), "queue": {"flush_interval": "50ms"}}},
        "collector": collector_config(
            tmp_path / "state", auth={"tokens": [{"token": TOKEN, "tenant": "team-a"}]}, **collector
        ),
    }


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_python_sdk_grpc_exporter(tmp_path: Path, records_path: Path) -> None:
    with running(_config(tmp_path, records_path)) as c:
        exporter = GrpcExporter(endpoint=c.grpc, insecure=True, headers={"authorization": f"Bearer {TOKEN}"})
        assert exporter.export(genai_spans(5)) is SpanExportResult.SUCCESS
        records = wait_records(records_path, 5)
    assert len(records) == 5
    assert {r["tenant_id"] for r in records} == {"team-a"}
    assert {r["provider"] for r in records} == {"openai"}
    assert sorted(r["usage"]["input_tokens"] for r in records) == [100, 101, 102, 103, 104]
    assert all(r["service"]["name"] == "sender" for r in records)


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_python_sdk_http_exporter(tmp_path: Path, records_path: Path, compression: Compression) -> None:
    with running(_config(tmp_path, records_path)) as c:
        exporter = HttpExporter(
            endpoint=f"{c.http}/v1/traces", headers={"authorization": f"Bearer {TOKEN}"}, compression=compression
        )
        spans = genai_spans(4, error_every=2)
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        records = wait_records(records_path, 4)
    assert {r["id"] for r in records} == {format(s.context.span_id, "016x") for s in spans}
    assert [r["status"] for r in sorted(records, key=lambda r: r["attributes"]["call.index"])] == [
        "error", "ok", "error", "ok"
    ]


def _json_request(span_id: str = "eee19b7ec3c1b174", trace_id: str = "5b8efff798038103d269b633813fc60c") -> bytes:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-app"}}]},
                    "scopeSpans": [
                        {
                            "scope": {"name": "manual"},
                            "spans": [
                                {
                                    "traceId": trace_id,
                                    "spanId": span_id,
                                    "name": "chat gpt-4o",
                                    "kind": 3,
                                    "startTimeUnixNano": "1544712660000000000",
                                    "endTimeUnixNano": "1544712661000000000",
                                    "attributes": [
                                        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                                        {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                                        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                                        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
                                        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 50}},
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    ).encode()


def test_otlp_json_with_partial_success(tmp_path: Path, records_path: Path) -> None:
    with running(_config(tmp_path, records_path)) as c:
        headers = {"content-type": "application/json", "authorization": f"Bearer {TOKEN}"}
        status, reply_headers, body = post(f"{c.http}/v1/traces", _json_request(), headers)
        assert status == 200, body
        assert reply_headers["content-type"].startswith("application/json")
        assert json.loads(body).get("partialSuccess") in (None, {})
        bad = _json_request(span_id="00000000000000ff00")  # nine bytes: rejected, not the whole request
        status, _, body = post(f"{c.http}/v1/traces", bad, headers)
        assert status == 200
        assert int(json.loads(body)["partialSuccess"]["rejectedSpans"]) == 1
        records = wait_records(records_path, 1)
    assert [r["request_model"] for r in records] == ["gpt-4o"]
    assert records[0]["cost"] is not None and records[0]["cost"]["total_usd"] > 0  # cost added by the collector


def test_content_is_redacted_centrally(tmp_path: Path, records_path: Path) -> None:
    secret_message = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "my card is 4111"}]}])
    config = {**_config(tmp_path, records_path), "redaction": {"content": "drop"}}
    with running(config) as c:
        exporter = GrpcExporter(endpoint=c.grpc, insecure=True, headers={"authorization": f"Bearer {TOKEN}"})
        spans = genai_spans(1, attributes={"gen_ai.input.messages": secret_message, "note": "key sk-proj-abcdefghijklmnopqrstuvwx"})
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        wait_records(records_path, 1)
    raw = records_path.read_text()
    assert "4111" not in raw and "sk-proj-abcdefghijklmnopqrstuvwx" not in raw
    assert "[redacted" in raw


def test_grpc_partial_success_and_raw_stub(tmp_path: Path, records_path: Path) -> None:
    spans = genai_spans(2)
    request = encode_spans(spans)
    request.resource_spans[0].scope_spans[0].spans[0].trace_id = b"\x00" * 16  # invalid: rejected
    with running(_config(tmp_path, records_path)) as c, grpc.insecure_channel(c.grpc) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        reply = stub.Export(request, metadata=[("authorization", f"Bearer {TOKEN}")], timeout=10)
        assert reply.partial_success.rejected_spans == 1
        assert reply.partial_success.error_message
        records = wait_records(records_path, 1)
    assert len(records) == 1


BAD_INPUTS = [
    ("application/x-protobuf", b"\xff\xff\xff\xff\x0f garbage", {}, 400),
    ("application/json", b"{not json", {}, 400),
    ("application/json", b"[" * 100_000 + b"]" * 100_000, {}, 400),
    ("application/json", b'{"resourceSpans": [{"resource": {"attributes": [{"key": "\xff\xfe", "value": {}}]}}]}', {}, 400),
    ("text/plain", b"hello", {}, 415),
    ("application/x-protobuf", b"", {"content-encoding": "br"}, 415),
    ("application/x-protobuf", b"\x00" * (2 << 20), {}, 413),
    ("application/x-protobuf", gzip.compress(b"\x00" * (8 << 20)), {"content-encoding": "gzip"}, 413),
    ("application/x-protobuf", b"\x1f\x8b\x08\x00garbage", {"content-encoding": "gzip"}, 400),
]


@pytest.mark.parametrize(("content_type", "body", "extra", "status"), BAD_INPUTS)
def test_bad_input_gets_a_clear_status(
    tmp_path: Path, records_path: Path, content_type: str, body: bytes, extra: dict[str, str], status: int
) -> None:
    with running(_config(tmp_path, records_path, max_request_bytes="1MiB")) as c:
        headers = {"content-type": content_type, "authorization": f"Bearer {TOKEN}", **extra}
        got, _, reply = post(f"{c.http}/v1/traces", body, headers)
        assert got == status, reply[:200]
        # still serving
        ok, _, _ = post(f"{c.http}/v1/traces", encode_spans(genai_spans(1)).SerializeToString(),
                        {"content-type": "application/x-protobuf", "authorization": f"Bearer {TOKEN}"})
        assert ok == 200
        assert wait_records(records_path, 1)


def test_wrong_path_and_method(tmp_path: Path, records_path: Path) -> None:
    with running(_config(tmp_path, records_path)) as c:
        assert post(f"{c.http}/v1/spans", b"", {})[0] == 404
        with urllib.request.urlopen(f"{c.http}/healthz", timeout=5) as r:
            assert r.status == 200
        try:
            urllib.request.urlopen(f"{c.http}/v1/traces", timeout=5)
        except urllib.error.HTTPError as err:
            assert err.code == 405
        else:
            raise AssertionError("GET /v1/traces answered 2xx")


def test_full_queue_answers_retryable_503(tmp_path: Path, records_path: Path) -> None:
    config = _config(tmp_path, records_path, max_queued_spans=1)
    with running(config) as c:
        body = encode_spans(genai_spans(3)).SerializeToString()  # 3 spans never fit in a queue of 1
        status, headers, _ = post(
            f"{c.http}/v1/traces", body, {"content-type": "application/x-protobuf", "authorization": f"Bearer {TOKEN}"}
        )
        assert status == 503
        assert headers.get("retry-after") == "1"
        metrics = urllib.request.urlopen(f"{c.admin}/metrics", timeout=5).read().decode()
    assert 'otel_llm_collector_refused_items_total{reason="queue_full",signal="traces",tenant="team-a"} 3.0' in metrics


def test_metrics_and_logs_are_forwarded_where_asked(tmp_path: Path, records_path: Path) -> None:
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.common.v1.common_pb2 import KeyValue
    from opentelemetry.proto.logs.v1 import logs_pb2

    forged = KeyValue(key="otel_llm.tenant.id")
    forged.value.string_value = "team-b"
    metrics = metrics_service_pb2.ExportMetricsServiceRequest()
    rm = metrics.resource_metrics.add()
    rm.resource.attributes.append(forged)
    metric = rm.scope_metrics.add().metrics.add(name="gen_ai.client.token.usage")
    metric.gauge.data_points.add(as_int=42, time_unix_nano=1)
    metric.gauge.data_points.add(as_int=7, time_unix_nano=2)
    logs = logs_service_pb2.ExportLogsServiceRequest()
    logs.resource_logs.add().scope_logs.add().log_records.add(severity_number=logs_pb2.SEVERITY_NUMBER_INFO)
    with http_sink() as sink:
        config = _config(tmp_path, records_path)
        config["destinations"]["metrics-backend"] = {
            "type": "otlp", "protocol": "http/protobuf", "endpoint": sink.url, "forward": ["metrics"],
        }
        with running(config) as c:
            headers = {"content-type": "application/x-protobuf", "authorization": f"Bearer {TOKEN}"}
            for path, message in (("/v1/metrics", metrics), ("/v1/logs", logs)):
                status, _, body = post(f"{c.http}{path}", message.SerializeToString(), headers)
                assert status == 200, body
            assert wait_for(lambda: any(r.path == "/v1/metrics" for r in sink.requests))
            text = urllib.request.urlopen(f"{c.admin}/metrics", timeout=5).read().decode()
    assert [r.path for r in sink.requests] == ["/v1/metrics"]  # logs were not asked for
    got = metrics_service_pb2.ExportMetricsServiceRequest.FromString(sink.requests[0].body)
    assert [p.as_int for p in got.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points] == [42, 7]
    tenant = [kv.value.string_value for kv in got.resource_metrics[0].resource.attributes if kv.key == "otel_llm.tenant.id"]
    assert tenant == ["team-a"]  # the credential's, not the forged one
    assert 'otel_llm_collector_received_items_total{signal="metrics",tenant="team-a"} 2.0' in text
    assert 'otel_llm_collector_received_items_total{signal="logs",tenant="team-a"} 1.0' in text
    assert read_records(records_path) == []


def test_receiver_counts_in_prometheus_format(tmp_path: Path, records_path: Path) -> None:
    with running(_config(tmp_path, records_path)) as c:
        exporter = GrpcExporter(endpoint=c.grpc, insecure=True, headers={"authorization": f"Bearer {TOKEN}"})
        assert exporter.export(genai_spans(3)) is SpanExportResult.SUCCESS
        wait_records(records_path, 3)
        text = urllib.request.urlopen(f"{c.admin}/metrics", timeout=5).read().decode()
    assert 'otel_llm_collector_received_items_total{signal="traces",tenant="team-a"} 3.0' in text
    assert 'otel_llm_collector_exported_spans_total{destination="records"} 3.0' in text
    assert 'otel_llm_collector_requests_total{signal="traces",status="OK",transport="grpc"} 1.0' in text
    assert "otel_llm_collector_request_duration_seconds_bucket" in text


def test_openllmetry_spans_are_normalised_priced_and_redacted(tmp_path: Path, records_path: Path) -> None:
    """A span as OpenLLMetry writes it (legacy gen_ai.prompt.N.* and usage names, no GenAI operation)
    comes out as a GenAI call record with usage and cost, its content dropped by the redaction."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("opentelemetry.instrumentation.openai.v1", "0.47.5").start_as_current_span(
        "openai.chat"
    ) as span:
        span.set_attributes(
            {
                "gen_ai.system": "openai",
                "llm.request.type": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.usage.prompt_tokens": 1000,
                "gen_ai.usage.completion_tokens": 50,
                "llm.usage.total_tokens": 1050,
                "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "my secret plan",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.content": "the answer",
                "gen_ai.completion.0.finish_reason": "stop",
            }
        )
    config = {**_config(tmp_path, records_path), "redaction": {"content": "drop"}}
    with running(config) as c:
        exporter = GrpcExporter(endpoint=c.grpc, insecure=True, headers={"authorization": f"Bearer {TOKEN}"})
        assert exporter.export(memory.get_finished_spans()) is SpanExportResult.SUCCESS
        (record,) = wait_records(records_path, 1)
    assert record["operation"] == "chat" and record["provider"] == "openai"
    assert record["response_model"] == "gpt-4o-2024-08-06"
    assert record["usage"]["input_tokens"] == 1000 and record["usage"]["output_tokens"] == 50
    assert record["cost"]["total_usd"] > 0
    assert record["finish_reasons"] == ["stop"]
    raw = records_path.read_text()
    assert "my secret plan" not in raw and "the answer" not in raw
