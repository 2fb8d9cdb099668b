"""A Pipeline from a validated configuration: one exporter, redactor, filter and queue per destination."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter

from otel_llm.processing.destination import Destination, QueueSettings, RetrySettings
from otel_llm.processing.pipeline import Pipeline
from otel_llm.processing.redaction import RedactionSettings, Redactor
from otel_llm.processing.routing import Filter


def _secret(value: Any) -> Any:
    """The plain value of a pydantic SecretStr (or of anything else)."""
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else value


def plain_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """A destination's headers with their secret values unwrapped, for an HTTP or gRPC client."""
    return {k: _secret(v) for k, v in (headers or {}).items()}


def _otlp(dest: Any) -> SpanExporter:
    from otel_llm.exporters.otlp import otlp_span_exporter

    return otlp_span_exporter(
        dest.endpoint,
        protocol=dest.protocol,
        headers=plain_headers(dest.headers),
        insecure=dest.insecure,
        timeout=dest.timeout,
        gzip=dest.compression == "gzip",
    )


def build_exporter(dest: Any) -> SpanExporter:
    """The exporter a destination's configuration describes."""
    kind = dest.type
    if kind == "otlp":
        return _otlp(dest)
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if kind == "file":
        from otel_llm.exporters.file import FileExporter

        return FileExporter(
            path=dest.path, max_bytes=dest.max_bytes, rotate_every=dest.rotate_every, backups=dest.backups
        )
    if kind == "webhook":
        from otel_llm.exporters.webhook import WebhookExporter

        return WebhookExporter(
            url=dest.url, headers=plain_headers(dest.headers), format=dest.format, timeout=dest.timeout
        )
    if kind == "s3":
        from otel_llm.exporters.s3 import S3Exporter

        return S3Exporter(
            bucket=dest.bucket,
            prefix=dest.prefix,
            region=dest.region,
            endpoint_url=dest.endpoint_url,
            tenant_prefix=dest.tenant_prefix,
            key_alias_prefix=dest.key_alias_prefix,
            key_alias_attribute=dest.key_alias_attribute,
            access_key_id=_secret(dest.access_key_id),
            secret_access_key=_secret(dest.secret_access_key),
            session_token=_secret(dest.session_token),
        )
    backend = getattr(dest, "backend", None)
    if backend is not None:
        from otel_llm.backends import BackendSpanExporter

        return BackendSpanExporter.from_values(backend, dest.options())
    raise ValueError(f"destination type {kind!r} has no exporter")


def build_destination(name: str, dest: Any, redaction: Mapping[str, Any]) -> Destination:
    f, q, r = dest.filter, dest.queue, dest.retry
    return Destination(
        name,
        build_exporter(dest),
        redactor=Redactor(RedactionSettings(**redaction)),
        filter=Filter(status=f.status, tags=frozenset(f.tags), sample_ratio=f.sample_ratio, genai_only=f.genai_only),
        queue=QueueSettings(
            max_size=q.max_size,
            batch_size=q.batch_size,
            flush_interval=q.flush_interval,
            shutdown_timeout=q.shutdown_timeout,
        ),
        retry=RetrySettings(max_attempts=r.max_attempts, initial_backoff=r.initial_backoff, max_backoff=r.max_backoff),
    )


def build_pipeline(
    config: Any,
    *,
    meter_provider: Any = None,
    extra: Mapping[str, SpanExporter] | None = None,
) -> Pipeline:
    """The pipeline for ``config``. ``extra`` exporters (e.g. from OTEL_TRACES_EXPORTER) become
    destinations too, under the global redaction settings, receiving what the defaults receive."""
    destinations = [
        build_destination(name, dest, config.redaction_for(name)) for name, dest in config.enabled().items()
    ]
    defaults = list(config.default_destination_names())
    for name, exporter in (extra or {}).items():
        if name in config.destinations:
            raise ValueError(
                f"exporters: {name!r} is already a destination of the configuration; give the exporter another name"
            )
        destinations.append(
            Destination(name, exporter, redactor=Redactor(RedactionSettings(**config.redaction_for(None))))
        )
        defaults.append(name)
    return Pipeline(
        destinations, default_destinations=defaults, tenants=tenant_routes(config), meter_provider=meter_provider
    )


def tenant_routes(config: Any) -> dict[str, tuple[str, ...]]:
    """Only tenants with a route of their own; the others fall through to the defaults (extras included)."""
    return {
        tenant_id: config.destinations_for_tenant(tenant_id)
        for tenant_id, tenant in config.tenants.items()
        if not tenant.logging or tenant.destinations is not None
    }
