"""Arize Phoenix, proven against a real Phoenix server (``arize-phoenix`` from PyPI): the spans read
back through its REST API are LLM spans with the OpenInference attributes of our view, in the
project the destination names; a destination that drops content shows only placeholders."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.backends.calls import QUESTION, SYSTEM, TOOL_ARGUMENTS, send_calls
from tests.backends.expected import check_openinference_llm
from tests.backends.phoenix_server import PhoenixServer

QUEUE = {"flush_interval": 0.05}


@pytest.fixture(scope="module")
def stored(phoenix: PhoenixServer) -> dict[str, dict[str, Any]]:
    """Two runs, into two projects (content kept / dropped): each project's spans by span kind.

    Two runs, not one run into two destinations: Phoenix keys spans by span id, so the same span
    sent to two projects of one server lands in only one of them.
    """
    out = {}
    for project, redaction in (("weather-bot", {}), ("weather-bot-private", {"content": "drop"})):
        destination = {"type": "phoenix", "endpoint": phoenix.endpoint, "project": project, "queue": QUEUE}
        send_calls({"destinations": {"phoenix": {**destination, "redaction": redaction}}}, tenants=("team-1",))
        out[project] = {span["span_kind"]: span for span in phoenix.spans(project, min_spans=2)}
    return out


def test_a_chat_call_is_an_llm_span_with_model_tokens_cost_and_labels(stored: dict[str, dict[str, Any]]) -> None:
    assert set(stored["weather-bot"]) == {"LLM", "EMBEDDING"}
    llm = stored["weather-bot"]["LLM"]
    a = llm["attributes"]
    assert llm["name"] == "chat gpt-4o"
    check_openinference_llm(a)
    assert a["metadata.tenant_id"] == "team-1"


def test_messages_and_tool_calls_show_in_openinference_form(stored: dict[str, dict[str, Any]]) -> None:
    a = stored["weather-bot"]["LLM"]["attributes"]
    assert [(m["message.role"], m["message.content"]) for m in _messages(a, "input")] == [
        ("system", SYSTEM),
        ("user", QUESTION),
    ]
    (answer,) = _messages(a, "output")
    assert answer["message.role"] == "assistant"
    assert answer["message.content"] == "Let me look that up."
    call = "message.tool_calls.0.tool_call"
    assert (answer[f"{call}.id"], answer[f"{call}.function.name"]) == ("call_w1", "get_weather")
    assert json.loads(answer[f"{call}.function.arguments"]) == TOOL_ARGUMENTS
    assert a["input.mime_type"] == "application/json"
    assert json.loads(a["input.value"])["messages"][1]["parts"][0]["content"] == QUESTION


def test_the_embedding_call_is_an_embedding_span(stored: dict[str, dict[str, Any]]) -> None:
    a = stored["weather-bot"]["EMBEDDING"]["attributes"]
    assert a["embedding.model_name"] == "text-embedding-3-small"
    assert a["llm.token_count.prompt"] == 5


def test_a_destination_that_drops_content_shows_placeholders_only(stored: dict[str, dict[str, Any]]) -> None:
    private = stored["weather-bot-private"]["LLM"]["attributes"]
    text = json.dumps(private)
    for secret in (SYSTEM, QUESTION, "Let me look that up.", "Paris"):
        assert secret not in text
    contents = [m["message.content"] for m in _messages(private, "input")]
    assert contents and all(c.startswith("[redacted ") for c in contents)
    assert private["llm.token_count.prompt"] == 1200  # the numbers are not content


def _messages(attributes: dict[str, Any], side: str) -> list[dict[str, Any]]:
    """``llm.<side>_messages.N.<rest>`` (Phoenix's REST API returns flat dotted keys) as one dict per message."""
    out: dict[int, dict[str, Any]] = {}
    prefix = f"llm.{side}_messages."
    for key, item in attributes.items():
        if key.startswith(prefix):
            index, _, rest = key[len(prefix) :].partition(".")
            out.setdefault(int(index), {})[rest] = item
    return [out[i] for i in sorted(out)]
