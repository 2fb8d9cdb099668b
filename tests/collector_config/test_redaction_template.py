"""collector-config/redaction.yaml on the real collector: content removed, secrets scrubbed.

Real instrumented openai calls (content captured, secrets planted in the system prompt, the question,
the answer, tool-call arguments, metadata, a captured header and an API error) leave the app through
an otel-llm ``otlp`` destination that does no secret scrubbing of its own (``redaction: {secrets:
false}``), pass through the collector, and reach an OTLP/HTTP sink on loopback, whose raw bytes are
scanned. A second destination of the same app, straight to another sink, is the control: the values
really left the app. Spans of other instrumentations (OpenLLMetry, OpenInference, legacy GenAI
events) are sent with the OTel SDK's own OTLP exporter.

Parity: every secret sample of the in-process redaction tests (tests/processing/test_redaction.py)
goes through the collector as attribute values, names, status and event text, and must come out
exactly as the in-process ``Redactor`` writes it (the same ``[REDACTED:<kind>]``, the same words
kept). The differences the template documents ("Cannot do") are pinned by their own test.
"""

from __future__ import annotations

import json
import random
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

import otel_llm
from otel_llm.genai import attributes as A
from otel_llm.processing.redaction import RedactionSettings, Redactor
from tests.backends.calls import key_values
from tests.collector_config.otelcol import Otelcol, otelcol
from tests.processing.test_redaction import NEAR_MISSES, SECRETS, messages
from tests.processing.test_redaction import NOT_SECRET_NAMES as IN_PROCESS_NOT_SECRET_NAMES
from tests.processing.test_redaction import SECRET_NAMES as IN_PROCESS_SECRET_NAMES
from tests.servers import HttpSink, http_sink, wait_for
from tests.support import Telemetry, chat_completion_payload, chat_message, http, instrument, json_response, make_client

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
TEMPLATE = "redaction.yaml"
REDACTED_MASK = "****"  # the redaction processor's mask (attributes named as secrets, prefixed content keys)


def _rand(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


# -- What the destination received -------------------------------------------------------------


@dataclass
class Got:
    name: str
    trace_id: str
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    status_message: str
    resource: dict[str, Any]


def received(sink: HttpSink) -> list[Got]:
    out = []
    for request in list(sink.requests):
        parsed = trace_service_pb2.ExportTraceServiceRequest.FromString(request.body)
        for rs in parsed.resource_spans:
            resource = key_values(rs.resource.attributes)
            for ss in rs.scope_spans:
                for span in ss.spans:
                    out.append(
                        Got(
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            attributes=key_values(span.attributes),
                            events=[(e.name, key_values(e.attributes)) for e in span.events],
                            status_message=span.status.message,
                            resource=resource,
                        )
                    )
    return out


def wait_for_spans(sink: HttpSink, count: int, collector: Otelcol) -> list[Got]:
    assert wait_for(lambda: len(received(sink)) >= count, timeout=15), (
        f"{len(received(sink))} of {count} spans reached the destination\n{collector.log()[-3000:]}"
    )
    spans = received(sink)
    assert len(spans) == count, [s.name for s in spans]
    return spans


def in_bytes(value: str, blob: bytes) -> bool:
    """Whether ``value`` is in ``blob`` as it is or JSON-escaped (inside a content attribute)."""
    return value.encode() in blob or json.dumps(value)[1:-1].encode() in blob


@contextmanager
def redaction_collector() -> Iterator[tuple[Otelcol, HttpSink]]:
    with http_sink() as destination, otelcol(TEMPLATE, {"OTLP_DESTINATION_ENDPOINT": destination.url}) as collector:
        yield collector, destination


@contextmanager
def sdk_spans(collector: Otelcol, resource: dict[str, Any] | None = None) -> Iterator[tuple[Any, InMemorySpanExporter]]:
    """A tracer of another instrumentation, exporting with the OTel SDK's OTLP/HTTP exporter to the
    collector; the in-memory exporter keeps the spans as they were sent (for the in-process redaction)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "other-instrumentation", **(resource or {})}),
        span_limits=SpanLimits(max_span_attributes=1024, max_event_attributes=1024),
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_endpoint}/v1/traces")))
    try:
        yield provider.get_tracer("test"), memory
    finally:
        provider.shutdown()


def send_one(collector: Otelcol, name: str, attributes: dict[str, Any]) -> ReadableSpan:
    """One span of another instrumentation sent to the collector; returns it as it was sent."""
    with sdk_spans(collector) as (tracer, memory):
        tracer.start_span(name, attributes=attributes).end()
    (sent,) = memory.get_finished_spans()
    return sent


def in_process(span: ReadableSpan) -> ReadableSpan:
    """The span as otel-llm's in-process redaction with the template's settings writes it."""
    return Redactor(RedactionSettings(content="drop")).redact(span)


# -- Real instrumented calls -------------------------------------------------------------------

WORD = _rand(string.ascii_lowercase, 10)  # makes every text below unique to this run
OPENAI_KEY = "sk-proj-" + _rand(ALNUM, 48)
OPENAI_KEY_IN_ERROR = "sk-" + _rand(ALNUM, 40)
ANTHROPIC_KEY = "sk-ant-api03-" + _rand(ALNUM + "-_", 86) + "AA"
PEM_BODY = _rand(ALNUM + "+/", 64)
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n{_rand(ALNUM, 64)}\n-----END RSA PRIVATE KEY-----"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ." + _rand(ALNUM, 43)
GITHUB = "ghp_" + _rand(ALNUM, 36)
AWS_ACCESS_KEY = "AKIA" + _rand(UPPER, 16)
SLACK = f"xoxb-{_rand(string.digits, 12)}-{_rand(string.digits, 13)}-{_rand(ALNUM, 24)}"
DB_PASSWORD = _rand(ALNUM, 16)
URL_PASSWORD = _rand(ALNUM, 14)
BEARER_TOKEN = _rand(ALNUM, 32)

SYSTEM = f"You are the {WORD} finance assistant. Internal key {ANTHROPIC_KEY}.\n{PEM}"
QUESTION = f"What did the {WORD} quarterly review say? My key is {OPENAI_KEY}"
ANSWER = f"The {WORD} review is in the vault; use token {JWT} with {GITHUB}."
TOOL_ACCOUNT = f"{WORD}-account-{_rand(string.digits, 6)}"
TOOL_ARGUMENTS = {"account": TOOL_ACCOUNT, "access_key": AWS_ACCESS_KEY}
METADATA_NOTE = f"deploy with {SLACK} to postgres://app:{URL_PASSWORD}@db.internal:5432/orders"

# what must never reach the destination: the content, and every secret
FORBIDDEN = {
    "system prompt": f"{WORD} finance assistant",
    "question": f"{WORD} quarterly review",
    "answer": f"{WORD} review is in the vault",
    "tool arguments": TOOL_ACCOUNT,
    "openai_key": OPENAI_KEY,
    "openai_key_in_error": OPENAI_KEY_IN_ERROR,
    "anthropic_key": ANTHROPIC_KEY,
    "private_key": PEM_BODY,
    "jwt": JWT,
    "github_token": GITHUB,
    "aws_access_key": AWS_ACCESS_KEY,
    "slack_token": SLACK,
    "db_password": DB_PASSWORD,
    "url_credentials": URL_PASSWORD,
    "bearer_token": BEARER_TOKEN,
}
MODEL = "gpt-4o-2024-08-06"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_statement",
            "description": "The statement of an account",
            "parameters": {"type": "object", "properties": {"account": {"type": "string"}}},
        },
    }
]


def _handler(request: Any) -> Any:
    body = json.loads(request.content)
    if body["messages"][-1]["content"].startswith("fail"):
        error = {
            "message": f"Incorrect API key provided: {OPENAI_KEY_IN_ERROR}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
        return http.Response(401, json={"error": error})
    call = {
        "id": "call_s1",
        "type": "function",
        "function": {"name": "get_statement", "arguments": json.dumps(TOOL_ARGUMENTS)},
    }
    return json_response(
        chat_completion_payload(
            (chat_message(ANSWER, tool_calls=[call]), "tool_calls"), prompt_tokens=1200, completion_tokens=300
        )
    )


def _calls(telemetry: Telemetry) -> None:
    client = make_client(_handler)
    tracer = telemetry.tracer_provider.get_tracer("app")
    # an app span carrying a captured request header, as web framework instrumentations record it
    with (
        tracer.start_as_current_span(
            "POST /chat", attributes={"http.request.header.authorization": (f"Bearer {BEARER_TOKEN}",)}
        ),
        otel_llm.context(
            user_id="user-42", tags=["redaction-test"], metadata={"note": METADATA_NOTE, "db_password": DB_PASSWORD}
        ),
    ):
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
            tools=TOOLS,
        )
        with pytest.raises(Exception, match="Incorrect API key"):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "fail please"}])


def test_instrumented_calls_reach_the_destination_without_content_or_secrets() -> None:
    with redaction_collector() as (collector, destination), http_sink() as direct:
        no_scrubbing = {"secrets": False}  # the app leaves the scrubbing to the collector
        queue = {"flush_interval": 0.05}
        config = {
            "destinations": {
                "collector": {
                    "type": "otlp",
                    "endpoint": collector.http_endpoint,
                    "protocol": "http/protobuf",
                    "queue": queue,
                    "redaction": no_scrubbing,
                },
                # the control: the same spans, straight from the app to a sink
                "direct": {
                    "type": "otlp",
                    "endpoint": direct.url,
                    "protocol": "http/protobuf",
                    "queue": queue,
                    "redaction": no_scrubbing,
                },
            }
        }
        telemetry = Telemetry()
        instrumentor = instrument(telemetry, capture_content="SPAN_ONLY", cost=True)
        pipeline = otel_llm.configure(
            config, tracer_provider=telemetry.tracer_provider, meter_provider=MeterProvider(), instrument=False
        )
        try:
            _calls(telemetry)
        finally:
            instrumentor.uninstrument()
        assert pipeline.force_flush(20_000)
        spans = wait_for_spans(destination, 3, collector)
        sent = telemetry.spans()

    # control: every forbidden value left the app
    control = direct.bodies()
    assert [k for k, v in FORBIDDEN.items() if not in_bytes(v, control)] == []
    # ... and none of them left the collector
    raw = destination.bodies()
    assert raw and [k for k, v in FORBIDDEN.items() if in_bytes(v, raw)] == []

    by_name = {s.name: s for s in spans}
    chat = next(s for s in spans if s.attributes.get(A.OPERATION_NAME) == "chat" and not s.status_message)
    failed = next(s for s in spans if s.attributes.get(A.OPERATION_NAME) == "chat" and s.status_message)
    app = by_name["POST /chat"]

    # content: each attribute became one placeholder counting the characters of what it replaced
    original = next(s for s in sent if A.OUTPUT_MESSAGES in s.attributes)  # the system prompt is in the input messages
    for key in (A.INPUT_MESSAGES, A.OUTPUT_MESSAGES):
        assert chat.attributes[key] == f"[redacted {len(original.attributes[key])} chars]", key
    # the structure and the facts stay
    assert chat.attributes[A.REQUEST_MODEL] == "gpt-4o"
    assert chat.attributes[A.RESPONSE_MODEL] == MODEL
    assert chat.attributes[A.USAGE_INPUT_TOKENS] == 1200
    assert chat.attributes[A.USAGE_OUTPUT_TOKENS] == 300
    assert (
        chat.attributes[A.COST_USD] == pytest.approx(original.attributes[A.COST_USD])
        and chat.attributes[A.COST_USD] > 0
    )
    assert chat.attributes[A.RESPONSE_FINISH_REASONS] == ["tool_calls"]
    assert chat.attributes[A.PROVIDER_NAME] == "openai"
    assert "get_statement" in chat.attributes[A.TOOL_DEFINITIONS]  # tool definitions are not content
    assert chat.attributes[A.TAGS] == ["redaction-test"]
    # secrets: in non-content strings replaced by their kind, the words around them kept
    assert chat.attributes["otel_llm.metadata.note"] == (
        "deploy with [REDACTED:slack_token] to postgres://[REDACTED:url_credentials]@db.internal:5432/orders"
    )
    # named as secrets: the whole value
    assert chat.attributes["otel_llm.metadata.db_password"] == REDACTED_MASK
    assert app.attributes["http.request.header.authorization"] == REDACTED_MASK
    # the API error: in the status and in the exception event, only the key is gone
    assert failed.status_message.startswith("Error code: 401")
    assert "Incorrect API key provided: [REDACTED:openai_key]." in failed.status_message
    (event_name, event), *_ = failed.events
    assert event_name == "exception"
    assert "Incorrect API key provided: [REDACTED:openai_key]." in event["exception.message"]
    assert "[REDACTED:openai_key]" in event["exception.stacktrace"]


# -- Content of other instrumentations ---------------------------------------------------------


def _text(label: str) -> str:
    return f"{label} {WORD} {_rand(ALNUM, 12)}"


def test_content_of_other_instrumentations_and_of_span_events_is_replaced() -> None:
    texts = {k: _text(k) for k in ("p", "c", "iv", "ov", "im", "args", "doc", "tca", "tcr", "ev1", "ev2", "ev3", "res")}
    texts["iv"] += " naïve café ☕ 日本"  # characters, not bytes, are counted
    already = "[redacted 42 chars]"  # redacted by the app already: left as it is
    attributes = {
        # OpenLLMetry
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": texts["p"],
        "gen_ai.completion.0.content": texts["c"],
        "gen_ai.completion.0.finish_reason": "stop",
        "llm.request.type": "chat",
        # OpenInference
        "input.value": texts["iv"],
        "output.value": texts["ov"],
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": texts["im"],
        "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_1",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "lookup",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": texts["args"],
        "retrieval.documents.0.document.id": "doc-1",
        "retrieval.documents.0.document.content": texts["doc"],
        # GenAI execute_tool span attributes, one of them a list
        "gen_ai.tool.call.arguments": texts["tca"],
        "gen_ai.tool.call.result": [texts["tcr"], "second"],
        A.OUTPUT_MESSAGES: already,
        A.REQUEST_MODEL: "gpt-4o",
        A.USAGE_INPUT_TOKENS: 12,
    }
    details = messages({"role": "user", "parts": [{"type": "text", "content": texts["ev2"]}]})
    with redaction_collector() as (collector, destination):
        with (
            sdk_spans(collector, {"traceloop.entity.input": texts["res"]}) as (tracer, _),
            tracer.start_as_current_span("chat gpt-4o", attributes=attributes) as span,
        ):
            span.add_event("gen_ai.content.prompt", {"gen_ai.prompt": texts["ev1"]})
            span.add_event(
                A.INFERENCE_DETAILS_EVENT,
                {A.INPUT_MESSAGES: details, A.SYSTEM_INSTRUCTIONS: texts["ev3"], A.OPERATION_NAME: "chat"},
            )
        (got,) = wait_for_spans(destination, 1, collector)
        raw = destination.bodies()

    assert [k for k, v in texts.items() if in_bytes(v, raw)] == []
    a = got.attributes
    # the GenAI and single-key content attributes: "[redacted N chars]", N in characters
    for key, text in (
        ("input.value", texts["iv"]),
        ("output.value", texts["ov"]),
        ("gen_ai.tool.call.arguments", texts["tca"]),
    ):
        assert a[key] == f"[redacted {len(text)} chars]", key
    # a list value: one placeholder for its JSON
    assert (
        a["gen_ai.tool.call.result"]
        == f"[redacted {len(json.dumps([texts['tcr'], 'second'], separators=(',', ':')))} chars]"
    )
    assert a[A.OUTPUT_MESSAGES] == already
    # prefixed content keys: masked; their structure keys stay
    for key in (
        "gen_ai.prompt.0.content",
        "gen_ai.completion.0.content",
        "llm.input_messages.0.message.content",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
        "retrieval.documents.0.document.content",
    ):
        assert a[key] == REDACTED_MASK, key
    assert a["gen_ai.prompt.0.role"] == "user"
    assert a["gen_ai.completion.0.finish_reason"] == "stop"
    assert a["llm.input_messages.0.message.role"] == "user"
    assert a["llm.output_messages.0.message.tool_calls.0.tool_call.id"] == "call_1"
    assert a["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == "lookup"
    assert a["retrieval.documents.0.document.id"] == "doc-1"
    assert (a["llm.request.type"], a[A.REQUEST_MODEL], a[A.USAGE_INPUT_TOKENS]) == ("chat", "gpt-4o", 12)
    # span events: the same keys, the same placeholders
    events = dict(got.events)
    assert events["gen_ai.content.prompt"] == {"gen_ai.prompt": f"[redacted {len(texts['ev1'])} chars]"}
    assert events[A.INFERENCE_DETAILS_EVENT] == {
        A.INPUT_MESSAGES: f"[redacted {len(details)} chars]",
        A.SYSTEM_INSTRUCTIONS: f"[redacted {len(texts['ev3'])} chars]",
        A.OPERATION_NAME: "chat",
    }
    # resource attributes too
    assert got.resource["traceloop.entity.input"] == f"[redacted {len(texts['res'])} chars]"
    assert got.resource["service.name"] == "other-instrumentation"


# -- Parity with the in-process Scrubber -------------------------------------------------------


def test_every_in_process_secret_sample_is_scrubbed_exactly_as_in_process() -> None:
    """Each sample of tests/processing/test_redaction.py SECRETS, in a plain string and inside JSON (as
    raw JSON text in a non-content attribute, \\n escapes and all), comes out byte for byte as the
    in-process Redactor writes it."""
    attributes: dict[str, Any] = {}
    for i, (_, text, _) in enumerate(SECRETS):
        attributes[f"app.plain.{i}"] = f"see {text} ok"
        attributes[f"app.json.{i}"] = messages(
            {"role": "user", "parts": [{"type": "text", "content": f"Here:\n{text}\nthanks"}]}
        )
    with redaction_collector() as (collector, destination):
        sent = send_one(collector, "parity", attributes)
        (got,) = wait_for_spans(destination, 1, collector)
        raw = destination.bodies()
    expected = in_process(sent).attributes

    mismatches = {k: (got.attributes[k], expected[k]) for k in attributes if got.attributes[k] != expected[k]}
    assert mismatches == {}
    for i, (kind, _, secret) in enumerate(SECRETS):
        assert f"[REDACTED:{kind}]" in got.attributes[f"app.plain.{i}"]
        assert json.loads(got.attributes[f"app.json.{i}"])  # still valid JSON
        assert not in_bytes(secret, raw), kind


def test_secrets_are_scrubbed_in_names_status_events_and_resource_as_in_process() -> None:
    samples = [text for _, text, _ in SECRETS]
    rng = random.Random(8)
    picks = [rng.sample(samples, 2) for _ in range(4)]
    with redaction_collector() as (collector, destination):
        with (
            sdk_spans(collector, {"deployment.note": f"built with {picks[0][0]}"}) as (tracer, memory),
            tracer.start_as_current_span(f"call {picks[1][0]}") as span,
        ):
            span.add_event(f"retry {picks[2][0]}", {"detail": f"token was {picks[2][1]}", "attempt": 2})
            span.set_status(Status(StatusCode.ERROR, f"failed with {picks[3][0]} and {picks[3][1]}"))
        (got,) = wait_for_spans(destination, 1, collector)
        raw = destination.bodies()
    expected = in_process(memory.get_finished_spans()[0])

    assert got.name == expected.name and "[REDACTED:" in got.name
    assert got.status_message == expected.status.description and got.status_message.count("[REDACTED:") == 2
    (event_name, event_attributes), *_ = got.events
    assert event_name == expected.events[0].name
    assert event_attributes == dict(expected.events[0].attributes)
    assert got.resource["deployment.note"] == expected.resource.attributes["deployment.note"]
    leaked = [secret for _, text, secret in SECRETS if any(text in p for p in picks) and in_bytes(secret, raw)]
    assert leaked == []


def test_secrets_next_to_json_escapes_come_out_as_in_process() -> None:
    """The in-process fuzz of secrets glued to JSON escapes, quotes and non-ASCII characters
    (test_secrets_next_to_json_escapes_keep_json_valid), through the collector: the same output
    byte for byte, valid JSON, nothing planted left."""
    rng = random.Random(5)
    planted = [text for _, text, _ in SECRETS]
    attributes: dict[str, Any] = {}
    chosen_by_key: dict[str, list[str]] = {}
    for n in range(120):
        pieces = []
        chosen = rng.sample(planted, 3)
        for value in chosen:
            pieces.append(rng.choice(["\n", "\t", '"', "é", "\\", " ", "—", "\u2028", "\\\\", "\r\n"]) + value)
            pieces.append(rng.choice(["\n", '"', "é", "", ".", "\\", "'"]))
        content = messages({"role": "user", "parts": [{"type": "text", "content": "".join(pieces)}]})
        for ensure_ascii in (True, False):
            key = f"app.fuzz.{n}.{int(ensure_ascii)}"
            attributes[key] = json.dumps(json.loads(content), ensure_ascii=ensure_ascii)
            chosen_by_key[key] = chosen
    with redaction_collector() as (collector, destination):
        sent = send_one(collector, "fuzz", attributes)
        (got,) = wait_for_spans(destination, 1, collector)
    expected = in_process(sent).attributes

    assert {k: got.attributes[k] for k in attributes if got.attributes[k] != expected[k]} == {}
    for key, chosen in chosen_by_key.items():
        text = json.loads(got.attributes[key])[0]["parts"][0]["content"]
        for value in chosen:
            secret = next(s for _, v, s in SECRETS if v == value)
            assert secret not in text, (key, value)


def test_near_misses_are_left_alone() -> None:
    """tests/processing/test_redaction.py NEAR_MISSES (model names, ids, dates, prose with "basic" or
    "bearer"): nothing in them is a secret, in-process or here."""
    with redaction_collector() as (collector, destination):
        with sdk_spans(collector) as (tracer, _):
            for i, text in enumerate(NEAR_MISSES):
                with tracer.start_as_current_span(
                    text, attributes={"app.case": i, "otel_llm.metadata.note": text, "gen_ai.response.model": text}
                ):
                    pass
        spans = wait_for_spans(destination, len(NEAR_MISSES), collector)
    got = {
        s.attributes["app.case"]: (
            s.name,
            s.attributes["otel_llm.metadata.note"],
            s.attributes["gen_ai.response.model"],
        )
        for s in spans
    }
    assert got == {i: (text, text, text) for i, text in enumerate(NEAR_MISSES)}


SECRET_NAMES = [*IN_PROCESS_SECRET_NAMES, "DB.PASSWORD", "token", "app.credentials"]
NOT_SECRET_NAMES = IN_PROCESS_NOT_SECRET_NAMES


def test_attributes_named_as_secrets_lose_their_whole_value_as_in_process() -> None:
    attributes: dict[str, Any] = {name: f"opaque-{i}" for i, name in enumerate(SECRET_NAMES)}
    attributes.update({name: "512" for name in NOT_SECRET_NAMES})
    attributes["otel_llm.metadata.port_api_key"] = 8080  # a number under a secret name: masked too
    with redaction_collector() as (collector, destination):
        sent = send_one(collector, "names", attributes)
        (got,) = wait_for_spans(destination, 1, collector)
    expected = in_process(sent).attributes
    for name in SECRET_NAMES:
        assert expected[name] == "[REDACTED]", name  # what in-process does ...
        assert got.attributes[name] == REDACTED_MASK, name  # ... the collector masks them all the same
    assert (got.attributes["otel_llm.metadata.port_api_key"], expected["otel_llm.metadata.port_api_key"]) == (
        REDACTED_MASK,
        "[REDACTED]",
    )
    for name in NOT_SECRET_NAMES:
        assert got.attributes[name] == expected[name] == "512", name


def test_the_documented_gaps_are_real() -> None:
    """What redaction.yaml says it cannot do, so that the comment stays true: a secret inside a list
    value passes (in-process scrubs it); 'Basic <word>' with a base64-shaped word is masked (in-process
    decodes it first and leaves prose alone); a secret-named list becomes one string."""
    key = "sk-" + _rand(ALNUM, 48)
    attributes = {
        "otel_llm.tags": ("ok", f"key {key}"),
        "app.note": "Basic concepts first",
        "http.request.header.authorization": ("Bearer abcdefghijklmnopqrstuvwxyz012345",),
    }
    with redaction_collector() as (collector, destination):
        sent = send_one(collector, "gaps", attributes)
        (got,) = wait_for_spans(destination, 1, collector)
    expected = in_process(sent).attributes
    assert expected["otel_llm.tags"] == ("ok", "key [REDACTED:openai_key]")
    assert got.attributes["otel_llm.tags"] == ["ok", f"key {key}"]  # gap: lists are not scrubbed
    assert expected["app.note"] == "Basic concepts first"
    assert got.attributes["app.note"] == "Basic [REDACTED:basic_auth] first"  # gap: over-redaction
    assert expected["http.request.header.authorization"] == ("[REDACTED]",)
    assert got.attributes["http.request.header.authorization"] == REDACTED_MASK
