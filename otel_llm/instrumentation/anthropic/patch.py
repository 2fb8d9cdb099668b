"""What the anthropic SDK contributes to the shared Stainless hook, and how its own tracing is replaced.

anthropic 1.14 and later (2.x included) start a span of their own per API call, named after the SDK
method (``anthropic.messages.create``), and send its trace context to every host. For the calls we
trace, the hook hands the SDK a copy of the request options without ``span_name``: the SDK then
starts no span and injects nothing, and our conforming span is the one GenAI span of the call,
propagated under our policy. Other API calls (files, batches, models, sessions) keep the SDK's
spans. docs/anthropic.md explains the interplay with the SDK's ``open_telemetry`` option and
``ANTHROPIC_OPEN_TELEMETRY*`` variables.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from otel_llm.genai import Invocation
from otel_llm.genai import attributes as A
from otel_llm.instrumentation._endpoint import Endpoint
from otel_llm.instrumentation._stainless import SDKMapping
from otel_llm.instrumentation._streams import Accumulator
from otel_llm.instrumentation.anthropic import messages as M
from otel_llm.instrumentation.anthropic.request import ENDPOINTS, beta_features
from otel_llm.instrumentation.anthropic.response import BY_KIND
from otel_llm.instrumentation.anthropic.stream import MessageStreamAccumulator

# Platform clients of SDK lines without ``_gen_ai_provider_name``, by base class name.
_PLATFORM_BASES = {"BaseBedrockClient": "aws.bedrock", "BaseVertexClient": "gcp.vertex_ai"}


def client_telemetry_options(client: Any) -> Mapping[str, Any]:
    """The client's resolved ``open_telemetry`` option (anthropic >= 1.14), or an empty mapping."""
    options = client.__dict__.get("_open_telemetry")
    return options if isinstance(options, Mapping) else {}


class AnthropicMapping(SDKMapping):
    name = "anthropic"

    def endpoint(self, options: Any) -> Endpoint | None:
        url = getattr(options, "url", None)
        if not isinstance(url, str) or getattr(options, "method", None) not in ("post", "POST"):
            return None
        return ENDPOINTS.get(url.partition("?")[0])

    def default_provider(self, client: Any) -> str:
        named = getattr(type(client), "_gen_ai_provider_name", None)
        if isinstance(named, str) and named:
            return named
        for base in type(client).__mro__:
            if base.__name__ in _PLATFORM_BASES:
                return _PLATFORM_BASES[base.__name__]
        return "anthropic"

    def request_attributes(
        self,
        client: Any,
        options: Any,
        endpoint: Endpoint,
        body: Mapping[str, Any],
        server: tuple[str | None, int | None, str],
        streaming: bool,
    ) -> dict[str, Any]:
        attrs = super().request_attributes(client, options, endpoint, body, server, streaming)
        betas = beta_features(getattr(options, "headers", None), client.__dict__.get("_custom_headers"))
        if betas:
            attrs[A.ANTHROPIC_BETA] = betas
        conversation = client_telemetry_options(client).get("conversation_id")
        if isinstance(conversation, str) and conversation:
            attrs[A.CONVERSATION_ID] = conversation
        return attrs

    def input_content(self, inv: Invocation, endpoint: Endpoint, body: Mapping[str, Any]) -> None:
        inv.input_messages = M.input_messages(body.get("messages"))
        inv.system_instructions = M.system_instructions(body.get("system"))
        tools = M.tool_definitions(body.get("tools"))
        if tools:
            inv.tool_definitions = tools

    def complete(self, inv: Invocation, endpoint: Endpoint, result: Any) -> None:
        BY_KIND[endpoint.kind](inv, result)

    def accumulator(self, endpoint: Endpoint, inv: Invocation, stream: Any) -> Accumulator | None:
        if endpoint.kind != "messages":
            return None
        headers = getattr(getattr(stream, "response", None), "headers", None)
        request_id = headers.get("request-id") if headers is not None else None
        if isinstance(request_id, str):  # what a parsed Message carries as ``_request_id``
            inv.attributes[A.ANTHROPIC_REQUEST_ID] = request_id
        return MessageStreamAccumulator(inv.capture.enabled)

    def prepare(self, client: Any, options: Any) -> tuple[Any, bool]:
        """Drop the SDK's own span for this call; ``propagation: False`` on the client still means no headers."""
        may_propagate = client_telemetry_options(client).get("propagation") is not False
        if getattr(options, "span_name", None):
            options = copy.copy(options)  # the caller's object may be sent again (retries of a helper)
            options.span_name = None
        return options, may_propagate


__all__ = ["AnthropicMapping"]
