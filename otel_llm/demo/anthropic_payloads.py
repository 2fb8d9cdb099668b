"""Request validation and response bodies of the demo server's Anthropic Messages API routes.

The same idea as payloads.py, for the second wire format the demo server speaks, so the real
anthropic SDK runs end to end too: ``POST /v1/messages`` (a Message, or its named SSE events) and
``POST /v1/messages/count_tokens``. Errors take Anthropic's shape rather than OpenAI's, because
the SDK builds its exceptions from that body. Replies, word-count tokens and tool arguments come
from payloads.py's helpers, so both APIs give the same canned answer to the same prompt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from otel_llm.demo.payloads import (
    JSON,
    STREAM_ARGUMENT_PIECE,
    APIError,
    canned_reply,
    count_tokens,
    new_id,
    tool_arguments,
    tool_result_reply,
    truncate,
    word_pieces,
)

SERVICE_TIER = "standard"
ROLES = ("user", "assistant")
TOOL_CHOICES = ("auto", "any", "tool", "none")
CUSTOM_TOOL_TYPES = (None, "custom")  # tools the client runs; other types (web_search_...) run server-side

# HTTP status → the Messages API's error type (https://docs.anthropic.com/en/api/errors).
ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

INVALID_JSON_MESSAGE = "There was an error parsing the body of your request: it is not valid JSON."


class AnthropicError(APIError):
    """An error in the Messages API's shape; ``param`` is kept for tests, the message names it too."""

    def __init__(self, status: int, message: str, *, param: str | None = None, type: str | None = None) -> None:
        super().__init__(status, message, param=param, type=type or error_type(status))

    def body(self) -> JSON:
        return {"type": "error", "error": {"type": self.type, "message": self.message}}


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def as_anthropic(err: APIError) -> AnthropicError:
    """An error of the shared HTTP plumbing (bad body, 404, 405, 413, 500) retold in Anthropic's shape."""
    if isinstance(err, AnthropicError):
        return err
    return AnthropicError(err.status, err.message, param=err.param)


# ---------------------------------------------------------------------------------------------
# Validation. Messages follow the API's own ("messages.0.role: Field required"), so a demo user
# sees the error the real service would give for the same mistake.


def _required(param: str) -> AnthropicError:
    return AnthropicError(400, f"{param}: Field required", param=param)


def _expected(param: str, what: str) -> AnthropicError:
    return AnthropicError(400, f"{param}: Input should be {what}", param=param)


def _model(body: JSON) -> str:
    model = body.get("model")
    if model is None:
        raise _required("model")
    if not isinstance(model, str):
        raise _expected("model", "a valid string")
    if not model.strip():
        raise AnthropicError(400, "model: String should have at least 1 character", param="model")
    return model


def _integer(body: JSON, param: str, *, minimum: int, required: bool) -> int | None:
    value = body.get(param)
    if value is None:
        if required:
            raise _required(param)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _expected(param, "a valid integer")
    if value < minimum:
        raise _expected(param, f"greater than or equal to {minimum}")
    return value


def _number(body: JSON, param: str, *, maximum: float) -> None:
    value = body.get(param)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _expected(param, "a valid number")
    if not 0 <= value <= maximum:
        raise _expected(param, f"between 0 and {maximum}")


def _stream(body: JSON) -> bool:
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _expected("stream", "a valid boolean")
    return bool(stream)


def _blocks(content: Any, param: str) -> list[JSON]:
    """A content list: each block an object with a string ``type`` (what the builders read)."""
    if not isinstance(content, list):
        raise _expected(param, "a valid string or list")
    for j, block in enumerate(content):
        if not isinstance(block, dict):
            raise _expected(f"{param}.{j}", "a valid dictionary")
        if not isinstance(block.get("type"), str):
            raise _required(f"{param}.{j}.type")
        if block["type"] == "text" and not isinstance(block.get("text"), str):
            raise _required(f"{param}.{j}.text")
    return content


def _messages(body: JSON) -> list[JSON]:
    messages = body.get("messages")
    if messages is None:
        raise _required("messages")
    if not isinstance(messages, list):
        raise _expected("messages", "a valid list")
    if not messages:
        raise AnthropicError(400, "messages: at least one message is required", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _expected(f"messages.{i}", "a valid dictionary")
        if message.get("role") is None:
            raise _required(f"messages.{i}.role")
        if message["role"] not in ROLES:
            raise _expected(f"messages.{i}.role", "'user' or 'assistant'")
        content = message.get("content")
        if content is None:
            raise _required(f"messages.{i}.content")
        if not isinstance(content, str):
            _blocks(content, f"messages.{i}.content")
    return messages


def _system(body: JSON) -> str:
    system = body.get("system")
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    return _text(_blocks(system, "system"))


def _tools(body: JSON) -> list[JSON]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _expected("tools", "a valid list")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise _expected(f"tools.{i}", "a valid dictionary")
        if not isinstance(tool.get("name"), str):
            raise _required(f"tools.{i}.name")
        if tool.get("type") in CUSTOM_TOOL_TYPES and not isinstance(tool.get("input_schema"), dict):
            raise _required(f"tools.{i}.input_schema")
    return tools


def _tool_choice(body: JSON) -> JSON:
    choice = body.get("tool_choice")
    if choice is None:
        return {"type": "auto"}
    if not isinstance(choice, dict):
        raise _expected("tool_choice", "a valid dictionary")
    if choice.get("type") not in TOOL_CHOICES:
        raise _expected("tool_choice.type", "'auto', 'any', 'tool' or 'none'")
    if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
        raise _required("tool_choice.name")
    return choice


def _stop_sequences(body: JSON) -> list[str]:
    value = body.get("stop_sequences")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _expected("stop_sequences", "a valid list of strings")
    return [s for s in value if s]


# ---------------------------------------------------------------------------------------------
# Reading content.


def _text(content: Any) -> str:
    """The words of a content value: text, tool results and tool inputs (what usage counts)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "tool_result":
            texts.append(_text(block.get("content")))
        elif kind == "tool_use":
            texts.append(f"{block.get('name')} {json.dumps(block.get('input'))}")
    return " ".join(t for t in texts if t)


def _prompt(messages: list[JSON]) -> str:
    """The last user message's own text, tool results left out."""
    for message in reversed(messages):
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, str):
                return content
            return " ".join(b["text"] for b in content if b["type"] == "text")
    return ""


def _tool_results(message: JSON) -> list[JSON]:
    content = message["content"]
    if message["role"] != "user" or isinstance(content, str):
        return []
    return [b for b in content if b["type"] == "tool_result"]


def _tool_name(messages: list[JSON], tool_use_id: Any) -> str | None:
    """The name of the tool_use block a tool_result answers."""
    for message in reversed(messages):
        content = message["content"]
        for block in content if isinstance(content, list) else ():
            if block["type"] == "tool_use" and block.get("id") == tool_use_id:
                name = block.get("name")
                return name if isinstance(name, str) else None
    return None


def _cut_at_stop(text: str, stops: list[str]) -> tuple[str, str | None]:
    """``text`` up to the first stop sequence in it, and which one matched."""
    found = [(text.find(s), s) for s in stops if s in text]
    if not found:
        return text, None
    at, stop = min(found)
    return text[:at].rstrip(), stop


# ---------------------------------------------------------------------------------------------
# Messages.


class MessagesRequest:
    """A validated /v1/messages body and the Message (or its stream events) the demo answers with."""

    def __init__(self, body: JSON) -> None:
        self.model = _model(body)
        self.max_tokens = _integer(body, "max_tokens", minimum=1, required=True)
        self.messages = _messages(body)
        self.system = _system(body)
        self.tools = _tools(body)
        self.tool_choice = _tool_choice(body)
        self.stop_sequences = _stop_sequences(body)
        self.stream = _stream(body)
        _number(body, "temperature", maximum=1.0)
        _number(body, "top_p", maximum=1.0)
        _integer(body, "top_k", minimum=0, required=False)
        self.input_tokens = input_tokens(self.system, self.messages, self.tools)
        self.stop_sequence: str | None = None
        self.content, self.stop_reason = self._reply()

    def _chosen_tool(self) -> JSON | None:
        """The client tool to call, when tools are offered and no tool result came back yet."""
        tools = [t for t in self.tools if t.get("type") in CUSTOM_TOOL_TYPES]
        choice = self.tool_choice
        if not tools or choice["type"] == "none" or _tool_results(self.messages[-1]):
            return None
        if choice["type"] == "tool":
            return next((t for t in tools if t["name"] == choice["name"]), tools[0])
        return tools[0]

    def _reply(self) -> tuple[list[JSON], str]:
        tool = self._chosen_tool()
        if tool is not None:
            arguments = json.loads(tool_arguments(tool["input_schema"], _prompt(self.messages)))
            use = {"type": "tool_use", "id": new_id("toolu_01"), "name": tool["name"], "input": arguments}
            if self.tool_choice["type"] != "auto":  # a forced tool call comes without a preamble
                return [use], "tool_use"
            return [_text_block(f"I'll use the {tool['name']} tool."), use], "tool_use"
        results = _tool_results(self.messages[-1])
        if results:
            name = _tool_name(self.messages, results[-1].get("tool_use_id"))
            text = tool_result_reply(name, _text(results[-1].get("content")))
        else:
            text = canned_reply(_prompt(self.messages))
        text, self.stop_sequence = _cut_at_stop(text, self.stop_sequences)
        text, truncated = truncate(text, self.max_tokens)
        if truncated:
            self.stop_sequence = None
            return [_text_block(text)], "max_tokens"
        return [_text_block(text)], "stop_sequence" if self.stop_sequence else "end_turn"

    @property
    def output_tokens(self) -> int:
        return count_tokens(_text(self.content))

    def usage(self, output_tokens: int) -> JSON:
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output_tokens,
            "service_tier": SERVICE_TIER,
        }

    def message(self, message_id: str | None = None) -> JSON:
        """The Message object; the model is echoed as sent, as the API does for a full model name."""
        return {
            "id": message_id or new_id("msg_01"),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.content,
            "stop_reason": self.stop_reason,
            "stop_sequence": self.stop_sequence,
            "usage": self.usage(self.output_tokens),
        }

    def events(self) -> Iterator[JSON]:
        """The stream: message_start, each block's start/deltas/stop (a ping after the first start),
        message_delta with the stop reason and final usage, message_stop."""
        start = {**self.message(), "content": [], "stop_reason": None, "stop_sequence": None}
        start["usage"] = self.usage(1)  # the API reports a token or so at the start; message_delta has the total
        yield {"type": "message_start", "message": start}
        for index, block in enumerate(self.content):
            if block["type"] == "tool_use":
                yield {"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}}
            else:
                yield {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
            if index == 0:
                yield {"type": "ping"}
            for delta in _deltas(block):
                yield {"type": "content_block_delta", "index": index, "delta": delta}
            yield {"type": "content_block_stop", "index": index}
        usage = self.usage(self.output_tokens)
        del usage["cache_creation"], usage["service_tier"]  # message_delta carries only the counts
        yield {
            "type": "message_delta",
            "delta": {"stop_reason": self.stop_reason, "stop_sequence": self.stop_sequence},
            "usage": usage,
        }
        yield {"type": "message_stop"}


def _text_block(text: str) -> JSON:
    return {"type": "text", "text": text}


def _deltas(block: JSON) -> Iterator[JSON]:
    if block["type"] == "tool_use":
        arguments = json.dumps(block["input"])
        yield {"type": "input_json_delta", "partial_json": ""}
        for begin in range(0, len(arguments), STREAM_ARGUMENT_PIECE):
            yield {"type": "input_json_delta", "partial_json": arguments[begin : begin + STREAM_ARGUMENT_PIECE]}
    else:
        for piece in word_pieces(block["text"]):
            yield {"type": "text_delta", "text": piece}


def input_tokens(system: str, messages: list[JSON], tools: list[JSON]) -> int:
    """Words of the system prompt, the messages and the tool definitions: the same for a call and its count."""
    texts = [system, *(_text(m["content"]) for m in messages)]
    texts += [f"{t['name']} {t.get('description') or ''}" for t in tools]
    return sum(count_tokens(t) for t in texts)


def count_message_tokens(body: JSON) -> JSON:
    """``/v1/messages/count_tokens``: the body of a Messages call, ``max_tokens`` not needed."""
    _model(body)
    messages = _messages(body)
    return {"input_tokens": input_tokens(_system(body), messages, _tools(body))}
