"""Embeddings (``embeddings.create``): float and base64 vectors, dimensions, sync and async.

The SDK asks the API for base64 when the caller gives no ``encoding_format`` and decodes the
vectors before returning them; the span records the format actually requested on the wire.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

from opentelemetry.trace import SpanKind, StatusCode

from tests.support import assert_call_metrics, json_response, make_client

MODEL = "text-embedding-3-small"
TEXT = "The food was delicious and the waiter was very friendly."

REQUEST = {
    "gen_ai.operation.name": "embeddings",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": MODEL,
    "server.address": "api.openai.com",
    "server.port": 443,
}
METRIC_ATTRS = {**REQUEST, "gen_ai.response.model": MODEL}


def vector(size: int, seed: int = 0) -> list[float]:
    """A deterministic unit-length-ish vector whose values survive a float32 round trip."""
    raw = [math.sin(seed * 7.1 + i * 0.37) * 0.05 for i in range(size)]
    return list(struct.unpack(f"<{size}f", struct.pack(f"<{size}f", *raw)))


def b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def embedding_body(embeddings: list[Any], prompt_tokens: int = 12) -> dict[str, Any]:
    """A complete ``POST /v1/embeddings`` response body."""
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": e} for i, e in enumerate(embeddings)],
        "model": MODEL,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


class Server:
    """Answers like the API: float lists, or base64 strings when the request asks for base64."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> Any:
        body = json.loads(request.content)
        self.bodies.append(body)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = [vector(self.size, seed) for seed in range(len(inputs))]
        if body.get("encoding_format") == "base64":
            payload = embedding_body([b64(v) for v in vectors], prompt_tokens=12 * len(inputs))
        else:
            payload = embedding_body(vectors, prompt_tokens=12 * len(inputs))
        return json_response(payload, headers={"x-request-id": "req_e1b2c3d4"})


def check_span(telemetry: Any) -> Any:
    span = telemetry.span()
    assert span.name == f"embeddings {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    return span


def test_float_with_dimensions(telemetry):
    server = Server(256)
    client = make_client(server)

    result = client.embeddings.create(model=MODEL, input=TEXT, dimensions=256, encoding_format="float")

    assert server.bodies == [{"model": MODEL, "input": TEXT, "dimensions": 256, "encoding_format": "float"}]
    assert result.data[0].embedding == vector(256)
    span = check_span(telemetry)
    assert dict(span.attributes) == {
        **REQUEST,
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.embeddings.dimension.count": 256,
        "gen_ai.response.model": MODEL,
        "gen_ai.usage.input_tokens": 12,
    }
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=12)


def test_float_dimension_count_from_response(telemetry):
    """Without ``dimensions`` the count is the length of the returned vectors."""
    server = Server(1536)
    client = make_client(server)

    result = client.embeddings.create(model=MODEL, input=TEXT, encoding_format="float")

    assert len(result.data[0].embedding) == 1536
    span = check_span(telemetry)
    assert dict(span.attributes) == {
        **REQUEST,
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.embeddings.dimension.count": 1536,
        "gen_ai.response.model": MODEL,
        "gen_ai.usage.input_tokens": 12,
    }
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=12)


def test_default_encoding_records_what_the_sdk_requested(telemetry):
    """No ``encoding_format`` given: the SDK sends ``base64`` and decodes the answer to floats.

    The span says what was requested from the API (base64, as on the wire) and counts the
    dimensions of the vectors actually returned.
    """
    server = Server(1536)
    client = make_client(server)

    result = client.embeddings.create(model=MODEL, input=TEXT)

    assert server.bodies[0]["encoding_format"] == "base64"  # both SDK lines under test do this
    assert result.data[0].embedding == vector(1536)  # the caller gets floats decoded by the SDK
    span = check_span(telemetry)
    assert dict(span.attributes) == {
        **REQUEST,
        "gen_ai.request.encoding_formats": ("base64",),
        "gen_ai.embeddings.dimension.count": 1536,
        "gen_ai.response.model": MODEL,
        "gen_ai.usage.input_tokens": 12,
    }
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=12)


def test_explicit_base64(telemetry):
    server = Server(512)
    client = make_client(server)

    result = client.embeddings.create(model=MODEL, input=TEXT, encoding_format="base64", dimensions=512)

    assert result.data[0].embedding == b64(vector(512))  # returned as sent: the SDK leaves it encoded
    span = check_span(telemetry)
    assert dict(span.attributes) == {
        **REQUEST,
        "gen_ai.request.encoding_formats": ("base64",),
        "gen_ai.embeddings.dimension.count": 512,
        "gen_ai.response.model": MODEL,
        "gen_ai.usage.input_tokens": 12,
    }


def test_explicit_base64_dimension_count_from_response(telemetry):
    """A base64 vector of float32 values: 4 bytes per dimension."""
    client = make_client(Server(768))

    result = client.embeddings.create(model=MODEL, input=TEXT, encoding_format="base64")

    assert isinstance(result.data[0].embedding, str)
    span = check_span(telemetry)
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 768
    assert span.attributes["gen_ai.request.encoding_formats"] == ("base64",)


async def test_async_batch(telemetry):
    server = Server(1536)
    client = make_client(server, is_async=True)
    inputs = [TEXT, "The service was slow and the soup was cold.", "Great value for the price."]

    result = await client.embeddings.create(model=MODEL, input=inputs, encoding_format="float")

    assert [d.index for d in result.data] == [0, 1, 2]
    span = check_span(telemetry)
    assert dict(span.attributes) == {
        **REQUEST,
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.embeddings.dimension.count": 1536,
        "gen_ai.response.model": MODEL,
        "gen_ai.usage.input_tokens": 36,
    }
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=36)


async def test_async_default_encoding(telemetry):
    server = Server(1536)
    client = make_client(server, is_async=True)

    result = await client.embeddings.create(model=MODEL, input=TEXT)

    assert result.data[0].embedding == vector(1536)
    span = check_span(telemetry)
    assert dict(span.attributes) == {
        **REQUEST,
        "gen_ai.request.encoding_formats": (server.bodies[0]["encoding_format"],),
        "gen_ai.embeddings.dimension.count": 1536,
        "gen_ai.response.model": MODEL,
        "gen_ai.usage.input_tokens": 12,
    }
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=12)


def test_token_input_with_raw_response(telemetry):
    client = make_client(Server(256))

    raw = client.embeddings.with_raw_response.create(model=MODEL, input=[[1820, 25977, 373]], dimensions=256)
    result = raw.parse()

    assert len(result.data[0].embedding) == 256
    span = check_span(telemetry)
    assert dict(span.attributes) == {
        **REQUEST,
        "gen_ai.request.encoding_formats": ("base64",),
        "gen_ai.embeddings.dimension.count": 256,
        "gen_ai.response.model": MODEL,
        "gen_ai.usage.input_tokens": 12,
    }
    assert_call_metrics(telemetry, METRIC_ATTRS, input_tokens=12)


def test_embeddings_capture_no_content(telemetry_content):
    """Embedding inputs are not chat messages: nothing is captured even with capture on."""
    client = make_client(Server(256))

    client.embeddings.create(model=MODEL, input=TEXT, dimensions=256, encoding_format="float")

    attrs = dict(check_span(telemetry_content).attributes)
    assert not any(key.startswith(("gen_ai.input", "gen_ai.output")) for key in attrs)
