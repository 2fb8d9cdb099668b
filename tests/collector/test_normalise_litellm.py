"""LiteLLM's OpenTelemetry callback ("otel") spans → GenAI.

LiteLLM is not installed here; the attributes follow ``OpenTelemetry.set_attributes`` in
litellm/integrations/opentelemetry.py (its ``litellm_request`` span: ``metadata.*`` from the
standard logging payload with None written as "", ``hidden_params`` JSON, ``gen_ai.cost.*``,
values cast to str/bool/int/float) for a current release, and its 2024 form (``gen_ai.prompt.N``,
``gen_ai.usage.prompt_tokens``) for older proxies that still send it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_llm.collector.normalise import normalise
from otel_llm.genai import attributes as A
from tests.collector.test_normalise import check_normalised, foreign_span

SCOPE = "litellm"
METADATA = {
    "metadata.user_api_key_hash": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
    "metadata.user_api_key_alias": "",
    "metadata.user_api_key_team_id": "team-search",
    "metadata.user_api_key_user_id": "u-7",
    "metadata.user_api_key_org_id": "",
    "metadata.user_api_key_end_user_id": "",
    "metadata.requester_ip_address": "",
    "metadata.spend_logs_metadata": "",
    "metadata.requester_metadata": "{}",
}
HIDDEN = {"model_id": "b1c2", "api_base": "https://api.openai.com", "response_cost": 2.25e-05}
COST = {"gen_ai.cost.input_cost": 1.23e-05, "gen_ai.cost.output_cost": 1.02e-05, "gen_ai.cost.total_cost": 2.25e-05}
# Message logging off (litellm.turn_off_message_logging): the request and usage, no content.
NO_CONTENT = {
    **METADATA,
    "hidden_params": json.dumps(HIDDEN),
    **COST,
    "gen_ai.request.model": "gpt-4o-mini",
    "llm.request.type": "acompletion",
    "gen_ai.system": "openai",
    "gen_ai.request.max_tokens": 200,
    "gen_ai.request.temperature": 0.2,
    "llm.is_streaming": "False",
    "llm.user": "user-42",
    "gen_ai.response.id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.total_tokens": 99,
    "gen_ai.usage.output_tokens": 17,
    "gen_ai.usage.input_tokens": 82,
}
INPUT_MESSAGES = [
    {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
    {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
]
OUTPUT_MESSAGES = [
    {
        "role": "assistant",
        "parts": [],
        "tool_calls": [
            {
                "id": "call_62136354",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
        "finish_reason": "tool_calls",
    }
]
# Message logging on (the default): content in LiteLLM's own "parts" transform, and the tools.
WITH_CONTENT = {
    **NO_CONTENT,
    "llm.request.functions.0.name": "get_weather",
    "llm.request.functions.0.description": "Weather for a city",
    "llm.request.functions.0.parameters": '{"type": "object", "properties": {"city": {"type": "string"}}}',
    "gen_ai.input.messages": json.dumps(INPUT_MESSAGES),
    "gen_ai.operation.name": "acompletion",
    "gen_ai.output.messages": json.dumps(OUTPUT_MESSAGES),
    "gen_ai.response.finish_reasons": '["tool_calls"]',
    "gen_ai.completion.0.function_call.name": "get_weather",
    "gen_ai.completion.0.function_call.arguments": '{"city":"Paris"}',
}


def normalised(attrs: dict[str, Any], *, name: str = "litellm_request", scope: str = SCOPE) -> dict[str, Any]:
    before = foreign_span(name, attrs, scope=scope)
    return check_normalised(before, normalise(before), "litellm")


def test_a_call_without_content() -> None:
    assert normalised(NO_CONTENT) == {
        A.PROVIDER_NAME: "openai",
        A.OPERATION_NAME: "chat",  # the call type "acompletion" is LiteLLM's chat call
        A.REQUEST_STREAM: False,  # from the string "False"
        A.USER_ID: "user-42",
        "otel_llm.normalised_from": "litellm",
    }


def test_a_call_with_content_keeps_what_litellm_wrote_and_gains_the_tools() -> None:
    new = normalised(WITH_CONTENT)
    assert new == {
        A.PROVIDER_NAME: "openai",
        A.REQUEST_STREAM: False,
        A.USER_ID: "user-42",
        A.TOOL_DEFINITIONS: [
            {
                "type": "function",
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
        "otel_llm.normalised_from": "litellm",
    }


def test_the_span_is_told_from_openllmetry_without_its_scope_or_name() -> None:
    """Since LiteLLM 1.81 the attributes go on the caller's own span when there is one."""
    new = normalised(NO_CONTENT, name="POST /chat", scope="opentelemetry.instrumentation.fastapi")
    assert new[A.OPERATION_NAME] == "chat"


def test_the_end_user_of_a_virtual_key_is_the_user_when_the_request_names_none() -> None:
    attrs = {k: v for k, v in NO_CONTENT.items() if k != "llm.user"}
    attrs["metadata.user_api_key_end_user_id"] = "customer-7"
    assert normalised(attrs)[A.USER_ID] == "customer-7"


def test_litellm_cost_is_not_taken_as_ours() -> None:
    new = normalised({**NO_CONTENT, "gen_ai.cost.total_cost": 0.0})
    assert not any(k.startswith("otel_llm.cost") for k in new)


@pytest.mark.parametrize(
    ("call_type", "provider", "operation", "expected_provider"),
    [
        ("completion", "bedrock", "chat", "aws.bedrock"),
        ("aembedding", "vertex_ai", "embeddings", "gcp.vertex_ai"),
        ("atext_completion", "text-completion-openai", "text_completion", "openai"),
        ("aresponses", "azure", "chat", "azure.ai.openai"),
        ("completion", "hosted_vllm", "chat", "vllm"),
        ("completion", "gemini", "chat", "gcp.gemini"),
        ("image_generation", "openai", None, "openai"),
    ],
)
def test_call_types_and_providers(call_type: str, provider: str, operation: str | None, expected_provider: str) -> None:
    new = normalised({**NO_CONTENT, "llm.request.type": call_type, "gen_ai.system": provider})
    assert new.get(A.OPERATION_NAME) == operation
    assert new[A.PROVIDER_NAME] == expected_provider


def test_an_unknown_provider_is_no_provider() -> None:
    assert A.PROVIDER_NAME not in normalised({**NO_CONTENT, "gen_ai.system": "Unknown"})


def test_the_2024_form() -> None:
    attrs = {
        **METADATA,
        "gen_ai.request.model": "claude-3-5-sonnet-20240620",
        "llm.request.type": "completion",
        "gen_ai.system": "anthropic",
        "gen_ai.request.max_tokens": 1024,
        "llm.is_streaming": "True",
        "gen_ai.response.id": "chatcmpl-7c1b5f0e",
        "gen_ai.response.model": "claude-3-5-sonnet-20240620",
        "llm.usage.total_tokens": 40,
        "gen_ai.usage.completion_tokens": 12,
        "gen_ai.usage.prompt_tokens": 28,
        "gen_ai.prompt.0.role": "system",
        "gen_ai.prompt.0.content": "Be brief.",
        "gen_ai.prompt.1.role": "user",
        "gen_ai.prompt.1.content": "What is the capital of France?",
        "gen_ai.completion.0.finish_reason": "stop",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "Paris.",
    }
    new = normalised(attrs)
    assert (new[A.OPERATION_NAME], new[A.PROVIDER_NAME], new[A.REQUEST_STREAM]) == ("chat", "anthropic", True)
    assert (new[A.USAGE_INPUT_TOKENS], new[A.USAGE_OUTPUT_TOKENS]) == (28, 12)
    assert new[A.SYSTEM_INSTRUCTIONS] == [{"type": "text", "content": "Be brief."}]
    assert new[A.INPUT_MESSAGES] == [
        {"role": "user", "parts": [{"type": "text", "content": "What is the capital of France?"}]}
    ]
    assert new[A.OUTPUT_MESSAGES] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}
    ]
    assert new[A.RESPONSE_FINISH_REASONS] == ("stop",)
