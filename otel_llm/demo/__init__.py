"""A self-contained demo: a local server speaking the OpenAI and Anthropic APIs, and the ``otel-llm demo`` app.

Everything here runs offline: the real openai (and, when installed, anthropic) SDK talks to
``DemoServer`` on loopback, so the telemetry otel-llm produces can be seen without an API key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_llm.demo.server import DemoServer


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m otel_llm.demo.server` does not import the module twice (runpy warns).
    if name == "DemoServer":
        from otel_llm.demo.server import DemoServer

        return DemoServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DemoServer"]
