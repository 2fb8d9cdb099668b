"""Graceful stop: receivers refuse new data at once (retryable), and what was accepted is delivered
within the bound; what the bound cannot cover is counted, never silently lost."""

from __future__ import annotations

import time
from pathlib import Path

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from otel_llm.collector.server import Collector
from tests.collector.conftest import collector_config, genai_spans
from tests.collector.test_receivers import post
from tests.servers import http_sink, otlp_http_spans

TOKEN = "stop-token"


def _collector(tmp_path: Path, url: str, shutdown_timeout: str) -> Collector:
    return Collector(
        {
            "destinations": {
                "slow": {
                    "type": "otlp",
                    "protocol": "http/protobuf",
                    "endpoint": url,
                    "queue": {"batch_size": 10, "flush_interval": "50ms", "shutdown_timeout": shutdown_timeout},
                }
            },
            "collector": collector_config(
                tmp_path / "state", auth={"tokens": [{"token": TOKEN}]}, shutdown_timeout=shutdown_timeout
            ),
        }
    )


def _send(collector: Collector, count: int) -> int:
    body = encode_spans(genai_spans(count)).SerializeToString()
    headers = {"content-type": "application/x-protobuf", "authorization": f"Bearer {TOKEN}"}
    return post(f"http://127.0.0.1:{collector.ports['http']}/v1/traces", body, headers)[0]


def test_stop_delivers_what_was_accepted(tmp_path: Path) -> None:
    with http_sink(delay=0.05) as sink:
        collector = _collector(tmp_path, sink.url, "10s")
        collector.start()
        assert _send(collector, 60) == 200
        started = time.monotonic()
        collector.stop()
        took = time.monotonic() - started
        assert len(otlp_http_spans(sink)) == 60
    assert took < 10
    assert collector.service.health()["slow"]["dropped"] == {}


def test_stop_is_bounded_and_counts_the_rest(tmp_path: Path) -> None:
    with http_sink(delay=1.0) as sink:
        collector = _collector(tmp_path, sink.url, "1s")
        collector.start()
        assert _send(collector, 100) == 200
        started = time.monotonic()
        collector.stop()
        took = time.monotonic() - started
        delivered = len(otlp_http_spans(sink))
    health = collector.service.health()["slow"]
    assert took < 1 + 5 + 3  # the bound, the HTTP server's own grace, and slack
    assert delivered < 100
    assert health["exported"] + health["dropped_total"] == 100  # every accepted span accounted for
    assert health["dropped"].get("shutdown", 0) > 0


def test_requests_after_stop_began_are_refused_with_a_retryable_status(tmp_path: Path) -> None:
    with http_sink() as sink:
        collector = _collector(tmp_path, sink.url, "5s")
        collector.start()
        collector.service.stop_taking()
        try:
            assert _send(collector, 1) == 503
        finally:
            collector.stop()
