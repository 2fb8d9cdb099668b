"""Zero-code with a configuration file: ``OTEL_LLM_CONFIG=... opentelemetry-instrument python app.py``.

The file's destinations receive the spans, its capture setting reaches the instrumentors, and an
exporter named in OTEL_TRACES_EXPORTER goes through the pipeline (global redaction) rather than
around it. An invalid file is reported with its key path and the application still runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.test_zero_code import CHAT_EXAMPLE, INSTRUMENT, PROMPT, REPO, clean_env, json_objects, pytestmark, spans_of

__all__ = ["pytestmark"]


def run(config: Path, *exporter_args: str) -> subprocess.CompletedProcess[str]:
    command = [str(INSTRUMENT), *exporter_args, "--metrics_exporter", "none", "--logs_exporter", "none"]
    command += [sys.executable, CHAT_EXAMPLE]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=180, env=clean_env(OTEL_LLM_CONFIG=str(config)), cwd=REPO
    )


def test_the_file_configures_destinations_capture_and_env_exporters(tmp_path: Path) -> None:
    records = tmp_path / "calls.jsonl"
    config = tmp_path / "otel-llm.yaml"
    config.write_text(
        f"""
capture_content: span_only
redaction:
  content: drop            # the default for every destination, env:console included
destinations:
  audit:
    type: file
    path: {records}
    redaction:
      content: keep        # this one may keep content
"""
    )
    result = run(config, "--traces_exporter", "console")
    assert result.returncode == 0, result.stderr

    (record,) = [json.loads(line) for line in records.read_text().splitlines()]
    assert record["operation"] == "chat"
    assert PROMPT in json.dumps(record["input_messages"])  # capture_content came from the file

    spans = spans_of(json_objects(result.stdout))
    (chat,) = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "chat"]
    messages = json.loads(chat["attributes"]["gen_ai.input.messages"])
    assert not any(PROMPT in json.dumps(s) for s in spans)  # the console exporter only saw the redacted copy
    assert messages[0]["parts"][0]["content"].startswith("[redacted ")


def test_without_a_trace_exporter_only_the_destinations_export(tmp_path: Path) -> None:
    records = tmp_path / "calls.jsonl"
    config = tmp_path / "otel-llm.yaml"
    config.write_text(f"destinations:\n  audit: {{type: file, path: {records}}}\n")
    result = run(config)  # no --traces_exporter: the distro must not add its otlp default
    assert result.returncode == 0, result.stderr
    assert len(records.read_text().splitlines()) == 1
    assert "Failed to export" not in result.stderr  # nothing tried localhost:4317


def test_an_invalid_file_is_reported_and_the_app_still_runs(tmp_path: Path) -> None:
    config = tmp_path / "otel-llm.yaml"
    config.write_text("destinations:\n  audit: {type: file, path: x.jsonl, queue: {max_size: -5}}\n")
    result = run(config, "--traces_exporter", "console")
    assert result.returncode == 0, result.stderr
    assert "destinations.audit.queue.max_size" in result.stderr
    assert spans_of(json_objects(result.stdout)) == []  # no telemetry rather than unredacted telemetry
