"""What one ``otel_llm.context(...)`` block says (validated labels) and the scope a GenAI call sees.

The platform's ``Policy`` lives here too: a scope is computed from labels under a policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from otel_llm.genai import attributes as A
from otel_llm.genai.capture import _ALIASES as _CAPTURE_ALIASES
from otel_llm.genai.capture import CaptureMode, parse_capture_mode

# Label → the W3C baggage key that carries it (the attribute name it becomes).
BAGGAGE_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "tags": A.TAGS,
        "user": A.USER_ID,
        "session": A.CONVERSATION_ID,
        "tenant": A.TENANT_ID,
    }
)


@dataclass(frozen=True)
class Policy:
    """The platform owner's settings; blocks cannot override them."""

    disable_no_log: bool = False  # no_log=True in a block is ignored: every call keeps its span
    allow_capture_override: bool = False  # a block may widen content capture (it may always narrow it)
    baggage_keys: frozenset[str] = frozenset()  # labels written to and read from W3C baggage
    # A destinations pipeline is in force: content only on spans, where redaction sees it, never on
    # log events, which it does not route. Set by otel_llm.configure().
    content_on_spans_only: bool = False


# -- labels: what one block says, validated -------------------------------------------------------


class _Labels:
    """Validated labels and controls; None (or empty) means "not said here"."""

    __slots__ = (
        "capture",
        "exclude",
        "metadata",
        "name",
        "no_log",
        "propagate",
        "redact_content",
        "session_id",
        "tags",
        "tenant_id",
        "user_id",
    )

    def __init__(
        self,
        *,
        tags: tuple[str, ...] = (),
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        tenant_id: str | None = None,
        name: str | None = None,
        no_log: bool | None = None,
        exclude: frozenset[str] = frozenset(),
        capture: CaptureMode | None = None,
        propagate: frozenset[str] | None = None,
        redact_content: bool | None = None,
    ) -> None:
        self.tags = tags
        self.metadata: Mapping[str, Any] = MappingProxyType(dict(metadata or {}))
        self.user_id = user_id
        self.session_id = session_id
        self.tenant_id = tenant_id
        self.name = name
        self.no_log = no_log
        self.exclude = exclude
        self.capture = capture
        self.propagate = propagate
        self.redact_content = redact_content

    def under(self, outer: _Labels | None) -> _Labels:
        """These labels nested inside ``outer``: tags united, metadata merged, inner scalars win."""
        if outer is None:
            return self

        def pick(inner: Any, out: Any) -> Any:
            return out if inner is None else inner

        return _Labels(
            tags=_union(outer.tags, self.tags),
            metadata={**outer.metadata, **self.metadata},
            user_id=pick(self.user_id, outer.user_id),
            session_id=pick(self.session_id, outer.session_id),
            tenant_id=pick(self.tenant_id, outer.tenant_id),
            name=pick(self.name, outer.name),
            no_log=pick(self.no_log, outer.no_log),
            exclude=outer.exclude | self.exclude,
            capture=pick(self.capture, outer.capture),
            propagate=pick(self.propagate, outer.propagate),
            redact_content=pick(self.redact_content, outer.redact_content),
        )

    def attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if self.tags:
            attrs[A.TAGS] = self.tags
        for key, value in self.metadata.items():
            attrs[A.METADATA_PREFIX + key] = value
        for key, value in (
            (A.USER_ID, self.user_id),
            (A.CONVERSATION_ID, self.session_id),
            (A.TENANT_ID, self.tenant_id),
            (A.OPERATION_LABEL, self.name),
        ):
            if value is not None:
                attrs[key] = value
        if self.exclude:
            attrs[A.EXCLUDE_DESTINATIONS] = tuple(sorted(self.exclude))
        if self.redact_content is not None:
            attrs[A.REDACT_CONTENT] = self.redact_content
        return attrs


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    if not first:
        return second
    if not second:
        return first
    return tuple(dict.fromkeys(first + second))


def _strings(value: Any, param: str, what: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise TypeError(f"{param}: expected {what}, got {type(value).__name__} {value!r:.80}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise TypeError(f"{param}[{i}]: expected str, got {type(item).__name__} {item!r:.80}")
        if not item.strip():
            raise ValueError(f"{param}[{i}]: empty string")
        out.append(item)
    return tuple(dict.fromkeys(out))


def _text(value: Any, param: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(
            f"{param}: expected str or None, got {type(value).__name__} {value!r:.80} (convert it with str())"
        )
    if not value.strip():
        raise ValueError(f"{param}: empty string; pass None to leave it unset")
    return value


def _metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"metadata: expected a mapping of str to str/int/float/bool, got {type(value).__name__}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise TypeError(f"metadata: keys must be non-empty str, got {key!r:.80}")
        if not isinstance(item, (str, int, float)):  # bool is an int
            raise TypeError(
                f"metadata[{key!r}]: expected str, int, float or bool (a flat map), got {type(item).__name__}"
            )
        out[key] = item
    return out


def _capture(value: Any) -> CaptureMode | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() not in _CAPTURE_ALIASES and text.upper() not in CaptureMode.__members__:
            raise ValueError(
                f"capture_content: {value!r} is not a capture mode; expected True, False, a CaptureMode or one of "
                "'NO_CONTENT', 'SPAN_ONLY', 'EVENT_ONLY', 'SPAN_AND_EVENT', 'true', 'false'"
            )
    elif not isinstance(value, (bool, CaptureMode)):
        raise TypeError(f"capture_content: expected bool, str or CaptureMode, got {type(value).__name__}")
    return parse_capture_mode(value, source="capture_content")


def _propagate(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if value is False:
        return frozenset()
    names = _strings(value, "propagate", f"a list of label names ({', '.join(BAGGAGE_KEYS)})")
    unknown = [n for n in names if n not in BAGGAGE_KEYS]
    if unknown:
        raise ValueError(f"propagate: {unknown} not among {list(BAGGAGE_KEYS)}")
    return frozenset(names)


# -- the scope a call sees --------------------------------------------------------------------------


def _narrow(requested: CaptureMode, configured: CaptureMode) -> CaptureMode:
    """What both modes allow: content goes only where the configuration already sends it."""
    on_span = requested.on_span and configured.on_span
    on_event = requested.on_event and configured.on_event
    if on_span and on_event:
        return CaptureMode.SPAN_AND_EVENT
    if on_span:
        return CaptureMode.SPAN_ONLY
    if on_event:
        return CaptureMode.EVENT_ONLY
    return CaptureMode.NO_CONTENT


@dataclass(frozen=True, eq=False)
class Scope:
    """The merged context in force for one GenAI call (computed when a block is entered)."""

    attributes: dict[str, Any] = field(default_factory=dict)  # span attributes; never modified
    no_log: bool = False
    exclude_destinations: frozenset[str] = frozenset()
    tenant_id: str | None = None
    capture: CaptureMode | None = None  # what the innermost block asked for; None: the configured mode
    allow_capture_override: bool = False  # the policy when the block was entered: may capture widen?
    _labels: _Labels | None = field(default=None, repr=False)

    def capture_for(self, configured: CaptureMode) -> CaptureMode:
        """The capture mode for this call given the configured one: narrowed always, widened only if allowed."""
        requested = self.capture
        if requested is None or requested is configured:
            return configured
        if self.allow_capture_override:
            return requested
        return _narrow(requested, configured)


def _allowed(requested: CaptureMode | None, policy: Policy) -> CaptureMode | None:
    """A block's capture request without its event part when content must stay on spans."""
    if requested is None or not policy.content_on_spans_only or not requested.on_event:
        return requested
    return CaptureMode.SPAN_ONLY if requested.on_span else CaptureMode.NO_CONTENT


def _scope(labels: _Labels, policy: Policy) -> Scope:
    return Scope(
        attributes=labels.attributes(),
        no_log=bool(labels.no_log) and not policy.disable_no_log,
        exclude_destinations=labels.exclude,
        tenant_id=labels.tenant_id,
        # A request that asks for its content to be redacted gets none captured in the first place.
        capture=CaptureMode.NO_CONTENT if labels.redact_content else _allowed(labels.capture, policy),
        allow_capture_override=policy.allow_capture_override,
        _labels=labels,
    )
