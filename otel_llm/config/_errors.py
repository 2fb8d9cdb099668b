"""ConfigError, and pydantic's ValidationError turned into one: every problem, one line each.

A line reads ``<key path>: <what was expected>, got <value>``. Paths are the file's: dotted keys,
``[i]`` for list items, without pydantic's union tags. Values under secret keys show as ``****``;
mappings and lists show as their kind, so no nested secret is ever echoed.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ValidationError
from typing_extensions import NotRequired, Required, is_typeddict

from otel_llm.config._destinations import DESTINATION_TYPES
from otel_llm.config._problems import Problem, is_secret, path_of, shown

_SIMPLE = {
    "missing": "required key is missing",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "dict_type": "expected a mapping",
    "typed_dict_type": "expected a mapping",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "string_type": "expected a string",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
}


class ConfigError(ValueError):
    """An invalid configuration. ``problems`` holds each (path, message); ``str()`` lists them all."""

    def __init__(self, problems: Sequence[Problem] | str, source: str | None = None) -> None:
        self.source = source
        if isinstance(problems, str):
            self.problems: tuple[Problem, ...] = (Problem("", problems),)
            super().__init__(problems)
            return
        self.problems = tuple(problems)
        where = f" in {source}" if source else ""
        count = len(self.problems)
        lines = "".join(f"\n  {p}" for p in self.problems)
        super().__init__(f"invalid configuration{where} ({count} problem{'s' if count != 1 else ''}):{lines}")


class ConfigFileError(ConfigError):
    """The configuration file could not be read (``os_error`` says why)."""

    def __init__(self, path: str, os_error: OSError, what: str = "the configuration file") -> None:
        self.os_error = os_error
        reason = os_error.strerror or str(os_error)
        super().__init__(f"cannot read {what} {path}: {reason}", source=path)


def problems_from(error: ValidationError, root: type[BaseModel], skip: Iterable[str] = ()) -> list[Problem]:
    """One Problem per pydantic error; errors at or under a path in ``skip`` are left out."""
    skipped = tuple(skip)
    found: list[Problem] = []
    for detail in error.errors(include_url=False):
        problem = _problem(detail, root)
        if not any(problem.path == s or problem.path.startswith((s + ".", s + "[")) for s in skipped):
            found.append(problem)
    return list(dict.fromkeys(found))


def _problem(detail: Any, root: type[BaseModel]) -> Problem:
    kind, msg, ctx = detail["type"], detail["msg"], detail.get("ctx") or {}
    keys, parent = _resolve(root, detail["loc"])
    value = detail.get("input")
    if kind == "config_line":
        return Problem("", msg)
    if kind == "config_problem":
        at = ctx.get("at")
        return Problem(path_of((*keys, at) if at else keys), msg)
    if kind == "extra_forbidden":
        fields = _fields(parent)
        known = f" (expected one of: {', '.join(fields)})" if fields else ""
        return Problem(path_of(keys), f"unknown key{known}")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        choices = ", ".join(DESTINATION_TYPES)
        if kind == "union_tag_not_found":
            return Problem(path_of((*keys, "type")), f"required key is missing (expected one of {choices})")
        return Problem(path_of((*keys, "type")), f"expected one of {choices}, got {shown(ctx.get('tag'))}")
    secret = is_secret(keys)
    if kind == "missing":
        return Problem(path_of(keys), _SIMPLE[kind])
    if kind == "config":
        return Problem(path_of(keys), f"{msg}, got {shown(value, secret)}")
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return Problem(path_of(keys), f"expected one of {expected}, got {shown(value, secret)}")
    text = _SIMPLE.get(kind) or (msg[:1].lower() + msg[1:])
    return Problem(path_of(keys), f"{text}, got {shown(value, secret)}")


# -- from pydantic's error location to the file's key path --------------------------------------


def _resolve(root: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
    """The file's keys for ``loc`` (union tags and ``[key]`` markers dropped), and the type that
    holds the last key (a model, for listing its keys)."""
    keys: list[Any] = []
    current: Any = root
    parent: Any = None
    for part in loc:
        if part == "[key]":
            continue
        current = _unwrap(current)
        member = _tagged_member(current, part)
        if member is not None:
            current = member
            continue
        keys.append(part)
        parent = current
        current = _child(current, part)
    return tuple(keys), _unwrap(parent)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin in (Annotated, Required, NotRequired):
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _tagged_member(tp: Any, part: Any) -> Any:
    """The member of a discriminated union that ``part`` (a ``type`` value) selects, else None."""
    if get_origin(tp) not in (Union, types.UnionType) or not isinstance(part, str):
        return None
    for member in get_args(tp):
        field = getattr(member, "model_fields", {}).get("type")
        if field is not None and get_origin(field.annotation) is Literal and part in get_args(field.annotation):
            return member
    return None


def _child(tp: Any, part: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    if is_typeddict(tp):
        return get_type_hints(tp, include_extras=True).get(part)
    origin = get_origin(tp)
    if origin is dict:
        return get_args(tp)[1]
    if origin in (list, tuple):
        return get_args(tp)[0]
    return None


def _fields(tp: Any) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    if is_typeddict(tp):
        return list(get_type_hints(tp))
    return []
