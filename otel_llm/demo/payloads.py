"""Request validation and response bodies of the demo server, as plain functions of JSON.

Kept apart from the HTTP plumbing so each endpoint is a function from a request dict to a
response dict (or a list of stream events) that tests can call directly. Replies are canned
and deterministic: derived from the request, never from a model. Tokens are counted as words,
which is enough for usage attributes and token metrics to carry plausible numbers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import struct
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

JSON = dict[str, Any]

SYSTEM_FINGERPRINT = "fp_otel_llm_demo"
SERVICE_TIER = "default"
DEFAULT_DIMENSIONS = 1536
MAX_DIMENSIONS = 8192
MAX_CHOICES = 16
STREAM_ARGUMENT_PIECE = 12  # characters of tool-call arguments per stream chunk

# Like the real API, an alias in the request comes back as a dated snapshot in the response, so the
# demo shows gen_ai.request.model and gen_ai.response.model differing. Other names are echoed.
RESPONSE_MODELS: Mapping[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-3.5-turbo-instruct": "gpt-3.5-turbo-instruct-0914",
}
MODELS = (*RESPONSE_MODELS, "text-embedding-3-small", "text-embedding-3-large")


class APIError(Exception):
    """An error the client caused; becomes an OpenAI-style error body with this HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type

    def body(self) -> JSON:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


# ---------------------------------------------------------------------------------------------
# Validation: every value the builders use is checked here, so bad input is a 400, never a crash.


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}
    names |= {dict: "an object", type(None): "null"}
    return names.get(type(value), "an unsupported value")


def _invalid_type(param: str, expected: str, value: Any) -> APIError:
    return APIError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _missing(param: str) -> APIError:
    return APIError(400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def require_model(body: JSON) -> str:
    model = body.get("model")
    if model is None:
        raise APIError(400, "you must provide a model parameter", param="model", code="missing_required_parameter")
    if not isinstance(model, str) or not model.strip():
        raise _invalid_type("model", "a non-empty string", model)
    return model


def optional_int(body: JSON, param: str, *, minimum: int, maximum: int | None = None) -> int | None:
    value = body.get(param)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid_type(param, "an integer", value)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise APIError(400, f"Invalid '{param}': must be {bound}, got {value}.", param=param, code="invalid_value")
    return value


def stream_flags(body: JSON) -> tuple[bool, bool]:
    """(stream, include_usage); stream_options without stream is rejected, as the real API does."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _invalid_type("stream", "a boolean", stream)
    options = body.get("stream_options")
    if options is None:
        return bool(stream), False
    if not isinstance(options, dict):
        raise _invalid_type("stream_options", "an object", options)
    if not stream:
        raise APIError(
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    return True, options.get("include_usage") is True


def optional_list(body: JSON, param: str) -> list[Any]:
    value = body.get(param)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid_type(param, "an array", value)
    return value


# ---------------------------------------------------------------------------------------------
# Shared helpers.


def count_tokens(text: str) -> int:
    """Naive tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def response_model(model: str) -> str:
    return RESPONSE_MODELS.get(model, model)


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def canned_reply(prompt: str) -> str:
    """The deterministic answer to ``prompt``."""
    text = " ".join(prompt.split())
    if len(text) > 200:
        text = text[:197] + "..."
    if not text:
        return "Hello! This canned answer comes from the otel-llm demo server; no model was called."
    return f"You said: {text} This canned answer comes from the otel-llm demo server; no model was called."


def tool_result_reply(name: str | None, result: str) -> str:
    result = " ".join(result.split())
    if len(result) > 200:
        result = result[:197] + "..."
    tool = f"The {name} tool" if name else "The tool"
    return f"{tool} returned: {result} That is all the otel-llm demo server knows."


def truncate(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut ``text`` to ``max_tokens`` words; the flag says whether it was cut (finish reason length)."""
    words = text.split()
    if max_tokens is None or len(words) <= max_tokens:
        return text, False
    return " ".join(words[:max_tokens]), True


def word_pieces(text: str) -> list[str]:
    """Stream deltas: one word each, keeping the spaces, so the pieces join back to ``text``."""
    words = text.split(" ")
    return [w + " " for w in words[:-1]] + [words[-1]] if text else []


def _argument_value(schema: Any, hint: str) -> Any:
    if not isinstance(schema, dict):
        return hint
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str) and k != "null"), "string")
    if not isinstance(kind, str):
        return hint
    return {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(kind, hint)


def tool_arguments(parameters: Any, prompt: str) -> str:
    """Plausible JSON arguments for a tool: strings get the prompt's last word (``Paris?`` → ``Paris``)."""
    words = prompt.split()
    hint = words[-1].strip(".,;:!?\"'()[]") if words else "demo"
    props = parameters.get("properties") if isinstance(parameters, dict) else None
    if not isinstance(props, dict) or not props:
        return "{}"
    required = parameters.get("required")
    names = [n for n in required if isinstance(n, str) and n in props] if isinstance(required, list) else []
    if not names:
        names = list(props)[:1]
    return json.dumps({name: _argument_value(props[name], hint) for name in names})


def _content_text(content: Any) -> str:
    """Text of a message's content: a string, or a list of text parts (chat or Responses shapes)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict)]
        return " ".join(t for t in texts if isinstance(t, str))
    return ""


# ---------------------------------------------------------------------------------------------
# Chat completions.


class ChatRequest:
    """A validated chat.completions request and the reply the demo gives to it."""

    def __init__(self, body: JSON) -> None:
        self.model = require_model(body)
        messages = body.get("messages")
        if messages is None:
            raise _missing("messages")
        if not isinstance(messages, list):
            raise _invalid_type("messages", "an array", messages)
        if not messages:
            raise APIError(
                400,
                "Invalid 'messages': empty array. Expected an array with minimum length 1.",
                param="messages",
                code="empty_array",
            )
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                raise _invalid_type(f"messages[{i}]", "an object", message)
            if not isinstance(message.get("role"), str):
                raise _missing(f"messages[{i}].role")
        self.stream, self.include_usage = stream_flags(body)
        self.n = optional_int(body, "n", minimum=1, maximum=MAX_CHOICES) or 1
        self.max_tokens = optional_int(body, "max_completion_tokens", minimum=1)
        if self.max_tokens is None:
            self.max_tokens = optional_int(body, "max_tokens", minimum=1)
        self.input_tokens = sum(count_tokens(_content_text(m.get("content"))) for m in messages)
        self.tool_call = self._tool_call(body, messages)
        self.text, self.truncated = truncate(self._reply_text(messages), self.max_tokens)

    def _tool_call(self, body: JSON, messages: list[JSON]) -> JSON | None:
        """The function call to answer with, when tools are offered and no tool result came back yet."""
        tools = [t for t in optional_list(body, "tools") if isinstance(t, dict) and isinstance(t.get("function"), dict)]
        choice = body.get("tool_choice")
        if not tools or choice == "none" or messages[-1].get("role") == "tool":
            return None
        chosen = tools[0]["function"]
        if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
            wanted = choice["function"].get("name")
            chosen = next((t["function"] for t in tools if t["function"].get("name") == wanted), chosen)
        name = chosen.get("name") if isinstance(chosen.get("name"), str) else "tool"
        return {
            "id": new_id("call_"),
            "type": "function",
            "function": {"name": name, "arguments": tool_arguments(chosen.get("parameters"), _last_user(messages))},
        }

    @staticmethod
    def _reply_text(messages: list[JSON]) -> str:
        last = messages[-1]
        if last.get("role") == "tool":
            name = _tool_name_for(messages, last.get("tool_call_id"))
            return tool_result_reply(name, _content_text(last.get("content")))
        return canned_reply(_last_user(messages))

    @property
    def finish_reason(self) -> str:
        if self.tool_call is not None:
            return "tool_calls"
        return "length" if self.truncated else "stop"

    @property
    def output_tokens(self) -> int:
        if self.tool_call is not None:
            return count_tokens(self.tool_call["function"]["name"] + " " + self.tool_call["function"]["arguments"])
        return count_tokens(self.text)

    def usage(self) -> JSON:
        return _chat_usage(self.input_tokens, self.output_tokens * self.n)

    def message(self) -> JSON:
        if self.tool_call is not None:
            return {"role": "assistant", "content": None, "refusal": None, "tool_calls": [self.tool_call]}
        return {"role": "assistant", "content": self.text, "refusal": None}

    def completion(self) -> JSON:
        """The chat.completion object."""
        return {
            "id": new_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": response_model(self.model),
            "choices": [
                {"index": i, "message": self.message(), "logprobs": None, "finish_reason": self.finish_reason}
                for i in range(self.n)
            ],
            "usage": self.usage(),
            "service_tier": SERVICE_TIER,
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }

    def chunks(self) -> Iterator[JSON]:
        """The chat.completion.chunk objects of a streamed reply, usage last when asked for."""
        base = {
            "id": new_id("chatcmpl-"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": response_model(self.model),
            "service_tier": SERVICE_TIER,
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
        if self.include_usage:
            base["usage"] = None

        def chunk(index: int, delta: JSON, finish_reason: str | None = None) -> JSON:
            choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return {**base, "choices": [choice]}

        for i in range(self.n):
            if self.tool_call is not None:
                call, fn = self.tool_call, self.tool_call["function"]
                head = {
                    "index": 0,
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": fn["name"], "arguments": ""},
                }
                yield chunk(i, {"role": "assistant", "content": None, "tool_calls": [head]})
                args = fn["arguments"]
                for start in range(0, len(args), STREAM_ARGUMENT_PIECE):
                    piece = args[start : start + STREAM_ARGUMENT_PIECE]
                    yield chunk(i, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            else:
                yield chunk(i, {"role": "assistant", "content": "", "refusal": None})
                for piece in word_pieces(self.text):
                    yield chunk(i, {"content": piece})
            yield chunk(i, {}, self.finish_reason)
        if self.include_usage:
            yield {**base, "choices": [], "usage": self.usage()}


def _chat_usage(prompt: int, completion: int) -> JSON:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _last_user(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _tool_name_for(messages: list[JSON], call_id: Any) -> str | None:
    """The function name of the assistant tool call a tool message answers."""
    for message in reversed(messages):
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            if isinstance(call, dict) and call.get("id") == call_id and isinstance(call.get("function"), dict):
                name = call["function"].get("name")
                return name if isinstance(name, str) else None
    return None


# ---------------------------------------------------------------------------------------------
# Responses API.


class ResponsesRequest:
    """A validated /v1/responses request and the Response (or its stream events) the demo returns."""

    def __init__(self, body: JSON) -> None:
        self.body = body
        self.model = require_model(body)
        raw = body.get("input")
        if raw is None:
            raise _missing("input")
        if isinstance(raw, str):
            items: list[Any] = [{"role": "user", "content": raw}]
        elif isinstance(raw, list):
            items = raw
        else:
            raise _invalid_type("input", "a string or an array", raw)
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise _invalid_type(f"input[{i}]", "an object", item)
        instructions = body.get("instructions")
        if instructions is not None and not isinstance(instructions, str):
            raise _invalid_type("instructions", "a string", instructions)
        self.instructions = instructions
        self.stream, _ = stream_flags(body)
        self.max_output_tokens = optional_int(body, "max_output_tokens", minimum=16)
        texts = [instructions or ""] + [_item_text(item) for item in items]
        self.input_tokens = sum(count_tokens(t) for t in texts)
        self.tools = [t for t in optional_list(body, "tools") if isinstance(t, dict)]
        self.items = items
        self.text, self.truncated = truncate(self._reply_text(), self.max_output_tokens)
        self.call = self._function_call(body)

    def _reply_text(self) -> str:
        last = self.items[-1] if self.items else {}
        if last.get("type") == "function_call_output":
            name = next(
                (
                    i.get("name")
                    for i in self.items
                    if i.get("type") == "function_call" and i.get("call_id") == last.get("call_id")
                ),
                None,
            )
            output = last.get("output")
            return tool_result_reply(name if isinstance(name, str) else None, _content_text(output))
        user = [i for i in self.items if i.get("role") == "user"]
        return canned_reply(_content_text(user[-1].get("content")) if user else "")

    def _function_call(self, body: JSON) -> JSON | None:
        functions = [t for t in self.tools if t.get("type") == "function" and isinstance(t.get("name"), str)]
        choice = body.get("tool_choice")
        last = self.items[-1] if self.items else {}
        if not functions or choice == "none" or last.get("type") == "function_call_output":
            return None
        chosen = functions[0]
        if isinstance(choice, dict) and choice.get("type") == "function":
            chosen = next((f for f in functions if f["name"] == choice.get("name")), chosen)
        user = [i for i in self.items if i.get("role") == "user"]
        prompt = _content_text(user[-1].get("content")) if user else ""
        return {
            "type": "function_call",
            "id": new_id("fc_"),
            "call_id": new_id("call_"),
            "name": chosen["name"],
            "arguments": tool_arguments(chosen.get("parameters"), prompt),
            "status": "completed",
        }

    def response(self, *, response_id: str | None = None, message_id: str | None = None) -> JSON:
        """The final Response object; ids are passed in when stream events must agree on them."""
        if self.call is not None:
            output: list[JSON] = [self.call]
            output_tokens = count_tokens(self.call["name"] + " " + self.call["arguments"])
        else:
            output = [_message_item(message_id or new_id("msg_"), self.text, "completed")]
            output_tokens = count_tokens(self.text)
        incomplete = self.truncated and self.call is None
        return {
            **self._envelope(response_id or new_id("resp_"), "incomplete" if incomplete else "completed"),
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
            "output": output,
            "usage": {
                "input_tokens": self.input_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": self.input_tokens + output_tokens,
            },
        }

    def _envelope(self, response_id: str, status: str) -> JSON:
        body = self.body
        return {
            "id": response_id,
            "object": "response",
            "created_at": int(time.time()),
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": None,
            "instructions": self.instructions,
            "max_output_tokens": self.max_output_tokens,
            "metadata": body.get("metadata") if isinstance(body.get("metadata"), dict) else {},
            "model": response_model(self.model),
            "output": [],
            "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None},
            "service_tier": SERVICE_TIER,
            "store": body.get("store") is not False,
            "temperature": body.get("temperature") if isinstance(body.get("temperature"), (int, float)) else 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice") or "auto",
            "tools": self.tools,
            "top_p": body.get("top_p") if isinstance(body.get("top_p"), (int, float)) else 1.0,
            "truncation": "disabled",
            "usage": None,
            "user": None,
        }

    def events(self) -> Iterator[JSON]:
        """The streamed events, response.created … response.completed (or .incomplete)."""
        response_id, message_id = new_id("resp_"), new_id("msg_")
        final = self.response(response_id=response_id, message_id=message_id)
        start = self._envelope(response_id, "in_progress")
        seq = iter(range(1_000_000))

        def event(kind: str, **fields: Any) -> JSON:
            return {"type": kind, "sequence_number": next(seq), **fields}

        yield event("response.created", response=start)
        yield event("response.in_progress", response=start)
        if self.call is not None:
            call = self.call
            yield event(
                "response.output_item.added", output_index=0, item={**call, "arguments": "", "status": "in_progress"}
            )
            args = call["arguments"]
            for begin in range(0, len(args), STREAM_ARGUMENT_PIECE):
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=call["id"],
                    output_index=0,
                    delta=args[begin : begin + STREAM_ARGUMENT_PIECE],
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=call["id"],
                output_index=0,
                name=call["name"],
                arguments=args,
            )
            yield event("response.output_item.done", output_index=0, item=call)
        else:
            where = {"item_id": message_id, "output_index": 0, "content_index": 0}
            yield event(
                "response.output_item.added", output_index=0, item=_message_item(message_id, None, "in_progress")
            )
            yield event("response.content_part.added", **where, part=_text_part(""))
            for piece in word_pieces(self.text):
                yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
            yield event("response.output_text.done", **where, text=self.text, logprobs=[])
            yield event("response.content_part.done", **where, part=_text_part(self.text))
            yield event("response.output_item.done", output_index=0, item=final["output"][0])
        done = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        yield event(done, response=final)


def _text_part(text: str) -> JSON:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message_item(item_id: str, text: str | None, status: str) -> JSON:
    content = [] if text is None else [_text_part(text)]
    return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": content}


def _item_text(item: JSON) -> str:
    if item.get("type") == "function_call_output":
        return _content_text(item.get("output"))
    if item.get("type") == "function_call":
        return str(item.get("arguments") or "")
    return _content_text(item.get("content"))


# ---------------------------------------------------------------------------------------------
# Embeddings.


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A unit vector seeded by the text: equal inputs embed equally, across runs and machines."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    # Round-trip through float32 so float and base64 encodings carry the very same numbers.
    packed = struct.pack(f"<{dimensions}f", *(v / norm for v in values))
    return list(struct.unpack(f"<{dimensions}f", packed))


def embeddings(body: JSON) -> JSON:
    model = require_model(body)
    raw = body.get("input")
    if raw is None:
        raise _missing("input")
    texts: list[str]
    token_counts: list[int]
    if isinstance(raw, str):
        texts, token_counts = [raw], [count_tokens(raw)]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        texts, token_counts = raw, [count_tokens(x) for x in raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        texts, token_counts = [json.dumps(raw)], [len(raw)]
    elif (
        isinstance(raw, list)
        and raw
        and all(isinstance(x, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in x) for x in raw)
    ):
        texts, token_counts = [json.dumps(x) for x in raw], [len(x) for x in raw]
    else:
        raise APIError(
            400,
            "'input' must be a string, an array of strings, an array of token ids, or an array of such arrays.",
            param="input",
            code="invalid_value",
        )
    dimensions = optional_int(body, "dimensions", minimum=1, maximum=MAX_DIMENSIONS) or DEFAULT_DIMENSIONS
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise APIError(
            400,
            f"Invalid 'encoding_format': {fmt!r}. Expected 'float' or 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    data = []
    for index, text in enumerate(texts):
        vector = embedding_vector(text, dimensions)
        encoded: Any = vector
        if fmt == "base64":
            encoded = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(token_counts)
    return {
        "object": "list",
        "data": data,
        "model": response_model(model),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# ---------------------------------------------------------------------------------------------
# Legacy completions.


class CompletionRequest:
    """A validated /v1/completions request: one choice per prompt (times ``n``)."""

    def __init__(self, body: JSON) -> None:
        self.model = require_model(body)
        prompt = body.get("prompt")
        if prompt is None:
            raise _missing("prompt")
        if isinstance(prompt, str):
            prompts = [prompt]
        elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
            prompts = prompt
        else:
            raise _invalid_type("prompt", "a string or an array of strings", prompt)
        self.stream, self.include_usage = stream_flags(body)
        self.n = optional_int(body, "n", minimum=1, maximum=MAX_CHOICES) or 1
        max_tokens = optional_int(body, "max_tokens", minimum=1)
        if max_tokens is None:
            max_tokens = 16  # the legacy endpoint's own default, which makes "length" easy to see
        self.input_tokens = sum(count_tokens(p) for p in prompts)
        self.replies = [truncate(canned_reply(p), max_tokens) for p in prompts for _ in range(self.n)]

    def _usage(self) -> JSON:
        output = sum(count_tokens(text) for text, _ in self.replies)
        return {
            "prompt_tokens": self.input_tokens,
            "completion_tokens": output,
            "total_tokens": self.input_tokens + output,
        }

    def completion(self) -> JSON:
        return {
            "id": new_id("cmpl-"),
            "object": "text_completion",
            "created": int(time.time()),
            "model": response_model(self.model),
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [
                {"index": i, "text": text, "logprobs": None, "finish_reason": "length" if cut else "stop"}
                for i, (text, cut) in enumerate(self.replies)
            ],
            "usage": self._usage(),
        }

    def chunks(self) -> Iterator[JSON]:
        base = {
            "id": new_id("cmpl-"),
            "object": "text_completion",
            "created": int(time.time()),
            "model": response_model(self.model),
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
        if self.include_usage:
            base["usage"] = None
        for i, (text, cut) in enumerate(self.replies):
            pieces = word_pieces(text)
            for k, piece in enumerate(pieces):
                reason = ("length" if cut else "stop") if k == len(pieces) - 1 else None
                yield {**base, "choices": [{"index": i, "text": piece, "logprobs": None, "finish_reason": reason}]}
        if self.include_usage:
            yield {**base, "choices": [], "usage": self._usage()}


def models() -> JSON:
    return {"object": "list", "data": [model_object(m) for m in MODELS]}


def model_object(model: str) -> JSON:
    return {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "otel-llm-demo"}
