"""``${env:VAR}`` substitution in every string value of the configuration, before validation.

The syntax is the OpenTelemetry Collector's: ``${env:NAME}``, ``${env:NAME:-default}`` (the
default when NAME is unset or empty, as in the shell) and ``$$`` for a literal ``$``. A ``$`` not
followed by ``{`` or ``$`` stays as it is. Substituted text is not scanned again, and mapping keys
are not substituted. Problems name the key path and the variable, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from otel_llm.config._problems import Problem, is_secret, path_of, shown

# One token: "$$", or "${...}" (up to the first "}"), or a "${" that is never closed.
_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}|\$\{")
_REFERENCE = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)
SYNTAX = "${env:NAME} or ${env:NAME:-default} (write $$ for a literal $)"


def substitute(data: Any, environ: Mapping[str, str]) -> tuple[Any, list[Problem]]:
    """``data`` with every string value substituted, and the problems found (paths of the values)."""
    problems: list[Problem] = []
    return _walk(data, (), environ, problems), problems


def _walk(value: Any, keys: tuple[Any, ...], environ: Mapping[str, str], problems: list[Problem]) -> Any:
    if isinstance(value, str):
        return _substitute(value, keys, environ, problems) if "$" in value else value
    if isinstance(value, Mapping):
        return {k: _walk(v, (*keys, k), environ, problems) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, (*keys, i), environ, problems) for i, v in enumerate(value)]
    return value


def _substitute(text: str, keys: tuple[Any, ...], environ: Mapping[str, str], problems: list[Problem]) -> str:
    path = path_of(keys)

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$$":
            return "$"
        reference = _REFERENCE.fullmatch(match.group(1) or "") if token != "${" else None
        if reference is None:
            problems.append(Problem(path, f"expected {SYNTAX}, got {shown(token, is_secret(keys))}"))
            return token
        name, default = reference.group(1), reference.group(2)
        found = environ.get(name)
        if default is not None and not found:
            return default
        if found is None:
            problems.append(
                Problem(path, f"environment variable {name} is not set (give a default: ${{env:{name}:-default}})")
            )
            return token
        return found

    return _TOKEN.sub(replace, text)
