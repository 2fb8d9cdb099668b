"""The configuration file as pydantic models (version 1), and what the pipeline asks of it.

Checks that span blocks (tenant and default destinations must name a destination) run on the
raw input next to the field checks, so one ConfigError lists every problem of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from typing_extensions import NotRequired, TypedDict

from otel_llm._context_scope import BAGGAGE_KEYS
from otel_llm.config._collector import Collector
from otel_llm.config._destinations import Destination, DestinationBase
from otel_llm.config._redaction import RedactionBlock, merge
from otel_llm.config._types import (
    Block,
    Bool,
    Choice,
    DestinationName,
    Number,
    Text,
    entries,
    expected,
    key_str,
    parse_bool,
    problem,
)
from otel_llm.genai.cost import _custom_cards
from otel_llm.propagation import ENTRY_FORMS, parse_entry

BAGGAGE_LABELS = tuple(BAGGAGE_KEYS)  # the labels otel_llm.context can carry in baggage
CAPTURE_VALUES = ("no_content", "span_only", "true", "false")
_EVENT_MODES = ("event_only", "span_and_event")


def _capture(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("no_content", "span_only"):
        return value.strip().lower()
    if isinstance(value, str) and value.strip().lower() in _EVENT_MODES:
        raise expected(
            "expected one of no_content, span_only, true, false (event modes are not supported: content "
            "events are log records, which bypass the destinations' redaction and routing)"
        )
    try:
        return "span_only" if parse_bool(value) else "no_content"
    except PydanticCustomError:
        raise expected("expected one of no_content, span_only, true, false") from None


CaptureContent = Annotated[
    Choice("no_content", "span_only"),  # type: ignore[valid-type]
    BeforeValidator(_capture),
    WithJsonSchema({"anyOf": [{"enum": list(CAPTURE_VALUES)}, {"type": "boolean"}]}),
]
PerMillion = Number(0)


def _version(value: Any) -> int:
    if (value == 1 and not isinstance(value, bool)) or value == "1":
        return 1
    raise expected("expected 1 (the only version of the format)")


class ModelPrice(TypedDict):
    """USD per million tokens; cache prices default to the input price."""

    __pydantic_config__ = {"extra": "forbid"}  # type: ignore[misc]
    input: PerMillion  # type: ignore[valid-type]
    output: PerMillion  # type: ignore[valid-type]
    cache_read: NotRequired[PerMillion]  # type: ignore[valid-type]
    cache_write: NotRequired[PerMillion]  # type: ignore[valid-type]


def _propagation_entry(value: str) -> str:
    """An entry as ``OTEL_LLM_PROPAGATE_TO`` reads it (``otel_llm.propagation.parse_entry``'s rules)."""
    try:
        parse_entry(value)
    except ValueError:
        raise expected(f"expected {ENTRY_FORMS}") from None
    return value.strip()


PropagationEntry = Annotated[Text, AfterValidator(_propagation_entry)]


class Propagation(Block):
    """Which model servers receive trace headers."""

    propagate_to: tuple[PropagationEntry, ...] | None = Field(
        None,
        description="entries as OTEL_LLM_PROPAGATE_TO: default, a host, host:port, *.suffix, an IP network, *, none",
    )


class Requests(Block):
    """The platform's policy over what a request's ``otel_llm.context(...)`` may ask."""

    allow_no_log: Bool = Field(True, description="honour no_log=True from a request (false: every call is exported)")
    allow_capture_override: Bool = Field(False, description="let a request widen content capture")
    baggage_keys: tuple[Choice(*BAGGAGE_LABELS), ...] = Field(  # type: ignore[valid-type]
        (), description="labels carried across services in W3C baggage: tags, user, session, tenant"
    )


class Tenant(Block):
    """A tenant's own destinations, or ``logging: false``; neither: the default destinations."""

    destinations: tuple[Text, ...] | None = Field(None, description="names of destinations; [] sends nothing")
    logging: Bool = Field(
        True,
        description="false: no span carrying this tenant id is exported (e.g. GDPR); spans without a tenant "
        "(the application's own) still go to the default destinations",
    )

    @model_validator(mode="after")
    def _one_route(self) -> Tenant:
        if self.destinations is not None and not self.logging:
            raise problem("expected either destinations or logging: false, not both")
        return self


class Config(Block):
    """A validated configuration. Build with ``load_config``; ``describe(config)`` explains it."""

    version: Annotated[int, Field(ge=1, le=1), BeforeValidator(_version)] = Field(
        1, description="the format's version: 1"
    )
    capture_content: CaptureContent | None = Field(
        None, description="message content on spans; null: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
    )
    cost: Bool | None = Field(None, description="cost attributes and metric; null: OTEL_LLM_COST (on)")
    prices: dict[Text, ModelPrice] | None = Field(
        None, description="custom prices per 'model' or 'provider/model', USD per million tokens"
    )
    propagation: Propagation | None = None
    requests: Requests = Requests()
    redaction: RedactionBlock = Field(RedactionBlock(), description="defaults for every destination")
    destinations: Annotated[dict[DestinationName, Destination], BeforeValidator(key_str)] = {}
    tenants: Annotated[dict[Text, Tenant], BeforeValidator(entries)] = {}
    default_destinations: tuple[Text, ...] | None = Field(
        None, description="for calls without a tenant or with no route of their own; null: every enabled destination"
    )
    collector: Collector | None = Field(None, description="otel-llm collector: receivers, auth, admin API, persistence")

    _source: str | None = PrivateAttr(None)

    @field_validator("prices")
    @classmethod
    def _prices_as_the_pricer_reads_them(cls, prices: dict[str, Any] | None) -> dict[str, Any] | None:
        try:
            _custom_cards(prices, "prices")  # the rules Pricer applies: a file that loads prices cleanly
        except ValueError as err:
            raise PydanticCustomError("config_line", str(err)) from None
        return prices

    @model_validator(mode="wrap")
    @classmethod
    def _check_references(cls, data: Any, handler: Any) -> Config:
        problems = _reference_problems(data)
        try:
            config = handler(data)
        except ValidationError as err:
            if not problems:
                raise
            raise ValidationError.from_exception_data(
                err.title, [*_reraisable(err), *problems], hide_input=True
            ) from None
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems, hide_input=True)
        return config

    @property
    def source(self) -> str | None:
        """The file the configuration was read from (None for a mapping)."""
        return self._source

    def redaction_for(self, name: str | None) -> dict[str, Any]:
        """The effective redaction of destination ``name`` (None: the global settings):
        defaults, then the global ``redaction`` block, then the destination's own keys.
        The keys are those of ``RedactionSettings``. KeyError for an unknown name."""
        own = None if name is None else self.destinations[name].redaction
        return merge(self.redaction, own)

    def enabled(self) -> dict[str, DestinationBase]:
        """The destinations in use, in the file's order."""
        return {name: d for name, d in self.destinations.items() if d.enabled}

    def default_destination_names(self) -> tuple[str, ...]:
        """``default_destinations`` when given (disabled ones left out), else every enabled destination."""
        if self.default_destinations is None:
            return tuple(self.enabled())
        return self._usable(self.default_destinations)

    def destinations_for_tenant(self, tenant_id: str | None) -> tuple[str, ...]:
        """Where a call of ``tenant_id`` goes, before per-request exclusions and filters.

        No tenant, an unknown tenant, or a tenant with neither key: the default destinations;
        ``logging: false`` (or ``destinations: []``): nothing; else the tenant's enabled destinations.
        """
        tenant = self.tenants.get(tenant_id) if tenant_id is not None else None
        if tenant is None:
            return self.default_destination_names()
        if not tenant.logging:
            return ()
        if tenant.destinations is None:
            return self.default_destination_names()
        return self._usable(tenant.destinations)

    def _usable(self, names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(n for n in dict.fromkeys(names) if self.destinations[n].enabled)


def _reference_problems(data: Any) -> list[InitErrorDetails]:
    """Tenant and default destination names that name no destination, or are listed twice."""
    if not isinstance(data, Mapping) or not isinstance(data.get("destinations", {}), Mapping):
        return []
    defined = [str(k) for k in data.get("destinations") or {}]
    what = "expected the name of a destination " + (
        f"(defined: {', '.join(defined)})" if defined else "(no destination is defined)"
    )
    lists: list[tuple[tuple[Any, ...], Any]] = [(("default_destinations",), data.get("default_destinations"))]
    tenants = data.get("tenants")
    if isinstance(tenants, Mapping):
        lists += [
            (("tenants", str(tid), "destinations"), t.get("destinations"))
            for tid, t in tenants.items()
            if isinstance(t, Mapping)
        ]
    problems: list[InitErrorDetails] = []
    for loc, names in lists:
        if not isinstance(names, list | tuple):
            continue
        seen: set[str] = set()
        for i, name in enumerate(names):
            if not isinstance(name, str):
                continue
            if name not in defined:
                problems.append({"type": expected(what), "loc": (*loc, i), "input": name})
            elif name in seen:
                error = problem(f"'{name}' is listed twice")
                problems.append({"type": error, "loc": (*loc, i), "input": name})
            seen.add(name)
    return problems


def _reraisable(err: ValidationError) -> list[InitErrorDetails]:
    """A ValidationError's errors as input for a new one (custom error types kept)."""
    return [
        {
            "type": PydanticCustomError(e["type"], e["msg"], e.get("ctx")),  # type: ignore[arg-type]
            "loc": e["loc"],
            "input": e.get("input"),
        }
        for e in err.errors(include_url=False)
    ]
