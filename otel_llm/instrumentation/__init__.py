"""One instrumentor per provider SDK; this registry is what ``otel_llm.instrument()`` walks."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

# SDK import name → "module:Instrumentor". Add a provider here and in pyproject's entry points.
REGISTRY: dict[str, str] = {
    "openai": "otel_llm.instrumentation.openai:OpenAIInstrumentor",
    "anthropic": "otel_llm.instrumentation.anthropic:AnthropicInstrumentor",
}


def load_instrumentor(sdk: str) -> Any:
    module_name, _, class_name = REGISTRY[sdk].partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


def installed_sdks() -> list[str]:
    return [sdk for sdk in REGISTRY if importlib.util.find_spec(sdk) is not None]
