"""Reading a configuration: the YAML file (or a mapping), environment substitution, validation.

YAML is read with ``safe_load`` rules, plus one: a key given twice in the same mapping is an
error, not a silent "last one wins". YAML errors give the line and column but never quote the
file's text, which may hold secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from otel_llm.config._env import substitute
from otel_llm.config._errors import ConfigError, ConfigFileError, problems_from
from otel_llm.config._models import Config
from otel_llm.config._problems import Problem, join, shown

CONFIG_ENV = "OTEL_LLM_CONFIG"


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            mark = key_node.start_mark
            raise ConfigError(
                [Problem("", f"line {mark.line + 1}, column {mark.column + 1}: key {shown(key)} is given twice")]
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse_yaml(text: str, source: str | None = None) -> Any:
    """The document in ``text``; ConfigError (with line and column) when it is not valid YAML."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: safe_load's rules
    except ConfigError as err:
        raise ConfigError(err.problems, source) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = getattr(err, "problem", None) or "not valid YAML"
        raise ConfigError([Problem("", f"{where}invalid YAML: {what}")], source) from None


def read_file(path: str | os.PathLike[str]) -> tuple[Any, str]:
    """The parsed file and its name; ConfigFileError when it cannot be read."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise ConfigFileError(name, err) from None
    except UnicodeDecodeError as err:
        raise ConfigError([Problem("", f"not UTF-8 text ({err.reason} at byte {err.start})")], name) from None
    return parse_yaml(text, name), name


def validate(data: Any, source: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """A Config from parsed data: environment substitution, then validation; one ConfigError for all problems."""
    if data is None:
        data = {}  # an empty file (or one with only comments) is an empty configuration
    if not isinstance(data, Mapping):
        raise ConfigError([Problem("", f"expected a mapping at the top level, got {shown(data)}")], source)
    substituted, problems = substitute(data, os.environ if environ is None else environ)
    try:
        config = Config.model_validate(substituted, context={"environ": os.environ if environ is None else environ})
    except ValidationError as err:
        problems += problems_from(err, Config, skip=[p.path for p in problems])
        raise ConfigError(in_file_order(problems, data), source) from None
    if problems:
        raise ConfigError(in_file_order(problems, data), source)
    config._source = source
    return config


def in_file_order(problems: list[Problem], data: Any) -> list[Problem]:
    """Problems sorted by where their key (or its nearest parent) appears in the file."""
    order: dict[str, int] = {}

    def walk(value: Any, path: str) -> None:
        order.setdefault(path, len(order))
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, join(path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, join(path, i))

    walk(data, "")

    def position(problem: Problem) -> int:
        path = problem.path
        best = max(
            (p for p in order if not p or path == p or path.startswith((p + ".", p + "["))),
            key=len,
            default="",
        )
        return order.get(best, 0)

    return sorted(problems, key=position)


def load(source: str | os.PathLike[str] | Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Config:
    if isinstance(source, Mapping):
        return validate(source, None, environ)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"load_config: expected a file path or a mapping, got {type(source).__name__}")
    data, name = read_file(source)
    return validate(data, name, environ)


def from_env(environ: Mapping[str, str] | None = None) -> Config | None:
    env = os.environ if environ is None else environ
    path = env.get(CONFIG_ENV, "").strip()
    if not path:
        return None
    try:
        data, name = read_file(path)
    except ConfigFileError as err:
        raise ConfigFileError(path, err.os_error, what=f"{CONFIG_ENV}:") from None
    return validate(data, name, env)
