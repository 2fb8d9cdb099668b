"""Builders for the parts of the GenAI content schemas (../shared/reference/genai-schemas).

A message is ``{role, parts, ...}``; parts are ``text``, ``tool_call``, ``tool_call_response``,
``reasoning``, ``blob``, ``uri``, ``file``, ``server_tool_call``, ``server_tool_call_response``
or a generic ``{type: ...}``. Provider modules build messages from these so that the shapes live
in one place.
"""

from __future__ import annotations

from typing import Any

from otel_llm.instrumentation._fields import json_or_text

Part = dict[str, Any]
Message = dict[str, Any]


def finish_reason(value: Any, table: dict[str, str]) -> str:
    """The output-message schema's value for a provider's finish reason, by the provider's ``table``;
    a message that never finished counts as ``error``."""
    if value is None:
        return "error"
    return table.get(value, value)


def text_part(text: str) -> Part:
    return {"type": "text", "content": text}


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> Part:
    return {"type": "tool_call", "id": call_id, "name": name or "", "arguments": json_or_text(arguments)}


def tool_response_part(call_id: Any, response: Any) -> Part:
    return {"type": "tool_call_response", "id": call_id, "response": response}


def reasoning_part(text: str) -> Part:
    return {"type": "reasoning", "content": text}


def blob_part(modality: str, content: str, mime_type: str | None = None) -> Part:
    part: Part = {"type": "blob", "modality": modality, "content": content}
    if mime_type:
        part["mime_type"] = mime_type
    return part


def plain(value: Any) -> Any:
    """A JSON-ready copy of an SDK object (pydantic model, list of them) for a part's free-form field."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
