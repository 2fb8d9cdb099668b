"""Legacy text completions (``completions.create``): plain, several choices, streamed, async."""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.trace import SpanKind, StatusCode

from tests.support import (
    assert_call_metrics,
    json_response,
    make_client,
    sse,
    sse_response,
    validate_content,
)

MODEL = "gpt-3.5-turbo-instruct"
RESPONSE_MODEL = "gpt-3.5-turbo-instruct:20230824-v2"
PROMPT = "Say this is a test"

REQUEST = {
    "gen_ai.operation.name": "text_completion",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": MODEL,
    "server.address": "api.openai.com",
    "server.port": 443,
}
METRIC_ATTRS = {**REQUEST, "gen_ai.response.model": RESPONSE_MODEL}


def completion_body(choices: list[tuple[str, str]], prompt_tokens: int = 5, completion_tokens: int = 7) -> dict:
    """A complete ``POST /v1/completions`` response body; ``choices`` are (text, finish_reason)."""
    return {
        "id": "cmpl-B2yZ9nJ0cK1mR8sT3vW4xY5zA6bC7",
        "object": "text_completion",
        "created": 1753300000,
        "model": RESPONSE_MODEL,
        "choices": [
            {"text": text, "index": i, "logprobs": None, "finish_reason": reason}
            for i, (text, reason) in enumerate(choices)
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class Recorder:
    def __init__(self, make_response: Any) -> None:
        self.make_response = make_response
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> Any:
        self.bodies.append(json.loads(request.content))
        return self.make_response()


def plain(body: dict[str, Any]) -> Recorder:
    return Recorder(lambda: json_response(body))


def check_span(telemetry: Any) -> Any:
    span = telemetry.span()
    assert span.name == f"text_completion {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    return span


TEST_BODY = completion_body([("\n\nThis is indeed a test", "length")])
TEST_RESPONSE = {
    "gen_ai.response.id": "cmpl-B2yZ9nJ0cK1mR8sT3vW4xY5zA6bC7",
    "gen_ai.response.model": RESPONSE_MODEL,
    "gen_ai.response.finish_reasons": ("length",),
    "gen_ai.usage.input_tokens": 5,
    "gen_ai.usage.output_tokens": 7,
}


def test_plain(telemetry):
    handler = plain(TEST_BODY)
    client = make_client(handler)

    result = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=7, temperature=0.0)

    assert result.choices[0].text == "\n\nThis is indeed a test"
    assert handler.bodies == [{"model": MODEL, "prompt": PROMPT, "max_tokens": 7, "temperature": 0.0}]
    span = check_span(telemetry)
    assert dict(span.attributes) == {
        **REQUEST,
        "gen_ai.request.max_tokens": 7,
        "gen_ai.request.temperature": 0.0,
        **TEST_RESPONSE,
    }
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=5, output_tokens=7)


def test_plain_captures_content(telemetry_content):
    client = make_client(plain(TEST_BODY))

    client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=7, temperature=0.0)

    span = check_span(telemetry_content)
    attrs = dict(span.attributes)
    content = validate_content(attrs)
    assert content == {
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}],
        "gen_ai.output.messages": [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "\n\nThis is indeed a test"}],
                "finish_reason": "length",
            }
        ],
    }
    for key in content:
        del attrs[key]
    assert attrs == {**REQUEST, "gen_ai.request.max_tokens": 7, "gen_ai.request.temperature": 0.0, **TEST_RESPONSE}
    assert_call_metrics(telemetry_content, METRIC_ATTRS, input_tokens=5, output_tokens=7)


def test_no_content_by_default(telemetry):
    client = make_client(plain(TEST_BODY))

    client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=7)

    attrs = check_span(telemetry).attributes
    assert "gen_ai.input.messages" not in attrs
    assert "gen_ai.output.messages" not in attrs


def test_several_choices_and_sampling_parameters(telemetry_content):
    body = completion_body(
        [("Once upon a time, a fox", "length"), ("The old lighthouse keeper", "stop")],
        prompt_tokens=9,
        completion_tokens=11,
    )
    body["system_fingerprint"] = "fp_9b0c1d2e3f"
    client = make_client(plain(body))
    prompts = ["Write the first words of a fable.", "Write the first words of a ghost story."]

    client.completions.create(
        model=MODEL,
        prompt=prompts,
        max_tokens=6,
        n=2,
        stop=["\n\n", "###"],
        seed=42,
        top_p=0.95,
        frequency_penalty=0.5,
        presence_penalty=0.25,
        temperature=0.8,
    )

    span = check_span(telemetry_content)
    attrs = dict(span.attributes)
    content = validate_content(attrs)
    assert content == {
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": p}]} for p in prompts],
        "gen_ai.output.messages": [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "Once upon a time, a fox"}],
                "finish_reason": "length",
            },
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "The old lighthouse keeper"}],
                "finish_reason": "stop",
            },
        ],
    }
    for key in content:
        del attrs[key]
    assert attrs == {
        **REQUEST,
        "gen_ai.request.max_tokens": 6,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.stop_sequences": ("\n\n", "###"),
        "gen_ai.request.seed": 42,
        "gen_ai.request.top_p": 0.95,
        "gen_ai.request.frequency_penalty": 0.5,
        "gen_ai.request.presence_penalty": 0.25,
        "gen_ai.request.temperature": 0.8,
        "gen_ai.response.id": "cmpl-B2yZ9nJ0cK1mR8sT3vW4xY5zA6bC7",
        "gen_ai.response.model": RESPONSE_MODEL,
        "gen_ai.response.finish_reasons": ("length", "stop"),
        "gen_ai.usage.input_tokens": 9,
        "gen_ai.usage.output_tokens": 11,
        "openai.response.system_fingerprint": "fp_9b0c1d2e3f",
    }


def stream_chunks() -> list[dict[str, Any]]:
    base = {"id": "cmpl-B2yZAq1w2e3r4t5y6u7i8o9p0", "object": "text_completion", "created": 1753300100}
    texts = ["\n\n", "This", " is", " indeed", " a", " test"]
    chunks = [
        {**base, "choices": [{"text": t, "index": 0, "logprobs": None, "finish_reason": None}], "model": RESPONSE_MODEL}
        for t in texts
    ]
    chunks.append(
        {
            **base,
            "choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}],
            "model": RESPONSE_MODEL,
        }
    )
    chunks.append(
        {
            **base,
            "choices": [],
            "model": RESPONSE_MODEL,
            "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11},
        }
    )
    return chunks


def test_stream_captures_content(telemetry_content):
    chunks = stream_chunks()
    handler = Recorder(lambda: sse_response(sse(chunks)))
    client = make_client(handler)

    stream = client.completions.create(
        model=MODEL, prompt=PROMPT, max_tokens=16, stream=True, stream_options={"include_usage": True}
    )
    text = "".join(c.choices[0].text for c in stream if c.choices)

    assert text == "\n\nThis is indeed a test"
    span = check_span(telemetry_content)
    attrs = dict(span.attributes)
    assert 0 <= attrs.pop("gen_ai.response.time_to_first_chunk") <= (span.end_time - span.start_time) / 1e9
    content = validate_content(attrs)
    assert content["gen_ai.output.messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "stop"}
    ]
    for key in content:
        del attrs[key]
    assert attrs == {
        **REQUEST,
        "gen_ai.request.max_tokens": 16,
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "cmpl-B2yZAq1w2e3r4t5y6u7i8o9p0",
        "gen_ai.response.model": RESPONSE_MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 6,
    }
    assert_call_metrics(telemetry_content, METRIC_ATTRS, input_tokens=5, output_tokens=6, chunks=len(chunks))


async def test_async_plain(telemetry):
    client = make_client(plain(TEST_BODY), is_async=True)

    result = await client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=7)

    assert result.choices[0].finish_reason == "length"
    span = check_span(telemetry)
    assert dict(span.attributes) == {**REQUEST, "gen_ai.request.max_tokens": 7, **TEST_RESPONSE}
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=5, output_tokens=7)
