"""What each destination did with its spans: exported, dropped (and why), retried.

Counted in memory (``DestinationStats``, read by ``Pipeline.stats()``, the shutdown log line and
later the collector's health API) and as OTel metrics, so a loss is never silent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.metrics import CallbackOptions, Observation, get_meter

from otel_llm._fork import after_fork_in_child
from otel_llm.version import __version__

_log = logging.getLogger("otel_llm.processing")

# Why a span did not reach a destination.
QUEUE_FULL = "queue_full"  # the destination's queue was at max_size when the span ended
EXPORT_FAILED = "export_failed"  # the exporter failed for good (non-retryable, or retries exhausted)
SHUTDOWN = "shutdown"  # still queued or in flight when the shutdown bound ran out, or ended after shutdown
REDACTION_FAILED = "redaction_failed"  # the redactor raised: the span is dropped rather than sent unredacted
DROP_REASONS = (QUEUE_FULL, EXPORT_FAILED, SHUTDOWN, REDACTION_FAILED)
# The two fates of a span offered to a destination.
EXPORTED = "exported"
DROPPED = "dropped"

METRIC_EXPORTED = "otel_llm.destination.spans.exported"
METRIC_DROPPED = "otel_llm.destination.spans.dropped"
METRIC_RETRIED = "otel_llm.destination.spans.retried"
METRIC_QUEUE_SIZE = "otel_llm.destination.queue.size"
ATTR_DESTINATION = "otel_llm.destination.name"
ATTR_REASON = "otel_llm.drop.reason"

WARN_INTERVAL_S = 10.0  # at most one drop warning per destination per interval


@dataclass
class DestinationStats:
    """Totals for one destination since start. Updated under the destination's lock."""

    exported: int = 0
    retried: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    last_success: float | None = None  # time.time() of the last successful export
    last_error: str | None = None
    last_error_time: float | None = None

    def snapshot(self, queue_depth: int) -> dict[str, Any]:
        return {
            "exported": self.exported,
            "dropped": dict(self.dropped),
            "dropped_total": sum(self.dropped.values()),
            "retried": self.retried,
            "last_success": self.last_success,
            "last_error": self.last_error,
            "last_error_time": self.last_error_time,
            "queue_depth": queue_depth,
        }


class Accounting:
    """Counts for every destination of one pipeline, as stats, OTel metrics and rate-limited log lines."""

    def __init__(self, names: Iterable[str], meter_provider: Any = None) -> None:
        self._names = tuple(names)
        self._reset()
        self._depth: dict[str, Callable[[], int]] = {}
        after_fork_in_child(self, Accounting._reset)  # a forked child counts its own spans, with a fresh lock
        meter = get_meter("otel_llm.processing", __version__, meter_provider)
        self._exported = meter.create_counter(METRIC_EXPORTED, unit="{span}", description="Spans a destination took")
        self._dropped = meter.create_counter(
            METRIC_DROPPED, unit="{span}", description="Spans that did not reach a destination, by reason"
        )
        self._retried = meter.create_counter(
            METRIC_RETRIED, unit="{span}", description="Spans sent again after a retryable failure"
        )
        meter.create_observable_gauge(
            METRIC_QUEUE_SIZE,
            callbacks=[self._observe_depth],
            unit="{span}",
            description="Spans waiting per destination",
        )

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self.stats = {name: DestinationStats() for name in self._names}
        self._pending_warn: dict[str, Counter[str]] = {name: Counter() for name in self._names}
        self._last_warn: dict[str, float] = dict.fromkeys(self._names, 0.0)

    def watch_depth(self, name: str, depth: Callable[[], int]) -> None:
        self._depth[name] = depth

    def add(self, name: str) -> None:
        """Count for one more destination (the collector's admin API adds them while running);
        a name seen before keeps its totals."""
        with self._lock:
            if name not in self.stats:
                self._names = (*self._names, name)
                self.stats[name] = DestinationStats()
                self._pending_warn[name] = Counter()
                self._last_warn[name] = 0.0

    def forget(self, name: str) -> None:
        """A destination that was removed: its totals stay, it no longer has a queue to report."""
        self._depth.pop(name, None)

    def _observe_depth(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(fn(), {ATTR_DESTINATION: name}) for name, fn in self._depth.items()]

    def exported(self, name: str, count: int) -> None:
        with self._lock:
            stats = self.stats[name]
            stats.exported += count
            stats.last_success = time.time()
        self._exported.add(count, {ATTR_DESTINATION: name})

    def retried(self, name: str, count: int, error: str) -> None:
        with self._lock:
            stats = self.stats[name]
            stats.retried += count
            stats.last_error, stats.last_error_time = error, time.time()
        self._retried.add(count, {ATTR_DESTINATION: name})

    def dropped(self, name: str, count: int, reason: str, error: str | None = None) -> None:
        if count <= 0:
            return
        now = time.monotonic()
        with self._lock:
            stats = self.stats[name]
            stats.dropped[reason] += count
            if error is not None:
                stats.last_error, stats.last_error_time = error, time.time()
            pending = self._pending_warn[name]
            pending[reason] += count
            due = now - self._last_warn[name] >= WARN_INTERVAL_S
            if due:
                self._last_warn[name] = now
                report, self._pending_warn[name] = dict(pending), Counter()
        self._dropped.add(count, {ATTR_DESTINATION: name, ATTR_REASON: reason})
        if due:
            _log.warning(
                "otel-llm destination %r dropped spans: %s%s",
                name,
                ", ".join(f"{n} {r}" for r, n in sorted(report.items())),
                f" (last error: {error})" if error else "",
            )

    def snapshot(self) -> dict[str, dict[str, Any]]:
        depth = self._depth
        with self._lock:
            return {name: stats.snapshot(depth[name]() if name in depth else 0) for name, stats in self.stats.items()}

    def log_totals(self) -> None:
        """One line per destination, at shutdown; a warning when anything was dropped."""
        for name, snap in self.snapshot().items():
            level = logging.WARNING if snap["dropped"] else logging.INFO
            _log.log(level, "otel-llm destination %r: %s", name, totals(snap))


def totals(snap: Mapping[str, Any]) -> str:
    """``exported=120 dropped=3 (queue_full=3) retried=0``: one destination's counts in words."""
    dropped = snap["dropped"]
    reasons = f" ({', '.join(f'{r}={n}' for r, n in sorted(dropped.items()))})" if dropped else ""
    return f"exported={snap['exported']} dropped={snap['dropped_total']}{reasons} retried={snap['retried']}"
