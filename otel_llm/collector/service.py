"""The collector without its network: what receivers call, and what the admin API changes.

``Service.export(signal, sender, request)`` takes one decoded OTLP request from an authenticated
sender and answers with the partial-success counts, or raises ``Refused`` (retryable: queue full,
shutting down) or ``TooLarge`` (not retryable: over the whole disk budget). Traces go, with the
sender's tenant, into the in-memory intake or the write-ahead log, then through normalisation and
cost into the very same ``Pipeline`` the SDK uses.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._safety import report
from otel_llm.collector import otlp_wire
from otel_llm.collector.auth import Authenticator, Sender
from otel_llm.collector.changes import AdminChanges
from otel_llm.collector.delivery import DestinationReader, PreparedRecords, decode_record, encode_record
from otel_llm.collector.forward import Forwarder
from otel_llm.collector.intake import MemoryIntake
from otel_llm.collector.metrics import CollectorMetrics
from otel_llm.collector.wal import WalClosed
from otel_llm.config import Config
from otel_llm.config._collector import Collector
from otel_llm.config._load import read_file, validate
from otel_llm.genai.attributes import TENANT_ID
from otel_llm.processing.build import build_destination, tenant_routes
from otel_llm.processing.pipeline import Pipeline

_log = logging.getLogger("otel_llm.collector")


class Refused(Exception):
    """The request was valid but cannot be taken now; the sender should retry later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLarge(Exception):
    """The request can never be taken as it is (it exceeds the disk budget on its own): 413 /
    RESOURCE_EXHAUSTED, which senders do not retry."""


def _pricer(config: Config) -> Any:
    from otel_llm.genai.cost import Pricer, cost_from_env

    if not (config.cost if config.cost is not None else cost_from_env()):
        return None
    return Pricer(config.prices, source="prices")


class Service:
    """One collector: auth, intake (memory or durable), pipeline, admin changes, metrics."""

    def __init__(self, source: str | Path | Mapping[str, Any], *, environ: Mapping[str, str] | None = None) -> None:
        if isinstance(source, Mapping):
            self._base, self._source = dict(source), None
        else:
            self._base, self._source = read_file(source)
            self._base = self._base or {}
        self._environ = environ
        first = validate(self._base, self._source, environ)
        self.settings: Collector = first.collector or Collector()
        self._file_defaults = first.default_destination_names()
        self.state_directory = Path(self.settings.state_directory)
        self.changes = AdminChanges(self.state_directory)
        self.config = self._validate(self.changes)
        self.auth = Authenticator.from_config(self.settings.auth)
        self.metrics = CollectorMetrics(self)
        self._prepare_span = self._preparer(self.config)
        self.durable = self.settings.persistence.enabled
        self.pipeline = Pipeline(
            [build_destination(n, d, self.config.redaction_for(n)) for n, d in self.config.enabled().items()],
            default_destinations=self.config.default_destination_names(),
            tenants=tenant_routes(self.config),
            start=not self.durable,
        )
        self._forwarders: dict[str, Forwarder] = {}
        self._forward_to(self.config.enabled())
        self._admin_lock = threading.Lock()
        self._closing = False
        self.intake: MemoryIntake | None = None
        self.wal: Any = None
        self._readers: dict[str, DestinationReader] = {}
        if self.durable:
            from otel_llm.collector.wal import WriteAheadLog

            self.wal = WriteAheadLog(
                self.state_directory / "wal",
                max_bytes=self.settings.persistence.max_bytes,
                fsync=self.settings.persistence.fsync,
                on_overflow=self.metrics.wal_overflow,
                on_corrupt=self.metrics.wal_damaged,
            )
            self._records = PreparedRecords(self._prepare_record)
        else:
            self.intake = MemoryIntake(self._route, self.settings.max_queued_spans)

    # -- configuration ----------------------------------------------------------------------------

    def _validate(self, changes: AdminChanges) -> Config:
        return validate(changes.merged(self._base, self._file_defaults), self._source, self._environ)

    def _preparer(self, config: Config) -> Any:
        steps = []
        if self.settings.normalise:
            from otel_llm.collector.normalise import normalise

            steps.append(normalise)
        pricer = _pricer(config)
        if pricer is not None:
            from otel_llm.collector.costing import SpanCoster

            steps.append(SpanCoster(pricer).add_cost)

        def prepare(span: ReadableSpan) -> ReadableSpan:
            for step in steps:
                span = step(span)  # each step returns the span unchanged on any failure of its own
            return span

        return prepare

    def _forward_to(self, destinations: Mapping[str, Any]) -> None:
        for name, dest in destinations.items():
            if getattr(dest, "forward", ()):
                self._forwarders[name] = Forwarder(name, dest, self.metrics.forwarded)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        if self.intake is not None:
            self.intake.start()
        else:
            for name in self.pipeline.destinations:
                self._start_reader(name)
            for name in set(self.wal.consumers()) - set(self.pipeline.destinations):
                self.wal.remove_consumer(name)  # a destination removed while we were down

    def _start_reader(self, name: str) -> None:
        reader = DestinationReader(name, self.wal.consumer(name), self._records, lambda: self.pipeline)
        self.pipeline.accounting.watch_depth(name, lambda c=reader.cursor: c.lag)
        self._readers[name] = reader
        reader.start()

    @property
    def ready(self) -> bool:
        return not self._closing

    def stop_taking(self) -> None:
        """Refuse new data (503 / UNAVAILABLE, which senders retry) from now on: the first step of a stop."""
        self._closing = True

    def shutdown(self, timeout: float | None = None) -> None:
        """Stop taking data, deliver what is queued within ``timeout`` seconds, then stop destinations."""
        timeout = self.settings.shutdown_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self._closing = True
        for forwarder in self._forwarders.values():
            forwarder.close(max(0.0, min(5.0, deadline - time.monotonic())))
        if self.intake is not None:
            if not self.intake.close(timeout):
                left = self.intake.depth
                self.metrics.lost_at_shutdown(left)
                _log.warning("otel-llm collector: %d accepted spans not routed within %.1fs", left, timeout)
            self.pipeline.shutdown()
            return
        for reader in self._readers.values():
            reader.stopping.set()  # cut retries short: what is not delivered stays in the log
        for reader in self._readers.values():
            reader.stop(max(0.0, deadline - time.monotonic()))
        for destination in self.pipeline.destinations.values():
            try:
                destination.exporter.shutdown()
            except Exception as err:
                report("collector.exporter_shutdown", err)
        self.wal.close()
        self.pipeline.accounting.log_totals()

    # -- receiving --------------------------------------------------------------------------------

    def export(self, signal: str, sender: Sender, request: Any, raw: bytes | None = None) -> tuple[int, str]:
        """Take one request; ``(rejected items, message)`` for the partial-success reply."""
        if self._closing:
            raise Refused("shutting down")
        if signal != "traces":
            count = otlp_wire.count_items(signal, request)
            self.metrics.received(signal, sender, count)
            self._forward(signal, sender, request, count)
            return 0, ""
        trust = not sender.authenticated
        spans, rejected, message = otlp_wire.to_spans(request, tenant=sender.tenant, trust_tenant=trust)
        if rejected:
            self.metrics.refused(signal, sender, rejected, "invalid")
        if not spans:
            return rejected, message
        if self.intake is not None:
            if not self.intake.put(spans):
                self.metrics.refused(signal, sender, len(spans), "queue_full")
                raise Refused("the collector's queue is full")
        else:
            body = raw if raw is not None else request.SerializeToString()
            try:
                self.wal.append(encode_record(sender.tenant, trust, body))
            except ValueError as err:  # larger than the whole disk budget: a retry cannot help
                self.metrics.refused(signal, sender, len(spans), "too_large")
                raise TooLarge(str(err)) from None
            except WalClosed:  # the stop began between the check above and the append
                raise Refused("shutting down") from None
        self.metrics.received(signal, sender, len(spans))
        return rejected, message

    def _forward(self, signal: str, sender: Sender, request: Any, count: int) -> None:
        """To the tenant's destinations that forward ``signal``; with auth, the resource's tenant
        attribute is the credential's, as for spans."""
        forwarders = [f for f in self._forwarders.values() if signal in f.signals]
        if not forwarders:
            return
        if sender.authenticated:
            for resource_items in getattr(request, f"resource_{signal}"):
                attributes = resource_items.resource.attributes
                for i in reversed([i for i, kv in enumerate(attributes) if kv.key == TENANT_ID]):
                    del attributes[i]
                if sender.tenant is not None:
                    attributes.add(key=TENANT_ID).value.string_value = sender.tenant
        route = set(self.config.destinations_for_tenant(sender.tenant if sender.authenticated else None))
        for forwarder in forwarders:
            if forwarder.name in route:
                forwarder.offer(signal, request, count)

    def _route(self, spans: Sequence[ReadableSpan]) -> None:
        prepare = self._prepare_span
        ready = []
        for span in spans:
            try:
                ready.append(prepare(span))
            except Exception as err:  # each step guards itself; a span is never lost to a bug here
                report("collector.prepare", err)
                ready.append(span)
        self.pipeline.route_many(ready)

    def _prepare_record(self, payload: bytes) -> list[ReadableSpan]:
        try:
            tenant, trust, body = decode_record(payload)
            request = ExportTraceServiceRequest.FromString(body)
            spans, _, _ = otlp_wire.to_spans(request, tenant=tenant, trust_tenant=trust)
            prepare = self._prepare_span
            return [prepare(span) for span in spans]
        except Exception as err:  # a record we cannot read is skipped, and said so
            report("collector.wal_record", err)
            self.metrics.unreadable_record()
            return []

    # -- admin ------------------------------------------------------------------------------------

    def file_tenant(self, tenant: str) -> Any:
        """The file's own entry for ``tenant`` (as written), or None."""
        entry = (self._base.get("tenants") or {}).get(tenant)
        return entry if isinstance(entry, dict) else None

    def tenant(self, tenant: str) -> dict[str, Any]:
        """Where one tenant's spans go and why (``source``: the file, the admin API, or neither)."""
        config = self.config
        entry = config.tenants.get(tenant)
        source = "admin" if tenant in self.changes.tenants else "file" if entry is not None else "default"
        return {
            "destinations": list(config.destinations_for_tenant(tenant)),
            "logging": entry.logging if entry is not None else True,
            "source": source,
            "tokens": sum(1 for tok in self.settings.auth.tokens if tok.tenant == tenant),
        }

    def tenants(self) -> dict[str, Any]:
        """Every tenant the file or the admin API names."""
        names = set(self.config.tenants) | set(self.changes.tenants)
        return {
            "default_destinations": list(self.config.default_destination_names()),
            "tenants": {t: self.tenant(t) for t in sorted(names)},
        }

    def change(self, edit: Any) -> Config:
        """Apply ``edit(changes)`` to a copy of the admin changes; validate the result as a file;
        then switch the pipeline and persist. ConfigError (nothing changed) when it is not valid."""
        with self._admin_lock:
            changes = self.changes.copy()
            edit(changes)
            config = self._validate(changes)  # changes never touch the collector block: it stays as started
            self._switch(config)
            changes.save()
            self.changes, self.config = changes, config
            return config

    def _switch(self, config: Config) -> None:
        old = self.config
        old_enabled, new_enabled = old.enabled(), config.enabled()
        removed = [
            n
            for n in old_enabled
            if n not in new_enabled
            or new_enabled[n] != old_enabled[n]
            or config.redaction_for(n) != old.redaction_for(n)
        ]
        added = [n for n in new_enabled if n not in old_enabled or n in removed]
        gone = self.pipeline.update(
            [build_destination(n, new_enabled[n], config.redaction_for(n)) for n in added],
            removed,
            config.default_destination_names(),
            tenant_routes(config),
        )
        for name in removed:
            forwarder = self._forwarders.pop(name, None)
            if forwarder is not None:
                threading.Thread(target=forwarder.close, args=(5.0,), daemon=True).start()
        self._forward_to({n: new_enabled[n] for n in added})
        for destination in gone:
            if self.durable:
                if destination.name not in new_enabled:
                    reader = self._readers.pop(destination.name)
                    reader.stop(5.0)
                    self.wal.remove_consumer(destination.name)
                destination.exporter.shutdown()
            else:
                threading.Thread(target=destination.shutdown, daemon=True).start()  # drains its queue
        if self.durable:
            for name in added:
                if name not in self._readers:
                    self._start_reader(name)
                else:
                    self.pipeline.accounting.watch_depth(name, lambda c=self._readers[name].cursor: c.lag)

    def health(self) -> dict[str, Any]:
        stats = self.pipeline.stats()
        current = set(self.pipeline.destinations)
        return {name: {**snap, "active": name in current, "durable": self.durable} for name, snap in stats.items()}
