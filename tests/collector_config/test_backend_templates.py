"""The backend templates (honeycomb, jaeger, langfuse, arize, datadog .yaml) on the real collector:
real instrumented calls → otel-llm's OTLP exporter → the collector with the template → a destination
on loopback, which asserts what arrived.

Destinations: the real Jaeger, Arize Phoenix and Datadog test agent where one runs here; a strict
OTLP/HTTP receiver (``otlp_contract``) for Honeycomb, Langfuse and Arize AX's headers. Where a template
maps attributes in the collector (Langfuse, Arize), each mapped attribute is checked against the
in-process view (``langfuse_view``, ``openinference_view``) of the very span the app sent: parity.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import yaml

from otel_llm.backends.langfuse import langfuse_view
from otel_llm.backends.openinference import openinference_view
from tests.backends.calls import MODEL, QUESTION, SYSTEM, Received, Sent, by_operation, send_calls
from tests.backends.ddagent_server import DdAgent
from tests.backends.expected import (
    VIEW_PREFIXES,
    check_datadog,
    check_jaeger,
    check_langfuse_generation,
    check_openinference_llm,
)
from tests.backends.jaeger_server import JaegerServer
from tests.backends.otlp_contract import Receiver, otlp_receiver
from tests.backends.phoenix_server import PhoenixServer
from tests.collector_config.otelcol import TEMPLATES, Otelcol, base_env, binary, otelcol, validate
from tests.servers import wait_for

ANSWER = "Let me look that up."
QUEUE = {"flush_interval": 0.05}

# -- helpers -----------------------------------------------------------------------------------


def through(collector: Otelcol, **kwargs: Any) -> Sent:
    """The calls, sent by otel-llm's plain OTLP/HTTP exporter to the collector (no backend view)."""
    destination = {"type": "otlp", "endpoint": collector.http_endpoint, "protocol": "http/protobuf", "queue": QUEUE}
    return send_calls({"destinations": {"collector": destination}}, **kwargs)


def plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def sent_attributes(sent: Sent) -> dict[str, dict[str, Any]]:
    """What the app sent, per span id (hex): the attributes as OTLP carries them (tuples as lists)."""
    return {
        format(span.context.span_id, "016x"): {k: plain(v) for k, v in (span.attributes or {}).items()}
        for span in sent.spans
    }


def arrived(receiver: Receiver, count: int) -> list[Received]:
    """The spans the receiver accepted, once there are ``count`` (the collector batches for 200 ms)."""
    assert wait_for(lambda: len(receiver.spans()) >= count, timeout=15), (
        f"{len(receiver.spans())} span(s) arrived, wanted {count}; rejected: {receiver.rejected}"
    )
    return receiver.spans()


def complaints(collector: Otelcol) -> list[str]:
    """The collector's warnings and errors so far (a transform statement that fails on a span is
    logged and skipped under error_mode: ignore: this is how a test sees it). Read while it runs: its
    log goes with its working directory."""
    return [line for line in collector.log().splitlines() if "\twarn\t" in line or "\terror\t" in line]


def header_is(expected: Mapping[str, str]) -> Callable[[Mapping[str, str]], tuple[int, str] | None]:
    """A backend's header check: each header (lower-case name) with exactly this value."""

    def check(headers: Mapping[str, str]) -> tuple[int, str] | None:
        for name, value in expected.items():
            if headers.get(name) != value:
                return 401, f"{name} missing or wrong: {headers.get(name)!r}"
        return None

    return check


def resolved(template: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The template's configuration as the collector resolves it with ``env`` (``print-config``, secrets
    shown; it leaves out settings at their zero value, and lists headers as ``{name, value}`` items)."""
    result = subprocess.run(
        [binary(), "print-config", "--mode", "unredacted", "--config", str(TEMPLATES / template)],
        env={**base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


# The view attributes that hold JSON text: compared parsed (the collector writes map keys sorted).
JSON_VALUED = {
    "langfuse.observation.usage_details",
    "langfuse.observation.cost_details",
    "langfuse.observation.model.parameters",
    "llm.invocation_parameters",
    "metadata",
    "input.value",
    "output.value",
}


def comparable(attributes: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in attributes.items():
        if key in JSON_VALUED and isinstance(value, str):
            with contextlib.suppress(ValueError):  # output.value may be plain text
                value = json.loads(value)
        out[key] = value
    return out


def assert_parity(
    spans: list[Received],
    originals: Mapping[str, dict[str, Any]],
    view: Callable[[Mapping[str, Any]], dict[str, Any]],
    unmapped: re.Pattern[str] | None = None,
) -> None:
    """Each span as the collector sent it = the app's span + exactly what the in-process ``view`` adds
    to it (never over an attribute it has), except the keys the template says it cannot map."""
    assert spans and sorted(s.span_id for s in spans) == sorted(originals)
    for span in spans:
        original = originals[span.span_id]
        expected = {
            k: v for k, v in view(original).items() if k not in original and not (unmapped and unmapped.match(k))
        }
        added = {k: v for k, v in span.attributes.items() if k not in original}
        assert comparable(added) == comparable(expected), span.name
        assert {k: v for k, v in span.attributes.items() if k in original} == original, span.name


def headers_of(exporter: Mapping[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in exporter.get("headers") or []}


REQUIRED = {
    "honeycomb.yaml": {"HONEYCOMB_API_KEY": "k"},
    "jaeger.yaml": {"JAEGER_ENDPOINT": "127.0.0.1:9"},  # nothing listens there: the exporter only retries
    "langfuse.yaml": {"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk"},
    "arize.yaml": {"ARIZE_SPACE_ID": "s", "ARIZE_API_KEY": "k"},
    "datadog.yaml": {"DD_API_KEY": "k"},
}


@pytest.mark.parametrize("template", sorted(REQUIRED))
def test_each_template_validates_and_starts_with_only_its_required_variables(template: str) -> None:
    assert validate(TEMPLATES / template, REQUIRED[template]).returncode == 0
    with otelcol(template, REQUIRED[template]) as collector:
        # (jaeger.yaml's gRPC client may already warn that nothing listens at its endpoint)
        assert [line for line in complaints(collector) if "grpc_log" not in line] == []


def test_jaeger_without_an_endpoint_does_not_start() -> None:
    """No default: Jaeger's usual localhost:4317 is the collector's own listener (a loop)."""
    result = validate(TEMPLATES / "jaeger.yaml", {})
    assert result.returncode != 0
    assert 'requires a non-empty "endpoint"' in result.stderr


@pytest.mark.parametrize("template", sorted(t for t in REQUIRED if t != "jaeger.yaml"))
def test_a_missing_secret_is_named_in_a_warning_at_start(template: str) -> None:
    """The collector does not refuse an unset ${env:VAR}: it warns and uses an empty value (the
    backend then refuses the credential). The templates' comments say so; this pins it."""
    with otelcol(template, {}) as collector:
        warned = " ".join(line for line in complaints(collector) if "unset environment variable" in line)
    for name in REQUIRED[template]:
        assert f'"name": "{name}"' in warned


# -- Honeycomb ---------------------------------------------------------------------------------


def test_honeycomb_gets_the_team_key_and_the_spans_exactly_as_the_app_sent_them() -> None:
    with otlp_receiver("/v1/traces", header_is({"x-honeycomb-team": "hcaik_test"})) as honeycomb:
        env = {"HONEYCOMB_API_KEY": "hcaik_test", "HONEYCOMB_ENDPOINT": honeycomb.base_url}
        with otelcol("honeycomb.yaml", env) as collector:
            sent = through(collector)
            spans = arrived(honeycomb, 2)
        assert honeycomb.rejected == []
    for request in honeycomb.accepted:
        assert request.gzip
        assert "x-honeycomb-dataset" not in request.headers  # never an empty dataset header
    originals = sent_attributes(sent)
    assert len(spans) == len(originals) == 2
    for span in spans:  # nothing added, nothing lost, nothing changed
        assert span.attributes == originals[span.span_id]
    chat = by_operation(spans)["chat"].attributes
    assert chat["gen_ai.response.model"] == MODEL
    assert (chat["gen_ai.usage.input_tokens"], chat["gen_ai.usage.output_tokens"]) == (1200, 300)
    assert chat["otel_llm.cost.usd"] == pytest.approx(0.00475)
    assert json.loads(chat["gen_ai.input.messages"])[1]["parts"][0]["content"] == QUESTION
    assert not [k for k in chat if k.startswith(VIEW_PREFIXES)]  # no view


# -- Jaeger ------------------------------------------------------------------------------------


def test_jaeger_stores_each_call_with_its_genai_tags(jaeger: JaegerServer) -> None:
    env = {"JAEGER_ENDPOINT": jaeger.otlp_grpc_endpoint, "JAEGER_INSECURE": "true"}
    with otelcol("jaeger.yaml", env) as collector:
        sent = through(collector)
        stored = {}
        for trace_id in sent.trace_ids():
            (span,) = jaeger.trace(trace_id)
            stored[span["tags"]["gen_ai.operation.name"]] = span
    check_jaeger(stored)


def test_jaeger_uses_tls_unless_told_otherwise(jaeger: JaegerServer) -> None:
    """By default the exporter speaks TLS: against Jaeger's plaintext receiver the handshake fails and
    nothing is stored; JAEGER_INSECURE=true (the test above) is what allows plaintext."""
    with otelcol("jaeger.yaml", {"JAEGER_ENDPOINT": jaeger.otlp_grpc_endpoint}) as collector:
        sent = through(collector, embeddings=False)
        handshake = "tls: first record does not look like a TLS handshake"
        assert wait_for(lambda: handshake in collector.log(), timeout=15), collector.log()[-2000:]
    (trace_id,) = sent.trace_ids()
    with pytest.raises(urllib.error.HTTPError) as missing:  # Jaeger's query API: 404 for a trace it lacks
        urllib.request.urlopen(f"{jaeger.query_url}/api/traces/{trace_id}", timeout=10).close()
    assert missing.value.code == 404


# -- Datadog -----------------------------------------------------------------------------------


def test_datadog_llm_observability_intake_gets_key_source_and_genai_spans(ddagent: DdAgent) -> None:
    ddagent.clear()
    env = {"DD_API_KEY": "dd-test-key", "DD_LLMOBS_ENDPOINT": ddagent.otlp_http_endpoint}
    with otelcol("datadog.yaml", env) as collector:
        sent = through(collector)
        assert wait_for(lambda: sum(len(r["spans"]) for r in ddagent.requests("/v1/traces")) >= 2, timeout=15), (
            "the test agent did not get the 2 spans"
        )
        requests = ddagent.requests("/v1/traces")
    for request in requests:
        assert request["headers"]["dd-api-key"] == "dd-test-key"
        assert request["headers"]["dd-otlp-source"] == "llmobs"
        assert request["headers"]["content-type"] == "application/x-protobuf"
    received = [s for r in requests for s in r["spans"]]
    originals = sent_attributes(sent)
    assert sorted(s.span_id for s in received) == sorted(originals)
    for span in received:  # the GenAI conventions as the app sent them: LLM Observability reads them as they are
        assert span.attributes == originals[span.span_id]
    check_datadog(received)


def test_datadog_intake_url_follows_the_site_and_the_source_header_is_configurable() -> None:
    default = resolved("datadog.yaml", {"DD_API_KEY": "k"})["exporters"]["otlp_http"]
    assert default["endpoint"] == "https://trace.agent.datadoghq.com"
    assert headers_of(default) == {"dd-api-key": "k", "dd-otlp-source": "llmobs"}
    eu = resolved("datadog.yaml", {"DD_API_KEY": "k", "DD_SITE": "datadoghq.eu", "DD_OTLP_SOURCE": "datadog"})
    assert eu["exporters"]["otlp_http"]["endpoint"] == "https://trace.agent.datadoghq.eu"
    assert headers_of(eu["exporters"]["otlp_http"]) == {"dd-api-key": "k", "dd-otlp-source": "datadog"}


# -- Langfuse ----------------------------------------------------------------------------------

LANGFUSE_PATH = "/api/public/otel/v1/traces"
LANGFUSE_KEYS = ("pk-lf-collector", "sk-lf-collector")


def langfuse_check(headers: Mapping[str, str]) -> tuple[int, str] | None:
    """What Langfuse's endpoint checks: Basic auth of the project's key pair, an ingestion version <= 4."""
    token = base64.b64encode(":".join(LANGFUSE_KEYS).encode()).decode()
    if headers.get("authorization") != f"Basic {token}":
        return 401, f"bad Basic auth: {headers.get('authorization')!r}"
    if headers.get("x-langfuse-ingestion-version") != "4":
        return 400, f"ingestion version {headers.get('x-langfuse-ingestion-version')!r}"
    return None


@contextlib.contextmanager
def langfuse_run(**kwargs: Any) -> Iterator[tuple[Receiver, Sent]]:
    with otlp_receiver(LANGFUSE_PATH, langfuse_check) as langfuse:
        env = {
            "LANGFUSE_PUBLIC_KEY": LANGFUSE_KEYS[0],
            "LANGFUSE_SECRET_KEY": LANGFUSE_KEYS[1],
            "LANGFUSE_HOST": langfuse.base_url,
        }
        with otelcol("langfuse.yaml", env) as collector:
            sent = through(collector, **kwargs)
            arrived(langfuse, len(sent.spans))
            assert complaints(collector) == []
        assert langfuse.rejected == []
        yield langfuse, sent


def test_langfuse_gets_basic_auth_the_ingestion_version_and_the_in_process_view() -> None:
    with langfuse_run(tenants=("team-1",)) as (langfuse, sent):
        pass
    for request in langfuse.accepted:
        assert request.path == LANGFUSE_PATH and request.gzip
    # The collector adds exactly the attributes the in-process view adds, with the same values.
    assert_parity(langfuse.spans(), sent_attributes(sent), langfuse_view)

    spans = by_operation(langfuse.spans())
    chat = spans["chat"].attributes
    check_langfuse_generation(chat, tenant="team-1")
    assert not {"input", "output", "input.value", "output.value", "langfuse.observation.input"} & set(chat)
    embeddings = spans["embeddings"].attributes
    assert embeddings["langfuse.observation.type"] == "embedding"
    assert json.loads(embeddings["langfuse.observation.usage_details"]) == {"input": 5, "total": 5}
    assert "langfuse.observation.model.parameters" not in embeddings


def test_langfuse_endpoint_comes_from_the_in_process_variables() -> None:
    keys = {"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk"}
    for env, base in (
        ({}, "https://cloud.langfuse.com"),
        ({"LANGFUSE_HOST": "http://lf:3000"}, "http://lf:3000"),
        (
            {"LANGFUSE_HOST": "http://lf:3000", "LANGFUSE_BASE_URL": "https://us.cloud.langfuse.com"},
            "https://us.cloud.langfuse.com",
        ),
    ):
        exporter = resolved("langfuse.yaml", {**keys, **env})["exporters"]["otlp_http"]
        assert exporter["endpoint"] == f"{base}/api/public/otel"  # + /v1/traces, as the strict receiver checked


def export_spans(collector: Otelcol, spans: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Hand-made spans (name, attributes), exported by the OTel SDK's OTLP/HTTP exporter to the
    collector; returns the attributes of each by span id (hex), as the app sent them."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_endpoint}/v1/traces")))
    tracer = provider.get_tracer("edge-cases")
    out = {}
    for name, attributes in spans:
        with tracer.start_as_current_span(name, attributes=attributes) as span:
            out[format(span.get_span_context().span_id, "016x")] = {k: plain(v) for k, v in attributes.items()}
    provider.shutdown()
    return out


EDGE_SPANS: list[tuple[str, dict[str, Any]]] = [
    # the span's own Langfuse attributes win over the mapping, as in-process
    (
        "own-langfuse-attributes",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "",  # empty: the request's model is the name
            "gen_ai.conversation.id": "conv-1",
            "session.id": "my-own-session",
            "langfuse.observation.type": "span",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.cache_read.input_tokens": 30,  # more than the input: the bucket floors at 0
            "gen_ai.usage.cache_creation.input_tokens": 2,
            "otel_llm.cost.usd": 1,  # an int cost is a cost too
            "gen_ai.request.stop_sequences": ("END", "STOP"),
            "gen_ai.request.stream": True,
            "otel_llm.metadata.plan": "pro",
            "otel_llm.metadata.flag": True,
        },
    ),
    ("agent", {"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.output_tokens": 7}),
    ("tool", {"gen_ai.operation.name": "execute_tool", "gen_ai.usage.reasoning.output_tokens": 3}),
    ("not-genai", {"http.method": "GET", "otel_llm.cost.usd": 0.5}),  # nothing added
    ("unknown-operation", {"gen_ai.operation.name": "count_tokens", "gen_ai.request.model": "x"}),  # nothing
]


def test_langfuse_mapping_adds_only_what_is_missing_on_edge_cases() -> None:
    with otlp_receiver(LANGFUSE_PATH, langfuse_check) as langfuse:
        env = {"LANGFUSE_PUBLIC_KEY": LANGFUSE_KEYS[0], "LANGFUSE_SECRET_KEY": LANGFUSE_KEYS[1]}
        with otelcol("langfuse.yaml", {**env, "LANGFUSE_HOST": langfuse.base_url}) as collector:
            originals = export_spans(collector, EDGE_SPANS)
            spans = arrived(langfuse, len(EDGE_SPANS))
            assert complaints(collector) == []  # no statement failed on the way
        assert langfuse.rejected == []
    assert_parity(spans, originals, langfuse_view)
    by_name = {span.name: span.attributes for span in spans}
    own = by_name["own-langfuse-attributes"]
    assert (own["session.id"], own["langfuse.observation.type"]) == ("my-own-session", "span")  # kept
    assert own["langfuse.observation.model.name"] == "gpt-4o"
    assert json.loads(own["langfuse.observation.usage_details"]) == {
        "input": 0,
        "input_cached_tokens": 30,
        "input_cache_creation": 2,
        "total": 32,
    }
    assert json.loads(own["langfuse.observation.model.parameters"]) == {"stop": ["END", "STOP"], "stream": True}
    assert (own["langfuse.trace.metadata.plan"], own["langfuse.trace.metadata.flag"]) == ("pro", True)
    assert json.loads(by_name["agent"]["langfuse.observation.usage_details"]) == {"output": 7, "total": 7}
    assert "langfuse.observation.usage_details" not in by_name["tool"]  # no input or output count: no usage
    assert by_name["tool"]["langfuse.observation.type"] == "tool"
    assert not [k for k in by_name["not-genai"] | by_name["unknown-operation"] if k.startswith("langfuse.")]


# -- Arize AX (and Phoenix) --------------------------------------------------------------------

ARIZE_ENV = {"ARIZE_SPACE_ID": "U3BhY2U6MTIz", "ARIZE_API_KEY": "ak-test"}
ARIZE_HEADERS = {
    "authorization": "ak-test",
    "api_key": "ak-test",
    "arize-space-id": "U3BhY2U6MTIz",
    "space_id": "U3BhY2U6MTIz",
    "arize-interface": "otel",
}
# What arize.yaml says it cannot map (OTTL has no loop or counter): tool calls, tool definitions.
ARIZE_UNMAPPED = re.compile(r"^llm\.(input|output)_messages\.\d+\.message\.tool_call|^llm\.tools\.")


def test_arize_gets_its_headers_its_project_and_the_in_process_openinference_view() -> None:
    with otlp_receiver("/v1/traces", header_is(ARIZE_HEADERS)) as arize:
        env = {**ARIZE_ENV, "ARIZE_ENDPOINT": arize.base_url, "ARIZE_PROJECT_NAME": "weather-bot"}
        with otelcol("arize.yaml", env) as collector:
            sent = through(collector, tenants=("team-1",))
            spans = arrived(arize, 2)
            assert complaints(collector) == []
        assert arize.rejected == []
    assert all(request.gzip for request in arize.accepted)
    for span in spans:
        assert span.resource["openinference.project.name"] == span.resource["model_id"] == "weather-bot"
    assert_parity(spans, sent_attributes(sent), openinference_view, ARIZE_UNMAPPED)

    chat = by_operation(spans)["chat"].attributes
    assert chat["openinference.span.kind"] == "LLM"
    assert chat["llm.model_name"] == MODEL
    assert (chat["llm.provider"], chat["llm.system"]) == ("openai", "openai")
    assert (chat["llm.token_count.prompt"], chat["llm.token_count.completion"], chat["llm.token_count.total"]) == (
        1200,
        300,
        1500,
    )
    assert chat["llm.cost.prompt"] + chat["llm.cost.completion"] == pytest.approx(chat["llm.cost.total"])
    assert [chat[f"llm.input_messages.{i}.message.{f}"] for i in (0, 1) for f in ("role", "content")] == [
        "system",
        SYSTEM,
        "user",
        QUESTION,
    ]
    assert (chat["llm.output_messages.0.message.role"], chat["llm.output_messages.0.message.content"]) == (
        "assistant",
        ANSWER,
    )
    assert json.loads(chat["input.value"])["messages"][1]["parts"][0]["content"] == QUESTION
    assert chat["output.mime_type"] == "application/json"  # text and a tool call: not one plain text
    assert json.loads(chat["metadata"]) == {"feature": "forecast", "tier": 2, "tenant_id": "team-1"}
    assert not [k for k in chat if k.startswith("llm.") and ".parts." in k]  # no flattening leftovers
    embedding = by_operation(spans)["embeddings"].attributes
    assert embedding["openinference.span.kind"] == "EMBEDDING"
    assert embedding["embedding.model_name"] == "text-embedding-3-small"
    assert "llm.provider" not in embedding and "llm.invocation_parameters" not in embedding


ARIZE_EDGE_SPANS: list[tuple[str, dict[str, Any]]] = [
    # system instructions first; text parts in either key order and spacing; a reasoning part is not
    # content; a single one-part answer is plain text; the span's own llm.model_name wins
    (
        "anthropic-style",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "aws.bedrock",
            "gen_ai.request.model": "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-sonnet-4",
            "llm.model_name": "my-own-name",
            "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief. Cost: $1"}]),
            "gen_ai.input.messages": json.dumps(
                [
                    {"role": "user", "parts": [{"content": 'Say "hi" \\o/', "type": "text"}]},
                    {
                        "role": "assistant",
                        "parts": [{"type": "reasoning", "content": "think"}, {"type": "text", "content": "hi"}],
                    },
                    {
                        "role": "user",
                        "name": "bob",
                        "parts": [{"type": "blob", "modality": "image", "content": "iVBOR"}],
                    },
                ],
                separators=(", ", ": "),
            ),
            "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "ok"}]}]),
            "gen_ai.usage.output_tokens": 4,
            "otel_llm.cost.cache_write_usd": 0.25,
            "otel_llm.cost.cache_read_usd": 0.5,
            "gen_ai.request.top_k": 40,
        },
    ),
    ("azure", {"gen_ai.operation.name": "text_completion", "gen_ai.provider.name": "azure.ai.openai"}),
    ("gemini", {"gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini"}),
    (
        "bedrock-meta",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "aws.bedrock",
            "gen_ai.response.model": "meta.llama3",
        },
    ),
    ("other-provider", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "groq"}),
    ("tool", {"gen_ai.operation.name": "execute_tool", "gen_ai.input.messages": "[]", "otel_llm.tenant.id": "t"}),
    ("retrieval", {"gen_ai.operation.name": "retrieval", "otel_llm.metadata.ids": ("a", "b")}),
    ("not-genai", {"http.method": "GET", "otel_llm.cost.usd": 0.5}),
    ("unknown-operation", {"gen_ai.operation.name": "count_tokens", "gen_ai.request.model": "x"}),
]


def test_arize_mapping_matches_the_in_process_view_on_edge_cases() -> None:
    with otlp_receiver("/v1/traces", header_is(ARIZE_HEADERS)) as arize:
        with otelcol("arize.yaml", {**ARIZE_ENV, "ARIZE_ENDPOINT": arize.base_url}) as collector:
            originals = export_spans(collector, ARIZE_EDGE_SPANS)
            spans = arrived(arize, len(ARIZE_EDGE_SPANS))
            assert complaints(collector) == []  # no statement failed on the way
        assert arize.rejected == []
    assert_parity(spans, originals, openinference_view, ARIZE_UNMAPPED)
    by_name = {span.name: span.attributes for span in spans}
    a = by_name["anthropic-style"]
    assert a["llm.model_name"] == "my-own-name"  # kept
    assert a["llm.system"] == "anthropic" and a["llm.provider"] == "aws"
    assert [a.get(f"llm.input_messages.{i}.message.content") for i in range(4)] == [
        "Be brief. Cost: $1",
        'Say "hi" \\o/',
        "hi",
        None,  # an image is not text
    ]
    assert a["llm.input_messages.3.message.name"] == "bob"
    assert (a["output.value"], a["output.mime_type"]) == ("ok", "text/plain")
    assert a["llm.cost.prompt"] == 0.75
    assert by_name["bedrock-meta"]["llm.system"] == "meta"
    assert "llm.system" not in by_name["other-provider"] and by_name["other-provider"]["llm.provider"] == "groq"
    assert json.loads(by_name["retrieval"]["metadata"]) == {"ids": ["a", "b"]}
    assert not [k for k in by_name["not-genai"] | by_name["unknown-operation"] if k.startswith(VIEW_PREFIXES)]


def test_phoenix_shows_the_collector_mapped_spans_as_openinference(phoenix: PhoenixServer) -> None:
    """Arize's open-source backend, reading OpenInference, as the destination (it ignores the headers)."""
    project = f"collector-arize-{uuid.uuid4().hex[:8]}"  # this test's spans only
    env = {**ARIZE_ENV, "ARIZE_ENDPOINT": phoenix.endpoint, "ARIZE_PROJECT_NAME": project}
    with otelcol("arize.yaml", env) as collector:
        through(collector)
        spans = phoenix.spans(project, min_spans=2)
    assert len(spans) == 2, [span["name"] for span in spans]
    stored = {span["span_kind"]: span for span in spans}
    assert set(stored) == {"LLM", "EMBEDDING"}
    a = stored["LLM"]["attributes"]
    check_openinference_llm(a)
    messages = {
        key: value for key, value in a.items() if key.startswith(("llm.input_messages.", "llm.output_messages."))
    }
    assert messages == {
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": SYSTEM,
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": QUESTION,
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": ANSWER,
    }
    assert json.loads(a["input.value"])["messages"][1]["parts"][0]["content"] == QUESTION
    e = stored["EMBEDDING"]["attributes"]
    assert e["embedding.model_name"] == "text-embedding-3-small"
    assert e["llm.token_count.prompt"] == 5
