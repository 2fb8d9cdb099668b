"""A real collector on loopback ports for a test, and spans made by the real OpenTelemetry SDK."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_llm.collector.server import Collector
from tests.servers import wait_for


@dataclass
class Running:
    collector: Collector

    @property
    def grpc(self) -> str:
        return f"127.0.0.1:{self.collector.ports['grpc']}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.collector.ports['http']}"

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.collector.ports['admin']}"

    @property
    def service(self) -> Any:
        return self.collector.service


def collector_config(state: Path, **collector: Any) -> dict[str, Any]:
    """A ``collector:`` block on ephemeral loopback ports, state under ``state``."""
    block: dict[str, Any] = {
        "grpc": {"endpoint": "127.0.0.1:0"},
        "http": {"endpoint": "127.0.0.1:0"},
        "admin": {"endpoint": "127.0.0.1:0", "key": "admin-key"},
        "state_directory": str(state),
    }
    block.update(collector)
    return block


@contextmanager
def running(config: dict[str, Any]) -> Iterator[Running]:
    collector = Collector(copy.deepcopy(config))
    collector.start()
    try:
        yield Running(collector)
    finally:
        collector.stop(5.0)


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_records(path: Path, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    wait_for(lambda: len(read_records(path)) >= count, timeout)
    return read_records(path)


def genai_spans(
    count: int = 3,
    *,
    attributes: dict[str, Any] | None = None,
    resource: dict[str, Any] | None = None,
    error_every: int = 0,
) -> Sequence[ReadableSpan]:
    """``count`` finished chat spans from a real TracerProvider (ids, times and scope as the SDK makes them)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "sender", **(resource or {})}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test.sender", "1.0")
    for i in range(count):
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.input_tokens": 100 + i,
                    "gen_ai.usage.output_tokens": 20,
                    "call.index": i,
                    **(attributes or {}),
                }
            )
            if error_every and i % error_every == 0:
                span.set_attribute("error.type", "RateLimitError")
                span.set_status(Status(StatusCode.ERROR, "rate limited"))
    provider.shutdown()
    return exporter.get_finished_spans()


@pytest.fixture
def records_path(tmp_path: Path) -> Path:
    return tmp_path / "records.jsonl"
