"""Each backend's page in docs/backends/ lists every key of its destination type and every
environment variable behind one, so the pages cannot fall behind the presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_llm.backends import BACKENDS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "backends"


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_the_page_lists_every_option_and_variable(name: str) -> None:
    page = (DOCS / f"{name}.md").read_text()
    backend = BACKENDS[name]
    for option in backend.options:
        assert f"`{option.name}`" in page, f"{name}.md: key {option.name}"
        for variable in option.env:
            assert f"${variable}" in page, f"{name}.md: {variable}"
    kind = backend.proven.split(":")[0]  # "real server" or "contract test"
    assert f"**Proven by** a {kind}" in page


def test_the_index_links_every_page() -> None:
    index = (DOCS / "README.md").read_text()
    for name in BACKENDS:
        assert f"({name}.md)" in index and f"`{name}`" in index
