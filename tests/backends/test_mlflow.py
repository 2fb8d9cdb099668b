"""MLflow tracing, proven against a real MLflow tracking server (``mlflow`` from PyPI, sqlite store):
the traces read back through its REST API carry the token usage, model, messages, user and session
MLflow derives from our GenAI attributes, in the experiment the destination names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.backends.calls import MODEL, QUESTION, send_calls
from tests.backends.mlflow_server import MlflowServer


@pytest.fixture(scope="module")
def traces(mlflow: MlflowServer) -> dict[str, dict[str, Any]]:
    """The run's traces by their span's MLflow span type."""
    experiment = mlflow.create_experiment("weather-bot")
    send_calls(
        {
            "destinations": {
                "mlflow": {
                    "type": "mlflow",
                    "tracking_uri": mlflow.tracking_uri,
                    "experiment_id": experiment,
                    "queue": {"flush_interval": 0.05},
                }
            }
        }
    )
    out = {}
    for trace in mlflow.traces(experiment, min_traces=2):
        (span,) = trace["spans"]
        out[span["attributes"]["mlflow.spanType"]] = trace
    return out


def test_a_chat_call_is_a_chat_model_trace_with_usage_user_and_session(traces: dict[str, dict[str, Any]]) -> None:
    assert set(traces) == {"CHAT_MODEL", "EMBEDDING"}
    info = traces["CHAT_MODEL"]["info"]
    assert info["state"] == "OK"
    metadata = info["trace_metadata"]
    assert json.loads(metadata["mlflow.trace.tokenUsage"]) == {
        "input_tokens": 1200,
        "output_tokens": 300,
        "total_tokens": 1500,
        "cache_read_input_tokens": 1000,
    }
    assert (metadata["mlflow.trace.user"], metadata["mlflow.trace.session"]) == ("user-42", "conv-7")
    assert QUESTION in info["request_preview"]


def test_the_span_has_model_provider_messages_and_tools(traces: dict[str, dict[str, Any]]) -> None:
    (span,) = traces["CHAT_MODEL"]["spans"]
    a = span["attributes"]
    assert span["name"] == "chat gpt-4o"
    assert (a["mlflow.llm.model"], a["mlflow.llm.provider"]) == (MODEL, "openai")
    assert a["mlflow.spanInputs"][1]["parts"][0]["content"] == QUESTION
    assert a["mlflow.spanOutputs"][0]["parts"][1]["name"] == "get_weather"
    assert a["mlflow.chat.tools"][0]["name"] == "get_weather"
    assert a["mlflow.chat.tokenUsage"]["input_tokens"] == 1200


def test_the_embedding_call_is_an_embedding_span(traces: dict[str, dict[str, Any]]) -> None:
    (span,) = traces["EMBEDDING"]["spans"]
    assert span["attributes"]["mlflow.llm.model"] == "text-embedding-3-small"
    assert span["attributes"]["mlflow.chat.tokenUsage"]["input_tokens"] == 5


def test_without_the_experiment_header_mlflow_refuses_the_export(mlflow: MlflowServer) -> None:
    """Why the header is always sent: MLflow answers 422 without it and stores nothing."""
    import urllib.error
    import urllib.request

    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    request = urllib.request.Request(
        f"{mlflow.tracking_uri}/v1/traces",
        data=trace_service_pb2.ExportTraceServiceRequest().SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 422
