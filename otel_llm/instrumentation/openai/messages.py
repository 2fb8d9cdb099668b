"""OpenAI messages, items and tools → the GenAI content schemas (only built when capture is on).

The shapes follow ../shared/reference/genai-schemas: a message is ``{role, parts, ...}``, parts
are ``text``, ``tool_call``, ``tool_call_response``, ``reasoning``, ``blob``, ``uri``, ``file``,
``server_tool_call`` or a generic ``{type: ...}``.
"""

from __future__ import annotations

from typing import Any

from otel_llm.instrumentation._fields import get
from otel_llm.instrumentation._parts import Message, Part, text_part, tool_call_part, tool_response_part
from otel_llm.instrumentation._parts import finish_reason as _finish_reason

# Provider finish reasons → the FinishReason enum of the output-message schema.
FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "tool_call": "tool_call",
    "error": "error",
}


def finish_reason(value: Any) -> str:
    return _finish_reason(value, FINISH_REASONS)


def _data_uri_part(uri: str, modality: str) -> Part:
    header, _, data = uri.partition(",")
    mime = header[5:].split(";", 1)[0] or None
    return {"type": "blob", "modality": modality, "mime_type": mime, "content": data}


def _media_part(url: Any, modality: str) -> Part:
    if isinstance(url, str) and url.startswith("data:"):
        return _data_uri_part(url, modality)
    return {"type": "uri", "modality": modality, "uri": str(url)}


def _file_part(file: Any, modality: str = "file") -> Part:
    file_id = get(file, "file_id")
    if file_id:
        return {"type": "file", "modality": modality, "file_id": file_id}
    data = get(file, "file_data")
    if isinstance(data, str):
        if data.startswith("data:"):
            return _data_uri_part(data, modality)
        return {"type": "blob", "modality": modality, "content": data}
    url = get(file, "file_url")
    if url:
        return _media_part(url, modality)
    return {"type": "file"}


def content_parts(content: Any) -> list[Part]:
    """Parts of a message ``content``: a string, or a list of typed content parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    if not isinstance(content, (list, tuple)):
        return [text_part(str(content))]
    parts: list[Part] = []
    for item in content:
        kind = get(item, "type")
        if kind in ("text", "input_text", "output_text"):
            parts.append(text_part(get(item, "text") or ""))
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": get(item, "refusal") or ""})
        elif kind == "image_url":
            parts.append(_media_part(get(get(item, "image_url"), "url"), "image"))
        elif kind == "input_image":
            if get(item, "file_id"):
                parts.append({"type": "file", "modality": "image", "file_id": get(item, "file_id")})
            else:
                parts.append(_media_part(get(item, "image_url"), "image"))
        elif kind == "input_audio":
            audio = get(item, "input_audio") or item
            fmt = get(audio, "format")
            part = {"type": "blob", "modality": "audio", "content": get(audio, "data") or ""}
            if fmt:
                part["mime_type"] = f"audio/{fmt}"
            parts.append(part)
        elif kind == "file":
            parts.append(_file_part(get(item, "file")))
        elif kind == "input_file":
            parts.append(_file_part(item))
        elif isinstance(item, str):
            parts.append(text_part(item))
        else:
            parts.append({"type": str(kind)})
    return parts


def _text_of(content: Any) -> Any:
    """A tool result as the model saw it: the string, or the joined text parts."""
    if isinstance(content, str) or content is None:
        return content
    texts = [get(p, "text") for p in content] if isinstance(content, (list, tuple)) else []
    return "".join(t for t in texts if isinstance(t, str))


# -- Chat Completions --------------------------------------------------------------------------


def chat_input_messages(messages: Any) -> list[Message]:
    result: list[Message] = []
    for msg in messages or ():
        role = get(msg, "role") or "user"
        if role in ("tool", "function"):
            call_id = get(msg, "tool_call_id") if role == "tool" else get(msg, "name")
            parts = [tool_response_part(call_id, _text_of(get(msg, "content")))]
            result.append({"role": "tool", "parts": parts})
            continue
        parts = content_parts(get(msg, "content"))
        if get(msg, "refusal"):
            parts.append({"type": "refusal", "content": get(msg, "refusal")})
        for call in get(msg, "tool_calls") or ():
            fn = get(call, "function")
            parts.append(tool_call_part(get(call, "id"), get(fn, "name"), get(fn, "arguments")))
        legacy_call = get(msg, "function_call")
        if legacy_call:
            parts.append(tool_call_part(None, get(legacy_call, "name"), get(legacy_call, "arguments")))
        out: Message = {"role": role, "parts": parts}
        if get(msg, "name"):
            out["name"] = get(msg, "name")
        result.append(out)
    return result


def chat_output_message(message: Any, reason: Any) -> Message:
    """One choice's message (a response model, or the accumulated stream) as an output message."""
    parts: list[Part] = []
    content = get(message, "content")
    if content:
        parts.append(text_part(content))
    refusal = get(message, "refusal")
    if refusal:
        parts.append({"type": "refusal", "content": refusal})
    for call in get(message, "tool_calls") or ():
        fn = get(call, "function")
        parts.append(tool_call_part(get(call, "id"), get(fn, "name"), get(fn, "arguments")))
    legacy_call = get(message, "function_call")
    if legacy_call:
        parts.append(tool_call_part(None, get(legacy_call, "name"), get(legacy_call, "arguments")))
    return {"role": "assistant", "parts": parts, "finish_reason": finish_reason(reason)}


def chat_tool_definitions(tools: Any) -> list[dict[str, Any]]:
    result = []
    for tool in tools or ():
        kind = get(tool, "type") or "function"
        spec = get(tool, kind) or get(tool, "function") or {}
        entry = {"type": kind, "name": get(spec, "name") or kind}
        if get(spec, "description") is not None:
            entry["description"] = get(spec, "description")
        if get(spec, "parameters") is not None:
            entry["parameters"] = get(spec, "parameters")
        result.append(entry)
    return result


# -- Responses API -----------------------------------------------------------------------------


def _reasoning_text(item: Any) -> str:
    texts = [get(s, "text") for s in get(item, "summary") or ()]
    texts += [get(c, "text") for c in get(item, "content") or ()]
    return "\n".join(t for t in texts if isinstance(t, str))


def _server_tool_part(item: Any, kind: str) -> Part:
    """A built-in tool's call item (``web_search_call``, ``mcp_call``, ...), named like its tool."""
    name = get(item, "name") or kind.removesuffix("_call")
    return {"type": "server_tool_call", "id": get(item, "id"), "name": name, "server_tool_call": {"type": kind}}


def responses_input_messages(value: Any) -> list[Message]:
    if isinstance(value, str):
        return [{"role": "user", "parts": [text_part(value)]}]
    result: list[Message] = []
    for item in value or ():
        kind = get(item, "type") or "message"
        if kind == "message" or (kind is None and get(item, "role")):
            result.append({"role": get(item, "role") or "user", "parts": content_parts(get(item, "content"))})
        elif kind == "function_call":
            part = tool_call_part(get(item, "call_id"), get(item, "name"), get(item, "arguments"))
            result.append({"role": "assistant", "parts": [part]})
        elif kind in ("function_call_output", "custom_tool_call_output"):
            part = tool_response_part(get(item, "call_id"), get(item, "output"))
            result.append({"role": "tool", "parts": [part]})
        elif kind == "reasoning":
            result.append({"role": "assistant", "parts": [{"type": "reasoning", "content": _reasoning_text(item)}]})
        else:
            result.append({"role": "assistant", "parts": [{"type": str(kind)}]})
    return result


def responses_system_instructions(instructions: Any) -> list[Part] | None:
    if isinstance(instructions, str):
        return [text_part(instructions)]
    if isinstance(instructions, (list, tuple)):
        return [part for msg in responses_input_messages(instructions) for part in msg["parts"]]
    return None


def responses_output_parts(output: Any) -> list[Part]:
    parts: list[Part] = []
    for item in output or ():
        kind = get(item, "type")
        if kind == "message":
            parts.extend(content_parts(get(item, "content")))
        elif kind in ("function_call", "custom_tool_call"):
            args = get(item, "arguments") if kind == "function_call" else get(item, "input")
            parts.append(tool_call_part(get(item, "call_id"), get(item, "name"), args))
        elif kind == "reasoning":
            parts.append({"type": "reasoning", "content": _reasoning_text(item)})
        elif isinstance(kind, str):
            parts.append(_server_tool_part(item, kind))
    return parts


def responses_tool_definitions(tools: Any) -> list[dict[str, Any]]:
    result = []
    for tool in tools or ():
        kind = get(tool, "type") or "function"
        entry = {"type": kind, "name": get(tool, "name") or get(tool, "server_label") or kind}
        if get(tool, "description") is not None:
            entry["description"] = get(tool, "description")
        if get(tool, "parameters") is not None:
            entry["parameters"] = get(tool, "parameters")
        result.append(entry)
    return result


# -- Legacy completions ------------------------------------------------------------------------


def completion_input_messages(prompt: Any) -> list[Message]:
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, (list, tuple)):
        return []
    return [{"role": "user", "parts": [text_part(p)]} for p in prompts if isinstance(p, str)]
