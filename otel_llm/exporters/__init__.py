"""Record exporters: LLM call records to a JSON Lines file, a webhook, or Amazon S3.

Each is an OpenTelemetry ``SpanExporter`` (usable with any span processor) built on
:class:`RecordExporter`. They are imported on first use, so boto3 loads only for S3.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from otel_llm.exporters._records import ExportError, RecordExporter

if TYPE_CHECKING:
    from otel_llm.exporters.file import FileExporter
    from otel_llm.exporters.s3 import S3Exporter
    from otel_llm.exporters.webhook import WebhookExporter

__all__ = ["ExportError", "FileExporter", "RecordExporter", "S3Exporter", "WebhookExporter"]

_LAZY = {
    "FileExporter": "otel_llm.exporters.file",
    "WebhookExporter": "otel_llm.exporters.webhook",
    "S3Exporter": "otel_llm.exporters.s3",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
