"""Load generator for ``otel-llm collector``: sustained spans/s to the file exporter with redaction on,
the time to acknowledge a request, and the collector's memory over the run.

    python bench/collector.py [--duration 60] [--senders 4] [--batch 256] [--protocol http|grpc]
                              [--content] [--persistence] [--sample 10]

The collector runs as its own process (``otel-llm collector``) with one file destination under the
default redaction (secrets scrubbed; with ``--content`` the spans carry message content, which the
destination drops to placeholders) and auth on. Sender threads in this process post pre-encoded
OTLP/protobuf requests of realistic GenAI chat spans (made by a real tracer) as fast as the
collector acknowledges them; a 503 (queue full) is backed off and counted. Delivered spans/s comes
from the collector's own counter of spans the file exporter wrote, read from /metrics; memory is
the collector's resident set, sampled every ``--sample`` seconds.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from redaction import content, make_spans  # realistic chat spans, shared with the other benches

TOKEN = "bench-token"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests_of(batch: int, with_content: bool, count: int = 16) -> list[bytes]:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    spans = make_spans(batch * count, (lambda i: content(False, i)) if with_content else None)
    return [encode_spans(spans[i * batch : (i + 1) * batch]).SerializeToString() for i in range(count)]


class Senders:
    def __init__(self, port: int, bodies: list[bytes], batch: int, threads: int) -> None:
        self.port, self.bodies, self.batch = port, bodies, batch
        self.latencies: list[float] = []
        self.acknowledged = 0
        self.refused = 0
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _run(self, index: int) -> None:
        headers = {"content-type": "application/x-protobuf", "authorization": f"Bearer {TOKEN}"}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        i = index
        while not self._stop.is_set():
            body = self.bodies[i % len(self.bodies)]
            i += 1
            started = time.perf_counter()
            try:
                conn.request("POST", "/v1/traces", body, headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                status = 0
            elapsed = time.perf_counter() - started
            with self._lock:
                if status == 200:
                    self.acknowledged += self.batch
                    self.latencies.append(elapsed)
                elif status == 503:
                    self.refused += 1
                else:
                    self.errors += 1
            if status != 200:
                time.sleep(0.05)


def scrape(port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    match = re.search(r'^otel_llm_collector_exported_spans_total\{destination="file"\} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sustained load (after warm-up)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256, help="spans per request")
    parser.add_argument("--content", action="store_true", help="spans carry message content (dropped by redaction)")
    parser.add_argument("--persistence", action="store_true", help="write-ahead log on (fsync per request group)")
    parser.add_argument("--no-normalise", action="store_true", help="collector.normalise: false")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between memory samples")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="otel-llm-bench-"))
    http_port, admin_port = free_port(), free_port()
    config = {
        "destinations": {
            "file": {
                "type": "file",
                "path": str(directory / "records.jsonl"),
                "max_bytes": 256 << 20,
                "backups": 1,
                "redaction": {"content": "drop"},
                "queue": {"max_size": 20000, "batch_size": 512},
            }
        },
        "collector": {
            "grpc": {"endpoint": False},
            "http": {"endpoint": f"127.0.0.1:{http_port}"},
            "admin": {"endpoint": f"127.0.0.1:{admin_port}"},
            "auth": {"tokens": [{"token": TOKEN, "tenant": "bench"}]},
            "state_directory": str(directory / "state"),
            "persistence": {"enabled": args.persistence},
            "max_queued_spans": 20000,
            "normalise": not args.no_normalise,
        },
    }
    (directory / "collector.yaml").write_text(yaml.safe_dump(config))
    log = open(directory / "collector.log", "wb")  # noqa: SIM115
    command = [sys.executable, "-m", "otel_llm.cli", "collector", "--config", str(directory / "collector.yaml")]
    process = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/readyz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    sys.exit(f"collector did not start; see {directory / 'collector.log'}")
                time.sleep(0.1)
        bodies = requests_of(args.batch, args.content)
        print(
            f"collector pid {process.pid}; {args.senders} senders x {args.batch} spans/request; "
            f"content={'on' if args.content else 'off'}; persistence={'on' if args.persistence else 'off'}; "
            f"request size {statistics.mean(len(b) for b in bodies) / 1024:.0f} KiB",
            flush=True,
        )
        senders = Senders(http_port, bodies, args.batch, args.senders)
        senders.start()
        time.sleep(args.warmup)
        with senders._lock:
            senders.latencies.clear()
        exported0, cpu0, t0 = scrape(admin_port), cpu_seconds(process.pid), time.monotonic()
        samples = []
        while (elapsed := time.monotonic() - t0) < args.duration:
            time.sleep(min(args.sample, args.duration - elapsed))
            exported = scrape(admin_port)
            samples.append((time.monotonic() - t0, exported - exported0, rss_mib(process.pid)))
            print(
                f"  t={samples[-1][0]:6.0f}s delivered {samples[-1][1] / samples[-1][0]:8.0f} spans/s "
                f"rss {samples[-1][2]:6.1f} MiB",
                flush=True,
            )
        exported1, cpu1, t1 = scrape(admin_port), cpu_seconds(process.pid), time.monotonic()
        senders.stop()
        lat = sorted(senders.latencies)
        wall = t1 - t0
        print(f"sustained delivered: {(exported1 - exported0) / wall:,.0f} spans/s over {wall:.0f} s")
        per_cpu = (exported1 - exported0) / max(cpu1 - cpu0, 1e-9)
        print(f"collector CPU: {(cpu1 - cpu0) / wall:.2f} cores; {per_cpu:,.0f} spans per CPU-second")
        if lat:
            q = statistics.quantiles(lat, n=100)
            print(
                f"ack time per request ({len(lat)} requests): p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, "
                f"max {lat[-1] * 1000:.1f} ms"
            )
        print(f"503 refusals: {senders.refused}; other errors: {senders.errors}")
        rss = [s[2] for s in samples]
        if rss:
            print(f"collector RSS: first {rss[0]:.1f} MiB, last {rss[-1]:.1f} MiB, max {max(rss):.1f} MiB")
    finally:
        process.terminate()
        process.wait(60)
        log.close()


if __name__ == "__main__":
    main()
