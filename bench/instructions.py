"""Instructions (not seconds) that otel-llm adds per call, counted by valgrind's callgrind.

Thread CPU time on a shared 2-core machine varies by about 30 % from one process to the next,
which buries a 100-chunk stream's overhead (2 % of the SDK's own work). Instruction counts are
repeatable, so this complements bench/overhead.py with a figure that does not move between runs:

    python bench/instructions.py [--scenarios chat stream ...]

For each scenario it runs two fresh processes under ``valgrind --tool=callgrind`` (plain and
instrumented), with instrumentation switched on only around the measured region (a tiny C helper
issues callgrind's client requests), and reports per call: the instructions the instrumented
call adds on the request path, the instructions of replaying its measurements into the
histograms at collection (otel-llm defers that off the request path), and both in floors, where a
floor is one span with 15 gen_ai.* attributes through a SimpleSpanProcessor, counted the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import overhead  # noqa: E402  (the scenarios and clients are shared with the CPU-time benchmark)

CALLS = {"chat": 40, "async_chat": 40, "stream": 16, "embeddings": 40}
FLOOR_SPANS = 200
TARGETS = {"chat": 1.5, "async_chat": 1.5, "stream": 3.0, "embeddings": 1.5}

_HELPER_C = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void cg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void cg_dump(const char *what) { CALLGRIND_DUMP_STATS_AT(what); }
"""


def build_helper(directory: Path) -> Path:
    """Compile the client-request helper (needs a C compiler and valgrind's headers)."""
    source, library = directory / "cg.c", directory / "cg.so"
    source.write_text(_HELPER_C)
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    return library


def child(scenario: str, mode: str, helper: str) -> None:
    """Run inside valgrind: three dumps, for the calls, the metric replay and the floor spans."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.trace import SpanKind

    class NullExporter(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    cg = ctypes.CDLL(helper)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(NullExporter()))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    if mode == "instrumented":
        import otel_llm

        otel_llm.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    _, call = overhead._client(scenario)
    n = CALLS[scenario]
    tracer = tracer_provider.get_tracer("bench.floor")
    attrs = overhead.floor_attributes()

    async def calls(count: int) -> None:
        for _ in range(count):
            result = call()
            if asyncio.iscoroutine(result):
                await result

    async def measure() -> None:
        await calls(3)  # warm-up, not counted
        reader.collect()
        for _ in range(20):
            tracer.start_span("warm", kind=SpanKind.CLIENT, attributes=attrs).end()
        # Same heap state in both modes; frozen, so a full collection inside the region costs what the
        # calls allocated, not what the imports did (GC inside the region still counts).
        gc.collect()
        gc.freeze()
        if os.environ.get("OTEL_LLM_BENCH_NO_GC"):
            gc.disable()  # pure code cost: no collection can fall inside one mode's region and not the other's
        cg.cg_start()
        await calls(n)
        cg.cg_dump(b"calls")
        reader.collect()  # replays the buffered measurements into the histograms
        cg.cg_dump(b"replay")
        for _ in range(FLOOR_SPANS):
            tracer.start_span(f"chat {overhead.MODEL}", kind=SpanKind.CLIENT, attributes=attrs).end()
        cg.cg_dump(b"floor")
        cg.cg_stop()

    asyncio.run(measure())


def _totals(out_prefix: Path) -> dict[str, int]:
    """Instruction totals of each dump, by the label given to CALLGRIND_DUMP_STATS_AT."""
    totals: dict[str, int] = {}
    for path in sorted(out_prefix.parent.glob(out_prefix.name + "*")):
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (\w+)", text, re.M)
        total = re.search(r"^(?:totals|summary):\s+(\d+)", text, re.M)
        if trigger and total:
            totals[trigger.group(1)] = int(total.group(1))
    return totals


def run(scenario: str, mode: str, helper: Path, workdir: Path) -> dict[str, int]:
    prefix = workdir / f"cg.{scenario}.{mode}"
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", None)
    cmd = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "-q",
        f"--callgrind-out-file={prefix}.%p",
        sys.executable, str(HERE / "instructions.py"), "--child", scenario, "--mode", mode, "--helper", str(helper),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, env=env, cwd=str(HERE.parent))
    return _totals(Path(f"{prefix}."))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", nargs="+", default=list(CALLS), choices=list(CALLS))
    parser.add_argument("--child", choices=list(CALLS))
    parser.add_argument("--mode", choices=["plain", "instrumented"])
    parser.add_argument("--helper")
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="disable the GC in the measured region: the code's own instructions, without the collections "
        "(which land in one mode's region and not the other's, by allocation phase, and make 'added' jumpy)",
    )
    args = parser.parse_args(argv)
    if args.no_gc:
        os.environ["OTEL_LLM_BENCH_NO_GC"] = "1"
    if args.child:
        child(args.child, args.mode, args.helper)
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    import openai

    with tempfile.TemporaryDirectory(prefix="otel-llm-cg-") as tmp:
        workdir = Path(tmp)
        helper = build_helper(workdir)
        print(f"\ninstructions per call (callgrind Ir), openai {openai.__version__}, Python {sys.version.split()[0]}")
        print("floor: 1 CLIENT span with 15 gen_ai.* attributes through SimpleSpanProcessor, counted the same way")
        print("request path: what the instrumented call adds in the caller's thread; replay: recording its")
        print("buffered measurements into the histograms at collection; total = request path + replay")
        print(f"garbage collector in the measured region: {'off' if args.no_gc else 'on'}\n")
        header = (
            f"{'scenario':<24}{'plain':>12}{'added':>10}{'replay':>10}{'floor':>9}"
            f"{'path':>8}{'total':>8}{'target':>8}  request path"
        )
        print(header)
        print("-" * len(header))
        met = True
        for scenario in args.scenarios:
            n = CALLS[scenario]
            plain = run(scenario, "plain", helper, workdir)
            instr = run(scenario, "instrumented", helper, workdir)
            floor = instr["floor"] / FLOOR_SPANS
            added = (instr["calls"] - plain["calls"]) / n
            replay = (instr["replay"] - plain["replay"]) / n
            path_ratio, total_ratio = added / floor, (added + replay) / floor
            ok = path_ratio <= TARGETS[scenario]
            met &= ok
            title = overhead.SCENARIOS[scenario].title
            print(
                f"{title:<24}{plain['calls'] / n:>12.0f}{added:>10.0f}{replay:>10.0f}{floor:>9.0f}"
                f"{path_ratio:>7.2f}x{total_ratio:>7.2f}x{TARGETS[scenario]:>7.1f}x  {'PASS' if ok else 'FAIL'}"
            )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
