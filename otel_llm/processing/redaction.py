"""What a destination may see: a redacted copy of each span, made just before it is exported.

``Redactor(settings).redact(span)`` returns a new ``ReadableSpan`` when anything had to change, the
very same span otherwise (the original is never modified: other destinations share it). It drops
message content keeping its structure, scrubs secrets and chosen PII from every string (span,
events, links, status, resource), replaces inline media by a placeholder, truncates long content
keeping JSON valid, and hashes or drops user identifiers. docs/redaction.md describes each setting.

Attribute values are whatever the SDK accepts: besides strings and numbers, ``bytes`` (decoded as
UTF-8, errors replaced, and redacted as text: they come back as ``str``), and sequences and
mappings of any of these, nested (walked; mapping keys are scrubbed too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, Status

from otel_llm._spans import replaced
from otel_llm.genai import attributes as A
from otel_llm.processing._content import (
    CONTENT_ATTRIBUTES,
    OTHER_CONTENT_ATTRIBUTES,
    OTHER_CONTENT_PREFIXES,
    is_content_attribute,
)
from otel_llm.processing._settings import DEFAULT_IDENTIFIER_ATTRIBUTES, RedactionSettings
from otel_llm.processing._values import ValueRedactor
from otel_llm.records import plain_attributes

__all__ = [
    "CONTENT_ATTRIBUTES",
    "DEFAULT_IDENTIFIER_ATTRIBUTES",
    "OTHER_CONTENT_ATTRIBUTES",
    "OTHER_CONTENT_PREFIXES",
    "REDACT_CONTENT",
    "RedactionSettings",
    "Redactor",
    "is_content_attribute",
]

REDACT_CONTENT = A.REDACT_CONTENT  # "otel_llm.redact.content": the request's own wish (True drop, False keep)


def _like(original: Any, new: dict[str, Any]) -> Any:
    """``new`` attributes, keeping the original's count of dropped attributes when it had one."""
    if isinstance(original, BoundedAttributes) and original.dropped:
        bounded = BoundedAttributes(maxlen=None, attributes=new, immutable=True)
        bounded.dropped = original.dropped
        return bounded
    return new


def _list_like(original: Any, new: list[Any]) -> Any:
    if isinstance(original, BoundedList) and original.dropped:
        bounded = BoundedList.from_seq(None, new)
        bounded.dropped = original.dropped
        return bounded
    return new


class Redactor:
    """Applies one ``RedactionSettings`` to spans: their attributes, name, events, links, status
    and resource (the values themselves: ``_values.ValueRedactor``). Thread-safe."""

    def __init__(self, settings: RedactionSettings | None = None) -> None:
        self.settings = s = settings or RedactionSettings()
        self._values = ValueRedactor(s)
        self._drop = s.content == "drop"
        self._override = s.allow_request_override
        self._resources: dict[int, tuple[Resource, Resource]] = {}

    # The span

    def redact(self, span: ReadableSpan) -> ReadableSpan:
        """The span as this destination may see it; ``span`` itself when nothing had to change."""
        raw = span._attributes
        attrs = plain_attributes(raw)
        wish = attrs.get(REDACT_CONTENT)
        drop = self._drop
        if wish is True:
            drop = True
        elif wish is False and self._override:
            drop = False
        new_attrs = self._values.attributes(attrs, drop)
        name = self._values.text(span.name)
        events = self._events(span._events, drop) if len(span._events) else None
        links = self._links(span._links, drop) if len(span._links) else None
        status = span.status
        if status.description:
            description = self._values.text(status.description)
            if description is not status.description:
                status = Status(status.status_code, description)
        resource = self._resource(span.resource)
        if (
            new_attrs is None
            and name is span.name
            and events is None
            and links is None
            and status is span.status
            and resource is span.resource
        ):
            return span
        return replaced(
            span,
            name=name,
            attributes=raw if new_attrs is None else _like(raw, new_attrs),
            events=span._events if events is None else events,
            links=span._links if links is None else links,
            status=status,
            resource=resource,
        )

    def _events(self, events: Sequence[Event], drop: bool) -> Any:
        out = None
        for i, event in enumerate(events):
            new = self._values.attributes(plain_attributes(event.attributes), drop)
            name = self._values.text(event.name)
            if new is not None or name is not event.name:
                if out is None:
                    out = list(events)
                attributes = event.attributes if new is None else _like(event.attributes, new)
                out[i] = Event(name, attributes, event.timestamp)
        return None if out is None else _list_like(events, out)

    def _links(self, links: Sequence[Link], drop: bool) -> Any:
        out = None
        for i, link in enumerate(links):
            new = self._values.attributes(plain_attributes(link.attributes), drop)
            if new is not None:
                if out is None:
                    out = list(links)
                out[i] = Link(link.context, _like(link.attributes, new))
        return None if out is None else _list_like(links, out)

    def _resource(self, resource: Resource) -> Resource:
        """Resources are shared by every span of a provider: each is redacted once."""
        cached = self._resources.get(id(resource))
        if cached is not None and cached[0] is resource:
            return cached[1]
        new = self._values.attributes(plain_attributes(resource.attributes), self._drop)
        redacted = resource if new is None else Resource(new, resource.schema_url)
        if len(self._resources) >= 64:
            self._resources.clear()
        self._resources[id(resource)] = (resource, redacted)  # the original is held: its id stays unique
        return redacted
