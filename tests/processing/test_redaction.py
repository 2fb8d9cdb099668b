"""The Redactor on real SDK spans: content, secrets, PII, media, truncation, identifiers.

Spans come from a real TracerProvider (attributes, events, links, status, resource, limits), with
realistic planted values: random keys in each provider's format, not fixed examples a pattern could
special-case. Every redacted JSON value is parsed back, and redacted messages are validated against
the GenAI JSON schemas.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import string
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from otel_llm.genai import attributes as A
from otel_llm.processing._secrets import luhn_ok
from otel_llm.processing.redaction import (
    DEFAULT_IDENTIFIER_ATTRIBUTES,
    OTHER_CONTENT_ATTRIBUTES,
    RedactionSettings,
    Redactor,
    is_content_attribute,
)
from tests.support import validate_content

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits


def rand(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def make_span(
    attributes: dict[str, Any] | None = None,
    *,
    events: Sequence[tuple[str, dict[str, Any]]] = (),
    status: Status | None = None,
    links: Sequence[Link] = (),
    resource: Resource | None = None,
    limits: SpanLimits | None = None,
    name: str = "chat gpt-4o",
    exception: Exception | None = None,
) -> ReadableSpan:
    sink = InMemorySpanExporter()
    provider = TracerProvider(resource=resource or Resource.create({"service.name": "shop"}), span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(sink))
    span = provider.get_tracer("test").start_span(name, kind=SpanKind.CLIENT, attributes=attributes, links=links)
    for event_name, event_attributes in events:
        span.add_event(event_name, event_attributes)
    if exception is not None:
        span.record_exception(exception)
    if status is not None:
        span.set_status(status)
    span.end()
    (finished,) = sink.get_finished_spans()
    return finished


def redact(span: ReadableSpan, **settings: Any) -> ReadableSpan:
    return Redactor(RedactionSettings(**settings)).redact(span)


def snapshot(span: ReadableSpan) -> Any:
    """Everything a redaction could change, as plain values."""
    return (
        span.name,
        dict(span.attributes),
        [(e.name, dict(e.attributes or {})) for e in span.events],
        [dict(link.attributes or {}) for link in span.links],
        (span.status.status_code, span.status.description),
        dict(span.resource.attributes),
    )


def any_bytes(value: Any) -> bool:
    if isinstance(value, (bytes, bytearray)):
        return True
    if isinstance(value, dict):
        return any(any_bytes(k) or any_bytes(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(any_bytes(v) for v in value)
    return False


def messages(*items: dict[str, Any]) -> str:
    return json.dumps(list(items), ensure_ascii=False)


# -- Secrets -----------------------------------------------------------------------------------

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ." + rand(ALNUM, 43)
PEM_BODY = rand(ALNUM + "+/", 64)
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n{rand(ALNUM, 64)}\n-----END RSA PRIVATE KEY-----"
AWS_SECRET = rand(ALNUM + "/+", 40)
BEARER = rand(ALNUM + "._-", 40)
BASIC = base64.b64encode(b"admin:" + rand(ALNUM, 12).encode()).decode()
PASSWORD = rand(ALNUM, 14)

# (kind, text as it appears, the part that must disappear)
SECRETS: list[tuple[str, str, str]] = [
    ("openai_key", k := "sk-" + rand(ALNUM, 48), k),
    ("openai_key", k := "sk-proj-" + rand(ALNUM + "-_", 120), k),
    ("openai_key", k := "sk-svcacct-" + rand(ALNUM + "-_", 80), k),
    ("anthropic_key", k := "sk-ant-api03-" + rand(ALNUM + "-_", 93) + "AA", k),
    ("anthropic_key", k := "sk-ant-admin01-" + rand(ALNUM + "-_", 60), k),
    ("aws_access_key", k := "AKIA" + rand(UPPER, 16), k),
    ("aws_access_key", k := "ASIA" + rand(UPPER, 16), k),
    ("aws_secret_key", f"aws_secret_access_key={AWS_SECRET}", AWS_SECRET),
    ("aws_secret_key", f'{{"SecretAccessKey": "{AWS_SECRET}"}}', AWS_SECRET),
    ("aws_secret_key", f"export AWS_SECRET_ACCESS_KEY: {AWS_SECRET}", AWS_SECRET),
    ("google_api_key", k := "AIza" + rand(ALNUM + "-_", 35), k),
    ("github_token", k := "ghp_" + rand(ALNUM, 36), k),
    ("github_token", k := "gho_" + rand(ALNUM, 36), k),
    ("github_token", k := "ghs_" + rand(ALNUM, 36), k),
    ("github_token", k := "github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59), k),
    ("slack_token", k := f"xoxb-{rand(string.digits, 12)}-{rand(string.digits, 13)}-{rand(ALNUM, 24)}", k),
    ("stripe_key", k := "sk_live_" + rand(ALNUM, 24), k),
    ("stripe_key", k := "rk_live_" + rand(ALNUM, 24), k),
    ("huggingface_token", k := "hf_" + rand(ALNUM, 34), k),
    ("groq_key", k := "gsk_" + rand(ALNUM, 52), k),
    ("xai_key", k := "xai-" + rand(ALNUM, 80), k),
    ("langfuse_key", k := "sk-lf-" + "-".join(rand("0123456789abcdef", n) for n in (8, 4, 4, 4, 12)), k),
    ("langfuse_key", k := "pk-lf-" + "-".join(rand("0123456789abcdef", n) for n in (8, 4, 4, 4, 12)), k),
    ("bearer_token", f"Authorization: Bearer {BEARER}", BEARER),
    ("basic_auth", f"Authorization: Basic {BASIC}", BASIC),
    ("jwt", f"session={JWT}; path=/", JWT),
    ("private_key", PEM, PEM_BODY),
    ("url_credentials", f"postgres://app:{PASSWORD}@db.internal:5432/orders", PASSWORD),
]


@pytest.mark.parametrize(("kind", "text", "secret"), SECRETS, ids=[f"{s[0]}-{i}" for i, s in enumerate(SECRETS)])
def test_each_secret_kind_is_replaced_in_plain_and_json_values(kind: str, text: str, secret: str) -> None:
    content = messages({"role": "user", "parts": [{"type": "text", "content": f"Here:\n{text}\nthanks"}]})
    span = make_span({"otel_llm.metadata.note": f"see {text} ok", A.INPUT_MESSAGES: content})
    out = redact(span)
    note = out.attributes["otel_llm.metadata.note"]
    assert secret not in note and f"[REDACTED:{kind}]" in note
    assert note.startswith("see ") and note.endswith(" ok")
    raw = out.attributes[A.INPUT_MESSAGES]
    assert secret not in raw and json.dumps(secret)[1:-1] not in raw
    parsed = validate_content(out.attributes)[A.INPUT_MESSAGES]  # still valid JSON, still schema-valid
    assert f"[REDACTED:{kind}]" in parsed[0]["parts"][0]["content"]
    assert parsed[0]["parts"][0]["content"].startswith("Here:\n")


def test_labels_and_words_around_secrets_stay() -> None:
    out = redact(make_span({"a": f"Authorization: Bearer {BEARER}", "b": f"aws_secret_access_key={AWS_SECRET}"}))
    assert out.attributes["a"] == "Authorization: Bearer [REDACTED:bearer_token]"
    assert out.attributes["b"] == "aws_secret_access_key=[REDACTED:aws_secret_key]"
    url = redact(make_span({"db.url": f"postgres://app:{PASSWORD}@db.internal:5432/orders"})).attributes["db.url"]
    assert url == "postgres://[REDACTED:url_credentials]@db.internal:5432/orders"
    token = rand(ALNUM, 20)
    headers = json.dumps({"authorization": f"bearer {token}", "x-request-id": "r-1"})
    out = redact(make_span({"http.headers": headers, "log": f"authorization: token {token}"}))
    assert json.loads(out.attributes["http.headers"]) == {
        "authorization": "bearer [REDACTED:bearer_token]",
        "x-request-id": "r-1",
    }
    assert out.attributes["log"] == "authorization: token [REDACTED:bearer_token]"


NEAR_MISSES = [
    "gpt-4o-2024-08-06",
    "claude-sonnet-4-5",
    "claude-3-5-sonnet-20241022",
    "2024-08-06T12:30:45.123456Z",
    "2024-08-06 12:30:45",
    "00f067aa0ba902b7",  # span id
    "4bf92f3577b34da6a3ce929d0e0e4736",  # trace id
    "chatcmpl-AbC123xyz789",
    "msg_01XFDUDYJgAACzvnptvVoYEL",
    "fp_0123456789",
    "1234",
    "input 1234 output 5678 tokens",
    "order 4111 1111 1111 1112",  # fails Luhn
    "order 1234567890123456",  # fails Luhn
    "ts 1732435200000000000",
    "10.0.0.1 and 192.168.100.200",
    "v1.2.3",
    "$1,234.56",
    "550e8400-e29b-41d4-a716-446655440000",
    "The task-force discussed the risk assessment and basic plan",
    "Basic understanding of sk-learn is enough",
    "the bearer of good news",
    "see https://example.com/path?x=1 or mailto:",
    "SELECT * FROM orders WHERE id = 42",
    "user-8842",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_left_alone(text: str) -> None:
    span = make_span({"otel_llm.metadata.note": text, "gen_ai.response.model": text})
    assert redact(span, pii=("email", "phone", "card")) is span


def test_numbers_are_never_touched() -> None:
    span = make_span(
        {
            A.USAGE_INPUT_TOKENS: 4111111111111111,
            "otel_llm.metadata.phone": 442079460958,
            A.COST_USD: 0.000432,
            "otel_llm.metadata.ids": (4111111111111111, 5500005555555559),
        }
    )
    assert redact(span, pii=("email", "phone", "card")) is span


# Attribute names whose values are secrets as a whole, and names that only contain a secret word
# (tests/collector_config/test_redaction_template.py checks redaction.yaml against the same lists).
SECRET_NAMES = [
    "http.request.header.authorization",
    "http.request.header.x-api-key",
    "http.request.header.api-key",
    "http.request.header.cookie",
    "http.response.header.set-cookie",
    "http.request.header.proxy-authorization",
    "db.password",
    "client.secret",
    "oauth.access_token",
    "otel_llm.metadata.openai_api_key",
    "otel_llm.metadata.db_password",
    "app.aws_secret_access_key",
]
NOT_SECRET_NAMES = [
    A.USAGE_INPUT_TOKENS,
    "otel_llm.metadata.max_tokens",
    "otel_llm.metadata.token_count",
    "otel_llm.metadata.key_alias",
    "otel_llm.metadata.user_api_key_alias",
    "gen_ai.token.type",
    "http.request.header.content-type",
    "otel_llm.metadata.secretary",
]


@pytest.mark.parametrize("key", SECRET_NAMES)
def test_attributes_named_as_secrets_lose_their_whole_value(key: str) -> None:
    span = make_span({key: ("some value",), "plain": "x"})
    out = redact(span)
    assert out.attributes[key] == ("[REDACTED]",)
    assert redact(make_span({key: "opaque"})).attributes[key] == "[REDACTED]"
    assert redact(make_span({key: "opaque"}), secrets=False).attributes[key] == "opaque"


@pytest.mark.parametrize("key", NOT_SECRET_NAMES)
def test_keys_that_only_contain_a_secret_word_keep_their_value(key: str) -> None:
    span = make_span({key: "512"})
    assert redact(span) is span


def test_user_patterns_replace_the_whole_match() -> None:
    ticket = "ACME-" + rand(string.digits, 6)
    span = make_span({"note": f"ticket {ticket} open", A.INPUT_MESSAGES: messages(_text_message(f"re {ticket}"))})
    out = redact(span, secret_patterns=(r"ACME-\d{6}",))
    assert out.attributes["note"] == "ticket [REDACTED:custom] open"
    assert "[REDACTED:custom]" in validate_content(out.attributes)[A.INPUT_MESSAGES][0]["parts"][0]["content"]


def test_a_user_pattern_reaching_across_json_syntax_keeps_the_json_valid() -> None:
    span = make_span({A.INPUT_MESSAGES: messages(_text_message("order ACME-123456"), _text_message("ACME-654321"))})
    out = redact(span, secret_patterns=(r'ACME-\d+"\}\]\},\{"role', r"ACME-\d+"))
    parsed = validate_content(out.attributes)[A.INPUT_MESSAGES]
    assert [m["parts"][0]["content"] for m in parsed] == ["order [REDACTED:custom]", "[REDACTED:custom]"]


def test_secrets_next_to_json_escapes_keep_json_valid() -> None:
    """Secrets and PII right after \\n, \\t, \\", \\u escapes and before closing quotes, scrubbed in the
    raw JSON string: the result must parse, and nothing planted may survive, in any escaping."""
    rng = random.Random(5)
    planted = [v for _, v, _ in SECRETS] + ["jane.doe@example.org", "+44 20 7946 0958", "4111 1111 1111 1111"]
    for _ in range(300):
        pieces = []
        chosen = rng.sample(planted, 3)
        for value in chosen:  # what may precede a value is what a word boundary allows: no letter or digit
            pieces.append(rng.choice(["\n", "\t", '"', "é", "\\", " ", "—", "\u2028", "\\\\", "\r\n"]) + value)
            pieces.append(rng.choice(["\n", '"', "é", "", ".", "\\", "'"]))
        content = messages(_text_message("".join(pieces)))
        for ensure_ascii in (True, False):
            raw = json.dumps(json.loads(content), ensure_ascii=ensure_ascii)
            out = redact(make_span({A.INPUT_MESSAGES: raw}), pii=("email", "phone", "card"))
            text = json.loads(out.attributes[A.INPUT_MESSAGES])[0]["parts"][0]["content"]
            for value in chosen:
                secret = next((s for _, v, s in SECRETS if v == value), value)
                assert secret not in text, (value, text)


# -- PII ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe+orders@example.co.uk today", "mail [EMAIL] today"),
        ('{"email": "ops@shop.example"}', '{"email": "[EMAIL]"}'),
        ("call +44 20 7946 0958 now", "call [PHONE] now"),
        ("call +1 (415) 555-2671", "call [PHONE]"),
        ("call +14155552671.", "call [PHONE]."),
        ("call (415) 555-2671 or 415-555-2671 or 415.555.2671", "call [PHONE] or [PHONE] or [PHONE]"),
        ("UK 020 7946 0958", "UK [PHONE]"),
        ("card 4111 1111 1111 1111 exp", "card [CARD] exp"),
        ("card 4111-1111-1111-1111", "card [CARD]"),
        ("card 5500005555555559", "card [CARD]"),
        ("amex 3782 822463 10005", "amex [CARD]"),
    ],
)
def test_pii_placeholders(text: str, expected: str) -> None:
    span = make_span({"otel_llm.metadata.note": text})
    assert redact(span, pii=("email", "phone", "card")).attributes["otel_llm.metadata.note"] == expected
    assert redact(span) is span  # PII is off by default


def test_pii_kinds_are_chosen_one_by_one() -> None:
    span = make_span({"note": "jane@example.org +44 20 7946 0958 4111 1111 1111 1111"})
    assert redact(span, pii=("email",)).attributes["note"] == "[EMAIL] +44 20 7946 0958 4111 1111 1111 1111"
    assert redact(span, pii=("phone",)).attributes["note"] == "jane@example.org [PHONE] 4111 1111 1111 1111"
    assert redact(span, pii=("card",)).attributes["note"] == "jane@example.org +44 20 7946 0958 [CARD]"


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("5500005555555559") and luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112") and not luhn_ok("1234567890123456")


# -- Content -------------------------------------------------------------------------------

BLOB = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4).decode()


def _text_message(text: str, role: str = "user") -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


INPUT = [
    {"role": "system", "parts": [{"type": "text", "content": "You are a shop assistant."}]},
    {
        "role": "user",
        "parts": [
            {"type": "text", "content": "What is in my basket? My email is jane@example.org"},
            {"type": "blob", "modality": "image", "mime_type": "image/png", "content": BLOB},
            {"type": "uri", "modality": "image", "mime_type": "image/jpeg", "uri": "https://cdn.example/p/42.jpg"},
            {"type": "file", "modality": "image", "file_id": "file-abc123"},
        ],
    },
    {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "I should look the basket up."},
            {"type": "tool_call", "id": "call_1", "name": "get_basket", "arguments": {"user": "jane", "full": True}},
            {
                "type": "server_tool_call",
                "id": "srv_1",
                "name": "web_search",
                "server_tool_call": {"type": "web_search", "query": "basket"},
            },
            {
                "type": "server_tool_call_response",
                "id": "srv_1",
                "server_tool_call_response": {"type": "web_search", "results": ["a", "b"]},
            },
        ],
    },
    {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": {"items": ["tea", "mug"]}}]},
    {"role": "user", "parts": [{"type": "custom_note", "note": "private"}], "name": "jane"},
]
OUTPUT = [{"role": "assistant", "parts": [{"type": "text", "content": "Tea and a mug."}], "finish_reason": "stop"}]
SYSTEM = [{"type": "text", "content": "Be brief. Never reveal the discount code SAVE20."}]
TOOLS = [
    {"type": "function", "name": "get_basket", "description": "The user's basket", "parameters": {"type": "object"}}
]


def content_span(**extra: Any) -> ReadableSpan:
    return make_span(
        {
            A.OPERATION_NAME: "chat",
            A.INPUT_MESSAGES: json.dumps(INPUT),
            A.OUTPUT_MESSAGES: json.dumps(OUTPUT),
            A.SYSTEM_INSTRUCTIONS: json.dumps(SYSTEM),
            A.TOOL_DEFINITIONS: json.dumps(TOOLS),
            **extra,
        }
    )


def placeholder(value: Any) -> str:
    n = len(value) if isinstance(value, str) else len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return f"[redacted {n} chars]"


def test_drop_keeps_structure_and_sizes_and_stays_schema_valid() -> None:
    out = redact(content_span(), content="drop")
    parsed = validate_content(out.attributes)
    inp = parsed[A.INPUT_MESSAGES]
    assert [m["role"] for m in inp] == ["system", "user", "assistant", "tool", "user"]
    user = inp[1]["parts"]
    assert user[0] == {"type": "text", "content": placeholder(INPUT[1]["parts"][0]["content"])}
    assert user[1] == {"type": "blob", "modality": "image", "mime_type": "image/png", "content": placeholder(BLOB)}
    assert user[2]["uri"] == placeholder("https://cdn.example/p/42.jpg") and user[2]["mime_type"] == "image/jpeg"
    assert user[3] == {"type": "file", "modality": "image", "file_id": "file-abc123"}
    reasoning, call, server_call, server_response = inp[2]["parts"]
    assert reasoning == {"type": "reasoning", "content": "[redacted 28 chars]"}
    assert call == {
        "type": "tool_call",
        "id": "call_1",
        "name": "get_basket",
        "arguments": placeholder({"user": "jane", "full": True}),
    }
    assert server_call["server_tool_call"] == {"type": "web_search", "query": "[redacted 6 chars]"}
    assert server_response["server_tool_call_response"]["type"] == "web_search"
    assert inp[3]["parts"][0] == {
        "type": "tool_call_response",
        "id": "call_1",
        "response": placeholder({"items": ["tea", "mug"]}),
    }
    assert inp[4] == {"role": "user", "parts": [{"type": "custom_note", "note": "[redacted 7 chars]"}], "name": "jane"}
    assert parsed[A.OUTPUT_MESSAGES] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "[redacted 14 chars]"}], "finish_reason": "stop"}
    ]
    assert parsed[A.SYSTEM_INSTRUCTIONS] == [{"type": "text", "content": placeholder(SYSTEM[0]["content"])}]
    assert json.loads(out.attributes[A.TOOL_DEFINITIONS]) == TOOLS  # tool definitions are not content
    blob = "\n".join(str(v) for v in out.attributes.values())
    for private in ("basket?", "jane@example.org", "Tea and", "SAVE20", "tea", "private", BLOB[:40]):
        assert private not in blob


def test_keep_leaves_content_but_replaces_media_and_scrubs() -> None:
    key = "sk-proj-" + rand(ALNUM, 60)
    span = content_span(**{A.OUTPUT_MESSAGES: messages({**OUTPUT[0], "parts": [{"type": "text", "content": key}]})})
    out = redact(span)
    parsed = validate_content(out.attributes)
    assert parsed[A.INPUT_MESSAGES][1]["parts"][0]["content"] == INPUT[1]["parts"][0]["content"]
    raw = base64.b64decode(BLOB)
    assert parsed[A.INPUT_MESSAGES][1]["parts"][1]["content"] == (
        f"[media image/png {len(raw)} bytes sha256:{hashlib.sha256(raw).hexdigest()[:16]}]"
    )
    assert parsed[A.OUTPUT_MESSAGES][0]["parts"][0]["content"] == "[REDACTED:openai_key]"
    assert parsed[A.SYSTEM_INSTRUCTIONS] == SYSTEM


def test_redacting_twice_changes_nothing_more() -> None:
    """The SDK and then the collector may both redact: placeholders and hashes survive a second pass."""
    settings = {"content": "drop", "identifiers": "hash", "pii": ("email",)}
    once = redact(content_span(**{A.USER_ID: "u-1", "gen_ai.prompt": "hi"}), **settings)
    twice = redact(once, **settings)
    assert twice is once


# Text that starts like a placeholder, or holds one, but is more than a placeholder: it is content.
LOOKALIKES = [
    "[media ] my diagnosis is cancer",
    "[redacted ] text",
    "[redacted 5 chars] and then the real text",
    "[redacted 5 chars]\n",
    "[media image/png 12 bytes sha256:0123456789abcdef] my diagnosis",
    "[media image/png 12 bytes sha256:0123456789abcdeg]",
    "[media a/cancer 12 bytes] x",
    "[REDACTED:my_diagnosis_is_cancer]",
    "[REDACTED] my diagnosis",
    "x…[truncated 5 chars]",
    "sha256:0123456789abcdef0123456789abcdef",  # a hashed identifier is not a content placeholder
]
# Exactly the placeholders redaction writes: a second redaction leaves them as they are.
EXACT_PLACEHOLDERS = [
    "[redacted 5 chars]",
    "[media image/png 1204 bytes sha256:3f677b5674528fe9]",
    "[media application/octet-stream 0 bytes sha256:e3b0c44298fc1c14]",
    "[REDACTED]",
    "[REDACTED:openai_key]",
    "[REDACTED:custom]",
    "[EMAIL]",
    "…[truncated 120 chars]",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_text_that_only_looks_like_a_placeholder_is_dropped(text: str) -> None:
    span = make_span(
        {
            A.INPUT_MESSAGES: messages(_text_message(text)),
            A.SYSTEM_INSTRUCTIONS: json.dumps([{"type": "text", "content": text}]),
            "input.value": text,
            "llm.prompts": (text, "ok"),
            "gen_ai.prompt.0.content": text.encode(),
        },
        events=[("gen_ai.content.prompt", {"gen_ai.prompt": text})],
    )
    out = redact(span, content="drop")
    parsed = validate_content(out.attributes)
    assert parsed[A.INPUT_MESSAGES][0]["parts"][0]["content"] == placeholder(text)
    assert parsed[A.SYSTEM_INSTRUCTIONS][0]["content"] == placeholder(text)
    assert out.attributes["input.value"] == placeholder(text)
    assert out.attributes["llm.prompts"] == (placeholder(text), placeholder("ok"))
    assert out.attributes["gen_ai.prompt.0.content"] == placeholder(text)
    assert dict(out.events[0].attributes) == {"gen_ai.prompt": placeholder(text)}
    assert redact(out, content="drop") is out  # and the placeholders now stay


@pytest.mark.parametrize("text", EXACT_PLACEHOLDERS)
def test_exact_placeholders_stay_under_drop(text: str) -> None:
    compact = json.dumps([_text_message(text)], ensure_ascii=False, separators=(",", ":"))  # as drop writes it
    span = make_span({A.INPUT_MESSAGES: compact, "input.value": text, "llm.prompts": (text,)})
    assert redact(span, content="drop") is span


def test_lookalike_placeholders_are_scrubbed_and_media_replaced_when_kept() -> None:
    key = "sk-proj-" + rand(ALNUM, 60)
    prefixes = ("[media ] ", "[redacted ] ", "[redacted 5 chars] ", "[REDACTED] ", "[EMAIL] ")
    values = {f"input.value.{i}": f"{prefix}{key} jane@example.org" for i, prefix in enumerate(prefixes)}
    blob = "[media ] " + base64.b64encode(b"\x89PNG" + key.encode()).decode()
    content = messages(
        _text_message("[redacted 5 chars] " + key),
        {"role": "user", "parts": [{"type": "blob", "modality": "image", "mime_type": "image/png", "content": blob}]},
    )
    out = redact(make_span({**values, A.INPUT_MESSAGES: content}), pii=("email",))
    for name, value in values.items():
        prefix = value[: -len(f"{key} jane@example.org")]
        assert out.attributes[name] == f"{prefix}[REDACTED:openai_key] [EMAIL]"
    parsed = validate_content(out.attributes)[A.INPUT_MESSAGES]
    assert parsed[0]["parts"][0]["content"] == "[redacted 5 chars] [REDACTED:openai_key]"
    assert parsed[1]["parts"][0]["content"].startswith("[media image/png ")  # decoded as media, not kept
    assert key not in repr(snapshot(out))
    assert redact(out, pii=("email",)) is out


def test_blob_mime_types_with_parameters_give_exact_placeholders() -> None:
    data = base64.b64encode(b"RIFF" + bytes(40)).decode()
    digest = hashlib.sha256(b"RIFF" + bytes(40)).hexdigest()[:16]
    parts = [
        {"type": "blob", "modality": "audio", "mime_type": mime, "content": data}
        for mime in ('audio/wav; codecs="1"', "not a mime type", "")
    ]
    out = redact(make_span({A.INPUT_MESSAGES: messages({"role": "user", "parts": parts})}))
    got = [p["content"] for p in validate_content(out.attributes)[A.INPUT_MESSAGES][0]["parts"]]
    assert got == [
        f"[media audio/wav 44 bytes sha256:{digest}]",
        f"[media application/octet-stream 44 bytes sha256:{digest}]",
        f"[media application/octet-stream 44 bytes sha256:{digest}]",
    ]
    assert redact(out) is out


def test_unparseable_content_under_drop_becomes_one_placeholder() -> None:
    bad = '[{"role": "user", "parts": [{"type": "text", "content": "cut off'
    out = redact(make_span({A.INPUT_MESSAGES: bad, A.OUTPUT_MESSAGES: '{"not": "a list"}'}), content="drop")
    assert out.attributes[A.INPUT_MESSAGES] == f"[redacted {len(bad)} chars]"
    assert out.attributes[A.OUTPUT_MESSAGES] == "[redacted 17 chars]"


def test_other_instrumentations_content_is_replaced_keeping_keys_and_roles() -> None:
    legacy = {
        "gen_ai.prompt": "Hello there",
        "gen_ai.completion": "General Kenobi",
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "What is my balance?",
        "gen_ai.completion.0.finish_reason": "stop",
        "gen_ai.completion.0.content": "42 euros",
        "input.value": '{"question": "balance?"}',
        "output.value": "42 euros",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "What is my balance?",
        "llm.output_messages.0.message.content": "42 euros",
        "llm.prompts": ("p1", "p2"),
    }
    out = redact(make_span(legacy), content="drop")
    for key, value in legacy.items():
        if key.endswith((".role", ".finish_reason")):
            assert out.attributes[key] == value
        elif isinstance(value, tuple):
            assert out.attributes[key] == ("[redacted 2 chars]", "[redacted 2 chars]")
        else:
            assert out.attributes[key] == f"[redacted {len(value)} chars]", key
    assert all(is_content_attribute(k) for k in OTHER_CONTENT_ATTRIBUTES)
    assert not is_content_attribute(A.TOOL_DEFINITIONS) and not is_content_attribute("gen_ai.prompt.0.role")


def test_content_in_events_is_dropped_too() -> None:
    span = make_span(
        {A.OPERATION_NAME: "chat"},
        events=[
            ("gen_ai.content.prompt", {"gen_ai.prompt": "Hello there"}),
            ("gen_ai.content.completion", {"gen_ai.completion": "General Kenobi"}),
            (A.INFERENCE_DETAILS_EVENT, {A.INPUT_MESSAGES: messages(_text_message("Hi"))}),
        ],
    )
    out = redact(span, content="drop")
    prompt, completion, details = (dict(e.attributes) for e in out.events)
    assert prompt == {"gen_ai.prompt": "[redacted 11 chars]"}
    assert completion == {"gen_ai.completion": "[redacted 14 chars]"}
    assert json.loads(details[A.INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "[redacted 2 chars]"}]}
    ]


@pytest.mark.parametrize(
    ("destination", "allow", "wish", "dropped"),
    [
        ("keep", False, None, False),
        ("keep", False, True, True),  # a request may always ask for less
        ("keep", True, True, True),
        ("keep", False, False, False),
        ("drop", False, None, True),
        ("drop", False, False, True),  # asking for more needs allow_request_override
        ("drop", True, False, False),
        ("drop", True, True, True),
        ("drop", True, None, True),
    ],
)
def test_request_override_rules(destination: str, allow: bool, wish: bool | None, dropped: bool) -> None:
    extra = {} if wish is None else {A.REDACT_CONTENT: wish}
    out = redact(content_span(**extra), content=destination, allow_request_override=allow)
    text = json.loads(out.attributes[A.OUTPUT_MESSAGES])[0]["parts"][0]["content"]
    assert text == ("[redacted 14 chars]" if dropped else "Tea and a mug.")


# -- Media and truncation -------------------------------------------------------------------


def test_data_uris_anywhere_become_media_placeholders() -> None:
    raw = b"GIF89a" + bytes(range(200))
    uri = "data:image/gif;base64," + base64.b64encode(raw).decode()
    expected = f"[media image/gif {len(raw)} bytes sha256:{hashlib.sha256(raw).hexdigest()[:16]}]"
    content = messages(
        _text_message(f"look: {uri} ok"), {"role": "user", "parts": [{"type": "uri", "modality": "image", "uri": uri}]}
    )
    span = make_span({"otel_llm.metadata.avatar": uri, A.INPUT_MESSAGES: content, "x": "data:;base64,AAEC"})
    out = redact(span)
    assert out.attributes["otel_llm.metadata.avatar"] == expected
    parsed = validate_content(out.attributes)[A.INPUT_MESSAGES]
    assert parsed[0]["parts"][0]["content"] == f"look: {expected} ok"
    assert parsed[1]["parts"][0]["uri"] == expected
    assert out.attributes["x"].startswith("[media application/octet-stream 3 bytes sha256:")
    assert redact(span, media="keep").attributes["otel_llm.metadata.avatar"] == uri


def test_blob_without_mime_type_and_media_keep() -> None:
    content = messages({"role": "user", "parts": [{"type": "blob", "modality": "audio", "content": "AAECAw=="}]})
    out = redact(make_span({A.INPUT_MESSAGES: content}))
    part = validate_content(out.attributes)[A.INPUT_MESSAGES][0]["parts"][0]
    assert (
        part["content"]
        == f"[media application/octet-stream 4 bytes sha256:{hashlib.sha256(bytes(range(4))).hexdigest()[:16]}]"
    )
    assert redact(make_span({A.INPUT_MESSAGES: content}), media="keep").attributes[A.INPUT_MESSAGES] == content


def test_truncation_cuts_the_longest_content_first_and_keeps_json_and_schema() -> None:
    long, medium, short = "L" * 5000, "M" * 900, "short answer"
    content = messages(
        _text_message(long),
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": short},
                {"type": "tool_call", "id": "c1", "name": "f", "arguments": {"q": medium}},
            ],
        },
    )
    out = redact(make_span({A.INPUT_MESSAGES: content}), max_content_chars=1200)
    raw = out.attributes[A.INPUT_MESSAGES]
    assert len(raw) <= 1200
    parsed = validate_content(out.attributes)[A.INPUT_MESSAGES]
    first = parsed[0]["parts"][0]["content"]
    kept = first.index("…")
    assert first == "L" * kept + f"…[truncated {5000 - kept} chars]"
    assert parsed[1]["parts"][0]["content"] == short  # short values stay whole
    assert parsed[1]["parts"][1]["name"] == "f" and parsed[1]["parts"][1]["id"] == "c1"
    assert parsed[1]["parts"][1]["arguments"]["q"].startswith("MMM")
    assert len(raw) > 1100  # the budget is used, not thrown away


def test_truncation_of_non_json_and_short_values() -> None:
    span = make_span({"output.value": "x" * 500, "input.value": "short", A.OUTPUT_MESSAGES: "not json " * 30})
    out = redact(span, max_content_chars=100)
    assert len(out.attributes["output.value"]) == 100
    assert out.attributes["output.value"].endswith(
        f"…[truncated {500 - out.attributes['output.value'].index('…')} chars]"
    )
    assert out.attributes["input.value"] == "short"
    assert len(out.attributes[A.OUTPUT_MESSAGES]) <= 100
    assert redact(make_span({"input.value": "short"}), max_content_chars=100).attributes["input.value"] == "short"


def test_truncation_never_cuts_the_structure() -> None:
    many = messages(*[_text_message("hello " * 20, role="user") for _ in range(10)])
    out = redact(make_span({A.INPUT_MESSAGES: many}), max_content_chars=64)
    parsed = validate_content(out.attributes)[A.INPUT_MESSAGES]
    assert [m["role"] for m in parsed] == ["user"] * 10
    assert all(m["parts"][0]["content"] == "…[truncated 120 chars]" for m in parsed)


def test_truncating_twice_changes_nothing_more() -> None:
    many = messages(*[_text_message("hello " * 20, role="user") for _ in range(10)])
    once = redact(make_span({A.INPUT_MESSAGES: many}), max_content_chars=64)
    assert redact(once, max_content_chars=64) is once  # "…[truncated 120 chars]" stays, not "…[truncated 22 chars]"
    blob = {"type": "blob", "modality": "image", "mime_type": "image/png", "content": BLOB}
    media = messages(*[{"role": "user", "parts": [blob, {"type": "text", "content": "x" * 300}]} for _ in range(3)])
    once = redact(make_span({A.INPUT_MESSAGES: media}), max_content_chars=200)
    parts = [m["parts"] for m in validate_content(once.attributes)[A.INPUT_MESSAGES]]
    assert all(p[0]["content"].startswith("[media image/png ") for p in parts)
    assert all(p[1]["content"] == "…[truncated 300 chars]" for p in parts)
    assert redact(once, max_content_chars=200) is once


# -- Identifiers ----------------------------------------------------------------------------


def test_identifiers_hashed_with_and_without_key() -> None:
    span = make_span(
        {
            A.USER_ID: "customer-1234",
            "user.email": "jane@example.org",
            "otel_llm.metadata.user_api_key_hash": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
            "otel_llm.metadata.user_api_key_alias": "team-a-key",
            "otel_llm.metadata.feature": "search",
        }
    )
    keyed = redact(span, identifiers="hash", hash_key="s3cret")
    expected = "sha256:" + hmac.new(b"s3cret", b"customer-1234", hashlib.sha256).hexdigest()[:32]
    assert keyed.attributes[A.USER_ID] == expected
    assert keyed.attributes["otel_llm.metadata.user_api_key_alias"].startswith("sha256:")
    assert keyed.attributes["otel_llm.metadata.feature"] == "search"
    plain = redact(span, identifiers="hash")
    assert plain.attributes[A.USER_ID] == "sha256:" + hashlib.sha256(b"customer-1234").hexdigest()[:32]
    assert plain.attributes["user.email"] == "sha256:" + hashlib.sha256(b"jane@example.org").hexdigest()[:32]
    # a second redaction (SDK, then collector) does not hash the hash
    assert redact(keyed, identifiers="hash", hash_key="s3cret").attributes[A.USER_ID] == expected


def test_only_real_hashes_count_as_already_hashed() -> None:
    fake = "sha256:jane.doe@example.org-abcdefghijk"  # 39 characters, "sha256:" and no hex
    assert len(fake) == 39
    out = redact(make_span({A.USER_ID: fake, "user.email": "SHA256:" + "0" * 32}), identifiers="hash")
    assert out.attributes[A.USER_ID] == "sha256:" + hashlib.sha256(fake.encode()).hexdigest()[:32]
    assert out.attributes["user.email"] != "SHA256:" + "0" * 32


def test_identifiers_dropped_kept_and_custom_list() -> None:
    span = make_span({A.USER_ID: "u1", "enduser.id": "e1", "otel_llm.metadata.contact": "c1", "other": "o"})
    dropped = redact(span, identifiers="drop")
    assert set(dropped.attributes) == {"otel_llm.metadata.contact", "other"}
    assert redact(span, identifiers="keep") is span
    custom = redact(span, identifiers="hash", identifier_attributes=("otel_llm.metadata.*",))
    assert custom.attributes[A.USER_ID] == "u1" and custom.attributes["otel_llm.metadata.contact"].startswith("sha256:")
    assert "otel_llm.metadata.user_api_key*" in DEFAULT_IDENTIFIER_ATTRIBUTES


# -- Places: events, status, links, resource; the original --------------------------------


def test_every_place_is_scrubbed_and_the_original_is_untouched() -> None:
    key = "sk-" + rand(ALNUM, 48)
    other = SpanContext(trace_id=0x1234, span_id=0x5678, is_remote=True, trace_flags=TraceFlags(1))
    resource = Resource.create({"service.name": "shop", "deployment.note": f"deployed with {key}"})
    span = make_span(
        {A.OPERATION_NAME: "chat", "http.request.header.authorization": (f"Bearer {BEARER}",)},
        events=[("log", {"message": f"retrying with {key}"})],
        links=[Link(other, {"origin": f"queue://worker:{PASSWORD}@mq.internal"})],
        resource=resource,
        exception=ValueError(f"Incorrect API key provided: {key}"),
        status=Status(StatusCode.ERROR, f"Incorrect API key provided: {key}"),
        name=f"POST /v1/chat?key={key}",
    )
    before = snapshot(span)
    out = redact(span, pii=("email",))
    assert out is not span
    assert snapshot(span) == before  # the original, shared with other destinations, is unchanged
    dump = repr(snapshot(out))
    assert key not in dump and BEARER not in dump and PASSWORD not in dump
    assert out.status.status_code is StatusCode.ERROR
    assert out.status.description == "Incorrect API key provided: [REDACTED:openai_key]"
    exception = next(e for e in out.events if e.name == "exception")
    assert exception.attributes["exception.type"] == "ValueError"
    assert "[REDACTED:openai_key]" in exception.attributes["exception.message"]
    assert "[REDACTED:openai_key]" in exception.attributes["exception.stacktrace"]
    assert out.links[0].context == other
    assert out.resource.attributes["deployment.note"] == "deployed with [REDACTED:openai_key]"
    assert resource.attributes["deployment.note"] == f"deployed with {key}"
    assert (out.context, out.parent, out.kind, out.start_time, out.end_time) == (
        span.context,
        span.parent,
        span.kind,
        span.start_time,
        span.end_time,
    )
    assert out.instrumentation_scope == span.instrumentation_scope


def test_span_name_event_names_links_and_resource_are_scrubbed() -> None:
    keys = ["sk-" + rand(ALNUM, 48) for _ in range(5)]
    other = SpanContext(trace_id=0x1234, span_id=0x5678, is_remote=True, trace_flags=TraceFlags(1))
    span = make_span(
        {A.OPERATION_NAME: "chat"},
        name=f"chat {keys[0]}",
        events=[(f"retry with {keys[1]}", {}), (f"log {keys[2]}", {"n": 1})],
        links=[Link(other, {"origin": f"key {keys[3]}", "ok": "x"})],
        resource=Resource.create({"service.name": "shop", "deploy.note": f"with {keys[4]}"}),
    )
    out = redact(span)
    assert out.name == "chat [REDACTED:openai_key]"
    assert [e.name for e in out.events] == ["retry with [REDACTED:openai_key]", "log [REDACTED:openai_key]"]
    assert dict(out.events[1].attributes) == {"n": 1} and out.events[0].timestamp == span.events[0].timestamp
    assert dict(out.links[0].attributes) == {"origin": "key [REDACTED:openai_key]", "ok": "x"}
    assert out.resource.attributes["deploy.note"] == "with [REDACTED:openai_key]"
    assert not any(k in repr(snapshot(out)) for k in keys)
    assert redact(out) is out
    assert span.name == f"chat {keys[0]}" and span.events[0].name == f"retry with {keys[1]}"


def test_bytes_values_are_decoded_and_redacted_as_text() -> None:
    key = "sk-proj-" + rand(ALNUM, 60)
    other = SpanContext(trace_id=0x1234, span_id=0x5678, is_remote=True, trace_flags=TraceFlags(1))
    span = make_span(
        {
            "otel_llm.metadata.note": f"key {key}".encode(),
            "otel_llm.metadata.notes": (f"key {key}".encode(), b"clean", 3),
            "otel_llm.metadata.raw": b"\xff\xfe" + key.encode() + b"\x00",  # not UTF-8
            "otel_llm.metadata.clean": b"plain",
            "otel_llm.metadata.openai_api_key": b"opaque",
            "http.request.header.authorization": (b"Bearer x",),
            A.USER_ID: b"customer-1234",
            "input.value": b"my diagnosis",
            A.INPUT_MESSAGES: messages(_text_message(f"hi {key}")).encode(),
            "llm.prompts": (b"first prompt", "second"),
        },
        events=[("log", {"message": f"retry {key}".encode()})],
        links=[Link(other, {"origin": key.encode()})],
        resource=Resource.create({"service.name": "shop", "deploy.key": key.encode()}),
    )
    out = redact(span, identifiers="hash")
    a = out.attributes
    assert a["otel_llm.metadata.note"] == "key [REDACTED:openai_key]"
    assert a["otel_llm.metadata.notes"] == ("key [REDACTED:openai_key]", "clean", 3)
    assert a["otel_llm.metadata.raw"] == "\ufffd\ufffd[REDACTED:openai_key]\x00"
    assert a["otel_llm.metadata.clean"] == "plain"  # bytes always come back as str
    assert a["otel_llm.metadata.openai_api_key"] == "[REDACTED]"
    assert a["http.request.header.authorization"] == ("[REDACTED]",)
    assert a[A.USER_ID] == "sha256:" + hashlib.sha256(b"customer-1234").hexdigest()[:32]  # as the str would be
    assert a["input.value"] == "my diagnosis"
    assert json.loads(a[A.INPUT_MESSAGES])[0]["parts"][0]["content"] == "hi [REDACTED:openai_key]"
    assert a["llm.prompts"] == ("first prompt", "second")
    assert out.events[0].attributes["message"] == "retry [REDACTED:openai_key]"
    assert out.links[0].attributes["origin"] == "[REDACTED:openai_key]"
    assert out.resource.attributes["deploy.key"] == "[REDACTED:openai_key]"
    dump = repr(snapshot(out))
    assert key not in dump
    assert not any_bytes(snapshot(out))  # every bytes value came back as str
    assert redact(out, identifiers="hash") is out
    dropped = redact(span, content="drop").attributes
    assert dropped["input.value"] == "[redacted 12 chars]"
    assert dropped["llm.prompts"] == ("[redacted 12 chars]", "[redacted 6 chars]")
    assert json.loads(dropped[A.INPUT_MESSAGES])[0]["parts"][0]["content"] == placeholder(f"hi {key}")
    assert redact(span, secrets=False).attributes["otel_llm.metadata.note"] == f"key {key}"  # decoded all the same


class Note(str):
    """A str subclass (as an enum member would be): the SDK keeps it as it is."""


def test_mapping_and_nested_values_are_walked() -> None:
    """The SDK keeps mappings and nested sequences as attribute values (extended attributes)."""
    key = "sk-" + rand(ALNUM, 48)
    span = make_span(
        {
            "otel_llm.metadata.config": {"api": {"key": key, "retries": 3}, f"by {key}": [b"x", key]},
            "otel_llm.metadata.list": [{"key": key}, {"ok": "fine"}],  # a tuple holding dicts: not hashable
            "otel_llm.metadata.nested": [["a", key], [1, 2]],
            "otel_llm.metadata.secret": {"a": "b"},
            "input.value": {"diagnosis": "cancer"},
            "output.value": [{"text": "cancer"}, "ok"],
            "plain": {"a": 1},
            "otel_llm.metadata.subclass": Note(f"key {key}"),
        }
    )
    out = redact(span)
    a = out.attributes
    assert a["otel_llm.metadata.subclass"] == "key [REDACTED:openai_key]"
    assert a["otel_llm.metadata.config"] == {
        "api": {"key": "[REDACTED:openai_key]", "retries": 3},
        "by [REDACTED:openai_key]": ("x", "[REDACTED:openai_key]"),
    }
    assert a["otel_llm.metadata.list"] == ({"key": "[REDACTED:openai_key]"}, {"ok": "fine"})
    assert a["otel_llm.metadata.nested"] == (("a", "[REDACTED:openai_key]"), (1, 2))
    assert a["otel_llm.metadata.secret"] == "[REDACTED]"
    assert a["input.value"] == {"diagnosis": "cancer"} and a["plain"] == {"a": 1}
    assert key not in repr(snapshot(out))
    assert redact(out) is out
    dropped = redact(span, content="drop").attributes
    assert dropped["input.value"] == placeholder({"diagnosis": "cancer"})  # keys may be content too
    assert dropped["output.value"] == (placeholder({"text": "cancer"}), "[redacted 2 chars]")
    clean = make_span({"otel_llm.metadata.list": [{"ok": "fine"}], "m": {"a": ("b",)}})
    assert redact(clean) is clean


def test_clean_spans_come_back_as_the_same_object_and_resources_are_redacted_once() -> None:
    redactor = Redactor(RedactionSettings(pii=("email", "phone", "card")))
    clean = make_span(
        {A.OPERATION_NAME: "chat", A.REQUEST_MODEL: "gpt-4o", A.USAGE_INPUT_TOKENS: 10, "otel_llm.tags": ("a", "b")}
    )
    assert redactor.redact(clean) is clean
    assert redactor.redact(clean) is clean  # cached path too
    shared = Resource.create({"host.note": "admin@example.org"})
    first = redactor.redact(make_span({"a": "1"}, resource=shared))
    second = redactor.redact(make_span({"a": "2"}, resource=shared))
    assert first.resource is second.resource and first.resource is not shared
    assert first.resource.attributes["host.note"] == "[EMAIL]"


def test_dropped_counts_survive_redaction() -> None:
    limits = SpanLimits(max_span_attributes=2, max_events=1)
    span = make_span(
        {"a": "1", "b": "2", "c": "jane@example.org"}, events=[("e1", {}), ("e2", {"x": "y"})], limits=limits
    )
    assert span.dropped_attributes == 1 and span.dropped_events == 1  # the SDK dropped "a" and "e1"
    out = redact(span, pii=("email",))
    assert dict(out.attributes) == {"b": "2", "c": "[EMAIL]"}
    assert out.dropped_attributes == 1 and out.dropped_events == 1


def test_concurrent_use_gives_the_same_results() -> None:
    redactor = Redactor(RedactionSettings(pii=("email", "phone", "card"), identifiers="hash", content="drop"))
    spans = [
        content_span(**{A.USER_ID: f"user-{i}", "note": f"mail user{i}@example.org key sk-{rand(ALNUM, 40)}"})
        for i in range(40)
    ]
    expected = [snapshot(Redactor(redactor.settings).redact(s)) for s in spans]
    results: list[list[Any]] = [[] for _ in range(4)]

    def work(slot: int) -> None:
        for _ in range(5):
            results[slot].append([snapshot(redactor.redact(s)) for s in spans])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(run == expected for slot in results for run in slot)


# -- Settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "field", "value"),
    [
        ({"content": "hide"}, "content", "'hide'"),
        ({"media": "blur"}, "media", "'blur'"),
        ({"identifiers": "encrypt"}, "identifiers", "'encrypt'"),
        ({"pii": ("email", "ssn")}, "pii", "'ssn'"),
        ({"pii": "email"}, "pii", "'email'"),
        ({"secret_patterns": ("ACME-(\\d+",)}, "secret_patterns[0]", "'ACME-(\\\\d+'"),
        ({"secret_patterns": ("x*",)}, "secret_patterns[0]", "'x*'"),
        ({"max_content_chars": 10}, "max_content_chars", "10"),
        ({"max_content_chars": True}, "max_content_chars", "True"),
        ({"max_content_chars": "100"}, "max_content_chars", "'100'"),
        ({"identifier_attributes": ("us*er.id",)}, "identifier_attributes", "'us*er.id'"),
        ({"identifier_attributes": ("*",)}, "identifier_attributes", "'*'"),
        ({"secrets": "yes"}, "secrets", "'yes'"),
        ({"allow_request_override": 1}, "allow_request_override", "1"),
        ({"hash_key": ""}, "hash_key", "non-empty"),
    ],
)
def test_invalid_settings_name_the_field_value_and_expectation(
    settings: dict[str, Any], field: str, value: str
) -> None:
    with pytest.raises(ValueError) as info:
        RedactionSettings(**settings)
    message = str(info.value)
    assert message.startswith(f"redaction.{field}: ") and value in message and "expected" in message


def test_settings_accept_lists_and_compare_by_value() -> None:
    settings = RedactionSettings(pii=["email"], secret_patterns=[r"ACME-\d+"], identifier_attributes=["user.id"])  # type: ignore[arg-type]
    assert settings.pii == ("email",) and settings.secret_patterns == (r"ACME-\d+",)
    assert settings == RedactionSettings(
        pii=("email",), secret_patterns=(r"ACME-\d+",), identifier_attributes=("user.id",)
    )
    assert RedactionSettings(max_content_chars=64).max_content_chars == 64


def test_tool_execution_arguments_and_result_are_content() -> None:
    """execute_tool spans (GenAI conventions) carry the call's arguments and result: user data."""
    arguments, result = '{"account": "4711", "note": "for my mother"}', '{"balance": 1234.5}'
    span = make_span(
        {A.OPERATION_NAME: "execute_tool", "gen_ai.tool.call.arguments": arguments, "gen_ai.tool.call.result": result}
    )
    out = redact(span, content="drop")
    assert out.attributes["gen_ai.tool.call.arguments"] == placeholder(arguments)
    assert out.attributes["gen_ai.tool.call.result"] == placeholder(result)
    assert redact(span, content="keep").attributes["gen_ai.tool.call.arguments"] == arguments
