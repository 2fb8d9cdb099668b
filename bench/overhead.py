"""CPU that otel-llm's instrumentation adds per call, measured against one bare span.

For every round and scenario the parent starts a fresh child process uninstrumented (``plain``),
then a fresh one instrumented. Each child drives a real ``openai`` client over a mock HTTP
transport serving pre-encoded payloads and times its calls with ``time.thread_time_ns()``, so
other load on shared cores is not counted. Both children build the same OTel SDK pipeline
(TracerProvider + SimpleSpanProcessor + no-op span exporter, MeterProvider + a periodic reader
(200 ms) into a no-op exporter);
only the instrumented one calls ``otel_llm.instrument()`` (content capture off, the default).

The *floor* is one CLIENT span with 15 ``gen_ai.*`` attributes, started and ended through that
same pipeline. Floor batches alternate with call batches in every child, so each call is also
expressed in floors measured moments apart, which cancels the speed drift of a shared machine.
The instrumented child then runs an in-process A/B: alternating short batches on an instrumented
client and on one whose ``request`` bypasses the hook, paired batch by batch.

    python bench/overhead.py                     # all scenarios, 5 rounds, results table
    python bench/overhead.py --rounds 9 --scenarios chat stream
    python bench/overhead.py --profile stream    # cProfile of one instrumented child
    python bench/overhead.py --components        # cost of the building blocks, in floors

See bench/README.md for what the figures mean and the peer figures to compare with.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from payloads import (  # bench/ is on sys.path when run as a script
    ANTHROPIC_REQUEST,
    ANTHROPIC_STREAM_EVENTS,
    CHAT_REQUEST,
    EMBEDDING_DIMS,
    EMBEDDING_MODEL,
    MODEL,
    RESPONSE_MODEL,
    STREAM_CHUNKS,
    anthropic_message_body,
    anthropic_stream_body,
    chat_completion_body,
    chat_stream_body,
    embeddings_body,
    floor_attributes,
)

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]

FLOOR_SPANS = 300  # spans per floor batch


@dataclass(frozen=True)
class Scenario:
    """One kind of call. ``calls`` per timed batch keeps a child at about 1-2 s of CPU."""

    name: str
    title: str
    calls: int  # calls per timed batch
    ab_calls: int  # calls per A/B batch (short: pairs should see the same machine)
    ab_pairs: int
    target: float  # added CPU per call must be <= target x floor
    sdk: str = "openai"


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("chat", "chat (sync)", 40, 4, 30, 1.5),
        Scenario("async_chat", "chat (async)", 40, 4, 30, 1.5),
        Scenario("stream", f"chat stream, {STREAM_CHUNKS} chunks", 4, 1, 16, 3.0),
        Scenario("embeddings", f"embeddings ({EMBEDDING_DIMS} dims)", 40, 4, 30, 1.5),
        # Anthropic's target is the SDK's own tracing (``native`` children): not slower than it.
        Scenario("anthropic", "anthropic messages", 40, 4, 30, 1.5, "anthropic"),
        Scenario("anthropic_stream", f"anthropic stream, {ANTHROPIC_STREAM_EVENTS} ev", 4, 1, 16, 3.0, "anthropic"),
    )
}


# -- child process ------------------------------------------------------------------------------


def _version(sdk: str) -> tuple[int, int]:
    from importlib.metadata import version

    major, minor = version(sdk).split(".")[:2]
    return int(major), int(minor)


# The SDK's own OpenTelemetry spans (anthropic >= 1.14), what the anthropic scenarios compare with.
NATIVE_TRACING = _version("anthropic") >= (1, 14) if importlib.util.find_spec("anthropic") else False


def _http_module(sdk: str = "openai") -> Any:
    """httpx2 for openai >= 3 and anthropic >= 1, httpx before."""
    if _version(sdk)[0] >= (3 if sdk == "openai" else 1):
        import httpx2

        return httpx2
    import httpx

    return httpx


class _Pipeline:
    """TracerProvider -> SimpleSpanProcessor -> no-op exporter; MeterProvider with a periodic reader.

    The metric reader collects every 200 ms into a no-op exporter, as a deployed app's reader would
    (every 60 s by default): otel-llm records measurements into the histograms at collection, on
    the reader's thread, so that work shows in process CPU time, not in the calling thread's.
    """

    def __init__(self) -> None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, PeriodicExportingMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

        pipeline = self

        class NullExporter(SpanExporter):
            """Counts and drops spans: the cost measured is making them, not storing them."""

            def export(self, spans: Sequence[Any]) -> SpanExportResult:
                pipeline.exported += len(spans)
                return SpanExportResult.SUCCESS

        self.exported = 0
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(NullExporter()))

        class NullMetricExporter(MetricExporter):
            def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
                return MetricExportResult.SUCCESS

            def force_flush(self, timeout_millis: float = 10_000) -> bool:
                return True

            def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
                return None

        reader = PeriodicExportingMetricReader(NullMetricExporter(), export_interval_millis=200)
        self.meter_provider = MeterProvider(metric_readers=[reader])

    def floor(self) -> Callable[[int], None]:
        """The floor: one CLIENT span with 15 gen_ai.* attributes, started and ended, ``n`` times."""
        from opentelemetry.trace import SpanKind

        tracer = self.tracer_provider.get_tracer("bench.floor")
        attrs = floor_attributes()
        name = f"chat {MODEL}"

        def run(n: int) -> None:
            start_span = tracer.start_span
            for _ in range(n):
                start_span(name, kind=SpanKind.CLIENT, attributes=attrs).end()

        return run


def _anthropic_client(scenario: str, bypass: bool, native: Any) -> tuple[Any, Callable[[], Any]]:
    """An ``anthropic.Anthropic`` client and one call. ``native`` is the tracer provider for the
    SDK's own tracing (anthropic >= 1.14), or None to turn that off."""
    import anthropic
    from anthropic._base_client import SyncAPIClient

    http = _http_module("anthropic")
    if scenario == "anthropic_stream":
        body, ctype = anthropic_stream_body(), "text/event-stream; charset=utf-8"
    else:
        body, ctype = anthropic_message_body(), "application/json"
    headers = {"content-type": ctype, "request-id": "req_011CSHoEeqs5C35K2UUqR7Fy"}

    def handler(request: Any) -> Any:
        return http.Response(200, headers=headers, content=body)

    kwargs: dict[str, Any] = {"api_key": "sk-ant-bench", "max_retries": 0}
    if NATIVE_TRACING:
        kwargs["open_telemetry"] = {"tracer_provider": native} if native is not None else False
    client = anthropic.Anthropic(http_client=http.Client(transport=http.MockTransport(handler)), **kwargs)
    if bypass:
        original = getattr(SyncAPIClient.__dict__["request"], "__wrapped__", SyncAPIClient.request)
        client.request = types.MethodType(original, client)  # type: ignore[method-assign]
    if scenario == "anthropic":
        return client, lambda: client.messages.create(**ANTHROPIC_REQUEST)

    def stream() -> int:
        n = 0
        for _ in client.messages.create(**ANTHROPIC_REQUEST, stream=True):
            n += 1
        assert n == ANTHROPIC_STREAM_EVENTS, n
        return n

    return client, stream


def _client(scenario: str, bypass: bool = False, native: Any = None) -> tuple[Any, Callable[[], Any]]:
    """A real client, and one call of ``scenario`` on it (a function, or a coroutine function).

    ``bypass`` binds the client's ``request`` to the unhooked original, for the in-process A/B.
    """
    if SCENARIOS[scenario].sdk == "anthropic":
        return _anthropic_client(scenario, bypass, native)
    import openai
    from openai._base_client import AsyncAPIClient, SyncAPIClient

    http = _http_module()
    if scenario == "embeddings":
        body, ctype = embeddings_body(), "application/json"
    elif scenario == "stream":
        body, ctype = chat_stream_body(), "text/event-stream; charset=utf-8"
    else:
        body, ctype = chat_completion_body(), "application/json"
    headers = {"content-type": ctype, "x-request-id": "req_8f3c2a1b9d", "openai-processing-ms": "412"}

    def handler(request: Any) -> Any:
        return http.Response(200, headers=headers, content=body)

    kwargs: dict[str, Any] = {"api_key": "sk-bench", "max_retries": 0}
    if scenario == "async_chat":
        aclient = openai.AsyncOpenAI(http_client=http.AsyncClient(transport=http.MockTransport(handler)), **kwargs)
        if bypass:
            original = getattr(AsyncAPIClient.__dict__["request"], "__wrapped__", AsyncAPIClient.request)
            aclient.request = types.MethodType(original, aclient)  # type: ignore[method-assign]

        async def acall() -> Any:
            return await aclient.chat.completions.create(**CHAT_REQUEST)

        return aclient, acall

    client = openai.OpenAI(http_client=http.Client(transport=http.MockTransport(handler)), **kwargs)
    if bypass:
        original = getattr(SyncAPIClient.__dict__["request"], "__wrapped__", SyncAPIClient.request)
        client.request = types.MethodType(original, client)  # type: ignore[method-assign]
    if scenario == "chat":
        return client, lambda: client.chat.completions.create(**CHAT_REQUEST)
    if scenario == "embeddings":
        text = "Rainy afternoon activities in Lisbon"
        return client, lambda: client.embeddings.create(model=EMBEDDING_MODEL, input=text, dimensions=EMBEDDING_DIMS)

    def stream() -> int:
        n = 0
        chunks = client.chat.completions.create(**CHAT_REQUEST, stream=True, stream_options={"include_usage": True})
        for _ in chunks:
            n += 1
        assert n == STREAM_CHUNKS, n
        return n

    return client, stream


def _batch(call: Callable[[], Any], is_async: bool) -> Callable[[int], Awaitable[None]]:
    """``n`` calls in a row, as a coroutine (sync calls run inside it without suspending)."""
    if is_async:

        async def arun(n: int) -> None:
            for _ in range(n):
                await call()

        return arun

    async def run(n: int) -> None:
        for _ in range(n):
            call()

    return run


class _GCTimer:
    """Thread CPU time spent in the cyclic garbage collector (part of what allocations cost)."""

    def __init__(self) -> None:
        self.total_ns = 0
        self._start = 0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.thread_time_ns()
        else:
            self.total_ns += time.thread_time_ns() - self._start


class _Clock:
    """Thread and process CPU time (and GC time) of a series of timed batches."""

    def __init__(self, gc_timer: _GCTimer) -> None:
        self.thread_ns: list[int] = []
        self.process_ns: list[int] = []
        self.gc_ns = 0
        self._gc = gc_timer
        self._t0 = self._p0 = self._g0 = 0

    def start(self) -> None:
        self._g0 = self._gc.total_ns
        self._t0, self._p0 = time.thread_time_ns(), time.process_time_ns()

    def stop(self) -> None:
        t1, p1 = time.thread_time_ns(), time.process_time_ns()
        self.thread_ns.append(t1 - self._t0)
        self.process_ns.append(p1 - self._p0)
        self.gc_ns += self._gc.total_ns - self._g0


def _median_per(values: Sequence[int], n: int) -> float:
    """Median of batch times, as µs per item of a batch of ``n``."""
    return statistics.median(values) / n / 1000


def child(scenario: str, mode: str, calls: int, batches: int, profile_out: str | None) -> None:
    """Time one scenario in this fresh process and print one JSON line on stdout (µs per call)."""
    scen = SCENARIOS[scenario]
    pipeline = _Pipeline()
    instrumented = mode == "instrumented"
    if instrumented:
        import otel_llm

        done = otel_llm.instrument(tracer_provider=pipeline.tracer_provider, meter_provider=pipeline.meter_provider)
        assert scen.sdk in done, done
    is_async = scenario == "async_chat"
    # Anthropic: the SDK's own tracing is configured in the native and instrumented children alike
    # (otel-llm replaces it); the plain child turns it off.
    native = pipeline.tracer_provider if mode != "plain" else None
    run_calls = _batch(_client(scenario, native=native)[1], is_async)
    run_bypass = _batch(_client(scenario, bypass=True)[1], is_async) if instrumented and not profile_out else None
    floor = pipeline.floor()
    profiler = None
    if profile_out:
        import cProfile

        profiler = cProfile.Profile()
    gc_timer = _GCTimer()
    calls_clock, floor_clock = _Clock(gc_timer), _Clock(gc_timer)
    ab_diff_us: list[float] = []
    ab_floors: list[float] = []

    async def measure() -> None:
        # One event loop, in this thread: thread CPU time counts all the work, async included.
        warm_up = max(10, calls)
        await run_calls(warm_up)
        expected = 0 if mode == "plain" or (mode == "native" and not NATIVE_TRACING) else warm_up
        assert pipeline.exported == expected, f"{mode}: {pipeline.exported} spans for {warm_up} calls"
        floor(FLOOR_SPANS)
        if run_bypass:
            exported = pipeline.exported
            await run_bypass(max(4, scen.ab_calls))
            assert pipeline.exported == exported, "the bypass client must not be instrumented"
        gc.collect()
        for _ in range(batches):
            if profiler:
                profiler.enable()
            calls_clock.start()
            await run_calls(calls)
            calls_clock.stop()
            if profiler:
                profiler.disable()
                continue
            floor_clock.start()
            floor(FLOOR_SPANS)
            floor_clock.stop()
        if run_bypass is None:
            return
        ab_floor_spans = FLOOR_SPANS // 3
        for i in range(scen.ab_pairs):
            times = {}
            for arm in ("plain", "instr") if i % 2 else ("instr", "plain"):
                t0 = time.thread_time_ns()
                await (run_bypass if arm == "plain" else run_calls)(scen.ab_calls)
                times[arm] = time.thread_time_ns() - t0
            t0 = time.thread_time_ns()
            floor(ab_floor_spans)
            floor_ns = (time.thread_time_ns() - t0) / ab_floor_spans
            diff_ns = (times["instr"] - times["plain"]) / scen.ab_calls
            ab_diff_us.append(diff_ns / 1000)
            ab_floors.append(diff_ns / floor_ns)

    asyncio.run(measure())
    out: dict[str, Any] = {
        "scenario": scenario,
        "mode": mode,
        "calls": calls * batches,
        "thread_us": _median_per(calls_clock.thread_ns, calls),
        "process_us": _median_per(calls_clock.process_ns, calls),
        "gc_us": calls_clock.gc_ns / (calls * batches) / 1000,
    }
    if profiler and profile_out:
        profiler.dump_stats(profile_out)
    else:
        out["floor_us"] = _median_per(floor_clock.thread_ns, FLOOR_SPANS)
        out["floor_process_us"] = _median_per(floor_clock.process_ns, FLOOR_SPANS)
        ratios = [
            (c / calls) / (f / FLOOR_SPANS) for c, f in zip(calls_clock.thread_ns, floor_clock.thread_ns, strict=True)
        ]
        out["floor_units"] = statistics.median(ratios)  # one call's thread CPU time, in floors
    if ab_diff_us:
        out["ab_added_us"] = statistics.median(ab_diff_us)
        out["ab_added_floors"] = statistics.median(ab_floors)
    print(json.dumps(out), flush=True)


# -- parent process -----------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OTEL_LLM_PROVIDER_OVERRIDES"):
        env.pop(key, None)  # content capture off, default provider table
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def spawn(scenario: str, mode: str, calls: int, batches: int, profile_out: str | None = None) -> dict[str, Any]:
    """Run one fresh child and return its JSON result."""
    cmd = [sys.executable, str(HERE), "--child", scenario, "--mode", mode, "--calls", str(calls)]
    cmd += ["--batches", str(batches)]
    if profile_out:
        cmd += ["--profile-out", profile_out]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(), cwd=REPO, check=False)
    if proc.returncode != 0:
        sys.exit(f"child {scenario}/{mode} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@dataclass
class Rounds:
    """The child results of one scenario: ``plain[r]`` and ``instr[r]`` ran back to back."""

    scenario: Scenario
    plain: list[dict[str, float]]
    instr: list[dict[str, float]]
    native: list[dict[str, float]] = field(default_factory=list)  # anthropic: the SDK's own tracing

    def med(self, mode: str, key: str) -> float:
        runs = {"plain": self.plain, "native": self.native}.get(mode, self.instr)
        return statistics.median(r[key] for r in runs)

    def added(self, key: str, mode: str = "instr") -> list[float]:
        """Per round, instrumented (or native) minus plain."""
        runs = self.native if mode == "native" else self.instr
        return [i[key] - p[key] for p, i in zip(self.plain, runs, strict=True)]


def print_native_table(results: Sequence[Rounds]) -> bool:
    """Anthropic: what otel-llm adds next to what the SDK's own tracing adds; True when not slower."""
    rows = [r for r in results if r.native]
    if not rows:
        return True
    import anthropic

    print(f"\nanthropic {anthropic.__version__}: otel-llm (replacing the SDK's span) vs the SDK's own tracing alone.")
    print("Both children configure the SDK's tracing with the same pipeline; plain turns it off. µs are thread CPU")
    print("per call; + = (child - plain) in floors x floor; x = the same in floors; medians over rounds.")
    print("verdict: otel-llm adds no more than native.\n")
    head = (
        f"{'scenario':<26} {'plain':>8} {'native':>8} {'otel-llm':>8} {'native +':>9} {'otel-llm +':>10} "
        f"{'native x':>8} {'otel-llm x':>10}  result"
    )
    print(head)
    print("-" * len(head))
    ok = True
    for res in rows:
        floor = res.med("instr", "floor_us")
        native_x = statistics.median(res.added("floor_units", "native"))
        ours_x = statistics.median(res.added("floor_units"))
        passed = ours_x <= native_x
        ok &= passed
        print(
            f"{res.scenario.title:<26} {res.med('plain', 'thread_us'):8.1f} {res.med('native', 'thread_us'):8.1f} "
            f"{res.med('instr', 'thread_us'):8.1f} {native_x * floor:9.1f} {ours_x * floor:10.1f} "
            f"{native_x:7.2f}x {ours_x:9.2f}x  {'PASS' if passed else 'FAIL'}"
        )
    if not NATIVE_TRACING:
        print("(this anthropic line has no native tracing: its 'native' children are plain)")
    return ok


def print_table(results: Sequence[Rounds], rounds: int, elapsed: float) -> bool:
    """Print the results tables; True when every scenario meets its target (anthropic's: see below)."""
    import openai

    results = [r for r in results if r.scenario.sdk == "openai"]
    if not results:
        return True

    print(
        f"\notel-llm CPU overhead per call: openai {openai.__version__}, Python {sys.version.split()[0]}, "
        f"{rounds} rounds of fresh plain + instrumented child processes, medians over rounds ({elapsed:.0f} s)"
    )
    print(
        "pipeline in both: TracerProvider + SimpleSpanProcessor + no-op span exporter, "
        "MeterProvider + periodic reader every 200 ms into a no-op exporter; content capture off"
    )
    print("floor: 1 CLIENT span with 15 gen_ai.* attributes, start_span + end, same pipeline, same process")
    print("all µs are thread CPU time per call.  plain, instr: median batch of each child.  raw: instr - plain.")
    print("added: (instr - plain) in floors measured between batches (cancels machine drift) x floor = ratio.")
    print("A/B: same process, alternating short batches on an instrumented and a bypassed client, paired.\n")
    head = (
        f"{'scenario':<24} {'plain':>8} {'instr':>8} {'raw':>7} {'added':>7} {'floor':>6} {'ratio':>7} "
        f"{'ratio range':>13} {'A/B':>7} {'A/B ratio':>9} {'target':>6}  result"
    )
    print(head)
    print("-" * len(head))
    ok = True
    disagree = []
    for res in results:
        ratios = res.added("floor_units")
        ratio = statistics.median(ratios)
        floor = res.med("instr", "floor_us")
        target = res.scenario.target
        passed = ratio <= target
        ab_ratio = res.med("instr", "ab_added_floors")
        if (ab_ratio <= target) != passed:
            disagree.append(res.scenario.title)
        ok &= passed
        print(
            f"{res.scenario.title:<24} {res.med('plain', 'thread_us'):8.1f} {res.med('instr', 'thread_us'):8.1f} "
            f"{statistics.median(res.added('thread_us')):7.1f} {ratio * floor:7.1f} {floor:6.1f} {ratio:6.2f}x "
            f"{f'{min(ratios):.1f}..{max(ratios):.1f}':>13} {res.med('instr', 'ab_added_us'):7.1f} "
            f"{ab_ratio:8.2f}x {target:5.1f}x  {'PASS' if passed else 'FAIL'}"
        )
    if disagree:
        print(f"note: the A/B ratio falls on the other side of the target for: {', '.join(disagree)}")
    print("\nprocess CPU time (all threads; equals thread time unless work moved off-thread) and GC, µs/call:")
    head = (
        f"{'scenario':<24} {'plain':>8} {'instr':>8} {'proc-thread':>11} {'floor':>6} {'gc plain':>8} {'gc instr':>8}"
    )
    print(head)
    print("-" * len(head))
    for res in results:
        gap = statistics.median(i["process_us"] - i["thread_us"] for i in res.instr)
        print(
            f"{res.scenario.title:<24} {res.med('plain', 'process_us'):8.1f} {res.med('instr', 'process_us'):8.1f} "
            f"{gap:11.2f} {res.med('instr', 'floor_process_us'):6.1f} "
            f"{res.med('plain', 'gc_us'):8.2f} {res.med('instr', 'gc_us'):8.2f}"
        )
    return ok


def measure(names: Sequence[str], rounds: int, batches: int, calls: int | None) -> bool:
    """Every round of every scenario, plain then instrumented; then the tables."""
    results = {n: Rounds(SCENARIOS[n], [], []) for n in names}
    start = time.monotonic()
    for r in range(rounds):
        for name in names:
            n = calls or SCENARIOS[name].calls
            plain = spawn(name, "plain", n, batches)
            instr = spawn(name, "instrumented", n, batches)
            results[name].plain.append(plain)
            results[name].instr.append(instr)
            if SCENARIOS[name].sdk == "anthropic":
                results[name].native.append(spawn(name, "native", n, batches))
            print(
                f"round {r + 1}/{rounds} {name:<10} plain {plain['thread_us']:8.1f} µs "
                f"({plain['floor_units']:6.2f} floors)  instr {instr['thread_us']:8.1f} µs "
                f"({instr['floor_units']:6.2f} floors)  added {instr['floor_units'] - plain['floor_units']:6.2f} "
                f"floors  A/B {instr['ab_added_floors']:6.2f} floors  floor {instr['floor_us']:5.1f} µs",
                file=sys.stderr,
                flush=True,
            )
    ok = print_table(list(results.values()), rounds, time.monotonic() - start)
    return print_native_table(list(results.values())) and ok


# -- building blocks ----------------------------------------------------------------------------


def components(pairs: int = 15) -> None:
    """Cost of the pieces one instrumented call is made of, each against floors measured in between."""
    import openai
    from openai._base_client import SyncAPIClient
    from opentelemetry import context as otel_context
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider, SpanKind, set_span_in_context

    from otel_llm.genai import GenAITelemetry
    from otel_llm.genai.metrics import GenAIMetrics
    from otel_llm.instrumentation._stainless import RequestHook
    from otel_llm.instrumentation._streams import TracedStream
    from otel_llm.instrumentation.openai import mapping
    from otel_llm.instrumentation.openai.request import ENDPOINTS, request_attributes
    from otel_llm.instrumentation.openai.stream import ChatStreamAccumulator
    from otel_llm.instrumentation.providers import ProviderResolver
    from otel_llm.propagation import PropagationPolicy

    pipeline = _Pipeline()
    floor = pipeline.floor()
    tracer = pipeline.tracer_provider.get_tracer("bench.components")
    metrics = GenAIMetrics(pipeline.meter_provider.get_meter("bench.components"))
    endpoint = ENDPOINTS["/chat/completions"]
    request = request_attributes(endpoint, CHAT_REQUEST, "openai", "api.openai.com", 443, False)
    response = {k: v for k, v in floor_attributes().items() if k.startswith(("gen_ai.response", "gen_ai.usage"))}
    response.update({"openai.response.service_tier": "default", "openai.response.system_fingerprint": "fp_34a5"})
    metric_attrs = {k: request[k] for k in list(request)[:5]} | {"gen_ai.response.model": RESPONSE_MODEL}
    token_attrs = metric_attrs | {"gen_ai.token.type": "input"}
    lines = chat_stream_body().decode().split("\n\n")
    chunks = [openai.types.chat.ChatCompletionChunk.model_validate(json.loads(line[6:])) for line in lines[:-2]]
    telemetry = GenAITelemetry(
        "bench.components", tracer_provider=pipeline.tracer_provider, meter_provider=pipeline.meter_provider
    )
    telemetry.start("chat", MODEL, dict(request))  # warms the instrumentation scope up
    arrivals = [1_000_000_000 + 400_000 * i for i in range(STREAM_CHUNKS)]

    class Stub:
        """Stands for the invocation and accumulator: only the per-chunk path runs."""

        ended = True

        def __init__(self) -> None:
            self.chunk_times_ns: list[int] = []

        def chunk_clock(self) -> Callable[[int], None]:
            return self.chunk_times_ns.append

        def add(self, chunk: Any) -> None: ...

    stub = Stub()
    name = f"chat {MODEL}"

    # One real, unhooked chat call, to capture what otel_llm's hook receives and returns.
    client, call_chat = _client("chat")
    captured: dict[str, Any] = {}

    def capture(*args: Any, **kwargs: Any) -> Any:
        captured.update(args=args, kwargs=kwargs, result=SyncAPIClient.request(client, *args, **kwargs))
        return captured["result"]

    client.request = capture
    call_chat()

    def hook_around_chat(label: str, tracer_provider: Any, meter_provider: Any) -> Callable[[], None]:
        """What the sync wrapper adds around the SDK's ``request``: begin, attach/detach, finish."""
        telemetry = GenAITelemetry(label, tracer_provider=tracer_provider, meter_provider=meter_provider)
        hook = RequestHook(telemetry, ProviderResolver(), mapping(), PropagationPolicy())
        args, kwargs, result = captured["args"], captured["kwargs"], captured["result"]

        def run() -> None:
            call = hook.begin(client, args, kwargs)
            assert call is not None
            otel_context.detach(otel_context.attach(set_span_in_context(call.inv.span)))
            hook.finish(call, result)

        return run

    def span_like_chat() -> None:
        span = tracer.start_span(name, kind=SpanKind.CLIENT, attributes=request, start_time=time.time_ns())
        span.set_attributes(response)
        span.end(end_time=time.time_ns())

    def attach_detach() -> None:
        otel_context.detach(otel_context.attach(set_span_in_context(span)))

    def chunk_work() -> None:
        """Everything otel-llm does per chunk: the watching generator, a timestamp, the accumulator."""
        for _ in TracedStream(iter(chunks), Stub(), ChatStreamAccumulator(False)):  # type: ignore[arg-type]
            pass

    def proxy_iteration() -> None:
        for _ in TracedStream(iter(chunks), Stub(), stub):  # type: ignore[arg-type]
            pass

    def replay(times: list[int]) -> Callable[[], None]:
        def run() -> None:
            metrics.record(
                metric_attrs,
                {"gen_ai.usage.input_tokens": 41, "gen_ai.usage.output_tokens": 98},
                duration_s=0.4,
                time_to_first_chunk_s=0.2 if times else None,
                chunk_times_ns=times,
            )
            metrics.flush()

        return run

    def bare_iteration() -> None:
        for _ in iter(chunks):
            pass

    span = tracer.start_span("parent")
    items: list[tuple[str, Callable[[], Any], int]] = [
        ("floor: span, 15 gen_ai.* attributes at start", lambda: floor(1), 200),
        (
            "otel_llm hook around one chat call (no SDK work)",
            hook_around_chat("bench.hook", pipeline.tracer_provider, pipeline.meter_provider),
            100,
        ),
        (
            "  the same, metrics to a no-op MeterProvider",
            hook_around_chat("bench.hook.nometrics", pipeline.tracer_provider, NoOpMeterProvider()),
            100,
        ),
        (
            "  the same, no-op TracerProvider and MeterProvider",
            hook_around_chat("bench.hook.noop", NoOpTracerProvider(), NoOpMeterProvider()),
            200,
        ),
        (f"span as otel_llm makes it: {len(request)} attrs at start, {len(response)} set at end", span_like_chat, 200),
        (f"histogram.record, {len(metric_attrs)} attributes", lambda: metrics.duration.record(0.4, metric_attrs), 300),
        (f"histogram.record, {len(token_attrs)} attributes", lambda: metrics.token_usage.record(41, token_attrs), 300),
        (
            "GenAIMetrics.record, non-streaming (buffered)",
            lambda: metrics.record(
                metric_attrs,
                {"gen_ai.usage.input_tokens": 41, "gen_ai.usage.output_tokens": 98},
                duration_s=0.4,
                time_to_first_chunk_s=None,
                chunk_times_ns=(),
            ),
            100,
        ),
        ("  replayed into the histograms at collection (3 records)", replay([]), 100),
        (
            f"GenAIMetrics.record, {STREAM_CHUNKS}-chunk stream (buffered)",
            lambda: metrics.record(
                metric_attrs,
                {"gen_ai.usage.input_tokens": 41, "gen_ai.usage.output_tokens": 97},
                duration_s=0.4,
                time_to_first_chunk_s=0.2,
                chunk_times_ns=arrivals,
            ),
            100,
        ),
        (f"  replayed into the histograms at collection (4 + {STREAM_CHUNKS - 1} records)", replay(arrivals), 3),
        ("context attach(set_span_in_context) + detach", attach_detach, 500),
        (
            "request_attributes() of the chat request",
            lambda: request_attributes(endpoint, CHAT_REQUEST, "openai", "api.openai.com", 443, False),
            500,
        ),
        (f"{STREAM_CHUNKS} chunks: all per-chunk work (generator, timestamp, accumulator)", chunk_work, 10),
        (f"{STREAM_CHUNKS} chunks:   of which the generator alone (no-op accumulator)", proxy_iteration, 20),
        (f"{STREAM_CHUNKS} chunks: bare iteration (to subtract)", bare_iteration, 20),
    ]
    floor(FLOOR_SPANS)
    print("\nbuilding blocks, thread CPU time, median of paired batches; 1 floor = 1 span with 15 attributes")
    print(f"{'µs':>8} {'floors':>7}  item")
    for label, fn, n in items:
        for _ in range(n):
            fn()  # warm-up
        us, floors = [], []
        for _ in range(pairs):
            t0 = time.thread_time_ns()
            for _ in range(n):
                fn()
            item_ns = (time.thread_time_ns() - t0) / n
            t0 = time.thread_time_ns()
            floor(FLOOR_SPANS // 3)
            floor_ns = (time.thread_time_ns() - t0) / (FLOOR_SPANS // 3)
            us.append(item_ns / 1000)
            floors.append(item_ns / floor_ns)
        print(f"{statistics.median(us):8.2f} {statistics.median(floors):7.3f}  {label}")
    span.end()


# -- profiling ----------------------------------------------------------------------------------

_PREFIXES = sorted(
    {str(Path(p)) + os.sep for p in sys.path if p and "site-packages" in p}
    | {str(REPO) + os.sep, str(Path(os.__file__).parent) + os.sep},
    key=len,
    reverse=True,
)


def _where(key: tuple[str, int, str]) -> str:
    file, line, func = key
    for prefix in _PREFIXES:
        if file.startswith(prefix):
            file = file[len(prefix) :]
            break
    return func if file == "~" else f"{file}:{line}({func})"


def _is_instrumentation(file: str) -> bool:
    return any(part in ("otel_llm", "opentelemetry", "wrapt") for part in Path(file).parts)


def profile(name: str, batches: int, calls: int | None, top: int = 25) -> None:
    """cProfile the timed calls of one plain and one instrumented child; print the top functions."""
    scen = SCENARIOS[name]
    n = calls or max(4, scen.calls // 2)
    with tempfile.TemporaryDirectory() as tmp:
        plain_path, instr_path = f"{tmp}/plain.prof", f"{tmp}/instr.prof"
        plain = spawn(name, "plain", n, batches, plain_path)
        instr = spawn(name, "instrumented", n, batches, instr_path)
        plain_stats = pstats.Stats(plain_path).stats  # type: ignore[attr-defined]
        instr_stats = pstats.Stats(instr_path).stats  # type: ignore[attr-defined]
    total = instr["calls"]
    print(
        f"\ncProfile of {scen.title}: {total} calls per child, µs per call. Times under cProfile are inflated "
        f"(plain {plain['thread_us']:.0f}, instrumented {instr['thread_us']:.0f} µs/call); compare them "
        "with each other."
    )

    Item = tuple[Any, float, float, float]

    def show(title: str, items: list[Item], limit: int = top) -> None:
        print(f"\n{title}")
        print(f"{'tottime':>8} {'cumtime':>9} {'calls':>7}  function")
        for key, tt, ct, nc in items[:limit]:
            print(f"{tt:8.1f} {ct:9.1f} {nc:7.1f}  {_where(key)}")

    per_call: list[Item] = [
        (key, tt / total * 1e6, ct / total * 1e6, nc / total) for key, (_cc, nc, tt, ct, _) in instr_stats.items()
    ]
    per_call.sort(key=lambda item: item[1], reverse=True)
    show(f"top {top} by tottime, instrumented child (whole call: SDK + instrumentation):", per_call)
    ours = [item for item in per_call if _is_instrumentation(item[0][0])]
    show(f"top {top} by tottime in otel_llm, opentelemetry and wrapt code:", ours)
    mine = sorted((i for i in ours if "otel_llm" in Path(i[0][0]).parts), key=lambda i: i[2], reverse=True)
    show("otel_llm functions by cumtime (the wrapper's cumtime includes the SDK call):", mine, 15)
    added: list[Item] = []
    for key, (_cc, nc, tt, ct, _) in instr_stats.items():
        base = plain_stats.get(key, (0, 0, 0.0, 0.0, None))
        if nc > base[1]:  # only functions the instrumentation calls more: timing noise stays out
            added.append((key, (tt - base[2]) / total * 1e6, ct / total * 1e6, (nc - base[1]) / total))
    added.sort(key=lambda item: item[1], reverse=True)
    show(f"top {top} by added tottime, functions called more often when instrumented ('calls': added):", added)
    print(f"\ntottime in otel_llm + opentelemetry + wrapt code: {sum(i[1] for i in ours):.1f} µs/call under cProfile")


# -- entry point --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="plain + instrumented child pairs (default 5)")
    parser.add_argument("--calls", type=int, help="calls per timed batch, every scenario (default: per scenario)")
    parser.add_argument("--batches", type=int, default=8, help="timed batches per child (default 8)")
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--profile", choices=list(SCENARIOS), help="cProfile one scenario instead")
    parser.add_argument("--components", action="store_true", help="cost of the building blocks instead")
    parser.add_argument("--child", choices=list(SCENARIOS), help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("plain", "native", "instrumented"), help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        child(args.child, args.mode, args.calls or SCENARIOS[args.child].calls, args.batches, args.profile_out)
        return 0
    if args.profile:
        profile(args.profile, args.batches, args.calls)
        return 0
    if args.components:
        components()
        return 0
    return 0 if measure(args.scenarios, args.rounds, args.batches, args.calls) else 1


if __name__ == "__main__":
    sys.exit(main())
