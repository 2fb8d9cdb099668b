"""Transparent proxies for SDK streams and raw responses that end the call's span exactly once.

A proxy is the SDK object in every respect (wrapt forwards attributes, ``isinstance`` and
everything we do not override). We only watch: each chunk passing through, exhaustion, errors,
``close()``, ``with`` blocks, the underlying HTTP response being closed by a helper, and garbage
collection of an unfinished stream.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from time import time_ns
from typing import Any, Protocol

import wrapt

from otel_llm._safety import report
from otel_llm.genai import Invocation


class Accumulator(Protocol):
    def add(self, chunk: Any) -> None: ...
    def apply(self, inv: Invocation) -> None: ...


def finish_stream(inv: Invocation, acc: Accumulator, exc: BaseException | None) -> None:
    """Apply what the stream delivered, then end the span. Never raises."""
    if inv.ended:
        return
    try:
        acc.apply(inv)
    except Exception as err:
        report("stream.apply", err)
    try:
        if exc is None:
            inv.end()
        else:
            inv.fail(exc)
    except Exception as err:
        report("stream.end", err)


class _ClosingResponse(wrapt.ObjectProxy):  # type: ignore[misc]
    """The stream's HTTP response: SDK helpers close it directly, so closing ends the span."""

    def __init__(self, wrapped: Any, on_close: Callable[[], None]) -> None:
        super().__init__(wrapped)
        self._self_on_close = on_close

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_on_close()

    async def aclose(self) -> Any:
        try:
            return await self.__wrapped__.aclose()
        finally:
            self._self_on_close()


class _Guard:
    """Ends the call once, and also when the last holder of the stream (proxy or iterator) is gone.

    Both the proxy and the chunk iterator hold it and it holds neither, so no reference cycle
    keeps a dropped stream (and its open span) alive until the cyclic GC runs.
    """

    __slots__ = ("acc", "inv")

    def __init__(self, inv: Invocation, acc: Accumulator) -> None:
        self.inv = inv
        self.acc = acc

    def finish(self, exc: BaseException | None = None) -> None:
        finish_stream(self.inv, self.acc, exc)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.finish()


def _watch(source: Iterator[Any], guard: _Guard) -> Iterator[Any]:
    """Pass every chunk through, noting it; end the call when the iteration ends, however it ends.

    A generator rather than a proxy ``__next__``: resuming it costs less than a method call per chunk.
    """
    stamp = guard.inv.chunk_clock()
    add = guard.acc.add
    try:
        for chunk in source:
            stamp(time_ns())
            try:
                add(chunk)
            except Exception as err:
                report("stream.chunk", err)
            yield chunk
    except GeneratorExit:  # closed or garbage-collected before the end
        guard.finish()
        raise
    except BaseException as exc:
        guard.finish(exc)
        raise
    guard.finish()


async def _awatch(source: AsyncIterator[Any], guard: _Guard) -> AsyncIterator[Any]:
    """The async twin of ``_watch``."""
    stamp = guard.inv.chunk_clock()
    add = guard.acc.add
    try:
        async for chunk in source:
            stamp(time_ns())
            try:
                add(chunk)
            except Exception as err:
                report("stream.chunk", err)
            yield chunk
    except GeneratorExit:
        guard.finish()
        raise
    except BaseException as exc:
        guard.finish(exc)
        raise
    guard.finish()


class _StreamBase(wrapt.ObjectProxy):  # type: ignore[misc]
    def __init__(self, wrapped: Any, inv: Invocation, acc: Accumulator) -> None:
        super().__init__(wrapped)
        self._self_guard = _Guard(inv, acc)
        self._self_response: Any = None
        self._self_iter = self._self_watch(wrapped)

    def _self_watch(self, wrapped: Any) -> Any:
        raise NotImplementedError

    def _self_done(self, exc: BaseException | None = None) -> None:
        self._self_guard.finish(exc)

    @property
    def response(self) -> Any:
        if self._self_response is None:
            self._self_response = _ClosingResponse(self.__wrapped__.response, self._self_guard.finish)
        return self._self_response


class TracedStream(_StreamBase):
    """A synchronous SDK stream (iterator, context manager, ``close()``).

    Chunks flow through ``_watch``, which also replaces the SDK stream's own iterator so that
    helpers iterating the SDK object see the same single sequence.
    """

    def _self_watch(self, wrapped: Any) -> Iterator[Any]:
        inner = getattr(wrapped, "_iterator", None)
        watched = _watch(inner if inner is not None else iter(wrapped), self._self_guard)
        if inner is not None:
            wrapped._iterator = watched
        return watched

    def __iter__(self) -> Iterator[Any]:
        return self._self_iter

    def __next__(self) -> Any:
        return next(self._self_iter)

    def __enter__(self) -> TracedStream:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_done(exc_info[1])

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_done()


class TracedAsyncStream(_StreamBase):
    """An asynchronous SDK stream (async iterator, async context manager, ``close()``)."""

    def _self_watch(self, wrapped: Any) -> AsyncIterator[Any]:
        inner = getattr(wrapped, "_iterator", None)
        watched = _awatch(inner if inner is not None else aiter(wrapped), self._self_guard)
        if inner is not None:
            wrapped._iterator = watched
        return watched

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._self_iter

    async def __anext__(self) -> Any:
        return await anext(self._self_iter)

    async def __aenter__(self) -> TracedAsyncStream:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_done(exc_info[1])

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_done()

    async def aclose(self) -> Any:
        try:
            closer = getattr(self.__wrapped__, "aclose", None) or self.__wrapped__.close
            return await closer()
        finally:
            self._self_done()


def watch_in_place(stream: Any, inv: Invocation, acc: Accumulator, *, is_async: bool) -> Any:
    """Hook an SDK stream without a proxy: its iterator and its HTTP response are replaced.

    For stream classes whose ``isinstance()`` refuses any object whose type is not exactly theirs
    (anthropic 0.x's metaclass does), where a proxy would change what the user's checks see.
    Exhaustion, errors, ``close()`` (and so ``with`` exits) and garbage collection end the call;
    an exception raised in the user's ``with`` block is not seen, as the SDK's ``__exit__`` does
    not pass it on.
    """
    guard = _Guard(inv, acc)
    inner = stream._iterator
    watched: Any = _awatch(inner, guard) if is_async else _watch(inner, guard)
    running = "ag_running" if is_async else "gi_running"

    def closed() -> None:
        # The SDK closes the response itself when its iterator ends or fails; the watching
        # generator then ends the call, with the error if there is one.
        if not getattr(watched, running):
            guard.finish()

    stream._iterator = watched
    stream.response = _ClosingResponse(stream.response, closed)
    return stream


def stream_finisher(stream: Any) -> Callable[[], None] | None:
    """What ends the call of a stream we hooked (proxy or in place) with what it delivered so far."""
    done = getattr(stream, "_self_done", None)
    if done is None:
        response = vars(stream).get("response") if hasattr(stream, "__dict__") else None
        if isinstance(response, _ClosingResponse):
            done = response._self_on_close
    return done  # type: ignore[no-any-return]


class RawHandler(Protocol):
    """What a raw-response proxy reports: the parsed result, an explicit close, being dropped."""

    def parsed(self, result: Any) -> Any: ...
    def failed(self, exc: BaseException) -> None: ...
    def closed(self) -> None: ...
    def dropped(self) -> None: ...


class _RawBase(wrapt.ObjectProxy):  # type: ignore[misc]
    def __init__(self, wrapped: Any, handler: RawHandler) -> None:
        super().__init__(wrapped)
        self._self_handler = handler

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._self_handler.dropped()


class TracedRawResponse(_RawBase):
    """A raw response whose body is read later: ``parse()`` yields the result (or the stream)."""

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = self.__wrapped__.parse(*args, **kwargs)
        except Exception as exc:  # e.g. a body that is not JSON: the call failed
            self._self_handler.failed(exc)
            raise
        return self._self_handler.parsed(result)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_handler.closed()


class TracedAsyncRawResponse(_RawBase):
    """The async form: ``parse()`` and ``close()`` are coroutines."""

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = await self.__wrapped__.parse(*args, **kwargs)
        except Exception as exc:
            self._self_handler.failed(exc)
            raise
        return self._self_handler.parsed(result)

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_handler.closed()
