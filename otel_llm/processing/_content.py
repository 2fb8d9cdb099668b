"""Message content: which attributes hold it, and, in the GenAI "parts" shape, dropping it keeping
its structure, media in blob parts, truncation.

Content attributes hold JSON: a list of messages ``{role, parts: [...], name?, finish_reason?}``
or, for system instructions, a list of parts ``{type, ...}``. Dropping keeps everything a reader
needs to see the shape of a conversation (roles, part types, ids, tool names, finish reasons, MIME
types) and replaces every value that carries content by ``[redacted N chars]``, so the result still
validates against the GenAI JSON schemas. Truncation shortens the same content values, longest first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from otel_llm.genai import attributes as A
from otel_llm.genai.invocation import to_json
from otel_llm.processing._media import blob_placeholder, is_placeholder

# GenAI content attributes (JSON in the "parts" shape). gen_ai.tool.definitions is not content: it stays.
CONTENT_ATTRIBUTES: tuple[str, ...] = (A.INPUT_MESSAGES, A.OUTPUT_MESSAGES, A.SYSTEM_INSTRUCTIONS)
# Content written by other instrumentations (legacy GenAI, OpenLLMetry, OpenInference, Traceloop), and
# the GenAI conventions' tool execution spans (execute_tool: the arguments and result of one call).
OTHER_CONTENT_ATTRIBUTES: tuple[str, ...] = (
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.prompt",
    "gen_ai.completion",
    "input.value",
    "output.value",
    "llm.prompts",
    "llm.prompt_template.variables",
    "traceloop.entity.input",
    "traceloop.entity.output",
)
OTHER_CONTENT_PREFIXES: tuple[str, ...] = (
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "llm.prompts.",
    "llm.completions.",
    "llm.input_messages.",
    "llm.output_messages.",
    "retrieval.documents.",
    "reranker.input_documents.",
    "reranker.output_documents.",
    "embedding.embeddings.",
)
# Under those prefixes, keys ending in these segments are structure (gen_ai.prompt.0.role) and stay.
STRUCTURE_SEGMENTS = frozenset({"role", "finish_reason", "type", "name", "id", "tool_call_id", "mime_type"})


def is_content_attribute(key: str) -> bool:
    """True for attributes that carry message content, in any instrumentation's naming."""
    if key in CONTENT_ATTRIBUTES or key in OTHER_CONTENT_ATTRIBUTES:
        return True
    return key.startswith(OTHER_CONTENT_PREFIXES) and key.rpartition(".")[2] not in STRUCTURE_SEGMENTS


# Keys of a part / a message whose (scalar) values are structure, not content.
PART_KEEP = frozenset({"type", "id", "name", "mime_type", "modality", "file_id"})
MESSAGE_KEEP = frozenset({"role", "name", "finish_reason"})
# Server tool parts: a nested object whose own "type" is structure (the schema requires it).
TYPED = frozenset({"server_tool_call", "server_tool_call_response"})
SUFFIX = "…[truncated {} chars]"
_SCALAR = (str, int, float, bool)

Slot = tuple[Any, Any]  # (container, key or index) of one string inside parsed JSON


def redacted(value: Any) -> str:
    """``[redacted N chars]``: N is the length of the string, or of the JSON of anything else.
    A string that is exactly one placeholder (``_media.PLACEHOLDER``: ``[redacted N chars]``,
    ``[media ...]``, ``[REDACTED:<kind>]``, ...) stays as it is, so a span redacted twice (SDK, then
    collector) keeps its sizes; anything more than a placeholder (``"[redacted 5 chars] my text"``,
    ``"[media ] my text"``) is content and is measured."""
    if isinstance(value, str) and is_placeholder(value):
        return value
    n = len(value) if isinstance(value, str) else len(to_json(value))
    return f"[redacted {n} chars]"


def _is_message(item: dict[str, Any]) -> bool:
    return "parts" in item or "role" in item


def drop(text: str) -> str:
    """A content attribute value with every content-bearing value replaced; unparseable → one placeholder."""
    try:
        value = json.loads(text)
    except ValueError:
        return redacted(text)
    if not isinstance(value, list):
        return redacted(text)
    return to_json([_drop_item(item) for item in value])


def _drop_item(item: Any) -> Any:
    if not isinstance(item, dict):
        return None if item is None else redacted(item)
    if not _is_message(item):
        return _drop_part(item)
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key == "parts" and isinstance(value, list):
            out[key] = [_drop_part(p) for p in value]
        elif value is None or (key in MESSAGE_KEEP and isinstance(value, _SCALAR)):
            out[key] = value
        else:
            out[key] = redacted(value)
    return out


def _drop_part(part: Any) -> Any:
    if not isinstance(part, dict):
        return None if part is None else redacted(part)
    out: dict[str, Any] = {}
    for key, value in part.items():
        if value is None or (key in PART_KEEP and isinstance(value, _SCALAR)):
            out[key] = value
        elif key in TYPED and isinstance(value, dict):
            out[key] = {
                k: v if v is None or (k == "type" and isinstance(v, _SCALAR)) else redacted(v) for k, v in value.items()
            }
        else:
            out[key] = redacted(value)
    return out


def scrub_strings(value: Any, scrub: Callable[[str], str]) -> bool:
    """Apply ``scrub`` to every string in parsed JSON (dict keys included), in place; True if any changed."""
    if isinstance(value, list):
        slots: Any = enumerate(value)
    elif isinstance(value, dict):
        slots = value.items()
    else:
        return False
    changed = False
    for k, v in slots:  # replacing the value of a slot in place: the container keeps its size
        if isinstance(v, str):
            new = scrub(v)
            if new is not v:
                value[k] = new
                changed = True
        elif isinstance(v, (list, dict)):
            changed = scrub_strings(v, scrub) or changed
    if isinstance(value, dict) and any(scrub(k) is not k for k in value):
        items = [(scrub(k), v) for k, v in value.items()]
        value.clear()
        value.update(items)
        changed = True
    return changed


def _parts(value: list[Any]) -> list[dict[str, Any]]:
    """The parts of a messages or system-instructions list."""
    parts: list[dict[str, Any]] = []
    for item in value:
        if isinstance(item, dict):
            if _is_message(item):
                parts.extend(p for p in item.get("parts") or () if isinstance(p, dict))
            else:
                parts.append(item)
    return parts


def replace_blobs(value: Any) -> bool:
    """Blob parts' base64 ``content`` → media placeholder, in place; True if any changed."""
    changed = False
    if isinstance(value, list):
        for part in _parts(value):
            content = part.get("content")
            if part.get("type") == "blob" and isinstance(content, str):
                mime = part.get("mime_type")
                new = blob_placeholder(content, mime if isinstance(mime, str) else None)
                if new != content:
                    part["content"] = new
                    changed = True
    return changed


def _strings(container: Any, key: Any, out: list[Slot]) -> None:
    value = container[key]
    if isinstance(value, str):
        out.append((container, key))
    elif isinstance(value, list):
        for i in range(len(value)):
            _strings(value, i, out)
    elif isinstance(value, dict):
        for k in value:
            _strings(value, k, out)


def content_slots(value: Any, genai: bool) -> list[Slot]:
    """Where the content-bearing strings are: in GenAI messages, the values ``drop`` would replace;
    in any other JSON, every string."""
    slots: list[Slot] = []
    if not genai or not isinstance(value, list):
        _strings([value], 0, slots)
        return slots
    for item in value:
        if isinstance(item, dict) and _is_message(item):
            for key in item:
                if key not in MESSAGE_KEEP and key != "parts":
                    _strings(item, key, slots)
    for part in _parts(value):
        for key, v in part.items():
            if key in TYPED and isinstance(v, dict):
                for k in v:
                    if k != "type":
                        _strings(v, k, slots)
            elif key not in PART_KEEP:
                _strings(part, key, slots)
    return slots


_SUFFIX_LEN = len(SUFFIX.format(""))


def _suffix(removed: int) -> str:
    return SUFFIX.format(removed)


def cut(text: str, limit: int) -> str:
    """A plain string shortened to ``limit`` characters, suffix included."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(_suffix(len(text))))
    return text[:keep] + _suffix(len(text) - keep)


def _cut_at(text: str, cap: int) -> str:
    """``text`` keeping ``cap`` characters, when that makes it shorter."""
    n = len(text)
    if n <= cap:
        return text
    new = text[:cap] + _suffix(n - cap)
    return new if len(new) < n else text


def truncate(value: Any, slots: list[Slot], limit: int, text: str | None = None) -> str:
    """The JSON of ``value`` within ``limit`` characters: the longest strings in ``slots`` are cut to a
    common length (the largest that fits), so short values stay whole. The structure is never cut:
    when it alone is longer than ``limit``, every slot is cut to its suffix and the result is longer."""
    text = to_json(value) if text is None else text  # the caller's to_json(value), when it has it
    if len(text) <= limit or not slots:
        return text
    # Placeholders (a blob's media placeholder, a value already cut to its suffix) are never cut
    # (again): truncating twice changes nothing more.
    slots = [(c, k) for c, k in slots if not is_placeholder(c[k])]
    if not slots:
        return text
    originals = [c[k] for c, k in slots]
    encoded = [len(to_json(s)) for s in originals]
    plain = [e == len(s) + 2 for s, e in zip(originals, encoded, strict=True)]  # no escapes: JSON length is len + 2
    base = len(text)

    def size(cap: int) -> int:
        total = base
        for s, e, p in zip(originals, encoded, plain, strict=True):
            n = len(s)
            if n <= cap:
                continue
            if p:  # no escapes: the new length is known without building the string
                new_len = cap + _SUFFIX_LEN + len(str(n - cap))
                if new_len < n:
                    total += new_len - n
            else:
                new = _cut_at(s, cap)
                if new is not s:
                    total += len(to_json(new)) - e
        return total

    lo, hi = 0, max(len(s) for s in originals)
    if size(0) <= limit:
        while hi - lo > 1:  # size(lo) fits, size(hi) does not
            mid = (lo + hi) // 2
            if size(mid) <= limit:
                lo = mid
            else:
                hi = mid
    for (container, key), s in zip(slots, originals, strict=True):
        container[key] = _cut_at(s, lo)
    return to_json(value)
