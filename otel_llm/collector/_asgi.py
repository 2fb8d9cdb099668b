"""The few ASGI pieces the HTTP receiver and the admin API share: headers, bounded bodies, replies."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = tuple(headers)


def headers_of(scope: Scope) -> dict[str, str]:
    """Request headers, names lower-cased (ASGI already does), values decoded as latin-1 like HTTP/1.1."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or ()}


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes ``limit`` bytes (never buffered beyond it)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HttpError(400, "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"request body larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress at most ``limit`` bytes: a small bomb cannot make us allocate a large buffer."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise HttpError(413, f"request body larger than {limit} bytes once decompressed")
        if not inflater.eof:
            raise HttpError(400, "truncated gzip body")
    except zlib.error as err:
        raise HttpError(400, f"invalid gzip body: {err}") from None
    return out


async def reply(
    send: Send,
    status: int,
    body: bytes = b"",
    content_type: str = "text/plain",
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def reply_json(send: Send, status: int, data: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
    await reply(send, status, orjson.dumps(data), "application/json", headers)


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer uvicorn's startup and shutdown messages (the collector starts and stops the service itself)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
