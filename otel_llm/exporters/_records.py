"""The shared base of the record exporters: LLM spans in, one record per call out.

Subclasses implement ``send(records, spans)`` and raise :class:`ExportError` saying whether a retry
could help. The pipeline calls :meth:`RecordExporter.export_batch` and decides on retries itself;
anything else (a plain ``BatchSpanProcessor``) calls :meth:`RecordExporter.export`, which never
raises. Either way our own network calls run with instrumentation suppressed, so exporting a call
never makes spans in the user's trace (and never feeds itself).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_llm.records import is_llm_span, to_record

_log = logging.getLogger("otel_llm.exporters")




class ExportError(Exception):
    """A batch was not delivered. ``retryable``: the same batch may succeed later (the destination
    is down, slow or throttling); False: retrying cannot help (bad credentials, no such bucket)."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class RecordExporter(SpanExporter):
    """Turns each batch's LLM spans into records and hands them to :meth:`send`.

    Spans without ``gen_ai.operation.name`` are skipped and count as exported: records describe
    LLM calls, and the rest of a trace belongs in a tracing backend.
    """

    def __init__(self) -> None:
        self._shut_down = False

    def send(self, records: list[dict], spans: Sequence[ReadableSpan]) -> None:
        """Deliver ``records`` (``records[i]`` is made from ``spans[i]``); raise ExportError on failure."""
        raise NotImplementedError

    def export_batch(self, spans: Sequence[ReadableSpan]) -> None:
        """Export one batch; raises :class:`ExportError` when it was not delivered."""
        if self._shut_down:
            raise ExportError(f"{type(self).__name__} is shut down", retryable=False)
        llm = [span for span in spans if is_llm_span(span)]
        if not llm:
            return
        try:
            records = [to_record(span) for span in llm]
        except Exception as err:  # a span we cannot read will not become readable on a retry
            raise ExportError(f"could not build records: {type(err).__name__}: {err}", retryable=False) from err
        with suppress_instrumentation():
            self.send(records, llm)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """SpanExporter API: never raises; a failure is logged as a warning and returned as FAILURE."""
        try:
            self.export_batch(spans)
        except ExportError as err:
            _log.warning("otel-llm %s failed to export %d spans: %s", type(self).__name__, len(spans), err)
            return SpanExportResult.FAILURE
        except Exception as err:  # a bug of ours must not reach the span processor's thread
            name, count, kind = type(self).__name__, len(spans), type(err).__name__
            _log.warning("otel-llm %s failed to export %d spans: %s: %s", name, count, kind, err)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._shut_down:
            return
        self._shut_down = True
        try:
            self.close()
        except Exception as err:
            _log.warning("otel-llm %s failed to close: %s: %s", type(self).__name__, type(err).__name__, err)

    def close(self) -> None:
        """Release resources (files, clients); called once by :meth:`shutdown`."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Every exporter here delivers within ``send``: nothing is buffered."""
        return True
