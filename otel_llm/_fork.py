"""State that a fork leaves unusable, reset in the child.

A lock some parent thread held at ``os.fork()`` stays locked in the child forever, and worker
threads, connections and file handles are the parent's. Exporters, destinations and their
accounting register their reset here (gunicorn and multiprocessing fork after start-up).
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable
from typing import TypeVar

_log = logging.getLogger("otel_llm")
_T = TypeVar("_T")


def after_fork_in_child(obj: _T, reset: Callable[[_T], None]) -> None:
    """Call ``reset(obj)`` in the child after every ``os.fork()``, while ``obj`` is alive.

    Only a weak reference is kept, so the object can still be collected (the registration itself
    stays, as a no-op); a failing reset is logged, never raised into the application's fork.
    """
    register = getattr(os, "register_at_fork", None)
    if register is None:  # pragma: no cover - Windows: no fork
        return
    ref = weakref.ref(obj)

    def in_child() -> None:
        target = ref()
        if target is not None:
            try:
                reset(target)
            except Exception as err:  # pragma: no cover - must not break the application's fork
                _log.warning("otel-llm %s: resetting after fork failed: %s", type(target).__name__, err)

    register(after_in_child=in_child)
