"""The ``redaction`` block: the global defaults, and each destination's overrides of them.

A destination's block only changes the keys it sets (``model_fields_set``); ``merge`` gives the
effective settings under the field names of ``otel_llm.processing.redaction.RedactionSettings``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from otel_llm.config._types import Block, Bool, Choice, Int, OptionalSecret, Regex, Text, expected
from otel_llm.processing._settings import DEFAULT_IDENTIFIER_ATTRIBUTES, PII_KINDS


def _identifier_check(value: Any) -> Any:
    if isinstance(value, str) and ("*" in value.rstrip("*") or value.strip() == "*"):
        raise expected("expected an attribute name, or a prefix ending in '*' (e.g. 'user.*')")
    return value


IdentifierAttribute = Annotated[Text, BeforeValidator(_identifier_check)]


class RedactionBlock(Block):
    """What a destination may see. Given globally (defaults for every destination) and per destination."""

    content: Choice("keep", "drop") = Field(  # type: ignore[valid-type]
        "keep", description="keep or drop message content (roles, structure and sizes stay)"
    )
    allow_request_override: Bool = Field(
        False,
        description="on a 'drop' destination, keep the content of requests that ask for it "
        "(otel_llm.redact.content=false)",
    )
    secrets: Bool = Field(True, description="scrub API keys, AWS keys, bearer tokens, JWTs and private keys")
    secret_patterns: tuple[Regex, ...] = Field((), description="extra regular expressions whose matches are scrubbed")
    pii: tuple[Choice(*PII_KINDS), ...] = Field(  # type: ignore[valid-type]
        (), description="personal data to mask: email, phone, card (card numbers pass a Luhn check)"
    )
    media: Choice("placeholder", "keep") = Field(  # type: ignore[valid-type]
        "placeholder", description="replace base64 / data: URI media by '[media <type> <bytes> sha256:<hash>]'"
    )
    max_content_chars: Int(64) | None = Field(  # type: ignore[valid-type]
        None, description="truncate longer content attribute values (JSON stays valid); null: no limit"
    )
    identifiers: Choice("keep", "hash", "drop") = Field(  # type: ignore[valid-type]
        "keep", description="user and key identifiers: keep, hash (HMAC-SHA256 with hash_key, else SHA-256) or drop"
    )
    identifier_attributes: tuple[IdentifierAttribute, ...] = Field(
        DEFAULT_IDENTIFIER_ATTRIBUTES,
        description="attributes holding identifiers; a name ending in '*' is a prefix",
    )
    hash_key: OptionalSecret = Field(None, description="secret key for hashing identifiers (HMAC-SHA256)")


_DEFAULTS = RedactionBlock()


def merge(*blocks: RedactionBlock | None) -> dict[str, Any]:
    """The defaults, then each block's own keys in turn; tuples for lists, hash_key as a plain str."""
    settings = {name: getattr(_DEFAULTS, name) for name in RedactionBlock.model_fields}
    for block in blocks:
        if block is not None:
            settings.update(block.given())
    key = settings["hash_key"]
    settings["hash_key"] = key.get_secret_value() if key is not None else None
    for name in ("secret_patterns", "pii", "identifier_attributes"):
        settings[name] = tuple(dict.fromkeys(settings[name]))
    return settings
