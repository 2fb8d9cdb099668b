"""Honeycomb, LangSmith and Arize AX, proven by contract: no server of theirs runs here, so strict
receivers check the exact request each documents (URL, headers, OTLP encoding) and the attributes
each reads."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from otel_llm.backends import backend_exporter
from tests.backends.calls import MODEL, QUESTION, SYSTEM, TOOL_ARGUMENTS, by_operation, send_calls, spans_of
from tests.backends.otlp_contract import otlp_receiver
from tests.servers import otlp_grpc_sink, wait_for

QUEUE = {"flush_interval": 0.05}


def header_is(name: str, value: str) -> object:
    def check(headers: Mapping[str, str]) -> tuple[int, str] | None:
        return None if headers.get(name) == value else (401, f"{name} missing or wrong")

    return check


# -- Honeycomb ---------------------------------------------------------------------------------


def test_honeycomb_gets_the_team_key_and_classic_dataset_headers_and_plain_genai_spans() -> None:
    with otlp_receiver("/v1/traces", header_is("x-honeycomb-team", "hcaik_test")) as honeycomb:
        send_calls(
            {
                "destinations": {
                    "honeycomb": {
                        "type": "honeycomb",
                        "endpoint": honeycomb.base_url,
                        "api_key": "hcaik_test",
                        "dataset": "llm-calls",
                        "queue": QUEUE,
                    }
                }
            }
        )
        assert honeycomb.rejected == []
    assert {r.headers["x-honeycomb-dataset"] for r in honeycomb.accepted} == {"llm-calls"}
    chat = by_operation(honeycomb.spans())["chat"].attributes
    assert chat["gen_ai.request.model"] == "gpt-4o" and chat["gen_ai.usage.input_tokens"] == 1200
    assert not [k for k in chat if k.startswith(("langfuse.", "llm.", "openinference."))]  # no view


def test_honeycomb_without_dataset_sends_no_dataset_header() -> None:
    exporter = backend_exporter("honeycomb", environ={"HONEYCOMB_API_KEY": "k"})
    assert exporter.target.headers == {"x-honeycomb-team": "k"}
    assert exporter.target.endpoint == "https://api.honeycomb.io/v1/traces"
    exporter.shutdown()


# -- LangSmith ---------------------------------------------------------------------------------


def test_langsmith_gets_key_and_project_headers_and_the_provider_as_gen_ai_system() -> None:
    with otlp_receiver("/otel/v1/traces", header_is("x-api-key", "lsv2_pt_test")) as langsmith:
        send_calls(
            {
                "destinations": {
                    "langsmith": {
                        "type": "langsmith",
                        "endpoint": langsmith.base_url,
                        "api_key": "lsv2_pt_test",
                        "project": "support-bot",
                        "queue": QUEUE,
                    }
                }
            }
        )
        assert langsmith.rejected == []
    assert {r.headers["langsmith-project"] for r in langsmith.accepted} == {"support-bot"}
    spans = by_operation(langsmith.spans())
    chat = spans["chat"].attributes
    assert chat["gen_ai.system"] == "openai"  # LangSmith's ls_provider comes from here only
    assert chat["langsmith.span.kind"] == "llm"
    assert chat["langsmith.trace.name"] == "weather-assistant"
    assert chat["langsmith.metadata.session_id"] == "conv-7"  # a LangSmith thread
    assert chat["langsmith.metadata.user_id"] == "user-42"
    assert chat["langsmith.metadata.feature"] == "forecast"
    assert chat["langsmith.span.tags"] == "beta,weather"
    messages = json.loads(chat["gen_ai.input.messages"])  # read natively by LangSmith
    assert messages[-1]["parts"][0]["content"] == QUESTION
    assert spans["embeddings"].attributes["langsmith.span.kind"] == "embedding"


# -- Arize AX ----------------------------------------------------------------------------------


def test_arize_gets_space_and_key_over_grpc_and_openinference_attributes_in_its_project() -> None:
    with otlp_grpc_sink() as arize:
        send_calls(
            {
                "destinations": {
                    "arize": {
                        "type": "arize",
                        "endpoint": arize.endpoint,
                        "space_id": "U3BhY2U6MTIz",
                        "api_key": "ak-test",
                        "project": "weather-bot",
                        "queue": QUEUE,
                    }
                }
            }
        )
        assert wait_for(lambda: len(arize.spans()) >= 2)
    for metadata in arize.metadata:
        assert metadata["arize-space-id"] == metadata["space_id"] == "U3BhY2U6MTIz"
        assert metadata["authorization"] == metadata["api_key"] == "ak-test"
        assert metadata["arize-interface"] == "otel"
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    received = [s for raw in arize.raw for s in spans_of(trace_service_pb2.ExportTraceServiceRequest.FromString(raw))]
    spans = by_operation(received)
    chat = spans["chat"]
    assert chat.resource["openinference.project.name"] == "weather-bot"
    a = chat.attributes
    assert a["openinference.span.kind"] == "LLM"
    assert a["llm.model_name"] == MODEL
    assert a["llm.provider"] == "openai" and a["llm.system"] == "openai"
    assert (a["llm.token_count.prompt"], a["llm.token_count.completion"], a["llm.token_count.total"]) == (1200, 300, 1500)
    assert a["llm.token_count.prompt_details.cache_read"] == 1000
    assert a["llm.token_count.completion_details.reasoning"] == 100
    assert a["llm.cost.total"] == pytest.approx(a["otel_llm.cost.usd"])
    assert a["llm.cost.prompt"] + a["llm.cost.completion"] == pytest.approx(a["llm.cost.total"])
    assert a["llm.input_messages.0.message.role"] == "system"
    assert a["llm.input_messages.0.message.content"] == SYSTEM
    assert a["llm.input_messages.1.message.role"] == "user"
    assert a["llm.input_messages.1.message.content"] == QUESTION
    assert a["llm.output_messages.0.message.role"] == "assistant"
    call = "llm.output_messages.0.message.tool_calls.0.tool_call"
    assert a[f"{call}.id"] == "call_w1" and a[f"{call}.function.name"] == "get_weather"
    assert json.loads(a[f"{call}.function.arguments"]) == TOOL_ARGUMENTS
    assert json.loads(a["llm.tools.0.tool.json_schema"])["name"] == "get_weather"
    assert json.loads(a["llm.invocation_parameters"]) == {"temperature": 0.2, "max_tokens": 500}
    assert a["input.mime_type"] == "application/json"
    assert json.loads(a["input.value"])["messages"][1]["parts"][0]["content"] == QUESTION
    assert a["output.mime_type"] == "application/json"  # text and a tool call: not one plain text
    assert (a["session.id"], a["user.id"], a["tag.tags"]) == ("conv-7", "user-42", ["beta", "weather"])
    assert json.loads(a["metadata"]) == {"feature": "forecast", "tier": 2}

    embedding = spans["embeddings"].attributes
    assert embedding["openinference.span.kind"] == "EMBEDDING"
    assert embedding["embedding.model_name"] == "text-embedding-3-small"
    assert "llm.provider" not in embedding and "llm.system" not in embedding  # as the spec says
