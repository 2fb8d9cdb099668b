"""Destination types of the backend presets (``type: langfuse`` ...), generated from each
``otel_llm.backends.Backend``'s options so that the file and ``OTEL_TRACES_EXPORTER`` take the
same settings, with the same environment variables behind them.

A key left out takes the backend's usual environment variable (``LANGFUSE_SECRET_KEY`` ...),
read when the file is loaded, then its default; a required one missing from both is an error at
its key, naming the variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationInfo, create_model, model_validator

from otel_llm._urls import masked_url
from otel_llm.backends import BACKENDS, Backend, Option, resolve
from otel_llm.backends._backend import COMMON_DEFAULTS, OptionError
from otel_llm.config._destinations import DestinationBase, Headers
from otel_llm.config._types import Choice, Duration, HttpUrl, OptionalSecret, Text, problem


def _annotation(option: Option) -> Any:
    kind = option.kind
    if kind == "secret":
        return OptionalSecret
    if kind == "url":
        return HttpUrl | None
    if kind == "choice":
        return Choice(*option.choices) | None
    return Text | None


def _description(option: Option) -> str:
    text = option.description
    if option.env:
        text += ("; " if text else "") + "unset: " + " or ".join(f"${v}" for v in option.env)
    if option.required:
        text += " (required)"
    return text


class BackendDestination(DestinationBase):
    """The keys every backend preset has besides its own."""

    headers: Headers = Field({}, description="more headers sent with every export; values are secrets")
    timeout: Duration(positive=True) = COMMON_DEFAULTS["timeout"]  # type: ignore[valid-type]
    compression: Choice("gzip", "none") = COMMON_DEFAULTS["compression"]  # type: ignore[valid-type]

    @property
    def backend(self) -> Backend:
        return BACKENDS[self.type]

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, data: Any, info: ValidationInfo) -> Any:
        """Keys left out take the backend's environment variables (read once, here)."""
        if not isinstance(data, dict) or data.get("type") not in BACKENDS:
            return data
        environ: Mapping[str, str] = (info.context or {}).get("environ") or {}
        filled = dict(data)
        for option in BACKENDS[data["type"]].options:
            if filled.get(option.name) in (None, ""):
                value = next((environ[v] for v in option.env if environ.get(v)), None)
                if value is not None:
                    filled[option.name] = value
        return filled

    @model_validator(mode="after")
    def _complete(self) -> BackendDestination:
        try:
            self.backend.target(self.options())
        except OptionError as bad:
            raise problem(bad.detail, at=bad.name) from None
        return self

    def options(self) -> dict[str, Any]:
        """The settings as ``BackendSpanExporter`` takes them (secrets in plain text)."""
        given = {o.name: getattr(self, o.name) for o in self.backend.options}
        given.update(headers=dict(self.headers), timeout=self.timeout, compression=self.compression)
        return resolve(self.backend, given, environ={})

    @property
    def target(self) -> str:  # type: ignore[override]
        return masked_url(self.backend.target(self.options()).endpoint)


def _model(backend: Backend) -> type[BackendDestination]:
    fields: dict[str, Any] = {"type": (Literal[backend.name], ...)}  # type: ignore[valid-type]
    for option in backend.options:
        fields[option.name] = (_annotation(option), Field(option.default, description=_description(option)))
    name = "".join(part.capitalize() for part in backend.name.split("_")) + "Destination"
    model = create_model(name, __base__=BackendDestination, **fields)
    model.__doc__ = f"Spans over OTLP to {backend.title}, in the form it reads (docs/backends/{backend.name}.md)."
    return model


BACKEND_MODELS: dict[str, type[BackendDestination]] = {name: _model(b) for name, b in BACKENDS.items()}
