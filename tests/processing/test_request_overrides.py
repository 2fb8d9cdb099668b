"""Per-request redaction through ``otel_llm.context(redact_content=...)``, honoured only where allowed.

Real openai SDK calls with content captured, three file destinations: one that drops content and
refuses overrides, one that drops content but lets a request keep it, one that keeps content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider

import otel_llm
from tests.support import Telemetry, chat_completion_payload, chat_message, instrument, json_response, make_client

PROMPT = "the quarterly numbers are confidential"


def handler(request: Any) -> Any:
    return json_response(chat_completion_payload((chat_message("noted"), "stop")))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {name: tmp_path / f"{name}.jsonl" for name in ("strict", "lenient", "open")}


def run(files: dict[str, Path], **context: Any) -> dict[str, dict[str, Any]]:
    def file(name: str, **redaction: Any) -> dict[str, Any]:
        return {"type": "file", "path": str(files[name]), "redaction": redaction}

    telemetry = Telemetry()
    instrumentor = instrument(telemetry, capture_content="SPAN_ONLY")
    pipeline = otel_llm.configure(
        {
            "destinations": {
                "strict": file("strict", content="drop"),
                "lenient": file("lenient", content="drop", allow_request_override=True),
                "open": file("open", content="keep"),
            }
        },
        tracer_provider=telemetry.tracer_provider,
        meter_provider=MeterProvider(),
        instrument=False,
    )
    try:
        with otel_llm.context(**context):
            make_client(handler).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": PROMPT}])
    finally:
        instrumentor.uninstrument()
    assert pipeline.force_flush()
    telemetry.tracer_provider.shutdown()
    return {name: json.loads(path.read_text()) for name, path in files.items()}


def kept(record: dict[str, Any]) -> bool:
    return PROMPT in json.dumps(record.get("input_messages"))


def test_without_a_request_the_destinations_decide(files: dict[str, Path]) -> None:
    records = run(files)
    assert {name: kept(r) for name, r in records.items()} == {"strict": False, "lenient": False, "open": True}
    assert "[redacted 38 chars]" in json.dumps(records["strict"]["input_messages"])


def test_a_request_to_keep_content_is_honoured_only_where_allowed(files: dict[str, Path]) -> None:
    records = run(files, redact_content=False)
    assert {name: kept(r) for name, r in records.items()} == {"strict": False, "lenient": True, "open": True}


def test_a_request_to_redact_means_no_content_anywhere(files: dict[str, Path]) -> None:
    records = run(files, redact_content=True)
    for record in records.values():
        assert "input_messages" not in record  # never captured, so no destination can have it
        assert record["attributes"]["otel_llm.redact.content"] is True


def test_redact_content_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="redact_content: expected bool or None, got str"):
        otel_llm.context(redact_content="yes")  # type: ignore[arg-type]
