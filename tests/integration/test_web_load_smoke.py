"""Smoke test of the web load script: a small generated database served by a real
`casereview serve`, a few simulated people, a few requests each. No timing is asserted:
only that every request was answered as expected (no error), and the shape of what the
run writes (the results file and the doc's section). CI's `make bench-smoke` runs it at
the 1k scale as well (`python -m benchmarks.web_load --quick`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks import generate, web_load

from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="the benchmarks generate SQLite files")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("web-load") / "small.db"
    generate.build(db, 60, seed=7)
    return db


def test_the_load_script_serves_every_page_without_error(generated: Path, tmp_path: Path) -> None:
    out = tmp_path / "web.json"
    before = generated.read_bytes()
    code = web_load.main(
        ["--db", str(generated), "--quick", "--users", "4", "--requests", "8", "--out", str(out)]
    )
    results = json.loads(out.read_text())
    assert code == 0, results["failures"]
    assert [p["page"] for p in results["pages"]] == ["due", "case", "timeline", "write"]
    assert all(p["errors"] == 0 for p in results["pages"])
    assert sum(p["requests"] for p in results["pages"]) == 4 * 8
    assert all(p["requests"] > 0 and p["median_ms"] > 0 for p in results["pages"])
    assert results["sign_offs"] + results["notes"] == sum(
        1 for n in range(4) for i in range(8) if web_load.ORDER[(n + i) % 8] in ("note", "sign_off")
    )
    assert results["failures"] == []
    # The writes went to a copy: the generated file is as it was, and the copy is gone.
    assert generated.read_bytes() == before
    assert not generated.with_name(f"{generated.stem}.web.db").exists()

    # The doc's section, drawn from the results, between its markers.
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nBefore.\n\n{web_load.START}\nold\n{web_load.END}\n\nAfter.\n")
    web_load.write_doc(web_load.render(results), doc)
    text = doc.read_text()
    assert text.startswith("# Performance\n\nBefore.\n\n") and text.endswith("\n\nAfter.\n")
    assert "old" not in text
    assert "| What is due (first page) | " in text
    assert "**These are custom figures**" in text


def test_a_request_answered_wrongly_is_an_error(generated: Path, tmp_path: Path, monkeypatch):
    """An error under load fails the run (exit 1), as a benchmarked command that fails
    fails the runner: here every case page is asked for a case that does not exist."""
    real = web_load.plan_requests

    def missing_cases(db: Path) -> web_load.Plan:
        plan = real(db)
        return web_load.Plan(["no-such-case"], [], plan.today)

    monkeypatch.setattr(web_load, "plan_requests", missing_cases)
    out = tmp_path / "web.json"
    code = web_load.main(
        ["--db", str(generated), "--quick", "--users", "2", "--requests", "4", "--out", str(out)]
    )
    results = json.loads(out.read_text())
    assert code == 1
    assert results["pages"][1]["errors"] > 0
    assert any("/cases/no-such-case: 404" in f for f in results["failures"])
