"""Small readers shared by provider mappings: SDK objects may be pydantic models or plain dicts."""

from __future__ import annotations

import json
from typing import Any


def get(obj: Any, name: str) -> Any:
    """Read a field from a model or a mapping; None when absent."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def scalar(value: Any) -> Any:
    """Keep values an attribute can hold; drop anything else (None means: not set)."""
    if isinstance(value, (str, bool, int, float)):
        return value
    return None


def number(value: Any) -> float | None:
    """A double attribute (temperature, top_p, top_k): ints become floats, bools are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return None


def string_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def json_or_text(value: Any) -> Any:
    """Tool-call arguments as an object when they are valid JSON, else the text as sent."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
