"""Which provider a call went to: Azure clients, OpenAI-compatible base URLs, user overrides."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from tests.support import Telemetry, assert_call_metrics, instrument, json_response, make_client

MESSAGES = [{"role": "user", "content": "Say hello in French."}]


def chat_body(model: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-9fR2xL7qW3eT5yU1iO8pA4sD6",
        "object": "chat.completion",
        "created": 1751990000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Bonjour !"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }
    body.update(extra)
    return body


class Server:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        return json_response(self.body)


def response_attrs(model: str) -> dict[str, Any]:
    return {
        "gen_ai.response.id": "chatcmpl-9fR2xL7qW3eT5yU1iO8pA4sD6",
        "gen_ai.response.model": model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 5,
    }


def chat_request(model: str, provider: str, host: str, port: int) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "server.address": host,
        "server.port": port,
        "openai.api.type": "chat_completions",
    }


def metric_attrs(request: dict[str, Any], response_model: str) -> dict[str, Any]:
    attrs = {k: v for k, v in request.items() if not k.startswith("openai.")}
    return {**attrs, "gen_ai.response.model": response_model}


def check_chat_span(telemetry: Telemetry, model: str, provider: str, host: str, port: int, response_model: str) -> None:
    span = telemetry.span()
    assert span.name == f"chat {model}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    request = chat_request(model, provider, host, port)
    assert dict(span.attributes) == {**request, **response_attrs(response_model)}
    assert_call_metrics(telemetry, metric_attrs(request, response_model), input_tokens=12, output_tokens=5)


# -- Azure OpenAI ------------------------------------------------------------------------------

AZURE_FILTERS = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}


def azure_chat_body() -> dict[str, Any]:
    """Azure's chat body: the model version, not the deployment, plus content-filter results."""
    body = chat_body(
        "gpt-4o-2024-11-20",
        system_fingerprint="fp_ee1d74bde0",
        prompt_filter_results=[{"prompt_index": 0, "content_filter_results": AZURE_FILTERS}],
    )
    body["choices"][0]["content_filter_results"] = AZURE_FILTERS
    return body


AZURE_RESPONSE = {**response_attrs("gpt-4o-2024-11-20"), "openai.response.system_fingerprint": "fp_ee1d74bde0"}


def test_azure_chat(telemetry):
    server = Server(azure_chat_body())
    client = make_client(server, azure=True)

    client.chat.completions.create(model="gpt-4o-prod", messages=MESSAGES)

    url = server.requests[0].url
    assert url.host == "myres.openai.azure.com"
    assert url.path == "/openai/deployments/gpt-4o-prod/chat/completions"
    assert url.params["api-version"] == "2024-10-21"
    span = telemetry.span()
    assert span.name == "chat gpt-4o-prod"  # the deployment name the caller passed as model
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    request = chat_request("gpt-4o-prod", "azure.ai.openai", "myres.openai.azure.com", 443)
    assert dict(span.attributes) == {**request, **AZURE_RESPONSE}
    assert_call_metrics(telemetry, metric_attrs(request, "gpt-4o-2024-11-20"), input_tokens=12, output_tokens=5)


async def test_azure_chat_async(telemetry):
    client = make_client(Server(azure_chat_body()), azure=True, is_async=True)

    await client.chat.completions.create(model="gpt-4o-prod", messages=MESSAGES)

    span = telemetry.span()
    assert span.name == "chat gpt-4o-prod"
    request = chat_request("gpt-4o-prod", "azure.ai.openai", "myres.openai.azure.com", 443)
    assert dict(span.attributes) == {**request, **AZURE_RESPONSE}


def test_azure_client_with_deployment(telemetry):
    server = Server(azure_chat_body())
    client = make_client(server, azure=True, azure_deployment="gpt-4o-prod")

    client.chat.completions.create(model="gpt-4o-prod", messages=MESSAGES)

    assert server.requests[0].url.path == "/openai/deployments/gpt-4o-prod/chat/completions"
    span = telemetry.span()
    assert span.name == "chat gpt-4o-prod"
    assert span.attributes["gen_ai.provider.name"] == "azure.ai.openai"
    assert span.attributes["server.address"] == "myres.openai.azure.com"


def test_azure_client_on_custom_domain(telemetry):
    """An Azure client is Azure OpenAI whatever its host (e.g. behind an API gateway)."""
    client = make_client(Server(azure_chat_body()), azure=True, base_url="https://llm-gateway.contoso.com")

    client.chat.completions.create(model="gpt-4o-prod", messages=MESSAGES)

    span = telemetry.span()
    request = chat_request("gpt-4o-prod", "azure.ai.openai", "llm-gateway.contoso.com", 443)
    assert dict(span.attributes) == {**request, **AZURE_RESPONSE}


def test_azure_responses(telemetry):
    body = {
        "id": "resp_68af40aa1b2c8190b3c4d5e6f7a8b9c0",
        "object": "response",
        "created_at": 1756315000,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": "gpt-4.1",
        "output": [
            {
                "id": "msg_68af40ab2c3d8190a4b5c6d7e8f9a0b1",
                "type": "message",
                "status": "completed",
                "content": [{"type": "output_text", "annotations": [], "text": "Bonjour !"}],
                "role": "assistant",
            }
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": 12,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 17,
        },
        "user": None,
        "metadata": {},
    }
    server = Server(body)
    client = make_client(server, azure=True)

    client.responses.create(model="gpt-41-prod", input="Say hello in French.")

    assert server.requests[0].url.path == "/openai/responses"
    span = telemetry.span()
    assert span.name == "chat gpt-41-prod"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        **chat_request("gpt-41-prod", "azure.ai.openai", "myres.openai.azure.com", 443),
        "openai.api.type": "responses",
        "gen_ai.response.id": "resp_68af40aa1b2c8190b3c4d5e6f7a8b9c0",
        "gen_ai.response.model": "gpt-4.1",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 0,
        "openai.response.service_tier": "default",
    }


def test_azure_embeddings(telemetry):
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, 0.015797347]}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 5, "total_tokens": 5},
    }
    server = Server(body)
    client = make_client(server, azure=True)

    client.embeddings.create(model="embed-small", input="Hello world", encoding_format="float")

    assert server.requests[0].url.path == "/openai/deployments/embed-small/embeddings"
    span = telemetry.span()
    assert span.name == "embeddings embed-small"
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "azure.ai.openai",
        "gen_ai.request.model": "embed-small",
        "server.address": "myres.openai.azure.com",
        "server.port": 443,
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.embeddings.dimension.count": 3,
        "gen_ai.response.model": "text-embedding-3-small",
        "gen_ai.usage.input_tokens": 5,
    }


# -- OpenAI-compatible endpoints by base URL ------------------------------------------------------

ENDPOINTS = [
    # (id, base_url, model, response model, provider, host, port)
    ("openai", "https://api.openai.com/v1", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai", "api.openai.com", 443),
    (
        "azure-v1",
        "https://myres.openai.azure.com/openai/v1/",
        "gpt-4o-prod",
        "gpt-4o-2024-11-20",
        "azure.ai.openai",
        "myres.openai.azure.com",
        443,
    ),
    (
        "azure-cognitiveservices",
        "https://myres.cognitiveservices.azure.com/openai/v1/",
        "gpt-4o-prod",
        "gpt-4o-2024-11-20",
        "azure.ai.openai",
        "myres.cognitiveservices.azure.com",
        443,
    ),
    (
        "groq",
        "https://api.groq.com/openai/v1",
        "llama-3.3-70b-versatile",
        "llama-3.3-70b-versatile",
        "groq",
        "api.groq.com",
        443,
    ),
    ("deepseek", "https://api.deepseek.com", "deepseek-chat", "deepseek-chat", "deepseek", "api.deepseek.com", 443),
    (
        "mistral",
        "https://api.mistral.ai/v1",
        "mistral-large-latest",
        "mistral-large-latest",
        "mistral_ai",
        "api.mistral.ai",
        443,
    ),
    ("xai", "https://api.x.ai/v1", "grok-4", "grok-4-0709", "x_ai", "api.x.ai", 443),
    ("perplexity", "https://api.perplexity.ai", "sonar", "sonar", "perplexity", "api.perplexity.ai", 443),
    (
        "gemini",
        "https://generativelanguage.googleapis.com/v1beta/openai/",
        "gemini-2.5-flash",
        "gemini-2.5-flash",
        "gcp.gemini",
        "generativelanguage.googleapis.com",
        443,
    ),
    (
        "openrouter",
        "https://openrouter.ai/api/v1",
        "anthropic/claude-sonnet-4",
        "anthropic/claude-sonnet-4",
        "openrouter",
        "openrouter.ai",
        443,
    ),
    (
        "together",
        "https://api.together.xyz/v1",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "together_ai",
        "api.together.xyz",
        443,
    ),
    ("ollama", "http://localhost:11434/v1", "llama3.2", "llama3.2", "ollama", "localhost", 11434),
    ("ollama-lan", "http://192.168.1.20:11434/v1", "llama3.2", "llama3.2", "ollama", "192.168.1.20", 11434),
    ("ollama-ipv6", "http://[::1]:11434/v1", "llama3.2", "llama3.2", "ollama", "::1", 11434),
    (
        "lm-studio",
        "http://localhost:1234/v1",
        "qwen2.5-7b-instruct",
        "qwen2.5-7b-instruct",
        "lm_studio",
        "localhost",
        1234,
    ),
    (
        "local-default",
        "http://127.0.0.1:8000/v1",
        "Qwen/Qwen2.5-7B-Instruct",
        "Qwen/Qwen2.5-7B-Instruct",
        "openai_compatible",
        "127.0.0.1",
        8000,
    ),
    (
        "unknown-host",
        "https://llm.example.com/v1",
        "my-finetune",
        "my-finetune",
        "openai_compatible",
        "llm.example.com",
        443,
    ),
    (
        "unknown-http",
        "http://llm.example.com/v1",
        "my-finetune",
        "my-finetune",
        "openai_compatible",
        "llm.example.com",
        80,
    ),
]


@pytest.mark.parametrize(
    ("base_url", "model", "response_model", "provider", "host", "port"),
    [e[1:] for e in ENDPOINTS],
    ids=[e[0] for e in ENDPOINTS],
)
def test_provider_from_base_url(telemetry, base_url, model, response_model, provider, host, port):
    server = Server(chat_body(response_model))
    client = make_client(server, base_url=base_url)

    client.chat.completions.create(model=model, messages=MESSAGES)

    assert server.requests[0].url.path.endswith("/chat/completions")
    check_chat_span(telemetry, model, provider, host, port, response_model)


async def test_provider_from_base_url_async(telemetry):
    client = make_client(
        Server(chat_body("llama-3.3-70b-versatile")), base_url="https://api.groq.com/openai/v1", is_async=True
    )

    await client.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES)

    check_chat_span(telemetry, "llama-3.3-70b-versatile", "groq", "api.groq.com", 443, "llama-3.3-70b-versatile")


def test_base_url_changed_on_client(telemetry):
    """``client.base_url`` can be reassigned; each call reports the host it went to."""
    client = make_client(Server(chat_body("llama3.2")), base_url="http://localhost:11434/v1")
    client.chat.completions.create(model="llama3.2", messages=MESSAGES)
    client.base_url = "https://api.groq.com/openai/v1"
    client.chat.completions.create(model="llama3.2", messages=MESSAGES)

    spans = telemetry.spans()
    assert [(s.attributes["gen_ai.provider.name"], s.attributes["server.address"]) for s in spans] == [
        ("ollama", "localhost"),
        ("groq", "api.groq.com"),
    ]


# -- overrides ---------------------------------------------------------------------------------------


@pytest.fixture
def instrumented() -> Iterator[Callable[..., Telemetry]]:
    """Instrument with chosen keyword arguments (after the test has set the environment)."""
    made: list[Any] = []

    def make(**kwargs: Any) -> Telemetry:
        telemetry = Telemetry()
        made.append(instrument(telemetry, **kwargs))
        return telemetry

    yield make
    for instrumentor in made:
        instrumentor.uninstrument()


def providers(telemetry: Telemetry) -> list[tuple[str, str, int]]:
    return [
        (s.attributes["gen_ai.provider.name"], s.attributes["server.address"], s.attributes["server.port"])
        for s in telemetry.spans()
    ]


def call(base_url: str, model: str = "meta-llama/Llama-3.1-8B-Instruct") -> None:
    client = make_client(Server(chat_body(model)), base_url=base_url)
    client.chat.completions.create(model=model, messages=MESSAGES)


def test_provider_overrides_by_host(monkeypatch, instrumented):
    monkeypatch.delenv("OTEL_LLM_PROVIDER_OVERRIDES", raising=False)
    telemetry = instrumented(provider_overrides={"llm.internal.example.com": "vllm"})

    call("https://llm.internal.example.com/v1")

    check_chat_span(
        telemetry,
        "meta-llama/Llama-3.1-8B-Instruct",
        "vllm",
        "llm.internal.example.com",
        443,
        "meta-llama/Llama-3.1-8B-Instruct",
    )


def test_provider_overrides_by_host_and_port(monkeypatch, instrumented):
    monkeypatch.delenv("OTEL_LLM_PROVIDER_OVERRIDES", raising=False)
    telemetry = instrumented(provider_overrides={"localhost:8000": "vllm", "LLM.Internal.Example.com": "tgi"})

    call("http://localhost:8000/v1")
    call("http://localhost:11434/v1")  # another port on the same host keeps its usual name
    call("https://llm.internal.example.com/v1")  # keys are case-insensitive

    assert providers(telemetry) == [
        ("vllm", "localhost", 8000),
        ("ollama", "localhost", 11434),
        ("tgi", "llm.internal.example.com", 443),
    ]


def test_provider_overrides_win_over_the_table(monkeypatch, instrumented):
    monkeypatch.delenv("OTEL_LLM_PROVIDER_OVERRIDES", raising=False)
    telemetry = instrumented(provider_overrides={"openrouter.ai": "openrouter_eu"})

    call("https://openrouter.ai/api/v1")
    call("https://api.groq.com/openai/v1")

    assert providers(telemetry) == [("openrouter_eu", "openrouter.ai", 443), ("groq", "api.groq.com", 443)]


def test_provider_overrides_from_environment(monkeypatch, instrumented, caplog):
    monkeypatch.setenv(
        "OTEL_LLM_PROVIDER_OVERRIDES", "llm.internal.example.com=vllm, 10.0.0.5:8080=tgi,not-a-pair, =nameless"
    )
    with caplog.at_level(logging.WARNING, logger="otel_llm.instrumentation.providers"):
        telemetry = instrumented()

    call("https://llm.internal.example.com/v1")
    call("http://10.0.0.5:8080/v1")
    call("http://10.0.0.5:9090/v1")

    assert providers(telemetry) == [
        ("vllm", "llm.internal.example.com", 443),
        ("tgi", "10.0.0.5", 8080),
        ("openai_compatible", "10.0.0.5", 9090),
    ]
    assert "'not-a-pair'" in caplog.text
    assert "'=nameless'" in caplog.text


def test_provider_overrides_kwarg_wins_over_environment(monkeypatch, instrumented):
    monkeypatch.setenv("OTEL_LLM_PROVIDER_OVERRIDES", "llm.internal.example.com=vllm,gpu-box.lan=sglang")
    telemetry = instrumented(provider_overrides={"llm.internal.example.com": "tgi"})

    call("https://llm.internal.example.com/v1")
    call("http://gpu-box.lan:30000/v1")

    assert providers(telemetry) == [("tgi", "llm.internal.example.com", 443), ("sglang", "gpu-box.lan", 30000)]


def test_overrides_also_apply_to_embeddings(monkeypatch, instrumented):
    monkeypatch.delenv("OTEL_LLM_PROVIDER_OVERRIDES", raising=False)
    telemetry = instrumented(provider_overrides={"llm.internal.example.com": "vllm"})
    embeddings = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3, 0.4]}],
        "model": "BAAI/bge-m3",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    client = make_client(Server(embeddings), base_url="https://llm.internal.example.com/v1")

    client.embeddings.create(model="BAAI/bge-m3", input="hello", encoding_format="float")

    span = telemetry.span()
    assert span.name == "embeddings BAAI/bge-m3"
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "vllm",
        "gen_ai.request.model": "BAAI/bge-m3",
        "server.address": "llm.internal.example.com",
        "server.port": 443,
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.embeddings.dimension.count": 4,
        "gen_ai.response.model": "BAAI/bge-m3",
        "gen_ai.usage.input_tokens": 3,
    }
