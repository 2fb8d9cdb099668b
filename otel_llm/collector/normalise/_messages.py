"""Flattened foreign messages → GenAI messages in the "parts" shape of the GenAI JSON schemas.

Message content comes in three foreign shapes: OpenLLMetry / LiteLLM legacy items
(``gen_ai.prompt.N.role`` ...), OpenInference items (``llm.input_messages.N.message.role`` ...)
and provider request/response JSON (OpenInference's ``input.value``). Content parts inside them are
the providers' own (OpenAI content parts, Anthropic content blocks), so they are converted by the
instrumentation's own provider mappings: the same content gets the same parts whichever way it
reached us.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.collector.normalise._common import as_str, as_strs, dumps, grouped, indexed, parse_json
from otel_llm.genai import attributes as A
from otel_llm.instrumentation._parts import Message, Part, reasoning_part, text_part, tool_call_part, tool_response_part
from otel_llm.instrumentation.anthropic import messages as anthropic
from otel_llm.instrumentation.openai import messages as openai

# Provider finish reasons → the output-message schema's FinishReason (OpenAI's and Anthropic's
# tables do not overlap; Gemini's upper-case reasons are looked up lower-cased).
FINISH_REASONS: Mapping[str, str] = {
    **openai.FINISH_REASONS,
    **anthropic.FINISH_REASONS,
    "max_tokens": "length",
    "safety": "content_filter",
    "recitation": "content_filter",
}
CONTENT_KEYS = (A.INPUT_MESSAGES, A.OUTPUT_MESSAGES, A.SYSTEM_INSTRUCTIONS, A.TOOL_DEFINITIONS)
# Anthropic content block types: a JSON list holding one of these is Anthropic content.
_ANTHROPIC_BLOCKS = frozenset({"tool_use", "tool_result", "thinking", "redacted_thinking", "document", "image"})


def schema_finish_reason(value: Any) -> str | None:
    """The output-message schema's finish reason for a provider's; None when unknown."""
    if not isinstance(value, str) or not value:
        return None
    return FINISH_REASONS.get(value) or FINISH_REASONS.get(value.lower()) or value


def content_parts(content: Any) -> list[Part]:
    """Parts of a legacy ``content`` attribute: text, or the JSON of a provider's content list
    (OpenLLMetry writes a list of OpenAI parts or Anthropic blocks as JSON)."""
    if not isinstance(content, str) or not content:
        return []
    if content.startswith("["):
        items = parse_json(content)
        if isinstance(items, list) and items and all(isinstance(i, dict) and "type" in i for i in items):
            return [_provider_part(item) for item in items]
    return [text_part(content)]


def _provider_part(item: dict[str, Any]) -> Part:
    kind = item.get("type")
    if kind in _ANTHROPIC_BLOCKS and (kind != "image" or "source" in item):
        return anthropic.block_part(item)
    parts = openai.content_parts([item])
    return parts[0] if parts else {"type": str(kind)}


def text_of(content: Any) -> Any:
    """A tool result as the model saw it: the text of a content list, else the value as sent."""
    parts = content_parts(content)
    if parts and all(p.get("type") == "text" for p in parts):
        return "".join(p["content"] for p in parts)
    return content


# -- OpenLLMetry / LiteLLM legacy items ----------------------------------------------------------


def legacy_message(fields: Mapping[str, Any], *, output: bool) -> Message | None:
    """One ``gen_ai.prompt.N.*`` / ``gen_ai.completion.N.*`` item; None when it holds nothing."""
    role = as_str(fields.get("role"))
    content = fields.get("content")
    parts: list[Part] = []
    if role == "tool" and fields.get("tool_call_id") is not None:
        parts.append(tool_response_part(str(fields["tool_call_id"]), text_of(content)))
    elif role == "thinking":  # OpenLLMetry's Anthropic completions: a thinking block as its own item
        if isinstance(content, str):
            parts.append(reasoning_part(content))
    else:
        if role is None and isinstance(fields.get("user"), str):  # legacy completions: gen_ai.prompt.0.user
            role, content = "user", fields["user"]
        parts.extend(content_parts(content))
    refusal = as_str(fields.get("refusal"))
    if refusal is not None:
        parts.append({"type": "refusal", "content": refusal})
    if "tool_calls.0.name" in fields or "tool_calls.0.id" in fields:
        for call in indexed(fields, "tool_calls."):
            parts.append(tool_call_part(call.get("id"), call.get("name"), call.get("arguments")))
    if "function_call.name" in fields:  # LiteLLM's gen_ai.completion.N.function_call.*
        parts.append(tool_call_part(None, fields["function_call.name"], fields.get("function_call.arguments")))
    if not parts and role is None:
        return None
    message: Message = {"role": role or ("assistant" if output else "user"), "parts": parts}
    reason = schema_finish_reason(fields.get("finish_reason"))
    if output and reason is not None:
        message["finish_reason"] = reason
    return message


def legacy_outputs(items: list[dict[str, Any]]) -> list[Message]:
    """Output items; a ``thinking`` item joins the assistant message after it as its reasoning part
    (OpenLLMetry puts the response's stop reason on the first item, which may be the thinking one)."""
    messages: list[Message] = []
    pending: Message | None = None
    for fields in items:
        message = legacy_message(fields, output=True)
        if message is None:
            continue
        if message["role"] == "thinking":
            if pending is None:
                pending = {"role": "assistant", "parts": []}
            pending["parts"].extend(message["parts"])
            if "finish_reason" in message:
                pending.setdefault("finish_reason", message["finish_reason"])
            continue
        if pending is not None:
            message["parts"] = pending["parts"] + message["parts"]
            if "finish_reason" in pending:
                message.setdefault("finish_reason", pending["finish_reason"])
            pending = None
        messages.append(message)
    if pending is not None:
        messages.append(pending)
    return messages


def legacy_tools(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``llm.request.functions.N.*`` (name, description, and parameters or Anthropic's input_schema)."""
    tools = []
    for fields in items:
        name = as_str(fields.get("name"))
        if name is None:
            continue
        tool: dict[str, Any] = {"type": "function", "name": name}
        if isinstance(fields.get("description"), str):
            tool["description"] = fields["description"]
        schema = parse_json(fields.get("parameters", fields.get("input_schema")))
        if isinstance(schema, dict):
            tool["parameters"] = schema
        tools.append(tool)
    return tools


# -- OpenInference items -------------------------------------------------------------------------


def _media(url: Any, modality: str) -> Part:
    """An image or audio URL part: data URIs become blobs, as the OpenAI mapping makes them."""
    if modality == "image":
        parts = openai.content_parts([{"type": "image_url", "image_url": {"url": url}}])
        return parts[0]
    return {"type": "uri", "modality": modality, "uri": str(url)}


def _oi_content(fields: Mapping[str, Any]) -> Part | None:
    kind = fields.get("message_content.type")
    if kind == "text":
        return text_part(fields.get("message_content.text") or "")
    if kind == "reasoning":
        return reasoning_part(fields.get("message_content.text") or "")
    if kind == "image":
        return _media(fields.get("message_content.image.image.url"), "image")
    if kind == "audio":
        return _media(fields.get("message_content.audio.audio.url"), "audio")
    if "tool_call.function.name" in fields:  # a tool_use block, also listed under message.tool_calls
        return None
    return {"type": str(kind)} if kind else None


_OI_LISTS = ("message.contents.", "message.tool_calls.")


def openinference_message(fields: Mapping[str, Any], *, output: bool) -> Message:
    """One ``llm.{input,output}_messages.N.message.*`` item (the ``message.`` prefix included)."""
    role = as_str(fields.get("message.role")) or ("assistant" if output else "user")
    content = fields.get("message.content")
    parts: list[Part] = []
    if role in ("tool", "function") and fields.get("message.tool_call_id") is not None:
        parts.append(tool_response_part(str(fields["message.tool_call_id"]), content))
        role = "tool"
    elif isinstance(content, str) and content:
        parts.append(text_part(content))
    items = grouped(fields, _OI_LISTS)
    for item in items[_OI_LISTS[0]]:
        part = _oi_content(item)
        if part is not None:
            parts.append(part)
    calls = items[_OI_LISTS[1]]
    for call in calls:
        name, arguments = call.get("tool_call.function.name"), call.get("tool_call.function.arguments")
        parts.append(tool_call_part(call.get("tool_call.id"), name, arguments))
    if not calls and "message.function_call_name" in fields:
        arguments = fields.get("message.function_call_arguments_json")
        parts.append(tool_call_part(None, fields["message.function_call_name"], arguments))
    message: Message = {"role": role, "parts": parts}
    if isinstance(fields.get("message.name"), str) and role != "tool":
        message["name"] = fields["message.name"]
    return message


def tool_definition(value: Any) -> dict[str, Any] | None:
    """One tool of ``llm.tools.N.tool.json_schema``: an OpenAI tool, an Anthropic tool, or a bare function."""
    spec = parse_json(value) if isinstance(value, str) else value
    if not isinstance(spec, dict):
        return None
    if isinstance(spec.get("function"), dict):
        return openai.chat_tool_definitions([spec])[0]
    if "input_schema" in spec or ("name" in spec and "type" not in spec and "parameters" not in spec):
        return anthropic.tool_definitions([spec])[0]
    if isinstance(spec.get("name"), str):
        tool = {"type": "function", **spec}
        return tool
    return None


# -- provider JSON (OpenInference input.value / output.value) ------------------------------------


def request_messages(body: Mapping[str, Any], provider: str | None) -> tuple[list[Message], list[Part] | None]:
    """Input messages and system instructions of a provider request body."""
    messages = body.get("messages")
    if provider == "anthropic" or "system" in body:
        return anthropic.input_messages(messages), anthropic.system_instructions(body.get("system"))
    return openai.chat_input_messages(messages if isinstance(messages, list) else ()), None


def response_messages(body: Mapping[str, Any]) -> list[Message]:
    """Output messages of a Chat Completions or Anthropic Messages response body."""
    choices = body.get("choices")
    if isinstance(choices, list):
        return [
            openai.chat_output_message(c.get("message") or {}, c.get("finish_reason"))
            for c in choices
            if isinstance(c, dict)
        ]
    if isinstance(body.get("content"), list) and "stop_reason" in body:
        return [anthropic.output_message(body["content"], body.get("stop_reason"))]
    return []


def response_finish_reasons(body: Mapping[str, Any]) -> tuple[str, ...] | None:
    choices = body.get("choices")
    if isinstance(choices, list):
        reasons = tuple(r for c in choices if isinstance(c, dict) and isinstance(r := c.get("finish_reason"), str))
        return reasons or None
    reason = body.get("stop_reason")
    return (reason,) if isinstance(reason, str) else None


# -- shared --------------------------------------------------------------------------------------


def split_system(messages: list[Message]) -> tuple[list[Message], list[Part] | None]:
    """Leading system messages as system instructions: for providers whose API takes the system
    prompt apart from the messages (Anthropic), where the foreign instrumentation put it first."""
    parts: list[Part] = []
    while messages and messages[0].get("role") == "system":
        parts.extend(messages.pop(0)["parts"])
    return messages, (parts or None)


def finish(messages: list[Message], reasons: Any) -> list[Message]:
    """Give output messages without a finish reason the span's, one per message in order (or the
    only one to all); a message whose reason is unknown stays without one rather than get a guess."""
    reasons = as_strs(reasons)
    for i, message in enumerate(messages):
        if "finish_reason" in message or not reasons:
            continue
        reason = reasons[i] if i < len(reasons) else (reasons[0] if len(reasons) == 1 else None)
        mapped = schema_finish_reason(reason)
        if mapped is not None:
            message["finish_reason"] = mapped
    return messages


def set_content(
    out: dict[str, Any],
    inputs: list[Message] | None,
    outputs: list[Message] | None,
    system: list[Part] | None = None,
    tools: list[dict[str, Any]] | None = None,
) -> None:
    """Set, as JSON, the content attributes that have something."""
    for key, value in zip(CONTENT_KEYS, (inputs, outputs, system, tools), strict=True):
        if value:
            out[key] = dumps(value)
