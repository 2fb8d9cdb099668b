"""Which model servers receive the GenAI span's trace context (``traceparent``, ``tracestate``, ``baggage``).

Self-hosted servers (vLLM, TGI, Ollama, a gateway of your own) can join the trace; public APIs see
no new headers unless you allow them. The allow-list comes from ``OTEL_LLM_PROPAGATE_TO`` or the
``propagate_to`` argument of ``otel_llm.instrument()``: comma-separated entries, each one of

- ``default``: loopback, private and link-local addresses, ``localhost``, ``*.local`` (Kubernetes
  ``*.svc.cluster.local`` included) and single-label host names such as a compose service ``vllm``;
- a host name (``gpu-box.example.com``), optionally with a port (``gpu-box:8000``);
- a suffix pattern (``*.internal.example.com``);
- an IP address or network (``10.20.0.0/16``, ``fd00::/8``);
- ``*`` for every host, or ``none`` for no host.

Unset means ``default``. Headers are added by the provider instrumentation to the SDK's request
options, so they reach the server whether the SDK runs on ``httpx`` or ``httpx2``; a header the
caller set (``extra_headers``) is never replaced.

While the SDK sends a GenAI request, HTTP client instrumentation is suppressed, so that there is no
second span per call and ``opentelemetry-instrumentation-httpx`` does not inject headers to hosts
the policy excludes. ``OTEL_LLM_HTTP_SPANS=true`` (or ``http_spans=True``) keeps those HTTP spans;
then, for SDKs on ``httpx``, that instrumentation also injects its own headers to every host.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.context import Context

_log = logging.getLogger(__name__)

PROPAGATE_ENV = "OTEL_LLM_PROPAGATE_TO"
HTTP_SPANS_ENV = "OTEL_LLM_HTTP_SPANS"
# The context key HTTP client instrumentations (httpx, requests, ...) check before making a span
# and injecting headers. The official instrumentations import it from here too.
SUPPRESS_HTTP_KEY: str = getattr(otel_context, "_SUPPRESS_HTTP_INSTRUMENTATION_KEY", "suppress_http_instrumentation")
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?")


def is_local_host(host: str) -> bool:
    """``localhost``, ``*.local``, ``*.localhost``, or a loopback, private or link-local address."""
    if host == "localhost" or host.endswith((".local", ".localhost")):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def _is_default_host(host: str) -> bool:
    """What ``default`` allows: local hosts, and single-label names such as a compose service."""
    return ("." not in host and ":" not in host) or is_local_host(host)


ENTRY_FORMS = "a host, host:port, *.suffix, IP network, 'default', '*' or 'none'"


class Entry(NamedTuple):
    """One parsed allow-list entry. ``kind``: ``none``, ``all``, ``default``, ``suffix`` (``value``:
    ``.example.com``), ``network`` (an ``ip_network``), ``host_port`` (``host:port``) or ``host``."""

    kind: str
    value: Any = None


def parse_entry(entry: str) -> Entry:
    """One entry of ``OTEL_LLM_PROPAGATE_TO`` (or ``propagate_to``), compared without case and
    surrounding spaces; an empty entry (``a,,b``) means nothing. ValueError when it is none of the
    forms: the configuration file rejects such an entry, the environment variable warns and skips it.
    """
    text = entry.strip().lower()
    if not text or text == "none":
        return Entry("none")
    if text == "*":
        return Entry("all")
    if text == "default":
        return Entry("default")
    if text.startswith("*."):
        if _is_host(text[2:]):
            return Entry("suffix", text[1:])
    else:
        try:
            return Entry("network", ipaddress.ip_network(text.strip("[]"), strict=False))
        except ValueError:
            pass
        host, sep, port = text.rpartition(":")
        if sep and port.isascii() and port.isdigit() and 0 < int(port) < 65536 and _is_host(host):
            return Entry("host_port", f"{host}:{int(port)}")
        if _is_host(text):
            return Entry("host", text)
    raise ValueError(f"expected {ENTRY_FORMS}, got {entry!r}")


def _is_host(text: str) -> bool:
    return bool(text) and all(_LABEL.fullmatch(part) for part in text.split("."))


class PropagationPolicy:
    """An allow-list of hosts; ``allows(host, port)`` is cached per endpoint."""

    def __init__(self, entries: Iterable[str] | str | None = None) -> None:
        if entries is None:
            entries = os.environ.get(PROPAGATE_ENV, "default")
        if isinstance(entries, str):
            entries = entries.split(",")
        self.everything = False
        self.defaults = False
        self._hosts: set[str] = set()
        self._host_ports: set[str] = set()
        self._suffixes: list[str] = []
        self._networks: list[_Network] = []
        for raw in entries:
            self._add(raw)
        self.allows = lru_cache(maxsize=256)(self._allows)

    def _add(self, raw: str) -> None:
        try:
            entry = parse_entry(raw)
        except ValueError:
            _log.warning("%s: %r is not %s; ignored", PROPAGATE_ENV, raw.strip(), ENTRY_FORMS)
            return
        if entry.kind == "all":
            self.everything = True
        elif entry.kind == "default":
            self.defaults = True
        elif entry.kind == "suffix":
            self._suffixes.append(entry.value)
        elif entry.kind == "network":
            self._networks.append(entry.value)
        elif entry.kind == "host_port":
            self._host_ports.add(entry.value)
        elif entry.kind == "host":
            self._hosts.add(entry.value)

    def _allows(self, host: str, port: int | None) -> bool:
        host = host.lower()
        if self.everything or host in self._hosts or f"{host}:{port}" in self._host_ports:
            return True
        if any(host.endswith(suffix) for suffix in self._suffixes):
            return True
        if self._networks:
            try:
                ip = ipaddress.ip_address(host.strip("[]"))
            except ValueError:
                ip = None
            if ip is not None and any(ip in network for network in self._networks):
                return True
        return self.defaults and _is_default_host(host)


def http_spans_from_env() -> bool:
    """``OTEL_LLM_HTTP_SPANS=true`` keeps HTTP client spans (and their own header injection) under GenAI spans."""
    return os.environ.get(HTTP_SPANS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def trace_headers(context: Context) -> dict[str, str]:
    """The headers the configured propagators (W3C trace context and baggage by default) write."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier


def add_trace_headers(options: Any, context: Context) -> None:
    """Give a Stainless-style SDK request (``FinalRequestOptions``) the context's trace headers.

    Headers the caller set (``extra_headers``) win; the caller's dict is never modified.
    """
    headers = options.headers if isinstance(options.headers, Mapping) else {}
    present = {name.lower() for name in headers}
    carrier = {k: v for k, v in trace_headers(context).items() if k.lower() not in present}
    if carrier:
        options.headers = {**headers, **carrier}
