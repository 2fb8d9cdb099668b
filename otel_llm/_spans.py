"""A copy of a finished span with some parts replaced: the one way redaction and backend views
make the span a destination sees (the original is shared by every destination and never modified)."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Status

_KEEP: Any = object()


def replaced(
    span: ReadableSpan,
    *,
    name: str = _KEEP,
    attributes: Any = _KEEP,
    events: Any = _KEEP,
    links: Any = _KEEP,
    status: Status = _KEEP,
    resource: Resource = _KEEP,
) -> ReadableSpan:
    """``span`` with the given parts replaced; the others are the span's own (not copied)."""
    return ReadableSpan(
        name=span.name if name is _KEEP else name,
        context=span.context,
        parent=span.parent,
        resource=span.resource if resource is _KEEP else resource,
        attributes=span._attributes if attributes is _KEEP else attributes,
        events=span._events if events is _KEEP else events,
        links=span._links if links is _KEEP else links,
        kind=span.kind,
        status=span.status if status is _KEEP else status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
