"""Langfuse, proven by contract (no Langfuse server can run here): the exact request its OTel
endpoint takes, and the attributes it reads, per tenant project."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping

import pytest

from otel_llm.config import ConfigError, describe, load_config
from tests.backends.calls import by_operation, send_calls
from tests.backends.expected import check_langfuse_generation
from tests.backends.otlp_contract import Receiver, otlp_receiver

PATH = "/api/public/otel/v1/traces"
PROJECTS = {"pk-lf-team1": ("sk-lf-team1", "project-1"), "pk-lf-team2": ("sk-lf-team2", "project-2")}
QUEUE = {"flush_interval": 0.05}


def langfuse_check(headers: Mapping[str, str]) -> tuple[int, str] | None:
    """What Langfuse's endpoint checks: Basic auth of a known key pair, an ingestion version <= 4."""
    auth = headers.get("authorization", "")
    if not auth.startswith("Basic "):
        return 401, "no Basic auth"
    public, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
    if PROJECTS.get(public, (None,))[0] != secret:
        return 401, "unknown key pair"
    version = headers.get("x-langfuse-ingestion-version")
    if version is not None and (not version.isdigit() or int(version) > 4):
        return 400, f"Unsupported x-langfuse-ingestion-version {version}"
    return None


def project_of(headers: Mapping[str, str]) -> str:
    public = base64.b64decode(headers["authorization"][6:]).decode().partition(":")[0]
    return PROJECTS[public][1]


@pytest.fixture
def langfuse() -> Iterator[Receiver]:
    with otlp_receiver(PATH, langfuse_check) as receiver:
        yield receiver
        assert receiver.rejected == []


def seed_config(host: str) -> dict:
    """The seed case: team 1 → project 1, team 2 → project 2, team 3 → no logging."""

    def project(public: str) -> dict:
        return {"type": "langfuse", "host": host, "public_key": public, "secret_key": PROJECTS[public][0], "queue": QUEUE}

    return {
        "destinations": {"langfuse-team-1": project("pk-lf-team1"), "langfuse-team-2": project("pk-lf-team2")},
        "tenants": {
            "team-1": {"destinations": ["langfuse-team-1"]},
            "team-2": {"destinations": ["langfuse-team-2"]},
            "team-3": {"logging": False},
        },
        "default_destinations": [],
    }


def test_each_team_reaches_its_own_project_and_team_3_nothing(langfuse: Receiver) -> None:
    sent = send_calls(seed_config(langfuse.base_url), tenants=("team-1", "team-2", "team-3", "team-1"))

    by_project: dict[str, list[str]] = {}
    for request in langfuse.accepted:
        assert request.path == PATH
        assert request.headers["x-langfuse-ingestion-version"] == "4"
        assert request.headers["content-type"] == "application/x-protobuf"
        assert request.gzip
        for span in request.spans:
            by_project.setdefault(project_of(request.headers), []).append(span.attributes["otel_llm.tenant.id"])
    assert sorted(by_project["project-1"]) == ["team-1"] * 4  # chat + embeddings, twice
    assert by_project["project-2"] == ["team-2"] * 2
    assert set(by_project) == {"project-1", "project-2"}  # team 3: nowhere
    stats = sent.pipeline.stats()
    assert stats["langfuse-team-1"]["exported"] == 4 and stats["langfuse-team-2"]["exported"] == 2


def test_a_call_arrives_as_a_generation_with_model_usage_cost_and_trace_labels(langfuse: Receiver) -> None:
    send_calls(seed_config(langfuse.base_url), tenants=("team-1",))
    spans = by_operation(langfuse.spans())
    chat = spans["chat"].attributes
    check_langfuse_generation(chat, tenant="team-1")
    # messages stay GenAI-only: any of these would take precedence over gen_ai.input.messages in Langfuse
    assert "gen_ai.input.messages" in chat and "gen_ai.output.messages" in chat
    assert not {"input", "output", "input.value", "output.value", "langfuse.observation.input"} & set(chat)
    assert not [k for k in chat if k.startswith(("llm.input_messages", "gen_ai.prompt", "gen_ai.completion"))]

    embeddings = spans["embeddings"].attributes
    assert embeddings["langfuse.observation.type"] == "embedding"
    assert json.loads(embeddings["langfuse.observation.usage_details"]) == {"input": 5, "total": 5}


def test_keys_come_from_the_langfuse_environment_variables_and_are_masked_in_check_config(
    langfuse: Receiver,
) -> None:
    environ = {
        "LANGFUSE_PUBLIC_KEY": "pk-lf-team2",
        "LANGFUSE_SECRET_KEY": "sk-lf-team2",
        "LANGFUSE_BASE_URL": langfuse.base_url,
    }
    config = load_config({"destinations": {"lf": {"type": "langfuse", "queue": QUEUE}}}, environ=environ)
    text = describe(config)
    assert "sk-lf-team2" not in text
    assert base64.b64encode(b"pk-lf-team2:sk-lf-team2").decode() not in text
    assert f"{langfuse.base_url}{PATH}" in text

    send_calls(config, embeddings=False)
    assert {project_of(r.headers) for r in langfuse.accepted} == {"project-2"}
    assert len(langfuse.spans()) == 1


def test_check_config_masks_every_url_option() -> None:
    config = load_config(
        {"destinations": {"lf": {"type": "langfuse", "public_key": "pk", "secret_key": "sk", "host": "https://u:pw@h/x?token=abc"}}},
        environ={},
    )
    text = describe(config)
    assert "pw" not in text and "abc" not in text
    assert "host=https://u:****@h/x?token=****" in text


def test_a_missing_key_is_an_error_at_its_key_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_config({"destinations": {"lf": {"type": "langfuse", "public_key": "pk-lf-1"}}}, environ={})
    assert str(err.value).splitlines()[1].strip() == (
        "destinations.lf.secret_key: required: give it in the configuration or set LANGFUSE_SECRET_KEY"
    )
