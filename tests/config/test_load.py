"""Valid configurations: values, defaults, environment substitution, routing helpers, the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pydantic
import pytest
import yaml

from otel_llm.config import Config, ConfigError, ConfigFileError, config_from_env, load_config
from otel_llm.config._env import substitute
from otel_llm.config.schema import json_schema
from otel_llm.genai.cost import make_pricer
from tests.config._docs import EXAMPLE, SCHEMA_FILE, yaml_blocks

# The fields of the contract's RedactionSettings, in order.
REDACTION_FIELDS = [
    "content",
    "allow_request_override",
    "secrets",
    "secret_patterns",
    "pii",
    "media",
    "max_content_chars",
    "identifiers",
    "identifier_attributes",
    "hash_key",
]
DEFAULT_IDENTIFIERS = (
    "user.id",
    "enduser.id",
    "user.email",
    "user.name",
    "user.full_name",
    "otel_llm.metadata.user_api_key*",
)


def write(tmp_path: Path, text: str, name: str = "otel-llm.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- values and defaults ----------------------------------------------------------------------------


def test_empty_configuration_has_the_documented_defaults() -> None:
    config = load_config({})
    assert config.version == 1
    assert config.capture_content is None and config.cost is None and config.prices is None
    assert config.propagation is None
    assert config.requests.allow_no_log is True and config.requests.allow_capture_override is False
    assert config.requests.baggage_keys == () and config.requests.model_fields_set == set()
    assert config.destinations == {} and config.tenants == {} and config.default_destinations is None
    assert config.default_destination_names() == ()
    assert config.destinations_for_tenant("anyone") == ()
    assert config.source is None


def test_empty_file_and_comment_only_file_are_empty_configurations(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).destinations == {}
    config = load_config(write(tmp_path, "# nothing yet\n", "c.yaml"))
    assert config.destinations == {} and config.source == str(tmp_path / "c.yaml")


def test_destination_defaults() -> None:
    config = load_config({"destinations": {"a": {"type": "file", "path": "a.jsonl"}}})
    dest = config.destinations["a"]
    assert dest.enabled is True and dest.redaction is None
    assert (dest.filter.status, dest.filter.tags, dest.filter.sample_ratio, dest.filter.genai_only) == (
        "any",
        (),
        1.0,
        False,
    )
    q = dest.queue
    assert (q.max_size, q.batch_size, q.flush_interval, q.shutdown_timeout) == (2048, 512, 1.0, 5.0)
    r = dest.retry
    assert (r.max_attempts, r.initial_backoff, r.max_backoff) == (5, 0.5, 10.0)
    assert (dest.max_bytes, dest.rotate_every, dest.backups) == (104857600, None, 10)


def test_every_destination_type_with_its_own_keys() -> None:
    config = load_config(
        {
            "destinations": {
                "o": {
                    "type": "otlp",
                    "endpoint": "https://otlp.example.com:4318",
                    "protocol": "HTTP/Protobuf",
                    "headers": {"x-api-key": "k1"},
                    "insecure": False,
                    "timeout": "2.5s",
                    "compression": "gzip",
                },
                "f": {"type": "file", "path": "/var/log/x.jsonl", "max_bytes": 0, "rotate_every": "hourly"},
                "w": {"type": "webhook", "url": "http://hook:9000/x", "format": "ndjson", "timeout": 3},
                "s": {
                    "type": "s3",
                    "bucket": "b",
                    "prefix": "p/",
                    "region": "eu-west-1",
                    "endpoint_url": "http://minio:9000",
                    "tenant_prefix": True,
                    "key_alias_prefix": "yes",
                    "access_key_id": "AKIA",
                    "secret_access_key": "s3cret",
                    "session_token": "tok",
                },
                "c": {"type": "console"},
            }
        }
    )
    o, f, w, s, c = (config.destinations[n] for n in "ofwsc")
    assert (o.type, o.endpoint, o.protocol, o.insecure, o.timeout, o.compression) == (
        "otlp",
        "https://otlp.example.com:4318",
        "http/protobuf",
        False,
        2.5,
        "gzip",
    )
    assert o.headers["x-api-key"].get_secret_value() == "k1"
    assert (o.protocol, config.destinations["o"].target) == ("http/protobuf", "https://otlp.example.com:4318")
    assert (f.path, f.max_bytes, f.rotate_every, f.backups) == ("/var/log/x.jsonl", 0, "hourly", 10)
    assert (w.url, w.format, w.timeout, w.headers) == ("http://hook:9000/x", "ndjson", 3.0, {})
    assert (s.bucket, s.prefix, s.region, s.endpoint_url, s.tenant_prefix, s.key_alias_prefix) == (
        "b",
        "p/",
        "eu-west-1",
        "http://minio:9000",
        True,
        True,
    )
    assert s.key_alias_attribute == "otel_llm.metadata.key_alias"
    assert [v.get_secret_value() for v in (s.access_key_id, s.secret_access_key, s.session_token)] == [
        "AKIA",
        "s3cret",
        "tok",
    ]
    assert c.type == "console" and c.target == "stdout"


@pytest.mark.parametrize(
    ("written", "seconds"),
    [(2, 2.0), (0.25, 0.25), ("500ms", 0.5), ("5s", 5.0), ("1m", 60.0), ("1h", 3600.0), ("2.5", 2.5), (" 3 S ", 3.0)],
)
def test_durations_are_seconds(written: object, seconds: float) -> None:
    config = load_config({"destinations": {"c": {"type": "console", "queue": {"flush_interval": written}}}})
    value = config.destinations["c"].queue.flush_interval
    assert value == seconds and isinstance(value, float)


def test_numbers_and_booleans_spelled_as_strings() -> None:
    config = load_config(
        {
            "cost": "off",
            "destinations": {
                "c": {
                    "type": "console",
                    "enabled": "yes",
                    "queue": {"max_size": "4096"},
                    "filter": {"sample_ratio": "0.25", "genai_only": "TRUE"},
                }
            },
        }
    )
    dest = config.destinations["c"]
    assert config.cost is False and dest.enabled is True and dest.filter.genai_only is True
    assert dest.queue.max_size == 4096 and isinstance(dest.queue.max_size, int)
    assert dest.filter.sample_ratio == 0.25


@pytest.mark.parametrize(
    ("written", "mode"),
    [(True, "span_only"), (False, "no_content"), ("true", "span_only"), ("SPAN_ONLY", "span_only"), ("no_content", "no_content")],
)
def test_capture_content_is_normalised(written: object, mode: str) -> None:
    assert load_config({"capture_content": written}).capture_content == mode


def test_empty_values_mean_the_default_but_null_stays_where_it_is_a_value() -> None:
    config = load_config(
        {
            "requests": None,
            "redaction": {"content": None, "max_content_chars": None},
            "destinations": {"c": {"type": "console", "filter": None, "queue": {"max_size": None}}},
            "tenants": {"team-b": None},
        }
    )
    assert config.redaction.content == "keep" and config.redaction.max_content_chars is None
    assert config.destinations["c"].queue.max_size == 2048 and config.destinations["c"].filter.status == "any"
    assert config.tenants["team-b"].destinations is None and config.tenants["team-b"].logging is True
    assert config.redaction.model_fields_set == {"max_content_chars"}  # a null default is not an override


def test_yaml_integer_tenant_ids_are_strings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "destinations: {d: {type: console}}\ntenants:\n  123: {logging: false}\n"))
    assert list(config.tenants) == ["123"] and config.destinations_for_tenant("123") == ()


def test_requests_propagation_and_prices() -> None:
    config = load_config(
        {
            "requests": {"allow_no_log": False, "baggage_keys": ["Tags", "tenant"]},
            "propagation": {"propagate_to": ["default", "*.internal"]},
            "prices": {"openai/my-model": {"input": 1, "output": "2.5", "cache_read": 0.1}},
        }
    )
    assert config.requests.allow_no_log is False and config.requests.baggage_keys == ("tags", "tenant")
    assert config.requests.model_fields_set == {"allow_no_log", "baggage_keys"}
    assert config.propagation is not None and config.propagation.propagate_to == ("default", "*.internal")
    assert config.prices == {"openai/my-model": {"input": 1.0, "output": 2.5, "cache_read": 0.1}}
    json.dumps(config.prices)  # plain data: the lead passes it on as OTEL_LLM_PRICES
    card = make_pricer(config.prices).price("openai", "my-model", {"gen_ai.usage.input_tokens": 1_000_000})
    assert card is not None and card["otel_llm.cost.usd"] == pytest.approx(1.0)


def test_config_is_immutable() -> None:
    config = load_config({"destinations": {"c": {"type": "console"}}})
    with pytest.raises(pydantic.ValidationError):
        config.cost = True  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        config.destinations["c"].enabled = False  # type: ignore[misc]


def test_load_config_takes_a_path_object_or_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, "destinations: {d: {type: console}}\n")
    assert load_config(path).source == str(path)
    assert list(load_config(str(path)).destinations) == ["d"]
    with pytest.raises(TypeError):
        load_config(42)  # type: ignore[arg-type]


# -- redaction merging ------------------------------------------------------------------------------


def test_redaction_for_merges_defaults_global_and_destination() -> None:
    config = load_config(
        {
            "redaction": {"content": "drop", "pii": ["email"], "hash_key": "k3y", "max_content_chars": 100},
            "destinations": {
                "audit": {"type": "console", "redaction": {"content": "keep", "identifiers": "hash"}},
                "plain": {"type": "console"},
                "unlimited": {"type": "console", "redaction": {"max_content_chars": None, "pii": []}},
            },
        }
    )
    audit = config.redaction_for("audit")
    assert list(audit) == REDACTION_FIELDS
    assert audit == {
        "content": "keep",  # the destination's own
        "allow_request_override": False,  # default
        "secrets": True,
        "secret_patterns": (),
        "pii": ("email",),  # global
        "media": "placeholder",
        "max_content_chars": 100,
        "identifiers": "hash",
        "identifier_attributes": DEFAULT_IDENTIFIERS,
        "hash_key": "k3y",  # a plain str for the redactor
    }
    assert config.redaction_for("plain")["content"] == "drop"
    unlimited = config.redaction_for("unlimited")
    assert unlimited["max_content_chars"] is None and unlimited["pii"] == ()  # explicit values override
    assert config.redaction_for(None)["content"] == "drop"
    with pytest.raises(KeyError):
        config.redaction_for("missing")


def test_redaction_for_without_any_block_is_the_defaults() -> None:
    config = load_config({"destinations": {"c": {"type": "console"}}})
    assert config.redaction_for("c") == {
        "content": "keep",
        "allow_request_override": False,
        "secrets": True,
        "secret_patterns": (),
        "pii": (),
        "media": "placeholder",
        "max_content_chars": None,
        "identifiers": "keep",
        "identifier_attributes": DEFAULT_IDENTIFIERS,
        "hash_key": None,
    }


def test_redaction_lists_are_tuples_without_repeats() -> None:
    config = load_config(
        {"redaction": {"pii": ["email", "EMAIL", "card"], "secret_patterns": ["a+", "a+"], "identifier_attributes": ["x.*"]}}
    )
    settings = config.redaction_for(None)
    assert settings["pii"] == ("email", "card")
    assert settings["secret_patterns"] == ("a+",)
    assert settings["identifier_attributes"] == ("x.*",)


def test_redaction_settings_of_the_pipeline_accept_it() -> None:
    redaction = pytest.importorskip("otel_llm.processing.redaction")
    config = load_config({"redaction": {"identifiers": "hash", "hash_key": "k"}})
    settings = redaction.RedactionSettings(**config.redaction_for(None))
    assert settings.hash_key == "k" and settings.identifiers == "hash"


def test_empty_optional_secrets_are_unset() -> None:
    config = load_config(
        {
            "redaction": {"hash_key": ""},
            "destinations": {"s": {"type": "s3", "bucket": "b", "access_key_id": "", "secret_access_key": ""}},
        }
    )
    assert config.redaction_for(None)["hash_key"] is None
    assert config.destinations["s"].access_key_id is None and config.destinations["s"].secret_access_key is None


# -- routing helpers --------------------------------------------------------------------------------

ROUTED = {
    "destinations": {
        "a": {"type": "console"},
        "b": {"type": "console"},
        "off": {"type": "console", "enabled": False},
        "c": {"type": "console"},
    },
    "tenants": {
        "t1": {"destinations": ["b", "off", "a"]},
        "gdpr": {"logging": False},
        "plain": {},
        "none": {"destinations": []},
        "logging-on": {"destinations": ["c"], "logging": True},
    },
}


def test_default_destinations_absent_means_every_enabled_destination_in_file_order() -> None:
    config = load_config(ROUTED)
    assert config.default_destination_names() == ("a", "b", "c")
    assert list(config.enabled()) == ["a", "b", "c"]


def test_explicit_default_destinations_skip_disabled_ones() -> None:
    config = load_config({**ROUTED, "default_destinations": ["c", "off"]})
    assert config.default_destination_names() == ("c",)
    assert load_config({**ROUTED, "default_destinations": []}).default_destination_names() == ()


@pytest.mark.parametrize(
    ("tenant", "names"),
    [
        ("t1", ("b", "a")),  # its own, in its order, disabled skipped
        ("gdpr", ()),  # logging: false
        ("none", ()),  # destinations: []
        ("plain", ("c",)),  # neither key: the defaults
        ("logging-on", ("c",)),
        ("unknown", ("c",)),  # not listed: the defaults
        (None, ("c",)),  # no tenant: the defaults
    ],
)
def test_destinations_for_tenant(tenant: str | None, names: tuple[str, ...]) -> None:
    config = load_config({**ROUTED, "default_destinations": ["c"]})
    assert config.destinations_for_tenant(tenant) == names


# -- environment substitution -----------------------------------------------------------------------


def test_env_references_are_substituted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
destinations:
  o:
    type: otlp
    endpoint: ${env:OTLP_URL}
    headers: {Authorization: "Bearer ${env:TOKEN}", X-Empty: "${env:EMPTY}"}
    queue: {max_size: "${env:QUEUE_SIZE:-4096}", flush_interval: "${env:FLUSH:-500ms}"}
  f:
    type: file
    path: ${env:DIR:-/tmp}/${env:NAME:-calls}.jsonl
    enabled: ${env:FILE_ON:-false}
""",
    )
    environ = {"OTLP_URL": "http://collector:4317", "TOKEN": "t0k", "EMPTY": "", "NAME": "audit", "QUEUE_SIZE": ""}
    config = load_config(path, environ=environ)
    o, f = config.destinations["o"], config.destinations["f"]
    assert o.endpoint == "http://collector:4317"
    assert o.headers["Authorization"].get_secret_value() == "Bearer t0k"
    assert o.headers["X-Empty"].get_secret_value() == ""  # set but empty: allowed without a default
    assert o.queue.max_size == 4096  # empty counts as unset for ":-"
    assert o.queue.flush_interval == 0.5
    assert f.path == "/tmp/audit.jsonl" and f.enabled is False


@pytest.mark.parametrize(
    ("written", "result"),
    [
        ("price$$", "price$"),
        ("$$${env:V}", "$val"),
        ("$${env:V}", "${env:V}"),  # "$$" first: a literal "${env:V}", not a reference
        ("a$b $ c", "a$b $ c"),  # a lone $ stays
        ("${env:V}${env:V}", "valval"),
        ("${env:REF}", "${env:V}"),  # substituted text is not scanned again
        ("${env:UNSET:-a:-b}", "a:-b"),
        ("${env:UNSET:-}", ""),
    ],
)
def test_substitution_syntax(written: str, result: str) -> None:
    data, problems = substitute({"k": written}, {"V": "val", "REF": "${env:V}"})
    assert problems == [] and data == {"k": result}


def test_substitution_reaches_lists_and_nested_mappings_but_not_keys() -> None:
    data, problems = substitute({"${env:V}": [{"a": "${env:V}"}, 1, None, True]}, {"V": "x"})
    assert problems == [] and data == {"${env:V}": [{"a": "x"}, 1, None, True]}


def test_substitution_applies_to_mappings_and_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_LLM_TEST_PATH", "/srv/calls.jsonl")
    config = load_config({"destinations": {"f": {"type": "file", "path": "${env:OTEL_LLM_TEST_PATH}"}}})
    assert config.destinations["f"].path == "/srv/calls.jsonl"


# -- OTEL_LLM_CONFIG --------------------------------------------------------------------------------


def test_config_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_LLM_CONFIG", raising=False)
    assert config_from_env() is None
    monkeypatch.setenv("OTEL_LLM_CONFIG", "  ")
    assert config_from_env() is None
    path = write(tmp_path, "destinations: {d: {type: console}}\n")
    monkeypatch.setenv("OTEL_LLM_CONFIG", str(path))
    config = config_from_env()
    assert isinstance(config, Config) and list(config.destinations) == ["d"] and config.source == str(path)
    assert config_from_env({"OTEL_LLM_CONFIG": ""}) is None


def test_config_from_env_names_the_variable_when_the_file_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigFileError) as caught:
        config_from_env({"OTEL_LLM_CONFIG": str(missing)})
    assert str(caught.value) == f"cannot read OTEL_LLM_CONFIG: {missing}: No such file or directory"
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value.os_error, FileNotFoundError)


def test_config_from_env_substitutes_from_the_given_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "destinations: {f: {type: file, path: '${env:P}'}}\n")
    config = config_from_env({"OTEL_LLM_CONFIG": str(path), "P": "x.jsonl"})
    assert config is not None and config.destinations["f"].path == "x.jsonl"


# -- the example file, the documentation, the schema ------------------------------------------------


def test_the_example_file_loads_on_a_fresh_machine() -> None:
    config = load_config(EXAMPLE, environ={})
    assert list(config.destinations) == ["audit", "team-1-langfuse", "team-2-webhook", "failures", "sampled", "archive"]
    assert config.destinations_for_tenant("team-1") == ("team-1-langfuse", "audit")
    assert config.destinations_for_tenant("team-2") == ("team-2-webhook", "audit")  # archive is disabled
    assert config.destinations_for_tenant("team-eu-gdpr") == ()
    assert config.destinations_for_tenant("someone-else") == ("audit", "failures", "sampled")
    assert config.redaction_for("audit")["content"] == "keep"
    assert config.redaction_for("team-1-langfuse")["content"] == "drop"
    assert config.destinations["failures"].filter.status == "error"
    assert config.destinations["sampled"].filter.sample_ratio == 0.1


def test_the_example_file_takes_its_settings_from_the_environment() -> None:
    config = load_config(EXAMPLE, environ={"OTEL_LLM_AUDIT_FILE": "/var/log/llm.jsonl", "OTEL_LLM_HASH_KEY": "h"})
    assert config.destinations["audit"].path == "/var/log/llm.jsonl"
    assert config.redaction_for("sampled")["hash_key"] == "h"


def test_every_yaml_example_in_the_documentation_loads(tmp_path: Path) -> None:
    examples = yaml_blocks()
    assert len(examples) >= 3
    for i, body in enumerate(examples):
        config = load_config(write(tmp_path, body, f"doc-{i}.yaml"), environ={})
        assert isinstance(config, Config)


def test_the_published_schema_is_current() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema(), (
        "docs/config.schema.json is stale: python -m otel_llm.config.schema > docs/config.schema.json"
    )


def test_the_schema_accepts_the_examples_and_rejects_what_the_loader_rejects() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    documents = [yaml.safe_load(EXAMPLE.read_text()), *(yaml.safe_load(b) for b in yaml_blocks())]
    for document in documents:
        substituted, problems = substitute(document, {})
        assert problems == []
        assert list(validator.iter_errors(substituted)) == []
    rejected = [
        {"colour": "red"},
        {"destinations": {"bad name": {"type": "console"}}},
        {"destinations": {"x": {"type": "kafka"}}},
        {"destinations": {"f": {"type": "file"}}},
        {"destinations": {"c": {"type": "console", "path": "x"}}},
        {"redaction": {"pii": ["ssn"]}},
        {"destinations": {"c": {"type": "console", "queue": {"max_size": 0}}}},
    ]
    for document in rejected:
        assert not validator.is_valid(document), document
