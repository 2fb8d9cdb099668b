"""Per-request context: labels and controls for every GenAI call inside a block (STUB: interface only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from otel_llm.genai.capture import CaptureMode


@dataclass(frozen=True)
class Scope:
    """The merged context in force for one GenAI call."""

    attributes: dict[str, Any] = field(default_factory=dict)  # span (and metric-dimension) attributes
    no_log: bool = False
    exclude_destinations: frozenset[str] = frozenset()
    tenant_id: str | None = None

    def capture_for(self, configured: CaptureMode) -> CaptureMode:
        """The capture mode for this call given the configured one."""
        return configured


def current() -> Scope | None:
    """The scope in force now (context blocks and allowed baggage), or None when there is none."""
    return None
