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

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, Status

from otel_llm.genai import attributes as A
from otel_llm.genai.invocation import to_json
from otel_llm.processing import _content
from otel_llm.processing._content import (
    CONTENT_ATTRIBUTES,
    OTHER_CONTENT_ATTRIBUTES,
    OTHER_CONTENT_PREFIXES,
    is_content_attribute,
)
from otel_llm.processing._media import replace_data_uris
from otel_llm.processing._secrets import Scrubber, is_secret_key
from otel_llm.processing._settings import DEFAULT_IDENTIFIER_ATTRIBUTES, RedactionSettings
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
REDACTED = "[REDACTED]"  # the whole value of an attribute whose name says it is a secret


# Attribute kinds, decided once per key and Redactor.
_PLAIN, _SECRET_KEY, _IDENTIFIER, _GENAI_CONTENT, _OTHER_CONTENT = range(5)
_MISS = object()
_CLEAN = object()  # cache value: the string needs no change
_REMOVE = object()  # attribute value: delete the key
_CACHE_MAX_LEN = 256  # strings up to this length are cached (model names, ids, tags repeat across spans)
_CACHE_SIZE = 8192
_CONTENT_CACHE_MAX_LEN = 16384
_CONTENT_CACHE_SIZE = 128
_SCALARS = frozenset((int, float, bool, type(None)))  # attribute values that are never changed (but under secret keys)
_HASHED = re.compile(r"sha256:[0-9a-f]{32}")  # an identifier hashed by an earlier redaction


def _decode(value: bytes | bytearray) -> str:
    """A bytes attribute value as text: UTF-8, undecodable bytes replaced (it is then redacted as text)."""
    return value.decode("utf-8", "replace")


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
    """Applies one ``RedactionSettings`` to spans. Thread-safe: its caches are plain dicts whose
    single operations are atomic, and a lost cache entry only costs a recomputation."""

    def __init__(self, settings: RedactionSettings | None = None) -> None:
        self.settings = s = settings or RedactionSettings()
        scrubber = Scrubber(secrets=s.secrets, pii=s.pii, custom=s.secret_patterns)
        self._scrubber = scrubber if scrubber.active else None
        self._custom = bool(s.secret_patterns)
        self._secret_keys = s.secrets
        self._media = s.media == "placeholder"
        self._drop = s.content == "drop"
        self._override = s.allow_request_override
        self._limit = s.max_content_chars
        self._identifiers = s.identifiers
        self._id_exact = frozenset(n for n in s.identifier_attributes if not n.endswith("*"))
        self._id_prefixes = tuple(n[:-1] for n in s.identifier_attributes if n.endswith("*"))
        self._hash_key = s.hash_key.encode() if s.hash_key else None
        self._kinds: dict[str, int] = {}
        self._plain: set[str] = set()  # keys of kind _PLAIN, for the hot loop
        self._cache: dict[str, Any] = {}
        self._resources: dict[int, tuple[Resource, Resource]] = {}
        self._hashes: dict[str, str] = {}
        self._contents: dict[tuple[str, bool, bool], Any] = {}

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
        new_attrs = self._attributes(attrs, drop)
        name = self._text(span.name)
        events = self._events(span._events, drop) if len(span._events) else None
        links = self._links(span._links, drop) if len(span._links) else None
        status = span.status
        if status.description:
            description = self._text(status.description)
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
        return ReadableSpan(
            name=name,
            context=span.context,
            parent=span.parent,
            resource=resource,
            attributes=raw if new_attrs is None else _like(raw, new_attrs),
            events=span._events if events is None else events,
            links=span._links if links is None else links,
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def _events(self, events: Sequence[Event], drop: bool) -> Any:
        out = None
        for i, event in enumerate(events):
            new = self._attributes(plain_attributes(event.attributes), drop)
            name = self._text(event.name)
            if new is not None or name is not event.name:
                if out is None:
                    out = list(events)
                attributes = event.attributes if new is None else _like(event.attributes, new)
                out[i] = Event(name, attributes, event.timestamp)
        return None if out is None else _list_like(events, out)

    def _links(self, links: Sequence[Link], drop: bool) -> Any:
        out = None
        for i, link in enumerate(links):
            new = self._attributes(plain_attributes(link.attributes), drop)
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
        new = self._attributes(plain_attributes(resource.attributes), self._drop)
        redacted = resource if new is None else Resource(new, resource.schema_url)
        if len(self._resources) >= 64:
            self._resources.clear()
        self._resources[id(resource)] = (resource, redacted)  # the original is held: its id stays unique
        return redacted

    # Attributes

    def _attributes(self, attrs: Mapping[str, Any], drop: bool) -> dict[str, Any] | None:
        """A redacted copy of ``attrs``, or None when nothing changes (the common case: no copy).

        The hot loop of the pipeline: a known plain key with a string or tuple value already seen
        costs two lookups."""
        plain = self._plain
        cache = self._cache
        out = None
        for key, value in attrs.items():
            if key in plain:
                t = type(value)
                if t is str or t is tuple:
                    try:
                        new = cache.get(value, _MISS)
                    except TypeError:  # a tuple holding a mapping is not hashable
                        new = _MISS
                    if new is _CLEAN:
                        continue
                    if new is _MISS:
                        new = self._text(value) if t is str else self._sequence(value)
                elif t in _SCALARS:
                    continue
                else:
                    new = self._value(value)  # bytes, lists, mappings
            else:
                kind = self._kinds.get(key)
                if kind is None:
                    kind = self._classify(key)
                new = self._special(kind, value, drop)
            if new is not value:
                if out is None:
                    out = dict(attrs)
                if new is _REMOVE:
                    del out[key]
                else:
                    out[key] = new
        return out

    def _classify(self, key: str) -> int:
        if self._identifiers != "keep" and (key in self._id_exact or key.startswith(self._id_prefixes)):
            kind = _IDENTIFIER
        elif key in CONTENT_ATTRIBUTES:
            kind = _GENAI_CONTENT
        elif is_content_attribute(key):
            kind = _OTHER_CONTENT
        elif self._secret_keys and is_secret_key(key):
            kind = _SECRET_KEY
        else:
            kind = _PLAIN
        if len(self._kinds) >= _CACHE_SIZE:
            self._kinds.clear()
            self._plain.clear()
        self._kinds[key] = kind
        if kind == _PLAIN:
            self._plain.add(key)
        return kind

    def _special(self, kind: int, value: Any, drop: bool) -> Any:
        """The value of a key that is not (yet) known to be plain."""
        if kind == _PLAIN:
            return self._text(value) if type(value) is str else self._value(value)
        if kind == _SECRET_KEY:
            if isinstance(value, (str, int, float, bytes, bytearray, Mapping)) and not isinstance(value, bool):
                return value if value == REDACTED else REDACTED
            if isinstance(value, (tuple, list)) and value and any(v != REDACTED for v in value):
                return (REDACTED,) * len(value)
            return value
        if kind == _IDENTIFIER:
            if self._identifiers == "drop":
                return _REMOVE
            if isinstance(value, (tuple, list)):
                hashed = tuple(self._hash(v) for v in value)
                return value if hashed == tuple(value) else hashed
            return self._hash(value)
        return self._content_value(value, kind == _GENAI_CONTENT, drop)

    def _content_value(self, value: Any, genai: bool, drop: bool) -> Any:
        """A content attribute's value: each string (bytes decoded) is content; under drop a mapping
        is one placeholder, as its keys may be content too; numbers stay."""
        t = type(value)
        if t is str:
            return self._content(value, genai, drop)
        if t in _SCALARS:
            return value
        if t is bytes or t is bytearray:
            return self._content(_decode(value), genai, drop)
        if isinstance(value, (tuple, list)):
            new = tuple(self._content_value(v, genai, drop) for v in value)
            return value if all(a is b for a, b in zip(new, value, strict=True)) else new
        if isinstance(value, Mapping):
            if drop:
                return _content.redacted(value)
            return self._mapping(value, lambda v: self._content_value(v, genai, drop))
        if isinstance(value, str):  # a str subclass (an enum member)
            return self._content(value, genai, drop)
        return value

    def _value(self, value: Any) -> Any:
        """Any plain attribute value, scrubbed: bytes decoded (returned as str), sequences and
        mappings walked; numbers, booleans and None stay."""
        t = type(value)
        if t is str:
            return self._text(value)
        if t in _SCALARS:
            return value
        if t is bytes or t is bytearray:
            return self._text(_decode(value))
        if isinstance(value, (tuple, list)):
            return self._sequence(value)
        if isinstance(value, Mapping):
            return self._mapping(value, self._value)
        if isinstance(value, str):  # a str subclass (an enum member)
            return self._text(value)
        return value

    def _mapping(self, value: Mapping[Any, Any], fn: Callable[[Any], Any]) -> Any:
        """A mapping value (SDK extended attributes): keys scrubbed, ``fn`` on each value."""
        out: dict[Any, Any] = {}
        changed = False
        for k, v in value.items():
            new_key = self._text(k) if type(k) is str else k
            new = fn(v)
            changed = changed or new_key is not k or new is not v
            out[new_key] = new
        return out if changed else value

    def _hash(self, value: Any) -> Any:
        """``sha256:`` + 32 hex of HMAC-SHA256(hash_key, value), or of SHA-256 without a key; cached.
        Bytes are hashed as their text, numbers as theirs."""
        if type(value) is str:
            text = value
        elif isinstance(value, (bytes, bytearray)):
            text = _decode(value)
        else:
            text = str(value)
        hashed = self._hashes.get(text)
        if hashed is not None:
            return hashed
        if _HASHED.fullmatch(text) is not None:
            return text  # already hashed (by an earlier redaction, e.g. in the SDK before the collector)
        data = text.encode()
        key = self._hash_key
        digest = hmac.digest(key, data, "sha256") if key else hashlib.sha256(data).digest()
        hashed = "sha256:" + digest[:16].hex()
        if len(self._hashes) >= _CACHE_SIZE:
            self._hashes.clear()
        self._hashes[text] = hashed
        return hashed

    def _sequence(self, value: Sequence[Any]) -> Sequence[Any]:
        """A tuple or list value: its strings scrubbed, other items as ``_value``; tuples of short
        strings and numbers are cached."""
        new = tuple(self._text(v) if type(v) is str else self._value(v) for v in value)
        changed = not all(a is b for a, b in zip(new, value, strict=True))
        if (
            type(value) is tuple
            and len(value) <= 16
            and all(len(v) <= 64 if type(v) is str else type(v) in _SCALARS for v in value)
        ):
            cache = self._cache
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            cache[value] = new if changed else _CLEAN
        return new if changed else value

    # Strings

    def _text(self, text: str) -> str:
        """A scrubbed string (the same object when clean); short strings are cached."""
        if len(text) > _CACHE_MAX_LEN:
            return self._text_uncached(text)
        cache = self._cache
        new = cache.get(text, _MISS)
        if new is _CLEAN:
            return text
        if new is _MISS:
            new = self._text_uncached(text)
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            cache[text] = _CLEAN if new is text else new
        return new

    def _text_uncached(self, text: str) -> str:
        out = replace_data_uris(text) if self._media else text
        scrubber = self._scrubber
        if scrubber is None:
            return out
        out = scrubber.scrub(out)
        if self._custom:
            custom = scrubber.scrub_custom(out)
            if custom is not out and out.lstrip()[:1] in ("{", "[") and not _is_json(custom) and _is_json(out):
                # a user pattern reached across JSON syntax: apply it inside each string instead
                value = json.loads(out)
                _content.scrub_strings(value, scrubber.scrub_custom)
                custom = to_json(value)
            out = custom
        return text if out == text else out

    def _content(self, text: str, genai: bool, drop: bool) -> str:
        """One content string. Up to 16 KB, results are cached: system instructions and the first
        messages of a conversation repeat from call to call."""
        if len(text) > _CONTENT_CACHE_MAX_LEN:
            return self._content_uncached(text, genai, drop)
        contents = self._contents
        key = (text, genai, drop)
        new = contents.get(key, _MISS)
        if new is _CLEAN:
            return text
        if new is _MISS:
            new = self._content_uncached(text, genai, drop)
            if len(contents) >= _CONTENT_CACHE_SIZE:
                contents.clear()
            contents[key] = _CLEAN if new is text else new
        return new

    def _content_uncached(self, text: str, genai: bool, drop: bool) -> str:
        if not drop:
            return self._keep_content(text, genai)
        new = self._text_uncached(_content.drop(text)) if genai else _content.redacted(text)
        return text if new == text else new  # already dropped (a second redaction) is no change

    def _keep_content(self, text: str, genai: bool) -> str:
        """Kept content: scrubbed as a raw string unless blobs or truncation need it parsed."""
        limit = self._limit
        blobs = genai and self._media and '"blob"' in text
        if not blobs and (limit is None or len(text) <= limit):
            return self._text_uncached(text)
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, (list, dict)):  # not JSON (or a JSON scalar): a plain string, cut
            out = self._text_uncached(text)
            return out if limit is None else _content.cut(out, limit)
        changed = blobs and _content.replace_blobs(value)  # first: base64 is long and needs no scan
        changed = _content.scrub_strings(value, self._text) or changed
        if limit is not None:
            out = to_json(value)
            if len(out) > limit:
                out = _content.truncate(value, _content.content_slots(value, genai), limit, out)
                return text if out == text else out  # truncated already (a second redaction): no change
            return out if changed or len(text) > limit else text
        return to_json(value) if changed else text


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
