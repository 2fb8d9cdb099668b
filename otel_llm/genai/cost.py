"""The USD cost of a finished call, from its usage attributes (STUB: interface only, being implemented).

Prices come from the ``genai-prices`` package; custom prices (per million tokens) take precedence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Pricer:
    """Prices calls; unknown models get no cost (never a wrong one, never an error)."""

    def __init__(self, custom_prices: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self.custom_prices = dict(custom_prices or {})

    def price(self, provider: str | None, model: str | None, attributes: Mapping[str, Any]) -> dict[str, float] | None:
        """Cost attributes (``otel_llm.cost.usd`` and its breakdown) for a call's response attributes."""
        return None
