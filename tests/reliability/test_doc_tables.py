"""docs/reliability.md's generated tables are what their JSON sources render: neither changes alone."""

from __future__ import annotations

from .tables import DOC, rendered


def test_the_page_holds_the_tables_its_sources_render():
    page = DOC.read_text(encoding="utf-8")
    assert rendered(page) == page, (
        "docs/reliability.md's tables differ from benchmarks/results/reliability_cases.json and memory.json: "
        "regenerate them with `python tests/reliability/tables.py`"
    )
