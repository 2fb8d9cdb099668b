"""The SDK's OTLP span exporters (gRPC or HTTP/protobuf), made from one set of plain settings.

Used by ``otlp`` destinations and by every backend preset, so the two cannot drift apart.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.sdk.trace.export import SpanExporter

Protocol = Literal["grpc", "http/protobuf"]
TRACES_PATH = "/v1/traces"


def traces_url(base: str, path: str = TRACES_PATH) -> str:
    """``base`` with ``path`` joined onto its path (before any query), as the SDK does with
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` (a base URL gets ``/v1/traces``). Where the base already ends
    with the start of ``path`` (``.../v1``, ``.../otel``: the bases vendors document), only the rest
    is added, so a documented base, or the full URL, is never doubled."""
    parts = urlsplit(base)
    have = [p for p in parts.path.split("/") if p]
    want = [p for p in path.split("/") if p]
    overlap = next((k for k in range(min(len(have), len(want)), 0, -1) if have[-k:] == want[:k]), 0)
    return urlunsplit(parts._replace(path="/" + "/".join(have + want[overlap:])))


# What the SDK's exporters read from the environment besides their arguments: the credentials and
# TLS files meant for the user's OTLP collector, which must never reach another backend.
GENERIC_OTLP_VARIABLES = tuple(
    f"OTEL_EXPORTER_OTLP_{signal}{what}"
    for signal in ("", "TRACES_")
    for what in ("HEADERS", "CERTIFICATE", "CLIENT_KEY", "CLIENT_CERTIFICATE")
)
_environ_lock = threading.Lock()


@contextmanager
def _without_generic_otlp_variables() -> Iterator[None]:
    """The SDK exporters read these at construction only, so they are hidden for that moment."""
    with _environ_lock:
        saved = {k: os.environ.pop(k) for k in GENERIC_OTLP_VARIABLES if k in os.environ}
        try:
            yield
        finally:
            os.environ.update(saved)


def otlp_span_exporter(
    endpoint: str,
    *,
    protocol: Protocol = "grpc",
    headers: Mapping[str, str] | None = None,
    insecure: bool | None = None,
    timeout: float = 10.0,
    gzip: bool = False,
    isolated: bool = False,
) -> SpanExporter:
    """An OTLP exporter to ``endpoint``: for HTTP, a base URL or the full traces URL.

    ``isolated``: headers and TLS settings are only those given, never ``OTEL_EXPORTER_OTLP_*``
    (a backend preset must not receive the collector's token)."""
    if isolated:
        with _without_generic_otlp_variables():
            return otlp_span_exporter(
                endpoint, protocol=protocol, headers=headers, insecure=insecure, timeout=timeout, gzip=gzip
            )
    if protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter(
            endpoint=endpoint,
            insecure=insecure,
            # gRPC metadata keys must be lower-case; the HTTP exporter lower-cases them itself.
            headers={k.lower(): v for k, v in headers.items()} if headers else None,
            timeout=timeout,
            compression=Compression.Gzip if gzip else None,
        )
    if protocol != "http/protobuf":
        raise ValueError(f"protocol: expected grpc or http/protobuf, got {protocol!r}")
    from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    return HttpExporter(
        endpoint=traces_url(endpoint),
        headers=dict(headers) if headers else None,
        timeout=timeout,
        compression=HttpCompression.Gzip if gzip else HttpCompression.NoCompression,
    )
