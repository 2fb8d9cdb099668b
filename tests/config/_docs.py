"""The fenced examples of docs/configuration.md, for the tests that keep them true."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION_MD = ROOT / "docs" / "configuration.md"
EXAMPLE = ROOT / "examples" / "otel-llm.yaml"
SCHEMA_FILE = ROOT / "docs" / "config.schema.json"

_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    """(info string, body) of every fenced block, in order."""
    return [(m.group(1).strip(), m.group(2)) for m in _FENCE.finditer(CONFIGURATION_MD.read_text())]


def yaml_blocks(kind: str | None = None) -> list[str]:
    """Bodies of ```yaml blocks; ``kind`` selects ```yaml <kind> (e.g. "invalid"), None the others."""
    wanted = "yaml" if kind is None else f"yaml {kind}"
    return [body for info, body in blocks() if info == wanted or (kind is None and info == "yaml check-config")]


def followed_by_text(kind: str) -> list[tuple[str, str]]:
    """(yaml body, the text block right after it) for each ```yaml <kind> block."""
    found = blocks()
    pairs = []
    for (info, body), (next_info, next_body) in pairwise(found):
        if info == f"yaml {kind}":
            assert next_info == "text", f"a ```yaml {kind} block must be followed by a ```text block"
            pairs.append((body, next_body))
    return pairs
