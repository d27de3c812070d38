"""docs/reliability.md tables the full-profile figures in docs/reliability/*.json: the
generated section must be exactly what those files say, and every suite must have them."""

from __future__ import annotations

import json

import pytest

from tests.reliability import support


@pytest.fixture
def committed_figures():
    if support.profile().name == "full":
        pytest.skip("a full run rewrites the figures and the table when it finishes")
    return support.FULL_FIGURES_DIR


def test_docs_table_is_generated_from_the_committed_figures(committed_figures):
    section = support.figures_section_of(support.DOC.read_text(encoding="utf-8"))
    assert section is not None, "docs/reliability.md lost its generated-figures markers"
    assert section.strip() == support.render_figures(committed_figures).strip(), (
        "docs/reliability.md is out of date: rerun the full profile "
        "(CASEREVIEW_RELIABILITY=full pytest tests/reliability), which rewrites it"
    )


def test_every_suite_has_full_profile_figures(committed_figures):
    for suite in support.SUITE_TITLES:
        path = committed_figures / f"{suite}.json"
        assert path.exists(), f"no full-profile figures for {suite}"
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["profile"] == "full"
        assert data["sections"], suite
        for section in data["sections"].values():
            assert section["summary"], suite


def test_the_renderer_tables_what_it_is_given(tmp_path):
    """The table generator itself: values, lists and dicts land in their rows."""
    (tmp_path / "crash.json").write_text(
        json.dumps(
            {
                "profile": "full",
                "machine": {"python": "3.11", "sqlite": "3.40", "cpus": 2},
                "sections": {
                    "kill": {"summary": {"kills": 7, "ok": True, "who": {"a": 1}, "l": ["x|y"]}}
                },
            }
        )
    )
    text = support.render_figures(tmp_path)
    assert "| kill | kills | 7 |" in text
    assert "| kill | ok | yes |" in text
    assert "| kill | who | a 1 |" in text
    assert "| kill | l | x\\|y |" in text
    assert "### Concurrency\n\nNo full-profile figures recorded yet." in text
