"""Running part of a test in a child made by a real ``os.fork()``."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable

import pytest


class Skip(Exception):
    """Raised in a forked child: the parent skips the test with this reason."""


def in_child(fn: Callable[[], None], timeout: int = 20) -> None:
    """Run ``fn`` in a child made by a real ``os.fork()``; its failure (or a hang, ended by SIGALRM
    after ``timeout`` seconds) fails the test. Process-wide settings (rlimits, user ids) stay there."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - measured in the child only
        code = 0
        try:
            os.close(read_end)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(timeout)  # a deadlock kills the child instead of hanging the test run
            fn()
        except Skip as skip:
            os.write(write_end, str(skip).encode())
            code = 3
        except BaseException:
            os.write(write_end, traceback.format_exc().encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        pytest.fail(f"the forked child was killed by signal {os.WTERMSIG(status)} (a deadlock?)\n{report}")
    if os.WEXITSTATUS(status) == 3:
        pytest.skip(report)
    assert os.WEXITSTATUS(status) == 0, f"in the forked child:\n{report}"


needs_fork = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform != "linux", reason="needs os.fork() on Linux")
