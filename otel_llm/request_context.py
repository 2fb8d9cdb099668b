"""Per-request context: labels and controls for every GenAI call inside a block.

``context(...)`` returns a block usable as ``with``, ``async with`` and as a decorator (on functions,
coroutine functions, generator functions and async generator functions). Every GenAI call made
while it is in force gets its labels (tags, metadata, user, session, tenant, operation name) as
span attributes and obeys its controls (``no_log``, ``exclude_destinations``, ``capture_content``).
Blocks nest: tags are united, metadata merged, and for everything else the inner value wins.

The state lives in a ``contextvars.ContextVar``, so it follows Python's own rules: asyncio tasks
start with a copy of the context they were created in, and a new thread starts empty (run it via
``contextvars.copy_context().run`` or use ``asyncio.to_thread`` to carry the block over).

The platform owner's policy is final: ``OTEL_LLM_DISABLE_NO_LOG`` makes ``no_log`` ineffective,
``OTEL_LLM_ALLOW_CAPTURE_OVERRIDE`` is required before a block may widen content capture, and
``OTEL_LLM_BAGGAGE_KEYS`` picks the labels that travel in W3C baggage (none by default).
See docs/context.md.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from opentelemetry import context as otel_context

from otel_llm._context_baggage import (
    MAX_BAGGAGE_ID_LENGTH,
    MAX_BAGGAGE_TAG_LENGTH,
    MAX_BAGGAGE_TAGS,
    _BaggageReader,
    _write_baggage,
)
from otel_llm._context_scope import (
    BAGGAGE_KEYS,
    Policy,
    Scope,
    _capture,
    _Labels,
    _metadata,
    _propagate,
    _scope,
    _strings,
    _text,
)
from otel_llm._safety import report
from otel_llm.genai.capture import CaptureMode

_log = logging.getLogger(__name__)

DISABLE_NO_LOG_ENV = "OTEL_LLM_DISABLE_NO_LOG"
ALLOW_CAPTURE_OVERRIDE_ENV = "OTEL_LLM_ALLOW_CAPTURE_OVERRIDE"
BAGGAGE_KEYS_ENV = "OTEL_LLM_BAGGAGE_KEYS"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

F = TypeVar("F", bound=Callable[..., Any])

# -- global policy --------------------------------------------------------------------------------


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        _log.warning("%s=%r is not true or false; using false", name, value)
    return False


def _parse_baggage_keys(value: Iterable[str] | str | None, source: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = value.split(",")
    keys = set()
    for raw in value:
        if not isinstance(raw, str):
            raise TypeError(f"{source}: expected label names (str), got {type(raw).__name__}")
        entry = raw.strip().lower()
        if not entry or entry == "none":
            continue
        if entry in BAGGAGE_KEYS:
            keys.add(entry)
        else:
            _log.warning("%s: %r is not one of %s; ignored", source, raw, ", ".join(BAGGAGE_KEYS))
    return frozenset(keys)


def policy_from_env() -> Policy:
    """The policy the environment variables describe."""
    return Policy(
        disable_no_log=_env_flag(DISABLE_NO_LOG_ENV),
        allow_capture_override=_env_flag(ALLOW_CAPTURE_OVERRIDE_ENV),
        baggage_keys=_parse_baggage_keys(os.environ.get(BAGGAGE_KEYS_ENV), BAGGAGE_KEYS_ENV),
    )


_policy: Policy = Policy()
_reader: _BaggageReader | None = None  # set when baggage keys are configured (see _install)


def current_policy() -> Policy:
    """The policy in force."""
    return _policy


def configure_policy(
    *,
    disable_no_log: bool | None = None,
    allow_capture_override: bool | None = None,
    baggage_keys: Iterable[str] | str | None = None,
    content_on_spans_only: bool | None = None,
) -> Policy:
    """Change the global policy (settings not given keep their value); returns the previous one.

    The environment is read once, at import; this is for configuration in code and for tests.
    Blocks entered before the change keep what they computed when entered.
    """
    previous = _policy
    changes: dict[str, Any] = {}
    if disable_no_log is not None:
        changes["disable_no_log"] = bool(disable_no_log)
    if allow_capture_override is not None:
        changes["allow_capture_override"] = bool(allow_capture_override)
    if baggage_keys is not None:
        changes["baggage_keys"] = _parse_baggage_keys(baggage_keys, "baggage_keys")
    if content_on_spans_only is not None:
        changes["content_on_spans_only"] = bool(content_on_spans_only)
    _install(Policy(**{**previous.__dict__, **changes}))
    return previous


def reset_policy(policy: Policy | None = None) -> Policy:
    """Put ``policy`` in force (None: re-read the environment); returns the previous one."""
    previous = _policy
    _install(policy if policy is not None else policy_from_env())
    return previous


def _install(policy: Policy) -> None:
    global _policy, _reader
    _reader = _BaggageReader(policy) if policy.baggage_keys else None
    _policy = policy


_CURRENT: ContextVar[Scope | None] = ContextVar("otel_llm.request_context", default=None)
# The entered blocks, innermost first: (block, scope before it, otel context token, next frame).
_FRAMES: ContextVar[tuple[Any, ...] | None] = ContextVar("otel_llm.request_context.frames", default=None)


def current() -> Scope | None:
    """The scope in force now (context blocks and allowed baggage), or None when there is none."""
    if _reader is None:
        return _CURRENT.get()
    return _reader.apply(_CURRENT.get())


# -- the block ----------------------------------------------------------------------------------------


class RequestContext:
    """One ``otel_llm.context(...)`` block: a context manager (sync and async) and a decorator.

    One object may be entered any number of times, nested, and from many threads and tasks at once.
    """

    __slots__ = ("_cache", "_labels")

    def __init__(self, labels: _Labels) -> None:
        self._labels = labels
        self._cache: tuple[Any, ...] = (None, None, None)  # (outer scope, policy, merged scope)

    def __repr__(self) -> str:
        return f"otel_llm.context({self._labels.attributes()!r})"

    def _scope(self, outer: Scope | None) -> Scope:
        cache = self._cache
        if cache[0] is outer and cache[1] is _policy:
            return cache[2]
        outer_labels = outer._labels if outer is not None else None
        scope = _scope(self._labels.under(outer_labels), _policy)
        self._cache = (outer, _policy, scope)
        return scope

    def __enter__(self) -> Scope:
        outer = _CURRENT.get()
        scope = self._scope(outer)
        token = None
        labels = scope._labels
        keys = labels.propagate if labels is not None and labels.propagate is not None else _policy.baggage_keys
        if keys and labels is not None:
            try:
                token = _write_baggage(labels, keys)
            except Exception as err:
                report("context.baggage", err)
        _FRAMES.set((self, outer, token, _FRAMES.get()))
        _CURRENT.set(scope)
        return scope

    def __exit__(self, *exc: Any) -> None:
        top = frame = _FRAMES.get()
        while frame is not None and frame[0] is not self:  # an inner block left open (manual __enter__)
            frame = frame[3]
        if frame is None:  # not entered in this context (e.g. a `with` around a generator's yield)
            return
        _FRAMES.set(frame[3])
        _CURRENT.set(frame[1])
        stop = frame[3]
        while top is not stop:  # innermost first, so the baggage is back to what it was before this block
            if top[2] is not None:
                otel_context.detach(top[2])
            top = top[3]

    async def __aenter__(self) -> Scope:
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(*exc)

    def __call__(self, func: F) -> F:
        """Decorate ``func``: the block is in force while its body runs (for generators: at each step)."""
        if inspect.isasyncgenfunction(func):
            wrapper: Any = _async_generator(self, func)
        elif inspect.isgeneratorfunction(func):
            wrapper = _generator(self, func)
        elif inspect.iscoroutinefunction(func):

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)

        elif callable(func):

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return func(*args, **kwargs)

        else:
            raise TypeError(f"otel_llm.context(...) decorates a function, not {type(func).__name__}")
        return functools.wraps(func)(wrapper)  # type: ignore[return-value]


def _generator(block: RequestContext, func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gen = func(*args, **kwargs)
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            while True:
                with block:  # in force while the body runs, not while the caller holds a value
                    try:
                        value = gen.send(to_send) if to_throw is None else gen.throw(to_throw)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        to_throw = None
                try:
                    to_send = yield value
                except GeneratorExit:
                    raise
                except BaseException as exc:
                    to_throw = exc
        finally:
            with block:
                gen.close()

    return wrapper


def _async_generator(block: RequestContext, func: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        agen = func(*args, **kwargs)
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            while True:
                with block:
                    try:
                        if to_throw is not None:
                            value = await agen.athrow(to_throw)
                        else:
                            value = await agen.asend(to_send)
                    except StopAsyncIteration:
                        return
                    finally:
                        to_throw = None
                try:
                    to_send = yield value
                except GeneratorExit:
                    raise
                except BaseException as exc:
                    to_throw = exc
        finally:
            with block:
                await agen.aclose()

    return wrapper


def context(
    *args: Any,
    tags: Iterable[str] | None = None,
    metadata: Mapping[str, str | int | float | bool] | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    tenant_id: str | None = None,
    name: str | None = None,
    no_log: bool | None = None,
    exclude_destinations: Iterable[str] | None = None,
    capture_content: str | bool | CaptureMode | None = None,
    propagate: Iterable[str] | bool | None = None,
    redact_content: bool | None = None,
) -> RequestContext:
    """Labels and controls for every GenAI call inside the block (``with``, ``async with`` or decorator).

    - ``tags``: strings, recorded as ``otel_llm.tags``; nested blocks add to the outer tags.
    - ``metadata``: a flat map of str to str/int/float/bool, each as ``otel_llm.metadata.<key>``.
    - ``user_id`` (``user.id``), ``session_id`` (``gen_ai.conversation.id``), ``tenant_id``
      (``otel_llm.tenant.id``, also a dimension of the cost metric), ``name``
      (``otel_llm.operation.name``): strings; the innermost block that sets one wins.
    - ``no_log=True``: no span at all; metrics still count tokens, duration and cost, without content.
      Ineffective when the platform sets ``OTEL_LLM_DISABLE_NO_LOG=true``.
    - ``exclude_destinations``: names of destinations that must not receive these calls
      (``otel_llm.exclude_destinations``); nested blocks add to the outer ones.
    - ``capture_content``: narrows the configured capture; widens it only if the platform sets
      ``OTEL_LLM_ALLOW_CAPTURE_OVERRIDE=true``.
    - ``propagate``: which labels (``tags``, ``user``, ``session``, ``tenant``) to put into W3C
      baggage for downstream services; None: ``OTEL_LLM_BAGGAGE_KEYS`` (unset: none); False: none.
    - ``redact_content``: True asks every destination to drop these calls' message content
      (``otel_llm.redact.content``); False asks destinations that drop content to keep it, honoured
      only where the configuration sets ``allow_request_override`` (see docs/redaction.md).

    Arguments of the wrong type raise TypeError, empty strings and unknown names ValueError.
    """
    if args:
        raise TypeError(
            "otel_llm.context takes keyword arguments only: use @otel_llm.context(tags=[...]) or "
            "`with otel_llm.context(...)`"
        )
    if no_log is not None and not isinstance(no_log, bool):
        raise TypeError(f"no_log: expected bool or None, got {type(no_log).__name__}")
    if redact_content is not None and not isinstance(redact_content, bool):
        raise TypeError(f"redact_content: expected bool or None, got {type(redact_content).__name__}")
    labels = _Labels(
        tags=() if tags is None else _strings(tags, "tags", "a list of str"),
        metadata=None if metadata is None else _metadata(metadata),
        user_id=_text(user_id, "user_id"),
        session_id=_text(session_id, "session_id"),
        tenant_id=_text(tenant_id, "tenant_id"),
        name=_text(name, "name"),
        no_log=no_log,
        exclude=frozenset(
            ()
            if exclude_destinations is None
            else _strings(exclude_destinations, "exclude_destinations", "a list of destination names (str)")
        ),
        capture=_capture(capture_content),
        propagate=_propagate(propagate),
        redact_content=redact_content,
    )
    return RequestContext(labels)


_install(policy_from_env())

__all__ = [
    "ALLOW_CAPTURE_OVERRIDE_ENV",
    "BAGGAGE_KEYS",
    "BAGGAGE_KEYS_ENV",
    "DISABLE_NO_LOG_ENV",
    "MAX_BAGGAGE_ID_LENGTH",
    "MAX_BAGGAGE_TAGS",
    "MAX_BAGGAGE_TAG_LENGTH",
    "Policy",
    "RequestContext",
    "Scope",
    "configure_policy",
    "context",
    "current",
    "current_policy",
    "policy_from_env",
    "reset_policy",
]
