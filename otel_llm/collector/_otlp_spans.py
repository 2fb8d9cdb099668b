"""Decoded OTLP spans → SDK ``ReadableSpan``s, so that received spans flow through the very same
processors and exporters as the SDK's own.

This runs once per received span, so it is written for speed: the upb message is read field by
field exactly once, one ``Resource`` is built per ResourceSpans and one ``InstrumentationScope``
per ScopeSpans, attribute values that are strings are taken without asking which member of the
``AnyValue`` oneof is set (the most common case costs one read), and immutable parts (status,
trace flags, empty trace state) are shared between spans.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any

import orjson
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

from otel_llm.genai import attributes as A

_TENANT = A.TENANT_ID
_PRIMITIVE = frozenset(("string_value", "bool_value", "int_value", "double_value"))
# OTLP SpanKind (0 unspecified, 1 internal, 2 server, ...) → the SDK's (internal = 0, server = 1, ...)
_KINDS = (
    SpanKind.INTERNAL,
    SpanKind.INTERNAL,
    SpanKind.SERVER,
    SpanKind.CLIENT,
    SpanKind.PRODUCER,
    SpanKind.CONSUMER,
)
_FLAGS = tuple(TraceFlags(i) for i in range(256))
_SAMPLED = _FLAGS[TraceFlags.SAMPLED]
# Span.flags bits 8 and 9: "has is_remote" and "is_remote" of the parent (of the linked context for a Link).
_REMOTE_BITS = 0x100 | 0x200
_UNSET = Status(StatusCode.UNSET)
_OK = Status(StatusCode.OK)
_ERROR = Status(StatusCode.ERROR)
_NO_STATE = TraceState()
# W3C Trace Context: key = simple or multi-tenant (tenant@system); value = printable ASCII but , and =
_STATE_KEY = r"[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13}"
_STATE_VALUE = r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
_MEMBER = re.compile(f"({_STATE_KEY})=({_STATE_VALUE})")
_MAX_STATE_KEYS = 32
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)

# Reasons a span is rejected, as the partial-success message words them.
BAD_TRACE_ID = "an invalid trace id (must be 16 bytes, not all zero)"
BAD_SPAN_ID = "an invalid span id (must be 8 bytes, not all zero)"
BAD_PARENT_ID = "an invalid parent span id (must be empty or 8 bytes)"
BAD_TIMES = "an end time before the start time"
TOO_DEEP = "attribute values nested too deeply"
# What nesting deeper than a parsed message can have raises: Python's recursion limit in
# plain_value, orjson's (254 levels) when the value becomes JSON.
_TOO_DEEP = (RecursionError, orjson.JSONEncodeError)


def _valid_context_factory() -> Any:
    """A maker of SpanContexts known to be valid (ids checked non-zero and of the right length):
    the tuple the SDK's constructor builds, without its Python-level checks (a third of a
    microsecond per context, two per span). Checked against the constructor once; should the SDK
    ever lay SpanContext out differently, the constructor itself is used."""
    new = tuple.__new__

    def valid_context(trace_id: int, span_id: int, is_remote: bool, flags: TraceFlags, state: TraceState) -> Any:
        return new(SpanContext, (trace_id, span_id, is_remote, flags, state, True))

    probe = SpanContext(0xABC, 0xDEF, True, _SAMPLED, _NO_STATE)
    made = valid_context(0xABC, 0xDEF, True, _SAMPLED, _NO_STATE)
    same = made == probe and type(made) is type(probe) and made.is_valid and made.is_remote
    same = same and (made.trace_id, made.span_id, made.trace_flags, made.trace_state) == (0xABC, 0xDEF, 1, _NO_STATE)
    return valid_context if same else SpanContext


_valid_context = _valid_context_factory()


def trace_state(header: str) -> TraceState:
    """A W3C tracestate header as the SDK's TraceState; empty when the header is invalid (as the
    SDK's parser does), but silently: that one logs each invalid member, which would let a sender
    write into the collector's log at will."""
    pairs: dict[str, str] = {}
    for member in header.split(","):
        member = member.strip(" \t")
        if not member:
            continue
        match = _MEMBER.fullmatch(member)
        if match is None or match.group(1) in pairs or len(pairs) == _MAX_STATE_KEYS:
            return _NO_STATE
        pairs[match.group(1)] = match.group(2)
    return TraceState(list(pairs.items())) if pairs else _NO_STATE


def plain_value(value: Any) -> Any:
    """One AnyValue as plain JSON-ready Python: lists, dicts, base64 text for bytes, None for empty."""
    kind = value.WhichOneof("value")
    if kind in _PRIMITIVE:
        return getattr(value, kind)
    if kind == "array_value":
        return [plain_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: plain_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None


def _json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def _complex(value: Any, kind: str) -> Any:
    """An attribute value the SDK has no type for, or an array the SDK can hold as a tuple."""
    if kind == "array_value":
        values = value.array_value.values
        texts = [v.string_value for v in values]
        if all(texts):  # non-empty strings only (finish reasons, tags): no oneof query per item
            return tuple(texts)
        kinds = [v.WhichOneof("value") for v in values]
        present = set(kinds)
        present.discard(None)
        if len(present) <= 1 and present <= _PRIMITIVE:  # one primitive type; empty values allowed, as in the SDK
            return tuple(getattr(v, k) if k else None for v, k in zip(values, kinds, strict=True))
        return _json([plain_value(v) for v in values])
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return _json(plain_value(value))  # a kvlist as a JSON object


def attributes(kvs: Iterable[Any]) -> dict[str, Any]:
    """KeyValues → a plain dict of SDK attribute values; a key without a value, and the empty key,
    are left out (the SDK has no such attribute), a repeated key keeps its last value."""
    out: dict[str, Any] = {}
    for kv in kvs:
        value = kv.value
        # Strings, then non-zero integers (token counts) and doubles, are read without asking the
        # oneof which member is set: reading an unset member is cheaper and gives "" or 0.
        text = value.string_value
        if text:
            out[kv.key] = text
            continue
        number = value.int_value
        if number:
            out[kv.key] = number
            continue
        number = value.double_value
        if number:
            out[kv.key] = number
            continue
        kind = value.WhichOneof("value")
        if kind in _PRIMITIVE:
            out[kv.key] = getattr(value, kind)
        elif kind is not None:
            out[kv.key] = _complex(value, kind)
    out.pop("", None)  # no valid attribute has an empty key; the SDK would drop it and log, per request
    return out


def _bounded(values: dict[str, Any], dropped: int) -> Any:
    """Attributes that carry the sender's dropped count (only when there is one: it costs a pass)."""
    if not dropped:
        return values
    bounded = BoundedAttributes(attributes=values, immutable=True)
    bounded.dropped = dropped
    return bounded


_EMPTY: tuple[Any, ...] = ()


def _bounded_list(items: list[Any], dropped: int) -> Any:
    """Events or links, carrying the sender's dropped count when there is one."""
    if not dropped:
        return tuple(items) if items else _EMPTY
    bounded = BoundedList.from_seq(None, items)
    bounded.dropped = dropped
    return bounded


class SpanBuilder:
    """Converts the spans of one request; keeps per-request caches and the rejection counts."""

    def __init__(self, tenant: str | None, trust_tenant: bool) -> None:
        self.tenant = tenant
        self.trust_tenant = trust_tenant
        self.rejected: dict[str, int] = {}
        self._states: dict[str, TraceState] = {}

    def resource(self, resource: Any, schema_url: str) -> Resource:
        values = attributes(resource.attributes)
        if not self.trust_tenant:
            values.pop(_TENANT, None)
        return Resource(values, schema_url or None)

    @staticmethod
    def scope(scope: Any, schema_url: str) -> InstrumentationScope:
        values = attributes(scope.attributes)
        return InstrumentationScope(scope.name, scope.version or None, schema_url or None, values or None)

    def _state(self, header: str) -> TraceState:
        state = self._states.get(header)
        if state is None:
            state = self._states[header] = trace_state(header)
        return state

    def reject(self, reason: str) -> None:
        """Count a rejected span; returns None, the span() result for it."""
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def span(self, span: Any, resource: Resource, scope: InstrumentationScope) -> ReadableSpan | None:
        """One span, or None (counted in ``rejected``) when its ids or times make it unusable."""
        trace_id = span.trace_id
        span_id = span.span_id
        parent_id = span.parent_span_id
        start = span.start_time_unix_nano
        end = span.end_time_unix_nano
        if len(trace_id) != 16 or trace_id == _ZERO_TRACE:
            return self.reject(BAD_TRACE_ID)
        if len(span_id) != 8 or span_id == _ZERO_SPAN:
            return self.reject(BAD_SPAN_ID)
        if parent_id and len(parent_id) != 8:
            return self.reject(BAD_PARENT_ID)
        if end < start:
            return self.reject(BAD_TIMES)
        try:
            values = attributes(span.attributes)
            events: Any = span.events
            if events:
                events = _bounded_list(
                    [
                        Event(e.name, _bounded(attributes(e.attributes), e.dropped_attributes_count), e.time_unix_nano)
                        for e in events
                    ],
                    span.dropped_events_count,
                )
            else:
                events = _bounded_list([], span.dropped_events_count)
            links: Any = span.links
            dropped_links = span.dropped_links_count
            links = self._links(links, dropped_links) if links else _bounded_list([], dropped_links)
        except _TOO_DEEP:  # a message built in process can nest deeper than a parsed one
            return self.reject(TOO_DEEP)
        if not self.trust_tenant:
            values.pop(_TENANT, None)
            if self.tenant is not None:
                values[_TENANT] = self.tenant
        flags = span.flags
        # An exported span was sampled by its sender; encoders that leave the W3C bits out (the
        # Python SDK's does) must not make it look unsampled to SDK processors downstream.
        trace_flags = _FLAGS[flags & 0xFF] if flags & 0xFF else _SAMPLED
        header = span.trace_state
        state = self._state(header) if header else _NO_STATE
        tid = int.from_bytes(trace_id, "big")
        parent = None
        if parent_id and parent_id != _ZERO_SPAN:
            remote = flags & _REMOTE_BITS == _REMOTE_BITS
            parent = _valid_context(tid, int.from_bytes(parent_id, "big"), remote, trace_flags, state)
        status = span.status
        code = status.code
        if code == 2:
            message = status.message
            status = Status(StatusCode.ERROR, message) if message else _ERROR
        else:
            status = _OK if code == 1 else _UNSET  # a description is for errors only (the SDK's rule)
        kind = span.kind
        dropped = span.dropped_attributes_count
        return ReadableSpan(
            span.name,
            _valid_context(tid, int.from_bytes(span_id, "big"), False, trace_flags, state),
            parent,
            resource,
            _bounded(values, dropped) if dropped else values,
            events,
            links,
            _KINDS[kind] if 0 <= kind < 6 else SpanKind.INTERNAL,
            None,
            status,
            start,
            end,
            scope,
        )

    def _links(self, links: Any, dropped: int) -> Any:
        """Links with usable ids; those with invalid ids are dropped and counted (not fatal)."""
        out: list[Link] = []
        for link in links:
            trace_id, span_id = link.trace_id, link.span_id
            if len(trace_id) != 16 or len(span_id) != 8:
                dropped += 1
                continue
            flags = link.flags
            header = link.trace_state
            context = SpanContext(
                int.from_bytes(trace_id, "big"),
                int.from_bytes(span_id, "big"),
                flags & _REMOTE_BITS == _REMOTE_BITS,
                _FLAGS[flags & 0xFF],
                self._state(header) if header else _NO_STATE,
            )
            out.append(Link(context, _bounded(attributes(link.attributes), link.dropped_attributes_count)))
        return _bounded_list(out, dropped)

    def message(self, total: int) -> str:
        """The partial-success message: how many spans were rejected, and why."""
        if not self.rejected:
            return ""
        count = sum(self.rejected.values())
        reasons = ", ".join(f"{n} with {reason}" for reason, n in self.rejected.items())
        return f"rejected {count} of {total} spans: {reasons}"


def request_spans(request: Any, tenant: str | None, trust_tenant: bool) -> tuple[list[ReadableSpan], int, str]:
    """All spans of an ExportTraceServiceRequest; ``(spans, rejected, message)``."""
    builder = SpanBuilder(tenant, trust_tenant)
    out: list[ReadableSpan] = []
    total = 0
    for resource_spans in request.resource_spans:
        try:
            resource = builder.resource(resource_spans.resource, resource_spans.schema_url)
            scopes = [(builder.scope(s.scope, s.schema_url), s.spans) for s in resource_spans.scope_spans]
        except _TOO_DEEP:  # only a message built in process nests this deep (parsing refuses it)
            for scope_spans in resource_spans.scope_spans:
                for _ in scope_spans.spans:
                    total += 1
                    builder.reject(TOO_DEEP)
            continue
        for scope, spans in scopes:
            for span in spans:
                total += 1
                converted = builder.span(span, resource, scope)
                if converted is not None:
                    out.append(converted)
    return out, total - len(out), builder.message(total)
