"""``otel-llm demo``: real openai (and anthropic) SDK calls against the local demo server, telemetry printed.

It shows, with no API key and no network, what otel-llm records for each kind of call: the
span of a chat, a streamed chat, a tool-calling exchange, a Responses API call and an
embeddings call, then, when the anthropic SDK is installed, a Claude message with a system
prompt, a streamed one and a token count; then the GenAI metrics. Message content appears only
with content capture on.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any, TextIO

import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import otel_llm
from otel_llm.demo.output import (
    JsonSpanPrinter,
    ReadableSpanPrinter,
    format_destinations,
    format_metrics,
    otlp_metrics,
)
from otel_llm.demo.server import DemoServer

try:
    import anthropic
except ImportError:  # an optional extra: without it the demo shows the openai calls only
    anthropic = None

CHAT_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
CLAUDE_MODEL = "claude-haiku-4-5"
SERVICE_NAME = "otel-llm-demo"

# Latency the demo server adds, so durations and time-to-first-chunk look like a real call.
SERVER_DELAY_S = 0.02
SERVER_CHUNK_DELAY_S = 0.002

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City name"}},
            "required": ["location"],
        },
    },
}


# ---------------------------------------------------------------------------------------------
# The calls. The app prints no model output itself: only the telemetry shows what was said.


def chat(client: openai.OpenAI) -> None:
    client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "What is OpenTelemetry?"},
        ],
        temperature=0.2,
        max_tokens=100,
    )


def streamed_chat(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Write a haiku about tracing."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for _ in stream:
        pass  # the span ends when the stream is exhausted


def tool_calling_chat(client: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat.completions.create(model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL])
    message = first.choices[0].message
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls or ():
        messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 18, "sky": "cloudy"}'})
    client.chat.completions.create(model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL])


def responses_call(client: openai.OpenAI) -> None:
    client.responses.create(
        model=CHAT_MODEL,
        instructions="Answer in one sentence.",
        input="Why do spans have a kind?",
        max_output_tokens=200,
    )


def embeddings_call(client: openai.OpenAI) -> None:
    client.embeddings.create(model=EMBEDDING_MODEL, input=["spans and metrics", "logs and events"])


STEPS: tuple[tuple[str, Callable[[openai.OpenAI], None]], ...] = (
    ("chat completion: client.chat.completions.create(...)", chat),
    ("streamed chat: create(stream=True, stream_options={'include_usage': True})", streamed_chat),
    ("tool calling: the model asks for get_weather, the app sends the result back", tool_calling_chat),
    ("Responses API: client.responses.create(...)", responses_call),
    ("embeddings: client.embeddings.create(...)", embeddings_call),
)


# The anthropic calls take an ``anthropic.Anthropic``; typed Any because the SDK may be absent.


def claude_message(client: Any) -> None:
    client.messages.create(
        model=CLAUDE_MODEL,
        system="You are a concise assistant.",
        messages=[{"role": "user", "content": "What is a span in OpenTelemetry?"}],
        max_tokens=200,
        stop_sequences=["###"],  # a request parameter to see on the span (1.x and 2.x have no temperature)
    )


def claude_stream(client: Any) -> None:
    with client.messages.stream(
        model=CLAUDE_MODEL,
        messages=[{"role": "user", "content": "Write a haiku about metrics."}],
        max_tokens=200,
    ) as stream:
        for _ in stream.text_stream:
            pass  # the span ends with the stream


def claude_count_tokens(client: Any) -> None:
    client.messages.count_tokens(
        model=CLAUDE_MODEL,
        system="You are a concise assistant.",
        messages=[{"role": "user", "content": "What is a span in OpenTelemetry?"}],
    )


ANTHROPIC_STEPS: tuple[tuple[str, Callable[[Any], None]], ...] = (
    ("Anthropic message: client.messages.create(system=..., ...)", claude_message),
    ("Anthropic stream: with client.messages.stream(...) as s: read s.text_stream", claude_stream),
    ("Anthropic token count: client.messages.count_tokens(...)", claude_count_tokens),
)


def anthropic_client(server: DemoServer) -> Any:
    """An anthropic client on the demo server; its base URL has no /v1, the SDK adds /v1/messages itself."""
    assert anthropic is not None
    factory = getattr(anthropic, "DefaultHttpxClient", None)  # no proxy from the environment, as for openai
    http_client = factory(trust_env=False) if factory is not None else None
    return anthropic.Anthropic(base_url=server.origin, api_key="demo-key", max_retries=0, http_client=http_client)


def _sdk_versions() -> str:
    if anthropic is None:
        return f"openai {openai.__version__} SDK (anthropic not installed: its calls are skipped)"
    return f"openai {openai.__version__} and anthropic {anthropic.__version__} SDKs"


def run(
    *, capture_content: bool = False, as_json: bool = False, out: TextIO | None = None, config: str | None = None
) -> int:
    """Run every step, print spans as they end and the metrics at the end; 0 when all went well.

    With ``as_json`` stdout carries only JSON lines (spans, then one metrics document); the
    step headers go to stderr. With ``config`` (a configuration file) the spans also go through
    its destinations pipeline, and what each destination exported or dropped is printed at the end.
    """
    out = out or sys.stdout
    notes = sys.stderr if as_json else out
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    printer = JsonSpanPrinter(out) if as_json else ReadableSpanPrinter(out)
    tracer_provider.add_span_processor(SimpleSpanProcessor(printer))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader], resource=tracer_provider.resource)
    server = DemoServer(delay=SERVER_DELAY_S, chunk_delay=SERVER_CHUNK_DELAY_S).start()
    # No proxy from the environment: the demo must only ever talk to loopback.
    client = openai.OpenAI(
        base_url=server.url, api_key="demo-key", max_retries=0, http_client=openai.DefaultHttpxClient(trust_env=False)
    )
    claude = anthropic_client(server) if anthropic is not None else None
    steps: list[tuple[str, Callable[[], None]]] = [(title, functools.partial(step, client)) for title, step in STEPS]
    if claude is not None:
        steps += [(title, functools.partial(step, claude)) for title, step in ANTHROPIC_STEPS]
    status = 0
    instrumented = False
    pipeline = None
    settings: dict[str, Any] = {"capture_content": capture_content}
    if config is not None:
        from otel_llm._configure import instrumentation_settings, resolve_config

        loaded = resolve_config(config)  # a ConfigError names the bad key before anything starts
        pipeline = otel_llm.configure(
            loaded, tracer_provider=tracer_provider, meter_provider=meter_provider, instrument=False
        )
        settings = {**settings, **instrumentation_settings(loaded)}
        capture_content = bool(settings["capture_content"]) and settings["capture_content"] != "no_content"
    try:
        _write(notes, f"otel-llm demo: {_sdk_versions()} -> demo server at {server.url}")
        # The SDK builds its response models on first use (hundreds of ms for the Responses API);
        # one uninstrumented round first, so the spans show what a warm application sees. A step
        # that fails here fails again below, where its error is reported.
        for _, call in steps:
            with contextlib.suppress(Exception):
                call()
        otel_llm.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, **settings)
        instrumented = True
        _write(notes, f"content capture: {'on' if capture_content else 'off'}\n")
        # Every call is labelled as an application would label it for chargeback (docs/context.md).
        labels = otel_llm.context(tags=["otel-llm-demo"], tenant_id="demo-team", user_id="demo-user")
        for number, (title, call) in enumerate(steps, 1):
            _write(notes, f"==> [{number}/{len(steps)}] {title}\n")
            try:
                with labels:
                    call()
            except Exception:
                status = 1
                notes.write(traceback.format_exc() + "\n")
        data = reader.get_metrics_data()
        if as_json:
            out.write(json.dumps(otlp_metrics(data)) + "\n")
        else:
            out.write(format_metrics(data))
            if not capture_content:
                out.write(
                    "\nMessage content was not captured. Rerun with --capture-content to see "
                    "gen_ai.input.messages and gen_ai.output.messages.\n"
                )
        out.flush()
    finally:
        if instrumented:
            otel_llm.uninstrument()
        client.close()
        if claude is not None:
            claude.close()
        server.stop()
        tracer_provider.shutdown()
        meter_provider.shutdown()
    if pipeline is not None:
        _write(notes, format_destinations(pipeline.stats()))
    return status


def _write(stream: TextIO, text: str) -> None:
    stream.write(text + "\n")
    stream.flush()
