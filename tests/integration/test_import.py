"""`casereview import cases`: a realistic tracker in, all or nothing.

tests/fixtures/tracker.xlsx (written by tests/fixtures/make_tracker.py, invented) has
merged group headings, blank rows, mixed date styles and six cells wrong on purpose.
The dry run must report exactly those six; the same sheet with exactly those cells put
right must import, each case ending where the same history entered step by step
through `case open`/`case advance` ends, and the log must verify.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from casereview.domain.imports import SOURCE_FIELD
from casereview.formats import spreadsheet
from casereview.formats.spreadsheet_mapping import parse
from casereview.infra.now import FixedClock
from casereview.services import audit, cases, imports, imports_rows, users
from casereview.services.context import ServiceContext
from tests.conftest import record_by_hand, run_sql
from tests.fixtures import make_tracker

TODAY = dt.date(2026, 3, 2)
ME = "importer"


def _context(url: str) -> ServiceContext:
    ctx = ServiceContext(url=url, account=ME, clock=FixedClock(TODAY))
    users.init(ctx, "Importer")
    users.grant_role(ctx, ME, "business_unit", None)
    users.add_user(ctx, "chair", "Chair", ["chair"], None)
    for agency in ("local_authority", "police", "icb"):
        name = "la" if agency == "local_authority" else agency
        users.add_user(ctx, name, agency, ["partner"], agency)
    return ctx


@pytest.fixture
def ctx(database_url: str) -> ServiceContext:
    return _context(database_url)


@pytest.fixture
def fixed(tmp_path: Path) -> Path:
    path = tmp_path / "tracker-fixed.xlsx"
    make_tracker.build(path, fixed=True)
    return path


def _cells(path: Path) -> list[list[str]]:
    book = CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name(book.sheet_names[0]).to_python(skip_empty_area=False)
    return [[spreadsheet.cell_text(c) for c in row] for row in rows]


def _events(url: str) -> int:
    return int(run_sql(url, "SELECT count(*) FROM events")[0][0])


def test_the_committed_tracker_is_what_its_script_writes(tmp_path):
    again = tmp_path / "tracker.xlsx"
    make_tracker.build(again)
    assert _cells(again) == _cells(make_tracker.TRACKER)
    assert len([r for r in _cells(again)[2:] if any(r)]) == 40  # 40 cases, blank rows too
    assert any(not any(r) for r in _cells(again)[2:])


def test_the_dry_run_reports_exactly_the_planted_errors_and_writes_nothing(ctx, tmp_path):
    planted = make_tracker.build(tmp_path / "tracker.xlsx")
    before = _events(ctx.url)
    result = imports.import_cases(ctx, make_tracker.TRACKER, make_tracker.MAPPING, dry_run=True)
    assert {(p.row, p.column) for p in result.problems} == {(r, c) for r, c, _w, _r in planted}
    assert result.imported == 0
    assert _events(ctx.url) == before
    by_cell = {(p.row, p.column): p for p in result.problems}
    for row, column, wrong, _right in planted:
        problem = by_cell[(row, column)]
        assert problem.value == spreadsheet.cell_text(wrong)
        assert problem.what and problem.fix
    kinds = " ".join(p.what for p in result.problems)
    for kind in (
        "unknown value",
        "dates out of order",
        "not a real calendar date",
        "duplicate reference",
        "missing date",
    ):
        assert kind in kinds


def test_a_refused_import_writes_nothing(ctx):
    before = _events(ctx.url)
    result = imports.import_cases(ctx, make_tracker.TRACKER, make_tracker.MAPPING)
    assert len(result.problems) == 6
    assert result.imported == 0
    assert _events(ctx.url) == before


def test_fixing_exactly_the_reported_cells_imports_every_case(ctx, tmp_path, fixed):
    reported = imports.import_cases(ctx, make_tracker.TRACKER, make_tracker.MAPPING, dry_run=True)
    wrong, right = _cells(make_tracker.TRACKER), _cells(fixed)
    header = wrong[1]
    changed = {
        (r + 1, header[c])
        for r, row in enumerate(wrong)
        for c, value in enumerate(row)
        if value != right[r][c]
    }
    assert changed == {(p.row, p.column) for p in reported.problems}

    before = _events(ctx.url)
    result = imports.import_cases(ctx, fixed, make_tracker.MAPPING)
    assert result.problems == []
    assert result.imported == 40
    assert result.events == _events(ctx.url) - before
    report = audit.verify(ctx)
    assert report.ok, report.findings


def test_each_imported_event_names_the_file_and_row(ctx, fixed):
    import hashlib

    imports.import_cases(ctx, fixed, make_tracker.MAPPING)
    digest = hashlib.sha256(fixed.read_bytes()).hexdigest()
    rows = run_sql(ctx.url, "SELECT case_ref, fields FROM events WHERE kind = 'case'")
    assert len(rows) > 40 * 2
    first_row = {}
    for ref, fields in rows:
        mark = json.loads(fields)[SOURCE_FIELD]
        assert mark.startswith(f"sha256:{digest} sheet 'Tracker 2021-25' row ")
        first_row.setdefault(ref, mark)
        assert mark == first_row[ref]  # every event of a case names the same row
    case_fields = run_sql(ctx.url, "SELECT fields FROM cases")
    assert all(SOURCE_FIELD not in json.loads(f) for (f,) in case_fields)


def test_the_same_file_imported_twice_is_refused_per_case(ctx, fixed):
    assert imports.import_cases(ctx, fixed, make_tracker.MAPPING).imported == 40
    before = _events(ctx.url)
    again = imports.import_cases(ctx, fixed, make_tracker.MAPPING)
    assert again.imported == 0
    assert len(again.problems) == 40
    assert all("already exists" in p.what for p in again.problems)
    assert _events(ctx.url) == before


def test_imported_cases_end_where_the_same_history_through_case_advance_ends(ctx, fixed, tmp_path):
    imports.import_cases(ctx, fixed, make_tracker.MAPPING)
    other = _context(f"sqlite:///{tmp_path / 'by-hand.db'}")
    sheet = spreadsheet.read_sheet(fixed.read_bytes(), ".xlsx", "Tracker 2021-25")
    definition = other.registry.get("england-lcspr", 1)  # the mapping's version
    converted = imports_rows.convert(
        sheet,
        parse(make_tracker.MAPPING.read_text()),
        definition,
        sha256="0" * 64,
        importer_roles=frozenset({"business_unit"}),
        today=TODAY,
    )
    assert converted.problems == [] and len(converted.scripts) == 40
    record_by_hand(other, [item.script for item in converted.scripts])
    query = (
        "SELECT c.ref, c.state, c.fields, c.approvals, c.opened_on, c.last_event_on, "
        "k.clock_id, k.state, k.due_on, k.stopped_on "
        "FROM cases c LEFT JOIN case_clocks k ON k.case_id = c.id ORDER BY c.ref, k.clock_id"
    )
    imported, by_hand = run_sql(ctx.url, query), run_sql(other.url, query)
    assert imported == by_hand
    assert {row[1] for row in imported} >= {"screening", "published", "other_learning"}


def test_skip_bad_rows_imports_the_rest_and_lists_the_skipped_beside_the_file(ctx, tmp_path):
    tracker = tmp_path / "tracker.xlsx"
    planted = make_tracker.build(tracker)
    result = imports.import_cases(ctx, tracker, make_tracker.MAPPING, skip_bad_rows=True)
    assert result.skipped_rows == sorted({row for row, *_ in planted})
    assert result.imported == 40 - len(result.skipped_rows)
    listed = list(csv.DictReader((tmp_path / "tracker.xlsx.skipped.csv").open()))
    assert sorted({int(r["row"]) for r in listed}) == result.skipped_rows
    assert audit.verify(ctx).ok


def _csv_tracker(tmp_path: Path, aware: str, declared: str | None) -> tuple[Path, Path]:
    tracker = tmp_path / "sheet.csv"
    tracker.write_text(f"Ref,Aware\r\nA-1,{aware}\r\n")
    sheet = f'[sheet]\ndate_formats = ["{declared}"]\n' if declared else ""
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(f'{sheet}[case]\nref = "Ref"\naware_on = "Aware"\n')
    return tracker, mapping


@pytest.mark.parametrize(
    ("declared", "expected"),
    [("dd/mm/yyyy", "2025-04-03"), ("mm/dd/yyyy", "2025-03-04")],
)
def test_an_ambiguous_date_follows_the_declared_format(ctx, tmp_path, declared, expected):
    tracker, mapping = _csv_tracker(tmp_path, "03/04/2025", declared)
    result = imports.import_cases(ctx, tracker, mapping)
    assert result.problems == [] and result.imported == 1
    assert cases.show_case(ctx, "A-1").opened_on == expected


def test_an_ambiguous_date_without_a_declaration_is_refused(ctx, tmp_path):
    tracker, mapping = _csv_tracker(tmp_path, "03/04/2025", None)
    result = imports.import_cases(ctx, tracker, mapping)
    assert result.imported == 0
    [problem] = result.problems
    assert (problem.row, problem.column, problem.value) == (2, "Aware", "03/04/2025")
    assert "could be 2025-04-03 (dd/mm) or 2025-03-04 (mm/dd)" in problem.what
    assert "date_formats" in problem.fix


def test_an_unambiguous_day_first_date_needs_no_declaration(ctx, tmp_path):
    tracker, mapping = _csv_tracker(tmp_path, "25/04/2025", None)
    assert imports.import_cases(ctx, tracker, mapping).imported == 1
    assert cases.show_case(ctx, "A-1").opened_on == "2025-04-25"


def test_the_template_is_a_mapping_naming_every_step_of_the_workflow(ctx):
    text = imports.template(ctx, "england-lcspr")
    mapping = parse(text)
    assert mapping.workflow == "england-lcspr"
    assert mapping.date_formats == ("dd/mm/yyyy",)
    definition = ctx.registry.get("england-lcspr")
    for trigger in definition.triggers:
        assert f'# trigger = "{trigger.id}"' in text


def test_the_worked_example_in_the_docs_imports_as_described(ctx):
    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    result = imports.import_cases(
        ctx, examples / "tracker-example.csv", examples / "tracker-example-mapping.toml"
    )
    assert result.problems == [] and result.imported == 4
    states = {
        ref: cases.show_case(ctx, ref).state
        for ref in ("EX-2024-01", "EX-2024-02", "EX-2024-03", "EX-2025-01")
    }
    assert states == {
        "EX-2024-01": "lcspr_commissioning",
        "EX-2024-02": "other_learning",
        "EX-2024-03": "rapid_review",
        "EX-2025-01": "screening",
    }
    # Where a trigger needs a rationale and the sheet has none, the event says so.
    rationales = run_sql(
        ctx.url,
        "SELECT rationale FROM events WHERE case_ref = 'EX-2024-01' "
        "AND trigger = 'commission_lcspr'",
    )
    assert rationales == [("imported, no rationale recorded",)]
    notes = run_sql(
        ctx.url, "SELECT fields FROM events WHERE case_ref = 'EX-2025-01' AND trigger = 'add_note'"
    )
    assert json.loads(notes[0][0])["note"].startswith("Awaiting the partners")


def test_a_grown_tracker_adds_only_its_new_rows_with_skip_bad_rows(ctx, tmp_path):
    tracker = tmp_path / "grown.csv"
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[sheet]\ndate_formats = ["dd/mm/yyyy"]\n[case]\nref = "Ref"\naware_on = "Aware"\n'
    )
    tracker.write_text("Ref,Aware\r\nA-1,03/04/2025\r\n")
    assert imports.import_cases(ctx, tracker, mapping).imported == 1
    tracker.write_text("Ref,Aware\r\nA-1,03/04/2025\r\nA-2,05/04/2025\r\n")
    again = imports.import_cases(ctx, tracker, mapping, skip_bad_rows=True)
    assert again.imported == 1 and again.skipped_rows == [2]
    assert {c.ref for c in cases.list_cases(ctx)} == {"A-1", "A-2"}


def test_the_case_list_workbook_leaves_out_a_corrected_case_and_says_why(ctx, tmp_path):
    from casereview.formats import xlsx
    from casereview.services import corrections, imports_tracker

    tracker, mapping = _csv_tracker(tmp_path, "25/04/2025", None)
    tracker.write_text("Ref,Aware\r\nA-1,25/04/2025\r\nA-2,26/04/2025\r\n")
    assert imports.import_cases(ctx, tracker, mapping).imported == 2
    corrections.correct(
        ctx, "A-2", fields={"aware_on": "2025-04-24"}, rationale="Typed from the wrong row."
    )
    path = tmp_path / "cases.xlsx"
    path.write_bytes(xlsx.workbook(imports_tracker.tracker_tables(ctx)))
    other = _context(f"sqlite:///{tmp_path / 'other.db'}")
    seen: list[tuple[str, int, int]] = []
    result = imports.import_cases(
        other, path, None, progress=lambda what, done, total: seen.append((what, done, total))
    )
    assert result.imported == 0  # all or nothing
    [problem] = result.problems
    assert problem.sheet == "History" and "corrections" in problem.what
    assert ("reading", 1, 1) in seen and ("checking", 1, 1) in seen
    kept = imports.import_cases(other, path, None, skip_bad_rows=True)
    assert kept.imported == 1
    assert [c.ref for c in cases.list_cases(other)] == ["A-1"]


def _sheet_and_mapping(tmp_path: Path, header: str, row: str, steps: str) -> tuple[Path, Path]:
    tracker = tmp_path / "steps.csv"
    tracker.write_text(f"{header}\r\n{row}\r\n")
    mapping = tmp_path / "steps.toml"
    mapping.write_text(
        '[sheet]\ndate_formats = ["dd/mm/yyyy"]\n[case]\nref = "Ref"\naware_on = "Aware"\n' + steps
    )
    return tracker, mapping


def test_a_step_the_workflow_does_not_allow_is_reported_at_its_date_column(ctx, tmp_path):
    tracker, mapping = _sheet_and_mapping(
        tmp_path,
        "Ref,Aware,Notified,SIN,Sent",
        "A-1,01/04/2025,03/04/2025,SIN-1,10/04/2025",
        '[[steps]]\ntrigger = "notify"\ndate = "Notified"\nfields = { sin_reference = "SIN" }\n'
        '[[steps]]\ntrigger = "submit_rapid_review"\ndate = "Sent"\n',
    )
    result = imports.import_cases(ctx, tracker, mapping, dry_run=True)
    [problem] = result.problems
    assert (problem.row, problem.column, problem.value) == (2, "Sent", "2025-04-10")
    assert "submit_rapid_review" in problem.what and "rapid_review" in problem.what
    assert "workflow allows it" in problem.fix


def test_a_decision_nobody_is_named_for_says_to_name_them(ctx, tmp_path):
    tracker, mapping = _sheet_and_mapping(
        tmp_path,
        "Ref,Aware,Decided",
        "A-1,01/04/2025,02/04/2025",
        '[[steps]]\ntrigger = "decide_not_to_notify"\ndate = "Decided"\n',
    )
    [problem] = imports.import_cases(ctx, tracker, mapping).problems
    assert problem.column == "Decided" and "chair" in problem.what
    assert "[people]" in problem.fix
    fixed = mapping.read_text() + '[people]\nchair = "chair"\n'
    mapping.write_text(fixed)
    assert imports.import_cases(ctx, tracker, mapping).imported == 1
    assert cases.show_case(ctx, "A-1").state == "closed"


def test_a_date_outside_the_supported_range_is_a_problem(ctx, tmp_path):
    tracker, mapping = _csv_tracker(tmp_path, "25/04/1850", None)
    [problem] = imports.import_cases(ctx, tracker, mapping).problems
    assert problem.column == "Aware" and "1850" in problem.what
