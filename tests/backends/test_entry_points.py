"""``OTEL_TRACES_EXPORTER=<backend>`` under ``opentelemetry-instrument``: each preset is an
``opentelemetry_traces_exporter`` entry point configured by the backend's own environment
variables, alone or as a destination of a configuration file (then under its redaction)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from otel_llm.backends import BACKENDS, BackendSpanExporter
from tests.backends.calls import by_operation
from tests.backends.otlp_contract import otlp_receiver
from tests.test_zero_code import CHAT_EXAMPLE, INSTRUMENT, PROMPT, REPO, clean_env

pytestmark = pytest.mark.skipif(not INSTRUMENT.exists(), reason="opentelemetry-instrument is not installed")

BACKEND_VARIABLES = ("LANGFUSE_", "HONEYCOMB_", "LANGSMITH_", "ARIZE_", "PHOENIX_", "DD_", "MLFLOW_")


def run(exporter: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in clean_env(**env).items() if not k.startswith(BACKEND_VARIABLES) or k in env}
    command = [str(INSTRUMENT), "--traces_exporter", exporter, "--metrics_exporter", "none", "--logs_exporter", "none"]
    return subprocess.run(
        [*command, sys.executable, CHAT_EXAMPLE], capture_output=True, text=True, timeout=180, env=environ, cwd=REPO
    )


def test_every_backend_is_an_entry_point_of_its_own_name() -> None:
    found = {e.name: e for e in entry_points(group="opentelemetry_traces_exporter") if e.name in BACKENDS}
    assert set(found) == set(BACKENDS)
    for name, entry in found.items():
        cls = entry.load()
        assert issubclass(cls, BackendSpanExporter) and cls.backend is BACKENDS[name]


def test_langfuse_from_its_environment_variables_alone() -> None:
    with otlp_receiver("/api/public/otel/v1/traces") as langfuse:
        result = run(
            "langfuse",
            LANGFUSE_PUBLIC_KEY="pk-lf-zero",
            LANGFUSE_SECRET_KEY="sk-lf-zero",
            LANGFUSE_BASE_URL=langfuse.base_url,
            OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="span_only",
        )
        assert result.returncode == 0, result.stderr
        assert langfuse.rejected == []
    (request,) = langfuse.accepted
    assert request.headers["authorization"] == "Basic cGstbGYtemVybzpzay1sZi16ZXJv"  # pk-lf-zero:sk-lf-zero
    chat = by_operation(request.spans)["chat"].attributes
    assert chat["langfuse.observation.type"] == "generation"
    assert PROMPT in chat["gen_ai.input.messages"]  # no configuration file: no redaction of content


def test_as_a_destination_of_a_configuration_file_it_gets_the_redacted_copy(tmp_path: Path) -> None:
    config = tmp_path / "otel-llm.yaml"
    config.write_text("capture_content: span_only\nredaction:\n  content: drop\n")
    with otlp_receiver("/otel/v1/traces") as langsmith:
        result = run(
            "langsmith",
            OTEL_LLM_CONFIG=str(config),
            LANGSMITH_API_KEY="lsv2_zero",
            LANGSMITH_ENDPOINT=langsmith.base_url,
        )
        assert result.returncode == 0, result.stderr
        assert langsmith.rejected == []
    assert {r.headers["x-api-key"] for r in langsmith.accepted} == {"lsv2_zero"}
    chat = by_operation(langsmith.spans())["chat"].attributes
    assert chat["gen_ai.system"] == chat["gen_ai.provider.name"] == "openai_compatible"  # the local demo server
    messages = json.loads(chat["gen_ai.input.messages"])
    assert messages[0]["parts"][0]["content"].startswith("[redacted ")
    assert PROMPT not in json.dumps(chat)


def test_a_missing_key_names_the_variable_and_the_app_still_runs() -> None:
    result = run("honeycomb")
    assert result.returncode == 0, result.stderr
    assert (
        "honeycomb: api_key: required: give it in the configuration or set HONEYCOMB_TRACES_APIKEY or HONEYCOMB_API_KEY"
        in result.stderr
    )
