"""Exception safety for every hook: a bug of ours is logged once and never reaches the user."""

from __future__ import annotations

import logging

_log = logging.getLogger("otel_llm")
_reported: set[str] = set()


def report(where: str, exc: BaseException) -> None:
    """Log an internal failure: a warning with traceback the first time per hook, debug after."""
    try:
        if where in _reported:
            _log.debug("otel-llm hook %s failed again: %r", where, exc)
            return
        _reported.add(where)
        _log.warning(
            "otel-llm hook %s failed; the call proceeds untraced from here. Please report this.",
            where,
            exc_info=exc,
        )
    except Exception:  # logging itself must not break the caller either
        pass
