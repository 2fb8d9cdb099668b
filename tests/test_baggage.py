"""Labels crossing services in W3C baggage: only the keys asked for, and untrusted input kept in bounds.

Two in-process services over real HTTP on loopback. Service A (stdlib ``http.server``) enters an
``otel_llm.context`` block and calls service B with ``opentelemetry.propagate.inject`` headers.
Service B (ASGI on uvicorn, behind the OpenTelemetry ASGI middleware, which extracts the incoming
baggage) makes an openai call; its GenAI span is what the tests read.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry import baggage, propagate
from opentelemetry import context as otel_context

from otel_llm import request_context
from otel_llm.request_context import (
    MAX_BAGGAGE_TAGS,
    Policy,
    configure_policy,
    context,
    current,
    reset_policy,
)
from tests.servers import Uvicorn
from tests.support import Telemetry, chat_completion_payload, chat_message, json_response, make_client

pytest.importorskip("uvicorn")
pytest.importorskip("opentelemetry.instrumentation.asgi")

MESSAGES = [{"role": "user", "content": "Hello"}]
PAYLOAD = chat_completion_payload((chat_message("Hi there."), "stop"))
ALL_KEYS = ["tags", "user", "session", "tenant"]
UPSTREAM = {"tenant_id": "team-1", "tags": ["chargeback"], "user_id": "u-7"}
LABEL_KEYS = {"otel_llm.tags", "user.id", "gen_ai.conversation.id", "otel_llm.tenant.id"}


@pytest.fixture(autouse=True)
def clean_policy() -> Iterator[None]:
    saved = reset_policy(Policy())
    yield
    reset_policy(saved)


def labels(attributes: Any) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in attributes.items() if k in LABEL_KEYS}


# -- the two services -----------------------------------------------------------------------------------




def service_b(tracer_provider: Any) -> Any:
    """``GET /ask`` makes one openai call and answers with the baggage header it got and the labels it saw.

    ``GET /ask?local=1`` makes the call inside a block of its own (``tags=["service-b"]``).
    """
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    client = make_client(lambda request: json_response(PAYLOAD), is_async=True)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if b"local=1" in scope.get("query_string", b""):
            async with context(tags=["service-b"]):
                await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
                seen = current()
        else:
            await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            seen = current()
        body = json.dumps(
            {"baggage": headers.get("baggage"), "labels": labels(seen.attributes) if seen else {}}
        ).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return OpenTelemetryMiddleware(app, tracer_provider=tracer_provider)


class ServiceA:
    """``GET /run``: enters ``context(**self.block)`` and calls B, injecting the current context's headers."""

    def __init__(self, b_url: str) -> None:
        self.b_url = b_url
        self.block: dict[str, Any] = dict(UPSTREAM)
        self.b_path = "/ask"
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with context(**service.block):
                    headers: dict[str, str] = {}
                    propagate.inject(headers)
                    request = urllib.request.Request(service.b_url + service.b_path, headers=headers)
                    with urllib.request.urlopen(request, timeout=10) as response:
                        body = response.read()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> ServiceA:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def run(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/run", timeout=10) as response:
            assert response.status == 200
            return json.loads(response.read())


@pytest.fixture
def services(telemetry: Telemetry) -> Iterator[tuple[ServiceA, str]]:
    with Uvicorn(service_b(telemetry.tracer_provider)) as b_url, ServiceA(b_url) as a:
        yield a, b_url


def genai_span(telemetry: Telemetry) -> Any:
    (span,) = [s for s in telemetry.spans() if s.name == "chat gpt-4o"]
    return span


# -- across two services ---------------------------------------------------------------------------------


def test_labels_set_upstream_reach_the_downstream_genai_span(services: Any, telemetry: Telemetry) -> None:
    a, _ = services
    configure_policy(baggage_keys=ALL_KEYS)
    answer = a.run()
    expected = {"otel_llm.tenant.id": "team-1", "otel_llm.tags": ["chargeback"], "user.id": "u-7"}
    assert labels(genai_span(telemetry).attributes) == expected
    assert answer["labels"] == expected
    entries = dict(pair.split("=", 1) for pair in answer["baggage"].split(","))
    assert entries == {"otel_llm.tags": "chargeback", "user.id": "u-7", "otel_llm.tenant.id": "team-1"}


def test_downstream_block_adds_to_what_arrived(services: Any, telemetry: Telemetry) -> None:
    a, _ = services
    configure_policy(baggage_keys=ALL_KEYS)
    a.b_path = "/ask?local=1"
    a.block = {**UPSTREAM, "session_id": "conv 1/2, ü"}  # encoded on the wire, intact on arrival
    a.run()
    assert labels(genai_span(telemetry).attributes) == {
        "otel_llm.tenant.id": "team-1",
        "otel_llm.tags": ["chargeback", "service-b"],
        "user.id": "u-7",
        "gen_ai.conversation.id": "conv 1/2, ü",
    }


def test_nothing_propagates_by_default(services: Any, telemetry: Telemetry) -> None:
    a, _ = services
    answer = a.run()
    assert answer == {"baggage": None, "labels": {}}
    assert labels(genai_span(telemetry).attributes) == {}


def test_only_the_configured_keys_travel(services: Any, telemetry: Telemetry) -> None:
    a, _ = services
    configure_policy(baggage_keys="tenant")
    answer = a.run()
    assert answer["baggage"] == "otel_llm.tenant.id=team-1"
    assert labels(genai_span(telemetry).attributes) == {"otel_llm.tenant.id": "team-1"}


def test_sender_opt_in_is_read_only_where_the_receiver_allows_it(services: Any, telemetry: Telemetry) -> None:
    a, _ = services
    a.block = {**UPSTREAM, "propagate": ["tenant", "tags"]}  # this block asks; the policy (both sides) says nothing
    answer = a.run()
    assert answer["baggage"] == "otel_llm.tags=chargeback,otel_llm.tenant.id=team-1"
    assert labels(genai_span(telemetry).attributes) == {}  # the receiver did not opt in

    configure_policy(baggage_keys=["tenant"])  # now it reads the tenant, and only that
    a.run()
    latest = [s for s in telemetry.spans() if s.name == "chat gpt-4o"][-1]
    assert labels(latest.attributes) == {"otel_llm.tenant.id": "team-1"}


def test_block_can_opt_out_of_the_configured_keys(services: Any, telemetry: Telemetry) -> None:
    a, _ = services
    configure_policy(baggage_keys=ALL_KEYS)
    a.block = {**UPSTREAM, "propagate": False}
    assert a.run() == {"baggage": None, "labels": {}}


# -- hostile baggage ----------------------------------------------------------------------------------------


def ask_b(b_url: str, baggage_header: str) -> dict[str, Any]:
    request = urllib.request.Request(b_url + "/ask", headers={"baggage": baggage_header})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


HOSTILE = [
    pytest.param("otel_llm.tenant.id=" + "x" * 3000, {}, id="huge-tenant"),
    pytest.param("user.id=" + "u" * 257 + ",otel_llm.tenant.id=ok", {"otel_llm.tenant.id": "ok"}, id="over-limit-id"),
    pytest.param("otel_llm.tenant.id=" + "y" * 9000, {}, id="header-over-8k"),
    pytest.param(
        "otel_llm.tags=" + urllib.parse.quote_plus(",".join(f"t{i}" for i in range(500))),
        {"otel_llm.tags": [f"t{i}" for i in range(MAX_BAGGAGE_TAGS)]},
        id="too-many-tags",
    ),
    pytest.param(
        "otel_llm.tags=" + urllib.parse.quote_plus("ok,%01ctl,%E2%80%AEbidi,%FF%FE,," + "z" * 129 + ",%20fine%20"),
        {"otel_llm.tags": ["ok", "fine"]},
        id="bad-tags-skipped",
    ),
    pytest.param("user.id=a%0D%0Ab,gen_ai.conversation.id=%00", {}, id="control-characters"),
    pytest.param("garbage;;;===,,,=,user.id", {}, id="malformed"),
    pytest.param(
        "user.id=%%%zz,otel_llm.tenant.id=t%2", {"user.id": "%%%zz", "otel_llm.tenant.id": "t%2"}, id="bad-escapes"
    ),
    pytest.param("otel_llm.tenant.id=   ,user.id=", {}, id="blank"),
]


@pytest.mark.parametrize(("header", "expected"), HOSTILE)
def test_hostile_baggage_is_capped_or_ignored(
    services: Any, telemetry: Telemetry, header: str, expected: dict[str, Any]
) -> None:
    _, b_url = services
    configure_policy(baggage_keys=ALL_KEYS)
    answer = ask_b(b_url, header)
    assert answer["labels"] == expected
    assert labels(genai_span(telemetry).attributes) == expected


# -- in-process (no HTTP) ---------------------------------------------------------------------------------


def with_baggage(**entries: Any) -> Any:
    ctx = otel_context.get_current()
    for key, value in entries.items():
        ctx = baggage.set_baggage(key.replace("__", "."), value, ctx)
    return otel_context.attach(ctx)


def test_local_blocks_win_over_baggage_and_tags_unite() -> None:
    configure_policy(baggage_keys=ALL_KEYS)
    token = with_baggage(otel_llm__tenant__id="from-upstream", otel_llm__tags="up", user__id="u-up")
    try:
        assert labels(current().attributes) == {
            "otel_llm.tenant.id": "from-upstream",
            "otel_llm.tags": ["up"],
            "user.id": "u-up",
        }
        with context(tenant_id="local", tags=["mine"], propagate=False):
            scope = current()
            assert scope.tenant_id == "local"
            assert labels(scope.attributes) == {
                "otel_llm.tenant.id": "local",
                "otel_llm.tags": ["up", "mine"],
                "user.id": "u-up",
            }
            assert current() is scope  # merged once, then cached
    finally:
        otel_context.detach(token)
    assert current() is None


def test_block_writes_merged_tags_and_restores_the_baggage_on_exit() -> None:
    configure_policy(baggage_keys=["tags", "tenant"])
    token = with_baggage(otel_llm__tags="up")
    try:
        with context(tags=["a,b", "100%"], tenant_id="t"):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            with context(tenant_id="t"):  # nothing new: the baggage is left as it is
                assert baggage.get_all() == {"otel_llm.tags": "up,a%2Cb,100%25", "otel_llm.tenant.id": "t"}
        assert baggage.get_all() == {"otel_llm.tags": "up"}
    finally:
        otel_context.detach(token)
    # and the receiving side decodes the same tags
    token = otel_context.attach(propagate.extract(carrier))
    try:
        assert current().attributes["otel_llm.tags"] == ("up", "a,b", "100%")
    finally:
        otel_context.detach(token)


def test_values_the_receiver_would_refuse_are_not_sent(caplog: Any) -> None:
    configure_policy(baggage_keys=ALL_KEYS)
    with context(user_id="u" * 300, tenant_id="ok", tags=["t" * 200, "fine"]):
        assert dict(baggage.get_all()) == {"otel_llm.tenant.id": "ok", "otel_llm.tags": "fine"}
    assert "user is longer than 256 characters" in caplog.text


def test_odd_in_process_baggage_values_are_ignored() -> None:
    configure_policy(baggage_keys=ALL_KEYS)
    token = with_baggage(otel_llm__tenant__id=42, otel_llm__tags=["not", "a", "string"], user__id=None)
    try:
        assert current() is None
    finally:
        otel_context.detach(token)


def test_unconfigured_keys_and_other_baggage_are_not_read() -> None:
    configure_policy(baggage_keys=["user"])
    token = with_baggage(otel_llm__tenant__id="t", user__id="u", session="s")
    try:
        assert labels(current().attributes) == {"user.id": "u"}
    finally:
        otel_context.detach(token)


def test_parse_caches_stay_bounded() -> None:
    configure_policy(baggage_keys=ALL_KEYS)
    reader = request_context._reader
    assert reader is not None
    for i in range(600):
        token = with_baggage(otel_llm__tenant__id=f"t-{i}")
        try:
            with context(tags=["x"]):
                assert current().tenant_id == f"t-{i}"
        finally:
            otel_context.detach(token)
    assert len(reader._layers) <= 256 and len(reader._merged) <= 256
    token = with_baggage(otel_llm__tenant__id="z" * 250, otel_llm__tags=",".join(["q" * 100] * 30))
    try:
        size = len(reader._layers)
        assert current().tenant_id == "z" * 250
        assert len(reader._layers) == size  # long values are parsed each time, never kept
    finally:
        otel_context.detach(token)


async def test_baggage_follows_asyncio_tasks() -> None:
    configure_policy(baggage_keys=["tenant"])

    async def read() -> str | None:
        await asyncio.sleep(0)
        scope = current()
        return scope.tenant_id if scope else None

    with context(tenant_id="t-task"):
        task = asyncio.create_task(read())
    assert await task == "t-task"
