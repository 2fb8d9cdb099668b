"""The public entry points: otel_llm.instrument() and otel_llm.uninstrument()."""

import otel_llm
from tests.support import Telemetry, json_response, make_client

CHAT = {
    "id": "chatcmpl-9",
    "object": "chat.completion",
    "created": 1732000000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi."}, "logprobs": None, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}


def _call():
    make_client(lambda request: json_response(CHAT)).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
    )


def test_instrument_every_installed_sdk_then_uninstrument():
    t = Telemetry()
    try:
        done = otel_llm.instrument(
            tracer_provider=t.tracer_provider, meter_provider=t.meter_provider, capture_content=True
        )
        assert done == ["openai"]
        assert otel_llm.instrument() == ["openai"]  # a second call is harmless
        _call()
        (span,) = t.spans()
        assert span.name == "chat gpt-4o-mini"
        assert "gen_ai.input.messages" in span.attributes  # capture_content reached the instrumentor
    finally:
        otel_llm.uninstrument()
    _call()
    assert len(t.spans()) == 1  # no new span once uninstrumented


def test_provider_overrides_reach_the_instrumentor():
    t = Telemetry()
    try:
        otel_llm.instrument(
            tracer_provider=t.tracer_provider,
            meter_provider=t.meter_provider,
            provider_overrides={"api.openai.com": "my_gateway"},
        )
        _call()
        assert t.span().attributes["gen_ai.provider.name"] == "my_gateway"
    finally:
        otel_llm.uninstrument()
