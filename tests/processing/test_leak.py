"""The leak test: secrets and PII planted everywhere never leave the process through any destination.

Real openai SDK calls (content captured) with planted values in prompts, system instructions,
responses, tool-call arguments, metadata, user ids, captured request headers and error messages go
through a configuration with every exporter type: OTLP/gRPC and OTLP/HTTP to real receivers on
loopback, the JSON Lines file, the webhook, and S3 on moto in server mode. Every byte each
destination received is scanned for every planted value. A control exporter before the pipeline
proves the values were really on the spans.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider

import otel_llm
from tests.servers import http_sink, moto_s3, otlp_grpc_sink, otlp_http_spans, s3_objects, wait_for
from tests.support import Telemetry, chat_completion_payload, chat_message, http, instrument, json_response, make_client


def _rand(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits

# value planted → the part of it that must never be exported
PLANTED: dict[str, str] = {}


def plant(kind: str, full: str, secret_part: str | None = None) -> str:
    PLANTED[kind] = secret_part or full
    return full


OPENAI_KEY = plant("openai_key", "sk-proj-" + _rand(ALNUM, 48))
OPENAI_KEY_IN_ERROR = plant("openai_key_in_error", "sk-" + _rand(ALNUM, 40))
ANTHROPIC_KEY = plant("anthropic_key", "sk-ant-api03-" + _rand(ALNUM + "-_", 86) + "AA")
AWS_ACCESS_KEY = plant("aws_access_key", "AKIA" + _rand(UPPER, 16))
AWS_SECRET_VALUE = _rand(ALNUM + "/+", 40)
AWS_SECRET = plant("aws_secret", f"aws_secret_access_key={AWS_SECRET_VALUE}", AWS_SECRET_VALUE)
BEARER_TOKEN = _rand(ALNUM, 32)
BEARER = plant("bearer", f"Bearer {BEARER_TOKEN}", BEARER_TOKEN)
JWT = plant("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ." + _rand(ALNUM, 43))
PEM_BODY = _rand(ALNUM + "+/", 64)
PEM = plant("private_key", f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n{_rand(ALNUM, 64)}\n-----END RSA PRIVATE KEY-----", PEM_BODY)
GITHUB = plant("github_token", "ghp_" + _rand(ALNUM, 36))
EMAIL = plant("email", "jane.doe." + _rand(string.ascii_lowercase, 6) + "@example.org")
PHONE = plant("phone", "+44 20 7946 0958")
CARD = plant("card", "4111 1111 1111 1111")
CARD_PLAIN = plant("card_plain", "5500005555555559")
USER_ID = plant("user_id", "customer-" + _rand(string.digits, 8))
TICKET = plant("custom_pattern", "ACME-" + _rand(string.digits, 6))

REDACTION = {
    "secrets": True,
    "secret_patterns": [r"ACME-\d{6}"],
    "pii": ["email", "phone", "card"],
    "identifiers": "hash",
    "identifier_attributes": ["user.id", "otel_llm.metadata.contact"],
    "hash_key": "leak-test-key",
}


def handler(request: Any) -> Any:
    body = json.loads(request.content)
    if body["messages"][-1]["content"].startswith("fail"):
        return http.Response(
            401,
            json={
                "error": {
                    "message": f"Incorrect API key provided: {OPENAI_KEY_IN_ERROR}. You can find your API key at https://platform.openai.com/account/api-keys.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        )
    tool_call = {
        "id": "call_abc123",
        "type": "function",
        "function": {"name": "charge_card", "arguments": json.dumps({"card": CARD, "email": EMAIL})},
    }
    text = f"Use token {JWT} with {GITHUB}; access key {AWS_ACCESS_KEY} and card {CARD_PLAIN}."
    return json_response(chat_completion_payload((chat_message(text, tool_calls=[tool_call]), "tool_calls")))


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with otlp_grpc_sink() as grpc_sink, http_sink() as otlp_http, http_sink() as webhook, moto_s3() as s3:
        import boto3

        boto3.client(
            "s3", endpoint_url=s3, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        ).create_bucket(Bucket="llm-logs")
        yield {"grpc": grpc_sink, "otlp_http": otlp_http, "webhook": webhook, "s3": s3, "file": tmp_path / "calls.jsonl"}


def config(servers: dict[str, Any], content: str) -> dict[str, Any]:
    queue = {"flush_interval": 0.05}
    return {
        "redaction": {**REDACTION, "content": content},
        "destinations": {
            "grpc": {"type": "otlp", "endpoint": servers["grpc"].endpoint, "insecure": True, "queue": queue},
            "otlp-http": {
                "type": "otlp",
                "protocol": "http/protobuf",
                "endpoint": servers["otlp_http"].url,
                "queue": queue,
                # one destination drops content whatever the default says
                "redaction": {"content": "drop"},
            },
            "file": {"type": "file", "path": str(servers["file"]), "queue": queue},
            "webhook": {"type": "webhook", "url": servers["webhook"].url + "/ingest", "queue": queue},
            "s3": {
                "type": "s3",
                "bucket": "llm-logs",
                "prefix": "calls",
                "endpoint_url": servers["s3"],
                "region": "us-east-1",
                "access_key_id": "test",
                "secret_access_key": "test",
                "tenant_prefix": True,
                "queue": queue,
            },
        },
    }


def run_calls(telemetry: Telemetry) -> None:
    client = make_client(handler)
    tracer = telemetry.tracer_provider.get_tracer("app")
    # an app span carrying captured request headers, as web framework instrumentation records them
    with (
        tracer.start_as_current_span("POST /chat", attributes={"http.request.header.authorization": (BEARER,)}),
        otel_llm.context(
            user_id=USER_ID,
            tenant_id="team-1",
            tags=["leak-test"],
            metadata={"contact": EMAIL, "note": f"call me on {PHONE} re {TICKET}", "aws": AWS_SECRET},
        ),
    ):
        client.chat.completions.create(
            model="gpt-4o",
            messages=[
                {"role": "system", "content": f"Internal key {ANTHROPIC_KEY}.\n{PEM}"},
                {"role": "user", "content": f"My key is {OPENAI_KEY}, mail {EMAIL}, phone {PHONE}, card {CARD}, {TICKET}"},
            ],
        )
        with pytest.raises(Exception, match="Incorrect API key"):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "fail please"}])


@pytest.mark.parametrize("content", ["keep", "drop"])
def test_no_planted_value_leaves_through_any_destination(servers: dict[str, Any], content: str) -> None:
    telemetry = Telemetry()  # its in-memory exporter sees spans before the pipeline: the control
    instrumentor = instrument(telemetry, capture_content="SPAN_ONLY")
    pipeline = otel_llm.configure(
        config(servers, content),
        tracer_provider=telemetry.tracer_provider,
        meter_provider=MeterProvider(),
        instrument=False,
    )
    try:
        run_calls(telemetry)
    finally:
        instrumentor.uninstrument()
    assert pipeline.force_flush(20_000)
    telemetry.tracer_provider.shutdown()

    # control: every planted value was on the spans before the pipeline
    raw = "\n".join(json.dumps(dict(s.attributes)) + s.status.description.__str__() + str([dict(e.attributes or {}) for e in s.events]) for s in telemetry.spans())
    raw = raw.replace("\\n", "\n")
    missing = [k for k, v in PLANTED.items() if v not in raw]
    assert not missing, f"planted values not on the spans: {missing}"

    assert wait_for(lambda: len(servers["grpc"].spans()) == 3)
    exported = {
        "otlp-grpc": b"".join(servers["grpc"].raw),
        "otlp-http": servers["otlp_http"].bodies(),
        "file": servers["file"].read_bytes(),
        "webhook": servers["webhook"].bodies(),
        "s3": b"\n".join(s3_objects(servers["s3"], "llm-logs").values()),
    }
    # each destination got the calls: 3 spans over OTLP (app span + 2 calls), 2 LLM call records elsewhere
    assert len(otlp_http_spans(servers["otlp_http"])) == 3
    assert len(servers["file"].read_text().splitlines()) == 2
    assert sum(len(json.loads(r.body)) for r in servers["webhook"].requests) == 2
    assert exported["s3"].count(b"\n") >= 1

    leaks = [
        (dest, kind)
        for dest, blob in exported.items()
        for kind, value in PLANTED.items()
        if value.encode() in blob or json.dumps(value)[1:-1].encode() in blob
    ]
    scanned = sum(len(b) for b in exported.values())
    print(f"\nleak test (content={content}): {len(PLANTED)} values planted, {scanned} bytes scanned, {len(leaks)} leaks")
    assert not leaks, leaks

    # redaction kept the facts: the records still say who (hashed), what and how much
    record = json.loads(servers["file"].read_text().splitlines()[0])
    assert record["user_id"].startswith("sha256:")
    assert record["usage"]["input_tokens"] == 19
    # content: structure and roles stay; the text is there (scrubbed) or replaced by a placeholder
    assert record["input_messages"][0]["role"] == "system"
    assert ("[redacted " in json.dumps(record["input_messages"])) is (content == "drop")
