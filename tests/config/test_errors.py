"""Invalid configurations: one ConfigError listing every problem as `<key path>: <expected>, got <value>`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

from otel_llm.config import Config, ConfigError, ConfigFileError, Problem, load_config
from otel_llm.config._destinations import DESTINATION_MODELS
from otel_llm.config._models import ModelPrice, Propagation, Requests, Tenant
from otel_llm.config._redaction import RedactionBlock
from otel_llm.config._types import Block
from tests.config._docs import followed_by_text

SECRET = "sk-proj-PLANTEDSECRET0123456789"


def problems(source: Any, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(source, environ=environ or {})
    return [str(p) for p in caught.value.problems]


def console(**keys: Any) -> dict[str, Any]:
    return {"destinations": {"c": {"type": "console", **keys}}}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "otel-llm.yaml"
    path.write_text(text)
    return path


# -- one message per documented rule ----------------------------------------------------------------

CASES = [
    # top level
    ({"version": 2}, "version: expected 1 (the only version of the format), got 2"),
    (
        {"capture_content": "EVENT_ONLY"},
        "capture_content: expected one of no_content, span_only, true, false (event modes are not supported: "
        "content events are log records, which bypass the destinations' redaction and routing), got 'EVENT_ONLY'",
    ),
    ({"capture_content": "all"}, "capture_content: expected one of no_content, span_only, true, false, got 'all'"),
    ({"cost": "maybe"}, "cost: expected true or false, got 'maybe'"),
    ({"cost": 1}, "cost: expected true or false, got 1"),
    ({"destinations": []}, "destinations: expected a mapping, got a list"),
    ({"tenants": "team-1"}, "tenants: expected a mapping, got 'team-1'"),
    # prices, as cost.py's Pricer reads them
    ({"prices": {"m": {"input": -1, "output": 1}}}, "prices.m.input: expected a number >= 0, got -1"),
    ({"prices": {"m": {"input": True, "output": 1}}}, "prices.m.input: expected a number >= 0, got true"),
    ({"prices": {"m": {"input": 1}}}, "prices.m.output: required key is missing"),
    ({"prices": {"m": 3}}, "prices.m: expected a mapping, got 3"),
    ({"prices": {"": {"input": 1, "output": 1}}}, "prices.'': expected a non-empty string, got ''"),
    (
        {"prices": {"Openai/M": {"input": 1, "output": 1}, "openai/m": {"input": 2, "output": 2}}},
        "prices['openai/m']: the same model as another key (names are compared case-insensitively)",
    ),
    # propagation and requests
    ({"propagation": {"propagate_to": "default"}}, "propagation.propagate_to: expected a list, got 'default'"),
    ({"propagation": {"propagate_to": ["default", 10]}}, "propagation.propagate_to[1]: expected a non-empty string, got 10"),
    (
        {"propagation": {"propagate_to": ["default", "not a host!!"]}},
        "propagation.propagate_to[1]: expected a host, host:port, *.suffix, IP network, 'default', '*' or 'none', "
        "got 'not a host!!'",
    ),
    (
        {"propagation": {"propagate_to": ["http://gpu-box:8000/v1"]}},
        "propagation.propagate_to[0]: expected a host, host:port, *.suffix, IP network, 'default', '*' or 'none', "
        "got 'http://gpu-box:8000/v1'",
    ),
    (
        {"propagation": {"propagate_to": ["gpu-box:99999"]}},
        "propagation.propagate_to[0]: expected a host, host:port, *.suffix, IP network, 'default', '*' or 'none', "
        "got 'gpu-box:99999'",
    ),
    (
        {"propagation": {"propagate_to": ["*."]}},
        "propagation.propagate_to[0]: expected a host, host:port, *.suffix, IP network, 'default', '*' or 'none', "
        "got '*.'",
    ),
    (
        {"requests": {"baggage_keys": ["tags", "email"]}},
        "requests.baggage_keys[1]: expected one of tags, user, session, tenant, got 'email'",
    ),
    ({"requests": {"allow_no_log": "sometimes"}}, "requests.allow_no_log: expected true or false, got 'sometimes'"),
    # redaction
    ({"redaction": {"content": "hide"}}, "redaction.content: expected one of keep, drop, got 'hide'"),
    ({"redaction": {"pii": ["email", "ssn"]}}, "redaction.pii[1]: expected one of email, phone, card, got 'ssn'"),
    ({"redaction": {"pii": "email"}}, "redaction.pii: expected a list, got 'email'"),
    (
        {"redaction": {"secret_patterns": ["ok", "(abc"]}},
        "redaction.secret_patterns[1]: expected a valid regular expression (missing ), unterminated subpattern at "
        "position 0), got '(abc'",
    ),
    (
        {"redaction": {"secret_patterns": [5]}},
        "redaction.secret_patterns[0]: expected a regular expression (a string), got 5",
    ),
    ({"redaction": {"media": "blur"}}, "redaction.media: expected one of placeholder, keep, got 'blur'"),
    ({"redaction": {"max_content_chars": 10}}, "redaction.max_content_chars: expected an integer >= 64, got 10"),
    ({"redaction": {"max_content_chars": 100.5}}, "redaction.max_content_chars: expected an integer >= 64, got 100.5"),
    ({"redaction": {"identifiers": "mask"}}, "redaction.identifiers: expected one of keep, hash, drop, got 'mask'"),
    (
        {"redaction": {"identifier_attributes": ["user.*", "a*b"]}},
        "redaction.identifier_attributes[1]: expected an attribute name, or a prefix ending in '*' (e.g. 'user.*'), "
        "got 'a*b'",
    ),
    ({"redaction": {"allow_request_override": "no way"}}, "redaction.allow_request_override: expected true or false, got 'no way'"),
    ({"redaction": {"hash_key": 12345}}, "redaction.hash_key: expected a non-empty string, got ****"),
    # destination names and types
    (
        {"destinations": {"my backend": {"type": "console"}}},
        "destinations.my backend: expected a destination name of 1 to 64 letters, digits, '_', '.' or '-', "
        "got 'my backend'",
    ),
    (
        {"destinations": {"x" * 65: {"type": "console"}}},
        f"destinations.{'x' * 65}: expected a destination name of 1 to 64 letters, digits, '_', '.' or '-', "
        f"got '{'x' * 57}...'",
    ),
    ({"destinations": {"x": {"type": "kafka"}}}, "destinations.x.type: expected one of otlp, file, webhook, s3, console, langfuse, arize, phoenix, datadog, honeycomb, jaeger, mlflow, langsmith, got 'kafka'"),
    ({"destinations": {"x": {"path": "a"}}}, "destinations.x.type: required key is missing (expected one of otlp, file, webhook, s3, console, langfuse, arize, phoenix, datadog, honeycomb, jaeger, mlflow, langsmith)"),
    ({"destinations": {"x": "console"}}, "destinations.x: expected a mapping, got 'console'"),
    # common destination keys
    (console(enabled="maybe"), "destinations.c.enabled: expected true or false, got 'maybe'"),
    (console(filter={"status": "failed"}), "destinations.c.filter.status: expected one of any, error, ok, got 'failed'"),
    (console(filter={"sample_ratio": 1.5}), "destinations.c.filter.sample_ratio: expected a number from 0 to 1, got 1.5"),
    (console(filter={"sample_ratio": -0.1}), "destinations.c.filter.sample_ratio: expected a number from 0 to 1, got -0.1"),
    (console(filter={"sample_ratio": "half"}), "destinations.c.filter.sample_ratio: expected a number from 0 to 1, got 'half'"),
    (console(filter={"tags": ["a", ""]}), "destinations.c.filter.tags[1]: expected a non-empty string, got ''"),
    (console(queue={"max_size": -5}), "destinations.c.queue.max_size: expected an integer >= 1, got -5"),
    (console(queue={"max_size": True}), "destinations.c.queue.max_size: expected an integer >= 1, got true"),
    (console(queue={"batch_size": "lots"}), "destinations.c.queue.batch_size: expected an integer >= 1, got 'lots'"),
    (
        console(queue={"flush_interval": "soon"}),
        "destinations.c.queue.flush_interval: expected a duration (seconds, or a string such as '500ms', '5s', "
        "'1m', '1h') > 0, got 'soon'",
    ),
    (
        console(queue={"shutdown_timeout": "-1s"}),
        "destinations.c.queue.shutdown_timeout: expected a duration (seconds, or a string such as '500ms', '5s', "
        "'1m', '1h') >= 0, got '-1s'",
    ),
    (
        console(queue={"max_size": 100, "batch_size": 500}),
        "destinations.c.queue.batch_size: expected an integer <= max_size (100), got 500",
    ),
    (console(retry={"max_attempts": 0}), "destinations.c.retry.max_attempts: expected an integer >= 1, got 0"),
    (
        console(retry={"initial_backoff": "5s", "max_backoff": "1s"}),
        "destinations.c.retry.max_backoff: expected a duration >= initial_backoff (5s), got 1s",
    ),
    (console(redaction={"content": "none"}), "destinations.c.redaction.content: expected one of keep, drop, got 'none'"),
    # type-specific keys
    ({"destinations": {"o": {"type": "otlp"}}}, "destinations.o.endpoint: required key is missing"),
    (
        {"destinations": {"o": {"type": "otlp", "endpoint": "localhost:4317"}}},
        "destinations.o.endpoint: expected an http:// or https:// URL with a host, got 'localhost:4317'",
    ),
    (
        {"destinations": {"o": {"type": "otlp", "endpoint": "http://h:99999"}}},
        "destinations.o.endpoint: expected an http:// or https:// URL with a host, got 'http://h:99999'",
    ),
    (
        {"destinations": {"o": {"type": "otlp", "endpoint": "http://h", "protocol": "http"}}},
        "destinations.o.protocol: expected one of grpc, http/protobuf, got 'http'",
    ),
    (
        {"destinations": {"o": {"type": "otlp", "endpoint": "http://h", "compression": "zstd"}}},
        "destinations.o.compression: expected one of gzip, none, got 'zstd'",
    ),
    (
        {"destinations": {"o": {"type": "otlp", "endpoint": "http://h", "insecure": "sure"}}},
        "destinations.o.insecure: expected true or false, got 'sure'",
    ),
    ({"destinations": {"f": {"type": "file", "path": ""}}}, "destinations.f.path: expected a non-empty string, got ''"),
    ({"destinations": {"f": {"type": "file", "path": "  "}}}, "destinations.f.path: expected a non-empty string, got '  '"),
    ({"destinations": {"f": {"type": "file"}}}, "destinations.f.path: required key is missing"),
    ({"destinations": {"f": {"type": "file", "path": None}}}, "destinations.f.path: expected a non-empty string, got null"),
    ({"destinations": {"f": {"type": "file", "path": "a", "max_bytes": -1}}}, "destinations.f.max_bytes: expected an integer >= 0, got -1"),
    (
        {"destinations": {"f": {"type": "file", "path": "a", "rotate_every": "weekly"}}},
        "destinations.f.rotate_every: expected one of hourly, daily, got 'weekly'",
    ),
    ({"destinations": {"w": {"type": "webhook", "url": "ftp://x"}}}, "destinations.w.url: expected an http:// or https:// URL with a host, got 'ftp://x'"),
    (  # a URL quoted in an error is masked as describe() masks it
        {"destinations": {"w": {"type": "webhook", "url": "ftp://u:s3cr3t@x/p?token=s3cr3t&v=2"}}},
        "destinations.w.url: expected an http:// or https:// URL with a host, got 'ftp://u:****@x/p?token=****&v=****'",
    ),
    (
        {"destinations": {"s": {"type": "s3", "bucket": "b", "endpoint_url": "minio:9000?key=s3cr3t"}}},
        "destinations.s.endpoint_url: expected an http:// or https:// URL with a host, got 'minio:9000?key=****'",
    ),
    (
        {"destinations": {"w": {"type": "webhook", "url": "http://x", "format": "csv"}}},
        "destinations.w.format: expected one of json_array, ndjson, got 'csv'",
    ),
    ({"destinations": {"s": {"type": "s3", "bucket": ""}}}, "destinations.s.bucket: expected a non-empty string, got ''"),
    (
        {"destinations": {"s": {"type": "s3", "bucket": "b", "endpoint_url": "minio:9000"}}},
        "destinations.s.endpoint_url: expected an http:// or https:// URL with a host, got 'minio:9000'",
    ),
    (
        {"destinations": {"s": {"type": "s3", "bucket": "b", "access_key_id": "AKIA"}}},
        "destinations.s.secret_access_key: required when access_key_id is given (or give neither, for the AWS chain)",
    ),
    (
        {"destinations": {"s": {"type": "s3", "bucket": "b", "secret_access_key": "x"}}},
        "destinations.s.access_key_id: required when secret_access_key is given (or give neither, for the AWS chain)",
    ),
    (
        {"destinations": {"s": {"type": "s3", "bucket": "b", "session_token": "x"}}},
        "destinations.s.session_token: given without access_key_id and secret_access_key",
    ),
    # tenants and default destinations
    (
        {"destinations": {"audit": {"type": "console"}}, "tenants": {"team-1": {"destinations": ["audit", "lf"]}}},
        "tenants.team-1.destinations[1]: expected the name of a destination (defined: audit), got 'lf'",
    ),
    (
        {"destinations": {"audit": {"type": "console"}}, "default_destinations": ["ghost"]},
        "default_destinations[0]: expected the name of a destination (defined: audit), got 'ghost'",
    ),
    (
        {"default_destinations": ["audit"]},
        "default_destinations[0]: expected the name of a destination (no destination is defined), got 'audit'",
    ),
    (
        {"destinations": {"audit": {"type": "console"}}, "tenants": {"t": {"destinations": ["audit", "audit"]}}},
        "tenants.t.destinations[1]: 'audit' is listed twice",
    ),
    (
        {"destinations": {"audit": {"type": "console"}}, "tenants": {"t": {"destinations": ["audit"], "logging": False}}},
        "tenants.t: expected either destinations or logging: false, not both",
    ),
    ({"tenants": {"t": {"logging": "off-ish"}}}, "tenants.t.logging: expected true or false, got 'off-ish'"),
    ({"tenants": {"t": {"destinations": "audit"}}}, "tenants.t.destinations: expected a list, got 'audit'"),
    ({"default_destinations": "audit"}, "default_destinations: expected a list, got 'audit'"),
]


@pytest.mark.parametrize(("source", "message"), CASES, ids=[m.split(":")[0] + f"#{i}" for i, (_, m) in enumerate(CASES)])
def test_documented_error_message(source: dict[str, Any], message: str) -> None:
    assert problems(source) == [message]


def test_error_messages_list_every_problem_in_one_error() -> None:
    source = {
        "version": 3,
        "destinations": {"a": {"type": "console", "queue": {"max_size": 0}}, "b": {"type": "kafka"}},
        "tenants": {"t": {"destinations": ["nope"]}},
    }
    with pytest.raises(ConfigError) as caught:
        load_config(source)
    err = caught.value
    assert str(err) == (
        "invalid configuration (4 problems):\n"
        "  version: expected 1 (the only version of the format), got 3\n"
        "  destinations.a.queue.max_size: expected an integer >= 1, got 0\n"
        "  destinations.b.type: expected one of otlp, file, webhook, s3, console, langfuse, arize, phoenix, datadog, honeycomb, jaeger, mlflow, langsmith, got 'kafka'\n"
        "  tenants.t.destinations[0]: expected the name of a destination (defined: a, b), got 'nope'"
    )
    assert err.problems[1] == Problem("destinations.a.queue.max_size", "expected an integer >= 1, got 0")
    assert isinstance(err, ValueError) and err.source is None


def test_problems_come_in_the_files_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "destinations:\n"
        "  z: {type: console, enabled: 2}\n"
        "  a: {type: file, path: '${env:UNSET_VAR_FOR_TEST}', max_bytes: -1}\n"
        "cost: 7\n",
    )
    assert problems(path) == [
        "destinations.z.enabled: expected true or false, got 2",
        "destinations.a.path: environment variable UNSET_VAR_FOR_TEST is not set "
        "(give a default: ${env:UNSET_VAR_FOR_TEST:-default})",
        "destinations.a.max_bytes: expected an integer >= 0, got -1",
        "cost: expected true or false, got 7",
    ]


def test_the_file_name_heads_the_message(tmp_path: Path) -> None:
    path = write(tmp_path, "cost: 7\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"invalid configuration in {path} (1 problem):\n  cost: expected true or false, got 7"
    assert caught.value.source == str(path)


def test_config_error_from_a_message_keeps_it() -> None:
    err = ConfigError("no configuration: set OTEL_LLM_CONFIG")
    assert str(err) == "no configuration: set OTEL_LLM_CONFIG" and err.problems == (Problem("", str(err)),)


# -- unknown keys at every level --------------------------------------------------------------------


def _allowed(model: type) -> str:
    names = list(model.model_fields) if issubclass(model, Block) else list(model.__annotations__)
    return ", ".join(names)


UNKNOWN = [
    ({"colour": 1}, "colour", Config),
    ({"propagation": {"colour": 1}}, "propagation.colour", Propagation),
    ({"requests": {"colour": 1}}, "requests.colour", Requests),
    ({"redaction": {"colour": 1}}, "redaction.colour", RedactionBlock),
    ({"prices": {"m": {"input": 1, "output": 1, "colour": 1}}}, "prices.m.colour", ModelPrice),
    ({"tenants": {"t": {"colour": 1}}}, "tenants.t.colour", Tenant),
    (console(redaction={"colour": 1}), "destinations.c.redaction.colour", RedactionBlock),
    *[
        (console(**{block: {"colour": 1}}), f"destinations.c.{block}.colour", model)
        for block, model in [
            ("filter", DESTINATION_MODELS["console"].model_fields["filter"].annotation),
            ("queue", DESTINATION_MODELS["console"].model_fields["queue"].annotation),
            ("retry", DESTINATION_MODELS["console"].model_fields["retry"].annotation),
        ]
    ],
]
REQUIRED = {
    "otlp": {"endpoint": "http://h"},
    "file": {"path": "p"},
    "webhook": {"url": "http://h"},
    "s3": {"bucket": "b"},
    "console": {},
    "langfuse": {"public_key": "pk", "secret_key": "sk"},
    "arize": {"space_id": "s", "api_key": "k"},
    "phoenix": {},
    "datadog": {"api_key": "k"},
    "honeycomb": {"api_key": "k"},
    "jaeger": {},
    "mlflow": {},
    "langsmith": {"api_key": "k"},
}
UNKNOWN += [
    ({"destinations": {"d": {"type": kind, **REQUIRED[kind], "colour": 1}}}, "destinations.d.colour", model)
    for kind, model in DESTINATION_MODELS.items()
]


@pytest.mark.parametrize(("source", "path", "model"), UNKNOWN, ids=[p for _, p, _ in UNKNOWN])
def test_unknown_keys_are_errors_that_list_the_known_ones(source: dict[str, Any], path: str, model: type) -> None:
    assert problems(source) == [f"{path}: unknown key (expected one of: {_allowed(model)})"]


def test_unknown_key_message_for_a_file_destination_is_as_documented() -> None:
    assert problems({"destinations": {"audit": {"type": "file", "path": "a", "colour": "red"}}}) == [
        "destinations.audit.colour: unknown key (expected one of: type, enabled, redaction, filter, queue, retry, "
        "path, max_bytes, rotate_every, backups)"
    ]


def test_a_key_of_another_destination_type_is_unknown() -> None:
    assert problems({"destinations": {"o": {"type": "otlp", "endpoint": "http://h", "path": "x"}}}) == [
        "destinations.o.path: unknown key (expected one of: type, enabled, redaction, filter, queue, retry, endpoint, "
        "protocol, headers, insecure, timeout, compression, forward)"
    ]


# -- environment substitution errors ----------------------------------------------------------------


def test_an_unset_variable_without_default_names_path_and_variable() -> None:
    source = {"destinations": {"o": {"type": "otlp", "endpoint": "${env:OTLP_URL}"}}}
    assert problems(source) == [
        "destinations.o.endpoint: environment variable OTLP_URL is not set (give a default: ${env:OTLP_URL:-default})"
    ]


def test_substitution_errors_in_lists_and_bad_syntax() -> None:
    source = {
        "redaction": {"secret_patterns": ["ok", "${env:PATTERN}"]},
        "destinations": {"f": {"type": "file", "path": "${HOME}/x"}, "g": {"type": "file", "path": "${env:X"}},
    }
    assert problems(source) == [
        "redaction.secret_patterns[1]: environment variable PATTERN is not set (give a default: ${env:PATTERN:-default})",
        "destinations.f.path: expected ${env:NAME} or ${env:NAME:-default} (write $$ for a literal $), got '${HOME}'",
        "destinations.g.path: expected ${env:NAME} or ${env:NAME:-default} (write $$ for a literal $), got '${'",
    ]


def test_a_substitution_error_hides_the_validation_error_of_the_same_value_only() -> None:
    source = {"destinations": {"c": {"type": "console", "queue": {"max_size": "${env:Q}", "batch_size": 0}}}}
    assert problems(source) == [
        "destinations.c.queue.max_size: environment variable Q is not set (give a default: ${env:Q:-default})",
        "destinations.c.queue.batch_size: expected an integer >= 1, got 0",
    ]


def test_a_substituted_value_is_validated_like_a_written_one() -> None:
    source = console(queue={"max_size": "${env:Q}"})
    assert problems(source, {"Q": "-3"}) == ["destinations.c.queue.max_size: expected an integer >= 1, got '-3'"]


# -- secrets are never echoed -----------------------------------------------------------------------


def test_secret_values_are_masked_in_error_messages() -> None:
    source = {
        "redaction": {"hash_key": ["x", SECRET]},
        "destinations": {
            "o": {"type": "otlp", "endpoint": "http://h", "headers": {"Authorization": 123, "X-Key": SECRET + "${oops}"}},
            "w": {"type": "webhook", "url": "http://h", "headers": [f"Authorization: Bearer {SECRET}"]},
            "s": {"type": "s3", "bucket": "b", "access_key_id": 42, "secret_access_key": SECRET, "session_token": [SECRET]},
            "bad": {"type": "console", "colour": SECRET},
        },
    }
    with pytest.raises(ConfigError) as caught:
        load_config(source, environ={"TOKEN": SECRET})
    message = str(caught.value)
    assert SECRET not in message and "PLANTED" not in message
    assert [str(p) for p in caught.value.problems] == [
        "redaction.hash_key: expected a non-empty string, got ****",
        "destinations.o.headers.Authorization: expected a string, got ****",
        "destinations.o.headers.X-Key: expected ${env:NAME} or ${env:NAME:-default} (write $$ for a literal $), got ****",
        "destinations.w.headers: expected a mapping, got ****",
        "destinations.s.access_key_id: expected a non-empty string, got ****",
        "destinations.s.session_token: expected a non-empty string, got ****",
        "destinations.bad.colour: unknown key (expected one of: type, enabled, redaction, filter, queue, retry)",
    ]


def test_values_substituted_into_secrets_are_not_echoed() -> None:
    source = {"destinations": {"o": {"type": "otlp", "endpoint": "http://h", "headers": {"k": "${env:TOKEN}"}, "timeout": -1}}}
    with pytest.raises(ConfigError) as caught:
        load_config(source, environ={"TOKEN": SECRET})
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_a_validation_error_of_the_models_does_not_show_inputs() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Config.model_validate({"redaction": {"hash_key": 1}, "tenants": {"t": {"destinations": [SECRET]}}})
    assert SECRET not in str(caught.value)


def test_secrets_are_masked_in_repr() -> None:
    config = load_config(
        {
            "redaction": {"hash_key": SECRET + "1"},
            "destinations": {
                "o": {"type": "otlp", "endpoint": "http://h", "headers": {"Authorization": SECRET + "2"}},
                "s": {"type": "s3", "bucket": "b", "access_key_id": SECRET + "3", "secret_access_key": SECRET + "4", "session_token": SECRET + "5"},
            },
        }
    )
    for text in (repr(config), str(config), repr(config.destinations["s"]), config.model_dump_json()):
        assert SECRET not in text


# -- YAML problems ----------------------------------------------------------------------------------


def test_invalid_yaml_gives_line_and_column_without_quoting_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, f"destinations:\n  o: {{type: otlp, headers: {{Authorization: {SECRET}]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert SECRET not in str(caught.value)
    assert [str(p) for p in caught.value.problems] == [
        "line 2, column 75: invalid YAML: expected ',' or '}', but got ']'"
    ]


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "destinations:\n  a: {type: console}\n  b: {type: console, enabled: true, enabled: false}\n")
    assert problems(path) == ["line 3, column 37: key 'enabled' is given twice"]


def test_yaml_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "destinations:\n  a: &base {type: console, queue: {max_size: 10, batch_size: 5}}\n  b:\n    <<: *base\n    enabled: false\n",
    )
    config = load_config(path)
    assert config.destinations["b"].queue.max_size == 10 and config.destinations["b"].enabled is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "expected a mapping at the top level, got a list"),
        ("just words\n", "expected a mapping at the top level, got 'just words'"),
    ],
)
def test_the_top_level_must_be_a_mapping(tmp_path: Path, text: str, message: str) -> None:
    assert problems(write(tmp_path, text)) == [message]


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "otel-llm.yaml"
    path.write_bytes(b"cost: \xff\n")
    assert problems(path) == ["not UTF-8 text (invalid start byte at byte 6)"]


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError) as caught:
        load_config(tmp_path / "missing.yaml")
    assert str(caught.value) == f"cannot read the configuration file {tmp_path / 'missing.yaml'}: No such file or directory"
    with pytest.raises(ConfigFileError, match="Is a directory"):
        load_config(tmp_path)


# -- the documentation's error examples -------------------------------------------------------------


def test_the_documented_error_outputs_are_what_the_loader_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = followed_by_text("invalid")
    assert len(pairs) >= 3
    monkeypatch.chdir(tmp_path)
    for body, output in pairs:
        (tmp_path / "otel-llm.yaml").write_text(body)
        with pytest.raises(ConfigError) as caught:
            load_config("otel-llm.yaml", environ={})
        assert str(caught.value) + "\n" == output
