"""`otel-llm demo` end to end, and the demo server it runs on.

The demo is run as a subprocess, as a user runs it, so the console script, argument parsing,
real openai (and, when installed, anthropic) SDK calls and printing are all exercised. The server
tests drive it with raw HTTP (to send what no SDK would) and with the real SDKs (to prove its
payloads parse).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

import otel_llm
from otel_llm.demo.payloads import RESPONSE_MODELS
from otel_llm.demo.server import DemoServer

try:
    import anthropic
except ImportError:  # the demo runs without it; the Anthropic tests are skipped
    anthropic = None

REPO = Path(__file__).resolve().parent.parent
CHAT_SPAN = "chat gpt-4o-mini"
EMBEDDINGS_SPAN = "embeddings text-embedding-3-small"
CLAUDE_SPAN = "chat claude-haiku-4-5"
COUNT_TOKENS_SPAN = "count_tokens claude-haiku-4-5"
PROMPT = "What is OpenTelemetry?"  # the demo's first user message (otel_llm/demo/app.py)
CLAUDE_PROMPT = "What is a span in OpenTelemetry?"  # its first Anthropic one
OPENAI_SCOPE = "otel_llm.instrumentation.openai"
ANTHROPIC_SCOPE = "otel_llm.instrumentation.anthropic"

# chat, streamed chat, two tool-calling turns, Responses API; then embeddings
OPENAI_SPANS = [CHAT_SPAN] * 5 + [EMBEDDINGS_SPAN]
# messages.create, messages.stream, count_tokens
ANTHROPIC_SPANS = [CLAUDE_SPAN] * 2 + [COUNT_TOKENS_SPAN]
DEMO_SPANS = OPENAI_SPANS + (ANTHROPIC_SPANS if anthropic is not None else [])
DEMO_STEPS = 5 + (3 if anthropic is not None else 0)

requires_anthropic = pytest.mark.skipif(anthropic is None, reason="the anthropic SDK is not installed")


def clean_env() -> dict[str, str]:
    """The caller's environment without OTEL_* / OPENAI_* / ANTHROPIC_* settings that would change the output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_", "ANTHROPIC_"))}
    for key in ("NO_PROXY", "no_proxy"):
        env[key] = ",".join(filter(None, [env.get(key), "127.0.0.1", "localhost"]))
    return env


def run_demo(*args: str, python: tuple[str, ...] = ("-m", "otel_llm.cli")) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python, "demo", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=clean_env(),
        cwd=REPO,
    )


def parse_spans(text: str) -> list[tuple[str, dict[str, str]]]:
    """(name, attributes) of each span block the readable printer wrote."""
    spans: list[tuple[str, dict[str, str]]] = []
    attrs: dict[str, str] | None = None
    for line in text.splitlines():
        if line.startswith("span: "):
            attrs = {}
            spans.append((line[len("span: ") :], attrs))
        elif attrs is not None and line.startswith("    ") and not line.startswith("     "):
            key, _, value = line.strip().partition(": ")
            attrs[key] = value
        elif not line.startswith(" "):
            attrs = None
    return spans


def parse_scopes(text: str) -> list[str]:
    """The instrumentation scope name of each span block, in the order of parse_spans."""
    return [line.split()[1] for line in text.splitlines() if line.startswith("  scope: ")]


def metric_points(text: str, metric: str) -> list[tuple[int, str]]:
    """(count, attributes line) of each data point of one histogram the readable printer wrote."""
    points: list[tuple[int, str]] = []
    lines = text.split("\nmetrics:\n", 1)[1].splitlines()
    inside = False
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if line.startswith("  ") and not line.startswith("   "):
            inside = line.startswith(f"  {metric} ")
        elif inside and line.startswith("    - count: "):
            points.append((int(line.split()[2]), following.strip()))
    return points


@pytest.fixture(scope="module")
def demo_plain() -> subprocess.CompletedProcess[str]:
    return run_demo()


@pytest.fixture(scope="module")
def demo_content() -> subprocess.CompletedProcess[str]:
    return run_demo("--capture-content")


# --- otel-llm demo ----------------------------------------------------------------------------


def test_demo_prints_conforming_spans(demo_plain: subprocess.CompletedProcess[str]) -> None:
    assert demo_plain.returncode == 0, demo_plain.stderr
    spans = parse_spans(demo_plain.stdout)
    names = [name for name, _ in spans]
    assert names == DEMO_SPANS, names
    openai_spans = spans[: len(OPENAI_SPANS)]
    assert parse_scopes(demo_plain.stdout)[: len(OPENAI_SPANS)] == [OPENAI_SCOPE] * len(OPENAI_SPANS)
    for name, attrs in openai_spans:
        assert attrs["gen_ai.provider.name"] == "openai_compatible", name
        assert attrs["server.address"] == "127.0.0.1"
        assert int(attrs["gen_ai.usage.input_tokens"]) > 0
    chat, stream, tool_call, tool_answer, responses, embeddings = (attrs for _, attrs in openai_spans)
    assert chat["gen_ai.operation.name"] == "chat"
    assert chat["gen_ai.request.model"] == "gpt-4o-mini"
    assert chat["gen_ai.response.model"] == RESPONSE_MODELS["gpt-4o-mini"]
    assert chat["gen_ai.request.temperature"] == "0.2"
    assert int(chat["gen_ai.usage.output_tokens"]) > 0
    assert stream["gen_ai.request.stream"] == "true"
    assert int(stream["gen_ai.usage.output_tokens"]) > 0  # from the include_usage chunk
    assert float(stream["gen_ai.response.time_to_first_chunk"]) > 0
    assert tool_call["gen_ai.response.finish_reasons"] == '["tool_calls"]'
    assert tool_answer["gen_ai.response.finish_reasons"] == '["stop"]'
    assert responses["openai.api.type"] == "responses"
    assert responses["gen_ai.response.id"].startswith("resp_")
    assert embeddings["gen_ai.operation.name"] == "embeddings"
    assert embeddings["gen_ai.embeddings.dimension.count"] == "1536"
    assert embeddings["gen_ai.request.encoding_formats"] == '["base64"]'  # the SDK's default
    assert "  kind: CLIENT" in demo_plain.stdout


def test_demo_prints_metrics(demo_plain: subprocess.CompletedProcess[str]) -> None:
    metrics = demo_plain.stdout.split("\nmetrics:\n", 1)[1]
    assert "gen_ai.client.operation.duration [s] histogram" in metrics
    assert "gen_ai.client.token.usage [{token}] histogram" in metrics
    assert "gen_ai.client.operation.time_to_first_chunk [s] histogram" in metrics
    assert "gen_ai.token.type=input" in metrics and "gen_ai.token.type=output" in metrics
    assert "- count: 5  sum: " in metrics  # five chat calls share one duration data point


@requires_anthropic
def test_demo_prints_anthropic_spans(demo_plain: subprocess.CompletedProcess[str]) -> None:
    assert demo_plain.returncode == 0, demo_plain.stderr
    first_line = demo_plain.stdout.splitlines()[0]
    assert f"openai {openai.__version__} and anthropic {anthropic.__version__} SDKs" in first_line
    assert f"==> [{DEMO_STEPS}/{DEMO_STEPS}] Anthropic token count" in demo_plain.stdout
    spans = parse_spans(demo_plain.stdout)
    scopes = parse_scopes(demo_plain.stdout)
    # exactly the three calls, each with one span from otel-llm (the SDK's own span is replaced)
    assert scopes.count(ANTHROPIC_SCOPE) == len(ANTHROPIC_SPANS)
    assert scopes[len(OPENAI_SPANS) :] == [ANTHROPIC_SCOPE] * len(ANTHROPIC_SPANS)
    anthropic_spans = spans[len(OPENAI_SPANS) :]
    assert [name for name, _ in anthropic_spans] == ANTHROPIC_SPANS
    for name, attrs in anthropic_spans:
        assert attrs["gen_ai.provider.name"] == "anthropic", name
        assert attrs["gen_ai.request.model"] == "claude-haiku-4-5"
        assert attrs["server.address"] == "127.0.0.1"
    message, stream, count = (attrs for _, attrs in anthropic_spans)
    assert message["gen_ai.operation.name"] == "chat"
    assert message["gen_ai.response.id"].startswith("msg_")
    assert message["gen_ai.response.model"] == "claude-haiku-4-5"
    assert message["gen_ai.response.finish_reasons"] == '["end_turn"]'
    assert message["gen_ai.request.max_tokens"] == "200"
    assert message["gen_ai.request.stop_sequences"] == '["###"]'
    assert message["anthropic.request.id"].startswith("req_")  # the server's request-id header
    assert message["anthropic.response.service_tier"] == "standard"
    assert message["gen_ai.usage.cache_read.input_tokens"] == "0"
    assert int(message["gen_ai.usage.input_tokens"]) > 0 and int(message["gen_ai.usage.output_tokens"]) > 0
    assert "gen_ai.request.stream" not in message
    assert stream["gen_ai.request.stream"] == "true"
    assert stream["gen_ai.response.finish_reasons"] == '["end_turn"]'
    assert float(stream["gen_ai.response.time_to_first_chunk"]) > 0
    assert int(stream["gen_ai.usage.output_tokens"]) > 1  # message_delta's total, not message_start's 1
    assert count["gen_ai.operation.name"] == "count_tokens"
    # counting the same system prompt and message gives the input tokens the call reported
    assert count["anthropic.message.count_tokens.input_tokens"] == message["gen_ai.usage.input_tokens"]
    assert not any(key.startswith("gen_ai.usage.") for key in count)


@requires_anthropic
def test_demo_prints_anthropic_metrics(demo_plain: subprocess.CompletedProcess[str]) -> None:
    durations = metric_points(demo_plain.stdout, "gen_ai.client.operation.duration")
    operations = [
        (n, attrs.split(",", 1)[0].lstrip("{")) for n, attrs in durations if "gen_ai.provider.name=anthropic" in attrs
    ]
    assert operations == [(2, "gen_ai.operation.name=chat"), (1, "gen_ai.operation.name=count_tokens")], durations
    usage = metric_points(demo_plain.stdout, "gen_ai.client.token.usage")
    anthropic_usage = [(n, attrs) for n, attrs in usage if "gen_ai.provider.name=anthropic" in attrs]
    assert sorted(n for n, _ in anthropic_usage) == [2, 2]  # input and output of the two messages
    assert not any("count_tokens" in attrs for _, attrs in usage)  # counting consumes no tokens


def test_demo_runs_without_anthropic() -> None:
    """With the anthropic SDK absent (the openai extra only) the demo shows the openai calls, as before."""
    block = "import sys; sys.modules['anthropic'] = None; from otel_llm.cli import main; sys.exit(main())"
    result = run_demo(python=("-c", block))
    assert result.returncode == 0, result.stderr
    assert "anthropic not installed: its calls are skipped" in result.stdout.splitlines()[0]
    assert [name for name, _ in parse_spans(result.stdout)] == OPENAI_SPANS
    assert "==> [5/5] embeddings" in result.stdout and "Anthropic" not in result.stdout
    assert "gen_ai.provider.name=anthropic" not in result.stdout


def test_demo_captures_no_content_by_default(demo_plain: subprocess.CompletedProcess[str]) -> None:
    out = demo_plain.stdout
    for attribute in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.definitions"):
        assert f"{attribute}:" not in out
    assert PROMPT not in out
    assert "canned answer" not in out  # the server's replies
    assert "--capture-content" in out  # the hint how to see content


def test_demo_captures_content_when_asked(demo_content: subprocess.CompletedProcess[str]) -> None:
    assert demo_content.returncode == 0, demo_content.stderr
    spans = parse_spans(demo_content.stdout)
    chat = spans[0][1]
    messages = json.loads(chat["gen_ai.input.messages"])
    assert messages[-1] == {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}
    output = json.loads(chat["gen_ai.output.messages"])
    assert output[0]["role"] == "assistant" and PROMPT in output[0]["parts"][0]["content"]
    tool_call = spans[2][1]
    assert json.loads(tool_call["gen_ai.tool.definitions"])[0]["name"] == "get_weather"
    part = json.loads(tool_call["gen_ai.output.messages"])[0]["parts"][0]
    assert part["type"] == "tool_call" and part["arguments"] == {"location": "Paris"}
    assert "gen_ai.input.messages" not in spans[len(OPENAI_SPANS) - 1][1]  # embeddings input is not a message


@requires_anthropic
def test_demo_captures_anthropic_content_when_asked(demo_content: subprocess.CompletedProcess[str]) -> None:
    spans = parse_spans(demo_content.stdout)
    message, stream, count = (attrs for _, attrs in spans[len(OPENAI_SPANS) :])
    system = [{"type": "text", "content": "You are a concise assistant."}]
    assert json.loads(message["gen_ai.system_instructions"]) == system
    user = {"role": "user", "parts": [{"type": "text", "content": CLAUDE_PROMPT}]}
    assert json.loads(message["gen_ai.input.messages"]) == [user]
    output = json.loads(message["gen_ai.output.messages"])
    assert output[0]["role"] == "assistant" and output[0]["finish_reason"] == "stop"
    assert CLAUDE_PROMPT in output[0]["parts"][0]["content"]
    streamed = json.loads(stream["gen_ai.output.messages"])[0]["parts"][0]["content"]
    assert "Write a haiku about metrics." in streamed  # the text deltas, joined back
    assert json.loads(count["gen_ai.system_instructions"]) == system
    assert "gen_ai.output.messages" not in count


def test_demo_json_is_otlp_lines() -> None:
    result = run_demo("--json")
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    *span_docs, metrics_doc = docs
    spans = [d["resourceSpans"][0]["scopeSpans"][0]["spans"][0] for d in span_docs]
    assert [s["name"] for s in spans] == DEMO_SPANS
    first = spans[0]
    assert first["kind"] == 3  # SPAN_KIND_CLIENT
    assert len(first["traceId"]) == 32 and len(first["spanId"]) == 16
    attrs = {a["key"]: a["value"] for a in first["attributes"]}
    assert attrs["gen_ai.operation.name"] == {"stringValue": "chat"}
    assert int(attrs["gen_ai.usage.input_tokens"]["intValue"]) > 0
    scope = span_docs[0]["resourceSpans"][0]["scopeSpans"][0]["scope"]
    assert scope["name"] == OPENAI_SCOPE
    scopes = [d["resourceSpans"][0]["scopeSpans"][0]["scope"]["name"] for d in span_docs]
    assert scopes[len(OPENAI_SPANS) :] == [ANTHROPIC_SCOPE] * (len(DEMO_SPANS) - len(OPENAI_SPANS))
    names = {m["name"] for sm in metrics_doc["resourceMetrics"][0]["scopeMetrics"] for m in sm["metrics"]}
    assert {"gen_ai.client.operation.duration", "gen_ai.client.token.usage"} <= names
    assert f"==> [1/{DEMO_STEPS}]" in result.stderr  # the step headers stay out of the JSON


def test_version_and_usage() -> None:
    script = Path(sys.executable).parent / "otel-llm"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "otel_llm.cli"]
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"otel-llm {otel_llm.__version__}"
    bare = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert bare.returncode == 2 and "demo" in bare.stderr


# --- the demo server: bad input -------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer() as s:
        yield s


def request(
    server: DemoServer, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """One raw HTTP request; returns status, the decoded JSON body and the headers."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read()), dict(resp.getheaders())
    finally:
        conn.close()


def chat_body(**extra: Any) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **extra}).encode()


def assert_error(payload: dict[str, Any], param: str | None = None) -> None:
    error = payload["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert isinstance(error["message"], str) and error["message"]
    assert error["param"] == param


def assert_still_serving(server: DemoServer) -> None:
    status, payload, _ = request(server, "POST", "/v1/chat/completions", chat_body())
    assert status == 200 and payload["object"] == "chat.completion"


def test_invalid_json_is_400(server: DemoServer) -> None:
    status, payload, _ = request(server, "POST", "/v1/chat/completions", b'{"model": "gpt-4o-mini", ')
    assert status == 400
    assert_error(payload)
    assert "JSON" in payload["error"]["message"]
    assert_still_serving(server)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"", None),
        (b"\xff\xfe not utf-8", None),
        (b"[1, 2]", None),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "model"),
        (b'{"model": "gpt-4o-mini"}', "messages"),
        (b'{"model": "gpt-4o-mini", "messages": "hi"}', "messages"),
        (b'{"model": "gpt-4o-mini", "messages": []}', "messages"),
        (b'{"model": "gpt-4o-mini", "messages": [{"role": "user"}], "n": "two"}', "n"),
        (b'{"model": "gpt-4o-mini", "messages": [{"role": "user"}], "stream_options": {}}', "stream_options"),
    ],
)
def test_bad_chat_requests_are_400(server: DemoServer, body: bytes, param: str | None) -> None:
    status, payload, _ = request(server, "POST", "/v1/chat/completions", body)
    assert status == 400
    assert_error(payload, param)


def test_unknown_path_is_404(server: DemoServer) -> None:
    status, payload, _ = request(server, "POST", "/v1/no/such/endpoint", chat_body())
    assert status == 404
    assert_error(payload)
    assert payload["error"]["message"] == "Invalid URL (POST /v1/no/such/endpoint)"
    status, payload, _ = request(server, "GET", "/")
    assert status == 404
    assert_still_serving(server)


def test_wrong_method_is_405(server: DemoServer) -> None:
    status, payload, headers = request(server, "GET", "/v1/chat/completions")
    assert status == 405 and headers["Allow"] == "POST"
    assert_error(payload)


def test_oversized_body_is_413(server: DemoServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n")
        reply = sock.makefile("rb").read()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert_error(json.loads(body))
    assert_still_serving(server)


def test_malformed_http_gets_json_error(server: DemoServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"THIS IS NOT HTTP AT ALL\r\n\r\n")
        reply = sock.makefile("rb").read()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split()[1] == b"400"
    assert json.loads(body)["error"]["type"] == "invalid_request_error"
    assert_still_serving(server)


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["null", "bool", "int", "float", "str"] + (["list", "dict"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "list":
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "dict":
        keys = ["role", "content", "type", "text", "name", "function", "parameters", "properties", "x"]
        return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return {
        "null": None,
        "bool": rng.random() < 0.5,
        "int": rng.randint(-3, 5),
        "float": rng.random(),
        "str": rng.choice(["", "hi", "gpt-4o-mini", "none", "function", "user", "tool"]),
    }[kind]


FUZZ_KEYS = {
    "/v1/chat/completions": [
        "model",
        "messages",
        "stream",
        "stream_options",
        "n",
        "max_tokens",
        "tools",
        "tool_choice",
    ],
    "/v1/responses": ["model", "input", "instructions", "stream", "tools", "tool_choice", "max_output_tokens"],
    "/v1/embeddings": ["model", "input", "encoding_format", "dimensions"],
    "/v1/completions": ["model", "prompt", "stream", "stream_options", "n", "max_tokens"],
}


def test_server_never_fails_on_random_input(server: DemoServer) -> None:
    """Any body gets a 200 or a 4xx with an error JSON: never a 500, never a dropped connection."""
    rng = random.Random(1234)
    for _ in range(300):
        path = rng.choice(list(FUZZ_KEYS))
        body = {key: _random_json(rng) for key in FUZZ_KEYS[path] if rng.random() < 0.7}
        if rng.random() < 0.5:
            body["model"] = "gpt-4o-mini"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("POST", path, body=json.dumps(body).encode())
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        assert resp.status == 200 or 400 <= resp.status < 500, (path, body, resp.status, data)
        if resp.status != 200:
            assert_error(json.loads(data), json.loads(data)["error"]["param"])
    assert_still_serving(server)


# --- the demo server: the real SDK parses what it sends -----------------------------------------


@pytest.fixture
def client(server: DemoServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.url, api_key="test-key", max_retries=0) as c:
        yield c


def test_chat_reply_is_deterministic(client: openai.OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "Tell me about spans."}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    second = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    text = first.choices[0].message.content
    assert text == second.choices[0].message.content and "Tell me about spans." in (text or "")
    assert first.object == "chat.completion" and first.model == RESPONSE_MODELS["gpt-4o-mini"]
    assert first.usage is not None and first.usage.prompt_tokens == 4
    assert first.usage.completion_tokens == len((text or "").split())


def test_chat_stream_with_usage(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "stream please"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "stream please" in text
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(text.split())
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_chat_tool_call_round_trip(client: openai.OpenAI) -> None:
    tool: Any = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    messages: Any = [{"role": "user", "content": "Weather in Oslo?"}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[tool])
    call = (first.choices[0].message.tool_calls or [])[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Oslo"}
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    second = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[tool])
    assert second.choices[0].finish_reason == "stop" and "sunny" in (second.choices[0].message.content or "")
    streamed = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=messages[:1], tools=[tool], stream=True)
    )
    arguments = "".join(
        (c.choices[0].delta.tool_calls or [])[0].function.arguments or ""  # type: ignore[union-attr]
        for c in streamed
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert json.loads(arguments) == {"city": "Oslo"}


def test_responses_plain_and_streamed(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o-mini", input="Hello there", instructions="Be brief.")
    assert response.status == "completed" and "Hello there" in response.output_text
    assert response.usage is not None and response.usage.input_tokens == 4
    events = list(client.responses.create(model="gpt-4o-mini", input="Hello there", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1].response  # type: ignore[union-attr]
    assert final.output_text == response.output_text and final.usage is not None


def test_embeddings_base64_and_float_agree(client: openai.OpenAI) -> None:
    default = client.embeddings.create(model="text-embedding-3-small", input=["one two", "three"])
    floats = client.embeddings.create(model="text-embedding-3-small", input=["one two"], encoding_format="float")
    assert len(default.data) == 2 and len(default.data[0].embedding) == 1536
    assert default.data[0].embedding == floats.data[0].embedding
    assert default.usage.prompt_tokens == 3


def test_embeddings_raw_base64(server: DemoServer) -> None:
    body = json.dumps({"model": "m", "input": "x", "encoding_format": "base64", "dimensions": 4}).encode()
    status, payload, _ = request(server, "POST", "/v1/embeddings", body)
    assert status == 200
    values = struct.unpack("<4f", base64.b64decode(payload["data"][0]["embedding"]))
    assert abs(sum(v * v for v in values) - 1) < 1e-5  # a unit vector


def test_legacy_completions(client: openai.OpenAI) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=3)
    assert completion.choices[0].text == "You said: Say" and completion.choices[0].finish_reason == "length"
    chunks = list(client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices).startswith("You said: Say hi")


# --- the demo server: Anthropic's Messages API --------------------------------------------------

WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}


def messages_body(**extra: Any) -> bytes:
    body = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi there"}]}
    return json.dumps({**body, **extra}).encode()


def assert_anthropic_error(payload: dict[str, Any], kind: str = "invalid_request_error") -> str:
    """The Messages API's error shape (not OpenAI's); returns the message."""
    assert set(payload) == {"type", "error"} and payload["type"] == "error"
    assert set(payload["error"]) == {"type", "message"} and payload["error"]["type"] == kind
    assert isinstance(payload["error"]["message"], str) and payload["error"]["message"]
    return str(payload["error"]["message"])


def sse_events(server: DemoServer, path: str, body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of each event of a raw streamed reply."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type", "").startswith("text/event-stream")
        text = resp.read().decode()
    finally:
        conn.close()
    events = []
    for block in filter(None, text.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_messages_plain_shape(server: DemoServer) -> None:
    status, payload, headers = request(server, "POST", "/v1/messages", messages_body(system="Be brief."))
    assert status == 200
    assert headers["request-id"].startswith("req_") and "x-request-id" not in headers
    assert payload["id"].startswith("msg_") and payload["type"] == "message" and payload["role"] == "assistant"
    assert payload["model"] == "claude-haiku-4-5"  # echoed
    assert payload["content"] == [{"type": "text", "text": payload["content"][0]["text"]}]
    assert "hi there" in payload["content"][0]["text"]
    assert payload["stop_reason"] == "end_turn" and payload["stop_sequence"] is None
    usage = payload["usage"]
    assert {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"} <= set(usage)
    assert usage["input_tokens"] == 4  # "Be brief." and "hi there", one token a word
    assert usage["output_tokens"] == len(payload["content"][0]["text"].split())
    assert usage["cache_creation_input_tokens"] == usage["cache_read_input_tokens"] == 0
    assert usage["service_tier"] == "standard"


def test_messages_tool_use_and_stop_reasons(server: DemoServer) -> None:
    body = messages_body(messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER_TOOL])
    status, payload, _ = request(server, "POST", "/v1/messages", body)
    assert status == 200 and payload["stop_reason"] == "tool_use"
    text, use = payload["content"]
    assert text["type"] == "text"
    assert use["type"] == "tool_use" and use["id"].startswith("toolu_")
    assert use["name"] == "get_weather" and use["input"] == {"location": "Paris"}
    forced = messages_body(tools=[WEATHER_TOOL], tool_choice={"type": "tool", "name": "get_weather"})
    assert [b["type"] for b in request(server, "POST", "/v1/messages", forced)[1]["content"]] == ["tool_use"]
    _, payload, _ = request(
        server, "POST", "/v1/messages", messages_body(tools=[WEATHER_TOOL], tool_choice={"type": "none"})
    )
    assert payload["stop_reason"] == "end_turn"
    _, payload, _ = request(server, "POST", "/v1/messages", messages_body(max_tokens=2))
    assert payload["stop_reason"] == "max_tokens" and payload["content"][0]["text"] == "You said:"
    _, payload, _ = request(server, "POST", "/v1/messages", messages_body(stop_sequences=["there"]))
    assert payload["stop_reason"] == "stop_sequence" and payload["stop_sequence"] == "there"
    assert payload["content"][0]["text"] == "You said: hi"


def test_messages_raw_stream_events(server: DemoServer) -> None:
    events = sse_events(server, "/v1/messages", messages_body(stream=True))
    assert all(name == data["type"] for name, data in events)  # named events, no [DONE]
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert names.count("content_block_delta") > 3 and set(names[3:-3]) == {"content_block_delta"}
    start = events[0][1]["message"]
    assert start["id"].startswith("msg_") and start["content"] == [] and start["stop_reason"] is None
    text = "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta")
    assert all(data["delta"]["type"] == "text_delta" for name, data in events if name == "content_block_delta")
    _, plain, _ = request(server, "POST", "/v1/messages", messages_body())
    assert text == plain["content"][0]["text"]
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"]["output_tokens"] == plain["usage"]["output_tokens"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}', "model: Field required"),
        (
            b'{"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]}',
            "max_tokens: Field required",
        ),
        (b'{"model": "claude-haiku-4-5", "max_tokens": 10}', "messages: Field required"),
        (b'{"model": "claude-haiku-4-5", "max_tokens": 10, "messages": []}', "messages: at least one message"),
        (
            b'{"model": "claude-haiku-4-5", "max_tokens": 0, "messages": [{"role": "user", "content": "hi"}]}',
            "max_tokens: ",
        ),
        (
            b'{"model": "claude-haiku-4-5", "max_tokens": "10", "messages": [{"role": "user", "content": "hi"}]}',
            "max_tokens: ",
        ),
        (
            b'{"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "system", "content": "hi"}]}',
            "messages.0.role: ",
        ),
        (
            b'{"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": [{}]}]}',
            "messages.0.content.0.type: ",
        ),
        (
            b'{"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], "tools": [{"name": "x"}]}',
            "tools.0.input_schema: ",
        ),
        (
            b'{"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}',
            "stream: ",
        ),
        (b'{"model": "claude-haiku-4-5", ', "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_messages_requests_are_anthropic_400s(server: DemoServer, body: bytes, message: str) -> None:
    status, payload, headers = request(server, "POST", "/v1/messages", body)
    assert status == 400 and headers["request-id"].startswith("req_")
    assert message in assert_anthropic_error(payload)
    assert_still_serving(server)


def test_messages_wrong_method_and_count_tokens(server: DemoServer) -> None:
    status, payload, headers = request(server, "GET", "/v1/messages")
    assert status == 405 and headers["Allow"] == "POST"
    assert_anthropic_error(payload)
    body = json.dumps(
        {"model": "claude-haiku-4-5", "system": "Be brief.", "messages": [{"role": "user", "content": "hi there"}]}
    )
    status, payload, _ = request(server, "POST", "/v1/messages/count_tokens", body.encode())
    assert status == 200 and payload == {"input_tokens": 4}  # what /v1/messages reports for the same input
    status, payload, _ = request(server, "POST", "/v1/messages/count_tokens", b'{"model": "claude-haiku-4-5"}')
    assert status == 400 and assert_anthropic_error(payload) == "messages: Field required"


def test_anthropic_routes_never_fail_on_random_input(server: DemoServer) -> None:
    """As for the OpenAI routes: a 200 or a 4xx with Anthropic's error body, never a 500."""
    rng = random.Random(4321)
    keys = ["model", "max_tokens", "messages", "system", "stream", "tools", "tool_choice", "stop_sequences", "top_k"]
    for _ in range(300):
        path = rng.choice(["/v1/messages", "/v1/messages/count_tokens"])
        body = {key: _random_json(rng) for key in keys if rng.random() < 0.7}
        if rng.random() < 0.5:
            body |= {"model": "claude-haiku-4-5", "max_tokens": 50}
        if rng.random() < 0.5:
            body["messages"] = [{"role": rng.choice(["user", "assistant", "tool"]), "content": _random_json(rng)}]
        status, payload, _ = request(server, "POST", path, json.dumps(body).encode())
        assert status == 200 or 400 <= status < 500, (path, body, status, payload)
        if status != 200:
            assert_anthropic_error(payload)
    assert_still_serving(server)


@pytest.fixture
def claude(server: DemoServer) -> Iterator[Any]:
    from otel_llm.demo.app import anthropic_client

    if anthropic is None:
        pytest.skip("the anthropic SDK is not installed")
    with anthropic_client(server) as c:  # the demo's own client: base URL without /v1
        yield c


def test_anthropic_sdk_plain_and_streamed(claude: Any) -> None:
    messages: Any = [{"role": "user", "content": "Tell me about spans."}]
    plain = claude.messages.create(model="claude-haiku-4-5", max_tokens=100, system="Be brief.", messages=messages)
    assert plain.id.startswith("msg_") and plain.stop_reason == "end_turn"
    assert plain._request_id.startswith("req_")
    assert "Tell me about spans." in plain.content[0].text and plain.usage.input_tokens == 6
    events = list(claude.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=messages, stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]  # the SDK passes no ping on
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"] and "content_block_delta" in kinds
    with claude.messages.stream(model="claude-haiku-4-5", max_tokens=100, system="Be brief.", messages=messages) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == plain.content[0].text == final.content[0].text
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == plain.usage.output_tokens
    assert final.usage.input_tokens == plain.usage.input_tokens
    count = claude.messages.count_tokens(model="claude-haiku-4-5", system="Be brief.", messages=messages)
    assert count.input_tokens == plain.usage.input_tokens


def test_anthropic_sdk_tool_round_trip(claude: Any) -> None:
    messages: Any = [{"role": "user", "content": "Weather in Oslo?"}]
    first = claude.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=messages, tools=[WEATHER_TOOL])
    use = first.content[-1]
    assert first.stop_reason == "tool_use" and use.type == "tool_use" and use.input == {"location": "Oslo"}
    with claude.messages.stream(model="claude-haiku-4-5", max_tokens=100, messages=messages, tools=[WEATHER_TOOL]) as s:
        streamed = s.get_final_message()
    assert streamed.content[-1].input == {"location": "Oslo"}  # rebuilt from input_json_delta pieces
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]},
    ]
    second = claude.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=messages, tools=[WEATHER_TOOL])
    assert second.stop_reason == "end_turn"
    assert second.content[0].text.startswith("The get_weather tool returned: sunny")


def test_anthropic_sdk_errors(claude: Any) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:  # type: ignore[union-attr]
        claude.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=[])
    assert caught.value.status_code == 400
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "messages: at least one message is required"},
    }


# --- the demo server: lifecycle ----------------------------------------------------------------


def test_stop_releases_the_port() -> None:
    server = DemoServer().start()
    port = server.port
    assert server.url == f"http://127.0.0.1:{port}/v1"
    assert server.origin == f"http://127.0.0.1:{port}"  # for the anthropic client, which adds /v1 itself
    server.stop()
    server.stop()  # idempotent
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_standalone_server_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "otel_llm.demo.server", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("otel-llm demo server listening on http://127.0.0.1:"), first
        url = first.rsplit(" ", 1)[1].strip()
        with openai.OpenAI(base_url=url, api_key="test-key", max_retries=0) as c:
            reply = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}])
        assert "ping" in (reply.choices[0].message.content or "")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_labels_every_call_and_prices_the_claude_message(demo_plain: subprocess.CompletedProcess[str]) -> None:
    """The demo runs its calls in an otel_llm.context block; the Claude message is priced (haiku 4.5:
    $1 / $5 per million input / output tokens, from genai-prices)."""
    spans = parse_spans(demo_plain.stdout)
    for _, attrs in spans:
        assert attrs["otel_llm.tags"] == '["otel-llm-demo"]'
        assert attrs["otel_llm.tenant.id"] == "demo-team"
        assert attrs["user.id"] == "demo-user"
    name, attrs = spans[len(OPENAI_SPANS)]
    assert name.startswith("chat claude-haiku-4-5")
    inputs, outputs = int(attrs["gen_ai.usage.input_tokens"]), int(attrs["gen_ai.usage.output_tokens"])
    assert float(attrs["otel_llm.cost.usd"]) == pytest.approx((inputs * 1 + outputs * 5) / 1e6, rel=1e-9)
    assert "otel_llm.cost.usd" not in spans[0][1]  # the OpenAI-compatible demo server has no price list


def test_demo_through_the_destinations_pipeline(tmp_path: Path) -> None:
    env = {**clean_env(), "DEMO_AUDIT_FILE": str(tmp_path / "audit.jsonl"), "DEMO_TEAM_FILE": str(tmp_path / "team.jsonl")}
    env["DEMO_FAILURES_FILE"] = str(tmp_path / "failures.jsonl")
    result = subprocess.run(
        [sys.executable, "-m", "otel_llm.cli", "demo", "--config", "examples/demo-destinations.yaml"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    team = [json.loads(line) for line in (tmp_path / "team.jsonl").read_text().splitlines()]
    assert len(audit) == len(team) >= 5
    assert not (tmp_path / "failures.jsonl").exists()  # no call failed: the failures-only destination got nothing
    chat = next(r for r in audit if r["operation"] == "chat")
    assert "[redacted" not in json.dumps(chat["input_messages"])  # audit keeps content
    team_chat = next(r for r in team if r["id"] == chat["id"])
    assert json.dumps(team_chat["input_messages"]).count("[redacted ") >= 1  # team gets placeholders
    assert f"audit: exported={len(audit)} dropped=0 retried=0" in result.stdout


def test_demo_with_an_invalid_config_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("destinations:\n  x: {type: file}\n")
    result = run_demo("--config", str(bad))
    assert result.returncode == 1
    assert "destinations.x.path" in result.stderr
