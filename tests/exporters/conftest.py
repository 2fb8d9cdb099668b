"""Fixtures for the record exporters: real SDK spans shaped like our chat spans, a moto S3 server,
and a stand-in HTTP client instrumentation that shows whether an export would be traced."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_llm.genai import attributes as A

START = 1_767_323_045_123_456_789  # 2026-01-02T03:04:05.123456789Z
MakeSpans = Callable[..., list[ReadableSpan]]


def chat_attributes(i: int, *, content: bool = False) -> dict[str, Any]:
    """What our openai instrumentation puts on a chat span (see tests/instrumentation)."""
    attrs: dict[str, Any] = {
        A.OPERATION_NAME: "chat",
        A.PROVIDER_NAME: "openai",
        A.REQUEST_MODEL: "gpt-4o-mini",
        A.SERVER_ADDRESS: "api.openai.com",
        A.SERVER_PORT: 443,
        A.OPENAI_API_TYPE: "chat_completions",
        A.REQUEST_TEMPERATURE: 0.2,
        A.REQUEST_MAX_TOKENS: 256,
        A.RESPONSE_ID: f"chatcmpl-{i:030d}",
        A.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        A.RESPONSE_FINISH_REASONS: ("stop",),
        A.USAGE_INPUT_TOKENS: 1200 + i,
        A.USAGE_OUTPUT_TOKENS: 80,
        A.USAGE_CACHE_READ_INPUT_TOKENS: 1024,
        A.USAGE_REASONING_OUTPUT_TOKENS: 0,
        A.OPENAI_RESPONSE_SERVICE_TIER: "default",
        A.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_50cad350e4",
        A.COST_USD: 0.0002,
        A.COST_INPUT_USD: 0.00003,
        A.COST_OUTPUT_USD: 0.000048,
        A.COST_CACHE_READ_USD: 0.0000768,
        A.TAGS: ("search",),
        A.METADATA_PREFIX + "feature": "qa",
        A.USER_ID: f"user-{i % 7}",
    }
    if content:
        attrs[A.INPUT_MESSAGES] = json.dumps(
            [
                {"role": "system", "parts": [{"type": "text", "content": "You are a helpful assistant. " * 8}]},
                {"role": "user", "parts": [{"type": "text", "content": f"Question {i}: " + "Explain caching. " * 20}]},
            ],
            separators=(",", ":"),
        )
        attrs[A.OUTPUT_MESSAGES] = json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": "Caching keeps... " * 30}], "finish_reason": "stop"}],
            separators=(",", ":"),
        )
    return attrs


@pytest.fixture
def make_spans() -> MakeSpans:
    """``make_spans(n, start_ns=, step_ns=, tenant=, alias=, content=, extra=)``: n ended LLM spans."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "exporter-tests"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("otel_llm.instrumentation.openai", "0.1.0")

    def make(
        n: int = 1,
        *,
        start_ns: int = START,
        step_ns: int = 1_000_000,
        tenant: str | None = None,
        alias: str | None = None,
        content: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> list[ReadableSpan]:
        spans = []
        for i in range(n):
            attrs = chat_attributes(i, content=content)
            if tenant is not None:
                attrs[A.TENANT_ID] = tenant
            if alias is not None:
                attrs[A.METADATA_PREFIX + "key_alias"] = alias
            attrs.update(extra or {})
            start = start_ns + i * step_ns
            span = tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attrs, start_time=start)
            span.end(end_time=start + 850_000_000)
            spans.append(span)
        return spans

    return make


@pytest.fixture
def plain_span() -> ReadableSpan:
    """A span that is not an LLM call (no gen_ai.operation.name)."""
    provider = TracerProvider()
    with provider.get_tracer("app").start_as_current_span("GET /orders") as span:
        pass
    return span


class HttpTracing:
    """A stand-in for the urllib / urllib3 instrumentations: a CLIENT span per HTTP request sent
    while HTTP instrumentation is enabled, the check the real ones make."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("test.http")

    def span_names(self) -> list[str]:
        return [s.name for s in self.exporter.get_finished_spans()]


@pytest.fixture
def http_tracing(monkeypatch: pytest.MonkeyPatch) -> HttpTracing:
    tracing = HttpTracing()
    original = http.client.HTTPConnection.putrequest

    def putrequest(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if is_http_instrumentation_enabled():
            with tracing.tracer.start_as_current_span(f"HTTP {method}", kind=SpanKind.CLIENT):
                pass
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(http.client.HTTPConnection, "putrequest", putrequest)
    return tracing


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3 API (moto in server mode) on a free loopback port, for the whole session."""
    pytest.importorskip("boto3")
    ThreadedMotoServer = pytest.importorskip("moto.server").ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No real AWS configuration or credentials can leak into a test."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-env-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
