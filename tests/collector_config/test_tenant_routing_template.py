"""collector-config/tenant-routing.yaml on the real collector: tenants from credentials, really separated.

Five senders, each a real instrumented app (openai calls, content captured) with its own otel-llm
``otlp`` destination pointing at the collector and its own Basic-auth credential: team-a, team-b
(over gRPC), the muted team-gdpr, platform (no route of its own: the default), and a team-a sender
that claims to be team-b (otel_llm.context(tenant_id="team-b") on its spans and otel_llm.tenant.id on
its resource). Three OTLP/HTTP sinks on loopback stand for team-a's, team-b's and the default
destination. Requests without a valid credential are refused by the collector itself.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import otel_llm
from otel_llm.genai import attributes as A
from tests.backends.calls import make_calls
from tests.collector_config.otelcol import Otelcol, otelcol
from tests.servers import HttpSink, http_sink, otlp_http_spans, request_spans, wait_for
from tests.support import Telemetry, instrument

TEMPLATE = "tenant-routing.yaml"
TENANT = A.TENANT_ID  # otel_llm.tenant.id
PASSWORDS = {name: secrets.token_urlsafe(18) for name in ("team-a", "team-b", "team-gdpr", "platform")}


def ssha(password: str) -> str:
    """An htpasswd {SSHA} hash (salted SHA-1; the template's comment recommends bcrypt, which the
    standard library cannot make)."""
    salt = os.urandom(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass
class Routing:
    collector: Otelcol
    team_a: HttpSink
    team_b: HttpSink
    default: HttpSink


@contextmanager
def tenant_routing(tmp_path: Path) -> Iterator[Routing]:
    # two tenants inline (a multi-line variable), two in a file: both sources are read
    inline = "\n".join(f"{name}:{ssha(PASSWORDS[name])}" for name in ("team-a", "team-b"))
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text("".join(f"{name}:{ssha(PASSWORDS[name])}\n" for name in ("team-gdpr", "platform")))
    with http_sink() as team_a, http_sink() as team_b, http_sink() as default:
        env = {
            "TENANTS_HTPASSWD": inline,
            "TENANTS_HTPASSWD_FILE": str(htpasswd),
            "TEAM_A_OTLP_ENDPOINT": team_a.url,
            "TEAM_B_OTLP_ENDPOINT": team_b.url,
            "DEFAULT_OTLP_ENDPOINT": default.url,
        }
        with otelcol(TEMPLATE, env) as collector:
            yield Routing(collector, team_a, team_b, default)


def send_as(
    collector: Otelcol,
    user: str,
    service: str,
    tenant_id: str | None,
    resource: dict[str, Any] | None = None,
    grpc_protocol: bool = False,
) -> set[str]:
    """Real instrumented calls (a chat and an embeddings call) made by an app named ``service``,
    inside otel_llm.context(tenant_id=tenant_id), exported with ``user``'s credential; their trace ids."""
    telemetry = Telemetry()
    telemetry.tracer_provider = TracerProvider(resource=Resource.create({"service.name": service, **(resource or {})}))
    telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(telemetry.span_exporter))
    destination: dict[str, Any] = {
        "type": "otlp",
        "headers": {"Authorization": basic(user, PASSWORDS[user])},
        "queue": {"flush_interval": 0.05},
    }
    if grpc_protocol:
        destination.update(endpoint=collector.grpc_endpoint, protocol="grpc", insecure=True)
    else:
        destination.update(endpoint=collector.http_endpoint, protocol="http/protobuf")
    instrumentor = instrument(telemetry, capture_content="SPAN_ONLY", cost=True)
    pipeline = otel_llm.configure(
        {"destinations": {"collector": destination}},
        tracer_provider=telemetry.tracer_provider,
        meter_provider=MeterProvider(),
        instrument=False,
    )
    try:
        make_calls(tenant_id)
    finally:
        instrumentor.uninstrument()
    assert pipeline.force_flush(20_000)
    spans = telemetry.spans()
    assert len(spans) == 2 and all(s.attributes.get(TENANT) == tenant_id for s in spans)
    return {format(s.context.trace_id, "032x") for s in spans}


def received(sink: HttpSink) -> list[tuple[str, str | None, str | None, str]]:
    """(service.name, resource tenant, span tenant, trace id) of every span the sink got."""
    out = []
    for request in list(sink.requests):
        parsed = trace_service_pb2.ExportTraceServiceRequest.FromString(request.body)
        for rs in parsed.resource_spans:
            resource = {kv.key: kv.value.string_value for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                for span in ss.spans:
                    attributes = {kv.key: kv.value.string_value for kv in span.attributes}
                    out.append(
                        (
                            resource.get("service.name"),
                            resource.get(TENANT),
                            attributes.get(TENANT),
                            span.trace_id.hex(),
                        )
                    )
    return out


def test_each_tenant_reaches_only_its_own_destination_and_the_tenant_cannot_be_forged(tmp_path: Path) -> None:
    with tenant_routing(tmp_path) as r:
        # the muted tenant first: by the time the others arrived, its spans would have too
        muted = send_as(r.collector, "team-gdpr", "svc-gdpr", "team-gdpr")
        team_a = send_as(r.collector, "team-a", "svc-team-a", "team-a")
        forged = send_as(r.collector, "team-a", "svc-forger", "team-b", resource={TENANT: "team-b"})
        team_b = send_as(r.collector, "team-b", "svc-team-b", "team-b", grpc_protocol=True)
        platform = send_as(r.collector, "platform", "svc-platform", None)  # no tenant of its own

        def arrived() -> bool:
            return (len(received(r.team_a)), len(received(r.team_b)), len(received(r.default))) == (4, 2, 2)

        assert wait_for(arrived, timeout=15), (
            [len(received(s)) for s in (r.team_a, r.team_b, r.default)],
            r.collector.log()[-3000:],
        )
        metrics = r.collector.metrics()

    got_a, got_b, got_default = received(r.team_a), received(r.team_b), received(r.default)
    # team-a's destination: team-a's spans and the forger's, all marked team-a on resource and span
    assert {(svc, res, span) for svc, res, span, _ in got_a} == {
        ("svc-team-a", "team-a", "team-a"),
        ("svc-forger", "team-a", "team-a"),
    }
    assert {trace for *_, trace in got_a} == team_a | forged
    # team-b's destination: only team-b's own (sent over gRPC)
    assert {(svc, res, span) for svc, res, span, _ in got_b} == {("svc-team-b", "team-b", "team-b")}
    assert {trace for *_, trace in got_b} == team_b
    # the default destination: the tenant without a route, marked with its credential's name
    assert {(svc, res, span) for svc, res, span, _ in got_default} == {("svc-platform", "platform", "platform")}
    assert {trace for *_, trace in got_default} == platform
    # the muted tenant: accepted, then nowhere
    everything = got_a + got_b + got_default
    assert not {trace for *_, trace in everything} & muted
    assert "svc-gdpr" not in {svc for svc, *_ in everything}
    assert "team-b" not in {res for _, res, _, _ in got_a} | {span for _, _, span, _ in got_a}
    # the collector accepted all ten spans (the muted ones too: dropped by the filter, not refused)
    accepted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("otelcol_receiver_accepted_spans") and 'receiver="otlp"' in line
    )
    assert accepted == 10, metrics


# -- Refused credentials -----------------------------------------------------------------------


def otlp_body() -> bytes:
    """A valid ExportTraceServiceRequest with one span that claims to be team-a's."""
    span = trace_pb2.Span(
        trace_id=secrets.token_bytes(16),
        span_id=secrets.token_bytes(8),
        name="chat gpt-4o",
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_001_000_000_000,
        attributes=[common_pb2.KeyValue(key=TENANT, value=common_pb2.AnyValue(string_value="team-a"))],
    )
    resource = resource_pb2.Resource(
        attributes=[common_pb2.KeyValue(key="service.name", value=common_pb2.AnyValue(string_value="intruder"))]
    )
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(resource=resource, scope_spans=[trace_pb2.ScopeSpans(spans=[span])])]
    )
    return request.SerializeToString()


def post(collector: Otelcol, authorization: str | None) -> int:
    headers = {"Content-Type": "application/x-protobuf"}
    if authorization is not None:
        headers["Authorization"] = authorization
    request = urllib.request.Request(
        f"{collector.http_endpoint}/v1/traces", data=otlp_body(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic("team-a", "not-the-password"),
        basic("team-a", PASSWORDS["team-b"]),  # another tenant's password
        basic("team-c", PASSWORDS["team-a"]),  # a user not in the list
        "Bearer " + PASSWORDS["team-a"],
        "Basic not-base64!",
    ],
    ids=["no-credential", "wrong-password", "other-tenants-password", "unknown-user", "bearer", "malformed"],
)
def test_requests_without_a_valid_credential_are_refused(tmp_path: Path, authorization: str | None) -> None:
    with tenant_routing(tmp_path) as r:
        assert post(r.collector, authorization) == 401
        # the same body with team-a's credential is accepted: the refusal was the credential's
        assert post(r.collector, basic("team-a", PASSWORDS["team-a"])) == 200
        assert wait_for(lambda: len(otlp_http_spans(r.team_a)) == 1, timeout=15)
        # over gRPC too
        with grpc.insecure_channel(f"127.0.0.1:{r.collector.grpc_port}") as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)
            request = trace_service_pb2.ExportTraceServiceRequest.FromString(otlp_body())
            metadata = () if authorization is None else (("authorization", authorization),)
            with pytest.raises(grpc.RpcError) as refused:
                stub.Export(request, metadata=metadata, timeout=10)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert len(otlp_http_spans(r.team_a)) == 1
        assert (len(r.team_b.requests), len(r.default.requests)) == (0, 0)
    (span,) = [s for req in r.team_a.requests for s in request_spans(req.body)]
    assert span.name == "chat gpt-4o"
