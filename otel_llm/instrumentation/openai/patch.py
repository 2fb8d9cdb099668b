"""The hook on the OpenAI client's single request method, sync and async.

Every call path (``create``, ``parse``, the ``stream()`` helpers, ``with_raw_response``,
``with_streaming_response``, Azure clients) goes through ``SyncAPIClient.request`` or
``AsyncAPIClient.request``, so hooking there covers them all, in SDK lines 1.x to 3.x alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context, set_value
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import set_span_in_context

from otel_llm._safety import report
from otel_llm.genai import GenAITelemetry, Invocation
from otel_llm.genai import attributes as A
from otel_llm.instrumentation._streams import (
    TracedAsyncRawResponse,
    TracedAsyncStream,
    TracedRawResponse,
    TracedStream,
    finish_stream,
)
from otel_llm.instrumentation.openai import messages as M
from otel_llm.instrumentation.openai.request import ENDPOINTS, Endpoint, request_attributes
from otel_llm.instrumentation.openai.response import BY_KIND
from otel_llm.instrumentation.openai.stream import accumulator_for
from otel_llm.instrumentation.providers import ProviderResolver
from otel_llm.propagation import SUPPRESS_HTTP_KEY, PropagationPolicy, add_trace_headers

AZURE_PROVIDER = "azure.ai.openai"


@dataclass(frozen=True)
class SDKTypes:
    """Classes of the installed openai SDK that the result handling tells apart."""

    stream: type
    async_stream: type
    api_response: type
    async_api_response: type
    legacy_response: type
    azure_client: type


@dataclass
class Call:
    inv: Invocation
    endpoint: Endpoint
    streaming: bool
    context: Context  # made current while the SDK sends the request


def _input_content(inv: Invocation, endpoint: Endpoint, body: dict[str, Any]) -> None:
    kind = endpoint.kind
    if kind == "chat":
        inv.input_messages = M.chat_input_messages(body.get("messages"))
        if body.get("tools"):
            inv.tool_definitions = M.chat_tool_definitions(body.get("tools"))
    elif kind == "responses":
        if body.get("input") is not None:
            inv.input_messages = M.responses_input_messages(body.get("input"))
        inv.system_instructions = M.responses_system_instructions(body.get("instructions"))
        if body.get("tools"):
            inv.tool_definitions = M.responses_tool_definitions(body.get("tools"))
    elif kind == "completions":
        inv.input_messages = M.completion_input_messages(body.get("prompt"))


class RequestHook:
    """Starts a call from the request options and finishes it from whatever the SDK returns."""

    def __init__(
        self,
        telemetry: GenAITelemetry,
        resolver: ProviderResolver,
        types: SDKTypes,
        policy: PropagationPolicy,
        *,
        http_spans: bool = False,
    ) -> None:
        self.telemetry = telemetry
        self.resolver = resolver
        self.types = types
        self.policy = policy
        self.http_spans = http_spans

    def _server(self, client: Any) -> tuple[str | None, int | None, str]:
        # The attribute behind the ``base_url`` property: 3.x's property does an import per read.
        base = client.__dict__.get("_base_url") or client.base_url
        cached = client.__dict__.get("_otel_llm_server")
        if cached is not None and cached[0] is base:
            return cached[1]
        host = base.host or None
        port = base.port or (443 if base.scheme == "https" else 80)
        default = AZURE_PROVIDER if isinstance(client, self.types.azure_client) else "openai_compatible"
        provider = self.resolver.resolve(host or "", port, default)
        server = (host, port, provider)
        client.__dict__["_otel_llm_server"] = (base, server)
        return server

    def begin(self, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
        options = args[1] if len(args) > 1 else kwargs.get("options")
        endpoint = ENDPOINTS.get(getattr(options, "url", None))  # type: ignore[arg-type]
        if endpoint is None or getattr(options, "method", None) not in ("post", "POST"):
            return None
        body = getattr(options, "json_data", None)
        if not isinstance(body, dict):
            return None
        extra = getattr(options, "extra_json", None)
        if isinstance(extra, dict) and extra:  # extra_body= is merged into the wire body later by the SDK
            body = {**body, **extra}
        streaming = body.get("stream") is True
        host, port, provider = self._server(client)
        attrs = request_attributes(endpoint, body, provider, host, port, streaming)
        inv = self.telemetry.start(endpoint.operation, attrs.get(A.REQUEST_MODEL), attrs)
        try:
            if inv.capture.enabled:
                try:
                    _input_content(inv, endpoint, body)
                except Exception as err:
                    report("openai.input_content", err)
            context = set_span_in_context(inv.span)
            if not self.http_spans:  # no second (HTTP) span per call, no injection by httpx's instrumentation
                context = set_value(SUPPRESS_HTTP_KEY, True, context)
            if host and self.policy.allows(host, port):
                try:
                    add_trace_headers(options, context)
                except Exception as err:
                    report("openai.propagate", err)
            return Call(inv, endpoint, streaming, context)
        except BaseException:
            inv.end()  # the call goes on untraced: do not leave the started span open
            raise

    def fail(self, call: Call, exc: BaseException) -> None:
        try:
            call.inv.fail(exc)
        except Exception as err:
            report("openai.fail", err)

    def finish(self, call: Call, result: Any) -> Any:
        """Return what the user gets: the SDK's result, or a transparent proxy of it."""
        try:
            return self._finish(call, result)
        except Exception as err:
            report("openai.finish", err)
            with contextlib.suppress(Exception):
                call.inv.end()
            return result

    def _finish(self, call: Call, result: Any) -> Any:
        t = self.types
        if isinstance(result, (t.api_response, t.async_api_response)):
            proxy = TracedAsyncRawResponse if isinstance(result, t.async_api_response) else TracedRawResponse
            return proxy(result, _RawCall(self, call))
        if isinstance(result, t.legacy_response):
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
            BY_KIND[call.endpoint.kind](call.inv, parsed)
        except Exception as err:
            report("openai.response", err)
        call.inv.end()

    def _wrap_stream(self, call: Call, stream: Any) -> Any:
        t = self.types
        choices = call.inv.request_attributes.get(A.REQUEST_CHOICE_COUNT)
        acc = accumulator_for(call.endpoint.kind, call.inv.capture.enabled, choices)
        if acc is not None:
            if isinstance(stream, t.async_stream):
                return TracedAsyncStream(stream, call.inv, acc)
            if isinstance(stream, t.stream):
                return TracedStream(stream, call.inv, acc)
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
            report("openai.parse", err)
        return result

    def failed(self, exc: BaseException) -> None:
        self._hook.fail(self._call, exc)

    def closed(self) -> None:
        """Closing the response ends the call, with whatever a parsed stream delivered so far."""
        for stream in self._streams.values():
            done = getattr(stream, "_self_done", None)
            if done is not None:
                done()
        self._call.inv.end()

    def dropped(self) -> None:
        """A dropped raw response ends the call unless a parsed stream now carries it."""
        if not self._streams:
            self._call.inv.end()


def sync_wrapper(hook: RequestHook) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        try:
            call = hook.begin(instance, args, kwargs)
        except Exception as err:
            report("openai.start", err)
            call = None
        if call is None:
            return wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            hook.fail(call, exc)
            raise
        finally:
            otel_context.detach(token)
        return hook.finish(call, result)

    return wrapper


def async_wrapper(hook: RequestHook) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not is_instrumentation_enabled():
            return await wrapped(*args, **kwargs)
        try:
            call = hook.begin(instance, args, kwargs)
        except Exception as err:
            report("openai.start", err)
            call = None
        if call is None:
            return await wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            hook.fail(call, exc)
            raise
        finally:
            otel_context.detach(token)
        return hook.finish(call, result)

    return wrapper


__all__ = ["RequestHook", "SDKTypes", "async_wrapper", "finish_stream", "sync_wrapper"]
