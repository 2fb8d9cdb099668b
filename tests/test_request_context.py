"""otel_llm.context(...): labels and controls on every GenAI call inside a block, through the real SDKs.

Blocks as ``with``, ``async with`` and decorators (functions, coroutines, generators, async
generators), nesting, threads and asyncio tasks, ``no_log`` (no span, metrics still move), the
capture rules and the platform owner's policy.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from otel_llm.genai import GenAITelemetry
from otel_llm.genai.capture import CaptureMode
from otel_llm.request_context import (
    Policy,
    Scope,
    configure_policy,
    context,
    current,
    current_policy,
    policy_from_env,
    reset_policy,
)
from tests.anthropic_support import MODEL as ANTHROPIC_MODEL
from tests.anthropic_support import json_response as anthropic_json_response
from tests.anthropic_support import make_anthropic_client, message_payload
from tests.support import (
    Telemetry,
    assert_call_metrics,
    chat_completion_payload,
    chat_message,
    histogram_points,
    json_response,
    make_client,
)

MESSAGES = [{"role": "user", "content": "Hello"}]
PAYLOAD = chat_completion_payload((chat_message("Hi there."), "stop"))
LABEL_KEYS = {
    "otel_llm.tags",
    "user.id",
    "gen_ai.conversation.id",
    "otel_llm.tenant.id",
    "otel_llm.operation.name",
    "otel_llm.exclude_destinations",
}
METRIC_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "server.address": "api.openai.com",
    "server.port": 443,
}


@pytest.fixture(autouse=True)
def clean_policy() -> Iterator[None]:
    """Each test starts from the default policy whatever the environment says, and leaves it as found."""
    saved = reset_policy(Policy())
    yield
    reset_policy(saved)


def labels(span: Any) -> dict[str, Any]:
    """The span's otel-llm labels: tags, metadata, user, session, tenant, name, exclusions."""
    return {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in span.attributes.items()
        if k in LABEL_KEYS or k.startswith("otel_llm.metadata.")
    }


def chat(**kwargs: Any) -> Any:
    return make_client(lambda request: json_response(PAYLOAD), **kwargs)


def ask(client: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=MESSAGES)


# -- labels on spans ------------------------------------------------------------------------------


def test_every_label_lands_on_the_span(telemetry: Telemetry) -> None:
    client = chat()
    with context(
        tags=["chargeback", "beta"],
        metadata={"feature": "summarise", "attempt": 2, "ratio": 0.5, "cached": False},
        user_id="u-7",
        session_id="conv-42",
        tenant_id="team-1",
        name="summarise-ticket",
        exclude_destinations=["langfuse"],
    ):
        ask(client)
    span = telemetry.span()
    assert labels(span) == {
        "otel_llm.tags": ["chargeback", "beta"],
        "otel_llm.metadata.feature": "summarise",
        "otel_llm.metadata.attempt": 2,
        "otel_llm.metadata.ratio": 0.5,
        "otel_llm.metadata.cached": False,
        "user.id": "u-7",
        "gen_ai.conversation.id": "conv-42",
        "otel_llm.tenant.id": "team-1",
        "otel_llm.operation.name": "summarise-ticket",
        "otel_llm.exclude_destinations": ["langfuse"],
    }
    assert span.attributes["gen_ai.request.model"] == "gpt-4o"  # the call's own facts are untouched


def test_no_block_no_labels(telemetry: Telemetry) -> None:
    assert current() is None
    ask(chat())
    assert labels(telemetry.span()) == {}


def test_labels_stop_at_the_end_of_the_block_and_after_an_error(telemetry: Telemetry) -> None:
    client = chat()
    with pytest.raises(RuntimeError), context(tags=["inside"]):
        ask(client)
        raise RuntimeError("boom")
    assert current() is None
    ask(client)
    inside, after = telemetry.spans()
    assert labels(inside) == {"otel_llm.tags": ["inside"]}
    assert labels(after) == {}


def test_anthropic_call_carries_the_labels(atelemetry: Telemetry) -> None:
    client = make_anthropic_client(lambda request: anthropic_json_response(message_payload()), telemetry=atelemetry)
    with context(tags=["claude"], tenant_id="team-2", session_id="s-1"):
        client.messages.create(model=ANTHROPIC_MODEL, max_tokens=100, messages=MESSAGES)
    span = atelemetry.span()
    assert span.name == f"chat {ANTHROPIC_MODEL}"
    assert labels(span) == {
        "otel_llm.tags": ["claude"],
        "otel_llm.tenant.id": "team-2",
        "gen_ai.conversation.id": "s-1",
    }


# -- nesting ----------------------------------------------------------------------------------------


def test_nesting_merges_tags_and_metadata_and_inner_scalars_win(telemetry: Telemetry) -> None:
    client = chat()
    with context(tags=["a", "b"], metadata={"team": "search", "tier": "gold"}, user_id="outer", tenant_id="t-1"):
        ask(client)
        with context(
            tags=["b", "c"], metadata={"tier": "silver", "step": "rerank"}, user_id="inner", exclude_destinations=["x"]
        ):
            ask(client)
            with context(name="deepest", exclude_destinations=["y"]):
                ask(client)
        ask(client)
    outer, inner, deepest, outer_again = telemetry.spans()
    assert (
        labels(outer)
        == labels(outer_again)
        == {
            "otel_llm.tags": ["a", "b"],
            "otel_llm.metadata.team": "search",
            "otel_llm.metadata.tier": "gold",
            "user.id": "outer",
            "otel_llm.tenant.id": "t-1",
        }
    )
    assert labels(inner) == {
        "otel_llm.tags": ["a", "b", "c"],  # united, order kept, no duplicates
        "otel_llm.metadata.team": "search",
        "otel_llm.metadata.tier": "silver",  # inner wins per key
        "otel_llm.metadata.step": "rerank",
        "user.id": "inner",
        "otel_llm.tenant.id": "t-1",  # not said inside: inherited
        "otel_llm.exclude_destinations": ["x"],
    }
    assert labels(deepest) == {
        **labels(inner),
        "otel_llm.operation.name": "deepest",
        "otel_llm.exclude_destinations": ["x", "y"],  # exclusions add up
    }


def test_one_block_object_reused_and_nested_in_itself() -> None:
    block = context(tags=["r"])
    with block as first:
        with block as second:
            assert current() is second
            assert second.attributes["otel_llm.tags"] == ("r",)
        assert current() is first
    assert current() is None


def test_leaving_an_outer_block_also_leaves_an_inner_one_left_open() -> None:
    from opentelemetry import baggage

    configure_policy(baggage_keys=["tenant"])
    outer = context(tags=["outer"], tenant_id="t-outer")
    with outer:
        context(tenant_id="t-inner").__enter__()  # never exited
        assert baggage.get_baggage("otel_llm.tenant.id") == "t-inner"
    assert current() is None
    assert baggage.get_all() == {}


def test_inner_block_can_turn_no_log_off_again(telemetry: Telemetry) -> None:
    client = chat()
    with context(no_log=True):
        ask(client)
        with context(no_log=False, tags=["audited"]):
            ask(client)
    assert [labels(s) for s in telemetry.spans()] == [{"otel_llm.tags": ["audited"]}]


# -- decorators -----------------------------------------------------------------------------------


def test_decorated_function(telemetry: Telemetry) -> None:
    client = chat()

    @context(tags=["fn"], name="answer")
    def answer(question: str) -> str:
        return ask(client).choices[0].message.content

    assert answer.__name__ == "answer"
    assert answer("hi") == "Hi there."
    assert current() is None
    assert labels(telemetry.span()) == {"otel_llm.tags": ["fn"], "otel_llm.operation.name": "answer"}


async def test_decorated_coroutine_function(telemetry: Telemetry) -> None:
    client = chat(is_async=True)

    @context(tags=["coro"])
    async def answer() -> str:
        await asyncio.sleep(0)
        completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        return completion.choices[0].message.content

    assert await answer() == "Hi there."
    assert current() is None
    assert labels(telemetry.span()) == {"otel_llm.tags": ["coro"]}


def test_decorated_generator_is_in_force_at_each_step_and_not_between(telemetry: Telemetry) -> None:
    client = chat()
    seen: list[Any] = []

    @context(tags=["gen"])
    def steps() -> Iterator[str]:
        seen.append(current().attributes["otel_llm.tags"])
        ask(client)
        received = yield "first"
        seen.append((received, current().attributes["otel_llm.tags"]))
        ask(client)
        yield "second"
        return

    it = steps()
    assert current() is None  # making the generator runs nothing
    assert next(it) == "first"
    assert current() is None  # not leaked to the caller between yields
    with context(tags=["caller"]):  # resumed inside another block: the generator's labels add to it
        assert it.send("hello") == "second"
        assert current().attributes["otel_llm.tags"] == ("caller",)
    assert list(it) == []
    assert seen == [("gen",), ("hello", ("caller", "gen"))]
    first, second = telemetry.spans()
    assert labels(first) == {"otel_llm.tags": ["gen"]}
    assert labels(second) == {"otel_llm.tags": ["caller", "gen"]}


def test_decorated_generator_throw_close_and_return_value() -> None:
    log: list[Any] = []

    @context(tags=["gen"])
    def worker() -> Iterator[int]:
        try:
            while True:
                try:
                    yield 1
                except ValueError as exc:
                    log.append(("caught", str(exc), current().attributes["otel_llm.tags"]))
        finally:
            log.append(("closed", current().attributes["otel_llm.tags"]))

    it = worker()
    next(it)
    assert it.throw(ValueError("bad")) == 1
    assert current() is None
    it.close()
    assert log == [("caught", "bad", ("gen",)), ("closed", ("gen",))]

    @context(tags=["ret"])
    def delegate() -> Iterator[int]:
        yield 1
        return 42

    def outer() -> Iterator[int]:
        result = yield from delegate()
        log.append(result)

    assert list(outer()) == [1]
    assert log[-1] == 42


async def test_decorated_async_generator(telemetry: Telemetry) -> None:
    client = chat(is_async=True)
    seen: list[Any] = []

    @context(tags=["agen"], user_id="streamer")
    async def chunks() -> Any:
        for word in ("a", "b"):
            await asyncio.sleep(0)
            await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            seen.append(current().attributes["otel_llm.tags"])
            received = yield word
            seen.append(received)

    agen = chunks()
    assert await agen.__anext__() == "a"
    assert current() is None  # not leaked between yields
    assert await agen.asend("sent") == "b"
    with pytest.raises(StopAsyncIteration):
        await agen.__anext__()
    assert seen == [("agen",), "sent", ("agen",), None]
    assert [labels(s) for s in telemetry.spans()] == [{"otel_llm.tags": ["agen"], "user.id": "streamer"}] * 2

    @context(tags=["closing"])
    async def forever() -> Any:
        try:
            while True:
                yield 1
        finally:
            seen.append(("closed", current().attributes["otel_llm.tags"]))

    agen = forever()
    async for _ in agen:
        break
    await agen.aclose()
    assert seen[-1] == ("closed", ("closing",))

    @context(tags=["thrown"])
    async def catcher() -> Any:
        while True:
            try:
                yield 1
            except KeyError:
                seen.append(("caught", current().attributes["otel_llm.tags"]))

    agen = catcher()
    await agen.__anext__()
    assert await agen.athrow(KeyError("k")) == 1
    assert current() is None
    await agen.aclose()
    assert seen[-1] == ("caught", ("thrown",))


async def test_async_with(telemetry: Telemetry) -> None:
    client = chat(is_async=True)
    async with context(tags=["async-with"]) as scope:
        assert current() is scope
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert current() is None
    assert labels(telemetry.span()) == {"otel_llm.tags": ["async-with"]}


# -- threads and tasks ------------------------------------------------------------------------------


def test_concurrent_threads_each_see_their_own_block(telemetry: Telemetry) -> None:
    client = chat()
    barrier = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def worker(tenant: str) -> None:
        try:
            with context(tenant_id=tenant, tags=[tenant]):
                barrier.wait()  # both blocks are entered before either thread calls
                for _ in range(5):
                    ask(client)
                    assert current().tenant_id == tenant
                barrier.wait()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in ("team-a", "team-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    spans = telemetry.spans()
    assert len(spans) == 10
    for span in spans:
        tenant = span.attributes["otel_llm.tenant.id"]
        assert labels(span) == {"otel_llm.tenant.id": tenant, "otel_llm.tags": [tenant]}
    assert sorted(s.attributes["otel_llm.tenant.id"] for s in spans) == ["team-a"] * 5 + ["team-b"] * 5


def test_a_new_thread_starts_empty_unless_the_context_is_copied() -> None:
    seen: dict[str, Any] = {}

    def look(key: str) -> None:
        scope = current()
        seen[key] = scope.tenant_id if scope else None

    with context(tenant_id="t-1"):
        plain = threading.Thread(target=look, args=("plain",))
        copied = threading.Thread(target=contextvars.copy_context().run, args=(look, "copied"))
        plain.start()
        copied.start()
        plain.join()
        copied.join()
    assert seen == {"plain": None, "copied": "t-1"}


async def test_tasks_inherit_at_creation_and_do_not_cross_talk(telemetry: Telemetry) -> None:
    client = chat(is_async=True)

    async def call(tenant: str) -> str:
        with context(tenant_id=tenant):
            await asyncio.sleep(0)  # let the other tasks enter their blocks
            await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            await asyncio.sleep(0)
            return current().tenant_id

    with context(tags=["batch"]):
        results = await asyncio.gather(*(asyncio.create_task(call(f"team-{i}")) for i in range(4)))
    assert results == ["team-0", "team-1", "team-2", "team-3"]
    spans = telemetry.spans()
    assert sorted(labels(s)["otel_llm.tenant.id"] for s in spans) == results
    assert all(labels(s)["otel_llm.tags"] == ["batch"] for s in spans)  # inherited from the creating block

    async def enter_and_leave_open() -> None:
        context(tags=["task-only"]).__enter__()  # a task's changes stay in the task

    await asyncio.create_task(enter_and_leave_open())
    assert current() is None


async def test_to_thread_carries_the_block() -> None:
    def look() -> str | None:
        scope = current()
        return scope.tenant_id if scope else None

    with context(tenant_id="t-9"):
        assert await asyncio.to_thread(look) == "t-9"


async def test_one_decorated_coroutine_run_by_many_tasks(telemetry: Telemetry) -> None:
    client = chat(is_async=True)

    @context(tags=["shared"])
    async def handle(user: str) -> None:
        with context(user_id=user):
            await asyncio.sleep(0)
            await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    await asyncio.gather(*(handle(f"u-{i}") for i in range(5)))
    assert sorted(labels(s)["user.id"] for s in telemetry.spans()) == [f"u-{i}" for i in range(5)]
    assert all(labels(s)["otel_llm.tags"] == ["shared"] for s in telemetry.spans())


# -- no_log ---------------------------------------------------------------------------------------------


def test_no_log_leaves_no_span_but_metrics_move(telemetry: Telemetry) -> None:
    with context(no_log=True, tenant_id="team-1", tags=["secret"]):
        assert current().no_log
        completion = ask(chat())
    assert completion.choices[0].message.content == "Hi there."  # the caller's result is untouched
    assert telemetry.spans() == []
    assert telemetry.events() == []
    assert_call_metrics(telemetry, METRIC_ATTRIBUTES, input_tokens=19, output_tokens=10)


def test_no_log_streams_count_too(telemetry: Telemetry) -> None:
    from tests.support import sse, sse_response

    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-2024-08-06"}
    events = [
        {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}]},
        {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**chunk, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}},
    ]
    client = make_client(lambda request: sse_response(sse(events)))
    with context(no_log=True):
        stream = client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        assert [c.choices[0].delta.content for c in stream if c.choices] == ["Hi", None]
    assert telemetry.spans() == []
    assert_call_metrics(telemetry, METRIC_ATTRIBUTES, input_tokens=5, output_tokens=1, chunks=3)


def test_no_log_with_content_capture_records_no_content(telemetry_content: Telemetry) -> None:
    with context(no_log=True):
        ask(chat())
    assert telemetry_content.spans() == []
    assert telemetry_content.events() == []


class FixedPricer:
    """A stand-in for the Pricer: every call costs 0.25 USD."""

    def price(self, provider: Any, model: Any, attributes: Any, request_model: Any = None) -> dict[str, float]:
        return {"otel_llm.cost.usd": 0.25}


def test_no_log_still_counts_cost_per_tenant() -> None:
    t = Telemetry()
    g = GenAITelemetry("test", tracer_provider=t.tracer_provider, meter_provider=t.meter_provider)
    g.pricer = FixedPricer()  # type: ignore[assignment]
    request = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}
    with context(no_log=True, tenant_id="team-1"):
        call = g.start("chat", "gpt-4o", dict(request))
    call.set_usage(100, 20)
    call.end()
    assert t.spans() == []
    (cost,) = t.all_metrics()["otel_llm.client.cost"]
    assert cost.value == 0.25
    assert dict(cost.attributes) == {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "otel_llm.tenant.id": "team-1",
    }
    assert [c for _, c, _ in histogram_points(t, "gen_ai.client.operation.duration")] == [1]


def test_disable_no_log_policy_keeps_the_span(telemetry: Telemetry) -> None:
    configure_policy(disable_no_log=True)
    with context(no_log=True, tags=["wanted-quiet"]):
        assert not current().no_log
        ask(chat())
    assert labels(telemetry.span()) == {"otel_llm.tags": ["wanted-quiet"]}


@pytest.mark.parametrize(("value", "disabled"), [("true", True), ("1", True), ("false", False), ("", False)])
def test_policy_from_environment(monkeypatch: pytest.MonkeyPatch, value: str, disabled: bool) -> None:
    monkeypatch.setenv("OTEL_LLM_DISABLE_NO_LOG", value)
    monkeypatch.setenv("OTEL_LLM_ALLOW_CAPTURE_OVERRIDE", value)
    monkeypatch.setenv("OTEL_LLM_BAGGAGE_KEYS", "tenant, Tags")
    reset_policy()
    assert current_policy() == Policy(
        disable_no_log=disabled, allow_capture_override=disabled, baggage_keys=frozenset({"tenant", "tags"})
    )
    with context(no_log=True):
        assert current().no_log is not disabled


def test_bad_policy_values_are_reported(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OTEL_LLM_DISABLE_NO_LOG", "maybe")
    monkeypatch.setenv("OTEL_LLM_BAGGAGE_KEYS", "tenant,password")
    with caplog.at_level(logging.WARNING):
        policy = policy_from_env()
    assert policy == Policy(baggage_keys=frozenset({"tenant"}))
    assert "OTEL_LLM_DISABLE_NO_LOG='maybe' is not true or false" in caplog.text
    assert "'password' is not one of tags, user, session, tenant" in caplog.text


def test_configure_policy_returns_the_previous_one() -> None:
    before = configure_policy(allow_capture_override=True)
    assert before == Policy()
    assert configure_policy(baggage_keys=["user"]) == Policy(allow_capture_override=True)
    assert current_policy() == Policy(allow_capture_override=True, baggage_keys=frozenset({"user"}))


# -- content capture ------------------------------------------------------------------------------------


def has_content(span: Any) -> bool:
    return "gen_ai.input.messages" in span.attributes


def test_block_narrows_capture(telemetry_content: Telemetry) -> None:  # configured: SPAN_ONLY
    client = chat()
    with context(capture_content=False):
        ask(client)
    with context(capture_content="NO_CONTENT"):
        ask(client)
    ask(client)
    assert [has_content(s) for s in telemetry_content.spans()] == [False, False, True]


def test_block_cannot_widen_capture_unless_allowed(telemetry_content: Telemetry) -> None:
    client = chat()
    with context(capture_content="SPAN_AND_EVENT"):  # keeps the span part only
        ask(client)
    with context(capture_content="EVENT_ONLY"):  # nothing of it is allowed
        ask(client)
    assert [has_content(s) for s in telemetry_content.spans()] == [True, False]
    assert telemetry_content.events() == []

    configure_policy(allow_capture_override=True)
    with context(capture_content="SPAN_AND_EVENT"):
        ask(client)
    span = telemetry_content.spans()[-1]
    assert has_content(span)
    (event,) = telemetry_content.events()
    assert "gen_ai.input.messages" in event.attributes


def test_capture_off_by_default_stays_off_unless_allowed(telemetry: Telemetry) -> None:  # configured: NO_CONTENT
    client = chat()
    with context(capture_content=True):
        ask(client)
    configure_policy(allow_capture_override=True)
    with context(capture_content=True):
        ask(client)
    assert [has_content(s) for s in telemetry.spans()] == [False, True]


M = CaptureMode


@pytest.mark.parametrize(
    ("requested", "configured", "narrowed", "allowed"),
    [
        (M.NO_CONTENT, M.SPAN_AND_EVENT, M.NO_CONTENT, M.NO_CONTENT),
        (M.SPAN_ONLY, M.SPAN_AND_EVENT, M.SPAN_ONLY, M.SPAN_ONLY),
        (M.EVENT_ONLY, M.SPAN_AND_EVENT, M.EVENT_ONLY, M.EVENT_ONLY),
        (M.SPAN_AND_EVENT, M.SPAN_ONLY, M.SPAN_ONLY, M.SPAN_AND_EVENT),
        (M.SPAN_AND_EVENT, M.EVENT_ONLY, M.EVENT_ONLY, M.SPAN_AND_EVENT),
        (M.EVENT_ONLY, M.SPAN_ONLY, M.NO_CONTENT, M.EVENT_ONLY),
        (M.SPAN_ONLY, M.NO_CONTENT, M.NO_CONTENT, M.SPAN_ONLY),
        (None, M.SPAN_ONLY, M.SPAN_ONLY, M.SPAN_ONLY),
    ],
)
def test_capture_for(requested: Any, configured: Any, narrowed: Any, allowed: Any) -> None:
    assert Scope(capture=requested).capture_for(configured) is narrowed
    assert Scope(capture=requested, allow_capture_override=True).capture_for(configured) is allowed


def test_innermost_capture_setting_applies() -> None:
    configure_policy(allow_capture_override=True)
    with context(capture_content=False), context(capture_content="SPAN_ONLY"):
        assert current().capture_for(M.NO_CONTENT) is M.SPAN_ONLY


# -- arguments ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"tags": "solo"}, TypeError, "tags: expected a list of str, got str"),
        ({"tags": ["ok", 3]}, TypeError, "tags[1]: expected str, got int"),
        ({"tags": [""]}, ValueError, "tags[0]: empty string"),
        ({"tags": {"a": 1}}, TypeError, "tags: expected a list of str, got dict"),
        ({"metadata": ["a"]}, TypeError, "metadata: expected a mapping"),
        ({"metadata": {"a": {"nested": 1}}}, TypeError, "metadata['a']: expected str, int, float or bool"),
        ({"metadata": {"a": None}}, TypeError, "metadata['a']"),
        ({"metadata": {1: "x"}}, TypeError, "metadata: keys must be non-empty str"),
        ({"user_id": 42}, TypeError, "user_id: expected str or None, got int"),
        ({"session_id": b"s"}, TypeError, "session_id: expected str or None, got bytes"),
        ({"tenant_id": ""}, ValueError, "tenant_id: empty string"),
        ({"name": ["x"]}, TypeError, "name: expected str or None"),
        ({"no_log": "yes"}, TypeError, "no_log: expected bool or None, got str"),
        ({"exclude_destinations": "langfuse"}, TypeError, "exclude_destinations: expected a list of destination"),
        ({"capture_content": "everything"}, ValueError, "capture_content: 'everything' is not a capture mode"),
        ({"capture_content": 1}, TypeError, "capture_content: expected bool, str or CaptureMode, got int"),
        ({"propagate": ["tenant", "password"]}, ValueError, "propagate: ['password'] not among"),
    ],
)
def test_invalid_arguments_name_the_parameter(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error) as info:
        context(**kwargs)
    assert message in str(info.value)


def test_positional_use_is_explained() -> None:
    with pytest.raises(TypeError, match="keyword arguments only"):
        context(lambda: None)  # @otel_llm.context without parentheses
    with pytest.raises(TypeError, match="decorates a function"):
        context(tags=["x"])(42)  # type: ignore[arg-type]


def test_capture_spellings_accepted() -> None:
    for value, mode in [
        ("span_only", M.SPAN_ONLY),
        ("false", M.NO_CONTENT),
        (True, M.SPAN_ONLY),
        (M.EVENT_ONLY, M.EVENT_ONLY),
    ]:
        with context(capture_content=value) as scope:
            assert scope.capture is mode
