"""Langfuse (cloud or self-hosted): OTLP/HTTP to its OTel endpoint, Basic auth from the key pair.

Langfuse maps GenAI spans by itself; the view adds what it cannot infer, in its own attribute
names, so a call shows as a generation with model, usage and cost, on a trace carrying the
caller's user, session, tags and metadata.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from otel_llm.backends import _genai as g
from otel_llm.backends._backend import Backend, BackendSpanExporter, Option, Target
from otel_llm.exporters.otlp import traces_url
from otel_llm.genai import attributes as A

CLOUD_HOST = "https://cloud.langfuse.com"  # EU; also us., jp., hipaa.cloud.langfuse.com

# gen_ai.operation.name -> langfuse.observation.type
OBSERVATION_TYPES: Mapping[str, str] = {
    "chat": "generation",
    "text_completion": "generation",
    "generate_content": "generation",
    "embeddings": "embedding",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "retrieval": "retriever",
}

# Langfuse's usage buckets exclude each other (``input`` without the cache tokens, ``output``
# without reasoning): the keys of its price list, so that its own cost inference would match.
CACHE_READ_KEY, CACHE_WRITE_KEY, REASONING_KEY = (
    "input_cached_tokens",
    "input_cache_creation",
    "output_reasoning_tokens",
)
COST_DETAILS: Mapping[str, str] = {
    A.COST_INPUT_USD: "input",
    A.COST_OUTPUT_USD: "output",  # reasoning included: our price split has no reasoning part
    A.COST_CACHE_READ_USD: CACHE_READ_KEY,
    A.COST_CACHE_WRITE_USD: CACHE_WRITE_KEY,
    A.COST_USD: "total",
}


def usage_details(attrs: Mapping[str, Any]) -> dict[str, int]:
    """Our (inclusive) token counts as Langfuse's exclusive buckets, with the total."""
    inputs, outputs = g.count(attrs, A.USAGE_INPUT_TOKENS), g.count(attrs, A.USAGE_OUTPUT_TOKENS)
    if inputs is None and outputs is None:
        return {}
    read = g.count(attrs, A.USAGE_CACHE_READ_INPUT_TOKENS) or 0
    write = g.count(attrs, A.USAGE_CACHE_CREATION_INPUT_TOKENS) or 0
    reasoning = g.count(attrs, A.USAGE_REASONING_OUTPUT_TOKENS) or 0
    usage: dict[str, int] = {}
    if inputs is not None:
        usage["input"] = max(inputs - read - write, 0)
    if outputs is not None:
        usage["output"] = max(outputs - reasoning, 0)
    for key, value in ((CACHE_READ_KEY, read), (CACHE_WRITE_KEY, write), (REASONING_KEY, reasoning)):
        if value:
            usage[key] = value
    usage["total"] = sum(usage.values())  # Langfuse stores the buckets as given: the total is theirs
    return usage


# Our attributes -> Langfuse's trace attributes, same value.
COPIED: Mapping[str, str] = {
    A.CONVERSATION_ID: "session.id",
    A.OPERATION_LABEL: "langfuse.trace.name",
    A.TAGS: "langfuse.trace.tags",
    A.COST_USD: "gen_ai.usage.cost",
}


def langfuse_view(attrs: Mapping[str, Any]) -> dict[str, Any]:
    kind = OBSERVATION_TYPES.get(attrs.get(A.OPERATION_NAME))  # type: ignore[arg-type]
    if kind is None:
        return {}
    out: dict[str, Any] = {"langfuse.observation.type": kind}
    name = g.model(attrs)
    if name:
        out["langfuse.observation.model.name"] = name
    for source, target in COPIED.items():
        if source in attrs:
            out[target] = attrs[source]
    usage = usage_details(attrs)
    if usage:
        out["langfuse.observation.usage_details"] = g.dumps(usage)
    cost = {key: attrs[source] for source, key in COST_DETAILS.items() if g.amount(attrs, source) is not None}
    if cost:
        out["langfuse.observation.cost_details"] = g.dumps(cost)
    params = g.parameters(attrs)
    if params:
        out["langfuse.observation.model.parameters"] = g.dumps(params)
    out.update(g.prefixed_metadata(attrs, "langfuse.trace.metadata."))
    if A.TENANT_ID in attrs:
        out["langfuse.observation.metadata.tenant_id"] = attrs[A.TENANT_ID]
    return out


def _target(o: Mapping[str, Any]) -> Target:
    token = base64.b64encode(f"{o['public_key']}:{o['secret_key']}".encode()).decode()
    return Target(
        endpoint=traces_url(o["host"], "/api/public/otel/v1/traces"),
        headers={"Authorization": f"Basic {token}", "x-langfuse-ingestion-version": "4"},
    )


BACKEND = Backend(
    name="langfuse",
    title="Langfuse",
    options=(
        Option("public_key", "text", env=("LANGFUSE_PUBLIC_KEY",), required=True, description="pk-lf-..."),
        Option("secret_key", "secret", env=("LANGFUSE_SECRET_KEY",), required=True, description="sk-lf-..."),
        Option(
            "host",
            "url",
            env=("LANGFUSE_BASE_URL", "LANGFUSE_HOST"),
            default=CLOUD_HOST,
            description="https://cloud.langfuse.com (EU), https://us.cloud.langfuse.com, ...; self-hosted http://HOST:3000",
        ),
    ),
    target=_target,
    view=langfuse_view,
    proven="contract test: a strict OTLP/HTTP receiver checks URL, auth, headers, protobuf and attributes",
)


class LangfuseSpanExporter(BackendSpanExporter):
    """``OTEL_TRACES_EXPORTER=langfuse``: keys and host from LANGFUSE_* variables."""

    backend = BACKEND
