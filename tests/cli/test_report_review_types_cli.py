"""`casereview report` on an installation running several review types: after the figures
of every case together, each review type present in the period has its own figures
section (Markdown, HTML, JSON, CSV, xlsx and the terminal table), its groups headed as
its workflow file's `[report.titles]` says: the SAR's carries the Care Act 2014 Sch 2
para 4 figures (reviews concluded in the year, ongoing at its end, what was done on
their findings). With one review type only, there is no second copy of its figures.

The cases (2025-26), through the command line:
  LC-17  (england-lcspr v2) notified, rapid review sent, LCSPR commissioned 23 Jun 2025.
  DHR-17 (england-dhr) review commissioned 24 Jun 2025 (victim aged 17), linked to LC-17.
  SAR-5  (england-sar) SAR arranged 28 Apr 2025, concluded (board sign-off) 29 Sep 2025.
  SAR-6  (england-sar) SAR arranged 2 Jun 2025, ongoing at the year end.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.cli.test_linked_review_types_cli import linked  # noqa: F401 - fixture
from tests.cli.test_review_types_cli import Desk, desk  # noqa: F401 - fixtures

YEAR = ("--year", "2025-26")
SCH2 = "Care Act 2014 Sch 2 para 4"


@pytest.fixture
def several(linked: Desk) -> Desk:  # noqa: F811
    at = linked
    at.open("SAR-5", "england-sar", "2025-04-07", "Adult E")
    at.step(
        "subgroup", "SAR-5", "recommend", "2025-04-22", "criteria=mandatory_death",
        "adult_died=true", why="died; concern about joint working",
    )  # fmt: skip
    at.step("sabchair", "SAR-5", "commission_sar", "2025-04-28", why="s44(1) met")
    at.step(
        "sabchair", "SAR-5", "appoint_reviewer", "2025-05-12", "reviewer=Reviewer",
        "scope_from=2023-01-01", "scope_to=2025-03-31",
    )  # fmt: skip
    at.step("bu", "SAR-5", "receive_draft", "2025-09-01")
    at.step("subgroup", "SAR-5", "submit_to_board", "2025-09-15")
    for who, agency in (("la", "local_authority"), ("police", "police"), ("icb", "icb")):
        at.step(who, "SAR-5", "sign_off", "2025-09-22", f"agency={agency}")
    at.step("sabchair", "SAR-5", "conclude_review", "2025-09-29")
    at.open("SAR-6", "england-sar", "2025-05-19", "Adult F")
    at.step(
        "subgroup", "SAR-6", "recommend", "2025-05-27", "criteria=mandatory_death",
        "adult_died=true", why="died; concern about joint working",
    )  # fmt: skip
    at.step("sabchair", "SAR-6", "commission_sar", "2025-06-02", why="s44(1) met")
    at.as_user("bu")
    return at


def report(at: Desk, *args: str) -> str:
    result = at.cli("report", *YEAR, *args, "--db", at.db)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def sections(at: Desk, *args: str) -> dict[str, dict]:
    data = json.loads(report(at, "--format", "json", *args))
    return {t["label"]: t for t in data["review_types"]}


def values(kind: dict) -> dict[str, object]:
    return {k: f["value"] for g in kind["groups"] for k, f in g["figures"].items()}


def test_each_review_type_has_its_own_figures_in_json(several):
    data = json.loads(report(several, "--format", "json"))
    # Everyone together, as before.
    assert data["figures"]["caseload.opened"]["value"] == 4
    assert data["figures"]["local_reviews.commissioned"]["value"] == 4
    kinds = {t["label"]: t for t in data["review_types"]}
    assert list(kinds) == ["DHR", "LCSPR", "SAR"]
    assert kinds["SAR"]["workflow"] == "england-sar"
    dhr, lcspr, sar = (values(kinds[k]) for k in ("DHR", "LCSPR", "SAR"))
    # Each counts its own review (the linked DHR and LCSPR once each, in their own type).
    assert (dhr["caseload.opened"], dhr["local_reviews.commissioned"]) == (1, 1)
    assert (lcspr["caseload.opened"], lcspr["local_reviews.commissioned"]) == (1, 1)
    assert lcspr["notifications.made"] == 1
    # A group no figure of the type measures is left out: a DHR notifies no Panel.
    assert "notifications" not in [g["section"] for g in kinds["DHR"]["groups"]]
    # The SAR's Sch 2 para 4 figures: concluded in the year, ongoing at its end.
    assert sar["caseload.opened"] == 2
    assert sar["local_reviews.published"] == 1  # concluded (the board's sign-off)
    assert sar["local_reviews.in_progress_at_end"] == 1
    titles = {g["section"]: g["title"] for g in kinds["SAR"]["groups"]}
    assert SCH2 in titles["local_reviews"] and SCH2 in titles["action_plans"]
    assert titles["caseload"] == "Caseload"
    # The DHR of a 17-year-old's death and its LCSPR: the report says they are linked.
    assert [
        (x["ref"], x["other"], x["other_type"], x["relation"]) for x in kinds["DHR"]["linked"]
    ] == [("DHR-17", "LC-17", "LCSPR", "child_victim_lcspr")]
    assert [(x["ref"], x["other"], x["recorded_here"]) for x in kinds["LCSPR"]["linked"]] == [
        ("LC-17", "DHR-17", False)
    ]


def test_one_review_type_has_no_second_copy_of_its_figures(several):
    data = json.loads(report(several, "--format", "json", "--workflow", "england-sar"))
    assert [t["label"] for t in data["review_types"]] == ["SAR"]
    md = report(several, "--format", "md", "--workflow", "england-sar")
    assert "Each review type's figures" not in md
    rows = list(
        csv.reader(
            io.StringIO(
                report(several, "--format", "csv", "--workflow", "england-sar").lstrip("\ufeff")
            )
        )
    )
    assert "workflow" not in rows[0]
    assert not any(r[0] == "type_figure" for r in rows)


def test_markdown_csv_table_and_xlsx_show_each_types_section(several, tmp_path: Path):
    md = report(several, "--format", "md")
    assert "## Each review type's figures" in md
    for heading in ("### DHR: ", "### LCSPR: ", "### SAR: England: Safeguarding Adults Review"):
        assert heading in md
    sar = md[md.index("### SAR: ") :]
    assert (
        f"#### Safeguarding adults reviews: concluded in the year and ongoing at its end ({SCH2})"
        in sar
    )
    assert "| Local reviews in progress at period end | 1 |" in sar
    assert "- DHR-17 (Young person Q) and LC-17 (LCSPR): child\\_victim\\_lcspr" in md

    text = report(several, "--format", "csv").lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    typed = [r for r in rows if r["record"] == "type_figure"]
    by = {(r["workflow"], r["figure"]): r["value"] for r in typed}
    assert by[("england-sar", "local_reviews.published")] == "1"
    assert by[("england-sar", "local_reviews.in_progress_at_end")] == "1"
    assert by[("england-dhr", "local_reviews.commissioned")] == "1"
    assert ("england-dhr", "notifications.made") not in by
    # Everyone's figures are still there, first, without a workflow.
    assert next(r for r in rows if r["record"] == "figure")["workflow"] == ""

    table = several.cli("report", *YEAR, "--db", several.db, env={"COLUMNS": "120"}).stdout
    assert "SAR: England: Safeguarding Adults Review" in table
    assert "Linked: DHR-17 and LC-17 (LCSPR)" in table

    book = tmp_path / "report.xlsx"
    result = several.cli("report", *YEAR, "--format", "xlsx", "-o", str(book), "--db", several.db)
    assert result.exit_code == 0, result.stderr
    sheet = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Figures").to_python()
    header = next(r for r in sheet if r and r[0] == "record")
    at = {name: header.index(name) for name in ("record", "figure", "value", "workflow")}
    found = {
        (r[at["workflow"]], r[at["figure"]]): r[at["value"]]
        for r in sheet
        if r and r[at["record"]] == "type_figure"
    }
    assert found[("england-sar", "local_reviews.published")] == 1
    assert found[("england-lcspr", "notifications.made")] == 1


@pytest.mark.browser
def test_html_sections_in_a_real_browser(several, tmp_path: Path):
    from tests.browser.test_report_html import chromium, run_chromium

    chromium()
    page = tmp_path / "report.html"
    result = several.cli("report", *YEAR, "-o", str(page), "--db", several.db)
    assert result.exit_code == 0, result.stderr
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr
    html = dom.stdout
    for workflow in ("england-dhr", "england-lcspr", "england-sar"):
        assert f'id="type-{workflow}"' in html
    sar = html[html.index('id="type-england-sar"') :]
    sar = sar[: sar.index("</section>")]
    assert f"({SCH2})" in sar
    assert 'id="england-sar-local_reviews.published"' in sar
    published = sar[sar.index('id="england-sar-local_reviews.published"') :]
    assert '<td class="num">1</td>' in published[: published.index("</tr>")]
    dhr = html[html.index('id="type-england-dhr"') :]
    assert "DHR-17 (Young person Q) and LC-17 (LCSPR): child victim lcspr" in dhr
    pdf = tmp_path / "report.pdf"
    printed = run_chromium(
        tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()
    )
    assert printed.returncode == 0 and pdf.read_bytes().startswith(b"%PDF")
    assert subprocess  # the browser runs as a subprocess (tests.browser)
