"""Field types of the configuration: each checks its value and says what it expected.

Every check raises ``PydanticCustomError("config", "expected ...")``: ``_errors`` adds the key
path and the value given. Values substituted from the environment arrive as strings, so numbers,
booleans and durations also accept their string spelling (``"2048"``, ``"true"``, ``"5s"``).
The JSON Schema describes the values after substitution.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from otel_llm._urls import masked_url
from otel_llm.config._problems import shown

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
DESTINATION_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
DESTINATION_NAME_PATTERN = "^[A-Za-z0-9_.-]{1,64}$"


def expected(text: str) -> PydanticCustomError:
    """The error for a value that is not what ``text`` describes (``_errors`` adds ", got <value>")."""
    return PydanticCustomError("config", text)


def problem(text: str, at: str = "") -> PydanticCustomError:
    """A complete message (no value appended), reported at the key path plus the key ``at``, if given."""
    return PydanticCustomError("config_problem", text, {"at": at})


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise expected("expected true or false")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise expected(what)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise expected(what) from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise expected(what)
    return value


def _bounds(minimum: float | None, maximum: float | None, exclusive_min: bool = False) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f" {'>' if exclusive_min else '>='} {minimum:g}"
    return ""


def _int_check(minimum: int | None) -> Callable[[Any], int]:
    what = "expected an integer" + _bounds(minimum, None)

    def check(value: Any) -> int:
        number = _number(value, what)
        if isinstance(number, float):
            if not number.is_integer():
                raise expected(what)
            number = int(number)
        if minimum is not None and number < minimum:
            raise expected(what)
        return number

    return check


def Int(minimum: int | None = None) -> Any:
    """An integer (not a boolean), at least ``minimum``."""
    return Annotated[int, Field(ge=minimum), BeforeValidator(_int_check(minimum))]


def Number(minimum: float | None = None, maximum: float | None = None) -> Any:
    """A finite number (not a boolean) within the bounds, as a float."""
    what = "expected a number" + _bounds(minimum, maximum)

    def check(value: Any) -> float:
        number = float(_number(value, what))
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise expected(what)
        return number

    return Annotated[float, Field(ge=minimum, le=maximum), BeforeValidator(check)]


def parse_duration(value: Any, what: str) -> float:
    """Seconds from a number, or a string such as ``"500ms"``, ``"5s"``, ``"1m"``, ``"1h"``, ``"2.5"``."""
    if isinstance(value, bool):
        raise expected(what)
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    else:
        raise expected(what)
    if not math.isfinite(seconds):
        raise expected(what)
    return seconds


def Duration(*, positive: bool) -> Any:
    """Seconds, normalised to a float; ``positive`` excludes 0."""
    what = "expected a duration (seconds, or a string such as '500ms', '5s', '1m', '1h') " + (
        "> 0" if positive else ">= 0"
    )

    def check(value: Any) -> float:
        seconds = parse_duration(value, what)
        if seconds < 0 or (positive and seconds == 0):
            raise expected(what)
        return seconds

    bound = {"exclusiveMinimum": 0} if positive else {"minimum": 0}
    schema = {
        "anyOf": [
            {"type": "number", **bound},
            {"type": "string", "pattern": r"^\s*(\d+(\.\d*)?|\.\d+)\s*([mM][sS]|[sSmMhH])?\s*$"},
        ],
        "description": "seconds: a number, or a string with a unit (ms, s, m, h), e.g. '500ms', '5s', '1m'",
    }
    return Annotated[float, BeforeValidator(check), WithJsonSchema(schema)]


Bool = Annotated[bool, BeforeValidator(parse_bool)]


def Choice(*values: str) -> Any:
    """One of ``values`` (lowercase strings; the file's value is compared without case)."""
    what = "expected one of " + ", ".join(values)

    def check(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in values:
            return value.strip().lower()
        raise expected(what)

    return Annotated[Literal[values], BeforeValidator(check)]  # type: ignore[valid-type]


def _text_check(what: str, test: Callable[[str], bool] | None = None) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or (test is not None and not test(value)):
            raise expected(what)
        return value

    return check


def _string_check(value: Any) -> Any:
    if not isinstance(value, (str, SecretStr)):
        raise expected("expected a string")
    return value


def _secret_check(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value
    if not isinstance(value, str) or not value:
        raise expected("expected a non-empty string")
    return value


def _empty_is_unset(value: Any) -> Any:
    return None if value == "" else value


Text = Annotated[str, Field(min_length=1), BeforeValidator(_text_check("expected a non-empty string"))]
AnyText = Annotated[str, BeforeValidator(_string_check)]
SecretText = Annotated[SecretStr, BeforeValidator(_string_check)]  # a header value: any string, kept secret
Secret = Annotated[SecretStr, BeforeValidator(_secret_check)]
# An optional secret: an empty string (``${env:VAR:-}`` with VAR unset) means "not set".
OptionalSecret = Annotated[Secret | None, BeforeValidator(_empty_is_unset)]


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _url_check(value: Any) -> str:
    what = "expected an http:// or https:// URL with a host"
    if not isinstance(value, str):
        raise expected(what)
    if not _is_http_url(value):  # the value shown masked: it may hold a password or a token
        raise problem(f"{what}, got {shown(masked_url(value))}")
    return value.strip()


HttpUrl = Annotated[
    str,
    Field(json_schema_extra={"format": "uri", "pattern": "^[hH][tT][tT][pP][sS]?://"}),
    BeforeValidator(_url_check),
]
DestinationName = Annotated[
    str,
    Field(pattern=DESTINATION_NAME_PATTERN),
    BeforeValidator(
        _text_check(
            "expected a destination name of 1 to 64 letters, digits, '_', '.' or '-'",
            lambda v: DESTINATION_NAME.fullmatch(v) is not None,
        )
    ),
]


def _regex_check(value: Any) -> str:
    if not isinstance(value, str):
        raise expected("expected a regular expression (a string)")
    try:
        re.compile(value)
    except re.error as err:
        raise expected(f"expected a valid regular expression ({err})") from None
    return value


Regex = Annotated[str, Field(json_schema_extra={"format": "regex"}), BeforeValidator(_regex_check)]


def key_str(value: Any) -> Any:
    """YAML reads ``123:`` as an integer key: a tenant or destination named 123 is the string "123"."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, int) and not isinstance(k, bool) else k: v for k, v in value.items()}
    return value


def entries(value: Any) -> Any:
    """``key_str``, and an entry left empty (``team-b:``) is an empty mapping: all defaults."""
    value = key_str(value)
    if isinstance(value, dict):
        return {k: {} if v is None else v for k, v in value.items()}
    return value


class Block(BaseModel):
    """A mapping of the file: unknown keys are errors, values are frozen, and an empty value
    (``key:`` with nothing after it, or ``null``) means the key's default where null is not itself a value."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_mean_default(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            k: v
            for k, v in data.items()
            if not (
                v is None
                and k in fields
                and not fields[k].is_required()
                and fields[k].default is not None
            )
        }

    def given(self) -> dict[str, Any]:
        """The keys the file set on this block, with their values."""
        return {k: getattr(self, k) for k in self.model_fields_set}
