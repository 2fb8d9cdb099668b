"""Which GenAI provider an OpenAI-compatible endpoint is, from its host name.

Many services speak the OpenAI API; the client's base URL tells them apart. The table is
documented in docs/providers.md. Users override it with ``provider_overrides`` or the
``OTEL_LLM_PROVIDER_OVERRIDES`` variable (``host[:port]=name`` pairs, comma separated).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from functools import lru_cache

from otel_llm.propagation import is_local_host

_log = logging.getLogger(__name__)

OVERRIDES_ENV = "OTEL_LLM_PROVIDER_OVERRIDES"

# (host suffix, provider name), first match wins. Suffixes match the whole host or a subdomain.
HOST_TABLE: tuple[tuple[str, str], ...] = (
    ("api.openai.com", "openai"),
    ("openai.azure.com", "azure.ai.openai"),
    ("cognitiveservices.azure.com", "azure.ai.openai"),
    ("openai.azure.us", "azure.ai.openai"),
    ("services.ai.azure.com", "azure.ai.inference"),
    ("models.ai.azure.com", "azure.ai.inference"),
    ("inference.ai.azure.com", "azure.ai.inference"),
    ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"),
    ("api.mistral.ai", "mistral_ai"),
    ("api.x.ai", "x_ai"),
    ("api.perplexity.ai", "perplexity"),
    ("generativelanguage.googleapis.com", "gcp.gemini"),
    ("aiplatform.googleapis.com", "gcp.vertex_ai"),
    ("openrouter.ai", "openrouter"),
    ("api.together.xyz", "together_ai"),
    ("api.together.ai", "together_ai"),
    ("api.fireworks.ai", "fireworks_ai"),
    ("api.cohere.ai", "cohere"),
    ("api.cohere.com", "cohere"),
    ("api.cerebras.ai", "cerebras"),
    ("inference.api.nvidia.com", "nvidia_nim"),
    ("integrate.api.nvidia.com", "nvidia_nim"),
    ("api-inference.huggingface.co", "huggingface"),
    ("router.huggingface.co", "huggingface"),
    ("api.moonshot.ai", "moonshot"),
    ("dashscope.aliyuncs.com", "alibaba_cloud"),
    ("dashscope-intl.aliyuncs.com", "alibaba_cloud"),
)

# Self-hosted servers, told apart by their usual port on a local or private address.
LOCAL_PORTS: Mapping[int, str] = {11434: "ollama", 1234: "lm_studio"}
LOCAL_DEFAULT = "openai_compatible"
UNKNOWN_DEFAULT = "openai_compatible"


def parse_overrides(text: str, *, source: str = OVERRIDES_ENV) -> dict[str, str]:
    """Parse ``host[:port]=name,...``; a malformed pair is reported and skipped."""
    result: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, name = item.partition("=")
        if not sep or not host.strip() or not name.strip():
            _log.warning("%s: %r is not host[:port]=provider_name; ignored", source, item)
            continue
        result[host.strip().lower()] = name.strip()
    return result


class ProviderResolver:
    """Maps (host, port) to a provider name, with user overrides first. Results are cached."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        merged = parse_overrides(os.environ.get(OVERRIDES_ENV, ""))
        if overrides:
            merged.update({k.lower(): v for k, v in overrides.items()})
        self._overrides = merged
        self.resolve = lru_cache(maxsize=256)(self._resolve)

    def _resolve(self, host: str, port: int | None, default: str = UNKNOWN_DEFAULT) -> str:
        host = host.lower()
        if port is not None and f"{host}:{port}" in self._overrides:
            return self._overrides[f"{host}:{port}"]
        if host in self._overrides:
            return self._overrides[host]
        for suffix, name in HOST_TABLE:
            if host == suffix or host.endswith("." + suffix):
                return name
        if host.startswith("bedrock") and host.endswith(".amazonaws.com"):
            return "aws.bedrock"
        if is_local_host(host):
            return LOCAL_PORTS.get(port or 0, default if default != UNKNOWN_DEFAULT else LOCAL_DEFAULT)
        return default
