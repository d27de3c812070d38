"""Fact dates: a trigger's `fact_date` is the day the recorded thing happened. The loader
checks it, the engine bounds it (not after the event date, not before the previous fact
on its path), and clocks start and stop on it rather than on the day it was keyed in."""

from __future__ import annotations

import pytest

from casereview.domain import clocks, facts
from casereview.domain.workflow.loader import check_bytes
from casereview.errors import Refused
from tests.unit.engine_cases import CAL, ENGINE_FIXTURES, D, MemoryCase, overlays

TEXT = (ENGINE_FIXTURES / "overlays.toml").read_text()
NOTIFY_FACT = 'defaults = { notified_on = "$event_date" }\nfact_date = "notified_on"\n'


def _problems(text: str) -> list[str]:
    _, problems = check_bytes(text.encode(), name="overlays.toml")
    return problems


def _case() -> MemoryCase:
    # Aware on Monday 2 March 2026: the notification is due on Monday 9 March.
    return MemoryCase(overlays(), "2026-03-02", {"aware_on": "2026-03-02"})


def test_the_fixture_declares_fact_dates():
    definition = overlays()
    assert definition.trigger("notify").fact_date == "notified_on"
    assert definition.fact_field_of("submit") == "submitted_on"
    assert definition.fact_field_of("finish") is None
    assert _problems(TEXT) == []


@pytest.mark.parametrize(
    ("replacement", "expected"),
    [
        (
            'fact_date = "note"\n',
            "overlays.toml: trigger 'notify': 'fact_date' must name a date field; "
            "'note' is a text field",
        ),
        (
            'fact_date = "notified"\n',
            "overlays.toml: trigger 'notify': 'fact_date' names an unknown field 'notified' "
            "(did you mean 'notified_on'?)",
        ),
        (
            'fact_date = "submitted_on"\n',
            "overlays.toml: trigger 'notify': fact_date 'submitted_on' must be listed in "
            "'requires': every event of the trigger records the day it happened",
        ),
    ],
)
def test_the_loader_names_the_file_and_trigger_of_a_bad_fact_date(replacement, expected):
    text = TEXT.replace(NOTIFY_FACT, 'defaults = { notified_on = "$event_date" }\n' + replacement)
    assert text != TEXT
    assert expected in _problems(text)


def test_a_clock_stops_on_the_fact_date_not_the_day_it_was_keyed_in():
    case = _case()
    # Sent on Friday 6 March (on time), keyed in on Friday 13 March (a week late).
    case.step("notify", "2026-03-13", {"notified_on": "2026-03-06"})
    derived = case.clocks()
    notification = derived["notification"]
    assert notification.stopped_on == D("2026-03-06")
    assert clocks.status(notification, D("2026-03-13")) == "met"
    # The review clock counts from the day the notification was sent.
    review = derived["review"]
    assert review.started_on == review.anchor_on == D("2026-03-06")
    assert review.due_on == CAL.add_working_days(D("2026-03-06"), 10)
    assert case.replayed.facts[-1].happened_on == D("2026-03-06")
    assert case.replayed.facts[-1].occurred_on == D("2026-03-13")


def test_without_a_fact_given_the_default_is_the_event_date():
    case = _case()
    case.step("notify", "2026-03-13")
    notification = case.clocks()["notification"]
    assert notification.stopped_on == D("2026-03-13")
    assert clocks.status(notification, D("2026-03-13")) == "missed"


def test_a_fact_date_after_the_event_date_is_refused():
    case = _case()
    with pytest.raises(Refused) as refused:
        case.step("notify", "2026-03-05", {"notified_on": "2026-03-06"})
    assert refused.value.message == (
        "notified_on 2026-03-06 is after the event date 2026-03-05: a fact date records "
        "something that had happened by the day it is recorded"
    )
    assert len(case.rows) == 1


def test_a_fact_date_before_its_clock_began_counting_is_refused():
    case = _case()
    with pytest.raises(Refused) as refused:
        case.step("notify", "2026-03-05", {"notified_on": "2026-02-27"})
    assert refused.value.message == (
        "notified_on 2026-02-27 is before 2026-03-02 (aware_on, from which the Notification "
        "clock counts); notify cannot have happened before the step it follows on its path"
    )
    case.step("notify", "2026-03-13", {"notified_on": "2026-03-06"})
    with pytest.raises(Refused) as refused:
        case.step("submit", "2026-03-16", {"submitted_on": "2026-03-05"})
    assert "before 2026-03-06 (the day the Review clock started)" in refused.value.message
    case.step("submit", "2026-03-16", {"submitted_on": "2026-03-06"})
    assert case.clocks()["review"].stopped_on == D("2026-03-06")


def test_a_trigger_that_stops_no_running_clock_is_bounded_by_the_opening():
    case = _case()
    case.step("notify", "2026-03-13", {"notified_on": "2026-03-06"})
    assert facts.floor(case.definition, "finish", case.replayed.facts) == (
        D("2026-03-02"),
        "the day the case was opened",
    )
    assert facts.floor(case.definition, "finish", ()) is None


def test_a_stored_fact_that_is_no_date_falls_back_to_the_event_date():
    assert facts.fact_on("notified_on", {"notified_on": "not a date"}) is None
    assert facts.fact_on(None, {"notified_on": "2026-03-06"}) is None
    assert facts.fact_on("notified_on", {"notified_on": "2026-03-06"}) == D("2026-03-06")
