"""The presenters: the words every front end shares, built from service facts alone."""

from __future__ import annotations

import datetime as dt

import pytest

from casereview.domain import clock_status as status_words
from casereview.domain import clocks
from casereview.errors import Input, InvalidInput
from casereview.formats.cells import safe_cell, value_cell
from casereview.presenters import clocks as clock_words
from casereview.presenters import due as due_words
from casereview.presenters import explain as explain_words
from casereview.presenters import timeline as timeline_words
from casereview.presenters.words import amount, day, ordinal, plural
from casereview.services.case_history import Standing
from casereview.services.due import DueList, DueSummary
from casereview.services.explain import ClockExplanation
from casereview.services.timeline import ClockChange, ClockRun, DueDatePassed

D = dt.date.fromisoformat


def rule(**changes: object) -> clocks.ClockRule:
    values: dict[str, object] = {
        "id": "rapid_review",
        "label": "Rapid review",
        "kind": "expectation",
        "budget": 15,
        "unit": "working_days",
        "direction": "after",
        "anchor_field": "notified_on",
        "day_one": False,
        "warn_within": 3,
        "start_on": frozenset({"notify"}),
        "stop_on": frozenset({"submit"}),
        "pause_in": frozenset({"held"}),
        "reproject_on": frozenset(),
        "ends_on_due": False,
    }
    values.update(changes)
    return clocks.ClockRule(**values)  # type: ignore[arg-type]


def clock(r: clocks.ClockRule | None = None, **changes: object) -> clocks.ClockState:
    values: dict[str, object] = {
        "rule": r or rule(),
        "state": "running",
        "started_on": D("2025-06-09"),
        "anchor_on": D("2025-06-09"),
        "base_due_on": D("2025-06-30"),
        "due_on": D("2025-06-30"),
        "warn_from": D("2025-06-25"),
    }
    values.update(changes)
    return clocks.ClockState(**values)  # type: ignore[arg-type]


# -- words ---------------------------------------------------------------------------


def test_small_words():
    assert (plural(1, "open clock"), plural(0, "open clock")) == ("1 open clock", "0 open clocks")
    assert amount(1, "working_days") == "1 working day"
    assert amount(3, "calendar_days") == "3 days"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 111, 123)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "111th",
        "123rd",
    ]
    assert day(D("2026-11-23")) == "Mon 2026-11-23"


# -- status words --------------------------------------------------------------------


def test_every_status_the_domain_gives_has_one_word_and_meaning():
    ids = [s.id for s in status_words.STATUSES]
    assert sorted(ids) == sorted(
        {"running", "due_soon", "overdue", "paused", "met", "missed", "undetermined"}
    )
    assert all(s.word and s.meaning for s in status_words.STATUSES)
    assert status_words.status_word("running") == "on track"
    assert status_words.status_word("due_soon") == "due soon"
    assert status_words.status_word("restarted") == "restarted"


def test_the_html_report_takes_its_status_words_from_the_one_table():
    from casereview.formats.report import as_html

    assert as_html.status_word is status_words.status_word


# -- the due list --------------------------------------------------------------------


def due_list(shown: int, matching: int, open_: int = 12) -> DueList:
    summary = DueSummary(open_, 4, 5, 5, 1, matching, shown)
    return DueList("2026-11-23", None, False, None, summary, ())


def test_the_due_summary_spells_the_show_all_input_as_the_front_end_offers_it():
    line = due_words.summary_line(due_list(3, 12), lambda term: f"<{term}>")
    assert line == (
        "4 overdue, 5 due soon, 1 paused (12 open clocks; the 3 most "
        "urgent of 12 shown, <all> for every one). Left: working days from the as-of date "
        "to the due date."
    )
    assert "; 4 shown)" in due_words.summary_line(due_list(4, 4), str)
    assert "(1 open clock)." in due_words.summary_line(due_list(1, 1, open_=1), str)
    assert due_words.heading(due_list(1, 1)) == "Open clocks on Mon 2026-11-23"


def test_due_list_errors_name_inputs_not_options():
    from casereview.services import due

    class Context:  # the checks come before anything is read
        pass

    with pytest.raises(InvalidInput) as negative:
        due.due_list(Context(), within=-1)  # type: ignore[arg-type]
    assert negative.value.params == {"within": Input("within"), "value": -1}
    assert str(negative.value) == "within must be 0 or more working days, got -1"
    with pytest.raises(InvalidInput) as both:
        due.due_list(Context(), within=1, overdue_only=True)  # type: ignore[arg-type]
    assert str(both.value) == "within and overdue cannot be combined"
    with pytest.raises(InvalidInput) as limit:
        due.due_list(Context(), limit=0)  # type: ignore[arg-type]
    assert limit.value.params["limit"] == Input("limit")


# -- cells ---------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"])
def test_one_rule_for_cells_that_could_start_a_formula(first):
    assert safe_cell(first + "HYPERLINK(1)") == "'" + first + "HYPERLINK(1)"
    assert value_cell(first + "x") == "'" + first + "x"


def test_value_cells_keep_numbers_and_leave_none_empty():
    assert (value_cell(None), value_cell(-13), value_cell(True), value_cell("a=b")) == (
        "",
        "-13",
        "True",
        "a=b",
    )


# -- timeline sentences --------------------------------------------------------------


def change(kind: str, after: clocks.ClockState, **extra: object) -> ClockChange:
    values: dict[str, object] = {
        "change": kind,
        "clock": after,
        "before": None,
        "on": D("2025-07-05"),
        "status": clocks.status(after, D("2025-07-05")),
        "case_state": "held",
        "standing": None,
    }
    values.update(extra)
    return ClockChange(**values)  # type: ignore[arg-type]


def test_a_stop_after_the_due_date_on_a_non_working_day_is_late():
    stopped = clock(state="stopped", stopped_on=D("2025-07-05"), stopped_by="submit")
    note = timeline_words._note(
        change("stopped", stopped, standing=Standing(D("2025-07-05"), 0, None))
    )
    assert note.text == (
        "Rapid review stopped by submit on 2025-07-05: late (after the due date, on a "
        "non-working day)"
    )
    assert (note.status, note.margin, note.unit) == ("missed", 0, "working_days")
    undated = clock(state="stopped", due_on=None, stopped_on=D("2025-07-05"), stopped_by="x")
    assert clock_words.stopped(undated, None) == "Rapid review stopped by x on 2025-07-05"


def test_a_clock_started_in_a_pausing_state_says_so():
    paused = clock(state="paused", pauses=(clocks.Pause(D("2025-06-09"), None, 15),))
    note = timeline_words._note(change("started", paused))
    assert note.text == (
        "Rapid review started: due 2025-06-30 (15 working days after notified_on 2025-06-09); "
        "paused at once (case in held)"
    )


def test_a_reminder_s_date_passing_is_not_a_deadline_missed():
    reminder = rule(ends_on_due=True, label="Hold review")
    passed = timeline_words._passed(DueDatePassed(D("2025-07-01"), reminder, D("2025-07-01")))
    assert (
        passed.text == "Hold review: its period ended on 2025-07-01 (a reminder; nothing was due)"
    )
    assert passed.kind == "due_passed"


def test_bar_results_in_words():
    def result(status: str, margin: int | None, overrun: int = 0) -> str:
        run = ClockRun(clock(), 1, D("2025-06-09"), D("2025-06-20"), True, status, overrun, margin)
        return timeline_words._result(run)

    assert result("due_soon", 2) == "due soon, 2 working days left"
    assert result("running", 1) == "on track, 1 working day left"
    assert result("running", None) == "running, no due date yet"
    assert result("met", 0) == "met on the due date"
    assert result("overdue", None, 3) == "overdue by 3 working days"


# -- explanation sentences -----------------------------------------------------------


def explanation(c: clocks.ClockState, **extra: object) -> ClockExplanation:
    values: dict[str, object] = {
        "ref": "R",
        "pseudonym": "Child A",
        "today": D("2025-07-01"),
        "clock": c,
        "status": "running",
        "day_zero": "anchor_is_day_0",
        "anchor_setting": None,
        "started_by": "notify",
        "anchor_set_by": None,
        "anchor_set_on": None,
        "paused_in": (),
        "moves": (),
        "resumed_from": None,
        "calculation": None,
        "counted_due": None,
        "stopped": None,
        "earlier_runs": (),
    }
    values.update(extra)
    return ClockExplanation(**values)  # type: ignore[arg-type]


def test_calendar_unit_calculations_in_words():
    months = clock(rule(unit="months", budget=6, anchor_field=None), anchor_on=D("2025-07-08"))
    view = explain_words.present(explanation(months, counted_due=D("2026-01-08")))
    assert view.calculation_text == "6 months after Tue 2025-07-08 is Thu 2026-01-08."
    assert view.day_zero_text.startswith("Calendar months:")
    assert view.anchor_event == "notify"
    same_day = clock(rule(unit="calendar_days", budget=0, anchor_field="review_by"))
    view = explain_words.present(explanation(same_day, counted_due=D("2025-06-09")))
    assert view.calculation_text == "Due on review_by itself: Mon 2025-06-09."
    resumed = clocks.Pause(D("2025-09-10"), D("2025-10-06"), 120)
    days = clock(rule(unit="calendar_days", budget=184), pauses=(resumed,))
    view = explain_words.present(
        explanation(days, resumed_from=resumed, counted_due=D("2026-02-03"))
    )
    assert view.calculation_text == (
        "Resumed on Mon 2025-10-06 with 120 days left (kept when it paused on 2025-09-10): "
        "Mon 2025-10-06 + 120 days is Tue 2026-02-03."
    )


def test_an_unset_anchor_and_earlier_pauses_in_words():
    unset = clock(anchor_on=None, due_on=None, base_due_on=None, missing_anchor="notified_on")
    assert explain_words.present(explanation(unset)).calculation_text == (
        "No due date yet: notified_on is not set."
    )
    before = rule(direction="before", budget=7, anchor_field="planned_publication_on")
    assert explain_words._day_zero_text(before).endswith("the 7th working day before it.")
    assert explain_words._day_zero_text(rule(day_one=True)).startswith("The anchor is day 1")


def test_explanation_lines():
    pause = explain_words.PauseStep("2025-09-10", "held", None, 1, "working_days")
    assert explain_words.pause_line(pause) == (
        "paused 2025-09-10 (case in held), not resumed yet; 1 working day left carried over"
    )
    move = explain_words.MoveStep("2025-12-02", "reschedule", "2026-01-14", None, "2026-01-05")
    assert explain_words.move_line(move, "planned_on") == (
        "2025-12-02 reschedule: planned_on became 2026-01-14; due none → 2026-01-05"
    )
