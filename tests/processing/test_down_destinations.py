"""Destinations that are down (connection refused, HTTP 500, hanging) beside a healthy one.

The healthy destination must get every call, the application's calls must not wait for the broken
ones, and every span a broken destination did not deliver must be counted as dropped.
"""

from __future__ import annotations

import json
import socket
import statistics
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider

import otel_llm
from otel_llm.processing import accounting as acc
from tests.servers import http_sink
from tests.support import Telemetry, chat_completion_payload, chat_message, instrument, json_response, make_client

CALLS = 300
FAST_RETRY = {"max_attempts": 2, "initial_backoff": 0.05, "max_backoff": 0.1}
SMALL_QUEUE = {"max_size": 20, "batch_size": 10, "flush_interval": 0.05, "shutdown_timeout": 1.0}


def handler(request: Any) -> Any:
    return json_response(chat_completion_payload((chat_message("ok"), "stop")))


def refused_url() -> str:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/ingest"


def run(telemetry: Telemetry) -> list[float]:
    client = make_client(handler)
    latencies = []
    for _ in range(CALLS):
        started = time.perf_counter()
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        latencies.append(time.perf_counter() - started)
    return latencies


def test_a_healthy_destination_is_unaffected_by_broken_ones(tmp_path: Path) -> None:
    # Baseline: the healthy destination alone.
    base = Telemetry()
    instrumentor = instrument(base)
    otel_llm.configure(
        {"destinations": {"healthy": {"type": "file", "path": str(tmp_path / "base.jsonl")}}},
        tracer_provider=base.tracer_provider,
        meter_provider=MeterProvider(),
        instrument=False,
    )
    baseline = run(base)
    instrumentor.uninstrument()
    base.tracer_provider.shutdown()

    with http_sink(status=500) as failing, http_sink(delay=3.0) as hanging:
        broken = {"retry": FAST_RETRY, "queue": SMALL_QUEUE}
        cfg = {
            "destinations": {
                "healthy": {"type": "file", "path": str(tmp_path / "healthy.jsonl"), "queue": {"flush_interval": 0.05}},
                "refused": {"type": "webhook", "url": refused_url(), **broken},
                "http-500": {"type": "webhook", "url": failing.url + "/ingest", **broken},
                "hanging": {"type": "webhook", "url": hanging.url + "/ingest", "timeout": 0.5, **broken},
            }
        }
        telemetry = Telemetry()
        instrumentor = instrument(telemetry)
        pipeline = otel_llm.configure(
            cfg, tracer_provider=telemetry.tracer_provider, meter_provider=MeterProvider(), instrument=False
        )
        latencies = run(telemetry)
        instrumentor.uninstrument()
        started = time.perf_counter()
        telemetry.tracer_provider.shutdown()
        shutdown_s = time.perf_counter() - started
        stats = pipeline.stats()

    lines = (tmp_path / "healthy.jsonl").read_text().splitlines()
    assert len(lines) == CALLS
    assert all(json.loads(line)["status"] == "ok" for line in lines)

    # No call waited for a broken destination: a blocking export would cost >= 0.5 s (the webhook
    # timeout) or 3 s (the hanging server) on the calls that hit it. Typical latency stays that of
    # the healthy-only run (generous bounds: CI machines are shared).
    p95 = sorted(latencies)[int(len(latencies) * 0.95)]
    assert p95 < 0.2, p95
    assert statistics.median(latencies) < 3 * statistics.median(baseline) + 0.005
    print(
        f"\ncall latency median {statistics.median(baseline) * 1e3:.2f} ms alone, "
        f"{statistics.median(latencies) * 1e3:.2f} ms beside 3 broken destinations; shutdown {shutdown_s:.2f} s"
    )
    assert shutdown_s < 5.0

    # Every span is accounted for: exported or dropped with a reason, none silently lost.
    for name in ("refused", "http-500", "hanging"):
        s = stats[name]
        assert s["exported"] == 0, (name, s)
        assert s["dropped_total"] == CALLS, (name, s)
        assert set(s["dropped"]) <= {acc.QUEUE_FULL, acc.EXPORT_FAILED, acc.SHUTDOWN}
        assert s["dropped"].get(acc.QUEUE_FULL, 0) > 0, (name, s)
        assert s["last_error"], name
    assert stats["refused"]["retried"] > 0 and "onnection" in stats["refused"]["last_error"]
    assert "500" in stats["http-500"]["last_error"]
    assert (stats["healthy"]["exported"], stats["healthy"]["dropped_total"]) == (CALLS, 0)
