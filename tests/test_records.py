"""The LLM call record, built from real spans: the openai and anthropic SDKs through our instrumentation.

Every record is validated against docs/record.schema.json, and its content fields against the
GenAI conventions' own schemas.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import openai
import orjson
import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

import otel_llm
from otel_llm.genai import attributes as A
from otel_llm.records import RECORD_VERSION, dumps, is_llm_span, to_record
from tests.anthropic_support import instrument_anthropic, make_anthropic_client, message_payload
from tests.anthropic_support import json_response as anthropic_json
from tests.anthropic_support import usage as anthropic_usage
from tests.support import (
    Telemetry,
    chat_completion_payload,
    chat_message,
    http,
    instrument,
    json_response,
    make_client,
    sse,
    sse_response,
    validate_content,
)

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs" / "record.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
MESSAGES = [
    {"role": "system", "content": "You answer in one word."},
    {"role": "user", "content": "Capital of France? Ünïcödé ✓"},
]
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]
RESOURCE = Resource.create(
    {
        "service.name": "checkout",
        "service.version": "1.4.2",
        "service.namespace": "shop",
        "service.instance.id": "pod-7",
        "deployment.environment.name": "prod",
    }
)
CONTENT_KEYS = {"system_instructions", "input_messages", "output_messages", "tool_definitions"}


def check(record: dict[str, Any]) -> dict[str, Any]:
    """Schema-valid, survives a JSON round trip unchanged, and is one line of JSON."""
    VALIDATOR.validate(record)
    line = dumps(record)
    assert "\n" not in line
    assert json.loads(line) == record
    return record


class ResourceTelemetry(Telemetry):
    """The in-memory pipelines with a tracer provider that has a service resource."""

    def __init__(self) -> None:
        super().__init__()
        self.tracer_provider = TracerProvider(resource=RESOURCE)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))


@pytest.fixture
def rtelemetry() -> Iterator[Telemetry]:
    t = ResourceTelemetry()
    instrumentor = instrument(t, capture_content="SPAN_ONLY", cost=True)
    yield t
    instrumentor.uninstrument()


def chat(client: Any, **kwargs: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **kwargs)


def test_full_chat_record_with_content_labels_cost_and_resource(rtelemetry):
    payload = chat_completion_payload(
        (chat_message("Paris"), "stop"), model="gpt-4o-mini-2024-07-18", prompt_tokens=2000, completion_tokens=100,
        cached_tokens=1024,
    )
    client = make_client(lambda request: json_response(payload))
    context = {"tags": ["search", "beta"], "metadata": {"feature": "qa", "attempt": 2, "gold": True}}
    with otel_llm.context(tenant_id="team-1", user_id="u-7", session_id="s-9", name="answer-question", **context):
        chat(client, temperature=0.2, top_p=0.9, max_tokens=50, seed=7, stop=["\n"], tools=TOOLS, n=2,
             frequency_penalty=0.5, presence_penalty=0.25, service_tier="flex")
    span = rtelemetry.span()
    record = check(to_record(span))

    attrs = span.attributes
    start, end = record.pop("start_time"), record.pop("end_time")
    assert start.endswith("Z") and len(start) == len("2025-01-02T03:04:05.123456Z") and start <= end
    assert record.pop("duration_ms") == pytest.approx((span.end_time - span.start_time) / 1e6, abs=0.001)
    assert record.pop("input_messages") == json.loads(attrs[A.INPUT_MESSAGES])
    assert record.pop("output_messages") == json.loads(attrs[A.OUTPUT_MESSAGES])
    assert record.pop("tool_definitions") == json.loads(attrs[A.TOOL_DEFINITIONS])
    cost = record.pop("cost")
    assert cost == {
        "total_usd": attrs[A.COST_USD],
        "input_usd": attrs[A.COST_INPUT_USD],
        "output_usd": attrs[A.COST_OUTPUT_USD],
        "cache_read_usd": attrs[A.COST_CACHE_READ_USD],
        "cache_write_usd": None,
    }
    assert cost["total_usd"] == pytest.approx(976 * 0.15e-6 + 100 * 0.6e-6 + 1024 * 0.075e-6, rel=1e-9)
    assert record == {
        "record_version": RECORD_VERSION,
        "id": format(span.context.span_id, "016x"),
        "trace_id": format(span.context.trace_id, "032x"),
        "parent_span_id": None,
        "name": "chat gpt-4o-mini",
        "operation": "chat",
        "provider": "openai",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini-2024-07-18",
        "response_id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "server": {"address": "api.openai.com", "port": 443},
        "request": {
            "parameters": {
                "temperature": 0.2,
                "top_p": 0.9,
                "max_tokens": 50,
                "seed": 7,
                "stop_sequences": ["\n"],
                "choice_count": 2,
                "frequency_penalty": 0.5,
                "presence_penalty": 0.25,
                "service_tier": "flex",
            }
        },
        "finish_reasons": ["stop"],
        "usage": {
            "input_tokens": 2000,
            "output_tokens": 100,
            "cache_read_input_tokens": 1024,
            "cache_creation_input_tokens": None,
            "reasoning_output_tokens": 0,
            "total_tokens": 2100,
        },
        "time_to_first_chunk_ms": None,
        "status": "ok",
        "error": None,
        "tags": ["search", "beta"],
        "metadata": {"feature": "qa", "attempt": 2, "gold": True},
        "user_id": "u-7",
        "session_id": "s-9",
        "tenant_id": "team-1",
        "label": "answer-question",
        "service": {
            "name": "checkout",
            "version": "1.4.2",
            "namespace": "shop",
            "instance_id": "pod-7",
            "deployment_environment": "prod",
        },
        "scope": {"name": "otel_llm.instrumentation.openai", "version": otel_llm.__version__},
        "attributes": {
            "openai.api.type": "chat_completions",
            "openai.response.service_tier": "default",
            "openai.response.system_fingerprint": "fp_50cad350e4",
        },
    }


def test_every_span_attribute_lands_in_the_record(rtelemetry):
    """Nothing is lost: each attribute value appears in the record, under its field or in `attributes`."""
    payload = chat_completion_payload((chat_message("Paris"), "stop"))
    with otel_llm.context(tags=["x"], metadata={"k": "v"}, tenant_id="t", exclude_destinations=["audit"]):
        chat(make_client(lambda request: json_response(payload)), temperature=1.0)
    span = rtelemetry.span()
    record = check(to_record(span))
    text = dumps(record)
    for key, value in span.attributes.items():
        if key in (A.INPUT_MESSAGES, A.OUTPUT_MESSAGES):
            continue  # parsed, compared in the test above
        encoded = orjson.dumps(list(value) if isinstance(value, tuple) else value).decode()  # as records encode
        assert encoded in text, key
    assert record["attributes"][A.EXCLUDE_DESTINATIONS] == ["audit"]


def test_no_content_when_the_span_has_none(telemetry):
    payload = chat_completion_payload((chat_message("Paris"), "stop"))
    chat(make_client(lambda request: json_response(payload)), tools=TOOLS)
    record = check(to_record(telemetry.span()))
    assert not CONTENT_KEYS & record.keys()
    assert "Paris" not in dumps(record)
    assert record["cost"] is None  # pricing is off in this fixture
    assert record["service"]["name"].startswith("unknown_service")
    assert record["tags"] == [] and record["metadata"] == {} and record["user_id"] is None


def test_content_present_and_valid_against_the_conventions(telemetry_content):
    payload = chat_completion_payload((chat_message("Paris"), "stop"))
    chat(make_client(lambda request: json_response(payload)), tools=TOOLS)
    span = telemetry_content.span()
    record = check(to_record(span))
    assert {"input_messages", "output_messages", "tool_definitions"} <= record.keys()
    parsed = validate_content(
        {
            A.INPUT_MESSAGES: json.dumps(record["input_messages"]),
            A.OUTPUT_MESSAGES: json.dumps(record["output_messages"]),
            A.TOOL_DEFINITIONS: json.dumps(record["tool_definitions"]),
        }
    )
    assert parsed[A.INPUT_MESSAGES][1]["parts"][0]["content"] == "Capital of France? Ünïcödé ✓"
    assert record["output_messages"][0]["parts"] == [{"type": "text", "content": "Paris"}]
    assert "Ünïcödé ✓" in dumps(record)  # UTF-8 kept, not \u escapes


def test_system_instructions_from_the_responses_api(telemetry_content):
    body = {
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "model": "gpt-4.1-2025-04-14",
        "output": [
            {
                "type": "message",
                "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Paris", "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": 36,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 38,
        },
    }
    client = make_client(lambda request: json_response(body))
    client.responses.create(model="gpt-4.1", instructions="Answer in one word.", input="Capital of France?")
    record = check(to_record(telemetry_content.span()))
    assert record["system_instructions"] == [{"type": "text", "content": "Answer in one word."}]
    assert record["usage"]["total_tokens"] == 38
    assert record["attributes"]["openai.api.type"] == "responses"


def test_stream_has_time_to_first_chunk(telemetry):
    def chunk(choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
        return {"id": "chatcmpl-S1", "object": "chat.completion.chunk", "created": 1731012345,
                "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1", "choices": choices, "usage": usage}

    events = [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {"content": "Paris"}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        chunk([], usage={"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13}),
    ]
    client = make_client(lambda request: sse_response(sse(events)))
    for _ in chat(client, stream=True, stream_options={"include_usage": True}):
        pass
    span = telemetry.span()
    record = check(to_record(span))
    ttfc = span.attributes[A.RESPONSE_TIME_TO_FIRST_CHUNK]
    assert record["time_to_first_chunk_ms"] == pytest.approx(ttfc * 1000, abs=0.001)
    assert 0 <= record["time_to_first_chunk_ms"] <= record["duration_ms"]
    assert record["request"]["parameters"] == {"stream": True}
    assert record["usage"]["input_tokens"] == 12 and record["usage"]["total_tokens"] == 13
    assert record["finish_reasons"] == ["stop"]


def test_error_record(telemetry):
    body = {"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests", "param": None,
                      "code": "rate_limit_exceeded"}}
    client = make_client(lambda request: http.Response(429, json=body))
    with pytest.raises(openai.RateLimitError) as caught:
        chat(client)
    record = check(to_record(telemetry.span()))
    assert record["status"] == "error"
    assert record["error"] == {"type": "RateLimitError", "message": str(caught.value)}
    assert "Rate limit reached" in record["error"]["message"]
    assert record["usage"] == dict.fromkeys(record["usage"])  # all null
    assert record["cost"] is None and record["finish_reasons"] is None and record["response_model"] is None


def test_error_message_falls_back_to_the_exception_event():
    provider = TracerProvider()
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("parent") as parent, tracer.start_as_current_span(
        "chat m", attributes={A.OPERATION_NAME: "chat"}, record_exception=False, set_status_on_exception=False
    ) as span:
        span.record_exception(ValueError("the model said no"))
        span.set_status(Status(StatusCode.ERROR))
    assert isinstance(span, ReadableSpan)
    record = check(to_record(span))
    assert record["error"] == {"type": "ValueError", "message": "the model said no"}
    assert record["parent_span_id"] == format(parent.get_span_context().span_id, "016x")
    assert record["trace_id"] == format(parent.get_span_context().trace_id, "032x")
    assert record["scope"] == {"name": "t", "version": None}


def test_embeddings_record(telemetry):
    vector = [0.1] * 8
    body = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": vector}],
            "model": "text-embedding-3-small", "usage": {"prompt_tokens": 5, "total_tokens": 5}}
    client = make_client(lambda request: json_response(body))
    client.embeddings.create(model="text-embedding-3-small", input="hello", encoding_format="float")
    record = check(to_record(telemetry.span()))
    assert record["operation"] == "embeddings"
    assert record["request"]["parameters"] == {"encoding_formats": ["float"]}
    assert record["usage"]["input_tokens"] == 5 and record["usage"]["total_tokens"] == 5
    assert record["usage"]["output_tokens"] is None
    assert record["attributes"][A.EMBEDDINGS_DIMENSION_COUNT] == 8


def test_anthropic_record_keeps_provider_specifics():
    t = Telemetry()
    instrumentor = instrument_anthropic(t)
    try:
        payload = message_payload(usage_=anthropic_usage(400, 30, cache_read=1000, cache_creation=600))
        client = make_anthropic_client(lambda request: anthropic_json(payload), open_telemetry=None)
        client.messages.create(
            model="claude-sonnet-4-6", max_tokens=1024, extra_body={"top_k": 5}, messages=[{"role": "user", "content": "Hi"}]
        )
    finally:
        instrumentor.uninstrument()
    (span,) = [s for s in t.spans() if s.instrumentation_scope.name == "otel_llm.instrumentation.anthropic"]
    record = check(to_record(span))
    assert record["provider"] == "anthropic"
    assert record["request"]["parameters"] == {"max_tokens": 1024, "top_k": 5}
    assert record["usage"]["cache_read_input_tokens"] == 1000
    assert record["usage"]["cache_creation_input_tokens"] == 600
    assert record["attributes"][A.ANTHROPIC_REQUEST_ID] == span.attributes[A.ANTHROPIC_REQUEST_ID]
    assert record["attributes"][A.ANTHROPIC_CACHE_CREATION_5M] == 600


def copy_with(span: ReadableSpan, attributes: dict[str, Any]) -> ReadableSpan:
    return ReadableSpan(
        name=span.name, context=span.context, parent=span.parent, resource=span.resource, attributes=attributes,
        events=span.events, links=span.links, kind=span.kind, status=span.status, start_time=span.start_time,
        end_time=span.end_time, instrumentation_scope=span.instrumentation_scope,
    )


def test_redacted_copy_gives_a_record_without_content_and_the_original_is_untouched(telemetry_content):
    payload = chat_completion_payload((chat_message("Paris"), "stop"))
    chat(make_client(lambda request: json_response(payload)))
    span = telemetry_content.span()
    stripped = copy_with(span, {k: v for k, v in span.attributes.items() if k not in (A.INPUT_MESSAGES, A.OUTPUT_MESSAGES)})
    assert not CONTENT_KEYS & check(to_record(stripped)).keys()
    assert {"input_messages", "output_messages"} <= check(to_record(span)).keys()


def test_content_that_is_not_json_is_kept_as_a_string(telemetry_content):
    payload = chat_completion_payload((chat_message("Paris"), "stop"))
    chat(make_client(lambda request: json_response(payload)))
    span = telemetry_content.span()
    broken = span.attributes[A.INPUT_MESSAGES][:20]
    record = check(to_record(copy_with(span, {**span.attributes, A.INPUT_MESSAGES: broken})))
    assert record["input_messages"] == broken


def test_non_finite_numbers_become_null_and_lines_stay_json(telemetry):
    payload = chat_completion_payload((chat_message("Paris"), "stop"))
    chat(make_client(lambda request: json_response(payload)))
    span = telemetry.span()
    record = to_record(copy_with(span, {**span.attributes, A.REQUEST_TEMPERATURE: math.nan, "x.y": (1.0, math.inf)}))
    line = dumps(record)
    decoded = json.loads(line, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}"))
    assert decoded["request"]["parameters"]["temperature"] is None
    assert decoded["attributes"]["x.y"] == [1.0, None]


def test_is_llm_span(telemetry):
    payload = chat_completion_payload((chat_message("Paris"), "stop"))
    chat(make_client(lambda request: json_response(payload)))
    assert is_llm_span(telemetry.span())
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("GET /") as plain:
        pass
    assert not is_llm_span(plain)


def test_docs_example_and_field_table_match_the_schema():
    text = (Path(__file__).resolve().parents[1] / "docs" / "records.md").read_text()
    example = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    VALIDATOR.validate(example)
    assert set(example) == set(SCHEMA["properties"]) - {"system_instructions", "tool_definitions"}
    table = text.split("## Fields", 1)[1].split("## Example", 1)[0]
    rows = {line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| `")}
    documented = {name.strip("` ").split(".")[0] for row in rows for name in row.split(",")}
    assert documented == set(SCHEMA["properties"])
