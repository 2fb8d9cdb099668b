"""What the openai SDK contributes to the shared Stainless hook: endpoints, content, results, streams."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.genai import Invocation
from otel_llm.genai import attributes as A
from otel_llm.instrumentation._endpoint import Endpoint
from otel_llm.instrumentation._stainless import SDKMapping, SDKTypes
from otel_llm.instrumentation._streams import Accumulator
from otel_llm.instrumentation.openai import messages as M
from otel_llm.instrumentation.openai.request import ENDPOINTS
from otel_llm.instrumentation.openai.response import BY_KIND
from otel_llm.instrumentation.openai.stream import accumulator_for

AZURE_PROVIDER = "azure.ai.openai"


def _input_content(inv: Invocation, endpoint: Endpoint, body: Mapping[str, Any]) -> None:
    kind = endpoint.kind
    if kind == "chat":
        inv.input_messages = M.chat_input_messages(body.get("messages"))
        if body.get("tools"):
            inv.tool_definitions = M.chat_tool_definitions(body.get("tools"))
    elif kind == "responses":
        if body.get("input") is not None:
            inv.input_messages = M.responses_input_messages(body.get("input"))
        inv.system_instructions = M.responses_system_instructions(body.get("instructions"))
        if body.get("tools"):
            inv.tool_definitions = M.responses_tool_definitions(body.get("tools"))
    elif kind == "completions":
        inv.input_messages = M.completion_input_messages(body.get("prompt"))


class OpenAIMapping(SDKMapping):
    name = "openai"

    def __init__(self, types: SDKTypes, azure_client: type) -> None:
        super().__init__(types)
        self.azure_client = azure_client

    def endpoint(self, options: Any) -> Endpoint | None:
        endpoint = ENDPOINTS.get(getattr(options, "url", None))  # type: ignore[arg-type]
        if endpoint is None or getattr(options, "method", None) not in ("post", "POST"):
            return None
        return endpoint

    def default_provider(self, client: Any) -> str:
        return AZURE_PROVIDER if isinstance(client, self.azure_client) else "openai_compatible"

    def input_content(self, inv: Invocation, endpoint: Endpoint, body: Mapping[str, Any]) -> None:
        _input_content(inv, endpoint, body)

    def complete(self, inv: Invocation, endpoint: Endpoint, result: Any) -> None:
        BY_KIND[endpoint.kind](inv, result)

    def accumulator(self, endpoint: Endpoint, inv: Invocation, stream: Any) -> Accumulator | None:
        choices = inv.request_attributes.get(A.REQUEST_CHOICE_COUNT)
        return accumulator_for(endpoint.kind, inv.capture.enabled, choices)


__all__ = ["OpenAIMapping"]
