"""Durable delivery: spans written to the write-ahead log before the sender's OK, then delivered to
every destination at least once, each destination reading the log at its own pace.

Each destination has a named cursor in the log and a thread that reads records, prepares their spans
(decode, normalise, cost: shared between destinations through a small cache), keeps those routed to
it, and hands them to ``Destination.deliver``, which retries for as long as the destination is down.
The cursor is committed only after that, so a crash or ``kill -9`` at any moment replays what was not
yet delivered: at least once, never lost. Beyond the disk budget the log drops its oldest records and
says how many each destination lost.
"""

from __future__ import annotations

import logging
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._safety import report

_log = logging.getLogger("otel_llm.collector")

_MAGIC = b"OT1"
_HEAD = struct.Struct("<3sBH")  # magic, flags, tenant length
_TRUST = 1  # the sender was not authenticated: the spans' own tenant attribute stands
_NO_TENANT = 0xFFFF


def encode_record(tenant: str | None, trust_tenant: bool, request: bytes) -> bytes:
    """One accepted ExportTraceServiceRequest as stored: who sent it, then its protobuf bytes."""
    name = b"" if tenant is None else tenant.encode("utf-8")
    if len(name) >= _NO_TENANT:
        raise ValueError("tenant id too long")
    length = _NO_TENANT if tenant is None else len(name)
    return _HEAD.pack(_MAGIC, _TRUST if trust_tenant else 0, length) + name + request


def decode_record(payload: bytes) -> tuple[str | None, bool, bytes]:
    magic, flags, length = _HEAD.unpack_from(payload)
    if magic != _MAGIC:
        raise ValueError("not a stored OTLP request")
    start = _HEAD.size
    if length == _NO_TENANT:
        return None, bool(flags & _TRUST), payload[start:]
    return payload[start : start + length].decode("utf-8"), bool(flags & _TRUST), payload[start + length :]


class PreparedRecords:
    """Spans of recent records, ready for routing: destinations reading the same records decode once."""

    def __init__(self, prepare: Callable[[bytes], list[ReadableSpan]], capacity: int = 128) -> None:
        self._prepare = prepare
        self._capacity = capacity
        self._cache: OrderedDict[int, list[ReadableSpan]] = OrderedDict()
        self._lock = threading.Lock()

    def spans(self, position: int, payload: bytes) -> list[ReadableSpan]:
        with self._lock:
            hit = self._cache.get(position)
            if hit is not None:
                self._cache.move_to_end(position)
                return hit
        spans = self._prepare(payload)
        with self._lock:
            self._cache[position] = spans
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        return spans


class DestinationReader:
    """One destination's thread over the log: read, keep its spans, deliver, commit."""

    def __init__(
        self,
        name: str,
        cursor: Any,
        records: PreparedRecords,
        pipeline: Callable[[], Any],
        *,
        read_records: int = 32,
    ) -> None:
        self.name = name
        self.cursor = cursor
        self._records = records
        self._pipeline = pipeline  # the current Pipeline (the admin API may replace destinations)
        self._read_records = read_records
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"otel-llm-delivery-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Stop after the export in progress (retries are cut short); True when the thread ended."""
        self.stopping.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                records = self.cursor.read(self._read_records, timeout=0.2)
                if records and not self._deliver(records):
                    self.cursor.rewind()  # stopped mid-way: the next start replays from the commit
                    return
        except Exception as err:  # a bug must not end delivery silently
            report("collector.delivery", err)
            _log.error("otel-llm collector: delivery to %r stopped: %s", self.name, err)

    def _deliver(self, records: Sequence[tuple[int, bytes]]) -> bool:
        pipeline = self._pipeline()
        destination = pipeline.destinations.get(self.name)
        if destination is None:  # removed: the service drops this reader's cursor
            return False
        route, name = pipeline.router.route, self.name
        mine: list[ReadableSpan] = []
        for position, payload in records:
            for span in self._records.spans(position, payload):
                if name in route(span):
                    mine.append(span)
        size = destination.queue_settings.batch_size
        for start in range(0, len(mine), size):
            if not destination.deliver(mine[start : start + size], self.stopping):
                return False
        self.cursor.commit(records[-1][0])
        return True
