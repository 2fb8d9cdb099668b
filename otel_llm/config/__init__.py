"""The otel-llm configuration file (docs/configuration.md): destinations, redaction, tenants, ...

``load_config(path or mapping)`` returns a validated ``Config`` or raises ``ConfigError`` listing
every problem by key path; ``config_from_env()`` loads the file ``OTEL_LLM_CONFIG`` names.
``describe(config)`` explains the resolved pipelines; ``otel-llm check-config FILE`` prints it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from otel_llm.config._describe import describe
from otel_llm.config._errors import ConfigError, ConfigFileError
from otel_llm.config._load import CONFIG_ENV, from_env, load
from otel_llm.config._models import Config
from otel_llm.config._problems import Problem

__all__ = [
    "CONFIG_ENV",
    "Config",
    "ConfigError",
    "ConfigFileError",
    "Problem",
    "config_from_env",
    "describe",
    "load_config",
]


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any], *, environ: Mapping[str, str] | None = None
) -> Config:
    """A validated Config from a YAML file's path, or from an already-parsed mapping.

    ``${env:VAR}`` references are substituted from ``environ`` (default ``os.environ``) in both
    cases. Raises ConfigError (ConfigFileError when the file cannot be read).
    """
    return load(source, environ)


def config_from_env(environ: Mapping[str, str] | None = None) -> Config | None:
    """The Config in the file ``OTEL_LLM_CONFIG`` names; None when the variable is unset or empty."""
    return from_env(environ)
