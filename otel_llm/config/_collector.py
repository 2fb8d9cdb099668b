"""The ``collector:`` block: what ``otel-llm collector`` listens on, who may send, and where it keeps state.

The rest of the file (destinations, redaction, tenants, prices) means the same in the collector
as in-process; only this block is the collector's own.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from otel_llm.config._types import Block, Bool, Duration, Int, OptionalSecret, Secret, Text, expected, problem

_HOST_PORT = re.compile(r"^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.\-]*)):(\d{1,5})$")
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KiB|MiB|GiB|KB|MB|GB)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "kb": 10**3, "mb": 10**6, "gb": 10**9}


def _endpoint(value: Any) -> Any:
    """``host:port`` (``:4317`` and ``[::1]:4317`` too); ``false``/``null`` switch the listener off."""
    if value is None or value is False or (isinstance(value, str) and value.strip().lower() in ("false", "off")):
        return None
    what = "expected host:port (e.g. 0.0.0.0:4318 or 127.0.0.1:4317), or false to switch it off"
    if not isinstance(value, str):
        raise expected(what)
    match = _HOST_PORT.match(value.strip())
    if match is None or not 0 <= int(match.group(3)) < 65536:  # port 0: any free port (tests)
        raise expected(what)
    return value.strip()


def parse_size(value: Any) -> int:
    """Bytes from an integer or a string such as ``"4MiB"``, ``"512KiB"``, ``"1GB"``."""
    what = "expected a size in bytes: an integer or a string such as '4MiB', '512KiB', '1GiB'"
    if isinstance(value, bool):
        raise expected(what)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (match := _SIZE.match(value)):
        number = int(match.group(1)) * _UNITS[(match.group(2) or "b").lower()]
    else:
        raise expected(what)
    if number < 1:
        raise expected(what)
    return number


Endpoint = Annotated[str | None, BeforeValidator(_endpoint)]
Size = Annotated[int, Field(ge=1), BeforeValidator(parse_size)]


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """``("0.0.0.0", 4318)`` from ``"0.0.0.0:4318"``; an empty host listens on every interface."""
    match = _HOST_PORT.match(endpoint)
    if match is None:  # validated already: only a programming error gets here
        raise ValueError(f"not host:port: {endpoint!r}")
    host = match.group(1) or match.group(2) or "0.0.0.0"
    return host, int(match.group(3))


class Listener(Block):
    endpoint: Endpoint = Field(description="host:port to listen on; false: off")


class Tls(Block):
    """Server certificates for every listener; ``client_ca_file`` also asks senders for theirs (mTLS)."""

    cert_file: Text = Field(description="PEM certificate chain")
    key_file: Text = Field(description="PEM private key")
    client_ca_file: Text | None = Field(None, description="PEM CA bundle: require client certificates it signed")


class Token(Block):
    """One credential. The tenant of every span sent with it comes from here, never from the span."""

    token: Secret = Field(description="the bearer token (Authorization: Bearer ...) or x-api-key value")
    tenant: Text | None = Field(None, description="the tenant these spans belong to; null: no tenant (defaults)")


class Auth(Block):
    """Who may send. With tokens given, a request without a known one is refused (401 / UNAUTHENTICATED)."""

    tokens: tuple[Token, ...] = Field((), description="the accepted credentials and their tenants")
    required: Bool | None = Field(None, description="refuse unauthenticated requests; null: when tokens are given")

    @model_validator(mode="after")
    def _usable(self) -> Auth:
        if self.required and not self.tokens:
            raise problem("required: true needs at least one entry in tokens", "required")
        seen: set[str] = set()
        for i, entry in enumerate(self.tokens):
            value = entry.token.get_secret_value()
            if value in seen:
                raise PydanticCustomError("config_problem", "the same token is listed twice", {"at": f"tokens[{i}]"})
            seen.add(value)
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.tokens) if self.required is None else self.required


class Admin(Block):
    """The admin API (tenants and their destinations, destination health), /metrics and /healthz."""

    endpoint: Endpoint = Field("127.0.0.1:4320", description="host:port; false: off")
    key: OptionalSecret = Field(None, description="Authorization: Bearer <key> for /admin/*; unset: admin routes off")


class Persistence(Block):
    """A write-ahead store: spans are on disk before the sender gets its OK, and reach every
    destination at least once, across crashes and destination outages."""

    enabled: Bool = Field(False, description="true: write spans to disk before acknowledging them")
    max_bytes: Size = Field(
        1 << 30, description="disk budget; beyond it the oldest undelivered spans are dropped and counted"
    )
    fsync: Bool = Field(
        True, description="false: faster, but a power loss (not a process crash) may lose acknowledged spans"
    )


class Collector(Block):
    """``otel-llm collector --config FILE``: OTLP receivers in front of the destinations pipeline."""

    grpc: Listener = Field(Listener(endpoint="0.0.0.0:4317"), description="OTLP/gRPC receiver")
    http: Listener = Field(Listener(endpoint="0.0.0.0:4318"), description="OTLP/HTTP receiver (protobuf and JSON)")
    tls: Tls | None = Field(None, description="serve every listener over TLS")
    auth: Auth = Auth()
    admin: Admin = Admin()
    state_directory: Text = Field("./otel-llm-state", description="admin changes and the persistence store live here")
    persistence: Persistence = Persistence()
    max_request_bytes: Size = Field(4 << 20, description="the largest request body, after decompression")
    max_queued_spans: Int(1) = Field(  # type: ignore[valid-type]
        100_000, description="spans accepted and not yet routed (without persistence); beyond: 503, retry later"
    )
    normalise: Bool = Field(True, description="map OpenLLMetry, OpenInference, Anthropic and LiteLLM spans to GenAI")
    shutdown_timeout: Duration(positive=False) = Field(  # type: ignore[valid-type]
        10.0, description="how long a graceful stop may take to deliver what is queued"
    )

    @model_validator(mode="after")
    def _some_receiver(self) -> Collector:
        if self.grpc.endpoint is None and self.http.endpoint is None:
            raise problem("expected at least one receiver: grpc.endpoint or http.endpoint")
        return self
