"""OpenInference spans (Arize Phoenix's conventions, ``openinference.span.kind``) → GenAI attributes.

The reverse of backends/openinference.py, checked against the spans openinference-instrumentation-
openai 0.1.66 and -anthropic 3.1.0 write. Only kinds the GenAI conventions have an operation for
(LLM, EMBEDDING, TOOL, AGENT, RETRIEVER) are normalised; CHAIN and the others stay as they are.

OpenInference counts prompt tokens with cached ones, as the conventions do. ``llm.model_name`` is
the response's model for OpenAI (the request's is in ``llm.invocation_parameters``) and the
request's for Anthropic, which also writes ``llm.request.model_name`` / ``llm.response.model_name``;
so the explicit names win and ``llm.model_name`` fills what is left. When an instrumentation writes
no ``llm.input_messages`` / ``llm.output_messages``, the messages (and the response id and finish
reasons) are read from ``input.value`` / ``output.value`` when they hold a provider's JSON.
Tool-call arguments and results, retrieval documents and embedding texts are content the redactor
does not know under GenAI names (processing/_content.py), so they are not copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.collector.normalise import _messages as M
from otel_llm.collector.normalise._common import (
    FieldMap,
    as_bool,
    as_float,
    as_int,
    as_str,
    as_strs,
    copy_fields,
    dumps,
    grouped,
    parse_json,
    provider_name,
)
from otel_llm.genai import attributes as A

SPAN_KIND = "openinference.span.kind"
# openinference.span.kind → gen_ai.operation.name (LLM is refined to text_completion by its prompts).
KINDS: Mapping[str, str] = {
    "LLM": A.OP_CHAT,
    "EMBEDDING": A.OP_EMBEDDINGS,
    "TOOL": "execute_tool",
    "AGENT": "invoke_agent",
    "RETRIEVER": "retrieval",
}
FIELDS: FieldMap = {
    "llm.request.model_name": (A.REQUEST_MODEL, as_str),
    "llm.response.model_name": (A.RESPONSE_MODEL, as_str),
    "embedding.model_name": (A.REQUEST_MODEL, as_str),
    "llm.token_count.prompt": (A.USAGE_INPUT_TOKENS, as_int),
    "llm.token_count.completion": (A.USAGE_OUTPUT_TOKENS, as_int),
    "llm.token_count.prompt_details.cache_read": (A.USAGE_CACHE_READ_INPUT_TOKENS, as_int),
    "llm.token_count.prompt_details.cache_write": (A.USAGE_CACHE_CREATION_INPUT_TOKENS, as_int),
    "llm.token_count.completion_details.reasoning": (A.USAGE_REASONING_OUTPUT_TOKENS, as_int),
    "llm.finish_reason": (A.RESPONSE_FINISH_REASONS, as_strs),
    "session.id": (A.CONVERSATION_ID, as_str),
    "tag.tags": (A.TAGS, as_strs),
    "tool.name": ("gen_ai.tool.name", as_str),
    "tool.description": ("gen_ai.tool.description", as_str),
    "tool.id": ("gen_ai.tool.call.id", as_str),
    "agent.name": ("gen_ai.agent.name", as_str),
}
# Read after the invocation parameters: llm.model_name only fills what nothing else said.
LATE_FIELDS: tuple[FieldMap, ...] = (
    {"llm.model_name": (A.REQUEST_MODEL, as_str)},
    {"llm.model_name": (A.RESPONSE_MODEL, as_str)},
)
# Keys of the llm.invocation_parameters / embedding.invocation_parameters JSON → GenAI.
PARAMETERS: FieldMap = {
    "model": (A.REQUEST_MODEL, as_str),
    "max_tokens": (A.REQUEST_MAX_TOKENS, as_int),
    "max_completion_tokens": (A.REQUEST_MAX_TOKENS, as_int),
    "max_output_tokens": (A.REQUEST_MAX_TOKENS, as_int),
    "temperature": (A.REQUEST_TEMPERATURE, as_float),
    "top_p": (A.REQUEST_TOP_P, as_float),
    "top_k": (A.REQUEST_TOP_K, as_float),
    "frequency_penalty": (A.REQUEST_FREQUENCY_PENALTY, as_float),
    "presence_penalty": (A.REQUEST_PRESENCE_PENALTY, as_float),
    "seed": (A.REQUEST_SEED, as_int),
    "n": (A.REQUEST_CHOICE_COUNT, as_int),
    "stop": (A.REQUEST_STOP_SEQUENCES, as_strs),
    "stop_sequences": (A.REQUEST_STOP_SEQUENCES, as_strs),
    "stream": (A.REQUEST_STREAM, as_bool),
    "reasoning_effort": (A.REQUEST_REASONING_LEVEL, as_str),
    "user": (A.USER_ID, as_str),
    "encoding_format": (A.REQUEST_ENCODING_FORMATS, as_strs),
}
PARAMETER_KEYS = ("llm.invocation_parameters", "embedding.invocation_parameters")
PROVIDER_KEYS = ("llm.provider", "llm.system")
# Where OpenInference flattens its lists, read in one pass.
INPUTS, OUTPUTS, TOOLS = "llm.input_messages.", "llm.output_messages.", "llm.tools."
PROMPTS, CHOICES = "llm.prompts.", "llm.choices."
ITEM_PREFIXES = (INPUTS, OUTPUTS, TOOLS, PROMPTS, CHOICES)
Groups = Mapping[str, list[dict[str, Any]]]
METADATA = "metadata"
JSON_MIME = "application/json"


def _json_value(attrs: Mapping[str, Any], key: str) -> Any:
    """``input.value`` / ``output.value`` parsed, when its mime type says JSON."""
    if attrs.get(f"{key}.mime_type") != JSON_MIME:
        return None
    return parse_json(attrs.get(f"{key}.value"))


def _metadata(value: Any, out: dict[str, Any]) -> None:
    """OpenInference's ``metadata`` JSON object → ``otel_llm.metadata.<key>`` (as context() writes them)."""
    parsed = parse_json(value)
    if not isinstance(parsed, dict):
        return
    for key, item in parsed.items():
        if item is None:
            continue
        scalar = isinstance(item, (str, bool, int, float))
        out[f"{A.METADATA_PREFIX}{key}"] = item if scalar else dumps(item)


def _inputs(attrs: Mapping[str, Any], groups: Groups, provider: str | None) -> tuple[list[Any], Any, bool]:
    """Input messages, system instructions, and whether the call was a text completion."""
    messages = [M.openinference_message(f, output=False) for f in groups[INPUTS]]
    if messages:
        if provider == "anthropic":  # its instrumentation puts the separate system prompt first
            messages, system = M.split_system(messages)
            return messages, system, False
        return messages, None, False
    prompts = [f.get("prompt.text") for f in groups[PROMPTS]]
    old = attrs.get("llm.prompts")  # before the indexed form: a list of strings
    prompts += list(old) if isinstance(old, (list, tuple)) else []
    texts = [p for p in prompts if isinstance(p, str)]
    if texts:
        return [{"role": "user", "parts": [{"type": "text", "content": t}]} for t in texts], None, True
    body = _json_value(attrs, "input")
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        inputs, system = M.request_messages(body, provider)
        return inputs, system, False
    return [], None, False


def _outputs(groups: Groups, body: Any) -> list[Any]:
    messages = [M.openinference_message(f, output=True) for f in groups[OUTPUTS]]
    if messages:
        return messages
    choices = [f.get("completion.text") for f in groups[CHOICES]]
    texts = [c for c in choices if isinstance(c, str)]
    if texts:
        return [{"role": "assistant", "parts": [{"type": "text", "content": t}]} for t in texts]
    if isinstance(body, dict):
        return M.response_messages(body)
    return []


def _tools(groups: Groups) -> list[dict[str, Any]]:
    tools = []
    for fields in groups[TOOLS]:
        tool = M.tool_definition(fields.get("tool.json_schema"))
        if tool is None and isinstance(fields.get("tool.name"), str):
            tool = {"type": "function", "name": fields["tool.name"]}
            if isinstance(fields.get("tool.description"), str):
                tool["description"] = fields["tool.description"]
        if tool is not None:
            tools.append(tool)
    return tools


def _llm(attrs: Mapping[str, Any], provider: str | None, out: dict[str, Any]) -> None:
    """Response facts and content of an LLM span."""
    body = _json_value(attrs, "output")
    if isinstance(body, dict):
        if isinstance(body.get("id"), str):
            out[A.RESPONSE_ID] = body["id"]
        if A.RESPONSE_FINISH_REASONS not in out:
            reasons = M.response_finish_reasons(body)
            if reasons:
                out[A.RESPONSE_FINISH_REASONS] = reasons
    inputs = outputs = system = tools = None
    groups = grouped(attrs, ITEM_PREFIXES)
    if A.INPUT_MESSAGES not in attrs:
        inputs, system, text_completion = _inputs(attrs, groups, provider)
        if text_completion:
            out[A.OPERATION_NAME] = A.OP_TEXT_COMPLETION
    if A.OUTPUT_MESSAGES not in attrs:
        reasons = out.get(A.RESPONSE_FINISH_REASONS) or attrs.get(A.RESPONSE_FINISH_REASONS)
        outputs = M.finish(_outputs(groups, body), reasons)
    if A.TOOL_DEFINITIONS not in attrs:
        tools = _tools(groups)
    M.set_content(out, inputs, outputs, system, tools)
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        out.setdefault(A.RESPONSE_MODEL, body["model"])


def derive(attrs: Mapping[str, Any], span: ReadableSpan) -> dict[str, Any]:
    kind = attrs.get(SPAN_KIND)
    operation = KINDS.get(kind.upper()) if isinstance(kind, str) else None
    if operation is None:
        return {}
    out: dict[str, Any] = {A.OPERATION_NAME: operation}
    provider = None
    for key in PROVIDER_KEYS:
        provider = provider_name(attrs.get(key))
        if provider is not None:
            out[A.PROVIDER_NAME] = provider
            break
    provider = attrs.get(A.PROVIDER_NAME) or provider
    copy_fields(attrs, FIELDS, out)
    for key in PARAMETER_KEYS:
        parameters = parse_json(attrs.get(key))
        if isinstance(parameters, dict):
            copy_fields(parameters, PARAMETERS, out)
    for late in LATE_FIELDS:
        copy_fields(attrs, late, out)
    if METADATA in attrs:
        _metadata(attrs[METADATA], out)
    if operation == A.OP_CHAT:
        _llm(attrs, provider, out)
    return out
