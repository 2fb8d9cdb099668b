"""The collector's own metrics in Prometheus text format (``GET /metrics`` on the admin listener).

Receiver counts (per signal, tenant and reason) are prometheus_client counters in a registry of
this collector; destination counts are read from the pipeline's accounting at scrape time, so they
are the very numbers the health API and the shutdown log show.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from otel_llm.collector.auth import Sender

_log = logging.getLogger("otel_llm.collector")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
disable_created_metrics()  # the *_created series only repeat the start time, once per label set


class CollectorMetrics:
    def __init__(self, service: Any) -> None:
        self._service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self._received = Counter(
            "otel_llm_collector_received_items",
            "Spans, data points and log records accepted from senders",
            ["signal", "tenant"],
            registry=self.registry,
        )
        self._refused = Counter(
            "otel_llm_collector_refused_items",
            "Items not accepted: invalid (partial success), queue_full and too_large (the sender may retry)",
            ["signal", "tenant", "reason"],
            registry=self.registry,
        )
        self.requests = Counter(
            "otel_llm_collector_requests",
            "Export requests by transport, signal and reply status",
            ["transport", "signal", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "otel_llm_collector_request_duration_seconds",
            "Time from a request's arrival to its reply",
            ["transport"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self._lost = Counter(
            "otel_llm_collector_lost",
            "Accepted, never routed: spans (reason shutdown) or logged requests (unreadable_record, wal_damaged)",
            ["reason"],
            registry=self.registry,
        )
        self._overflow = Counter(
            "otel_llm_collector_wal_overflow_records",
            "Requests the write-ahead log dropped for its disk budget before a destination had them",
            ["destination"],
            registry=self.registry,
        )
        self._forwarded = Counter(
            "otel_llm_collector_forwarded_items",
            "Data points and log records forwarded to destinations (outcome: forwarded or dropped)",
            ["destination", "signal", "outcome"],
            registry=self.registry,
        )
        self.registry.register(_PipelineFamilies(service))

    def forwarded(self, destination: str, signal: str, outcome: str, count: int) -> None:
        self._forwarded.labels(destination, signal, outcome).inc(count)

    def received(self, signal: str, sender: Sender, count: int) -> None:
        self._received.labels(signal, sender.label).inc(count)

    def refused(self, signal: str, sender: Sender, count: int, reason: str) -> None:
        self._refused.labels(signal, sender.label, reason).inc(count)

    def lost_at_shutdown(self, count: int) -> None:
        self._lost.labels("shutdown").inc(count)

    def unreadable_record(self) -> None:
        self._lost.labels("unreadable_record").inc()

    def wal_overflow(self, destination: str, records: int) -> None:
        self._overflow.labels(destination).inc(records)
        _log.warning(
            "otel-llm collector: disk budget reached; destination %r lost %d undelivered requests", destination, records
        )

    def wal_damaged(self, destination: str, records: int) -> None:
        self._lost.labels("wal_damaged").inc(records)
        _log.warning("otel-llm collector: %d damaged requests in the log skipped for %r", records, destination)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _PipelineFamilies:
    """Destination counts and queue depths, read from the pipeline when scraped."""

    def __init__(self, service: Any) -> None:
        self._service = service

    def describe(self) -> list[Metric]:
        return []  # families are only known at scrape time

    def collect(self) -> Iterator[Metric]:
        service = self._service
        pipeline = getattr(service, "pipeline", None)
        if pipeline is None:
            return
        exported = CounterMetricFamily(
            "otel_llm_collector_exported_spans", "Spans a destination took", labels=["destination"]
        )
        dropped = CounterMetricFamily(
            "otel_llm_collector_dropped_spans",
            "Spans that did not reach a destination",
            labels=["destination", "reason"],
        )
        retried = CounterMetricFamily(
            "otel_llm_collector_retried_spans", "Spans sent again after a retryable failure", labels=["destination"]
        )
        depth = GaugeMetricFamily(
            "otel_llm_collector_queue_depth",
            "Waiting per destination: spans in memory, or requests in the write-ahead log when persistent",
            labels=["destination"],
        )
        for name, snap in pipeline.stats().items():
            exported.add_metric([name], snap["exported"])
            retried.add_metric([name], snap["retried"])
            depth.add_metric([name], snap["queue_depth"])
            for reason, count in snap["dropped"].items():
                dropped.add_metric([name, reason], count)
        yield from (exported, dropped, retried, depth)
        intake = getattr(service, "intake", None)
        if intake is not None:
            yield GaugeMetricFamily(
                "otel_llm_collector_intake_spans", "Accepted spans not yet routed", value=intake.depth
            )
        wal = getattr(service, "wal", None)
        if wal is not None:
            yield GaugeMetricFamily(
                "otel_llm_collector_wal_bytes", "Bytes in the write-ahead log", value=wal.size_bytes
            )
