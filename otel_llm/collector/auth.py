"""Sender credentials → tenant. The tenant of a span is the one its credential maps to, never one the
sender wrote into the span: with auth on, ``otlp_wire.to_spans`` replaces any tenant attribute."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BEARER = "bearer "


@dataclass(frozen=True)
class Sender:
    """Who sent a request: authenticated (with its tenant, possibly none) or, with auth off, anyone."""

    authenticated: bool
    tenant: str | None = None

    @property
    def label(self) -> str:
        """For metrics and logs: the tenant, ``-`` for none."""
        return self.tenant or "-"


ANONYMOUS = Sender(authenticated=False)


def bearer_token(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value (scheme without case), else None."""
    if authorization[: len(BEARER)].lower() == BEARER:
        return authorization[len(BEARER) :].strip()
    return None


def _digest(token: str) -> bytes:
    # Looked up by digest: a dict probe on the digest leaks nothing usable about the tokens' bytes.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class Authenticator:
    """Checks ``Authorization: Bearer <token>`` or ``x-api-key: <token>`` against the configured tokens."""

    def __init__(self, tokens: Iterable[tuple[str, str | None]], required: bool) -> None:
        self._tenants = {_digest(token): tenant for token, tenant in tokens}
        self.required = required

    @classmethod
    def from_config(cls, auth: Any) -> Authenticator:
        return cls(((t.token.get_secret_value(), t.tenant) for t in auth.tokens), auth.enabled)

    def token_of(self, headers: Mapping[str, str]) -> str | None:
        """The credential in (lower-cased) request headers or gRPC metadata."""
        value = headers.get("authorization")
        if value is not None:
            return bearer_token(value)
        key = headers.get("x-api-key")
        return key.strip() if key is not None else None

    def sender(self, headers: Mapping[str, str]) -> Sender | None:
        """The sender of a request, or None when it must be refused (auth required, no known token).

        With auth optional (``required: false`` beside tokens), a known token still sets the tenant
        and anything else is anonymous, trusted to say its own tenant."""
        token = self.token_of(headers) if self._tenants else None
        tenant = self._tenants.get(_digest(token), _UNKNOWN) if token else _UNKNOWN
        if tenant is not _UNKNOWN:
            return Sender(authenticated=True, tenant=tenant)  # type: ignore[arg-type]
        return None if self.required else ANONYMOUS


_UNKNOWN: Any = object()
