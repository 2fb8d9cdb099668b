"""Accumulators that turn OpenAI stream chunks into the same facts a plain response gives.

Per chunk they do a few attribute reads; text is only gathered when content capture is on.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from otel_llm.genai import Invocation
from otel_llm.genai import attributes as A
from otel_llm.instrumentation.openai import messages as M
from otel_llm.instrumentation.openai import response as R


class _Choice:
    """The content of one streamed choice, gathered only when content capture is on."""

    __slots__ = ("content", "refusal", "tool_calls")

    def __init__(self) -> None:
        self.content: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}


class ChatStreamAccumulator:
    """For ``chat.completions`` chunks (and legacy ``completions`` chunks, which carry ``text``)."""

    __slots__ = (
        "_capture",
        "_choices",
        "_fingerprint",
        "_finish",
        "_id",
        "_kind",
        "_model",
        "_service_tier",
        "_usage",
    )

    def __init__(self, capture: bool, kind: str = "chat") -> None:
        self._capture = capture
        self._kind = kind
        self._id: str | None = None
        self._model: str | None = None
        self._usage: Any = None
        self._service_tier: Any = None
        self._fingerprint: Any = None
        self._finish: dict[int, str] = {}  # choice index → finish reason
        self._choices: dict[int, _Choice] = {}  # choice index → content, when captured

    def add(self, chunk: Any) -> None:
        if self._id is None:
            self._id = getattr(chunk, "id", None)
            self._model = getattr(chunk, "model", None)
            self._extras(chunk)
        usage = chunk.usage
        if usage is not None:  # the final chunk with include_usage
            self._usage = usage
            self._extras(chunk)
        for choice in chunk.choices:
            reason = choice.finish_reason
            if reason is not None:
                self._finish[choice.index] = reason
                self._extras(chunk)
            if self._capture:
                self._add_content(choice)

    def _extras(self, chunk: Any) -> None:
        """Tier and fingerprint repeat on every chunk: read them only on the first and the last ones."""
        tier = getattr(chunk, "service_tier", None)
        if tier is not None:
            self._service_tier = tier
        fingerprint = getattr(chunk, "system_fingerprint", None)
        if fingerprint is not None:
            self._fingerprint = fingerprint

    def _add_content(self, choice: Any) -> None:
        state = self._choices.get(choice.index)
        if state is None:
            state = self._choices[choice.index] = _Choice()
        if self._kind == "completions":
            text = getattr(choice, "text", None)
            if text:
                state.content.append(text)
            return
        delta = getattr(choice, "delta", None)
        if delta is None:
            return
        if delta.content:
            state.content.append(delta.content)
        refusal = getattr(delta, "refusal", None)
        if refusal:
            state.refusal.append(refusal)
        for call in getattr(delta, "tool_calls", None) or ():
            entry = state.tool_calls.setdefault(call.index, {"id": None, "name": "", "arguments": []})
            if call.id:
                entry["id"] = call.id
            fn = call.function
            if fn is not None:
                if fn.name:
                    entry["name"] += fn.name
                if fn.arguments:
                    entry["arguments"].append(fn.arguments)

    def apply(self, inv: Invocation) -> None:
        inv.set_identity(self._id, self._model)
        if self._finish:
            inv.attributes[A.RESPONSE_FINISH_REASONS] = [r for _, r in sorted(self._finish.items())]
        R.set_chat_usage(inv, self._usage)
        R.set_openai_extras(inv, self._service_tier, self._fingerprint)
        if self._capture:
            inv.output_messages = [self._message(c, self._finish.get(i)) for i, c in sorted(self._choices.items())]

    def _message(self, choice: _Choice, reason: str | None) -> dict[str, Any]:
        message = {
            "content": "".join(choice.content),
            "refusal": "".join(choice.refusal),
            "tool_calls": [
                {"id": t["id"], "function": {"name": t["name"], "arguments": "".join(t["arguments"])}}
                for _, t in sorted(choice.tool_calls.items())
            ],
        }
        return M.chat_output_message(message, reason)


_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_EARLY_EVENTS = frozenset({"response.created", "response.in_progress"})


class ResponsesStreamAccumulator:
    """For Responses API events: the final event carries the whole response, usage included."""

    __slots__ = ("_error", "_final", "_partial")

    def __init__(self, capture: bool) -> None:
        self._final: Any = None
        self._partial: Any = None
        self._error: Any = None

    def add(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind in _FINAL_EVENTS:
            self._final = event.response
        elif kind in _EARLY_EVENTS:
            self._partial = event.response
        elif kind == "error":
            self._error = event

    def apply(self, inv: Invocation) -> None:
        if self._final is not None:
            R.response(inv, self._final)
        elif self._partial is not None:
            inv.set_identity(getattr(self._partial, "id", None), getattr(self._partial, "model", None))
        if self._error is not None:
            code = getattr(self._error, "code", None)
            inv.set_error(str(code or "stream_error"), getattr(self._error, "message", None))


TAIL_CHUNKS = 8


class ChatTailAccumulator:
    """Content off and one choice: keep only the last chunks, read them when the stream ends.

    Every chunk repeats id, model, tier and fingerprint; the finish reason and the usage come in
    the last ones (Azure adds a filter-result chunk or two after them). So the per-chunk work is
    one C-level ``deque.append``, and ``apply`` runs the full accumulator over the tail.
    """

    __slots__ = ("_kind", "_tail", "add")

    def __init__(self, kind: str = "chat") -> None:
        self._kind = kind
        self._tail: deque[Any] = deque(maxlen=TAIL_CHUNKS)
        self.add = self._tail.append

    def apply(self, inv: Invocation) -> None:
        full = ChatStreamAccumulator(False, self._kind)
        for chunk in self._tail:
            full.add(chunk)
        full.apply(inv)


def accumulator_for(
    kind: str, capture: bool, choices: int | None = None
) -> ChatStreamAccumulator | ChatTailAccumulator | ResponsesStreamAccumulator | None:
    """The accumulator for a stream of ``kind``; ``choices`` is the request's n when not 1."""
    if kind == "chat" or kind == "completions":
        if not capture and choices is None:
            return ChatTailAccumulator(kind)
        return ChatStreamAccumulator(capture, kind)
    if kind == "responses":
        return ResponsesStreamAccumulator(capture)
    return None
