"""How a preset takes its settings: which environment variables win, what never reaches a backend
(the user's collector credentials), how secrets are cleaned and never shown, and what of the
span's own a view or project setting leaves alone."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from otel_llm.backends import BACKENDS, BackendSpanExporter, backend_exporter
from otel_llm.config import ConfigError, load_config
from tests.backends.calls import send_calls
from tests.backends.otlp_contract import otlp_receiver
from tests.servers import otlp_grpc_sink, wait_for

QUEUE = {"flush_interval": 0.05}


def target(name: str, **environ: str) -> object:
    exporter = backend_exporter(name, environ=environ)
    exporter.shutdown()
    return exporter.target


@pytest.mark.parametrize(
    ("name", "environ", "field", "expected"),
    [
        (
            "langfuse",
            {"LANGFUSE_BASE_URL": "https://us.cloud.langfuse.com", "LANGFUSE_HOST": "http://old:3000"},
            "endpoint",
            "https://us.cloud.langfuse.com/api/public/otel/v1/traces",
        ),
        ("langfuse", {"LANGFUSE_HOST": "http://lf:3000"}, "endpoint", "http://lf:3000/api/public/otel/v1/traces"),
        (
            "honeycomb",
            {"HONEYCOMB_TRACES_APIKEY": "traces-key", "HONEYCOMB_API_KEY": "general-key"},
            "x-honeycomb-team",
            "traces-key",
        ),
        ("phoenix", {"PHOENIX_PROJECT": "new", "PHOENIX_PROJECT_NAME": "old"}, "project", "new"),
        (
            "arize",
            {"ARIZE_COLLECTOR_ENDPOINT": "https://otlp.eu-west-1a.arize.com/v1"},
            "endpoint",
            "https://otlp.eu-west-1a.arize.com/v1",
        ),
        (
            "langsmith",
            {"LANGSMITH_ENDPOINT": "https://eu.api.smith.langchain.com/otel"},
            "endpoint",
            "https://eu.api.smith.langchain.com/otel/v1/traces",
        ),
    ],
)
def test_the_first_variable_set_wins(name: str, environ: dict[str, str], field: str, expected: str) -> None:
    required = {"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "ARIZE_SPACE_ID": "s", "ARIZE_API_KEY": "k"}
    t = target(name, **{**required, "HONEYCOMB_API_KEY": "k", "LANGSMITH_API_KEY": "k", **environ})
    if field == "endpoint":
        assert t.endpoint == expected
    elif field == "project":
        assert t.resource["openinference.project.name"] == expected
    else:
        assert t.headers[field] == expected


def test_the_collectors_otlp_credentials_never_reach_a_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer collector-token,x-collector=1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-collector-traces=1")
    with otlp_receiver("/otel/v1/traces") as langsmith, otlp_grpc_sink() as arize:
        send_calls(
            {
                "destinations": {
                    "langsmith": {"type": "langsmith", "endpoint": langsmith.base_url, "api_key": "k", "queue": QUEUE},
                    "arize": {
                        "type": "arize",
                        "endpoint": arize.endpoint,
                        "space_id": "s",
                        "api_key": "k",
                        "headers": {"X-Team": "weather"},  # capitals: gRPC metadata keys must be lower-case
                        "queue": QUEUE,
                    },
                }
            },
            embeddings=False,
        )
        assert wait_for(lambda: arize.metadata)
    (request,) = langsmith.accepted
    assert request.headers["x-api-key"] == "k"
    assert not {"x-collector", "x-collector-traces", "authorization"} & set(request.headers)
    (metadata,) = arize.metadata
    assert metadata["x-team"] == "weather" and metadata["authorization"] == "k"
    assert "x-collector" not in metadata and "x-collector-traces" not in metadata
    import os

    assert os.environ["OTEL_EXPORTER_OTLP_HEADERS"].startswith("authorization=")  # put back after construction


def test_a_key_read_with_a_trailing_newline_is_cleaned_and_control_characters_are_refused_by_name() -> None:
    assert target("honeycomb", HONEYCOMB_API_KEY="hcaik_secret\n").headers == {"x-honeycomb-team": "hcaik_secret"}
    with pytest.raises(ValueError) as err:
        backend_exporter("honeycomb", environ={"HONEYCOMB_API_KEY": "hcaik\rsecret"})
    assert str(err.value) == "honeycomb: api_key: expected a value without control characters"
    with pytest.raises(ConfigError) as err:
        load_config({"destinations": {"hc": {"type": "honeycomb", "api_key": "hcaik\x00secret"}}}, environ={})
    assert "destinations.hc.api_key: expected a value without control characters" in str(err.value)
    assert "secret" not in str(err.value)


def test_a_bad_value_from_the_environment_is_refused_as_a_files_would_be() -> None:
    with pytest.raises(ValueError) as err:
        backend_exporter("datadog", environ={"DD_API_KEY": "k", "OTEL_LLM_DATADOG_MODE": "sideways"})
    assert str(err.value) == "datadog: mode: expected one of llmobs, agent, got 'sideways'"
    with pytest.raises(ValueError) as err:
        backend_exporter("mlflow", environ={"MLFLOW_TRACKING_URI": "databricks"})
    assert str(err.value).startswith("mlflow: tracking_uri: expected an http:// or https:// URL")


def test_secrets_are_not_in_the_targets_repr() -> None:
    t = target("langsmith", LANGSMITH_API_KEY="lsv2_secret")
    assert "lsv2_secret" not in repr(t)


def _span(attributes: dict, resource: Resource) -> ReadableSpan:
    context = SpanContext(0x1234, 0x5678, is_remote=False, trace_flags=TraceFlags(1))
    return ReadableSpan("chat m", context, attributes=attributes, resource=resource, start_time=1, end_time=2)


def test_a_view_adds_but_never_changes_what_the_span_has() -> None:
    exporter = BackendSpanExporter(
        BACKENDS["langfuse"], environ={"LANGFUSE_PUBLIC_KEY": "p", "LANGFUSE_SECRET_KEY": "s"}
    )
    span = _span(
        {"gen_ai.operation.name": "chat", "gen_ai.conversation.id": "conv", "session.id": "mine"}, Resource({})
    )
    seen = exporter.seen(span).attributes
    exporter.shutdown()
    assert seen["session.id"] == "mine"
    assert seen["langfuse.observation.type"] == "generation"


def test_the_apps_project_stays_unless_the_destination_names_one() -> None:
    app = Resource({"service.name": "svc", "openinference.project.name": "from-the-app"})
    bare = Resource({"service.name": "svc"})
    span = {"gen_ai.operation.name": "chat"}
    unset = BackendSpanExporter(BACKENDS["phoenix"], environ={})
    named = BackendSpanExporter(BACKENDS["phoenix"], environ={}, project="configured")
    try:
        assert unset.seen(_span(span, app)).resource.attributes["openinference.project.name"] == "from-the-app"
        assert unset.seen(_span(span, bare)).resource.attributes["openinference.project.name"] == "default"
        assert named.seen(_span(span, app)).resource.attributes["openinference.project.name"] == "configured"
    finally:
        unset.shutdown()
        named.shutdown()
