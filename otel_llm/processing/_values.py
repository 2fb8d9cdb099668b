"""The value-level work of redaction: one attribute mapping, or one string, as a destination may see it.

``Redactor`` (redaction.py) walks a span's parts; this decides, per attribute key, what kind of value
it holds (plain, secret-named, identifier, content) and rewrites it: secrets and chosen PII scrubbed,
media replaced, content dropped or kept (scrubbed, truncated), identifiers hashed or dropped. Short
strings, keys and hashes are cached, since the same values repeat from span to span.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from otel_llm.genai.invocation import to_json
from otel_llm.processing import _content
from otel_llm.processing._content import CONTENT_ATTRIBUTES, is_content_attribute
from otel_llm.processing._media import replace_data_uris
from otel_llm.processing._secrets import Scrubber, is_secret_key
from otel_llm.processing._settings import RedactionSettings

REDACTED = "[REDACTED]"  # the whole value of an attribute whose name says it is a secret

# Attribute kinds, decided once per key and ValueRedactor.
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


class ValueRedactor:
    """One ``RedactionSettings`` applied to attribute mappings and strings. Thread-safe: its caches
    are plain dicts whose single operations are atomic; a lost entry only costs a recomputation."""

    def __init__(self, settings: RedactionSettings) -> None:
        s = settings
        scrubber = Scrubber(secrets=s.secrets, pii=s.pii, custom=s.secret_patterns)
        self._scrubber = scrubber if scrubber.active else None
        self._custom = bool(s.secret_patterns)
        self._secret_keys = s.secrets
        self._media = s.media == "placeholder"
        self._limit = s.max_content_chars
        self._identifiers = s.identifiers
        self._id_exact = frozenset(n for n in s.identifier_attributes if not n.endswith("*"))
        self._id_prefixes = tuple(n[:-1] for n in s.identifier_attributes if n.endswith("*"))
        self._hash_key = s.hash_key.encode() if s.hash_key else None
        self._kinds: dict[str, int] = {}
        self._plain: set[str] = set()  # keys of kind _PLAIN, for the hot loop
        self._cache: dict[str, Any] = {}
        self._hashes: dict[str, str] = {}
        self._contents: dict[tuple[str, bool, bool], Any] = {}

    # Attributes

    def attributes(self, attrs: Mapping[str, Any], drop: bool) -> dict[str, Any] | None:
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
                        new = self.text(value) if t is str else self._sequence(value)
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
            return self.text(value) if type(value) is str else self._value(value)
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
            return self.text(value)
        if t in _SCALARS:
            return value
        if t is bytes or t is bytearray:
            return self.text(_decode(value))
        if isinstance(value, (tuple, list)):
            return self._sequence(value)
        if isinstance(value, Mapping):
            return self._mapping(value, self._value)
        if isinstance(value, str):  # a str subclass (an enum member)
            return self.text(value)
        return value

    def _mapping(self, value: Mapping[Any, Any], fn: Callable[[Any], Any]) -> Any:
        """A mapping value (SDK extended attributes): keys scrubbed, ``fn`` on each value."""
        out: dict[Any, Any] = {}
        changed = False
        for k, v in value.items():
            new_key = self.text(k) if type(k) is str else k
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
        new = tuple(self.text(v) if type(v) is str else self._value(v) for v in value)
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

    def text(self, text: str) -> str:
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
        changed = _content.scrub_strings(value, self.text) or changed
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
