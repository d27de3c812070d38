"""Spreadsheets out: `due --xlsx`, `case list --xlsx`, and the round trip of casereview's
own tracker layout through `import cases` without a mapping.

The workbooks are read back with a real reader (python-calamine) and their XML, and
opened by LibreOffice headless where it is installed (.ci/run installs it)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.cli.test_import_cli import db  # noqa: F401 - the same database fixture
from tests.conftest import run_sql
from tests.fixtures import make_tracker


@pytest.fixture
def imported(db, cli, tmp_path):  # noqa: F811
    fixed = tmp_path / "tracker.xlsx"
    make_tracker.build(fixed, fixed=True)
    result = cli("import", "cases", str(fixed), "--mapping", str(make_tracker.MAPPING), "--db", db)
    assert result.exit_code == 0, result.stderr
    # A value a spreadsheet could take for a formula, in a case field.
    note = cli(
        "case",
        "advance",
        "2023-004",
        "record_progress_check",
        "--set",
        "note==1+1",
        "--on-behalf-of",
        "chair",
        "--db",
        db,
    )
    assert note.exit_code == 0, note.stderr
    return db


def _sheet(path: Path, name: str) -> list[list[object]]:
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _xml(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode()


def _soffice_to(path: Path, kind: str, tmp_path: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed here; .ci/run installs it")
    out = tmp_path / "converted"
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            kind,
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out / (path.stem + "." + kind.split(":")[0])


def test_due_xlsx_has_real_dates_a_frozen_filtered_header_and_status_colours(
    imported, cli, tmp_path
):
    path = tmp_path / "due.xlsx"
    result = cli("due", "--db", imported, "--xlsx", str(path))
    assert result.exit_code == 0, result.stderr
    rows = _sheet(path, "Due")
    header = rows[1]
    assert header[:3] == ["ref", "pseudonym", "case state"]
    due_at = header.index("due on")
    body = [r for r in rows[2:] if r[0]]
    listed = json.loads(cli("due", "--db", imported, "--json").stdout)
    assert len(body) == len(listed["clocks"]) > 0  # every clock, not the first screenful
    assert all(isinstance(r[due_at], dt.date) for r in body if r[due_at] != "")
    assert isinstance(body[0][header.index("working days left")], float)
    sheet = _xml(path, "xl/worksheets/sheet1.xml")
    assert 'state="frozen"' in sheet
    assert "<autoFilter" in sheet
    assert sheet.count("<cfRule") == 2  # overdue and due soon
    assert '"overdue"</formula>' in sheet and '"due_soon"</formula>' in sheet
    assert "<cols>" in sheet  # widths set


def test_case_list_xlsx_is_a_tracker_with_formula_safe_text(imported, cli, tmp_path):
    path = tmp_path / "cases.xlsx"
    assert cli("case", "list", "--db", imported, "--xlsx", str(path)).exit_code == 0
    cases = _sheet(path, "Cases")
    header = cases[0]
    assert header[:4] == ["ref", "pseudonym", "workflow", "state"]
    assert "Child's name" not in header  # personal fields are left out
    assert len(cases) == 41
    opened = header.index("opened on")
    assert all(isinstance(r[opened], dt.date) for r in cases[1:])
    history = _sheet(path, "History")
    assert [next(r[0] for r in history if "=1+1" in str(r[-1])), "=1+1"] == ["2023-004", "=1+1"]
    assert "most urgent clock" in header
    assert _xml(path, "xl/worksheets/sheet1.xml").count("<cfRule") == 2  # overdue, due soon
    for member in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"):
        assert "<f>" not in _xml(path, member)  # text, never a formula


def test_workbooks_open_in_libreoffice_with_dates_as_dates(imported, cli, tmp_path):
    path = tmp_path / "due.xlsx"
    assert cli("due", "--db", imported, "--xlsx", str(path)).exit_code == 0
    pdf = _soffice_to(path, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    listed = tmp_path / "cases.xlsx"
    assert cli("case", "list", "--db", imported, "--xlsx", str(listed)).exit_code == 0
    assert _soffice_to(listed, "pdf", tmp_path).read_bytes().startswith(b"%PDF")
    # LibreOffice formats the date cells as dates (in its locale's style, as it shows a
    # date): text would come out as written, in ISO form.
    rows = list(csv.reader(_soffice_to(listed, "csv", tmp_path).read_text().splitlines()))
    first = run_sql(imported, "SELECT opened_on FROM cases ORDER BY ref LIMIT 1")[0][0]
    day = dt.date.fromisoformat(first)
    cell = rows[1][rows[0].index("opened on")]
    assert cell != first
    assert cell in {
        day.strftime("%m/%d/%Y"),
        day.strftime("%d/%m/%Y"),
        f"{day.day} {day.strftime('%b %Y')}",
    }


def test_case_list_xlsx_imports_into_an_empty_database_as_the_same_cases(
    imported, cli, tmp_path, database_url, monkeypatch
):
    path = tmp_path / "cases.xlsx"
    assert cli("case", "list", "--db", imported, "--xlsx", str(path)).exit_code == 0
    other = f"sqlite:///{tmp_path / 'other.db'}" if imported.startswith("sqlite") else None
    if other is None:
        pytest.skip("the round trip is checked on SQLite")
    assert cli("init", "--db", other).exit_code == 0
    assert cli("user", "grant", "root", "business_unit", "--db", other).exit_code == 0
    for args in (
        ("chair", "--name", "Chair", "--role", "chair"),
        ("la", "--name", "LA", "--role", "partner", "--agency", "local_authority"),
        ("police", "--name", "Police", "--role", "partner", "--agency", "police"),
        ("icb", "--name", "ICB", "--role", "partner", "--agency", "icb"),
    ):
        assert cli("user", "add", *args, "--db", other).exit_code == 0
    result = cli("import", "cases", str(path), "--db", other)
    assert result.exit_code == 0, result.stdout + result.stderr
    query = (
        "SELECT c.ref, c.pseudonym, c.state, c.fields, c.opened_on, "
        "c.last_event_on, k.clock_id, k.state, k.due_on, k.stopped_on FROM cases c "
        "LEFT JOIN case_clocks k ON k.case_id = c.id ORDER BY c.ref, k.clock_id"
    )
    assert run_sql(other, query) == run_sql(imported, query)
    # Sign-offs point at event numbers, which differ between logs: the agencies agree.
    signed = "SELECT ref, approvals FROM cases ORDER BY ref"
    assert [
        (ref, {k: sorted(v) for k, v in json.loads(a).items()}) for ref, a in run_sql(other, signed)
    ] == [
        (ref, {k: sorted(v) for k, v in json.loads(a).items()})
        for ref, a in run_sql(imported, signed)
    ]
    assert cli("audit", "verify", "--db", other).exit_code == 0
    again = cli("import", "cases", str(path), "--db", other)
    assert again.exit_code == 4


def test_import_without_a_mapping_refuses_a_sheet_casereview_did_not_write(db, cli):  # noqa: F811
    result = cli("import", "cases", str(make_tracker.TRACKER), "--db", db)
    assert result.exit_code == 2
    assert "give --mapping" in result.stderr


def test_report_xlsx_has_the_csv_figures_as_numbers_and_the_cases_behind_them(
    imported, cli, tmp_path
):
    path = tmp_path / "report.xlsx"
    result = cli("report", "--db", imported, "--year", "2022-23", "--detail", "-o", str(path))
    assert result.exit_code == 0, result.stderr
    csv_out = cli("report", "--db", imported, "--year", "2022-23", "--format", "csv")
    expected = list(csv.DictReader(csv_out.stdout.lstrip("\ufeff").splitlines()))
    figures = _sheet(path, "Figures")
    header = figures[1]
    rows = [dict(zip(header, r, strict=False)) for r in figures[2:]]

    def number(value: object) -> object:
        try:
            return float(str(value))
        except ValueError:
            return value  # n/a

    wanted = [(r["figure"], number(r["value"])) for r in expected if r["record"] != "case"]
    assert [(r["figure"], number(r["value"])) for r in rows] == wanted
    assert any(isinstance(r["value"], float) and r["value"] > 0 for r in rows)
    detail = _sheet(path, "Cases")
    assert detail[0][:3] == ["figure", "ref", "pseudonym"]
    assert len(detail) > 1
    assert 'state="frozen"' in _xml(path, "xl/worksheets/sheet1.xml")
    assert _soffice_to(path, "pdf", tmp_path).read_bytes().startswith(b"%PDF")


def test_report_xlsx_needs_an_output_file(imported, cli):
    result = cli("report", "--db", imported, "--format", "xlsx")
    assert result.exit_code == 2
    assert "--output" in result.stderr
