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
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, unquote

from opentelemetry import baggage as otel_baggage
from opentelemetry import context as otel_context

from otel_llm._safety import report
from otel_llm.genai import attributes as A
from otel_llm.genai.capture import _ALIASES as _CAPTURE_ALIASES
from otel_llm.genai.capture import CaptureMode, parse_capture_mode

_log = logging.getLogger(__name__)

DISABLE_NO_LOG_ENV = "OTEL_LLM_DISABLE_NO_LOG"
ALLOW_CAPTURE_OVERRIDE_ENV = "OTEL_LLM_ALLOW_CAPTURE_OVERRIDE"
BAGGAGE_KEYS_ENV = "OTEL_LLM_BAGGAGE_KEYS"

# Label → the W3C baggage key that carries it (the attribute name it becomes).
BAGGAGE_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "tags": A.TAGS,
        "user": A.USER_ID,
        "session": A.CONVERSATION_ID,
        "tenant": A.TENANT_ID,
    }
)
# Baggage is untrusted input on the receiving side: bounded, and anything doubtful is dropped.
MAX_BAGGAGE_ID_LENGTH = 256  # user, session, tenant (characters)
MAX_BAGGAGE_TAGS = 32
MAX_BAGGAGE_TAG_LENGTH = 128  # characters, per tag
_MAX_TAGS_ENCODED = 2048  # the tags entry as it goes on the wire; the W3C propagator drops pairs > 4096
_MAX_RAW = 8192  # a baggage value longer than this is not even looked at
_CACHE_SIZE = 256  # parsed baggage values kept, and merges of them with local blocks
# Control, format and bidi characters, and U+FFFD (what undecodable bytes become): never taken from baggage.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffd]")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

F = TypeVar("F", bound=Callable[..., Any])


# -- global policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The platform owner's settings; blocks cannot override them."""

    disable_no_log: bool = False  # no_log=True in a block is ignored: every call keeps its span
    allow_capture_override: bool = False  # a block may widen content capture (it may always narrow it)
    baggage_keys: frozenset[str] = frozenset()  # labels written to and read from W3C baggage


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
    _install(Policy(**{**previous.__dict__, **changes}))
    return previous


def reset_policy(policy: Policy | None = None) -> Policy:
    """Put ``policy`` in force (None: re-read the environment); returns the previous one."""
    previous = _policy
    _install(policy if policy is not None else policy_from_env())
    return previous


def _install(policy: Policy) -> None:
    global _policy, _reader
    _reader = _BaggageReader(policy.baggage_keys) if policy.baggage_keys else None
    _policy = policy


# -- labels: what one block says, validated -------------------------------------------------------


class _Labels:
    """Validated labels and controls; None (or empty) means "not said here"."""

    __slots__ = (
        "capture",
        "exclude",
        "metadata",
        "name",
        "no_log",
        "propagate",
        "session_id",
        "tags",
        "tenant_id",
        "user_id",
    )

    def __init__(
        self,
        *,
        tags: tuple[str, ...] = (),
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        tenant_id: str | None = None,
        name: str | None = None,
        no_log: bool | None = None,
        exclude: frozenset[str] = frozenset(),
        capture: CaptureMode | None = None,
        propagate: frozenset[str] | None = None,
    ) -> None:
        self.tags = tags
        self.metadata: Mapping[str, Any] = MappingProxyType(dict(metadata or {}))
        self.user_id = user_id
        self.session_id = session_id
        self.tenant_id = tenant_id
        self.name = name
        self.no_log = no_log
        self.exclude = exclude
        self.capture = capture
        self.propagate = propagate

    def under(self, outer: _Labels | None) -> _Labels:
        """These labels nested inside ``outer``: tags united, metadata merged, inner scalars win."""
        if outer is None:
            return self

        def pick(inner: Any, out: Any) -> Any:
            return out if inner is None else inner

        return _Labels(
            tags=_union(outer.tags, self.tags),
            metadata={**outer.metadata, **self.metadata},
            user_id=pick(self.user_id, outer.user_id),
            session_id=pick(self.session_id, outer.session_id),
            tenant_id=pick(self.tenant_id, outer.tenant_id),
            name=pick(self.name, outer.name),
            no_log=pick(self.no_log, outer.no_log),
            exclude=outer.exclude | self.exclude,
            capture=pick(self.capture, outer.capture),
            propagate=pick(self.propagate, outer.propagate),
        )

    def attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if self.tags:
            attrs[A.TAGS] = self.tags
        for key, value in self.metadata.items():
            attrs[A.METADATA_PREFIX + key] = value
        for key, value in (
            (A.USER_ID, self.user_id),
            (A.CONVERSATION_ID, self.session_id),
            (A.TENANT_ID, self.tenant_id),
            (A.OPERATION_LABEL, self.name),
        ):
            if value is not None:
                attrs[key] = value
        if self.exclude:
            attrs[A.EXCLUDE_DESTINATIONS] = tuple(sorted(self.exclude))
        return attrs


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    if not first:
        return second
    if not second:
        return first
    return tuple(dict.fromkeys(first + second))


def _strings(value: Any, param: str, what: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise TypeError(f"{param}: expected {what}, got {type(value).__name__} {value!r:.80}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise TypeError(f"{param}[{i}]: expected str, got {type(item).__name__} {item!r:.80}")
        if not item.strip():
            raise ValueError(f"{param}[{i}]: empty string")
        out.append(item)
    return tuple(dict.fromkeys(out))


def _text(value: Any, param: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(
            f"{param}: expected str or None, got {type(value).__name__} {value!r:.80} (convert it with str())"
        )
    if not value.strip():
        raise ValueError(f"{param}: empty string; pass None to leave it unset")
    return value


def _metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"metadata: expected a mapping of str to str/int/float/bool, got {type(value).__name__}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise TypeError(f"metadata: keys must be non-empty str, got {key!r:.80}")
        if not isinstance(item, (str, int, float)):  # bool is an int
            raise TypeError(
                f"metadata[{key!r}]: expected str, int, float or bool (a flat map), got {type(item).__name__}"
            )
        out[key] = item
    return out


def _capture(value: Any) -> CaptureMode | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() not in _CAPTURE_ALIASES and text.upper() not in CaptureMode.__members__:
            raise ValueError(
                f"capture_content: {value!r} is not a capture mode; expected True, False, a CaptureMode or one of "
                "'NO_CONTENT', 'SPAN_ONLY', 'EVENT_ONLY', 'SPAN_AND_EVENT', 'true', 'false'"
            )
    elif not isinstance(value, (bool, CaptureMode)):
        raise TypeError(f"capture_content: expected bool, str or CaptureMode, got {type(value).__name__}")
    return parse_capture_mode(value, source="capture_content")


def _propagate(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if value is False:
        return frozenset()
    names = _strings(value, "propagate", f"a list of label names ({', '.join(BAGGAGE_KEYS)})")
    unknown = [n for n in names if n not in BAGGAGE_KEYS]
    if unknown:
        raise ValueError(f"propagate: {unknown} not among {list(BAGGAGE_KEYS)}")
    return frozenset(names)


# -- the scope a call sees --------------------------------------------------------------------------


def _narrow(requested: CaptureMode, configured: CaptureMode) -> CaptureMode:
    """What both modes allow: content goes only where the configuration already sends it."""
    on_span = requested.on_span and configured.on_span
    on_event = requested.on_event and configured.on_event
    if on_span and on_event:
        return CaptureMode.SPAN_AND_EVENT
    if on_span:
        return CaptureMode.SPAN_ONLY
    if on_event:
        return CaptureMode.EVENT_ONLY
    return CaptureMode.NO_CONTENT


@dataclass(frozen=True, eq=False)
class Scope:
    """The merged context in force for one GenAI call (computed when a block is entered)."""

    attributes: dict[str, Any] = field(default_factory=dict)  # span attributes; never modified
    no_log: bool = False
    exclude_destinations: frozenset[str] = frozenset()
    tenant_id: str | None = None
    capture: CaptureMode | None = None  # what the innermost block asked for; None: the configured mode
    allow_capture_override: bool = False  # the policy when the block was entered: may capture widen?
    _labels: _Labels | None = field(default=None, repr=False)

    def capture_for(self, configured: CaptureMode) -> CaptureMode:
        """The capture mode for this call given the configured one: narrowed always, widened only if allowed."""
        requested = self.capture
        if requested is None or requested is configured:
            return configured
        if self.allow_capture_override:
            return requested
        return _narrow(requested, configured)


def _scope(labels: _Labels, policy: Policy) -> Scope:
    return Scope(
        attributes=labels.attributes(),
        no_log=bool(labels.no_log) and not policy.disable_no_log,
        exclude_destinations=labels.exclude,
        tenant_id=labels.tenant_id,
        capture=labels.capture,
        allow_capture_override=policy.allow_capture_override,
        _labels=labels,
    )


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

    Arguments of the wrong type raise TypeError, empty strings and unknown names ValueError.
    """
    if args:
        raise TypeError(
            "otel_llm.context takes keyword arguments only: use @otel_llm.context(tags=[...]) or "
            "`with otel_llm.context(...)`"
        )
    if no_log is not None and not isinstance(no_log, bool):
        raise TypeError(f"no_log: expected bool or None, got {type(no_log).__name__}")
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
    )
    return RequestContext(labels)


# -- baggage ------------------------------------------------------------------------------------------


def _clean(value: Any, limit: int) -> str | None:
    """A label value from baggage, or None when it is not a plain, bounded string."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > limit or _UNSAFE.search(value):
        return None
    return value


def _decode_tags(raw: Any) -> tuple[str, ...]:
    """``otel_llm.tags``: comma-separated, each tag percent-encoded; bad tags skipped, count capped."""
    if not isinstance(raw, str) or len(raw) > _MAX_RAW:
        return ()
    tags = []
    for part in raw.split(",", MAX_BAGGAGE_TAGS)[:MAX_BAGGAGE_TAGS]:
        tag = _clean(unquote(part, errors="replace") if "%" in part else part, MAX_BAGGAGE_TAG_LENGTH)
        if tag is not None:
            tags.append(tag)
    return tuple(dict.fromkeys(tags))


def _encode_tags(tags: Iterable[str]) -> str:
    """Tags that fit the receiving side's limits, percent-encoded and comma-joined, within the size budget."""
    out: list[str] = []
    size = 0
    for tag in tags:
        if len(out) == MAX_BAGGAGE_TAGS:
            break
        clean = _clean(tag, MAX_BAGGAGE_TAG_LENGTH)
        if clean is None:
            continue
        part = quote(clean, safe="")
        size += len(quote_plus(part)) + 1
        if size > _MAX_TAGS_ENCODED:
            break
        out.append(part)
    return ",".join(out)


_warned: set[str] = set()


def _write_baggage(labels: _Labels, keys: frozenset[str]) -> Any:
    """Put the selected labels into the OTel context's baggage; the attach token, or None if unchanged."""
    ctx = otel_context.get_current()
    present = otel_baggage.get_all(ctx)
    changed = False
    for label in ("tags", "user", "session", "tenant"):
        if label not in keys:
            continue
        key = BAGGAGE_KEYS[label]
        if label == "tags":
            if not labels.tags:
                continue
            value: str | None = _encode_tags(_union(_decode_tags(present.get(key)), labels.tags))
        else:
            value = {"user": labels.user_id, "session": labels.session_id, "tenant": labels.tenant_id}[label]
            if value is None:
                continue
            value = _clean(value, MAX_BAGGAGE_ID_LENGTH)
            if value is None:
                if label not in _warned:
                    _warned.add(label)
                    _log.warning(
                        "otel_llm.context: %s is longer than %d characters or has control characters; "
                        "not propagated in baggage",
                        label,
                        MAX_BAGGAGE_ID_LENGTH,
                    )
                continue
        if value and present.get(key) != value:
            ctx = otel_baggage.set_baggage(key, value, ctx)
            changed = True
    return otel_context.attach(ctx) if changed else None


class _BaggageReader:
    """Labels from incoming baggage (the configured keys only), below every local block."""

    __slots__ = ("_keys", "_layers", "_merged")

    def __init__(self, labels: frozenset[str]) -> None:
        self._keys = tuple(BAGGAGE_KEYS[label] for label in BAGGAGE_KEYS if label in labels)
        self._layers: dict[tuple[Any, ...], Scope | None] = {}
        self._merged: dict[tuple[int, tuple[Any, ...]], tuple[Scope, Scope]] = {}

    def apply(self, local: Scope | None) -> Scope | None:
        try:
            entries = otel_baggage.get_all()
            if not entries:
                return local
            raw = tuple(entries.get(key) for key in self._keys)
            layer = self._layer(raw)
            if layer is None:
                return local
            if local is None:
                return layer
            merged = self._merged.get((id(local), raw))
            if merged is not None and merged[0] is local:
                return merged[1]
            labels = local._labels.under(layer._labels) if local._labels is not None else None
            if labels is None:  # a Scope built by hand: its attributes over the baggage's
                scope = Scope(
                    attributes={**layer.attributes, **local.attributes},
                    no_log=local.no_log,
                    exclude_destinations=local.exclude_destinations,
                    tenant_id=local.tenant_id or layer.tenant_id,
                    capture=local.capture,
                    allow_capture_override=local.allow_capture_override,
                )
            else:
                scope = _scope(labels, _policy)
            if _cacheable(raw):
                if len(self._merged) >= _CACHE_SIZE:
                    self._merged.clear()
                self._merged[(id(local), raw)] = (local, scope)
            return scope
        except Exception as err:  # untrusted input must never break a call
            report("context.baggage.read", err)
            return local

    def _layer(self, raw: tuple[Any, ...]) -> Scope | None:
        try:
            return self._layers[raw]
        except KeyError:
            pass
        except TypeError:  # unhashable values put there in-process
            return None
        values = dict(zip(self._keys, raw, strict=True))
        tags = _decode_tags(values.get(A.TAGS))
        labels = _Labels(
            tags=tags,
            user_id=_clean(values.get(A.USER_ID), MAX_BAGGAGE_ID_LENGTH),
            session_id=_clean(values.get(A.CONVERSATION_ID), MAX_BAGGAGE_ID_LENGTH),
            tenant_id=_clean(values.get(A.TENANT_ID), MAX_BAGGAGE_ID_LENGTH),
        )
        layer = None
        if labels.tags or labels.user_id or labels.session_id or labels.tenant_id:
            layer = _scope(labels, Policy())
        if _cacheable(raw):
            if len(self._layers) >= _CACHE_SIZE:
                self._layers.clear()
            self._layers[raw] = layer
        return layer


def _cacheable(raw: tuple[Any, ...]) -> bool:
    """Short values only: hostile baggage must not fill memory."""
    return sum(len(v) for v in raw if isinstance(v, str)) <= 1024


_install(policy_from_env())

__all__ = [
    "ALLOW_CAPTURE_OVERRIDE_ENV",
    "BAGGAGE_KEYS",
    "BAGGAGE_KEYS_ENV",
    "DISABLE_NO_LOG_ENV",
    "Policy",
    "RequestContext",
    "Scope",
    "configure_policy",
    "context",
    "current",
    "current_policy",
    "reset_policy",
]
