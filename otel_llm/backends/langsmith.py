"""LangSmith: OTLP/HTTP to its OTel endpoint with the API key and project headers.

LangSmith reads GenAI attributes but takes the provider from the older ``gen_ai.system``;
the view adds it, and the caller's labels in LangSmith's own names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_llm.backends import _genai as g
from otel_llm.backends._backend import Backend, BackendSpanExporter, Option, Target
from otel_llm.exporters.otlp import traces_url
from otel_llm.genai import attributes as A

US = "https://api.smith.langchain.com"  # also eu., apac., aws.api.smith.langchain.com

# gen_ai.operation.name -> langsmith.span.kind
KINDS: Mapping[str, str] = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "embeddings": "embedding",
    "execute_tool": "tool",
    "invoke_agent": "chain",
    "create_agent": "chain",
    "retrieval": "retriever",
}

COPIED: Mapping[str, str] = {
    A.PROVIDER_NAME: "gen_ai.system",
    A.CONVERSATION_ID: "langsmith.metadata.session_id",
    A.USER_ID: "langsmith.metadata.user_id",
    A.OPERATION_LABEL: "langsmith.trace.name",
}


def langsmith_view(attrs: Mapping[str, Any]) -> dict[str, Any]:
    kind = KINDS.get(attrs.get(A.OPERATION_NAME))  # type: ignore[arg-type]
    if kind is None:
        return {}
    out: dict[str, Any] = {"langsmith.span.kind": kind}
    for source, target in COPIED.items():
        if source in attrs:
            out[target] = attrs[source]
    tags = attrs.get(A.TAGS)
    if tags:
        out["langsmith.span.tags"] = ",".join(str(t) for t in tags)
    out.update(g.prefixed_metadata(attrs, "langsmith.metadata."))
    return out


def _target(o: Mapping[str, Any]) -> Target:
    headers = {"x-api-key": o["api_key"]}
    if o["project"]:
        headers["Langsmith-Project"] = o["project"]
    return Target(endpoint=traces_url(o["endpoint"], "/otel/v1/traces"), headers=headers)


BACKEND = Backend(
    name="langsmith",
    title="LangSmith",
    options=(
        Option("api_key", "secret", env=("LANGSMITH_API_KEY",), required=True),
        Option("project", "text", env=("LANGSMITH_PROJECT",), description="null: LangSmith's default project"),
        Option(
            "endpoint",
            "url",
            env=("LANGSMITH_ENDPOINT",),
            default=US,
            description="EU: https://eu.api.smith.langchain.com; self-hosted: https://HOST/api/v1 (+ /otel/v1/traces)",
        ),
    ),
    target=_target,
    view=langsmith_view,
    proven="contract test: a strict OTLP/HTTP receiver checks URL, headers, protobuf and attributes",
)


class LangsmithSpanExporter(BackendSpanExporter):
    """``OTEL_TRACES_EXPORTER=langsmith``: key, project and endpoint from LANGSMITH_* variables."""

    backend = BACKEND
