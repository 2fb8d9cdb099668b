"""URLs as messages and ``otel-llm check-config`` show them: without the secrets they may carry.

One helper, :func:`masked_url`, for every place a configured URL is shown (the configuration's
description and errors, the webhook exporter's messages), so they all hide the same things.
"""

from __future__ import annotations

import re

MASK = "****"
# RFC 3986, appendix B: splits any string (never fails) into scheme, authority, path, query, fragment.
_PARTS = re.compile(r"^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$", re.S)


def masked_url(url: str) -> str:
    """``url`` with its secrets replaced by ``****``; everything else as written.

    - a userinfo password: ``https://user:****@host``; a userinfo without a password (often a
      token given as the user name): ``https://****@host``;
    - every query value, keys kept: ``?token=****&region=****`` (an item without ``=`` is masked
      whole, an empty value stays empty);
    - the fragment likewise (``#access_token=****``).

    The path is shown as it is. Any string is accepted: a URL that is not valid is masked the same way.
    """
    match = _PARTS.match(url)
    if match is None:  # pragma: no cover - the pattern matches every string
        return MASK
    scheme, authority, path, query, fragment = match.groups()
    out = f"{scheme}:" if scheme is not None else ""
    if authority is not None:
        out += "//" + _masked_authority(authority)
    out += path
    if query is not None:
        out += "?" + _masked_pairs(query)
    if fragment is not None:
        out += "#" + _masked_pairs(fragment)
    return out


def _masked_authority(authority: str) -> str:
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return authority
    user, colon, _password = userinfo.partition(":")
    return f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"


def _masked_pairs(text: str) -> str:
    """``key=value&...`` with each non-empty value masked; an item without ``=`` is masked whole."""
    items = []
    for item in text.split("&"):
        key, eq, value = item.partition("=")
        if not eq:
            items.append(MASK if item else "")
        else:
            items.append(f"{key}={MASK if value else ''}")
    return "&".join(items)
