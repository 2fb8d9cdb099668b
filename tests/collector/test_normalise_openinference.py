"""OpenInference spans → GenAI, on attributes recorded from the real instrumentations.

Recorded from openinference-instrumentation-openai 0.1.66 and -anthropic 3.1.0 (openai 3.57,
anthropic 2.13) against mock transports answering with API-shaped bodies.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_llm.collector.normalise import normalise
from otel_llm.genai import attributes as A
from tests.collector.test_normalise import check_normalised, foreign_span

OPENAI_SCOPE = "openinference.instrumentation.openai"
ANTHROPIC_SCOPE = "openinference.instrumentation.anthropic"

OPENAI_REQUEST = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Paris?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/paris.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Lyon"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21C"},
    ],
    "max_tokens": 200,
    "seed": 7,
    "stop": ["END"],
    "temperature": 0.2,
    "top_p": 0.9,
    "user": "user-42",
}
OPENAI_RESPONSE = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "choices": [
        {
            "finish_reason": "tool_calls",
            "index": 0,
            "logprobs": None,
            "message": {
                "content": None,
                "refusal": None,
                "role": "assistant",
                "annotations": [],
                "tool_calls": [
                    {
                        "id": "call_62136354",
                        "function": {"arguments": '{"city":"Paris"}', "name": "get_weather"},
                        "type": "function",
                    }
                ],
            },
        }
    ],
    "created": 1741570283,
    "model": "gpt-4o-mini-2024-07-18",
    "object": "chat.completion",
    "service_tier": "default",
    "system_fingerprint": "fp_06737a9306",
    "usage": {"completion_tokens": 17, "prompt_tokens": 82, "total_tokens": 99},
}
TOOL_SCHEMA = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
OPENAI_MESSAGES = {
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "You are terse.",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.contents.0.message_content.type": "text",
    "llm.input_messages.1.message.contents.0.message_content.text": "Weather in Paris?",
    "llm.input_messages.1.message.contents.1.message_content.type": "image",
    "llm.input_messages.1.message.contents.1.message_content.image.image.url": "https://example.com/paris.png",
    "llm.input_messages.2.message.role": "assistant",
    "llm.input_messages.2.message.tool_calls.0.tool_call.id": "call_1",
    "llm.input_messages.2.message.tool_calls.0.tool_call.function.name": "get_weather",
    "llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments": '{"city":"Lyon"}',
    "llm.input_messages.3.message.role": "tool",
    "llm.input_messages.3.message.tool_call_id": "call_1",
    "llm.input_messages.3.message.content": "Sunny, 21C",
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_62136354",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "get_weather",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"city":"Paris"}',
}
OPENAI_CHAT = {
    "llm.provider": "openai",
    "llm.system": "openai",
    "input.value": json.dumps(OPENAI_REQUEST),
    "input.mime_type": "application/json",
    "output.value": json.dumps(OPENAI_RESPONSE, separators=(",", ":")),
    "output.mime_type": "application/json",
    "llm.tools.0.tool.json_schema": json.dumps(TOOL_SCHEMA),
    "llm.invocation_parameters": '{"model": "gpt-4o-mini", "max_tokens": 200, "seed": 7, "stop": ["END"], '
    '"temperature": 0.2, "top_p": 0.9, "user": "user-42"}',
    **OPENAI_MESSAGES,
    "llm.model_name": "gpt-4o-mini-2024-07-18",
    "llm.token_count.total": 99,
    "llm.token_count.prompt": 82,
    "llm.token_count.completion": 17,
    "llm.token_count.prompt_details.cache_read": 64,
    "llm.token_count.prompt_details.audio": 0,
    "llm.token_count.completion_details.reasoning": 0,
    "llm.token_count.completion_details.audio": 0,
    "llm.finish_reason": "tool_calls",
    "openinference.span.kind": "LLM",
}
ANTHROPIC_RESPONSE = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "content": [
        {"signature": "EqQB", "thinking": "The user wants weather.", "type": "thinking"},
        {"citations": None, "text": "Let me check.", "type": "text"},
        {"id": "toolu_01A", "input": {"city": "Paris"}, "name": "get_weather", "type": "tool_use"},
    ],
    "model": "claude-sonnet-4-6",
    "role": "assistant",
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "type": "message",
    "usage": {
        "cache_creation_input_tokens": 20,
        "cache_read_input_tokens": 100,
        "input_tokens": 25,
        "output_tokens": 40,
    },
}
ANTHROPIC_CHAT = {
    "llm.provider": "anthropic",
    "llm.system": "anthropic",
    "input.mime_type": "application/json",
    "llm.request.model_name": "claude-sonnet-4-6",
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "Be brief.",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.content": "Weather in Paris?",
    "llm.input_messages.2.message.role": "assistant",
    "llm.input_messages.2.message.tool_calls.0.tool_call.id": "toolu_00",
    "llm.input_messages.2.message.tool_calls.0.tool_call.function.name": "get_weather",
    "llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments": '{"city": "Lyon"}',
    "llm.input_messages.2.message.contents.0.message_content.type": "tool_use",
    "llm.input_messages.2.message.contents.0.tool_call.id": "toolu_00",
    "llm.input_messages.2.message.contents.0.tool_call.function.name": "get_weather",
    "llm.input_messages.2.message.contents.0.tool_call.function.arguments": '{"city": "Lyon"}',
    "llm.input_messages.3.message.role": "tool",
    "llm.input_messages.3.message.tool_call_id": "toolu_00",
    "llm.input_messages.3.message.content": "Sunny",
    "llm.tools.0.tool.json_schema": '{"name": "get_weather", "description": "Weather for a city", "input_schema": '
    '{"type": "object", "properties": {"city": {"type": "string"}}}}',
    "llm.invocation_parameters": '{"max_tokens": 1024}',
    "llm.model_name": "claude-sonnet-4-6",
    "llm.response.model_name": "claude-sonnet-4-6",
    "llm.output_messages.0.message.role": "assistant",
    "llm.finish_reason": "tool_use",
    "llm.output_messages.0.message.contents.0.message_content.type": "reasoning",
    "llm.output_messages.0.message.contents.0.message_content.text": "The user wants weather.",
    "llm.output_messages.0.message.contents.0.message_content.signature": "EqQB",
    "llm.output_messages.0.message.contents.1.message_content.type": "text",
    "llm.output_messages.0.message.contents.1.message_content.text": "Let me check.",
    "llm.output_messages.0.message.tool_calls.0.tool_call.id": "toolu_01A",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "get_weather",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"city": "Paris"}',
    "llm.output_messages.0.message.contents.2.message_content.type": "tool_use",
    "llm.output_messages.0.message.contents.2.tool_call.id": "toolu_01A",
    "llm.output_messages.0.message.contents.2.tool_call.function.name": "get_weather",
    "llm.output_messages.0.message.contents.2.tool_call.function.arguments": '{"city": "Paris"}',
    "llm.token_count.prompt": 145,
    "llm.token_count.completion": 40,
    "llm.token_count.prompt_details.cache_read": 100,
    "llm.token_count.prompt_details.cache_write": 20,
    "llm.token_count.total": 185,
    "output.value": json.dumps(ANTHROPIC_RESPONSE),
    "output.mime_type": "application/json",
    "openinference.span.kind": "LLM",
}
OPENAI_INPUTS = [
    {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
    {
        "role": "user",
        "parts": [
            {"type": "text", "content": "Weather in Paris?"},
            {"type": "uri", "modality": "image", "uri": "https://example.com/paris.png"},
        ],
    },
    {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Lyon"}}],
    },
    {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "Sunny, 21C"}]},
]
OPENAI_OUTPUTS = [
    {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "call_62136354", "name": "get_weather", "arguments": {"city": "Paris"}}],
        "finish_reason": "tool_call",
    }
]


def normalised(name: str, attrs: dict[str, Any], scope: str = OPENAI_SCOPE) -> dict[str, Any]:
    before = foreign_span(name, attrs, scope=scope)
    return check_normalised(before, normalise(before), "openinference")


def test_openai_chat() -> None:
    new = normalised("ChatCompletion", OPENAI_CHAT)
    content = (A.INPUT_MESSAGES, A.OUTPUT_MESSAGES, A.TOOL_DEFINITIONS)
    assert {k: v for k, v in new.items() if k not in content} == {
        A.OPERATION_NAME: "chat",
        A.PROVIDER_NAME: "openai",
        A.REQUEST_MODEL: "gpt-4o-mini",  # the request's, from the invocation parameters
        A.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",  # llm.model_name is the response's
        A.RESPONSE_ID: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",  # from output.value
        A.REQUEST_MAX_TOKENS: 200,
        A.REQUEST_TEMPERATURE: 0.2,
        A.REQUEST_TOP_P: 0.9,
        A.REQUEST_SEED: 7,
        A.REQUEST_STOP_SEQUENCES: ("END",),
        A.USER_ID: "user-42",
        A.USAGE_INPUT_TOKENS: 82,
        A.USAGE_OUTPUT_TOKENS: 17,
        A.USAGE_CACHE_READ_INPUT_TOKENS: 64,
        A.USAGE_REASONING_OUTPUT_TOKENS: 0,
        A.RESPONSE_FINISH_REASONS: ("tool_calls",),
        "otel_llm.normalised_from": "openinference",
    }
    assert new[A.INPUT_MESSAGES] == OPENAI_INPUTS
    assert new[A.OUTPUT_MESSAGES] == OPENAI_OUTPUTS
    function = TOOL_SCHEMA["function"]
    assert new[A.TOOL_DEFINITIONS] == [{"type": "function", **function}]


def test_anthropic_chat_with_reasoning_and_cache() -> None:
    new = normalised("messages.create", ANTHROPIC_CHAT, scope=ANTHROPIC_SCOPE)
    assert (new[A.PROVIDER_NAME], new[A.REQUEST_MODEL], new[A.RESPONSE_MODEL]) == (
        "anthropic",
        "claude-sonnet-4-6",
        "claude-sonnet-4-6",
    )
    assert (new[A.USAGE_INPUT_TOKENS], new[A.USAGE_CACHE_READ_INPUT_TOKENS]) == (145, 100)
    assert new[A.USAGE_CACHE_CREATION_INPUT_TOKENS] == 20
    assert new[A.RESPONSE_ID] == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert new[A.SYSTEM_INSTRUCTIONS] == [{"type": "text", "content": "Be brief."}]
    assert [m["role"] for m in new[A.INPUT_MESSAGES]] == ["user", "assistant", "tool"]
    # A tool_use block is listed twice by OpenInference (contents and tool_calls): one tool_call part.
    assert new[A.INPUT_MESSAGES][1]["parts"] == [
        {"type": "tool_call", "id": "toolu_00", "name": "get_weather", "arguments": {"city": "Lyon"}}
    ]
    assert new[A.OUTPUT_MESSAGES] == [
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
    assert new[A.TOOL_DEFINITIONS][0]["type"] == "function"


def test_embeddings() -> None:
    attrs = {
        "llm.provider": "openai",
        "llm.system": "openai",
        "input.value": '{"model": "text-embedding-3-small", "input": "hello world", "encoding_format": "base64"}',
        "input.mime_type": "application/json",
        "output.mime_type": "application/json",
        "embedding.invocation_parameters": '{"model": "text-embedding-3-small", "encoding_format": "base64"}',
        "embedding.embeddings.0.embedding.text": "hello world",
        "embedding.embeddings.0.embedding.vector": (0.1, 0.2),
        "llm.token_count.total": 5,
        "llm.token_count.prompt": 5,
        "embedding.model_name": "text-embedding-3-small",
        "openinference.span.kind": "EMBEDDING",
    }
    new = normalised("CreateEmbeddings", attrs)
    assert new == {
        A.OPERATION_NAME: "embeddings",
        A.PROVIDER_NAME: "openai",
        A.REQUEST_MODEL: "text-embedding-3-small",
        A.USAGE_INPUT_TOKENS: 5,
        A.REQUEST_ENCODING_FORMATS: ("base64",),
        "otel_llm.normalised_from": "openinference",
    }


def test_hidden_input_messages_are_read_from_the_request_json() -> None:
    """With OPENINFERENCE_HIDE_INPUT_MESSAGES / _OUTPUT_MESSAGES the provider JSON is what is left."""
    attrs = {k: v for k, v in OPENAI_CHAT.items() if k not in OPENAI_MESSAGES and k != "llm.finish_reason"}
    new = normalised("ChatCompletion", attrs)
    assert new[A.INPUT_MESSAGES] == OPENAI_INPUTS
    assert new[A.OUTPUT_MESSAGES] == OPENAI_OUTPUTS
    assert new[A.RESPONSE_FINISH_REASONS] == ("tool_calls",)


def test_text_completion_prompts_and_choices() -> None:
    attrs = {
        "openinference.span.kind": "LLM",
        "llm.provider": "openai",
        "llm.model_name": "gpt-3.5-turbo-instruct",
        "llm.prompts.0.prompt.text": "Say this is a test",
        "llm.choices.0.completion.text": "This is a test",
        "llm.finish_reason": "length",
    }
    new = normalised("Completion", attrs)
    assert new[A.OPERATION_NAME] == "text_completion"
    assert new[A.INPUT_MESSAGES] == [{"role": "user", "parts": [{"type": "text", "content": "Say this is a test"}]}]
    assert new[A.OUTPUT_MESSAGES] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "This is a test"}], "finish_reason": "length"}
    ]


def test_session_user_tags_and_metadata() -> None:
    attrs = {
        **{k: OPENAI_CHAT[k] for k in ("openinference.span.kind", "llm.provider", "llm.model_name")},
        "session.id": "sess-9",
        "user.id": "u-1",
        "tag.tags": ("beta", "eu"),
        "metadata": '{"team": "search", "attempt": 2, "flags": ["a", "b"], "none": null}',
    }
    new = normalised("ChatCompletion", attrs)
    assert new[A.CONVERSATION_ID] == "sess-9"
    assert new[A.TAGS] == ("beta", "eu")
    assert A.USER_ID not in new  # the same name in both conventions: already there
    assert {k: v for k, v in new.items() if k.startswith(A.METADATA_PREFIX)} == {
        "otel_llm.metadata.team": "search",
        "otel_llm.metadata.attempt": 2,
        "otel_llm.metadata.flags": '["a","b"]',
    }


def test_tool_and_agent_spans_keep_their_content_out_of_genai_names() -> None:
    tool = {
        "openinference.span.kind": "TOOL",
        "tool.name": "get_weather",
        "tool.description": "Weather for a city",
        "tool.parameters": '{"type": "object", "properties": {"city": {"type": "string"}}}',
        "tool.id": "call_1",
        "input.value": '{"city": "Paris"}',
        "input.mime_type": "application/json",
        "output.value": "Sunny, 21C",
    }
    new = normalised("get_weather", tool, scope="openinference.instrumentation.smolagents")
    assert new == {
        A.OPERATION_NAME: "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.description": "Weather for a city",
        "gen_ai.tool.call.id": "call_1",
        "otel_llm.normalised_from": "openinference",
    }
    agent = {"openinference.span.kind": "AGENT", "agent.name": "planner", "input.value": "Plan a trip"}
    assert normalised("planner", agent, scope="openinference.instrumentation.smolagents") == {
        A.OPERATION_NAME: "invoke_agent",
        "gen_ai.agent.name": "planner",
        "otel_llm.normalised_from": "openinference",
    }


@pytest.mark.parametrize("kind", ["CHAIN", "RERANKER", "GUARDRAIL", "UNKNOWN", 7])
def test_kinds_without_a_genai_operation_are_left_alone(kind: Any) -> None:
    span = foreign_span("RunnableSequence", {"openinference.span.kind": kind, "input.value": "x", "session.id": "s"})
    assert normalise(span) is span


@pytest.mark.parametrize(
    ("provider", "system", "expected"),
    [
        ("azure", "openai", "azure.ai.openai"),
        ("aws", "anthropic", "aws.bedrock"),
        ("google", "vertexai", "gcp.gen_ai"),
        ("mistralai", None, "mistral_ai"),
        ("xai", None, "x_ai"),
        (None, "vertexai", "gcp.vertex_ai"),
        ("together", None, "together_ai"),
    ],
)
def test_provider_and_system_map_to_provider_names(provider: str | None, system: str | None, expected: str) -> None:
    attrs = {"openinference.span.kind": "LLM", "llm.provider": provider, "llm.system": system}
    new = normalised("ChatCompletion", {k: v for k, v in attrs.items() if v is not None})
    assert new[A.PROVIDER_NAME] == expected
