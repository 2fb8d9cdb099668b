"""The SDK's OTLP span exporters (gRPC or HTTP/protobuf), made from one set of plain settings.

Used by ``otlp`` destinations and by every backend preset, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.sdk.trace.export import SpanExporter

Protocol = Literal["grpc", "http/protobuf"]
TRACES_PATH = "/v1/traces"


def traces_url(base: str, path: str = TRACES_PATH) -> str:
    """``base`` with ``path`` appended to its path (before any query) unless it already ends with
    it, as the SDK does with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (a base URL gets ``/v1/traces``)."""
    parts = urlsplit(base)
    current = parts.path.rstrip("/")
    if not current.endswith(path):
        current += path
    return urlunsplit(parts._replace(path=current))


def otlp_span_exporter(
    endpoint: str,
    *,
    protocol: Protocol = "grpc",
    headers: Mapping[str, str] | None = None,
    insecure: bool | None = None,
    timeout: float = 10.0,
    gzip: bool = False,
) -> SpanExporter:
    """An OTLP exporter to ``endpoint``: for HTTP, a base URL or the full traces URL."""
    if protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter(
            endpoint=endpoint,
            insecure=insecure,
            headers=dict(headers) if headers else None,
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
