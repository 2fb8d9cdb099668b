"""The destinations pipeline: one span processor that routes each ended span to its destinations.

Per destination the chain is route/filter (here, on the application thread, a few attribute reads)
→ bounded queue → worker: redact → export with retries (``destination.py``). Each destination gets
its own redacted copy, so one destination's redaction never shows in another's data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from otel_llm._safety import report
from otel_llm.processing.accounting import Accounting
from otel_llm.processing.destination import Destination
from otel_llm.processing.routing import Router


class Pipeline(SpanProcessor):
    """Add to a TracerProvider with ``add_span_processor``; nothing else needs to export its spans."""

    def __init__(
        self,
        destinations: Iterable[Destination],
        *,
        default_destinations: Iterable[str] | None = None,
        tenants: Mapping[str, Sequence[str]] | None = None,
        meter_provider: Any = None,
        start: bool = True,
    ) -> None:
        """``start=False``: the destinations get no queue worker; spans reach them through
        ``Destination.deliver`` (the collector's durable delivery)."""
        self.destinations = {d.name: d for d in destinations}
        defaults = list(self.destinations) if default_destinations is None else list(default_destinations)
        self.router = Router({n: d.filter for n, d in self.destinations.items()}, defaults, tenants)
        self.accounting = Accounting(self.destinations, meter_provider)
        self._start = start
        self._shutdown_lock = threading.Lock()
        self._is_shutdown = False
        for destination in self.destinations.values():
            self._begin(destination)

    def _begin(self, destination: Destination) -> None:
        if self._start:
            destination.start(self.accounting)
        else:
            destination.attach(self.accounting)

    def update(
        self,
        added: Iterable[Destination],
        removed: Iterable[str],
        default_destinations: Iterable[str],
        tenants: Mapping[str, Sequence[str]],
    ) -> list[Destination]:
        """Change the destinations and routes of a running pipeline (the collector's admin API).

        New destinations start before the new routes apply; removed ones stop receiving at once and
        are returned for the caller to shut down (they drain their queues). Destinations neither
        added nor removed keep their queues and totals. ValueError (nothing changed) when a route
        names an unknown destination.
        """
        added = list(added)
        removed = set(removed)
        destinations = {n: d for n, d in self.destinations.items() if n not in removed}
        destinations.update((d.name, d) for d in added)
        router = Router({n: d.filter for n, d in destinations.items()}, default_destinations, tenants)
        for destination in added:
            self.accounting.add(destination.name)
            self._begin(destination)
        gone = [self.destinations[n] for n in removed if n in self.destinations]
        self.destinations, self.router = destinations, router  # readers take one or the other, both valid
        for destination in gone:
            self.accounting.forget(destination.name)
        return gone

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        try:
            if span.context.trace_flags.sampled:
                self.route(span)
        except Exception as err:  # a bug here must never reach the code that ended the span
            report("processing.route", err)

    def route(self, span: ReadableSpan) -> None:
        """Offer a finished span to its destinations (the collector's spans were sampled by their sender)."""
        try:
            router, destinations = self.router, self.destinations  # update() swaps them while we run
            for name in router.route(span):
                destination = destinations.get(name)
                if destination is not None:  # None: removed by update() a moment ago
                    destination.offer(span)
        except Exception as err:  # a bug here must never reach the code that ended the span
            report("processing.route", err)

    def route_many(self, spans: Iterable[ReadableSpan]) -> None:
        """``route`` for many spans at once: each destination takes its share under one lock."""
        try:
            router, destinations = self.router, self.destinations
            shares: dict[str, list[ReadableSpan]] = {}
            for span in spans:
                for name in router.route(span):
                    shares.setdefault(name, []).append(span)
            for name, share in shares.items():
                destination = destinations.get(name)
                if destination is not None:
                    destination.offer_many(share)
        except Exception as err:  # a bug here must never reach the caller
            report("processing.route", err)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per destination: exported, dropped (by reason), retried, last success/error, queue depth."""
        return self.accounting.snapshot()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Ask every destination at once, then wait: a hung destination does not delay the others."""
        deadline = time.monotonic() + timeout_millis / 1000
        waits = [d.request_flush() for d in self.destinations.values() if d.running]
        return all([event.wait(max(0.0, deadline - time.monotonic())) for event in waits])

    def shutdown(self) -> None:
        """Drain every destination at once (each within its own bound), then log the totals."""
        with self._shutdown_lock:
            if self._is_shutdown:
                return
            self._is_shutdown = True
        threads = [
            threading.Thread(target=d.shutdown, name=f"otel-llm-shutdown-{d.name}", daemon=True)
            for d in self.destinations.values()
        ]
        for thread in threads:
            thread.start()
        bound = max((d.queue_settings.shutdown_timeout for d in self.destinations.values()), default=0.0)
        deadline = time.monotonic() + bound + 1.0
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.accounting.log_totals()
