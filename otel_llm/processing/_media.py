"""Inline media (``data:`` URIs, base64 ``blob`` parts) replaced by a placeholder that keeps the facts.

``[media image/png 1234 bytes sha256:0123456789abcdef]``: the type, the decoded size and the start of
the SHA-256 of the decoded bytes, so the same image can be recognised across calls without being
stored. The placeholder has no quotes or backslashes, so data URIs can be replaced inside raw JSON.

``is_placeholder`` recognises the exact shape of every placeholder redaction writes (this one,
``[redacted N chars]``, ``[REDACTED:<kind>]``, ...), so a second redaction leaves them as they are;
text that merely starts like one (``"[media ] my diagnosis"``) is not a placeholder.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from otel_llm.processing._secrets import SECRET_KINDS

OCTET_STREAM = "application/octet-stream"
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
# In raw JSON a "/" may be escaped as "\/"; the data never holds quotes, so a match never eats one.
DATA_URI = re.compile(
    rf"data:(?P<mime>{_TOKEN}/{_TOKEN})?(?:;{_TOKEN}=[A-Za-z0-9!#$&^_.+%-]+)*;base64,"
    r"(?P<data>[A-Za-z0-9+/_-]*(?:\\/[A-Za-z0-9+/_-]*)*={0,2})"
)

_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
# A MIME type as placeholders write it: type/subtype tokens (RFC 6838: up to 127 characters each), no parameters.
_MIME = r"[A-Za-z0-9!#$&^_.+-]{1,127}/[A-Za-z0-9!#$&^_.+-]{1,127}"
_MIME_TYPE = re.compile(_MIME)
# Every placeholder redaction writes, whole: a value is one only when it matches from start to end.
PLACEHOLDER = re.compile(
    r"\[(?:"
    r"redacted [0-9]{1,20} chars"
    rf"|media {_MIME} [0-9]{{1,20}} bytes sha256:[0-9a-f]{{16}}"
    rf"|REDACTED(?::(?:{'|'.join(SECRET_KINDS)}))?"
    r"|EMAIL|PHONE|CARD"
    r")\]"
    r"|…\[truncated [0-9]{1,20} chars\]"  # a value cut to nothing but the truncation suffix
)


def decode_base64(text: str) -> bytes:
    """The bytes of standard or URL-safe base64, tolerating missing padding and stray characters."""
    text = text.replace("\\/", "/").rstrip("=")
    if "-" in text or "_" in text:
        text = text.replace("-", "+").replace("_", "/")
    if _NOT_BASE64.search(text) is not None:
        text = _NOT_BASE64.sub("", text)
    if len(text) % 4 == 1:  # one stray character cannot encode anything
        text = text[:-1]
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return text.encode()


def placeholder(mime: str | None, data: bytes) -> str:
    """``[media <mime> <n> bytes sha256:<16 hex>]``; the MIME type without its parameters, and
    ``application/octet-stream`` when it is missing or not a ``type/subtype`` token pair."""
    if mime is not None:
        mime = mime.partition(";")[0].strip()
        if _MIME_TYPE.fullmatch(mime) is None:
            mime = None
    return f"[media {mime or OCTET_STREAM} {len(data)} bytes sha256:{hashlib.sha256(data).hexdigest()[:16]}]"


def _replace(m: re.Match[str]) -> str:
    return placeholder(m.group("mime"), decode_base64(m.group("data")))


def replace_data_uris(text: str) -> str:
    """``text`` with each base64 ``data:`` URI replaced; the same object when there is none."""
    if "base64," not in text:
        return text
    out = DATA_URI.sub(_replace, text)
    return text if out == text else out


def is_placeholder(text: str) -> bool:
    """True when the whole of ``text`` is one placeholder (``PLACEHOLDER``), nothing before or after."""
    return text[:1] in ("[", "…") and PLACEHOLDER.fullmatch(text) is not None


def blob_placeholder(content: str, mime: str | None) -> str:
    """The placeholder for a GenAI ``blob`` part's base64 ``content`` (or a data URI in it)."""
    if is_placeholder(content):
        return content
    if content.startswith("data:"):
        replaced = replace_data_uris(content)
        if replaced is not content:
            return replaced
    return placeholder(mime, decode_base64(content))
