"""The provider-neutral core on its own: one call's span, metrics and content, ended once."""

from opentelemetry.trace import SpanKind, StatusCode

from otel_llm.genai import GenAITelemetry
from tests.support import Telemetry, validate_content


def _telemetry(capture=None):
    t = Telemetry()
    g = GenAITelemetry(
        "test",
        tracer_provider=t.tracer_provider,
        meter_provider=t.meter_provider,
        logger_provider=t.logger_provider,
        capture_content=capture,
        cost=False,  # priced in tests/genai/test_cost.py
    )
    return t, g


REQUEST = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "server.address": "api.openai.com",
    "server.port": 443,
    "gen_ai.request.temperature": 0.5,
}


def test_span_ends_once_with_response_facts_and_metrics():
    t, g = _telemetry()
    inv = g.start("chat", "gpt-4o", dict(REQUEST))
    inv.set("gen_ai.response.model", "gpt-4o-2024-08-06")
    inv.set("gen_ai.response.id", None)  # not said by the provider: not recorded
    inv.set_usage(100, 20, cache_read=40, reasoning=5)
    inv.end()
    inv.end()
    inv.fail(RuntimeError("late"))
    span = t.span()
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        **REQUEST,
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.cache_read.input_tokens": 40,
        "gen_ai.usage.reasoning.output_tokens": 5,
    }
    metrics = t.metrics()
    (duration,) = metrics["gen_ai.client.operation.duration"]
    assert duration.count == 1
    assert list(duration.explicit_bounds)[:3] == [0.01, 0.02, 0.04]
    assert dict(duration.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "api.openai.com",
        "server.port": 443,
        "gen_ai.response.model": "gpt-4o-2024-08-06",
    }
    usage = {p.attributes["gen_ai.token.type"]: p for p in metrics["gen_ai.client.token.usage"]}
    assert usage["input"].sum == 100 and usage["output"].sum == 20
    assert list(usage["input"].explicit_bounds)[-1] == 67108864
    assert "gen_ai.client.operation.time_to_first_chunk" not in metrics


def test_failure_sets_error_type_status_and_exception_event():
    t, g = _telemetry()
    inv = g.start("chat", "gpt-4o", dict(REQUEST))
    inv.fail(TimeoutError("read timed out"))
    span = t.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "read timed out"
    assert span.attributes["error.type"] == "TimeoutError"
    assert [e.name for e in span.events] == ["exception"]
    (duration,) = t.metrics()["gen_ai.client.operation.duration"]
    assert duration.attributes["error.type"] == "TimeoutError"


def test_error_without_exception():
    t, g = _telemetry()
    inv = g.start("chat", "gpt-4o", dict(REQUEST))
    inv.set_error("server_error", "The model failed")
    inv.end()
    span = t.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "The model failed"
    assert span.attributes["error.type"] == "server_error"


def test_streaming_timing():
    t, g = _telemetry()
    inv = g.start("chat", "gpt-4o", dict(REQUEST, **{"gen_ai.request.stream": True}))
    for _ in range(5):
        inv.on_chunk()
    inv.end()
    span = t.span()
    assert 0 < span.attributes["gen_ai.response.time_to_first_chunk"] < 1
    metrics = t.metrics()
    assert metrics["gen_ai.client.operation.time_to_first_chunk"][0].count == 1
    assert metrics["gen_ai.client.operation.time_per_output_chunk"][0].count == 4


def test_span_without_model_is_named_by_operation():
    t, g = _telemetry()
    g.start("embeddings", None, {"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "x"}).end()
    assert t.span().name == "embeddings"


CONTENT_IN = [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]
CONTENT_OUT = [{"role": "assistant", "parts": [{"type": "text", "content": "Hello"}], "finish_reason": "stop"}]


def _with_content(inv):
    inv.input_messages = CONTENT_IN
    inv.output_messages = CONTENT_OUT
    inv.system_instructions = [{"type": "text", "content": "Be brief."}]
    inv.end()


def test_no_content_by_default_even_if_provided():
    t, g = _telemetry()
    _with_content(g.start("chat", "gpt-4o", dict(REQUEST)))
    assert not any(k.startswith("gen_ai.input") or k.startswith("gen_ai.output") for k in t.span().attributes)
    assert t.events() == []


def test_span_only_content_is_schema_valid_json():
    t, g = _telemetry("SPAN_ONLY")
    _with_content(g.start("chat", "gpt-4o", dict(REQUEST)))
    parsed = validate_content(t.span().attributes)
    assert parsed["gen_ai.input.messages"] == CONTENT_IN
    assert parsed["gen_ai.output.messages"] == CONTENT_OUT
    assert parsed["gen_ai.system_instructions"] == [{"type": "text", "content": "Be brief."}]
    assert t.events() == []


def test_event_only_content_is_structured_on_the_event():
    t, g = _telemetry("EVENT_ONLY")
    _with_content(g.start("chat", "gpt-4o", dict(REQUEST)))
    span = t.span()
    assert "gen_ai.input.messages" not in span.attributes
    (event,) = t.events()
    assert event.event_name == "gen_ai.client.inference.operation.details"
    assert event.span_id == span.context.span_id
    attrs = event.attributes
    assert attrs["gen_ai.request.model"] == "gpt-4o"
    assert attrs["gen_ai.operation.name"] == "chat"
    validate_content(attrs)
    assert attrs["gen_ai.output.messages"][0]["parts"][0]["content"] == "Hello"
