"""Anthropic messages, content blocks and tools → the GenAI content schemas (only built when capture is on)."""

from __future__ import annotations

from typing import Any

from otel_llm.instrumentation._fields import get
from otel_llm.instrumentation._parts import (
    Message,
    Part,
    blob_part,
    plain,
    reasoning_part,
    text_part,
    tool_call_part,
    tool_response_part,
)
from otel_llm.instrumentation._parts import (
    finish_reason as _finish_reason,
)

# Anthropic stop reasons → the FinishReason enum of the output-message schema.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_call",
    "refusal": "content_filter",
}


def finish_reason(value: Any) -> str:
    return _finish_reason(value, FINISH_REASONS)


def _source_part(source: Any, modality: str) -> Part:
    """An image or document ``source``: inline data, a URL, a Files API id, or inline text."""
    kind = get(source, "type")
    if kind == "base64":
        data = get(source, "data")  # the SDK also takes a Path or file here: its bytes are not ours to read
        return blob_part(modality, data if isinstance(data, str) else "", get(source, "media_type"))
    if kind == "url":
        return {"type": "uri", "modality": modality, "uri": str(get(source, "url"))}
    if kind == "file":
        return {"type": "file", "modality": modality, "file_id": get(source, "file_id")}
    if kind == "text":
        data = get(source, "data")
        return text_part(data if isinstance(data, str) else "")
    return {"type": str(kind or modality)}


def _tool_result_text(content: Any) -> Any:
    """A tool result as the model saw it: the string, the joined text blocks, or the blocks themselves."""
    if content is None or isinstance(content, str):
        return content
    blocks = list(content) if isinstance(content, (list, tuple)) else [content]
    if all(get(b, "type") == "text" for b in blocks):
        return "".join(get(b, "text") or "" for b in blocks)
    return plain(blocks)


def block_part(block: Any) -> Part:
    """One content block of a request message or a response."""
    kind = get(block, "type")
    if kind == "text":
        return text_part(get(block, "text") or "")
    if kind == "thinking":
        return reasoning_part(get(block, "thinking") or "")
    if kind == "tool_use":
        return tool_call_part(get(block, "id"), get(block, "name"), get(block, "input"))
    if kind == "tool_result":
        return tool_response_part(get(block, "tool_use_id"), _tool_result_text(get(block, "content")))
    if kind in ("server_tool_use", "mcp_tool_use"):
        call = {"type": get(block, "name") or kind, "arguments": plain(get(block, "input"))}
        return {
            "type": "server_tool_call",
            "id": get(block, "id"),
            "name": get(block, "name") or kind,
            "server_tool_call": call,
        }
    if isinstance(kind, str) and kind.endswith("_tool_result"):
        response = {"type": kind, "content": plain(get(block, "content"))}
        return {
            "type": "server_tool_call_response",
            "id": get(block, "tool_use_id"),
            "server_tool_call_response": response,
        }
    if kind == "image":
        return _source_part(get(block, "source"), "image")
    if kind == "document":
        return _source_part(get(block, "source"), "document")
    return {"type": str(kind)}


def content_parts(content: Any) -> list[Part]:
    """Parts of a message ``content``: a string, or a list of content blocks.

    Anything else (None, the SDK's ``omit`` / ``NOT_GIVEN`` sentinels left in the body) has no parts.
    """
    if isinstance(content, str):
        return [text_part(content)]
    if not isinstance(content, (list, tuple)):
        return []
    return [text_part(block) if isinstance(block, str) else block_part(block) for block in content]


def input_messages(messages: Any) -> list[Message]:
    if not isinstance(messages, (list, tuple)):
        return []
    return [{"role": get(msg, "role") or "user", "parts": content_parts(get(msg, "content"))} for msg in messages or ()]


def system_instructions(system: Any) -> list[Part] | None:
    if not isinstance(system, (str, list, tuple)):
        return None  # not given (None or the SDK's omit sentinel)
    return content_parts(system)


def tool_definitions(tools: Any) -> list[dict[str, Any]]:
    """Custom tools become ``function`` definitions; server tools (web search, ...) keep their type."""
    result = []
    for tool in tools if isinstance(tools, (list, tuple)) else ():
        kind = get(tool, "type")
        schema = get(tool, "input_schema")
        if kind in (None, "custom") or schema is not None:
            entry: dict[str, Any] = {"type": "function", "name": get(tool, "name") or ""}
            if get(tool, "description") is not None:
                entry["description"] = get(tool, "description")
            if schema is not None:
                entry["parameters"] = schema
        else:
            entry = {"type": str(kind), "name": get(tool, "name") or str(kind)}
        result.append(entry)
    return result


def output_message(content: Any, stop_reason: Any) -> Message:
    return {"role": "assistant", "parts": content_parts(content), "finish_reason": finish_reason(stop_reason)}
