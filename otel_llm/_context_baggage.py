"""W3C baggage for request-context labels: written when a block is entered, read downstream.

Baggage is untrusted input on the receiving side: values are bounded and sanitised, parses cached.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from opentelemetry import baggage as otel_baggage
from opentelemetry import context as otel_context

from otel_llm._context_scope import BAGGAGE_KEYS, Policy, Scope, _Labels, _scope, _union
from otel_llm._safety import report
from otel_llm.genai import attributes as A

_log = logging.getLogger(__name__)

# Baggage is untrusted input on the receiving side: bounded, and anything doubtful is dropped.
MAX_BAGGAGE_ID_LENGTH = 256  # user, session, tenant (characters)
MAX_BAGGAGE_TAGS = 32
MAX_BAGGAGE_TAG_LENGTH = 128  # characters, per tag
_MAX_TAGS_ENCODED = 2048  # the tags entry as it goes on the wire; the W3C propagator drops pairs > 4096
_MAX_RAW = 8192  # a baggage value longer than this is not even looked at
_CACHE_SIZE = 256  # parsed baggage values kept, and merges of them with local blocks
# Control, format and bidi characters, and U+FFFD (what undecodable bytes become): never taken from baggage.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffd]")

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

    __slots__ = ("_keys", "_layers", "_merged", "_policy")

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        labels = policy.baggage_keys
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
                scope = _scope(labels, self._policy)
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
