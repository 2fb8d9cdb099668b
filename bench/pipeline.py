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
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_llm.exporters.file import FileExporter
from otel_llm.processing.destination import Destination, QueueSettings
from otel_llm.processing.pipeline import Pipeline
from otel_llm.processing.redaction import RedactionSettings, Redactor

# The same realistic chat spans as the redaction benchmark (bench/redaction.py, run from bench/).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from redaction import content, make_spans


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
    plain, with_content = make_spans(2000), make_spans(2000, lambda i: content(False, i))
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
