"""Zero-code instrumentation: `opentelemetry-instrument python examples/...` with no code changes.

These run the examples exactly as a user would, in a subprocess with a clean environment, and
read the console exporters' output. They prove that the `otel_llm_openai` entry point is found,
that the distro/configurator set up the SDK, and that the resulting spans conform.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otel_llm.demo.payloads import RESPONSE_MODELS
from otel_llm.instrumentation.providers import LOCAL_DEFAULT, LOCAL_PORTS

REPO = Path(__file__).resolve().parent.parent
INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"
CHAT_EXAMPLE = "examples/openai_chat.py"
STREAM_EXAMPLE = "examples/openai_stream_async.py"
PROMPT = "Say hello to OpenTelemetry."  # the user message of examples/openai_chat.py
MODEL = "gpt-4o-mini"

pytestmark = pytest.mark.skipif(not INSTRUMENT.exists(), reason="opentelemetry-instrument is not installed")


def clean_env(**settings: str) -> dict[str, str]:
    """The caller's environment without any OTEL_* / OPENAI_* variable, plus ``settings``.

    Without OPENAI_BASE_URL the examples start the local demo server; NO_PROXY keeps a proxy the
    machine may have configured away from that loopback traffic.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}
    for key in ("NO_PROXY", "no_proxy"):
        env[key] = ",".join(filter(None, [env.get(key), "127.0.0.1", "localhost"]))
    env.update(settings)
    return env


def run_instrumented(script: str, **settings: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(INSTRUMENT),
        "--traces_exporter",
        "console",
        "--metrics_exporter",
        "console",
        "--logs_exporter",
        "none",
        sys.executable,  # `python`, but surely the interpreter of this environment
        script,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, env=clean_env(**settings), cwd=REPO)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def json_objects(text: str) -> list[Any]:
    """The top-level JSON objects in ``text``: the console exporters' output between program output."""
    decoder = json.JSONDecoder()
    objects: list[Any] = []
    pos = text.find("{")
    while pos != -1:
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos = text.find("{", pos + 1)
            continue
        objects.append(obj)
        pos = text.find("{", end)
    return objects


def spans_of(objects: list[Any]) -> list[dict[str, Any]]:
    return [o for o in objects if isinstance(o, dict) and {"name", "context", "kind", "attributes"} <= o.keys()]


def metric_names(objects: list[Any]) -> dict[str, set[str]]:
    """Metric name → names of the instrumentation scopes that reported it."""
    names: dict[str, set[str]] = {}
    for obj in objects:
        for rm in obj.get("resource_metrics", ()) if isinstance(obj, dict) else ():
            for sm in rm["scope_metrics"]:
                for metric in sm["metrics"]:
                    names.setdefault(metric["name"], set()).add(sm["scope"]["name"])
    return names


def genai_spans(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in spans if "gen_ai.operation.name" in s["attributes"]]


def the_chat_span(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    spans = spans_of(json_objects(result.stdout))
    chat = [s for s in spans if s["name"] == f"chat {MODEL}"]
    assert len(chat) == 1, [s["name"] for s in spans]
    assert genai_spans(spans) == chat  # and no other GenAI span
    return chat[0]


def test_chat_example_span_conforms() -> None:
    result = run_instrumented(CHAT_EXAMPLE)
    assert PROMPT in result.stdout  # the example printed the demo server's reply
    span = the_chat_span(result)
    attrs = span["attributes"]
    assert span["kind"] == "SpanKind.CLIENT"
    assert span["status"]["status_code"] == "UNSET"
    assert attrs["gen_ai.operation.name"] == "chat"
    port = attrs["server.port"]
    assert isinstance(port, int) and port > 0
    # 127.0.0.1 on a port no local server is known by: the provider table's local default.
    assert attrs["gen_ai.provider.name"] == LOCAL_PORTS.get(port, LOCAL_DEFAULT)
    assert attrs["gen_ai.request.model"] == MODEL
    assert attrs["gen_ai.response.model"] == RESPONSE_MODELS[MODEL]
    assert attrs["gen_ai.usage.input_tokens"] == len(PROMPT.split())  # the demo server counts words
    assert isinstance(attrs["gen_ai.usage.output_tokens"], int) and attrs["gen_ai.usage.output_tokens"] > 0
    assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
    assert attrs["server.address"] == "127.0.0.1"
    assert "gen_ai.input.messages" not in attrs and "gen_ai.output.messages" not in attrs

    metrics = metric_names(json_objects(result.stdout))
    assert "gen_ai.client.operation.duration" in metrics, sorted(metrics)
    assert metrics["gen_ai.client.operation.duration"] == {"otel_llm.instrumentation.openai"}
    assert "gen_ai.client.token.usage" in metrics


def test_capture_content_from_environment() -> None:
    result = run_instrumented(CHAT_EXAMPLE, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    attrs = the_chat_span(result)["attributes"]
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}
    ]
    output = json.loads(attrs["gen_ai.output.messages"])
    assert output[0]["role"] == "assistant" and output[0]["finish_reason"] == "stop"


def test_disabling_our_entry_point_removes_the_genai_span() -> None:
    result = run_instrumented(CHAT_EXAMPLE, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="otel_llm_openai")
    assert PROMPT in result.stdout  # the app itself still works
    objects = json_objects(result.stdout)
    spans = spans_of(objects)
    assert genai_spans(spans) == []
    assert not any(name.startswith("gen_ai.") for name in metric_names(objects))
    # The pipeline itself still exported (the HTTP client span), so the absence above means something.
    assert spans, "no spans at all: the console exporter did not run"


def test_async_stream_example_span() -> None:
    result = run_instrumented(STREAM_EXAMPLE)
    attrs = the_chat_span(result)["attributes"]
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
    assert attrs["gen_ai.usage.input_tokens"] > 0 and attrs["gen_ai.usage.output_tokens"] > 0  # include_usage
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0
    metrics = metric_names(json_objects(result.stdout))
    assert "gen_ai.client.operation.time_to_first_chunk" in metrics
