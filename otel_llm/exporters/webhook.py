"""LLM call records POSTed to an HTTP endpoint (LiteLLM's ``generic_api``).

One request per batch: a JSON array of records (``format="json_array"``, ``application/json``)
or one record per line (``format="ndjson"``, ``application/x-ndjson``). The standard library's
``urllib`` does the HTTP, so no HTTP client instrumentation of the application sees it (and
instrumentation is suppressed around it in any case). Proxies come from the usual environment
variables. Header values are treated as secrets: no message or log line ever contains them; the
URL appears in messages through ``otel_llm._urls.masked_url`` (userinfo password and query values
masked).
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence

from opentelemetry.sdk.trace import ReadableSpan

from otel_llm._urls import masked_url
from otel_llm.exporters._records import ExportError, RecordExporter
from otel_llm.records import encode
from otel_llm.version import __version__

FORMATS = {"json_array": "application/json", "ndjson": "application/x-ndjson"}
USER_AGENT = f"otel-llm/{__version__}"
_RETRYABLE_STATUS = frozenset({408, 429})
_BODY_EXCERPT = 200
_BODY_READ = 8192


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: urllib would resend a POST as a GET without its body."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class WebhookExporter(RecordExporter):
    """POSTs each batch of records to ``url``.

    2xx is success. 408, 429, 5xx, connection errors and timeouts raise a retryable ExportError;
    other statuses (including redirects) a non-retryable one. ``timeout`` (seconds) bounds the
    connection and each read.
    """

    def __init__(
        self,
        *,
        url: str,
        headers: Mapping[str, str] | None = None,
        format: str = "json_array",
        timeout: float = 10.0,
    ) -> None:
        super().__init__()
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url: expected an http:// or https:// URL, got {masked_url(url)!r}")
        if format not in FORMATS:
            raise ValueError(f"format: expected 'json_array' or 'ndjson', got {format!r}")
        if not timeout > 0:
            raise ValueError(f"timeout: expected seconds > 0, got {timeout!r}")
        self.url = url
        self.format = format
        self.timeout = float(timeout)
        self._display_url = masked_url(url)
        self._headers: dict[str, str] = {"User-Agent": USER_AGENT}
        for name, value in (headers or {}).items():
            if not isinstance(name, str) or not name or any(c in name for c in "\r\n:"):
                raise ValueError(f"headers: invalid header name {name!r}")
            if not isinstance(value, str) or "\r" in value or "\n" in value:
                raise ValueError(f"headers[{name!r}]: expected a string without line breaks")  # value is secret
            if name.lower() != "content-type":  # the body's type is ours to say
                self._headers[name] = value
        self._headers["Content-Type"] = FORMATS[format]
        self._secrets = _secrets(v for k, v in self._headers.items() if k not in ("User-Agent", "Content-Type"))
        self._opener = urllib.request.build_opener(_NoRedirect())

    def encode(self, records: list[dict]) -> bytes:
        if self.format == "ndjson":
            return b"".join(encode(r) + b"\n" for r in records)
        return b"[" + b",".join(encode(r) for r in records) + b"]"

    def send(self, records: list[dict], spans: Sequence[ReadableSpan]) -> None:
        request = urllib.request.Request(self.url, data=self.encode(records), headers=self._headers, method="POST")
        where = f"webhook {self._display_url}"
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()  # drain, so the server sees a complete exchange
        except urllib.error.HTTPError as err:
            status = err.code
            detail = _excerpt(self._scrub(_body(err)))
            retryable = status in _RETRYABLE_STATUS or status >= 500
            message = self._scrub(f"{where} answered HTTP {status} {err.reason}")
            raise ExportError(f"{message}: {detail}" if detail else message, retryable) from None
        except urllib.error.URLError as err:
            reason = err.reason
            retryable = not isinstance(reason, ssl.SSLCertVerificationError)
            raise ExportError(f"{where}: {self._scrub(str(reason))}", retryable) from None
        except TimeoutError as err:
            raise ExportError(f"{where}: timed out after {self.timeout:g}s ({err})", True) from None
        except (OSError, http.client.HTTPException) as err:
            raise ExportError(f"{where}: {type(err).__name__}: {self._scrub(str(err))}", True) from None

    def _scrub(self, text: str) -> str:
        """``text`` with every header value replaced: a server may echo the credentials it refused."""
        for secret in self._secrets:
            text = text.replace(secret, "[REDACTED]")
        return text


def _secrets(values: Iterable[str]) -> list[str]:
    """What to scrub: each header value, and the credential of a ``<scheme> <credential>`` value
    (a server may echo the token alone). Longest first, so a whole value is replaced as one."""
    found: set[str] = set()
    for value in values:
        value = value.strip()
        if not value:
            continue
        found.add(value)
        last = value.split()[-1]
        if last != value and len(last) >= 8:
            found.add(last)
    return sorted(found, key=len, reverse=True)


def _body(err: urllib.error.HTTPError) -> str:
    """The start of an error response's body (scrubbed whole before it is cut to an excerpt)."""
    try:
        return err.read(_BODY_READ).decode("utf-8", "replace")
    except Exception:
        return ""


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text[:_BODY_EXCERPT] + ("..." if len(text) > _BODY_EXCERPT else "")
