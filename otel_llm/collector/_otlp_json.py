"""OTLP/JSON → the protobuf request message.

The OTLP specification's JSON is the proto3 JSON mapping with deviations: trace and span ids are
hex (not base64), enums are integers, keys are lowerCamelCase, unknown fields are ignored.
``google.protobuf.json_format`` takes about 300 µs per typical span (pure Python, one generic
step per field), so this module walks the decoded JSON with tables made once per message type
from the descriptors and hands the result to the upb constructor in one call (which builds the
whole tree in C). It follows the proto3 JSON mapping's rules for each scalar type and is checked
against ``json_format`` by the tests.

Lenient where the OTLP spec is strict and nothing is ambiguous: enum names are accepted beside
integers, snake_case keys beside lowerCamelCase, and ids in the standard mapping's base64 (whose
lengths no valid hex id has). An id that is neither is kept as bytes of a wrong length, so the
span is rejected on its own (partial success) instead of the whole request.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.descriptor import Descriptor, FieldDescriptor

# Deepest message nesting accepted, the request itself being 1: upb refuses to parse deeper
# messages, and a request this collector took must parse again when it is read back from the log.
MAX_DEPTH = 100
_ID_LENGTHS = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}
_NOT_AN_ID = b"\x00"  # a length no id has: the item is rejected, not the request
_INTEGER = re.compile(r"-?[0-9]{1,20}")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_SPECIAL_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_SKIP: Any = object()  # an enum name this version does not know: the field is ignored


class JsonError(Exception):
    """The JSON does not describe the message; ``str()`` names where and why (safe to send back)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []

    def __str__(self) -> str:
        path = self.path[::-1]
        if len(path) > 12:  # deep nesting: the start and the end say where
            path = [*path[:5], "…", *path[-6:]]
        return f"{'.'.join(path)}: {self.problem}" if path else self.problem


Converter = Callable[[Any, int], Any]


def _string(value: Any, depth: int) -> str:
    if type(value) is str:
        return value
    raise JsonError("expected a string")


def _bool(value: Any, depth: int) -> bool:
    if value is True or value is False:
        return value
    raise JsonError("expected true or false")


def _integer(low: int, high: int) -> Converter:
    def convert(value: Any, depth: int) -> int:
        kind = type(value)
        if kind is int:
            number = value
        elif kind is str and _INTEGER.fullmatch(value):
            number = int(value)  # 64-bit integers come as decimal strings, or as numbers
        elif kind is float and value.is_integer():
            number = int(value)
        else:
            raise JsonError("expected an integer (a number or a decimal string)")
        if low <= number <= high:
            return number
        raise JsonError(f"integer out of range [{low}, {high}]")

    return convert


def _double(value: Any, depth: int) -> float:
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    if kind is str:
        special = _SPECIAL_FLOATS.get(value)
        if special is not None:
            return special
        if _NUMBER.fullmatch(value):
            return float(value)
    raise JsonError('expected a number, or "NaN", "Infinity", "-Infinity"')


def _enum(numbers: dict[str, int]) -> Converter:
    def convert(value: Any, depth: int) -> int:
        kind = type(value)
        if kind is int and -(2**31) <= value < 2**31:
            return value
        if kind is str:
            if value in numbers:
                return numbers[value]
            if _INTEGER.fullmatch(value) and -(2**31) <= int(value) < 2**31:
                return int(value)
            return _SKIP
        raise JsonError("expected an enum value (an integer)")

    return convert


def _base64(value: Any, depth: int) -> bytes:
    if type(value) is str:
        text = value.replace("-", "+").replace("_", "/")  # standard or URL-safe, padded or not
        try:
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            pass
    raise JsonError("expected base64 text")


def _id(length: int) -> Converter:
    base64_lengths = ((length * 4 + 2) // 3, (length + 2) // 3 * 4)  # unpadded, padded

    def convert(value: Any, depth: int) -> bytes:
        if type(value) is not str:
            raise JsonError("expected a hex string")
        try:
            raw = binascii.unhexlify(value)
        except (binascii.Error, ValueError):  # odd length, not hex, not ASCII
            raw = None
        if raw is not None and (len(raw) == length or not raw):
            return raw
        if len(value) in base64_lengths:
            try:
                decoded = _base64(value, depth)
            except JsonError:
                decoded = b""
            if len(decoded) == length:
                return decoded
        return raw if raw is not None else _NOT_AN_ID

    return convert


class _Field:
    __slots__ = ("convert", "name", "oneof", "repeated")

    def __init__(self, name: str, convert: Converter, repeated: bool, oneof: str | None) -> None:
        self.name = name
        self.convert = convert
        self.repeated = repeated
        self.oneof = oneof


_TABLES: dict[str, dict[str, _Field]] = {}
_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _converter(field: FieldDescriptor) -> Converter:
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == _KEY_VALUE and _repeated(field):
            return _key_values(_message_converter(field.message_type))
        return _message_converter(field.message_type)
    if kind == FieldDescriptor.TYPE_STRING:
        return _string
    if kind == FieldDescriptor.TYPE_BOOL:
        return _bool
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _double
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum({v.name: v.number for v in field.enum_type.values})
    if kind == FieldDescriptor.TYPE_BYTES:
        return _id(_ID_LENGTHS[field.name]) if field.name in _ID_LENGTHS else _base64
    return _integer(*_RANGES[kind])


def _table(descriptor: Descriptor) -> dict[str, _Field]:
    """The fields of a message type by JSON name and by proto name. Made on first use, complete
    before it is published (receivers decode on several threads); message fields look their type's
    table up when they convert, so recursive types need no table while this one is made."""
    table = _TABLES.get(descriptor.full_name)
    if table is None:
        table = {}
        for field in descriptor.fields:
            oneof = field.containing_oneof
            # attribute lists convert their own items (see _key_values)
            repeated = _repeated(field) and not (field.message_type and field.message_type.full_name == _KEY_VALUE)
            entry = _Field(field.name, _converter(field), repeated, oneof.name if oneof else None)
            table[field.json_name] = entry
            table[field.name] = entry
        table = _TABLES.setdefault(descriptor.full_name, table)
    return table


def _repeated(field: FieldDescriptor) -> bool:
    is_repeated = getattr(field, "is_repeated", None)  # protobuf >= 5.29; ``label`` is deprecated there
    return bool(is_repeated) if is_repeated is not None else field.label == FieldDescriptor.LABEL_REPEATED


_KEY_VALUE = "opentelemetry.proto.common.v1.KeyValue"
# AnyValue members taken without the generic walk, with the JSON type each must have
_SCALAR_MEMBERS: dict[str, tuple[str, type]] = {
    "stringValue": ("string_value", str),
    "string_value": ("string_value", str),
    "boolValue": ("bool_value", bool),
    "bool_value": ("bool_value", bool),
    "intValue": ("int_value", int),
    "int_value": ("int_value", int),
    "doubleValue": ("double_value", float),
    "double_value": ("double_value", float),
}


def _key_values(generic: Converter) -> Converter:
    """Attributes (repeated KeyValue), the bulk of a request: a pair with a scalar value is taken in
    one step, anything else (and anything wrong, for its error message) by the generic walk."""

    def convert(value: Any, depth: int) -> list[Any]:
        if type(value) is not list or depth + 2 > MAX_DEPTH:
            return _repeated_value(generic, value, depth)
        out = []
        for index, item in enumerate(value):
            pair = _scalar_pair(item)
            out.append(pair if pair is not None else _item(generic, item, index, depth))
        return out

    return convert


def _scalar_pair(item: Any) -> dict[str, Any] | None:
    """``{"key": k, "value": {"stringValue": v}}`` (or another scalar) as constructor arguments;
    None when the item is anything else."""
    if type(item) is not dict or len(item) != 2:
        return None
    key = item.get("key")
    any_value = item.get("value")
    if type(key) is not str or type(any_value) is not dict or len(any_value) != 1:
        return None
    ((member, scalar),) = any_value.items()
    fast = _SCALAR_MEMBERS.get(member)
    if fast is None:
        return None
    name, kind = fast
    if type(scalar) is not kind:
        if kind is int and type(scalar) is str and _INTEGER.fullmatch(scalar):
            scalar = int(scalar)  # int64 as a decimal string, as the proto3 JSON mapping writes it
        else:
            return None
    if kind is int and not -(2**63) <= scalar < 2**63:
        return None
    return {"key": key, "value": {name: scalar}}


def _item(convert: Converter, item: Any, index: int, depth: int) -> Any:
    try:
        if item is None:
            raise JsonError("null is not allowed in an array")
        return convert(item, depth)
    except JsonError as err:
        err.path.append(str(index))
        raise


def _message_converter(descriptor: Descriptor) -> Converter:
    tables: list[dict[str, _Field]] = []  # the type's table, once looked up

    def convert(value: Any, depth: int) -> dict[str, Any]:
        if not tables:
            tables.append(_table(descriptor))
        return message_kwargs(tables[0], value, depth + 1)

    return convert


def message_kwargs(table: dict[str, _Field], obj: Any, depth: int) -> dict[str, Any]:
    """A JSON object as keyword arguments of the message's constructor (nested ones as dicts)."""
    if type(obj) is not dict:
        raise JsonError("expected an object")
    if depth > MAX_DEPTH:
        raise JsonError(f"messages nested more than {MAX_DEPTH} deep")
    out: dict[str, Any] = {}
    oneofs: dict[str, str] | None = None
    for key, value in obj.items():
        field = table.get(key)
        if field is None or value is None:  # unknown fields are ignored; null means not set
            continue
        try:
            name = field.name
            if name in out:
                raise JsonError("the field is given twice (lowerCamelCase and snake_case)")
            if field.oneof is not None:
                oneofs = oneofs or {}
                if field.oneof in oneofs:
                    raise JsonError(f"{oneofs[field.oneof]} and {name} are both set (one of them only)")
                oneofs[field.oneof] = name
            if field.repeated:
                converted = _repeated_value(field.convert, value, depth)
            else:
                converted = field.convert(value, depth)
                if converted is _SKIP:
                    continue
            out[name] = converted
        except JsonError as err:
            err.path.append(key)
            raise
    return out


def _repeated_value(convert: Converter, value: Any, depth: int) -> list[Any]:
    if type(value) is not list:
        raise JsonError("expected an array")
    out = []
    for index, item in enumerate(value):
        converted = _item(convert, item, index, depth)
        if converted is not _SKIP:
            out.append(converted)
    return out


def parse(request_type: Any, body: bytes) -> Any:
    """The request message from OTLP/JSON bytes (UTF-8); JsonError when it does not describe one.

    Invalid UTF-8, bad JSON and nesting beyond orjson's limit are orjson's JSONDecodeError (a
    ValueError); the caller reports those, and JsonError, as bad data.
    """
    if body[:3] == b"\xef\xbb\xbf":
        body = body[3:]  # a byte order mark, which JSON parsers may ignore
    document = orjson.loads(body)
    if type(document) is not dict:
        raise JsonError(f"the body must be a JSON object (an {request_type.DESCRIPTOR.name})")
    kwargs = message_kwargs(_table(request_type.DESCRIPTOR), document, 1)
    return request_type(**kwargs)
