"""Transparent proxies for SDK streams and raw responses that end the call's span exactly once.

A proxy is the SDK object in every respect (wrapt forwards attributes, ``isinstance`` and
everything we do not override). We only watch: each chunk passing through, exhaustion, errors,
``close()``, ``with`` blocks, the underlying HTTP response being closed by a helper, and garbage
collection of an unfinished stream.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
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


class _StreamBase(wrapt.ObjectProxy):  # type: ignore[misc]
    def __init__(self, wrapped: Any, inv: Invocation, acc: Accumulator) -> None:
        super().__init__(wrapped)
        self._self_inv = inv
        self._self_acc = acc
        self._self_response: Any = None

    def _self_chunk(self, chunk: Any) -> None:
        try:
            self._self_inv.on_chunk()
            self._self_acc.add(chunk)
        except Exception as err:
            report("stream.chunk", err)

    def _self_done(self, exc: BaseException | None = None) -> None:
        finish_stream(self._self_inv, self._self_acc, exc)

    @property
    def response(self) -> Any:
        if self._self_response is None:
            self._self_response = _ClosingResponse(self.__wrapped__.response, self._self_done)
        return self._self_response

    def __del__(self) -> None:  # an unfinished stream that is dropped still reports what it got
        try:
            if not self._self_inv.ended:
                self._self_done()
        except Exception:
            pass


class TracedStream(_StreamBase):
    """A synchronous SDK stream (iterator, context manager, ``close()``)."""

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            self._self_done()
            raise
        except BaseException as exc:
            self._self_done(exc)
            raise
        self._self_chunk(chunk)
        return chunk

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

    def __aiter__(self) -> TracedAsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            self._self_done()
            raise
        except BaseException as exc:
            self._self_done(exc)
            raise
        self._self_chunk(chunk)
        return chunk

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
