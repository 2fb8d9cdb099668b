"""The Node.js OTLP client (``node_client/send.mjs``) against the loopback sinks of ``tests/servers.py``.

The collector tests trust this client to stand for a real JS application, so these prove what it sends
and what it reports: the spans and their GenAI attributes arrive over all three protocols, the token
and extra headers arrive as HTTP headers / gRPC metadata, the OTLP/JSON is the spec's (hex ids), and a
refusal is reported (failed count, exit 1) instead of being lost as a BatchSpanProcessor would.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.collector._node import run_node_client
from tests.servers import HttpSink, Received, otlp_grpc_sink, otlp_http_spans, serve_http

HEX32 = re.compile(r"[0-9a-f]{32}")
HEX16 = re.compile(r"[0-9a-f]{16}")


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, de-chunked: the JS HTTP exporters stream it with ``Transfer-Encoding: chunked``
    and no Content-Length, which ``tests.servers.http_sink`` does not read (it sees an empty body)."""
    if "chunked" not in (handler.headers.get("Transfer-Encoding") or "").lower():
        return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    chunks = []
    while size := int(handler.rfile.readline().split(b";")[0], 16):
        chunks.append(handler.rfile.read(size))
        handler.rfile.readline()
    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
        pass
    return b"".join(chunks)


@contextmanager
def http_sink(status: int = 200, response: bytes = b"") -> Iterator[HttpSink]:
    """``tests.servers.http_sink`` that reads chunked bodies (and can answer a body)."""
    sink = HttpSink(status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = _read_body(self)
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            sink.requests.append(Received("POST", self.path, dict(self.headers.items()), body))
            self.send_response(sink.status)
            self.send_header("Content-Type", self.headers.get("Content-Type") or "application/x-protobuf")
            self.send_header("Content-Length", str(len(response)))
            self.end_headers()
            self.wfile.write(response)

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Handler) as sink.port:
        yield sink


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind)


def _attrs(key_values: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


def _check_genai_spans(spans: list[Any], count: int) -> None:
    """The spans send.mjs promises: indexes 0..count-1, one trace under span 0, the last one failed."""
    by_index = {_attrs(s.attributes)["otel_llm.test.index"]: s for s in spans}
    assert sorted(by_index) == list(range(count))
    root = by_index[0]
    assert root.parent_span_id == b""
    for index, span in by_index.items():
        attrs = _attrs(span.attributes)
        assert span.name == "chat gpt-4o-mini"
        assert span.kind == trace_pb2.Span.SPAN_KIND_CLIENT
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.provider.name"] == "openai"
        assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
        assert len(span.trace_id) == 16 and span.trace_id == root.trace_id
        assert len(span.span_id) == 8 and span.span_id != b"\0" * 8
        if index:
            assert span.parent_span_id == root.span_id
        if index == count - 1 and count >= 2:
            assert span.status.code == trace_pb2.Status.STATUS_CODE_ERROR
            assert attrs["error.type"] == "RateLimitError"
            assert [e.name for e in span.events] == ["exception"]
        else:
            assert span.status.code != trace_pb2.Status.STATUS_CODE_ERROR
            assert attrs["gen_ai.usage.input_tokens"] == 10 + index
            assert attrs["gen_ai.usage.output_tokens"] == 5 + index
            assert attrs["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
            assert attrs["gen_ai.response.finish_reasons"] == ["stop"]


def test_http_protobuf_batches_headers_and_attributes() -> None:
    with http_sink() as sink:
        result = run_node_client(
            "http/protobuf",
            f"{sink.url}/v1/traces",
            "tok-1",
            5,
            batch=2,
            headers={"x-extra": "yes"},
            attrs={"otel_llm.tenant.id": "forged"},
            resource_attrs={"deployment.environment.name": "test"},
            service_name="node-svc",
        )
        assert result.ok, result
        assert (result.exported, result.failed, result.results) == (5, 0, ["success"] * 3)
        assert [len(r.body) > 0 for r in sink.requests] == [True] * 3
        for request in sink.requests:
            assert request.path == "/v1/traces"
            assert request.headers["Content-Type"] == "application/x-protobuf"
            assert request.headers["authorization"] == "Bearer tok-1"
            assert request.headers["x-extra"] == "yes"
        spans = otlp_http_spans(sink)
        _check_genai_spans(spans, 5)
        assert {_attrs(s.attributes)["otel_llm.tenant.id"] for s in spans} == {"forged"}
        parsed = trace_service_pb2.ExportTraceServiceRequest.FromString(sink.requests[0].body)
        resource = _attrs(parsed.resource_spans[0].resource.attributes)
        assert resource["service.name"] == "node-svc"
        assert resource["deployment.environment.name"] == "test"
        assert resource["telemetry.sdk.language"] == "nodejs"


def _json_value(value: dict[str, Any]) -> Any:
    ((kind, inner),) = value.items()
    if kind == "arrayValue":
        return [_json_value(v) for v in inner.get("values", [])]
    return int(inner) if kind == "intValue" else inner


def _json_attrs(span: dict[str, Any]) -> dict[str, Any]:
    return {kv["key"]: _json_value(kv["value"]) for kv in span["attributes"]}


def test_http_json_is_otlp_json_with_hex_ids_even_gzipped() -> None:
    with http_sink() as sink:
        result = run_node_client("http/json", f"{sink.url}/v1/traces", "tok-2", 3, compression="gzip")
        assert result.ok, result
        assert result.exported == 3
        (request,) = sink.requests
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["Content-Encoding"] == "gzip"  # the sink has gunzipped the body
        assert request.headers["authorization"] == "Bearer tok-2"
        body = json.loads(request.body)
    spans = [s for rs in body["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert len(spans) == 3
    for span in spans:
        assert HEX32.fullmatch(span["traceId"]) and HEX16.fullmatch(span["spanId"])
        assert span["kind"] == 3  # SPAN_KIND_CLIENT as an integer, as OTLP/JSON says
        attrs = _json_attrs(span)
        assert attrs["gen_ai.provider.name"] == "openai"
        assert attrs["gen_ai.request.temperature"] == 0.2
    by_index = {_json_attrs(s)["otel_llm.test.index"]: s for s in spans}
    children = [s for s in spans if s is not by_index[0]]
    assert all(HEX16.fullmatch(s["parentSpanId"]) and s["parentSpanId"] == by_index[0]["spanId"] for s in children)
    failed = by_index[2]
    assert failed["status"]["code"] == 2 and failed["events"][0]["name"] == "exception"


def test_grpc_metadata_and_spans() -> None:
    with otlp_grpc_sink() as sink:
        result = run_node_client("grpc", sink.endpoint, "tok-3", 4, headers={"x-tenant-hint": "acme"})
        assert result.ok, result
        assert (result.exported, result.results) == (4, ["success"])
        (metadata,) = sink.metadata
        assert metadata["authorization"] == "Bearer tok-3"
        assert metadata["x-tenant-hint"] == "acme"
        _check_genai_spans(sink.spans(), 4)


def test_no_token_no_authorization_header() -> None:
    with http_sink() as sink:
        assert run_node_client("http/protobuf", f"{sink.url}/v1/traces", None, 1).ok
        assert "authorization" not in {k.lower() for k in sink.requests[0].headers}
        _check_genai_spans(otlp_http_spans(sink), 1)


def test_http_401_is_reported_failed_without_retry() -> None:
    with http_sink(status=401) as sink:
        result = run_node_client("http/protobuf", f"{sink.url}/v1/traces", "wrong", 3)
        assert result.returncode == 1 and not result.ok
        assert (result.exported, result.failed, result.results) == (0, 3, ["failed"])
        assert result.error_code == 401
        assert len(sink.requests) == 1  # a 401 is final for the JS exporter


def test_http_503_is_retried_within_the_timeout_then_failed() -> None:
    with http_sink(status=503) as sink:
        result = run_node_client("http/json", f"{sink.url}/v1/traces", "t", 1, timeout_ms=1500)
        assert result.returncode == 1 and result.failed == 1
        assert len(sink.requests) >= 2  # first backoff ~1 s (+-20 %) fits in 1.5 s; the next does not
        assert result.elapsed_ms < 5000


@contextmanager
def _refusing_grpc_server(code: grpc.StatusCode) -> Iterator[tuple[str, list[int]]]:
    """A TraceService answering every Export with ``code``; yields its endpoint and a call counter."""
    calls: list[int] = []

    class Service(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            calls.append(1)
            context.abort(code, "no")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", calls
    finally:
        server.stop(None)


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNAVAILABLE])
def test_grpc_refusal_is_reported_failed_and_never_retried(code: grpc.StatusCode) -> None:
    """Unlike its HTTP siblings the JS gRPC exporter has no retrying transport: even UNAVAILABLE is final."""
    with _refusing_grpc_server(code) as (endpoint, calls):
        result = run_node_client("grpc", endpoint, "wrong", 2)
    assert result.returncode == 1 and result.failed == 2
    assert result.error_code == code.value[0]
    assert len(calls) == 1


def test_partial_success_counts_as_success_and_is_reported() -> None:
    response = trace_service_pb2.ExportTraceServiceResponse()
    response.partial_success.rejected_spans = 1
    response.partial_success.error_message = "1 span rejected"
    with http_sink(response=response.SerializeToString()) as sink:
        result = run_node_client("http/protobuf", f"{sink.url}/v1/traces", "t", 2)
    assert result.ok and result.exported == 2
    assert result.partial_success == [{"rejectedSpans": 1, "errorMessage": "1 span rejected"}]


def test_http_bodies_are_chunked_without_content_length() -> None:
    """Why this module has its own sink; a receiver must read to the end of the chunked stream."""
    with http_sink() as sink:
        assert run_node_client("http/json", f"{sink.url}/v1/traces", None, 1).ok
    headers = {k.lower(): v for k, v in sink.requests[0].headers.items()}
    assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    assert json.loads(sink.requests[0].body)["resourceSpans"]
