"""The accumulator that turns Anthropic stream events into the same facts a plain Message gives.

``message_start`` carries id, model and the input side of usage; ``message_delta`` the stop reason
and the final output count. The many ``content_block_delta`` events are only read when content
capture is on; otherwise each costs one attribute read and a comparison.
"""

from __future__ import annotations

from typing import Any

from otel_llm.genai import Invocation
from otel_llm.instrumentation._fields import get, json_or_text
from otel_llm.instrumentation._parts import plain
from otel_llm.instrumentation.anthropic import messages as M
from otel_llm.instrumentation.anthropic import response as R

_USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation",
    "service_tier",
    "output_tokens_details",
)
# Delta type → (block field it extends, delta field holding the text).
_DELTAS = {
    "text_delta": ("text", "text"),
    "thinking_delta": ("thinking", "thinking"),
    "input_json_delta": ("_json", "partial_json"),
}


class MessageStreamAccumulator:
    """For ``messages.create(stream=True)``, ``messages.stream(...)`` and their beta twins."""

    __slots__ = ("_blocks", "_capture", "_message", "_stop_reason", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._message: Any = None
        self._stop_reason: Any = None
        self._usage: dict[str, Any] = {}
        self._blocks: dict[int, dict[str, Any]] = {}  # index → block as it grows, when captured

    def add(self, event: Any) -> None:
        kind = event.type
        if kind == "content_block_delta":
            if self._capture:
                self._delta(event)
        elif kind == "message_start":
            self._message = event.message
            self._merge_usage(get(event.message, "usage"))
        elif kind == "message_delta":
            reason = get(get(event, "delta"), "stop_reason")
            if reason is not None:
                self._stop_reason = reason
            self._merge_usage(get(event, "usage"))
        elif kind == "content_block_start" and self._capture:
            block = plain(event.content_block)
            if isinstance(block, dict):
                self._blocks[event.index] = block

    def _merge_usage(self, usage: Any) -> None:
        """``message_delta`` usage is cumulative and may repeat input counts: later values win."""
        if usage is None:
            return
        for key in _USAGE_KEYS:
            value = get(usage, key)
            if value is not None:
                self._usage[key] = value

    def _delta(self, event: Any) -> None:
        block = self._blocks.get(event.index)
        delta = event.delta
        spec = _DELTAS.get(get(delta, "type"))
        if block is None or spec is None:
            return
        field, source = spec
        text = get(delta, source)
        if text:  # pieces are joined once at the end: appending to a string would be quadratic
            pieces = block.get(field)
            if isinstance(pieces, list):
                pieces.append(text)
            else:
                block[field] = [pieces, text] if pieces else [text]

    def apply(self, inv: Invocation) -> None:
        message = self._message
        if message is not None:
            inv.set_identity(get(message, "id"), get(message, "model"))
        R.set_stop_reason(inv, self._stop_reason)
        if self._usage:
            R.set_usage(inv, self._usage)
        if self._capture:
            inv.output_messages = [M.output_message(self._content(), self._stop_reason)]

    def _content(self) -> list[dict[str, Any]]:
        blocks = []
        for _, block in sorted(self._blocks.items()):
            for field in ("text", "thinking"):
                if isinstance(block.get(field), list):
                    block[field] = "".join(block[field])
            partial = block.pop("_json", None)
            if partial:
                block["input"] = json_or_text("".join(partial))
            blocks.append(block)
        return blocks
