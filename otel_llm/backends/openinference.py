"""The OpenInference view of a GenAI span, for Arize AX and Phoenix.

Both products read OpenInference attributes (``openinference.span.kind``, ``llm.*``,
``input.value`` ...) rather than the GenAI conventions; this derives them from the GenAI
attributes, next to them (nothing is removed). Content appears only when the span has content,
and as the span has it: after a destination's redaction, placeholders stay placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.backends import _genai as g
from otel_llm.genai import attributes as A

SPAN_KIND = "openinference.span.kind"
PROJECT = "openinference.project.name"


def project_resource(project: str | None, *, model_id: bool = False) -> dict[str, Any]:
    """``Target`` keywords for the project resource attribute: a configured project is set on
    every span; without one the app's own (``OTEL_RESOURCE_ATTRIBUTES``) stays, else ``default``.
    ``model_id`` is the name Arize's older collectors read."""
    values = {PROJECT: project or "default"}
    if model_id:
        values["model_id"] = values[PROJECT]
    return {"resource": values} if project else {"resource_defaults": values}

# gen_ai.operation.name -> openinference.span.kind
KINDS: Mapping[str, str] = {
    "chat": "LLM",
    "text_completion": "LLM",
    "generate_content": "LLM",
    "embeddings": "EMBEDDING",
    "execute_tool": "TOOL",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
    "retrieval": "RETRIEVER",
}

# gen_ai.provider.name -> llm.provider (OpenInference's well-known values; others pass as they are)
PROVIDERS: Mapping[str, str] = {
    "openai": "openai",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "mistral_ai": "mistralai",
    "cohere": "cohere",
    "x_ai": "xai",
    "deepseek": "deepseek",
}

# gen_ai.provider.name -> llm.system (the model's vendor, where the provider tells it; Bedrock: _bedrock_system)
SYSTEMS: Mapping[str, str] = {
    "openai": "openai",
    "azure.ai.openai": "openai",
    "anthropic": "anthropic",
    "mistral_ai": "mistralai",
    "cohere": "cohere",
    "gcp.vertex_ai": "vertexai",
    "gcp.gemini": "vertexai",
    "gcp.gen_ai": "vertexai",
}

# GenAI attribute -> OpenInference attribute, same value.
COPIED: Mapping[str, str] = {
    A.USAGE_INPUT_TOKENS: "llm.token_count.prompt",
    A.USAGE_OUTPUT_TOKENS: "llm.token_count.completion",
    A.USAGE_CACHE_READ_INPUT_TOKENS: "llm.token_count.prompt_details.cache_read",
    A.USAGE_CACHE_CREATION_INPUT_TOKENS: "llm.token_count.prompt_details.cache_write",
    A.USAGE_REASONING_OUTPUT_TOKENS: "llm.token_count.completion_details.reasoning",
    A.COST_USD: "llm.cost.total",
    A.COST_INPUT_USD: "llm.cost.prompt_details.input",
    A.COST_CACHE_READ_USD: "llm.cost.prompt_details.cache_read",
    A.COST_CACHE_WRITE_USD: "llm.cost.prompt_details.cache_write",
    A.COST_OUTPUT_USD: "llm.cost.completion",
    A.CONVERSATION_ID: "session.id",
    A.USER_ID: "user.id",
    A.TAGS: "tag.tags",
}


# Bedrock model id prefixes -> llm.system
BEDROCK_SYSTEMS: Mapping[str, str] = {
    "anthropic.": "anthropic",
    "amazon.": "amazon",
    "meta.": "meta",
    "mistral.": "mistralai",
    "cohere.": "cohere",
    "ai21.": "ai21",
}

# Prompt cost: the sum of its parts (llm.cost.prompt covers cached tokens, as llm.token_count.prompt does).
PROMPT_COST_PARTS = (A.COST_INPUT_USD, A.COST_CACHE_READ_USD, A.COST_CACHE_WRITE_USD)


def _system(provider: str, model: str | None) -> str | None:
    if provider != "aws.bedrock":
        return SYSTEMS.get(provider)
    name = (model or "").rsplit("/", 1)[-1]  # an ARN (inference profile, provisioned model) ends with the id
    region, _, rest = name.partition(".")
    if rest and region in ("us", "eu", "apac", "jp", "au", "global", "us-gov"):  # cross-region profile prefix
        name = rest
    return next((system for prefix, system in BEDROCK_SYSTEMS.items() if name.startswith(prefix)), None)


def _message(prefix: str, message: Mapping[str, Any], out: dict[str, Any]) -> None:
    """One GenAI message as ``<prefix>.message.*`` attributes."""
    role = message.get("role")
    if isinstance(role, str):
        out[f"{prefix}.message.role"] = role
    if isinstance(message.get("name"), str):
        out[f"{prefix}.message.name"] = message["name"]
    text = g.text_of(message)
    if text is not None:
        out[f"{prefix}.message.content"] = text
    calls = 0
    for part in g.parts(message):
        kind = part.get("type")
        if kind == "tool_call":
            call = f"{prefix}.message.tool_calls.{calls}.tool_call"
            calls += 1
            if part.get("id") is not None:
                out[f"{call}.id"] = str(part["id"])
            if isinstance(part.get("name"), str):
                out[f"{call}.function.name"] = part["name"]
            arguments = part.get("arguments")
            if arguments is not None:
                out[f"{call}.function.arguments"] = arguments if isinstance(arguments, str) else g.dumps(arguments)
        elif kind == "tool_call_response":
            if part.get("id") is not None:
                out[f"{prefix}.message.tool_call_id"] = str(part["id"])
            response = part.get("response")
            if response is not None and text is None:
                out[f"{prefix}.message.content"] = response if isinstance(response, str) else g.dumps(response)


def _messages(attrs: Mapping[str, Any], out: dict[str, Any]) -> None:
    inputs = g.messages(attrs, A.INPUT_MESSAGES)
    system = g.instructions(attrs)
    if system is not None:
        inputs = [{"role": "system", "parts": [{"type": "text", "content": system}]}, *inputs]
    for i, message in enumerate(inputs):
        _message(f"llm.input_messages.{i}", message, out)
    outputs = g.messages(attrs, A.OUTPUT_MESSAGES)
    for i, message in enumerate(outputs):
        _message(f"llm.output_messages.{i}", message, out)
    if A.INPUT_MESSAGES in attrs and inputs:
        out["input.value"] = g.dumps({"messages": inputs})
        out["input.mime_type"] = "application/json"
    if outputs:
        texts = [g.text_of(m) for m in outputs]
        if len(outputs) == 1 and texts[0] is not None and len(g.parts(outputs[0])) == 1:
            out["output.value"] = texts[0]
            out["output.mime_type"] = "text/plain"
        else:
            out["output.value"] = g.dumps({"messages": outputs})
            out["output.mime_type"] = "application/json"
    tools = g.parsed(attrs.get(A.TOOL_DEFINITIONS))
    if isinstance(tools, list):
        for i, tool in enumerate(tools):
            out[f"llm.tools.{i}.tool.json_schema"] = g.dumps(tool)


def openinference_view(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """OpenInference attributes for a GenAI span; nothing for other spans."""
    kind = KINDS.get(attrs.get(A.OPERATION_NAME))  # type: ignore[arg-type]
    if kind is None:
        return {}
    out: dict[str, Any] = {SPAN_KIND: kind}
    name = g.model(attrs)
    provider = attrs.get(A.PROVIDER_NAME)
    if kind == "EMBEDDING":  # the spec keeps llm.provider and llm.system off embedding spans
        if name:
            out["embedding.model_name"] = name
    else:
        if name:
            out["llm.model_name"] = name
        if isinstance(provider, str):
            out["llm.provider"] = PROVIDERS.get(provider, provider)
            system = _system(provider, name)
            if system is not None:
                out["llm.system"] = system
    for source, target in COPIED.items():
        if source in attrs:
            out[target] = attrs[source]
    prompt_cost = [c for c in (g.amount(attrs, k) for k in PROMPT_COST_PARTS) if c is not None]
    if prompt_cost:
        out["llm.cost.prompt"] = sum(prompt_cost)
    prompt, completion = g.count(attrs, A.USAGE_INPUT_TOKENS), g.count(attrs, A.USAGE_OUTPUT_TOKENS)
    if prompt is not None or completion is not None:
        out["llm.token_count.total"] = (prompt or 0) + (completion or 0)
    if kind == "LLM":
        params = g.parameters(attrs)
        if params:
            out["llm.invocation_parameters"] = g.dumps(params)
        _messages(attrs, out)
    extra = g.metadata(attrs)
    if A.TENANT_ID in attrs:
        extra.setdefault("tenant_id", attrs[A.TENANT_ID])
    if extra:
        out["metadata"] = g.dumps(extra)
    return out
