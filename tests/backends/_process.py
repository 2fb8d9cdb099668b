"""Running a backend server as a child process for the tests: free ports, readiness, clean shutdown.

Each ``*_server.py`` fixture builds its command line, environment and readiness check, and hands them
to ``server_process()``, which owns the rest: the log file, waiting for readiness (failing with the log
tail, so a server that does not come up says why), and stopping everything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def free_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1 (all held open until all are chosen, so they differ)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def poll_until(
    fetch: Callable[[], T], ready: Callable[[T], bool], *, timeout: float, interval: float, failure: Callable[[T], str]
) -> T:
    """``fetch()`` again every ``interval`` seconds until ``ready`` holds for its result (backends store
    what exporters send in the background); AssertionError with ``failure(last result)`` at ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = fetch()
        if ready(found):
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(failure(found))
        time.sleep(interval)


def http_ok(url: str) -> bool:
    """A GET of ``url`` answers 200 (a health check)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _log_tail(log_path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server's process group (workers and helpers included), then kill what lingers."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def server_process(
    name: str,
    args: list[str],
    *,
    workdir: Path,
    env: dict[str, str],
    ready: Callable[[], bool],
    timeout: float,
    poll: float = 0.1,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` in ``workdir`` until the block ends, yielding once ``ready()`` is true.

    The process leads its own session, so stopping it stops its whole process group (servers that fork
    workers would otherwise leave them behind). stdout and stderr go to ``workdir/<name>.log``; if the
    process exits, or ``ready()`` is still false after ``timeout`` seconds, RuntimeError says which, with
    the log tail.
    """
    log_path = workdir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            args, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None or time.monotonic() >= deadline:
                state = f"exited ({process.returncode})" if process.poll() is not None else "not ready"
                raise RuntimeError(f"{name} {state} within {timeout}s; log tail:\n{_log_tail(log_path)}")
            time.sleep(poll)
        yield process
    finally:
        _stop(process)
