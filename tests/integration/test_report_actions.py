"""The annual report's figures on recommendations and actions, for the national
review's plan of tests/actions_support.py (six recommendations, seven actions for
three agencies) plus a second case under another agency's lead, against a hand count:
for a period, as at its end, in every report format."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from casereview.domain import actions as plans
from casereview.domain.reporting.actions import AgencyCounts
from casereview.formats.report import as_csv, as_html, as_json, as_markdown
from casereview.services import actions, cases
from casereview.services.report import build_report
from tests.actions_support import ACTIONS_DIR, END, build
from tests.conftest import enrol_keys


@pytest.fixture
def desk(database_url, monkeypatch):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ACTIONS_DIR))
    desk = build(database_url)
    # A second case: one recommendation, two open police actions (one overdue).
    bu, chair = desk.as_("bu"), desk.as_("chair")
    cases.open_case(bu, "NR-2", aware_on=END, workflow="plan")
    rec = {"number": "1", "text": "Supervision", "source": "LCSPR", "agencies": ["police"],
           "scope": "single"}  # fmt: skip
    actions.record(chair, "NR-2", plans.REC_ADD, rec)
    for number, due in (("1.1", "2026-12-31"), ("1.2", "2027-06-30")):
        action = {"action": number, "rec": "1", "text": "Audit", "agency": "police",
                  "owner": "DI", "due_on": due}  # fmt: skip
        actions.record(chair, "NR-2", plans.ACTION_ADD, action)
    yield desk
    desk.close()


def _given(counts: AgencyCounts) -> dict[str, int]:
    return {name: n for name, n in counts.counts.items() if n}


def _year(desk):
    # 2026-01-01 to today (2027-01-11): every step of NR-1 and NR-2 falls within it.
    return build_report(desk.as_("scrut"), start=dt.date(2026, 1, 1), end=END)


def test_the_figures_equal_the_hand_count(desk):
    section = _year(desk).actions
    assert section is not None
    assert section.as_at == END
    assert (section.recommendations, section.multi_agency) == (7, 3)
    # By hand: 1.1 met, 4.1 open and overdue (local authority); 2.1 missed, 4.2 met,
    # 6.1 closed, NR-2's 1.1 overdue and 1.2 open (police); 3.1 met after its
    # extension, 5.1 met (ICB).
    assert {agency: _given(c) for agency, c in section.by_agency.items()} == {
        "icb": {"met": 1, "met_after_extension": 1},
        "local_authority": {"met": 1, "open": 1, "overdue": 1},
        "police": {"met": 1, "missed": 1, "closed_without_completion": 1, "open": 2, "overdue": 1},
    }
    assert _given(section.total) == {"met": 3, "met_after_extension": 1, "missed": 1,
        "closed_without_completion": 1, "open": 3, "overdue": 2}  # fmt: skip
    oldest = [(o.ref, o.action, o.agency, o.due_on.isoformat()) for o in section.oldest_open]
    assert oldest == [
        ("NR-1", "4.1", "local_authority", "2026-09-30"),
        ("NR-2", "1.1", "police", "2026-12-31"),
        ("NR-2", "1.2", "police", "2027-06-30"),
    ]
    # 1 October 2026 to 11 January 2027: 73 weekdays, less 25 and 28 December and 1 January.
    assert [o.working_days_overdue for o in section.oldest_open] == [70, 6, 0]


def test_a_past_period_counts_the_plan_as_it_stood_at_its_end(desk):
    section = build_report(
        desk.as_("scrut"), start=dt.date(2026, 4, 1), end=dt.date(2026, 6, 30)
    ).actions
    assert section is not None
    assert section.recommendations == 0  # made in February, before the period
    # Only 1.1 was done by 30 June (met); the other six of NR-1 were open, none overdue.
    assert _given(section.total) == {"met": 1, "open": 6}
    assert [o.action for o in section.oldest_open] == ["2.1", "3.1", "4.1", "4.2", "5.1", "6.1"]
    assert all(o.working_days_overdue == 0 for o in section.oldest_open)


def test_every_format_carries_the_figures(desk):
    report = _year(desk)
    data = json.loads(as_json.render(report, detail=False))["actions"]
    assert data["recommendations"] == 7
    assert data["by_agency"]["police"]["missed"] == 1
    assert data["total"]["met_after_extension"] == 1
    assert data["oldest_open"][0] == {"ref": "NR-1", "action": "4.1", "agency":
        "local_authority", "due_on": "2026-09-30", "working_days_overdue": 70}  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(as_csv.render(report, detail=False).lstrip("\ufeff"))))
    police = {
        r["figure"]: r["value"] for r in rows if r["record"] == "agency" and r["label"] == "police"
    }
    assert police["actions.missed"] == "1" and police["actions.open"] == "2"
    oldest = [r for r in rows if r["record"] == "open_action"]
    assert [(r["ref"], r["value"]) for r in oldest] == [
        ("NR-1", "70"),
        ("NR-2", "6"),
        ("NR-2", "0"),
    ]
    markdown = as_markdown.render(report, detail=False)
    assert "## Recommendations and actions" in markdown
    assert "| police | 1 | 0 | 1 | 1 | 2 | 1 |" in markdown
    page = as_html.render(report, detail=False)
    assert 'id="actions"' in page
    assert "<td>local_authority</td>" in page


def test_the_workbook_has_an_actions_sheet_with_dates(desk):
    import openpyxl

    from casereview.formats import xlsx_report

    book = openpyxl.load_workbook(io.BytesIO(xlsx_report.workbook(_year(desk), detail=False)))
    sheet = book["Actions"]
    header = [c.value for c in sheet[2]]
    rows = [
        dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=3)
    ]
    oldest = [r for r in rows if r["record"] == "open_action"]
    assert [(r["ref"], r["value"]) for r in oldest] == [("NR-1", 70), ("NR-2", 6), ("NR-2", 0)]
    assert oldest[0]["due"] == dt.datetime(2026, 9, 30)  # a date cell, not text
    assert sheet.freeze_panes == "A3"


def test_no_section_without_an_action_plan(database_url):
    from casereview.infra.now import FixedClock
    from casereview.services import users
    from casereview.services.context import ServiceContext

    ctx = ServiceContext(database_url, "ada", FixedClock(dt.date(2026, 5, 1)))
    users.init(ctx)
    users.add_user(ctx, "bu", "BU", ["business_unit"], None)
    enrol_keys(database_url, "bu", admin="ada", clock=ctx.clock)
    bu = ServiceContext(database_url, "bu", ctx.clock)
    cases.open_case(bu, "2026-001", aware_on=dt.date(2026, 4, 20), workflow="england-lcspr@1")
    report = build_report(ctx)
    ctx.close()
    bu.close()
    assert report.actions is None
    assert "actions" not in json.loads(as_json.render(report, detail=False))
