"""The action plan as a document (Markdown, CSV, HTML) for a national review's plan
built through the services (tests/actions_support.py): its figures equal the hand
count, the Markdown reads at 80 columns, the CSV parses back to the same outcomes,
text from people is escaped, and the same document across cases selects
recommendations by the day they were made."""

from __future__ import annotations

import csv
import io
import re

import pytest

from casereview.domain import actions as plans
from casereview.errors import Refused
from casereview.formats import action_plan
from casereview.services import actions
from tests.actions_support import ACTIONS, ACTIONS_DIR, EXPECTED, SCRIPT, build


@pytest.fixture
def desk(database_url, monkeypatch):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ACTIONS_DIR))
    desk = build(database_url)
    yield desk
    desk.close()


def test_the_figures_equal_the_hand_count(desk):
    doc = actions.plan_document(desk.as_("scrut"), "NR-1")
    figures = doc.figures
    assert figures.recommendations == 6
    assert figures.multi_agency == 3
    assert figures.total.actions == 7
    assert dict(figures.total.by_outcome) == EXPECTED
    assert (figures.total.completed, figures.total.open) == (5, 1)
    police = figures.by_agency["police"]
    assert police.actions == 3
    assert (police.by_outcome[plans.MET], police.by_outcome[plans.MISSED]) == (1, 1)
    assert police.by_outcome[plans.CLOSED_UNMET] == 1
    assert [(ref, a.action) for ref, a in figures.oldest_open] == [("NR-1", "4.1")]
    assert figures.completions == (("2026-06", 1), ("2026-07", 1), ("2026-08", 1),
                                   ("2026-11", 1), ("2026-12", 1))  # fmt: skip


def test_markdown_reads_at_80_columns_with_every_action(desk):
    text = action_plan.markdown(actions.plan_document(desk.as_("scrut"), "NR-1"))
    long = [line for line in text.splitlines() if len(line) > 80]
    assert long == []
    for number in ACTIONS:
        assert re.search(rf"^- {re.escape(number)} \[", text, re.MULTILINE), number
    assert "- met after agreed extension: 1" in text
    assert "due 2027-01-31 (extended from 2026-09-30)" in text
    assert "Evidence: https://dms.example/proc/17" in text
    assert "Latest update: Keyed in for the local authority" in text
    assert "Closed because: Superseded by the national programme" in text


def test_csv_parses_back_to_the_same_outcomes(desk):
    text = action_plan.csv_text(actions.plan_document(desk.as_("scrut"), "NR-1"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["action"] for r in rows] == list(ACTIONS)
    outcomes = [r["outcome"] for r in rows]
    assert {o: outcomes.count(o) for o in EXPECTED} == EXPECTED
    six = next(r for r in rows if r["action"] == "6.1")
    assert six["recommendation"] == SCRIPT  # a CSV cell is text, shown as typed
    assert next(r for r in rows if r["action"] == "1.1")["progress"] == "100"


def test_html_escapes_peoples_text_and_holds_the_chart(desk):
    page = action_plan.html_text(actions.plan_document(desk.as_("scrut"), "NR-1"))
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page
    assert page.count('role="progressbar"') == 7
    assert page.count('class="rag rag-red"') == 2  # 2.1 missed, 4.1 overdue
    assert '<svg class="chart" id="completions"' in page
    assert page.count("<rect") == 7  # June to December 2026, a slot a month
    assert "@page { size: A4;" in page


def test_across_cases_selects_recommendations_by_the_day_they_were_made(desk):
    import datetime as dt

    scrut = desk.as_("scrut")
    every = actions.plan_document(scrut)
    assert [c.ref for c in every.cases] == ["NR-1"]
    assert every.figures.total.actions == 7
    before = actions.plan_document(scrut, end=dt.date(2026, 2, 1))
    assert before.cases == ()
    assert before.figures.total.actions == 0
    within = actions.plan_document(scrut, start=dt.date(2026, 2, 2), end=dt.date(2026, 2, 2))
    assert within.figures.recommendations == 6


def test_only_the_plan_roles_read_the_document(desk):
    from casereview.services import users

    users.add_user(desk.as_("ada"), "other", "Other", ["admin"], None)
    with pytest.raises(Refused, match="read by"):
        actions.plan_document(desk.as_("other"), "NR-1")
    assert actions.plan_document(desk.as_("other")).cases == ()


def test_open_actions_are_in_the_calendar_feed(desk):
    import io

    import icalendar

    from casereview.services import exports

    sink = io.BytesIO()
    result = exports.export_calendar(desk.as_("scrut"), sink, case="NR-1")
    feed = icalendar.Calendar.from_ical(sink.getvalue())
    entries = {str(e["uid"]): e for e in feed.walk("VEVENT")}
    assert "NR-1.action-4.1.plan@casereview" in entries  # the one open action
    assert not any(".action-1.1." in uid for uid in entries)  # done: not a deadline
    entry = entries["NR-1.action-4.1.plan@casereview"]
    assert entry.decoded("dtstart").isoformat() == "2026-09-30"
    assert "Action 4.1 (local_authority)" in str(entry["summary"])
    assert result.deadlines == len(entries)
