"""Helpers for tests: in-memory OTel pipelines and real openai clients on a mock transport.

The openai SDK under test is whatever the environment has: 3.x (httpx2) or the 1.x/2.x line
(httpx). ``http`` is the matching HTTP module so tests build transports the SDK accepts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

OPENAI_MAJOR = int(openai.__version__.split(".")[0])
if OPENAI_MAJOR >= 3:
    import httpx2 as http
else:
    import httpx as http  # type: ignore[no-redef]

Handler = Callable[[Any], Any]


class Telemetry:
    """The three in-memory pipelines one test reads from."""

    def __init__(self) -> None:
        self.span_exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.log_exporter = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))

    def spans(self) -> list[ReadableSpan]:
        return list(self.span_exporter.get_finished_spans())

    def span(self) -> ReadableSpan:
        """The one span a test expects; fails if there are more or none."""
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def metrics(self) -> dict[str, list[Any]]:
        """GenAI metric name → data points, from one collection (our own otel_llm.* ones left out)."""
        return {k: v for k, v in self.all_metrics().items() if k.startswith("gen_ai.")}

    def all_metrics(self) -> dict[str, list[Any]]:
        """Metric name → data points, from one collection."""
        out: dict[str, list[Any]] = {}
        data = self.metric_reader.get_metrics_data()
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    out.setdefault(metric.name, []).extend(metric.data.data_points)
        return out

    def events(self) -> list[Any]:
        return [r.log_record for r in self.log_exporter.get_finished_logs()]


def instrument(telemetry: Telemetry, **kwargs: Any) -> Any:
    from otel_llm.instrumentation.openai import OpenAIInstrumentor

    instrumentor = OpenAIInstrumentor()
    kwargs.setdefault("cost", False)  # exact-attribute tests stay about their subject; cost tests pass cost=True
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        logger_provider=telemetry.logger_provider,
        **kwargs,
    )
    return instrumentor


def sse(events: list[dict[str, Any]], *, named: bool = False, done: bool = True) -> bytes:
    """An SSE body as OpenAI sends it; ``named`` adds ``event:`` lines (Responses API)."""
    out = []
    for event in events:
        prefix = f"event: {event['type']}\n" if named else ""
        out.append(f"{prefix}data: {json.dumps(event)}\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    return http.Response(status, json=payload, headers=headers or {"x-request-id": "req_123"})


def sse_response(body: bytes) -> Any:
    return http.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def make_client(
    handler: Handler,
    *,
    is_async: bool = False,
    azure: bool = False,
    base_url: str | None = None,
    max_retries: int = 0,
    **kwargs: Any,
) -> Any:
    """A real openai client whose HTTP goes to ``handler(request) -> response``."""
    if is_async:

        async def ahandler(request: Any) -> Any:
            return handler(request)

        http_client = http.AsyncClient(transport=http.MockTransport(ahandler))
    else:
        http_client = http.Client(transport=http.MockTransport(handler))
    common: dict[str, Any] = {"api_key": "sk-test", "http_client": http_client, "max_retries": max_retries}
    common.update(kwargs)
    if azure:
        cls = openai.AsyncAzureOpenAI if is_async else openai.AzureOpenAI
        return cls(
            azure_endpoint=base_url or "https://myres.openai.azure.com",
            api_version="2024-10-21",
            **common,
        )
    cls = openai.AsyncOpenAI if is_async else openai.OpenAI
    if base_url:
        common["base_url"] = base_url
    return cls(**common)


SCHEMA_DIR = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "reference" / "genai-schemas"
SCHEMA_FILES = {
    "gen_ai.input.messages": "gen-ai-input-messages.json",
    "gen_ai.output.messages": "gen-ai-output-messages.json",
    "gen_ai.system_instructions": "gen-ai-system-instructions.json",
    "gen_ai.tool.definitions": "gen-ai-tool-definitions.json",
}


def validate_content(attributes: Any) -> dict[str, Any]:
    """Parse every content attribute present and validate it against its published JSON schema.

    Returns the parsed values by attribute name. Raises jsonschema.ValidationError on mismatch.
    """
    import jsonschema

    parsed: dict[str, Any] = {}
    for key, filename in SCHEMA_FILES.items():
        if key not in attributes:
            continue
        value = attributes[key]
        # strings are span JSON; structured event values may hold tuples, which JSON makes arrays
        value = json.loads(value if isinstance(value, str) else json.dumps(value))
        schema = json.loads((SCHEMA_DIR / filename).read_text())
        jsonschema.validate(value, schema)
        parsed[key] = value
    return parsed


# -- Chat Completions payloads as the API returns them (appended for test_openai_chat*.py) -------


def chat_message(content: str | None = None, *, refusal: str | None = None, tool_calls: Any = None) -> dict:
    """An assistant message of a ChatCompletion choice, with every field the API sends."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal, "annotations": []}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return message


def chat_completion_payload(
    *choices: tuple[dict[str, Any], str | None],
    model: str = "gpt-4o-2024-08-06",
    completion_id: str = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    prompt_tokens: int = 19,
    completion_tokens: int = 10,
    cached_tokens: int = 0,
    reasoning_tokens: int = 0,
    service_tier: str | None = "default",
    system_fingerprint: str | None = "fp_50cad350e4",
) -> dict[str, Any]:
    """A full ``chat.completion`` body; ``choices`` are (message, finish_reason) pairs."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": 1741569952,
        "model": model,
        "choices": [
            {"index": i, "message": message, "logprobs": None, "finish_reason": reason}
            for i, (message, reason) in enumerate(choices)
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": service_tier,
        "system_fingerprint": system_fingerprint,
    }


def plain(value: Any) -> Any:
    """Attribute values with tuples (as the SDK stores sequences) turned back into lists, recursively."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    return value


def histogram_points(telemetry: Telemetry, name: str) -> list[tuple[dict[str, Any], int, float]]:
    """``(attributes, count, sum)`` of each data point of one histogram, from one collection."""
    return [(dict(p.attributes), p.count, p.sum) for p in telemetry.metrics().get(name, [])]


def assert_call_metrics(
    telemetry: Telemetry,
    attributes: dict[str, Any],
    *,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    chunks: int = 0,
) -> None:
    """The metric points of exactly one call whose metric attributes are ``attributes``.

    One duration point; one token-usage point per token type given (none for types not given);
    for a stream of ``chunks`` chunks one time-to-first-chunk point and ``chunks - 1`` gaps.
    """
    duration = histogram_points(telemetry, "gen_ai.client.operation.duration")
    assert [(a, c) for a, c, _ in duration] == [(attributes, 1)]
    assert duration[0][2] >= 0
    expected_tokens = []
    if input_tokens is not None:
        expected_tokens.append(({**attributes, "gen_ai.token.type": "input"}, 1, input_tokens))
    if output_tokens is not None:
        expected_tokens.append(({**attributes, "gen_ai.token.type": "output"}, 1, output_tokens))
    tokens = sorted(histogram_points(telemetry, "gen_ai.client.token.usage"), key=lambda p: p[0]["gen_ai.token.type"])
    assert tokens == expected_tokens
    ttfc = histogram_points(telemetry, "gen_ai.client.operation.time_to_first_chunk")
    gaps = histogram_points(telemetry, "gen_ai.client.operation.time_per_output_chunk")
    assert [(a, c) for a, c, _ in ttfc] == ([(attributes, 1)] if chunks else [])
    assert [(a, c) for a, c, _ in gaps] == ([(attributes, chunks - 1)] if chunks > 1 else [])
