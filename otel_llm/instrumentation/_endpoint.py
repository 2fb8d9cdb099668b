"""An API endpoint in GenAI terms, and the walk from its request body to request attributes.

Each provider describes its endpoints as data: the operation, which response mapping applies,
and a table of ``(body key, attribute, converter)`` rows. One generic walk turns the body the SDK
is about to send into attributes, so no provider writes code per field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from otel_llm.genai import attributes as A

Converter = Callable[[Any], Any]
Row = tuple[str, str, Converter]


@dataclass(frozen=True)
class Endpoint:
    """What one endpoint is in GenAI terms."""

    operation: str
    kind: str  # picks the provider's response mapping and stream accumulator
    params: tuple[Row, ...]
    constants: Mapping[str, Any] = field(default_factory=dict)  # attributes every call of it has
    # body key → ((attribute, converter, rank), ...); a lower rank wins an attribute two keys map to.
    lookup: dict[str, tuple[tuple[str, Converter, int], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table: dict[str, tuple[tuple[str, Converter, int], ...]] = {}
        for rank, (key, attr, convert) in enumerate(self.params):
            table[key] = (*table.get(key, ()), (attr, convert, rank))
        object.__setattr__(self, "lookup", table)


def request_attributes(
    endpoint: Endpoint,
    body: Mapping[str, Any],
    provider: str,
    host: str | None,
    port: int | None,
    streaming: bool,
) -> dict[str, Any]:
    """The span's start attributes from the request body as sent."""
    attrs: dict[str, Any] = {
        A.OPERATION_NAME: endpoint.operation,
        A.PROVIDER_NAME: provider,
    }
    model = body.get("model")
    if isinstance(model, str):
        attrs[A.REQUEST_MODEL] = model
    if host:
        attrs[A.SERVER_ADDRESS] = host
        if port:
            attrs[A.SERVER_PORT] = port
    if endpoint.constants:
        attrs.update(endpoint.constants)
    if streaming:
        attrs[A.REQUEST_STREAM] = True
    # Walk the (few) keys the body has rather than every parameter we know.
    lookup = endpoint.lookup
    ranks: dict[str, int] = {}
    for key, value in body.items():
        specs = lookup.get(key)
        if specs is None or value is None:
            continue
        for attr, convert, rank in specs:
            if attr in ranks and ranks[attr] < rank:
                continue
            converted = convert(value)
            if converted is not None:
                attrs[attr] = converted
                ranks[attr] = rank
    return attrs
