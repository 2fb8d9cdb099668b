"""``RedactionSettings``: one destination's redaction, validated when it is made.

The fields are the ``redaction`` keys of the configuration file (docs/redaction.md); the config
loader validates them with key paths, and this class checks them again for callers that build
settings in code, with errors naming the field, the value and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from otel_llm.processing._secrets import PII_KINDS

DEFAULT_IDENTIFIER_ATTRIBUTES: tuple[str, ...] = (
    "user.id",
    "enduser.id",
    "user.email",
    "user.name",
    "user.full_name",
    "otel_llm.metadata.user_api_key*",
)


def _choice(field: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"redaction.{field}: {value!r} is not valid; expected one of {', '.join(allowed)}")


def _strings(field: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"redaction.{field}: {value!r} is not valid; expected a list of strings")
    return tuple(value)


@dataclass(frozen=True)
class RedactionSettings:
    """One destination's redaction; the fields are the ``redaction`` keys of the configuration."""

    content: str = "keep"
    allow_request_override: bool = False
    secrets: bool = True
    secret_patterns: tuple[str, ...] = ()
    pii: tuple[str, ...] = ()
    media: str = "placeholder"
    max_content_chars: int | None = None
    identifiers: str = "keep"
    identifier_attributes: tuple[str, ...] = DEFAULT_IDENTIFIER_ATTRIBUTES
    hash_key: str | None = None

    def __post_init__(self) -> None:
        _choice("content", self.content, ("keep", "drop"))
        _choice("media", self.media, ("placeholder", "keep"))
        _choice("identifiers", self.identifiers, ("keep", "hash", "drop"))
        for field in ("allow_request_override", "secrets"):
            if not isinstance(getattr(self, field), bool):
                raise ValueError(f"redaction.{field}: {getattr(self, field)!r} is not valid; expected true or false")
        for field in ("secret_patterns", "pii", "identifier_attributes"):  # lists from YAML become tuples
            object.__setattr__(self, field, _strings(field, getattr(self, field)))
        for i, pattern in enumerate(self.secret_patterns):
            try:
                compiled = re.compile(pattern)
            except re.error as err:
                raise ValueError(
                    f"redaction.secret_patterns[{i}]: {pattern!r} is not valid ({err}); "
                    "expected a Python regular expression"
                ) from None
            if compiled.search("") is not None:
                raise ValueError(
                    f"redaction.secret_patterns[{i}]: {pattern!r} matches the empty string; "
                    "expected a pattern that matches the secret itself"
                )
        for kind in self.pii:
            if kind not in PII_KINDS:
                kinds = ", ".join(PII_KINDS)
                raise ValueError(f"redaction.pii: {kind!r} is not a PII kind; expected a subset of {kinds}")
        limit = self.max_content_chars
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 64):
            raise ValueError(f"redaction.max_content_chars: {limit!r} is not valid; expected an integer >= 64 or null")
        for name in self.identifier_attributes:
            if not name or name == "*" or "*" in name[:-1]:
                raise ValueError(
                    f"redaction.identifier_attributes: {name!r} is not valid; "
                    "expected an attribute name, or a prefix ending in '*' (e.g. 'user.*')"
                )
        if self.hash_key is not None and (not isinstance(self.hash_key, str) or not self.hash_key):
            raise ValueError("redaction.hash_key: expected a non-empty string or null")
