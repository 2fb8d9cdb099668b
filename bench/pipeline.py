"""Throughput of the destinations pipeline to the JSON Lines file exporter, with redaction on.

    python bench/pipeline.py [--spans 100000]

Spans are made beforehand by a real tracer with the attributes our instrumentation writes for a
chat call (with and without captured content), then offered to the pipeline as ``on_end`` would.
The figure per core is spans / CPU seconds of the whole process (the application thread routing
and queueing plus the worker redacting, encoding and writing). A second run with an exporter slower
than the producer shows that memory stays bounded by the queue settings.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_llm.exporters.file import FileExporter
from otel_llm.processing.destination import Destination, QueueSettings
from otel_llm.processing.pipeline import Pipeline
from otel_llm.processing.redaction import RedactionSettings, Redactor

BASE = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.request.temperature": 0.2,
    "gen_ai.request.max_tokens": 512,
    "gen_ai.request.stream": False,
    "server.address": "api.openai.com",
    "server.port": 443,
    "openai.api.type": "chat_completions",
    "gen_ai.response.id": "chatcmpl-AbC123xyz",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.usage.input_tokens": 1234,
    "gen_ai.usage.output_tokens": 321,
    "gen_ai.usage.cache_read.input_tokens": 1024,
    "openai.response.system_fingerprint": "fp_0123456789",
    "otel_llm.cost.usd": 0.000432,
    "otel_llm.cost.input_usd": 0.000239,
    "otel_llm.cost.output_usd": 0.000193,
    "otel_llm.tags": ("checkout", "prod"),
    "otel_llm.metadata.feature": "summarise",
    "otel_llm.tenant.id": "team-1",
    "user.id": "user-8842",
    "gen_ai.conversation.id": "conv-5521",
}
CONTENT = {
    "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "You are a helpful assistant. " * 8}]),
    "gen_ai.input.messages": json.dumps(
        [
            {
                "role": "user",
                "parts": [{"type": "text", "content": "Summarise this order history for me please. " * 20}],
            },
        ]
    ),
    "gen_ai.output.messages": json.dumps(
        [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "Here is a short summary of the orders you placed. " * 12}],
                "finish_reason": "stop",
            }
        ]
    ),
}


def make_spans(n: int, content: bool) -> list[ReadableSpan]:
    sink = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(sink))
    tracer = provider.get_tracer("otel_llm.instrumentation.openai")
    attrs = {**BASE, **(CONTENT if content else {})}
    for _ in range(n):
        tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attrs).end()
    return list(sink.get_finished_spans())


class SlowExporter(SpanExporter):
    """Takes 50 ms per batch: slower than the producer, so the queue fills and spans are dropped."""

    def export(self, spans: object) -> SpanExportResult:
        time.sleep(0.05)
        return SpanExportResult.SUCCESS


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(name: str, spans: list[ReadableSpan], total: int, settings: RedactionSettings, directory: Path) -> None:
    path = directory / f"{name}.jsonl"
    queue = QueueSettings(max_size=total + 1, batch_size=512, flush_interval=0.2, shutdown_timeout=60)
    exporter = FileExporter(path=str(path), max_bytes=0)
    pipeline = Pipeline([Destination("file", exporter, redactor=Redactor(settings), queue=queue)])
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(total):
        pipeline.on_end(spans[i % len(spans)])
    pipeline.force_flush(120_000)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = pipeline.stats()["file"]
    pipeline.shutdown()
    size = path.stat().st_size
    print(
        f"{name:<34} {total / cpu:>9,.0f} spans/s per CPU-second   {total / wall:>9,.0f} spans/s wall   "
        f"exported={stats['exported']:,} dropped={stats['dropped_total']} file={size / 2**20:.1f} MiB"
    )


def bounded(spans: list[ReadableSpan], total: int) -> None:
    queue = QueueSettings(max_size=2048, batch_size=512, flush_interval=0.2, shutdown_timeout=1)
    pipeline = Pipeline([Destination("slow", SlowExporter(), redactor=Redactor(RedactionSettings()), queue=queue)])
    before = rss_mib()
    peak = before
    for i in range(total):
        pipeline.on_end(spans[i % len(spans)])
        if i % 10_000 == 0:
            peak = max(peak, rss_mib())
    stats = pipeline.stats()["slow"]
    pipeline.shutdown()
    print(
        f"slow exporter, queue max_size=2048: offered {total:,}, queued at most 2,048 + one batch; "
        f"dropped (queue_full) {stats['dropped'].get('queue_full', 0):,}; RSS {before:.0f} -> peak {peak:.0f} MiB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=100_000)
    args = parser.parse_args(argv)
    plain, with_content = make_spans(2000, False), make_spans(2000, True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.spans:,} spans per run\n")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        run("no content, secrets on", plain, args.spans, RedactionSettings(), directory)
        run("no content, secrets+pii+hash ids", plain, args.spans, _strict(), directory)
        run("content kept, secrets on", with_content, args.spans, RedactionSettings(), directory)
        run("content kept, secrets+pii+hash ids", with_content, args.spans, _strict(), directory)
        run("content dropped", with_content, args.spans, RedactionSettings(content="drop"), directory)
    bounded(plain, args.spans)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS {peak:.0f} MiB (includes the {4000:,} pre-built spans)")
    return 0


def _strict() -> RedactionSettings:
    return RedactionSettings(pii=("email", "phone", "card"), identifiers="hash", hash_key="bench-key")


if __name__ == "__main__":
    sys.exit(main())
