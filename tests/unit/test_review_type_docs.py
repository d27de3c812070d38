"""The review types added as data (SAR, DHR, SUSR) stay data, and their reference pages
stay true: each page's diagram is what `workflow diagram` prints for the shipped file
now, each file carries its sources and validates and lints clean, and the engine's code
names none of their workflow ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from casereview.domain.workflow import load_path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ("england-sar", "england-dhr", "wales-susr")


def _diagram_in(page: str) -> str:
    blocks = re.findall(r"```mermaid\n(.*?)```", page, flags=re.DOTALL)
    assert len(blocks) == 1, "one diagram per page"
    return blocks[0]


@pytest.mark.parametrize("workflow_id", WORKFLOWS)
def test_the_page_shows_the_diagram_the_shipped_file_gives(cli, workflow_id):
    page = (ROOT / "docs" / "workflows" / f"{workflow_id}.md").read_text()
    printed = cli("workflow", "diagram", str(ROOT / "workflows" / f"{workflow_id}.toml"))
    assert printed.exit_code == 0, printed.stderr
    assert printed.stdout.startswith("stateDiagram-v2\n")
    assert _diagram_in(page) == printed.stdout


@pytest.mark.parametrize("workflow_id", WORKFLOWS)
def test_the_file_validates_lints_clean_and_names_its_sources(cli, workflow_id):
    path = ROOT / "workflows" / f"{workflow_id}.toml"
    for command in ("validate", "lint"):
        result = cli("workflow", command, str(path))
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
    definition = load_path(path)
    assert definition.key.id == workflow_id
    assert definition.sources, "the file cites its sources"
    assert all("http" in source for source in definition.sources)
    for clock in definition.clocks:
        assert clock.source, clock.id
    # Every timescale not confirmed in a primary text says so, with the clock.
    text = path.read_text()
    assert "[UNCONFIRMED]" in text
    assert definition.report is not None


@pytest.mark.parametrize("workflow_id", WORKFLOWS)
def test_no_workflow_id_of_the_review_types_appears_in_src(workflow_id):
    src = ROOT / "src"
    shipped = (src / "casereview" / "workflows").resolve()
    searched = 0
    for path in src.rglob("*"):
        if not path.is_file() or path.resolve().is_relative_to(shipped):
            continue  # the shipped workflow files themselves are data, not code
        if path.suffix not in {".py", ".html", ".txt", ".md", ".toml", ".json", ".sql", ".js"}:
            continue
        searched += 1
        text = path.read_text(encoding="utf-8", errors="replace")
        assert workflow_id not in text, path.relative_to(ROOT)
        assert workflow_id.replace("-", "_") not in text, path.relative_to(ROOT)
    assert searched > 50  # the engine's code was actually read


def test_the_workflows_page_lists_each_review_type_with_its_page():
    page = (ROOT / "docs" / "workflows.md").read_text()
    for workflow_id in WORKFLOWS:
        assert f"`workflows/{workflow_id}.toml`" in page
        assert f"(workflows/{workflow_id}.md)" in page
