"""Datadog, proven against Datadog's APM test agent (``ddapm-test-agent``, a real server from PyPI):
both routes the preset offers arrive there as Datadog would receive them.

``mode: llmobs`` is the OTLP intake of LLM Observability (``https://trace.agent.<site>/v1/traces``),
pointed here at the test agent's OTLP port: the request must carry the API key and the
``dd-otlp-source`` header, and GenAI spans of the 1.37+ conventions, which LLM Observability reads
as they are. ``mode: agent`` is plain OTLP to a Datadog Agent's OTLP receiver (APM).
The test agent records OTLP requests but does not convert them into LLM Observability spans
(DataDog/dd-apm-test-agent#378), so the conversion itself is Datadog's, checked against its
documented attribute mapping here.
"""

from __future__ import annotations

import pytest

from otel_llm.backends import backend_exporter
from tests.backends.calls import by_operation, send_calls
from tests.backends.ddagent_server import DdAgent
from tests.backends.expected import check_datadog

QUEUE = {"flush_interval": 0.05}


@pytest.fixture
def agent(ddagent: DdAgent) -> DdAgent:
    ddagent.clear()
    return ddagent


def test_llm_observability_intake_gets_key_source_and_genai_spans(agent: DdAgent) -> None:
    send_calls(
        {
            "destinations": {
                "datadog": {
                    "type": "datadog",
                    "api_key": "dd-test-key",
                    "endpoint": agent.otlp_http_endpoint,  # instead of https://trace.agent.datadoghq.com
                    "queue": QUEUE,
                }
            }
        }
    )
    requests = agent.requests("/v1/traces")
    for request in requests:
        assert request["headers"]["dd-api-key"] == "dd-test-key"
        assert request["headers"]["dd-otlp-source"] == "llmobs"
        assert request["headers"]["content-type"] == "application/x-protobuf"
    check_datadog([s for r in requests for s in r["spans"]])


def test_agent_mode_is_plain_otlp_to_the_agent(agent: DdAgent) -> None:
    send_calls(
        {
            "destinations": {
                "apm": {"type": "datadog", "mode": "agent", "agent_endpoint": agent.otlp_http_endpoint, "queue": QUEUE}
            }
        },
        embeddings=False,
    )
    (request,) = agent.requests("/v1/traces")
    assert "dd-api-key" not in request["headers"]  # the Agent holds the key
    assert by_operation(request["spans"])["chat"].attributes["gen_ai.usage.input_tokens"] == 1200


def test_the_intake_url_follows_the_site_and_the_source_header_is_configurable() -> None:
    exporter = backend_exporter(
        "datadog", environ={"DD_API_KEY": "k", "DD_SITE": "datadoghq.eu"}, otlp_source="datadog"
    )
    assert exporter.target.endpoint == "https://trace.agent.datadoghq.eu/v1/traces"
    assert exporter.target.headers == {"dd-api-key": "k", "dd-otlp-source": "datadog"}
    exporter.shutdown()
