"""One trace end to end: web request → this service → the openai SDK → a self-hosted model server.

An ASGI service instrumented with the standard OpenTelemetry ASGI middleware. ``POST /ask`` with
``{"question": "..."}`` asks a model through the openai SDK and returns its answer. The incoming
``traceparent`` makes the request's SERVER span part of the caller's trace; otel-llm's GenAI span
is its child; and because the model server is on a private address (the default allow-list of
``OTEL_LLM_PROPAGATE_TO``), it receives a ``traceparent`` of that same trace. A public API would
get no trace headers.

    pip install 'otel-llm[openai]' uvicorn opentelemetry-instrumentation-asgi
    opentelemetry-instrument --traces_exporter console --metrics_exporter none \
        --logs_exporter none python examples/traced_service.py
    curl -s localhost:8080/ask -H 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' \
        -d '{"question": "What is a trace?"}'

``MODEL_BASE_URL`` points at your model server (vLLM, Ollama, ...: anything OpenAI-compatible);
unset, the service starts otel-llm's local demo server and uses that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import openai
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

MODEL = os.environ.get("MODEL_NAME", "gpt-4o-mini")
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def make_app(model_base_url: str, *, tracer_provider: Any = None, meter_provider: Any = None) -> Any:
    """The service as an ASGI app, wrapped in the OpenTelemetry ASGI middleware."""
    client = openai.AsyncOpenAI(base_url=model_base_url, api_key=os.environ.get("MODEL_API_KEY", "none"))

    async def reply(send: Send, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if (scope["method"], scope["path"]) != ("POST", "/ask"):
            await reply(send, 404, {"error": 'POST /ask with {"question": "..."}'})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            question = json.loads(body or b"{}")["question"]
            if not isinstance(question, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            await reply(send, 400, {"error": 'expected a JSON body {"question": "..."}'})
            return
        completion = await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}])
        await reply(send, 200, {"answer": completion.choices[0].message.content})

    return OpenTelemetryMiddleware(app, tracer_provider=tracer_provider, meter_provider=meter_provider)


def main() -> None:
    import uvicorn

    server = None
    base_url = os.environ.get("MODEL_BASE_URL")
    if not base_url:
        from otel_llm.demo.server import DemoServer

        server = DemoServer().start()
        base_url = server.url
    try:
        uvicorn.run(make_app(base_url), host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
