"""The hook on the single ``request`` method of Stainless-generated SDK clients (openai, anthropic).

Every call path of these SDKs (``create``, ``parse``, the ``stream()`` helpers,
``with_raw_response``, ``with_streaming_response``, platform clients such as Azure, Bedrock and
Vertex) goes through ``SyncAPIClient.request`` or ``AsyncAPIClient.request`` with a
``FinalRequestOptions``; hooking there covers them all. What differs per SDK (which URLs are GenAI
calls, the attribute tables, content, stream accumulators) is an ``SDKMapping``.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import wrapt
from opentelemetry import context as otel_context
from opentelemetry.context import Context, set_value
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, unwrap
from opentelemetry.trace import set_span_in_context

from otel_llm._safety import report
from otel_llm.genai import GenAITelemetry, Invocation
from otel_llm.genai import attributes as A
from otel_llm.instrumentation._endpoint import Endpoint, request_attributes
from otel_llm.instrumentation._streams import (
    Accumulator,
    TracedAsyncRawResponse,
    TracedAsyncStream,
    TracedRawResponse,
    TracedStream,
    stream_finisher,
    watch_in_place,
)
from otel_llm.instrumentation.providers import ProviderResolver
from otel_llm.propagation import SUPPRESS_HTTP_KEY, PropagationPolicy, add_trace_headers, http_spans_from_env

_MARK = "_self_otel_llm_hook"  # wrapt keeps `_self_` attributes on the proxy, not the function
# isinstance() implementations that look at ``__class__``, which a wrapt proxy forwards.
_PROXY_FRIENDLY_CHECKS = (type.__instancecheck__, abc.ABCMeta.__instancecheck__)


@dataclass(frozen=True)
class SDKTypes:
    """Classes of the installed SDK that the result handling tells apart."""

    stream: type
    async_stream: type
    api_response: type
    async_api_response: type
    legacy_response: type | None  # ``with_raw_response`` in SDK lines that still have it


class SDKMapping:
    """What one SDK contributes to the shared hook. Subclasses override what their SDK needs."""

    name = "sdk"  # prefixes warnings: "openai.start", "anthropic.response", ...

    def __init__(self, types: SDKTypes) -> None:
        self.types = types
        # A stream class whose metaclass decides isinstance() itself may refuse a proxy: hook such
        # streams in place instead (see _streams.watch_in_place).
        self.streams_in_place = any(
            type(cls).__instancecheck__ not in _PROXY_FRIENDLY_CHECKS for cls in (types.stream, types.async_stream)
        )

    def endpoint(self, options: Any) -> Endpoint | None:
        """The GenAI endpoint these request options call, or None for any other API call."""
        raise NotImplementedError

    def default_provider(self, client: Any) -> str:
        """The provider name when the host table does not know the client's host."""
        raise NotImplementedError

    def request_attributes(
        self,
        client: Any,
        options: Any,
        endpoint: Endpoint,
        body: Mapping[str, Any],
        server: tuple[str | None, int | None, str],
        streaming: bool,
    ) -> dict[str, Any]:
        host, port, provider = server
        return request_attributes(endpoint, body, provider, host, port, streaming)

    def input_content(self, inv: Invocation, endpoint: Endpoint, body: Mapping[str, Any]) -> None:
        """Record the request's messages, instructions and tools (only called when capture is on)."""

    def complete(self, inv: Invocation, endpoint: Endpoint, result: Any) -> None:
        """Record the facts of a parsed (non-streamed) result."""
        raise NotImplementedError

    def accumulator(self, endpoint: Endpoint, inv: Invocation, stream: Any) -> Accumulator | None:
        """What gathers a streamed result's facts (``stream`` is the SDK's); None leaves it unwatched."""
        return None

    def prepare(self, client: Any, options: Any) -> tuple[Any, bool]:
        """The options to send instead of ``options`` (a copy when the SDK may send the caller's object
        again) and whether the client allows trace headers at all. Trace headers are then added to
        the options sent, as the SDK itself adds headers: one options object per call."""
        return options, True


@dataclass
class Call:
    inv: Invocation
    endpoint: Endpoint
    streaming: bool
    context: Context  # made current while the SDK sends the request
    args: tuple[Any, ...]  # what ``request`` is called with: the caller's, or with prepared options
    kwargs: dict[str, Any]


class RequestHook:
    """Starts a call from the request options and finishes it from whatever the SDK returns."""

    def __init__(
        self,
        telemetry: GenAITelemetry,
        resolver: ProviderResolver,
        mapping: SDKMapping,
        policy: PropagationPolicy,
        *,
        http_spans: bool = False,
    ) -> None:
        self.telemetry = telemetry
        self.resolver = resolver
        self.mapping = mapping
        self.types = mapping.types
        self.policy = policy
        self.http_spans = http_spans
        name = mapping.name
        self.where = {step: f"{name}.{step}" for step in ("start", "input_content", "propagate", "fail", "finish")}
        self.where |= {step: f"{name}.{step}" for step in ("response", "parse")}

    def _server(self, client: Any) -> tuple[str | None, int | None, str]:
        # The attribute behind the ``base_url`` property: openai 3.x's property does an import per read.
        base = client.__dict__.get("_base_url") or client.base_url
        cached = client.__dict__.get("_otel_llm_server")
        if cached is not None and cached[0] is base:
            return cached[1]
        host = base.host or None
        port = base.port or (443 if base.scheme == "https" else 80)
        provider = self.resolver.resolve(host or "", port, self.mapping.default_provider(client))
        server = (host, port, provider)
        client.__dict__["_otel_llm_server"] = (base, server)
        return server

    def begin(self, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
        positional = len(args) > 1
        options = args[1] if positional else kwargs.get("options")
        endpoint = self.mapping.endpoint(options)
        if endpoint is None:
            return None
        body = getattr(options, "json_data", None)
        if not isinstance(body, dict):
            return None
        extra = getattr(options, "extra_json", None)
        if isinstance(extra, dict) and extra:  # extra_body= is merged into the wire body later by the SDK
            body = {**body, **extra}
        streaming = body.get("stream") is True
        server = self._server(client)
        attrs = self.mapping.request_attributes(client, options, endpoint, body, server, streaming)
        sent, may_propagate = self.mapping.prepare(client, options)
        if sent is not options:
            if positional:
                args = (args[0], sent, *args[2:])
            else:
                kwargs = {**kwargs, "options": sent}
        inv = self.telemetry.start(endpoint.operation, attrs.get(A.REQUEST_MODEL), attrs)
        try:
            if inv.capture.enabled:
                try:
                    self.mapping.input_content(inv, endpoint, body)
                except Exception as err:
                    report(self.where["input_content"], err)
            context = set_span_in_context(inv.span)
            if not self.http_spans:  # no second (HTTP) span per call, no injection by httpx's instrumentation
                context = set_value(SUPPRESS_HTTP_KEY, True, context)
            host, port, _ = server
            if may_propagate and host and self.policy.allows(host, port):
                try:
                    add_trace_headers(sent, context)
                except Exception as err:
                    report(self.where["propagate"], err)
            return Call(inv, endpoint, streaming, context, args, kwargs)
        except Exception as err:
            # The call goes on untraced, with the prepared options (no SDK span in place of ours):
            # do not leave the started span open.
            inv.end()
            report(self.where["start"], err)
            return Call(inv, endpoint, streaming, otel_context.get_current(), args, kwargs)
        except BaseException:
            inv.end()
            raise

    def fail(self, call: Call, exc: BaseException) -> None:
        try:
            call.inv.fail(exc)
        except Exception as err:
            report(self.where["fail"], err)

    def finish(self, call: Call, result: Any) -> Any:
        """Return what the user gets: the SDK's result, or a transparent proxy of it."""
        if call.inv.ended:  # our setup failed after the span started: the call goes on untraced
            return result
        try:
            return self._finish(call, result)
        except Exception as err:
            report(self.where["finish"], err)
            with contextlib.suppress(Exception):
                call.inv.end()
            return result

    def _finish(self, call: Call, result: Any) -> Any:
        t = self.types
        if isinstance(result, (t.api_response, t.async_api_response)):
            proxy = TracedAsyncRawResponse if isinstance(result, t.async_api_response) else TracedRawResponse
            return proxy(result, _RawCall(self, call))
        if t.legacy_response is not None and isinstance(result, t.legacy_response):
            if call.streaming:
                return TracedRawResponse(result, _RawCall(self, call))
            try:
                parsed = result.parse()  # cached by the SDK: the user's own parse() reuses it
            except Exception as exc:  # an unparseable body: the user's parse() will raise it too
                call.inv.fail(exc)
                return result
            self._complete(call, parsed)
            return result
        if call.streaming:
            return self._wrap_stream(call, result)
        self._complete(call, result)
        return result

    def _complete(self, call: Call, parsed: Any) -> None:
        try:
            self.mapping.complete(call.inv, call.endpoint, parsed)
        except Exception as err:
            report(self.where["response"], err)
        call.inv.end()

    def _wrap_stream(self, call: Call, stream: Any) -> Any:
        t = self.types
        acc = self.mapping.accumulator(call.endpoint, call.inv, stream)
        if acc is not None:
            is_async = isinstance(stream, t.async_stream)
            if is_async or isinstance(stream, t.stream):
                if self.mapping.streams_in_place:
                    return watch_in_place(stream, call.inv, acc, is_async=is_async)
                return TracedAsyncStream(stream, call.inv, acc) if is_async else TracedStream(stream, call.inv, acc)
        call.inv.end()
        return stream


class _RawCall:
    """The life of a call returned as a raw response: parsed later, perhaps into a stream."""

    def __init__(self, hook: RequestHook, call: Call) -> None:
        self._hook = hook
        self._call = call
        self._streams: dict[int, Any] = {}  # the SDK caches parse(); hand out one proxy per stream

    def parsed(self, result: Any) -> Any:
        try:
            types = self._hook.types
            if self._call.streaming and isinstance(result, (types.stream, types.async_stream)):
                key = id(result)
                if key not in self._streams:
                    self._streams[key] = self._hook._wrap_stream(self._call, result)
                return self._streams[key]
            if not self._call.inv.ended:
                self._hook._complete(self._call, result)
        except Exception as err:
            report(self._hook.where["parse"], err)
            with contextlib.suppress(Exception):
                self._call.inv.end()
        return result

    def failed(self, exc: BaseException) -> None:
        self._hook.fail(self._call, exc)

    def closed(self) -> None:
        """Closing the response ends the call, with whatever a parsed stream delivered so far."""
        try:
            for stream in self._streams.values():
                done = stream_finisher(stream)
                if done is not None:
                    done()
            self._call.inv.end()
        except Exception as err:
            report(self._hook.where["parse"], err)

    def dropped(self) -> None:
        """A dropped raw response ends the call unless a parsed stream now carries it."""
        if not self._streams:
            self._call.inv.end()


def sync_wrapper(hook: RequestHook) -> Callable[..., Any]:
    start = hook.where["start"]

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        try:
            call = hook.begin(instance, args, kwargs)
        except Exception as err:
            report(start, err)
            call = None
        if call is None:
            return wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            result = wrapped(*call.args, **call.kwargs)
        except BaseException as exc:
            hook.fail(call, exc)
            raise
        finally:
            otel_context.detach(token)
        return hook.finish(call, result)

    return wrapper


def async_wrapper(hook: RequestHook) -> Callable[..., Any]:
    start = hook.where["start"]

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not is_instrumentation_enabled():
            return await wrapped(*args, **kwargs)
        try:
            call = hook.begin(instance, args, kwargs)
        except Exception as err:
            report(start, err)
            call = None
        if call is None:
            return await wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            result = await wrapped(*call.args, **call.kwargs)
        except BaseException as exc:
            hook.fail(call, exc)
            raise
        finally:
            otel_context.detach(token)
        return hook.finish(call, result)

    return wrapper


def make_hook(instrumentation_name: str, mapping: SDKMapping, kwargs: Mapping[str, Any]) -> RequestHook:
    """The hook an instrumentor's ``instrument(**kwargs)`` asks for (see ``otel_llm.instrument``)."""
    telemetry = GenAITelemetry(
        instrumentation_name,
        tracer_provider=kwargs.get("tracer_provider"),
        meter_provider=kwargs.get("meter_provider"),
        logger_provider=kwargs.get("logger_provider"),
        capture_content=kwargs.get("capture_content"),
        prices=kwargs.get("prices"),
        cost=kwargs.get("cost"),
    )
    http_spans = kwargs.get("http_spans")
    return RequestHook(
        telemetry,
        ProviderResolver(kwargs.get("provider_overrides")),
        mapping,
        PropagationPolicy(kwargs.get("propagate_to")),
        http_spans=http_spans_from_env() if http_spans is None else bool(http_spans),
    )


def hook_clients(sync_client: type, async_client: type, hook: RequestHook) -> bool:
    """Wrap both clients' ``request``; False when they are hooked already (a second instrumentor)."""
    if getattr(sync_client.__dict__.get("request"), _MARK, False):
        return False
    for cls, wrapper in ((sync_client, sync_wrapper(hook)), (async_client, async_wrapper(hook))):
        wrapt.wrap_function_wrapper(cls, "request", wrapper)
        setattr(cls.__dict__["request"], _MARK, True)
    return True


def unhook_clients(*clients: type) -> None:
    for cls in clients:
        unwrap(cls, "request")


__all__ = ["Call", "RequestHook", "SDKMapping", "SDKTypes", "hook_clients", "make_hook", "unhook_clients"]
