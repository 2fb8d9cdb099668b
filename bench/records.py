"""Throughput of the LLM call record and of the file exporter, in records per second of one core.

Spans are real: 512 Chat Completions calls through the openai SDK (mock transport, the payloads of
bench/payloads.py) instrumented by otel-llm, each with tags, metadata, user and tenant. The
"content" set captures messages on the span (SPAN_ONLY); the "no content" set is the same calls
with capture turned off for them, as most destinations see them.

Measured, per set, with the thread's CPU time (other load on a shared machine is not counted):

* ``to_record``             the span → record dict
* ``to_record + dumps``     and its one-line JSON (``otel_llm.records.dumps``)
* ``FileExporter.export``   a batch of 512 spans → records → JSON Lines appended to a file and flushed

    python bench/records.py                 # 7 rounds of 20 batches of 512
    python bench/records.py --rounds 3 --batches 10

The figure printed is the best round (the least disturbed one); the median follows in brackets.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from payloads import CHAT_REQUEST, chat_completion_body  # bench/ is on sys.path when run as a script

import otel_llm
from otel_llm.exporters import FileExporter
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.records import dumps, to_record

if int(openai.__version__.split(".")[0]) >= 3:
    import httpx2 as http
else:  # pragma: no cover - the openai 1.x/2.x line
    import httpx as http  # type: ignore[no-redef]

BATCH = 512


def make_spans() -> dict[str, list[ReadableSpan]]:
    """512 real chat spans without content and 512 with."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench", "service.version": "1.0.0"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider, capture_content="SPAN_ONLY", cost=True)
    body = chat_completion_body()
    client = openai.OpenAI(
        api_key="sk-bench",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(lambda request: http.Response(200, content=body))),
    )
    out: dict[str, list[ReadableSpan]] = {}
    try:
        for name, capture in (("no content", False), ("content", True)):
            exporter.clear()
            for i in range(BATCH):
                labels: dict[str, Any] = {
                    "tags": ["bench", "travel"],
                    "metadata": {"feature": "suggestions", "request_no": i},
                    "user_id": f"user-{i % 97}",
                    "tenant_id": f"team-{i % 5}",
                    "capture_content": capture,
                }
                with otel_llm.context(**labels):
                    client.chat.completions.create(**CHAT_REQUEST)
            spans = list(exporter.get_finished_spans())
            assert len(spans) == BATCH and all(("gen_ai.input.messages" in s.attributes) is capture for s in spans)
            out[name] = spans
    finally:
        instrumentor.uninstrument()
    return out


def rate(work: Callable[[], int], rounds: int) -> tuple[float, float]:
    """(best, median) items per CPU second of ``work``, which returns how many items it did."""
    work()  # warm up
    rates = []
    for _ in range(rounds):
        started = time.thread_time()
        items = work()
        rates.append(items / (time.thread_time() - started))
    return max(rates), statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batches", type=int, default=20, help="batches of 512 spans per round")
    args = parser.parse_args()

    sets = make_spans()
    print(f"python {sys.version.split()[0]}, openai {openai.__version__}; {args.rounds} rounds of "
          f"{args.batches} x {BATCH} spans; records/s per core (best [median])")
    print(f"{'set':<11} {'bytes/record':>12} {'to_record':>18} {'to_record + dumps':>20} {'FileExporter.export':>22}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, spans in sets.items():
            size = sum(len(dumps(to_record(s)).encode()) + 1 for s in spans) / len(spans)

            def records_only(spans: list[ReadableSpan] = spans) -> int:
                for _ in range(args.batches):
                    for span in spans:
                        to_record(span)
                return args.batches * len(spans)

            def records_json(spans: list[ReadableSpan] = spans) -> int:
                for _ in range(args.batches):
                    for span in spans:
                        dumps(to_record(span))
                return args.batches * len(spans)

            exporter = FileExporter(path=Path(tmp) / f"{name.replace(' ', '_')}.jsonl", max_bytes=0)

            def file_export(spans: list[ReadableSpan] = spans, exporter: FileExporter = exporter) -> int:
                for _ in range(args.batches):
                    exporter.export(spans)
                return args.batches * len(spans)

            cells = []
            for work in (records_only, records_json, file_export):
                best, median = rate(work, args.rounds)
                cells.append(f"{best:>9,.0f} [{median:,.0f}]")
            exporter.shutdown()
            print(f"{name:<11} {size:>12,.0f} {cells[0]:>18} {cells[1]:>20} {cells[2]:>22}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
