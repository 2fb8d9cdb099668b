"""OpenLLMetry (Traceloop) spans → GenAI, on attributes recorded from the real instrumentations.

The recorded spans come from opentelemetry-instrumentation-openai / -anthropic 0.47.5 (legacy
names, openai 1.99 and anthropic 0.64) and 0.62.4 (current names; openai 3.57, anthropic 2.13),
run with content tracing on against mock transports answering with API-shaped bodies; the oldest
(``llm.vendor``, ``llm.prompts.N``) follows opentelemetry-semantic-conventions-ai 0.0.x.
"""

from __future__ import annotations

from typing import Any

import pytest

from otel_llm.collector.normalise import normalise
from otel_llm.genai import attributes as A
from tests.collector.test_normalise import check_normalised, foreign_span
from tests.collector.test_normalise_openinference import OPENAI_INPUTS, OPENAI_OUTPUTS

OPENAI_SCOPE = "opentelemetry.instrumentation.openai.v1"
ANTHROPIC_SCOPE = "opentelemetry.instrumentation.anthropic"

# opentelemetry-instrumentation-openai 0.47.5: chat with an image, a tool call and its result, and tools.
LEGACY_OPENAI_CHAT = {
    "llm.request.type": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.request.max_tokens": 200,
    "gen_ai.request.temperature": 0.2,
    "gen_ai.request.top_p": 0.9,
    "llm.user": "user-42",
    "llm.headers": "None",
    "llm.is_streaming": False,
    "gen_ai.openai.api_base": "https://api.openai.com/v1/",
    "gen_ai.prompt.0.role": "system",
    "gen_ai.prompt.0.content": "You are terse.",
    "gen_ai.prompt.1.role": "user",
    "gen_ai.prompt.1.content": '[{"type": "text", "text": "Weather in Paris?"}, {"type": "image_url", '
    '"image_url": {"url": "https://example.com/paris.png"}}]',
    "gen_ai.prompt.2.role": "assistant",
    "gen_ai.prompt.2.tool_calls.0.id": "call_1",
    "gen_ai.prompt.2.tool_calls.0.name": "get_weather",
    "gen_ai.prompt.2.tool_calls.0.arguments": '{"city":"Lyon"}',
    "gen_ai.prompt.3.role": "tool",
    "gen_ai.prompt.3.content": "Sunny, 21C",
    "gen_ai.prompt.3.tool_call_id": "call_1",
    "llm.request.functions.0.name": "get_weather",
    "llm.request.functions.0.description": "Weather for a city",
    "llm.request.functions.0.parameters": '{"type": "object", "properties": {"city": {"type": "string"}}, '
    '"required": ["city"]}',
    "llm.request.reasoning_effort": [],
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "gen_ai.openai.system_fingerprint": "fp_06737a9306",
    "llm.usage.total_tokens": 99,
    "gen_ai.usage.completion_tokens": 17,
    "gen_ai.usage.prompt_tokens": 82,
    "gen_ai.usage.cache_read_input_tokens": 64,
    "llm.usage.reasoning_tokens": 0,
    "gen_ai.completion.0.finish_reason": "tool_calls",
    "gen_ai.completion.0.role": "assistant",
    "gen_ai.completion.0.tool_calls.0.id": "call_62136354",
    "gen_ai.completion.0.tool_calls.0.name": "get_weather",
    "gen_ai.completion.0.tool_calls.0.arguments": '{"city":"Paris"}',
}
# opentelemetry-instrumentation-anthropic 0.47.5: system prompt, tool result, thinking, cache.
LEGACY_ANTHROPIC_CHAT = {
    "gen_ai.system": "Anthropic",
    "llm.request.type": "completion",
    "gen_ai.request.model": "claude-sonnet-4-6",
    "gen_ai.prompt.0.content": "Be brief.",
    "gen_ai.prompt.0.role": "system",
    "gen_ai.prompt.1.content": "Weather in Paris?",
    "gen_ai.prompt.1.role": "user",
    "gen_ai.prompt.2.role": "assistant",
    "gen_ai.prompt.2.tool_calls.0.id": "toolu_00",
    "gen_ai.prompt.2.tool_calls.0.name": "get_weather",
    "gen_ai.prompt.2.tool_calls.0.arguments": '{"city": "Lyon"}',
    "gen_ai.prompt.3.content": '[{"type": "tool_result", "tool_use_id": "toolu_00", "content": "Sunny"}]',
    "gen_ai.prompt.3.role": "user",
    "llm.request.functions.0.name": "get_weather",
    "llm.request.functions.0.description": "Weather for a city",
    "llm.request.functions.0.input_schema": '{"type": "object", "properties": {"city": {"type": "string"}}}',
    "gen_ai.response.model": "claude-sonnet-4-6",
    "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "gen_ai.completion.0.finish_reason": "tool_use",
    "gen_ai.completion.0.role": "thinking",
    "gen_ai.completion.0.content": "The user wants weather.",
    "gen_ai.completion.1.role": "assistant",
    "gen_ai.completion.1.tool_calls.0.id": "toolu_01A",
    "gen_ai.completion.1.tool_calls.0.name": "get_weather",
    "gen_ai.completion.1.tool_calls.0.arguments": '{"city": "Paris"}',
    "gen_ai.completion.1.content": "Let me check.",
    "gen_ai.usage.prompt_tokens": 145,
    "gen_ai.usage.completion_tokens": 40,
    "llm.usage.total_tokens": 185,
    "gen_ai.usage.cache_read_input_tokens": 100,
    "gen_ai.usage.cache_creation_input_tokens": 20,
}
LEGACY_OPENAI_EMBEDDINGS = {
    "llm.request.type": "embedding",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "text-embedding-3-small",
    "llm.headers": "None",
    "llm.is_streaming": False,
    "gen_ai.prompt.0.content": "hello world",
    "gen_ai.openai.api_base": "https://api.openai.com/v1/",
    "gen_ai.response.model": "text-embedding-3-small",
    "llm.usage.total_tokens": 5,
    "gen_ai.usage.prompt_tokens": 5,
    "gen_ai.usage.cache_read_input_tokens": 0,
}
# opentelemetry-instrumentation-openai 0.62.4: the current conventions, plus a few names of its own.
CURRENT_OPENAI_CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.request.max_tokens": 200,
    "gen_ai.user": "user-42",
    "gen_ai.is_streaming": False,
    "gen_ai.openai.api_base": "https://api.openai.com/v1/",
    "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]',
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "gen_ai.response.finish_reasons": ("tool_call",),
    "gen_ai.openai.response.system_fingerprint": "fp_06737a9306",
    "openai.response.service_tier": "default",
    "gen_ai.usage.total_tokens": 99,
    "gen_ai.usage.output_tokens": 17,
    "gen_ai.usage.input_tokens": 82,
    "gen_ai.usage.cache_read.input_tokens": 64,
    "gen_ai.usage.reasoning_tokens": 0,
    "gen_ai.output.messages": '[{"role": "assistant", "parts": [{"type": "tool_call", "name": "get_weather", '
    '"id": "call_62136354", "arguments": {"city": "Paris"}}], "finish_reason": "tool_call"}]',
}


def normalised(name: str, attrs: dict[str, Any], scope: str = OPENAI_SCOPE) -> dict[str, Any]:
    before = foreign_span(name, attrs, scope=scope)
    return check_normalised(before, normalise(before), "openllmetry")


def test_legacy_openai_chat() -> None:
    new = normalised("openai.chat", LEGACY_OPENAI_CHAT)
    assert {k: new[k] for k in new if not k.startswith(("gen_ai.input", "gen_ai.output", "gen_ai.tool"))} == {
        A.PROVIDER_NAME: "openai",
        A.OPERATION_NAME: "chat",
        A.REQUEST_STREAM: False,
        A.USER_ID: "user-42",
        A.USAGE_INPUT_TOKENS: 82,
        A.USAGE_OUTPUT_TOKENS: 17,
        A.USAGE_CACHE_READ_INPUT_TOKENS: 64,
        A.USAGE_REASONING_OUTPUT_TOKENS: 0,
        A.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_06737a9306",
        A.SERVER_ADDRESS: "api.openai.com",
        A.SERVER_PORT: 443,
        A.RESPONSE_FINISH_REASONS: ("tool_calls",),  # the provider's own value, as otel-llm records it
        "otel_llm.normalised_from": "openllmetry",
    }
    # the same recorded conversation as OpenInference's: both libraries must come out as the same messages
    assert new[A.INPUT_MESSAGES] == OPENAI_INPUTS
    assert new[A.OUTPUT_MESSAGES] == OPENAI_OUTPUTS
    assert new[A.TOOL_DEFINITIONS] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }
    ]


def test_legacy_anthropic_chat_is_chat_and_its_system_prompt_is_system_instructions() -> None:
    new = normalised("anthropic.chat", LEGACY_ANTHROPIC_CHAT, scope=ANTHROPIC_SCOPE)
    assert new[A.OPERATION_NAME] == "chat"  # OpenLLMetry's Anthropic instrumentation says "completion"
    assert new[A.PROVIDER_NAME] == "anthropic"
    # OpenLLMetry's Anthropic input count already includes cached tokens, as the conventions' does.
    assert (new[A.USAGE_INPUT_TOKENS], new[A.USAGE_OUTPUT_TOKENS]) == (145, 40)
    assert (new[A.USAGE_CACHE_READ_INPUT_TOKENS], new[A.USAGE_CACHE_CREATION_INPUT_TOKENS]) == (100, 20)
    assert new[A.RESPONSE_FINISH_REASONS] == ("tool_use",)
    assert new[A.SYSTEM_INSTRUCTIONS] == [{"type": "text", "content": "Be brief."}]
    assert new[A.INPUT_MESSAGES][-1] == {
        "role": "user",
        "parts": [{"type": "tool_call_response", "id": "toolu_00", "response": "Sunny"}],
    }
    assert new[A.OUTPUT_MESSAGES] == [  # the "thinking" item joins the assistant message as reasoning
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "The user wants weather."},
                {"type": "text", "content": "Let me check."},
                {"type": "tool_call", "id": "toolu_01A", "name": "get_weather", "arguments": {"city": "Paris"}},
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert new[A.TOOL_DEFINITIONS][0]["parameters"] == {"type": "object", "properties": {"city": {"type": "string"}}}


def test_legacy_embeddings_get_no_messages() -> None:
    new = normalised("openai.embeddings", LEGACY_OPENAI_EMBEDDINGS)
    assert new[A.OPERATION_NAME] == "embeddings"
    assert new[A.USAGE_INPUT_TOKENS] == 5
    assert A.INPUT_MESSAGES not in new  # the conventions define none for embeddings


def test_legacy_text_completion_and_a_streamed_call() -> None:
    attrs = {
        "llm.request.type": "completion",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-3.5-turbo-instruct",
        "llm.is_streaming": True,
        "gen_ai.prompt.0.user": "Say this is a test",
        "gen_ai.completion.0.finish_reason": "length",
        "gen_ai.completion.0.content": "This is a test",
        "gen_ai.usage.prompt_tokens": 5,
        "gen_ai.usage.completion_tokens": 7,
    }
    new = normalised("openai.completion", attrs)
    assert new[A.OPERATION_NAME] == "text_completion"
    assert new[A.REQUEST_STREAM] is True
    assert new[A.INPUT_MESSAGES] == [{"role": "user", "parts": [{"type": "text", "content": "Say this is a test"}]}]
    assert new[A.OUTPUT_MESSAGES] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "This is a test"}], "finish_reason": "length"}
    ]


def test_the_first_generation_names() -> None:
    attrs = {
        "llm.vendor": "OpenAI",
        "llm.request.type": "chat",
        "llm.request.model": "gpt-3.5-turbo",
        "llm.response.model": "gpt-3.5-turbo-0613",
        "llm.temperature": 0.7,
        "llm.request.max_tokens": 100,
        "llm.prompts.0.role": "user",
        "llm.prompts.0.content": "Tell me a joke about OpenTelemetry",
        "llm.completions.0.role": "assistant",
        "llm.completions.0.content": "Why did the span cross the road?",
        "llm.completions.0.finish_reason": "stop",
        "llm.usage.prompt_tokens": 15,
        "llm.usage.completion_tokens": 9,
        "llm.usage.total_tokens": 24,
    }
    new = normalised("openai.chat", attrs)
    assert (new[A.PROVIDER_NAME], new[A.REQUEST_MODEL], new[A.RESPONSE_MODEL]) == (
        "openai",
        "gpt-3.5-turbo",
        "gpt-3.5-turbo-0613",
    )
    assert (new[A.REQUEST_TEMPERATURE], new[A.REQUEST_MAX_TOKENS]) == (0.7, 100)
    assert (new[A.USAGE_INPUT_TOKENS], new[A.USAGE_OUTPUT_TOKENS]) == (15, 9)
    assert new[A.OUTPUT_MESSAGES][0]["parts"] == [{"type": "text", "content": "Why did the span cross the road?"}]


def test_current_names_only_fill_what_the_conventions_name_otherwise() -> None:
    new = normalised("openai.chat", CURRENT_OPENAI_CHAT)
    assert new == {
        A.REQUEST_STREAM: False,
        A.USER_ID: "user-42",
        A.USAGE_REASONING_OUTPUT_TOKENS: 0,
        A.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_06737a9306",
        A.SERVER_ADDRESS: "api.openai.com",
        A.SERVER_PORT: 443,
        "otel_llm.normalised_from": "openllmetry",
    }


@pytest.mark.parametrize(
    ("system", "provider"),
    [
        ("openai", "openai"),
        ("Azure", "azure.ai.openai"),
        ("AWS", "aws.bedrock"),
        ("Google", "gcp.gen_ai"),
        ("OpenRouter", "openrouter"),
        ("Anthropic", "anthropic"),
        ("MistralAI", "mistral_ai"),
        ("Vertex AI", "gcp.vertex_ai"),
        ("Ollama", "ollama"),
        ("SomeNewLab", "somenewlab"),
    ],
)
def test_gen_ai_system_values_map_to_provider_names(system: str, provider: str) -> None:
    new = normalised("openai.chat", {"llm.request.type": "chat", "gen_ai.system": system})
    assert new[A.PROVIDER_NAME] == provider


def test_a_structured_output_request_is_json_output_and_a_custom_base_url_is_the_server() -> None:
    attrs = {
        **LEGACY_OPENAI_EMBEDDINGS,
        "llm.request.type": "chat",
        "gen_ai.openai.api_base": "http://vllm.internal:8000/v1/",
        "gen_ai.request.structured_output_schema": '{"type": "object"}',
    }
    new = normalised("openai.chat", attrs)
    assert new[A.OUTPUT_TYPE] == "json"
    assert (new[A.SERVER_ADDRESS], new[A.SERVER_PORT]) == ("vllm.internal", 8000)
