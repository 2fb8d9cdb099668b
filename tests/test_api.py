"""The public entry points: otel_llm.instrument() and otel_llm.uninstrument()."""

import otel_llm
from tests.anthropic_support import MODEL, NATIVE_TRACING, make_anthropic_client, message_payload
from tests.anthropic_support import json_response as anthropic_json
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


def _anthropic_call(telemetry):
    client = make_anthropic_client(lambda request: anthropic_json(message_payload()), telemetry=telemetry)
    client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hello"}])


def test_instrument_every_installed_sdk_then_uninstrument():
    t = Telemetry()
    try:
        done = otel_llm.instrument(
            tracer_provider=t.tracer_provider, meter_provider=t.meter_provider, capture_content=True
        )
        assert done == ["openai", "anthropic"]
        assert otel_llm.instrument() == ["openai", "anthropic"]  # a second call is harmless
        _call()
        _anthropic_call(t)
        spans = t.spans()
        assert [s.name for s in spans] == ["chat gpt-4o-mini", f"chat {MODEL}"]
        for span in spans:  # capture_content reached both instrumentors
            assert "gen_ai.input.messages" in span.attributes
    finally:
        otel_llm.uninstrument()
    _call()
    _anthropic_call(t)
    # No new span of ours once uninstrumented (anthropic >= 1.14 makes its own span again).
    names = [s.name for s in t.spans()[2:]]
    assert names == (["anthropic.messages.create"] if NATIVE_TRACING else [])


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
