"""A configuration problem: a key path and what was wrong there, with values shown safely."""

from __future__ import annotations

from typing import Any, NamedTuple

from otel_llm._urls import MASK

# Keys whose values (and everything under them) are secrets: never shown in errors or describe().
SECRET_KEYS = frozenset({"headers", "hash_key", "access_key_id", "secret_access_key", "session_token"})
_SHOWN_CHARS = 60


class Problem(NamedTuple):
    """One thing wrong with the configuration, at a key path (``destinations.audit.path``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def join(path: str, key: Any) -> str:
    """``path`` extended by a mapping key (``a.b``) or a list index (``a[0]``)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    text = str(key) if key != "" else "''"
    return f"{path}.{text}" if path else text


def path_of(keys: tuple[Any, ...]) -> str:
    """The dotted path of a sequence of keys and indices."""
    path = ""
    for key in keys:
        path = join(path, key)
    return path


def is_secret(keys: tuple[Any, ...]) -> bool:
    """Whether a value found under these keys may be a secret."""
    return any(isinstance(k, str) and k in SECRET_KEYS for k in keys)


def shown(value: Any, secret: bool = False) -> str:
    """A value as an error message shows it: YAML words for scalars, the kind for containers."""
    if secret:
        return MASK
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        text = value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 3] + "..."
        return repr(text)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"
