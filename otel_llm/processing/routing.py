"""Which destinations one span goes to: tenant routes, defaults, per-request exclusions, filters.

Runs on the application thread for every ended span, so it only reads a few attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from otel_llm.genai import attributes as A
from otel_llm.records import attribute_dict

_TRACE_ID_LOW_64 = (1 << 64) - 1
STATUSES = ("any", "error", "ok")


@dataclass(frozen=True)
class Filter:
    """What one destination accepts of the spans routed to it."""

    status: str = "any"  # any | error (failed calls only) | ok
    tags: frozenset[str] = frozenset()  # non-empty: only calls with at least one of these tags
    sample_ratio: float = 1.0  # by trace id, so the spans of one trace stay together
    genai_only: bool = False  # only spans of GenAI calls (gen_ai.operation.name)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"filter.status: expected one of {', '.join(STATUSES)}, got {self.status!r}")
        if not 0.0 <= self.sample_ratio <= 1.0:
            raise ValueError(f"filter.sample_ratio: expected a number from 0 to 1, got {self.sample_ratio!r}")
        object.__setattr__(self, "tags", frozenset(self.tags))
        # The same bound as the SDK's TraceIdRatioBased sampler: compare the low 64 bits of the id.
        object.__setattr__(self, "_bound", round(self.sample_ratio * (1 << 64)))

    @property
    def passes_everything(self) -> bool:
        return self.status == "any" and not self.tags and self.sample_ratio >= 1.0 and not self.genai_only

    def accepts(self, span: ReadableSpan) -> bool:
        attrs = attribute_dict(span)
        if self.genai_only and A.OPERATION_NAME not in attrs:
            return False
        if self.status != "any":
            failed = span.status.status_code is StatusCode.ERROR or A.ERROR_TYPE in attrs
            if failed != (self.status == "error"):
                return False
        if self.tags:
            tags = attrs.get(A.TAGS)
            if not tags or self.tags.isdisjoint(tags if not isinstance(tags, str) else (tags,)):
                return False
        if self.sample_ratio < 1.0:
            context = span.context
            if context is None or (context.trace_id & _TRACE_ID_LOW_64) >= self._bound:  # type: ignore[attr-defined]
                return False
        return True


class Router:
    """Destinations for a span: its tenant's own, else the defaults; minus exclusions; then filters.

    ``tenants`` maps a tenant id to its destination names; an empty sequence disables logging for
    that tenant. Tenants not in the map, and spans without a tenant, go to ``defaults``.
    """

    def __init__(
        self,
        filters: Mapping[str, Filter],
        defaults: Iterable[str],
        tenants: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        known = set(filters)
        self._filters = dict(filters)
        self.defaults = self._check(tuple(defaults), known, "default destinations")
        self.tenants = {
            tenant: self._check(tuple(names), known, f"tenant {tenant!r}") for tenant, names in (tenants or {}).items()
        }
        # Destinations whose filter passes everything need no per-span check.
        self._open = frozenset(name for name, f in self._filters.items() if f.passes_everything)

    @staticmethod
    def _check(names: tuple[str, ...], known: set[str], where: str) -> tuple[str, ...]:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"{where}: unknown destination(s) {unknown}; defined: {sorted(known)}")
        return tuple(dict.fromkeys(names))

    def route(self, span: ReadableSpan) -> tuple[str, ...]:
        attrs = attribute_dict(span)
        tenant = attrs.get(A.TENANT_ID)
        names = self.defaults if tenant is None else self.tenants.get(tenant, self.defaults)
        if not names:
            return ()
        excluded = attrs.get(A.EXCLUDE_DESTINATIONS)
        if excluded:
            excluded = (excluded,) if isinstance(excluded, str) else excluded
            names = tuple(n for n in names if n not in excluded)
        filters, open_ = self._filters, self._open
        return tuple(n for n in names if n in open_ or filters[n].accepts(span))
