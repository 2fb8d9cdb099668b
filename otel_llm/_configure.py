"""``otel_llm.configure()``: one configuration file puts the destinations pipeline in place.

The configuration (docs/configuration.md) decides where spans go, what each destination may see
and which tenant's calls go where; this module turns it into a span processor on the tracer
provider, the request policy, and the instrumentation settings.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from otel_llm.config import Config, ConfigError, config_from_env, load_config
from otel_llm.genai.capture import CAPTURE_ENV, capture_mode_from_env
from otel_llm.genai.cost import COST_ENV, PRICES_ENV
from otel_llm.processing.build import build_pipeline
from otel_llm.processing.pipeline import Pipeline
from otel_llm.propagation import PROPAGATE_ENV
from otel_llm.request_context import configure_policy

_log = logging.getLogger("otel_llm")


def resolve_config(config: str | os.PathLike[str] | Mapping[str, Any] | Config | None) -> Config:
    if isinstance(config, Config):
        return config
    if config is None:
        found = config_from_env()
        if found is None:
            raise ConfigError("no configuration: pass configure(path or dict) or set OTEL_LLM_CONFIG to a file")
        return found
    return load_config(config)


def apply_policy(config: Config) -> None:
    """The ``requests`` block, key by key: keys the file does not set keep their environment value.

    Content stays on spans from now on: a request may not move it onto log events, which the
    destinations pipeline does not see.
    """
    requests = config.requests
    given = requests.model_fields_set
    configure_policy(
        disable_no_log=(not requests.allow_no_log) if "allow_no_log" in given else None,
        allow_capture_override=requests.allow_capture_override if "allow_capture_override" in given else None,
        baggage_keys=list(requests.baggage_keys) if "baggage_keys" in given else None,
        content_on_spans_only=True,
    )


def check_capture(config: Config) -> None:
    """Content on log events would bypass the pipeline: refuse such a mode from the environment too."""
    if config.capture_content is not None:
        return  # the file's own value is checked when it is loaded
    mode = capture_mode_from_env()
    if mode.on_event:
        raise ConfigError(
            f"{CAPTURE_ENV}={os.environ.get(CAPTURE_ENV)}: content on log events bypasses the destinations "
            "pipeline and its redaction; with a configuration file use SPAN_ONLY (or set capture_content "
            "in the file)"
        )


def instrumentation_settings(config: Config) -> dict[str, Any]:
    """The ``instrument()`` arguments the file sets (others stay with their environment variables)."""
    settings: dict[str, Any] = {}
    if config.capture_content is not None:
        settings["capture_content"] = config.capture_content
    if config.cost is not None:
        settings["cost"] = config.cost
    if config.prices:
        settings["prices"] = config.prices
    if config.propagation is not None and config.propagation.propagate_to is not None:
        settings["propagate_to"] = list(config.propagation.propagate_to)
    return settings


def settings_as_environment(config: Config) -> dict[str, str]:
    """The same settings as the variables instrumentors read, for ``opentelemetry-instrument``."""
    settings = instrumentation_settings(config)
    env: dict[str, str] = {}
    if "capture_content" in settings:
        env[CAPTURE_ENV] = str(settings["capture_content"])
    if "cost" in settings:
        env[COST_ENV] = "true" if settings["cost"] else "false"
    if "prices" in settings:
        env[PRICES_ENV] = json.dumps(settings["prices"])
    if "propagate_to" in settings:
        env[PROPAGATE_ENV] = ",".join(settings["propagate_to"]) or "none"
    return env


def configure(
    config: str | os.PathLike[str] | Mapping[str, Any] | Config | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: Any = None,
    logger_provider: Any = None,
    instrument: bool = True,
    exporters: Mapping[str, SpanExporter] | None = None,
) -> Pipeline:
    """Load ``config`` (a YAML file's path, a dict, or None for ``OTEL_LLM_CONFIG``), add the
    destinations pipeline to the tracer provider, apply the request policy and instrument the SDKs.

    ``tracer_provider``: the SDK provider to add the pipeline to; by default the global one, or a
    new one (made global) when none is installed. Exporters already on that provider bypass the
    pipeline and its redaction: give them here as ``exporters`` (name → SpanExporter) instead, and
    they become destinations under the global redaction settings. Raises ConfigError, naming the key,
    when the configuration is invalid.
    """
    cfg = resolve_config(config)
    check_capture(cfg)
    if tracer_provider is None:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            tracer_provider = current
        else:
            tracer_provider = TracerProvider()
            trace.set_tracer_provider(tracer_provider)
    pipeline = build_pipeline(cfg, meter_provider=meter_provider, extra=exporters)
    tracer_provider.add_span_processor(pipeline)
    apply_policy(cfg)
    if instrument:
        from otel_llm import instrument as instrument_sdks

        instrument_sdks(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            logger_provider=logger_provider,
            **instrumentation_settings(cfg),
        )
    _log.info("otel-llm destinations: %s", ", ".join(pipeline.destinations) or "none")
    return pipeline
