"""otel_llm.configure(): what the file sets reaches the runtime, and what would bypass the pipeline is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm
from otel_llm.config import ConfigError
from otel_llm.genai.capture import CAPTURE_ENV
from otel_llm.request_context import current_policy
from tests.support import Telemetry, chat_completion_payload, chat_message, instrument, json_response, make_client


def handler(request: Any) -> Any:
    return json_response(chat_completion_payload((chat_message("ok"), "stop")))


def call() -> None:
    make_client(handler).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "secret plan"}])


def configure(telemetry: Telemetry, config: dict[str, Any], **kwargs: Any) -> Any:
    return otel_llm.configure(
        config, tracer_provider=telemetry.tracer_provider, meter_provider=MeterProvider(), instrument=False, **kwargs
    )


def test_event_capture_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CAPTURE_ENV, "SPAN_AND_EVENT")
    with pytest.raises(ConfigError, match=f"{CAPTURE_ENV}=SPAN_AND_EVENT: content on log events bypasses"):
        configure(Telemetry(), {"destinations": {"f": {"type": "file", "path": str(tmp_path / "f.jsonl")}}})


def test_a_request_cannot_move_content_onto_events(tmp_path: Path) -> None:
    telemetry = Telemetry()
    instrumentor = instrument(telemetry, capture_content="SPAN_ONLY")
    configure(
        telemetry,
        {
            "requests": {"allow_capture_override": True},
            "destinations": {"f": {"type": "file", "path": str(tmp_path / "f.jsonl")}},
        },
    )
    assert current_policy().content_on_spans_only and current_policy().allow_capture_override
    try:
        with otel_llm.context(capture_content="SPAN_AND_EVENT"):
            call()
        with otel_llm.context(capture_content="EVENT_ONLY"):
            call()
    finally:
        instrumentor.uninstrument()
    assert telemetry.events() == []  # no log event carried content past the pipeline
    first, second = telemetry.spans()
    assert "secret plan" in first.attributes["gen_ai.input.messages"]  # SPAN_AND_EVENT became SPAN_ONLY
    assert "gen_ai.input.messages" not in second.attributes  # EVENT_ONLY became NO_CONTENT


def test_an_extra_exporter_may_not_take_a_destination_name(tmp_path: Path) -> None:
    config = {"destinations": {"audit": {"type": "file", "path": str(tmp_path / "a.jsonl")}}}
    with pytest.raises(ValueError, match="'audit' is already a destination"):
        configure(Telemetry(), config, exporters={"audit": InMemorySpanExporter()})


def test_extra_exporters_receive_what_the_defaults_receive(tmp_path: Path) -> None:
    extra = InMemorySpanExporter()
    telemetry = Telemetry()
    instrumentor = instrument(telemetry)
    pipeline = configure(
        telemetry,
        {
            "destinations": {"own": {"type": "file", "path": str(tmp_path / "own.jsonl")}},
            "tenants": {"listed": {}, "routed": {"destinations": ["own"]}, "gdpr": {"logging": False}},
            "default_destinations": [],
        },
        exporters={"env:memory": extra},
    )
    try:
        for tenant in ("listed", "routed", "gdpr", "unlisted", None):
            with otel_llm.context(tenant_id=tenant):
                call()
    finally:
        instrumentor.uninstrument()
    assert pipeline.force_flush()
    got = sorted(str(s.attributes.get("otel_llm.tenant.id")) for s in extra.get_finished_spans())
    assert got == ["None", "listed", "unlisted"]
    (own,) = [json.loads(line) for line in (tmp_path / "own.jsonl").read_text().splitlines()]
    assert own["tenant_id"] == "routed"
    telemetry.tracer_provider.shutdown()


def test_disabled_destinations_get_nothing(tmp_path: Path) -> None:
    telemetry = Telemetry()
    instrumentor = instrument(telemetry)
    pipeline = configure(
        telemetry,
        {
            "destinations": {
                "on": {"type": "file", "path": str(tmp_path / "on.jsonl")},
                "off": {"type": "file", "path": str(tmp_path / "off.jsonl"), "enabled": False},
            },
            "tenants": {"t": {"destinations": ["on", "off"]}},
        },
    )
    try:
        with otel_llm.context(tenant_id="t"):
            call()
    finally:
        instrumentor.uninstrument()
    assert pipeline.force_flush()
    assert list(pipeline.destinations) == ["on"]
    assert len((tmp_path / "on.jsonl").read_text().splitlines()) == 1
    assert not (tmp_path / "off.jsonl").exists()
    telemetry.tracer_provider.shutdown()
