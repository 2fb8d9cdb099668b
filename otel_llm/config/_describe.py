"""``describe(config)``: the resolved pipelines in words, for ``otel-llm check-config`` and logs.

What each destination receives (its effective redaction, filter, queue, retries) and which
tenant's calls go where. Secrets show as ``****``, also inside a URL: each URL shown goes through
``otel_llm._urls.masked_url`` (userinfo password and query values masked).
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from otel_llm._urls import masked_url
from otel_llm.config._destinations import DestinationBase
from otel_llm.config._models import Config
from otel_llm.config._problems import MASK
from otel_llm.config._redaction import RedactionBlock

_SECONDS = frozenset(
    {"timeout", "flush_interval", "shutdown_timeout", "initial_backoff", "max_backoff"}
)
_COMMON = frozenset(DestinationBase.model_fields)
_TARGET_FIELDS = frozenset({"endpoint", "path", "url", "bucket", "prefix", "endpoint_url"})
_WIDTH = 110
_REQUEST_VARIABLES = {
    "allow_no_log": "OTEL_LLM_DISABLE_NO_LOG",
    "allow_capture_override": "OTEL_LLM_ALLOW_CAPTURE_OVERRIDE",
    "baggage_keys": "OTEL_LLM_BAGGAGE_KEYS",
}


def describe(config: Config) -> str:
    """The configuration as a person checks it: settings, each destination's pipeline, the routes."""
    lines = [f"otel-llm configuration{f': {config.source}' if config.source else ''} (version {config.version})"]
    lines += _settings(config)
    enabled = config.enabled()
    disabled = len(config.destinations) - len(enabled)
    lines += ["", f"destinations: {len(enabled)} enabled" + (f", {disabled} disabled" if disabled else "")]
    if not config.destinations:
        lines.append("  (none: nothing is exported)")
    marked = False
    for name, dest in config.destinations.items():
        lines.append("")
        lines.append(f"  {name}: {dest.type} -> {dest.target}" + ("" if dest.enabled else "  (disabled)"))
        if not dest.enabled:
            continue
        own = dest.redaction.model_fields_set if dest.redaction is not None else set()
        marked = marked or bool(own)
        lines += _wrap("    exporter:  ", _exporter(dest))
        lines += _wrap("    redaction: ", _redaction(config.redaction_for(name), own))
        lines += _wrap("    filter:    ", _filter(dest))
        lines += _wrap("    queue:     ", _fields(dest.queue))
        lines += _wrap("    retry:     ", _fields(dest.retry))
    if marked:
        lines += ["", "  (* set by the destination, over the global redaction)"]
    lines += ["", "routing (before per-request exclusions and filters):"]
    lines += _routes(config)
    return "\n".join(lines) + "\n"


def _settings(config: Config) -> list[str]:
    capture = config.capture_content or "from OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
    cost = "from OTEL_LLM_COST" if config.cost is None else _word(config.cost)
    if config.prices:
        cost += f"; custom prices for {', '.join(config.prices)}"
    propagate = config.propagation.propagate_to if config.propagation is not None else None
    propagate_to = "from OTEL_LLM_PROPAGATE_TO" if propagate is None else (", ".join(propagate) or "none")
    return [
        f"  capture_content: {capture}",
        f"  cost: {cost}",
        f"  propagate_to: {propagate_to}",
        *_wrap("  requests: ", _requests(config)),
        *_wrap("  redaction: ", _redaction(config.redaction_for(None), set())),
    ]


def _requests(config: Config) -> list[str]:
    """The request policy; keys the file leaves out keep their environment variable's value."""
    given = config.requests.model_fields_set
    parts = []
    for name, variable in _REQUEST_VARIABLES.items():
        value = _value(name, getattr(config.requests, name)) if name in given else f"from {variable}"
        parts.append(f"{name}={value}")
    return parts


def _wrap(label: str, parts: list[str]) -> list[str]:
    """``label`` and the comma-separated ``parts``, continued under the first part past _WIDTH."""
    lines: list[str] = []
    line = label
    for i, part in enumerate(parts):
        text = part + ("," if i < len(parts) - 1 else "")
        if line.strip() and line != label and len(line) + 1 + len(text) > _WIDTH:
            lines.append(line.rstrip())
            line = " " * len(label)
        line += ("" if line.endswith(" ") else " ") + text
    if parts:
        lines.append(line.rstrip())
    return lines


def _redaction(settings: dict[str, Any], own: set[str]) -> list[str]:
    parts = []
    for name in RedactionBlock.model_fields:
        value = settings[name]
        shown = MASK if name == "hash_key" and value is not None else _value(name, value)
        parts.append(f"{name}={shown}{'*' if name in own else ''}")
    return parts


def _filter(dest: DestinationBase) -> list[str]:
    f = dest.filter
    tags = "[" + ", ".join(f.tags) + "]" if f.tags else "any"
    genai_only = _word(f.genai_only)
    return [f"status={f.status}", f"tags={tags}", f"sample_ratio={f.sample_ratio:g}", f"genai_only={genai_only}"]


def _exporter(dest: DestinationBase) -> list[str]:
    """The type's own settings other than the target already shown."""
    names = [n for n in type(dest).model_fields if n not in _COMMON and n not in _TARGET_FIELDS]
    return [f"{n}={_value(n, getattr(dest, n))}" for n in names]


def _fields(block: Any) -> list[str]:
    return [f"{n}={_value(n, getattr(block, n))}" for n in type(block).model_fields]


def _value(name: str, value: Any) -> str:
    if isinstance(value, SecretStr):
        return MASK
    if value is None:
        return "none"
    if isinstance(value, bool):
        return _word(value)
    if isinstance(value, float) and name in _SECONDS:
        return f"{value:g}s"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(k, v)}" for k, v in value.items()) + "}" if value else "none"
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return masked_url(value)  # any URL option (a backend's host, tracking_uri, ...), not just the target
    return str(value)


def _word(flag: bool) -> str:
    return "true" if flag else "false"


def _routes(config: Config) -> list[str]:
    rows = [("tenant", "destinations")]
    for tenant_id, tenant in config.tenants.items():
        names = config.destinations_for_tenant(tenant_id)
        if not tenant.logging:
            where = "nothing (logging: false)"
        elif tenant.destinations is None:
            where = f"{_names(names)} (default destinations)"
        else:
            skipped = [n for n in tenant.destinations if not config.destinations[n].enabled]
            where = _names(names) + (f" (disabled, skipped: {', '.join(skipped)})" if skipped else "")
        rows.append((tenant_id, where))
    defaults = config.default_destination_names()
    origin = "default_destinations" if config.default_destinations is not None else "every enabled destination"
    rows.append(("(no tenant, other tenants)", f"{_names(defaults)} ({origin})"))
    width = max(len(r[0]) for r in rows)
    return [f"  {tenant.ljust(width)}  {where}" for tenant, where in rows]


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names) if names else "nothing"
