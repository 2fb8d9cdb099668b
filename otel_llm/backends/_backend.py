"""What a backend preset is: its options (each with the backend's usual environment variables),
how they become an OTLP target, and the attribute view the backend reads.

One ``Backend`` value serves both ways in: the configuration file's destination type (a pydantic
model generated from ``options``, ``otel_llm/config/_backends.py``) and the
``opentelemetry_traces_exporter`` entry point (``BackendSpanExporter`` reading the environment).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_llm._spans import replaced
from otel_llm.exporters.otlp import Protocol, otlp_span_exporter
from otel_llm.records import attribute_dict

_log = logging.getLogger(__name__)
_warned: set[str] = set()

OptionKind = Literal["text", "secret", "url", "choice"]

# Attributes a view adds, given the span's (redacted) attributes.
View = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Option:
    """One setting of a backend: a key of its destination type, and where its value comes from
    when the key is not given (the first of ``env`` that is set, then ``default``)."""

    name: str
    kind: OptionKind = "text"
    env: tuple[str, ...] = ()
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Target:
    """Where and how the spans go."""

    endpoint: str
    protocol: Protocol = "http/protobuf"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # credentials: never in a repr
    resource: Mapping[str, Any] = field(default_factory=dict)  # set on each span's resource
    resource_defaults: Mapping[str, Any] = field(default_factory=dict)  # set where the resource has none


@dataclass(frozen=True)
class Backend:
    name: str
    title: str
    options: tuple[Option, ...]
    target: Callable[[Mapping[str, Any]], Target]
    view: View | None = None
    proven: str = ""  # how the tests prove it: "real server ..." or "contract test ..."
    # Plain OTLP backends (Jaeger) take OTEL_EXPORTER_OTLP_HEADERS and TLS files like any OTLP
    # exporter; the others never see the user's collector credentials.
    generic_otlp_variables: bool = False


class OptionError(ValueError):
    """An option without a usable value; ``detail`` is said at the option's key (never its value)."""

    def __init__(self, backend: str, name: str, detail: str) -> None:
        self.name = name
        self.detail = detail
        super().__init__(f"{backend}: {name}: {detail}")


class MissingOption(OptionError):
    """A required option is neither given nor in the environment."""

    def __init__(self, backend: str, name: str, env: Sequence[str] = (), when: str = "") -> None:
        where = " or ".join(env)
        detail = f"required{when}: give it in the configuration" + (f" or set {where}" if where else "")
        super().__init__(backend, name, detail)


# Keys every backend destination has besides its options; also the keyword arguments of
# BackendSpanExporter. The values here are the defaults.
COMMON_DEFAULTS: Mapping[str, Any] = {"headers": {}, "timeout": 10.0, "compression": "gzip"}


def _warn_once(backend: str) -> None:
    if backend not in _warned:
        _warned.add(backend)
        _log.warning("otel-llm: the %s attribute view failed on a span; it is sent as it is", backend, exc_info=True)


def _secret(value: Any) -> Any:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else value


def _clean(backend: str, name: str, value: Any) -> Any:
    """A string value without surrounding whitespace (a key read from a file often ends with a
    newline); control characters left inside would make every export fail, and the HTTP client's
    error would print the value, so they are refused here, by name."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise OptionError(backend, name, "expected a value without control characters")
    return value


def resolve(backend: Backend, given: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every option of ``backend`` with its value: given, else from the environment, else the
    default. Secrets come back as plain strings. OptionError (MissingOption for a required one)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in backend.options:
        value = _secret(given.get(option.name))
        if value is None or value == "":
            value = next((env[var] for var in option.env if env.get(var, "").strip()), None)
        value = _clean(backend.name, option.name, value)
        if value is None or value == "":
            if option.required:
                raise MissingOption(backend.name, option.name, option.env)
            value = option.default
        values[option.name] = value
    for key, default in COMMON_DEFAULTS.items():
        value = given.get(key)
        values[key] = default if value is None else value
    values["headers"] = {
        k: _clean(backend.name, f"headers.{k}", _secret(v)) for k, v in (values["headers"] or {}).items()
    }
    return values


def _validated(backend: Backend, options: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The options through the backend's destination model (the one a configuration file uses),
    so ``OTEL_TRACES_EXPORTER=<backend>`` checks the environment's values exactly as a file's."""
    from otel_llm.backends import BACKENDS
    from otel_llm.config import ConfigError, load_config

    if BACKENDS.get(backend.name) is not backend:
        return resolve(backend, options, environ)  # a backend of the caller's own: its options as given
    try:
        config = load_config({"destinations": {backend.name: {"type": backend.name, **options}}}, environ=environ)
    except ConfigError as err:
        prefix = f"destinations.{backend.name}."
        problems = "; ".join(f"{p.path.removeprefix(prefix)}: {p.message}" for p in err.problems)
        raise ValueError(f"{backend.name}: {problems}") from None
    return config.destinations[backend.name].options()  # type: ignore[attr-defined]


class BackendSpanExporter(SpanExporter):
    """OTLP to a backend, each span seen through the backend's view (attributes added, never
    removed; resource attributes the target asks for). The view reads the span as it is handed
    over, so after a pipeline's redaction it can only repeat what the destination may see."""

    backend: Backend  # set by the subclasses registered as entry points

    def __init__(self, backend: Backend | None = None, *, environ: Mapping[str, str] | None = None, **options: Any):
        """Options not given come from ``environ`` (None: the process environment), checked by
        the backend's destination model as a configuration file would be: ValueError with the key
        and what was expected."""
        if backend is not None:
            self.backend = backend
        self._set_up(_validated(self.backend, options, os.environ if environ is None else environ))

    @classmethod
    def from_values(cls, backend: Backend, values: Mapping[str, Any]) -> BackendSpanExporter:
        """The exporter for values a destination model has already validated and resolved
        (``BackendDestination.options()``), without checking them a second time."""
        exporter = cls.__new__(cls)
        exporter.backend = backend
        exporter._set_up(values)
        return exporter

    def _set_up(self, values: Mapping[str, Any]) -> None:
        self.target = target = self.backend.target(values)
        headers = {**target.headers, **values["headers"]}
        self._exporter = otlp_span_exporter(
            target.endpoint,
            protocol=target.protocol,
            headers=headers,
            timeout=float(values["timeout"]),
            gzip=values["compression"] == "gzip",
            isolated=not self.backend.generic_otlp_variables,
        )
        self._view = self.backend.view
        self._resource_attributes = dict(target.resource)
        self._resource_defaults = dict(target.resource_defaults)
        self._resources: dict[int, tuple[Resource, Resource]] = {}

    def _resource(self, resource: Resource) -> Resource:
        if not self._resource_attributes and not self._resource_defaults:
            return resource
        cached = self._resources.get(id(resource))
        if cached is not None and cached[0] is resource:
            return cached[1]
        merged = Resource(self._resource_defaults).merge(resource).merge(Resource(self._resource_attributes))
        if len(self._resources) > 64:
            self._resources.clear()
        self._resources[id(resource)] = (resource, merged)
        return merged

    def seen(self, span: ReadableSpan) -> ReadableSpan:
        """``span`` as the backend receives it (unchanged when the view fails on it: a warning,
        and the span still goes out with its GenAI attributes)."""
        attributes = attribute_dict(span)
        added = None
        if self._view is not None:
            try:
                added = self._view(attributes)
            except Exception:
                _warn_once(self.backend.name)
        resource = self._resource(span.resource)
        if added:
            # The span's own attributes win: a view adds what is missing, it never changes what is there.
            return replaced(span, attributes={**added, **attributes}, resource=resource)
        return span if resource is span.resource else replaced(span, resource=resource)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export([self.seen(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)
