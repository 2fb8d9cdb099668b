"""``collector-config/agent.yaml`` + ``gateway.yaml``: the scale-out topology through the real collector.

app (the OTel SDK's OTLP/HTTP exporter) -> one agent (persistent queue, loadbalancing by trace id) ->
two gateways (each with its own persistent queue) -> one strict OTLP/HTTP destination on loopback that
records every span id. A gateway is killed (SIGKILL) under load and restarted on the same ports and
storage: every span the app's export calls were told was accepted reaches the destination (duplicates
are allowed, at-least-once, and counted). The agent's own queue survives an agent kill while every
gateway is down; and the same kill loses everything when the per-gateway in-memory queue that
agent.yaml turns off is left on (the control that shows the test can fail).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.backends._process import poll_until
from tests.backends.otlp_contract import Receiver, otlp_receiver
from tests.collector_config.otelcol import TEMPLATES, Otelcol, otelcol

TRACES_PER_EXPORT = 5  # two spans each: a root and a child
SPANS_PER_EXPORT = 2 * TRACES_PER_EXPORT
EXPORTS = 300  # 3,000 spans, paced over several seconds
KILL_AT, RESTART_AT = 100, 200  # the victim gateway is down for a third of the load
EXPORTS_WHILE_DOWN = 40


@dataclass
class Topology:
    destination: Receiver
    gateways: list[Otelcol]
    agent: Otelcol


@contextlib.contextmanager
def topology(tmp_path: Path, agent_template: str | Path = "agent.yaml") -> Iterator[Topology]:
    """Two gateways exporting to one destination, and an agent balancing onto them; each collector
    has a fixed working directory, whose queue/ holds its file_storage across restarts."""
    with contextlib.ExitStack() as stack:
        destination = stack.enter_context(otlp_receiver("/v1/traces"))
        gateways = []
        for name in ("gateway-1", "gateway-2"):
            workdir = tmp_path / name
            workdir.mkdir()
            env = {"OTLP_DESTINATION_ENDPOINT": destination.base_url, "OTELCOL_STORAGE_DIR": str(workdir / "queue")}
            gateways.append(stack.enter_context(otelcol("gateway.yaml", env, workdir=workdir)))
        hostnames = ", ".join(f"127.0.0.1:{g.grpc_port}" for g in gateways)
        (tmp_path / "agent").mkdir()
        agent_env = {
            "OTELCOL_GATEWAY_HOSTNAMES": f"[{hostnames}]",
            "OTELCOL_GATEWAY_INSECURE": "true",
            "OTELCOL_STORAGE_DIR": str(tmp_path / "agent" / "queue"),
        }
        agent = stack.enter_context(otelcol(agent_template, agent_env, workdir=tmp_path / "agent"))
        yield Topology(destination, gateways, agent)


@dataclass
class App:
    """An app's OTLP/HTTP exporter sending to the agent: which span ids each export call got accepted."""

    endpoint: str
    sent: list[str] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    failed_exports: int = 0

    def __post_init__(self) -> None:
        self.memory = InMemorySpanExporter()
        self.provider = TracerProvider(resource=Resource.create({"service.name": "scale-test"}))
        self.provider.add_span_processor(SimpleSpanProcessor(self.memory))
        self.tracer = self.provider.get_tracer("scale-test")
        self.exporter = OTLPSpanExporter(endpoint=f"{self.endpoint}/v1/traces", timeout=10)

    def spans(self, n_traces: int) -> list[ReadableSpan]:
        """``n_traces`` new traces (distinct trace ids), a root and a child span each."""
        for i in range(n_traces):
            with (
                self.tracer.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": "chat"}),
                self.tracer.start_as_current_span("execute_tool get_weather", attributes={"n": i}),
            ):
                pass
        spans = list(self.memory.get_finished_spans())
        self.memory.clear()
        return spans

    def export(self, n_traces: int = TRACES_PER_EXPORT) -> None:
        spans = self.spans(n_traces)
        ids = [format(s.context.span_id, "016x") for s in spans]
        self.sent += ids
        if self.exporter.export(spans) is SpanExportResult.SUCCESS:
            self.acked += ids
        else:
            self.failed_exports += 1

    def shutdown(self) -> None:
        self.exporter.shutdown()
        self.provider.shutdown()


def arrived(destination: Receiver) -> Counter[str]:
    """Span id -> how many times the destination received it."""
    return Counter(span.span_id for span in destination.spans())


def metric(collector: Otelcol, name: str, **labels: str) -> float:
    """Sum of a Prometheus metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in collector.metrics().splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for_all(destination: Receiver, ids: list[str], collectors: list[Otelcol], timeout: float = 20) -> Counter[str]:
    expected = set(ids)

    def failure(got: Counter[str]) -> str:
        missing = expected - set(got)
        logs = "\n".join(f"--- {c.template.stem} {c.workdir.name}:\n{c.log()[-2500:]}" for c in collectors)
        return f"{len(missing)} of {len(expected)} acknowledged spans never arrived\n{logs}"

    return poll_until(
        lambda: arrived(destination), lambda got: expected <= set(got), timeout=timeout, interval=0.1, failure=failure
    )


def test_a_gateway_killed_and_restarted_under_load_loses_no_span(tmp_path: Path) -> None:
    began = time.monotonic()
    with topology(tmp_path) as topo:
        app = App(topo.agent.http_endpoint)
        victim, survivor = topo.gateways
        accepted_before_kill = 0.0
        with ThreadPoolExecutor(max_workers=1) as background:
            for i in range(EXPORTS):
                if i == KILL_AT:
                    accepted_before_kill = metric(victim, "otelcol_receiver_accepted_spans")
                    victim.kill()  # SIGKILL: no flush, its queue left on disk as it is
                if i == RESTART_AT:
                    restarted = background.submit(victim.start)  # same ports and storage; the load goes on
                app.export()
                time.sleep(0.01)
            restarted.result()
        app.shutdown()

        # The app never saw the outage: the agent's persistent queue took every export.
        assert app.failed_exports == 0 and app.acked == app.sent
        assert len(set(app.acked)) == EXPORTS * SPANS_PER_EXPORT
        assert accepted_before_kill > 0  # the victim was carrying its share when it was killed

        got = wait_for_all(topo.destination, app.acked, [topo.agent, *topo.gateways])
        assert topo.destination.rejected == []
        assert set(got) - set(app.sent) == set()
        duplicates = {span_id: n for span_id, n in got.items() if n > 1}

        # Both gateways carried traffic, as the agent saw it (the victim's counters restarted with it).
        assert metric(survivor, "otelcol_receiver_accepted_spans") > 0
        for gateway in topo.gateways:
            endpoint = f"127.0.0.1:{gateway.grpc_port}"
            assert metric(topo.agent, "otelcol_loadbalancer_backend_outcome", endpoint=endpoint, success="true") > 0
        print(
            f"\nkill test: sent={len(app.sent)} acked={len(app.acked)} arrived_distinct={len(got)} "
            f"arrived_total={sum(got.values())} duplicated_span_ids={len(duplicates)} "
            f"extra_copies={sum(n - 1 for n in duplicates.values())} elapsed={time.monotonic() - began:.1f}s"
        )


def fill_agent_then_kill_it(topo: Topology, queued_at_kill: int) -> App:
    """Every gateway down, 40 exports (400 spans) accepted by the agent, the agent killed while it
    retries once its persistent queue holds ``queued_at_kill`` requests, then everything started again
    on the same ports and storage."""
    for gateway in topo.gateways:
        gateway.kill()
    app = App(topo.agent.http_endpoint)
    for _ in range(EXPORTS_WHILE_DOWN):
        app.export()
    app.shutdown()
    assert app.failed_exports == 0 and len(app.acked) == EXPORTS_WHILE_DOWN * SPANS_PER_EXPORT
    poll_until(
        lambda: (metric(topo.agent, "otelcol_exporter_queue_size", exporter="loadbalancing"), topo.agent.log()),
        lambda state: state[0] == queued_at_kill and "Will retry the request" in state[1],
        timeout=10,
        interval=0.05,
        failure=lambda state: f"queue size {state[0]}, not {queued_at_kill}; the agent's log:\n{state[1][-2000:]}",
    )
    topo.agent.kill()
    assert arrived(topo.destination) == Counter()  # nothing could have left
    for gateway in topo.gateways:
        gateway.start()
    topo.agent.start()  # same storage directory: the queue is read back
    return app


def test_the_agents_queue_survives_an_agent_kill_while_every_gateway_is_down(tmp_path: Path) -> None:
    with topology(tmp_path) as topo:
        # The batches are being sent (and retried), and every request stays on disk until acknowledged.
        app = fill_agent_then_kill_it(topo, queued_at_kill=EXPORTS_WHILE_DOWN)
        got = wait_for_all(topo.destination, app.acked, [topo.agent, *topo.gateways])
        assert set(got) == set(app.acked)
        assert topo.destination.rejected == []


def test_with_the_per_gateway_queue_left_on_the_agent_loses_what_it_acknowledged(tmp_path: Path) -> None:
    """Why agent.yaml turns protocol.otlp.sending_queue off: left at its default (an in-memory queue per
    gateway), the persistent queue hands its batches to memory and forgets them, and a kill loses all."""
    template = (TEMPLATES / "agent.yaml").read_text()
    disabled = "        sending_queue:\n          enabled: false\n"
    assert template.count(disabled) == 1
    variant = tmp_path / "agent-with-memory-queue.yaml"
    variant.write_text(template.replace(disabled, ""))
    with topology(tmp_path, agent_template=variant) as topo:
        # The persistent queue is empty: it handed everything to the in-memory per-gateway queues.
        app = fill_agent_then_kill_it(topo, queued_at_kill=0)
        # A fresh export through the restarted agent arrives: the path works, and anything the agent had
        # kept on disk would have been read back (and sent) before it. None of the 400 spans arrives.
        marker = App(topo.agent.http_endpoint)
        marker.export()
        marker.shutdown()
        got = wait_for_all(topo.destination, marker.acked, [topo.agent, *topo.gateways])
        # Every queue empty (the agent's and both gateways'): nothing is still on its way to arrive late.
        poll_until(
            lambda: [metric(c, "otelcol_exporter_queue_size") for c in (topo.agent, *topo.gateways)],
            lambda sizes: not any(sizes),
            timeout=20,
            interval=0.2,
            failure=lambda sizes: f"queues never drained: agent, gateways = {sizes}",
        )
        got = arrived(topo.destination)
        assert set(got) & set(app.acked) == set()
