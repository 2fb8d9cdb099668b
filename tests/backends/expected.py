"""What each backend stores of the standard calls of ``calls.py``: one set of expectations, checked
both by the in-process backend tests (tests/backends/) and by the collector-template tests
(tests/collector_config/), since a template must deliver what the in-process preset delivers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from tests.backends.calls import MODEL, QUESTION, SYSTEM, Received, by_operation

COST = 0.00475  # the chat call's price: 1200 input (1000 cached) + 300 output tokens of gpt-4o
# Attribute prefixes only a backend view adds: a backend without a view must show none of them.
VIEW_PREFIXES = ("langfuse.", "llm.", "openinference.", "input.", "output.", "embedding.")


def check_jaeger(stored: Mapping[str, Mapping[str, Any]]) -> None:
    """Jaeger's spans (``JaegerServer.trace`` shape) by operation: the GenAI attributes as tags, no view."""
    assert set(stored) == {"chat", "embeddings"}
    chat = stored["chat"]
    assert chat["operationName"] == "chat gpt-4o"
    tags = chat["tags"]
    assert tags["span.kind"] == "client"
    assert tags["gen_ai.provider.name"] == "openai"
    assert tags["gen_ai.response.model"] == MODEL
    assert (tags["gen_ai.usage.input_tokens"], tags["gen_ai.usage.output_tokens"]) == (1200, 300)
    assert tags["otel_llm.cost.usd"] == pytest.approx(COST)
    assert tags["user.id"] == "user-42"
    assert json.loads(tags["otel_llm.tags"]) == ["beta", "weather"]  # Jaeger keeps arrays as JSON text
    messages = json.loads(tags["gen_ai.input.messages"])
    assert [m["parts"][0]["content"] for m in messages] == [SYSTEM, QUESTION]
    assert not [k for k in tags if k.startswith(VIEW_PREFIXES)]  # no view
    assert stored["embeddings"]["tags"]["gen_ai.usage.input_tokens"] == 5


def check_datadog(received: list[Received]) -> None:
    """What LLM Observability maps (docs: llm_observability/instrumentation/otel_instrumentation)."""
    spans = by_operation(received)
    chat = spans["chat"].attributes
    assert chat["gen_ai.provider.name"] == "openai"  # model_provider
    assert chat["gen_ai.response.model"] == MODEL  # model_name
    assert (chat["gen_ai.usage.input_tokens"], chat["gen_ai.usage.output_tokens"]) == (1200, 300)
    assert chat["gen_ai.conversation.id"] == "conv-7"  # session_id
    assert "gen_ai.input.messages" in chat and "gen_ai.output.messages" in chat  # input / output
    assert spans["chat"].resource["service.name"]  # ml_app
    assert spans["embeddings"].attributes["gen_ai.operation.name"] == "embeddings"  # an embedding span


def check_langfuse_generation(chat: Mapping[str, Any], tenant: str) -> None:
    """The chat span as Langfuse reads it: a generation with model, exclusive usage buckets, cost
    details, parameters and the trace's labels (the calls were made for ``tenant``)."""
    assert chat["langfuse.observation.type"] == "generation"
    assert chat["langfuse.observation.model.name"] == MODEL
    # exclusive buckets: 1200 input of which 1000 cached, 300 output of which 100 reasoning
    assert json.loads(chat["langfuse.observation.usage_details"]) == {
        "input": 200,
        "output": 200,
        "input_cached_tokens": 1000,
        "output_reasoning_tokens": 100,
        "total": 1500,
    }
    cost = json.loads(chat["langfuse.observation.cost_details"])
    assert set(cost) == {"input", "output", "input_cached_tokens", "total"}
    assert cost["total"] == pytest.approx(COST)
    assert cost["total"] == pytest.approx(chat["otel_llm.cost.usd"]) == pytest.approx(chat["gen_ai.usage.cost"])
    assert cost["input"] + cost["output"] + cost["input_cached_tokens"] == pytest.approx(cost["total"])
    assert json.loads(chat["langfuse.observation.model.parameters"]) == {"temperature": 0.2, "max_tokens": 500}
    # trace-level fields
    assert chat["user.id"] == "user-42"
    assert chat["session.id"] == "conv-7"
    assert chat["langfuse.trace.name"] == "weather-assistant"
    assert chat["langfuse.trace.tags"] == ["beta", "weather"]
    assert chat["langfuse.trace.metadata.feature"] == "forecast"
    assert chat["langfuse.trace.metadata.tier"] == 2
    assert chat["langfuse.observation.metadata.tenant_id"] == tenant


def check_openinference_llm(a: Mapping[str, Any]) -> None:
    """The chat span's OpenInference attributes as Phoenix stores them."""
    assert a["llm.model_name"] == MODEL  # the model that answered (Phoenix's own mapping takes the request's)
    assert (a["llm.provider"], a["llm.system"]) == ("openai", "openai")
    assert (a["llm.token_count.prompt"], a["llm.token_count.completion"], a["llm.token_count.total"]) == (
        1200,
        300,
        1500,
    )
    assert a["llm.token_count.prompt_details.cache_read"] == 1000  # ours: Phoenix derives no cache counts
    assert a["llm.token_count.completion_details.reasoning"] == 100
    assert a["llm.cost.total"] == pytest.approx(COST)
    assert json.loads(a["llm.invocation_parameters"]) == {"max_tokens": 500, "temperature": 0.2}
    assert (a["session.id"], a["user.id"]) == ("conv-7", "user-42")
    assert a["tag.tags"] == ["beta", "weather"]
    assert (a["metadata.feature"], a["metadata.tier"]) == ("forecast", 2)
