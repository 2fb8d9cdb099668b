"""`otel-llm demo` end to end, and the demo server it runs on.

The demo is run as a subprocess, as a user runs it, so the console script, argument parsing,
real openai SDK calls and printing are all exercised. The server tests drive it with raw HTTP
(to send what no SDK would) and with the real SDK (to prove its payloads parse).
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

REPO = Path(__file__).resolve().parent.parent
CHAT_SPAN = "chat gpt-4o-mini"
EMBEDDINGS_SPAN = "embeddings text-embedding-3-small"
PROMPT = "What is OpenTelemetry?"  # the demo's first user message (otel_llm/demo/app.py)


def clean_env() -> dict[str, str]:
    """The caller's environment without OTEL_* / OPENAI_* settings that would change the output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}
    for key in ("NO_PROXY", "no_proxy"):
        env[key] = ",".join(filter(None, [env.get(key), "127.0.0.1", "localhost"]))
    return env


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "otel_llm.cli", "demo", *args],
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
    # chat, streamed chat, two tool-calling turns, Responses API; then embeddings
    assert names == [CHAT_SPAN] * 5 + [EMBEDDINGS_SPAN], names
    for name, attrs in spans:
        assert attrs["gen_ai.provider.name"] == "openai_compatible", name
        assert attrs["server.address"] == "127.0.0.1"
        assert int(attrs["gen_ai.usage.input_tokens"]) > 0
    chat, stream, tool_call, tool_answer, responses, embeddings = (attrs for _, attrs in spans)
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
    assert "gen_ai.input.messages" not in spans[-1][1]  # embeddings input is not a message


def test_demo_json_is_otlp_lines() -> None:
    result = run_demo("--json")
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    *span_docs, metrics_doc = docs
    spans = [d["resourceSpans"][0]["scopeSpans"][0]["spans"][0] for d in span_docs]
    assert [s["name"] for s in spans] == [CHAT_SPAN] * 5 + [EMBEDDINGS_SPAN]
    first = spans[0]
    assert first["kind"] == 3  # SPAN_KIND_CLIENT
    assert len(first["traceId"]) == 32 and len(first["spanId"]) == 16
    attrs = {a["key"]: a["value"] for a in first["attributes"]}
    assert attrs["gen_ai.operation.name"] == {"stringValue": "chat"}
    assert int(attrs["gen_ai.usage.input_tokens"]["intValue"]) > 0
    scope = span_docs[0]["resourceSpans"][0]["scopeSpans"][0]["scope"]
    assert scope["name"] == "otel_llm.instrumentation.openai"
    names = {m["name"] for sm in metrics_doc["resourceMetrics"][0]["scopeMetrics"] for m in sm["metrics"]}
    assert {"gen_ai.client.operation.duration", "gen_ai.client.token.usage"} <= names
    assert "==> [1/5]" in result.stderr  # the step headers stay out of the JSON


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


# --- the demo server: lifecycle ----------------------------------------------------------------


def test_stop_releases_the_port() -> None:
    server = DemoServer().start()
    port = server.port
    assert server.url == f"http://127.0.0.1:{port}/v1"
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
