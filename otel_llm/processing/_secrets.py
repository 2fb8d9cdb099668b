"""Secret and PII patterns, and the one scrubber that applies them to a string.

Speed is the design constraint: every string attribute of every span goes through ``Scrubber.scrub``.
Each alternative of the combined expression starts with one literal "anchor" character (``-`` of
``sk-``, ``_`` of ``ghp_``, ``J`` of ``eyJ``, ``@`` of an e-mail, ...), so the regex engine skips
every other position in C, and tries the alternatives only at the (rare) anchors. What precedes
the anchor is checked with look-behinds, and the replacement starts that many characters earlier.
Long strings are scanned once per anchor character they contain (``str`` search is much faster
than the engine's scan for a set of characters).

Strings are scrubbed as they are, JSON strings included (content attributes are scrubbed without
being parsed). So a match never starts on the letter of a JSON escape (``\\n``, ``\\u00e9``), never
contains a quote, and never contains a backslash except whole ``\\n`` / ``\\r`` / ``\\t`` escapes;
replacements hold neither quotes nor backslashes. A JSON string stays valid JSON.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence

PII_KINDS = ("email", "phone", "card")
EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
CARD = "[CARD]"
CUSTOM = "[REDACTED:custom]"
_TWO_BACKSLASHES = r"\\\\"


def _boundary(width: int, extra: str = "", escape_letter: bool = False) -> str:
    """Look-behinds, placed after the first ``width`` characters of a match, saying that the character
    before the match is no letter, digit, ``_`` (or one of ``extra``), or that it ends a JSON escape
    (``\\n``, ``\\u00e9``). A backslash before the match is fine, as JSON escapes are made of
    ``"\\/bfnrtu`` only, except for matches that start with such a letter (``escape_letter``): then only
    escaped backslashes (an even run of up to 6) may precede them."""
    skip = f".{{{width}}}" if width > 1 else "."
    backslash = "\\\\" if escape_letter else ""
    return (
        rf"(?:(?<![A-Za-z0-9_{backslash}{extra}]{skip})|(?<=\\[nrtbf/]{skip})|(?<=\\u[0-9a-fA-F]{{4}}{skip})"
        + "".join(rf"|(?<=(?<!\\){_TWO_BACKSLASHES * n}{skip})" for n in (1, 2, 3) if escape_letter)  # 2, 4, 6
        + ")"
    )


_B1, _B3, _B4, _B5, _B7 = (_boundary(n) for n in (1, 3, 4, 5, 7))
_B3_ESCAPE = _boundary(3, escape_letter=True)  # rk_...: "r" is also the letter of the JSON escape "\\r"
# Labelled AWS secret: "aws_secret_access_key=...", "SecretAccessKey": "...", AWS_SECRET_ACCESS_KEY: ...
_AWS_TAIL = r"""(?:\\?["'])?[ \t]*[=:][ \t]*(?:\\?["'])?(?P<{name}>[A-Za-z0-9/+=]{{16,}})"""

# (group name, kind, characters of the secret before the anchor, pattern from the anchor on).
# Order matters where two share an anchor: the more specific first.
_SECRET_SPECS: tuple[tuple[str, str, int, str], ...] = (
    # distinctive enough to need no word boundary before it
    ("anthropic_key", "anthropic_key", 2, r"-(?<=sk-)ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{20,}"),
    ("langfuse_key", "langfuse_key", 2, r"-(?<=[sp]k-)" + _B3 + r"lf-[A-Za-z0-9-]{8,}"),
    ("openai_key", "openai_key", 2, r"-(?<=sk-)" + _B3 + r"[A-Za-z0-9_-]{20,}"),
    ("slack_token", "slack_token", 4, r"-(?<=xox[abposr]-)" + _B5 + r"[A-Za-z0-9-]{10,}"),
    ("xai_key", "xai_key", 3, r"-(?<=xai-)" + _B4 + r"[A-Za-z0-9]{40,}"),
    (
        "private_key",
        "private_key",
        0,
        # The body may hold real newlines or JSON-escaped ones; an unterminated block runs to where it stops.
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:(?:[A-Za-z0-9+/=\s:.,-]|\\[nrt])*?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"|(?:[A-Za-z0-9+/=\s:.,]|\\[nrt]|-(?!----))*)",
    ),
    ("stripe_key", "stripe_key", 2, r"_(?<=[sr]k_)" + _B3_ESCAPE + r"(?:live|test)_[A-Za-z0-9]{16,}"),
    ("groq_key", "groq_key", 3, r"_(?<=gsk_)" + _B4 + r"[A-Za-z0-9]{40,}"),
    ("github_token", "github_token", 3, r"_(?<=gh[pousr]_)" + _B4 + r"[A-Za-z0-9]{36,}"),
    ("github_pat", "github_token", 6, r"_(?<=github_)" + _B7 + r"pat_[A-Za-z0-9_]{22,}"),
    ("huggingface_token", "huggingface_token", 2, r"_(?<=hf_)" + _B3 + r"[A-Za-z0-9]{30,}"),
    ("aws_secret_snake", "aws_secret_key", 0, r"_(?<=(?i:secret)_)(?i:access_?key)" + _AWS_TAIL.format(name="v1")),
    ("aws_access_key", "aws_access_key", 0, r"A" + _B1 + r"(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    ("google_api_key", "google_api_key", 0, r"A" + _B1 + r"Iza[0-9A-Za-z_-]{35}"),
    ("aws_secret_camel", "aws_secret_key", 0, r"A(?<=[Ss]ecretA)ccessKey" + _AWS_TAIL.format(name="v2")),
    ("bearer", "bearer_token", 0, r"B" + _B1 + r"(?:earer|EARER)[ \t]+[A-Za-z0-9._~+/-]{16,}=*"),
    ("basic_auth", "basic_auth", 0, r"B" + _B1 + r"asic[ \t]+[A-Za-z0-9+/]{8,}={0,2}"),
    ("jwt", "jwt", 2, r"J(?<=eyJ)" + _B3 + r"[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    ("url_credentials", "url_credentials", 0, r""":(?<=[A-Za-z0-9+.-]:)//[^\s/?#@"'\\]{1,256}:[^\s/?#@"'\\]{1,256}@"""),
    (
        # "authorization: bearer <token>" in any case, also as a JSON or quoted key
        "auth_header",
        "bearer_token",
        0,
        r""":(?:(?<=(?i:authorization):)|(?<=(?i:authorization)["']:)|(?<=(?i:authorization)\\":))"""
        r"""[ \t]*(?:\\?["'])?(?i:bearer|token)[ \t]+(?P<v3>[A-Za-z0-9._~+/-]{8,}=*)""",
    ),
)
# The kinds a found secret is named by in its placeholder, ``[REDACTED:<kind>]``.
SECRET_KINDS: tuple[str, ...] = (*dict.fromkeys(kind for _, kind, _, _ in _SECRET_SPECS), "custom")
# The domain of an e-mail, from its "@"; the local part is found backwards by _local_part_start.
_EMAIL_SPEC = r"@(?<=[A-Za-z0-9._%+-]@)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9])"

# Numbers: one character class first (so the engine skips non-candidates), then which alternative by look-behind.
_NB = _boundary(1, extra=r"+.,:/-")  # nor inside a number, a date or an id
_NUMBER_SPECS: dict[str, str] = {
    "card": r"(?<=[2-6])(?:[ -]?\d){12,18}(?![A-Za-z0-9_])",
    "phone_intl": r"(?<=\+)\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){1,6}(?![A-Za-z0-9_])",
    "phone_paren": r"(?<=\()\d{2,5}\)[ .-]?\d{3,4}[ .-]?\d{3,4}(?![A-Za-z0-9_]|\.\d)",
    "phone_national": r"(?<=\d)\d{1,4}[ .-]\d{3,4}[ .-]?\d{3,4}(?![A-Za-z0-9_]|\.\d)",
}
_DIGIT_RUN = re.compile(r"\d+")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits (card numbers pass it; 9 in 10 random numbers fail)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _basic_ok(text: str) -> bool:
    """``Basic <b64>`` only counts when it decodes to ``user:password`` (so "Basic understanding" stays)."""
    token = text.split()[-1]
    if len(token) % 4:
        return False
    try:
        return b":" in base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return False


_HEX = frozenset("0123456789abcdefABCDEF")


def _local_part_start(text: str, at: int, floor: int) -> int:
    """Where the local part of the e-mail whose "@" is at ``at`` starts (``at`` when there is none).
    Stops at 64 characters, at ``floor`` (the end of the previous replacement), and after a JSON escape."""
    i = at
    low = max(floor, at - 64)
    while i > low and (text[i - 1].isascii() and (text[i - 1].isalnum() or text[i - 1] in "._%+-")):
        i -= 1
    slashes = 0
    while i - slashes > 0 and text[i - slashes - 1] == "\\":
        slashes += 1
    if slashes % 2:  # the part began with an escape's letter: "\njane@", "\u00e9jane@"
        unicode = text[i] == "u" and i + 5 <= at and all(c in _HEX for c in text[i + 1 : i + 5])
        i += 5 if unicode else 1
    return i if i < at else at


_LONG = 160  # from this length on, strings are scanned per anchor character
# Anchors in the order the long-string scan applies them: URL credentials before e-mails ("user:pw@host").
_ANCHOR_ORDER = ":-_ABJ@"

# A replacement: (start, end, text) or None to leave the match as it is.
Replacement = tuple[int, int, str] | None


class Scrubber:
    """Replaces secrets (``[REDACTED:<kind>]``), chosen PII and user patterns in strings; thread-safe."""

    def __init__(self, secrets: bool = True, pii: Sequence[str] = (), custom: Sequence[str] = ()) -> None:
        specs = [(name, kind, offset, p) for name, kind, offset, p in _SECRET_SPECS if secrets]
        if "email" in pii:
            specs.append(("email", "email", 0, _EMAIL_SPEC))
        self._kinds = {name: (kind, offset) for name, kind, offset, _ in specs}
        alternatives = {name: f"{p[0]}(?P<{name}>{p[1:]})" for name, _, _, p in specs}
        # Short strings: one expression. Long ones: one per anchor character present (found by memchr,
        # far faster than the engine's scan for a set of characters).
        self._main = re.compile("|".join(alternatives.values()), re.DOTALL) if specs else None
        by_anchor: dict[str, list[str]] = {}
        for name, _, _, p in specs:
            by_anchor.setdefault(p[0], []).append(alternatives[name])
        self._by_anchor = tuple(
            (a, re.compile("|".join(by_anchor[a]), re.DOTALL)) for a in _ANCHOR_ORDER if a in by_anchor
        )
        numbers = [k for k in _NUMBER_SPECS if (k == "card" and "card" in pii) or (k != "card" and "phone" in pii)]
        self._numbers = (
            re.compile(r"[+(0-9]" + _NB + "(?:" + "|".join(f"(?P<{k}>{_NUMBER_SPECS[k]})" for k in numbers) + ")")
            if numbers
            else None
        )
        self._custom = tuple(re.compile(p) for p in custom)
        self._handlers: dict[str, Callable[[str, re.Match[str], int], Replacement]] = {
            "email": self._email_at,
            "card": self._card,
            "phone_intl": self._phone_at,
            "phone_paren": self._phone_at,
            "phone_national": self._phone_at,
            "basic_auth": self._basic,
            "bearer": self._keep_word,
            "aws_secret_snake": self._aws_secret,
            "aws_secret_camel": self._aws_secret,
            "url_credentials": self._url,
            "auth_header": self._auth_header,
        }

    @property
    def active(self) -> bool:
        return self._main is not None or self._numbers is not None or bool(self._custom)

    def scrub(self, text: str) -> str:
        """``text`` with every match replaced; the very same object when nothing matched."""
        out = text
        if len(out) < _LONG:
            if self._main is not None and self._main.search(out) is not None:
                out = self._apply(self._main, out)
        else:
            for anchor, pattern in self._by_anchor:
                if anchor in out and pattern.search(out) is not None:
                    out = self._apply(pattern, out)
        if self._numbers is not None and self._numbers.search(out) is not None:
            out = self._apply(self._numbers, out)
        return out

    def scrub_custom(self, text: str) -> str:
        """The user's patterns: each whole match becomes ``[REDACTED:custom]``."""
        for pattern in self._custom:
            if pattern.search(text) is not None:
                text = pattern.sub(_custom_replacement, text)
        return text

    def _apply(self, pattern: re.Pattern[str], text: str) -> str:
        pieces: list[str] = []
        pos = 0
        m = pattern.search(text)
        while m is not None:
            name = m.lastgroup or ""
            handler = self._handlers.get(name)
            if handler is None:
                kind, offset = self._kinds[name]
                found: Replacement = (max(m.start() - offset, pos), m.end(), f"[REDACTED:{kind}]")
            else:
                found = handler(text, m, pos)
            if found is None:
                m = pattern.search(text, m.start() + 1)
                continue
            start, end, replacement = found
            pieces.append(text[pos:start])
            pieces.append(replacement)
            pos = end
            m = pattern.search(text, end)
        if not pieces:
            return text
        pieces.append(text[pos:])
        return "".join(pieces)

    # Handlers: matches that need a check, or that keep part of what they matched.

    def _email_at(self, text: str, m: re.Match[str], floor: int) -> Replacement:
        start = _local_part_start(text, m.start(), floor)
        return None if start == m.start() else (start, m.end(), EMAIL)

    def _card(self, text: str, m: re.Match[str], floor: int) -> Replacement:
        digits = _digits(m.group())
        return (m.start(), m.end(), CARD) if 13 <= len(digits) <= 19 and luhn_ok(digits) else None

    def _phone_at(self, text: str, m: re.Match[str], floor: int) -> Replacement:
        """Phone numbers have 8-15 digits (international) or 9-11 (national). A longer match ran on into
        the next number ("+44 20 7946 0958 4111 ..."): it ends after the last group that fits."""
        low, high = (8, 15) if m.lastgroup == "phone_intl" else (9, 11)
        fit = n = 0
        for run in _DIGIT_RUN.finditer(m.group()):
            n += run.end() - run.start()
            if n > high:
                break
            if n >= low:
                fit = run.end()
        return (m.start(), m.start() + fit, PHONE) if fit else None

    def _basic(self, text: str, m: re.Match[str], floor: int) -> Replacement:
        return (m.start(), m.end(), "Basic [REDACTED:basic_auth]") if _basic_ok(m.group()) else None

    def _keep_word(self, text: str, m: re.Match[str], floor: int) -> Replacement:
        word = m.group().split()[0]
        return (m.start(), m.end(), f"{word} [REDACTED:bearer_token]")

    def _aws_secret(self, text: str, m: re.Match[str], floor: int) -> Replacement:
        value = "v1" if m.lastgroup == "aws_secret_snake" else "v2"
        return (m.start(value), m.end(), "[REDACTED:aws_secret_key]")

    def _auth_header(self, text: str, m: re.Match[str], floor: int) -> Replacement:
        return (m.start("v3"), m.end(), "[REDACTED:bearer_token]")

    def _url(self, text: str, m: re.Match[str], floor: int) -> Replacement:
        return (m.start(), m.end(), "://[REDACTED:url_credentials]@")


def _custom_replacement(m: re.Match[str]) -> str:
    return CUSTOM if m.end() > m.start() else ""


# Attribute keys whose whole value is a secret, by their last dot-separated segment ("_" read as "-").
_SECRET_KEY_SUFFIXES = (
    "authorization",
    "api-key",
    "apikey",
    "cookie",
    "password",
    "passwd",
    "secret",
    "access-token",
    "refresh-token",
    "id-token",
    "auth-token",
    "session-token",
    "security-token",
    "private-key",
    "secret-key",
    "secret-access-key",
)
_SECRET_KEY_EXACT = frozenset((*_SECRET_KEY_SUFFIXES, "token", "pwd", "credentials"))


def is_secret_key(key: str) -> bool:
    """True for attribute names that hold a secret whatever the value looks like:
    ``http.request.header.authorization``, ``...x-api-key``, ``...set-cookie``, ``db.password``,
    ``otel_llm.metadata.openai_api_key``. Segments, not substrings: ``gen_ai.usage.input_tokens`` is not."""
    segment = key.rpartition(".")[2].lower().replace("_", "-")
    if segment in _SECRET_KEY_EXACT:
        return True
    return any(segment.endswith("-" + word) for word in _SECRET_KEY_SUFFIXES)
