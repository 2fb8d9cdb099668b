"""``otel-llm demo``: real openai (and anthropic) SDK calls against the local demo server, telemetry printed.

It shows, with no API key and no network, what otel-llm records for each kind of call: the
span of a chat, a streamed chat, a tool-calling exchange, a Responses API call and an
embeddings call, then, when the anthropic SDK is installed, a Claude message with a system
prompt, a streamed one and a token count; then the GenAI metrics. Message content appears only
with content capture on.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import Gauge, Histogram, InMemoryMetricReader, MetricsData, Sum
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import otel_llm
from otel_llm.demo.server import DemoServer

try:
    import anthropic
except ImportError:  # an optional extra: without it the demo shows the openai calls only
    anthropic = None

CHAT_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
CLAUDE_MODEL = "claude-haiku-4-5"
SERVICE_NAME = "otel-llm-demo"

# Latency the demo server adds, so durations and time-to-first-chunk look like a real call.
SERVER_DELAY_S = 0.02
SERVER_CHUNK_DELAY_S = 0.002

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City name"}},
            "required": ["location"],
        },
    },
}


# ---------------------------------------------------------------------------------------------
# Printing spans and metrics.


def _value_text(value: Any) -> str:
    """Strings as they are (content attributes are JSON already); everything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    return json.dumps(value)


class ReadableSpanPrinter(SpanExporter):  # type: ignore[misc]
    """Prints each finished span for a human: header lines, then sorted attributes, one per line."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            for span in spans:
                self._out.write(format_span(span))
            self._out.flush()
        except BrokenPipeError:  # `otel-llm demo | head`: the reader left; the CLI exits quietly
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def format_span(span: ReadableSpan) -> str:
    duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    status = span.status.status_code.name
    if span.status.description:
        status += f" ({span.status.description})"
    scope = span.instrumentation_scope
    lines = [
        f"span: {span.name}",
        f"  kind: {span.kind.name}",
        f"  status: {status}",
        f"  duration: {duration_ms:.1f} ms",
    ]
    if scope is not None:
        lines.append(f"  scope: {scope.name} {scope.version or ''}".rstrip())
    lines.append("  attributes:")
    for key in sorted(span.attributes or {}):
        lines.append(f"    {key}: {_value_text(span.attributes[key])}")  # type: ignore[index]
    if span.events:
        lines.append("  events:")
        for event in span.events:
            lines.append(f"    {event.name}")
            for key in sorted(event.attributes or {}):
                lines.append(f"      {key}: {_value_text(event.attributes[key])}")  # type: ignore[index]
    return "\n".join(lines) + "\n\n"


def format_metrics(data: MetricsData | None) -> str:
    """Each metric with its unit, then each data point: count and sum, and its attributes."""
    lines = ["metrics:"]
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = type(metric.data).__name__.lower()
                lines.append(f"  {metric.name} [{metric.unit}] {kind}")
                points = sorted(metric.data.data_points, key=lambda p: sorted((p.attributes or {}).items()))
                for point in points:
                    if isinstance(metric.data, Histogram):
                        lines.append(f"    - count: {point.count}  sum: {_number(point.sum)}")
                    else:
                        lines.append(f"    - value: {_number(point.value)}")
                    attrs = ", ".join(f"{k}={_value_text(v)}" for k, v in sorted((point.attributes or {}).items()))
                    lines.append(f"      {{{attrs}}}")
    if len(lines) == 1:
        lines.append("  (none recorded)")
    return "\n".join(lines) + "\n"


def _number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4f}"


# OTLP/JSON encoding (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): hex ids,
# 64-bit integers as strings, enums as numbers, attributes as key/AnyValue lists.


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (tuple, list)):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def _key_values(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [{"key": k, "value": _any_value(v)} for k, v in sorted((attributes or {}).items())]


def _scope(scope: Any) -> dict[str, Any]:
    return {"name": scope.name, "version": scope.version or ""} if scope is not None else {"name": ""}


def otlp_span(span: ReadableSpan) -> dict[str, Any]:
    """One span as an OTLP/JSON TracesData document (the OTLP file format: one per line)."""
    ctx = span.get_span_context()
    body: dict[str, Any] = {
        "traceId": f"{ctx.trace_id:032x}",
        "spanId": f"{ctx.span_id:016x}",
        "name": span.name,
        "kind": span.kind.value + 1,  # the OTLP enum reserves 0 for UNSPECIFIED
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "attributes": _key_values(span.attributes),
        "status": {"code": span.status.status_code.value, "message": span.status.description or ""},
    }
    if span.parent is not None:
        body["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.events:
        body["events"] = [
            {"name": e.name, "timeUnixNano": str(e.timestamp), "attributes": _key_values(e.attributes)}
            for e in span.events
        ]
    scope = span.instrumentation_scope
    scope_spans = {"scope": _scope(scope), "spans": [body]}
    if scope is not None and scope.schema_url:
        scope_spans["schemaUrl"] = scope.schema_url
    return {
        "resourceSpans": [
            {"resource": {"attributes": _key_values(span.resource.attributes)}, "scopeSpans": [scope_spans]}
        ]
    }


def otlp_metrics(data: MetricsData | None) -> dict[str, Any]:
    """The collected metrics as an OTLP/JSON MetricsData document."""
    resource_metrics = []
    for rm in data.resource_metrics if data else ():
        scope_metrics = []
        for sm in rm.scope_metrics:
            metrics = [_otlp_metric(m) for m in sm.metrics]
            scope_metrics.append({"scope": _scope(sm.scope), "metrics": metrics})
        resource_metrics.append(
            {"resource": {"attributes": _key_values(rm.resource.attributes)}, "scopeMetrics": scope_metrics}
        )
    return {"resourceMetrics": resource_metrics}


def _otlp_metric(metric: Any) -> dict[str, Any]:
    data = metric.data
    out: dict[str, Any] = {"name": metric.name, "unit": metric.unit or "", "description": metric.description or ""}
    points = []
    for p in data.data_points:
        point: dict[str, Any] = {
            "attributes": _key_values(p.attributes),
            "startTimeUnixNano": str(getattr(p, "start_time_unix_nano", 0) or 0),
            "timeUnixNano": str(p.time_unix_nano),
        }
        if isinstance(data, Histogram):
            point |= {
                "count": str(p.count),
                "sum": p.sum,
                "min": p.min,
                "max": p.max,
                "bucketCounts": [str(c) for c in p.bucket_counts],
                "explicitBounds": list(p.explicit_bounds),
            }
        elif isinstance(p.value, int):
            point["asInt"] = str(p.value)
        else:
            point["asDouble"] = p.value
        points.append(point)
    if isinstance(data, Histogram):
        out["histogram"] = {"dataPoints": points, "aggregationTemporality": data.aggregation_temporality.value}
    elif isinstance(data, Sum):
        out["sum"] = {
            "dataPoints": points,
            "aggregationTemporality": data.aggregation_temporality.value,
            "isMonotonic": data.is_monotonic,
        }
    elif isinstance(data, Gauge):
        out["gauge"] = {"dataPoints": points}
    return out


class JsonSpanPrinter(SpanExporter):  # type: ignore[misc]
    """Prints each finished span as one line of OTLP/JSON, so the output pipes into jq."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            for span in spans:
                self._out.write(json.dumps(otlp_span(span)) + "\n")
            self._out.flush()
        except BrokenPipeError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# The calls. The app prints no model output itself: only the telemetry shows what was said.


def chat(client: openai.OpenAI) -> None:
    client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "What is OpenTelemetry?"},
        ],
        temperature=0.2,
        max_tokens=100,
    )


def streamed_chat(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Write a haiku about tracing."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for _ in stream:
        pass  # the span ends when the stream is exhausted


def tool_calling_chat(client: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat.completions.create(model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL])
    message = first.choices[0].message
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls or ():
        messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 18, "sky": "cloudy"}'})
    client.chat.completions.create(model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL])


def responses_call(client: openai.OpenAI) -> None:
    client.responses.create(
        model=CHAT_MODEL,
        instructions="Answer in one sentence.",
        input="Why do spans have a kind?",
        max_output_tokens=200,
    )


def embeddings_call(client: openai.OpenAI) -> None:
    client.embeddings.create(model=EMBEDDING_MODEL, input=["spans and metrics", "logs and events"])


STEPS: tuple[tuple[str, Callable[[openai.OpenAI], None]], ...] = (
    ("chat completion: client.chat.completions.create(...)", chat),
    ("streamed chat: create(stream=True, stream_options={'include_usage': True})", streamed_chat),
    ("tool calling: the model asks for get_weather, the app sends the result back", tool_calling_chat),
    ("Responses API: client.responses.create(...)", responses_call),
    ("embeddings: client.embeddings.create(...)", embeddings_call),
)


# The anthropic calls take an ``anthropic.Anthropic``; typed Any because the SDK may be absent.


def claude_message(client: Any) -> None:
    client.messages.create(
        model=CLAUDE_MODEL,
        system="You are a concise assistant.",
        messages=[{"role": "user", "content": "What is a span in OpenTelemetry?"}],
        max_tokens=200,
        stop_sequences=["###"],  # a request parameter to see on the span (1.x and 2.x have no temperature)
    )


def claude_stream(client: Any) -> None:
    with client.messages.stream(
        model=CLAUDE_MODEL,
        messages=[{"role": "user", "content": "Write a haiku about metrics."}],
        max_tokens=200,
    ) as stream:
        for _ in stream.text_stream:
            pass  # the span ends with the stream


def claude_count_tokens(client: Any) -> None:
    client.messages.count_tokens(
        model=CLAUDE_MODEL,
        system="You are a concise assistant.",
        messages=[{"role": "user", "content": "What is a span in OpenTelemetry?"}],
    )


ANTHROPIC_STEPS: tuple[tuple[str, Callable[[Any], None]], ...] = (
    ("Anthropic message: client.messages.create(system=..., ...)", claude_message),
    ("Anthropic stream: with client.messages.stream(...) as s: read s.text_stream", claude_stream),
    ("Anthropic token count: client.messages.count_tokens(...)", claude_count_tokens),
)


def anthropic_client(server: DemoServer) -> Any:
    """An anthropic client on the demo server; its base URL has no /v1, the SDK adds /v1/messages itself."""
    assert anthropic is not None
    factory = getattr(anthropic, "DefaultHttpxClient", None)  # no proxy from the environment, as for openai
    http_client = factory(trust_env=False) if factory is not None else None
    return anthropic.Anthropic(base_url=server.origin, api_key="demo-key", max_retries=0, http_client=http_client)


def _sdk_versions() -> str:
    if anthropic is None:
        return f"openai {openai.__version__} SDK (anthropic not installed: its calls are skipped)"
    return f"openai {openai.__version__} and anthropic {anthropic.__version__} SDKs"


def run(*, capture_content: bool = False, as_json: bool = False, out: TextIO | None = None) -> int:
    """Run every step, print spans as they end and the metrics at the end; 0 when all went well.

    With ``as_json`` stdout carries only JSON lines (spans, then one metrics document); the
    step headers go to stderr.
    """
    out = out or sys.stdout
    notes = sys.stderr if as_json else out
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    printer = JsonSpanPrinter(out) if as_json else ReadableSpanPrinter(out)
    tracer_provider.add_span_processor(SimpleSpanProcessor(printer))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader], resource=tracer_provider.resource)
    server = DemoServer(delay=SERVER_DELAY_S, chunk_delay=SERVER_CHUNK_DELAY_S).start()
    # No proxy from the environment: the demo must only ever talk to loopback.
    client = openai.OpenAI(
        base_url=server.url, api_key="demo-key", max_retries=0, http_client=openai.DefaultHttpxClient(trust_env=False)
    )
    claude = anthropic_client(server) if anthropic is not None else None
    steps: list[tuple[str, Callable[[], None]]] = [(title, functools.partial(step, client)) for title, step in STEPS]
    if claude is not None:
        steps += [(title, functools.partial(step, claude)) for title, step in ANTHROPIC_STEPS]
    status = 0
    instrumented = False
    try:
        _write(notes, f"otel-llm demo: {_sdk_versions()} -> demo server at {server.url}")
        # The SDK builds its response models on first use (hundreds of ms for the Responses API);
        # one uninstrumented round first, so the spans show what a warm application sees. A step
        # that fails here fails again below, where its error is reported.
        for _, call in steps:
            with contextlib.suppress(Exception):
                call()
        otel_llm.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, capture_content=capture_content
        )
        instrumented = True
        _write(notes, f"content capture: {'on' if capture_content else 'off'}\n")
        for number, (title, call) in enumerate(steps, 1):
            _write(notes, f"==> [{number}/{len(steps)}] {title}\n")
            try:
                call()
            except Exception:
                status = 1
                notes.write(traceback.format_exc() + "\n")
        data = reader.get_metrics_data()
        if as_json:
            out.write(json.dumps(otlp_metrics(data)) + "\n")
        else:
            out.write(format_metrics(data))
            if not capture_content:
                out.write(
                    "\nMessage content was not captured. Rerun with --capture-content to see "
                    "gen_ai.input.messages and gen_ai.output.messages.\n"
                )
        out.flush()
    finally:
        if instrumented:
            otel_llm.uninstrument()
        client.close()
        if claude is not None:
            claude.close()
        server.stop()
        tracer_provider.shutdown()
        meter_provider.shutdown()
    return status


def _write(stream: TextIO, text: str) -> None:
    stream.write(text + "\n")
    stream.flush()
