"""A clock that stops when all of several things have happened (`stop_all`): the advance
copy waits for both statutory recipients' copies, whatever else is sent, and stops on the
day the last of them went; a restart forgets what was sent before. The loader checks each
condition and lint reports one that can never be met."""

from __future__ import annotations

from casereview.domain import clocks, engine
from casereview.domain.workflow.lint import lint_definition
from casereview.domain.workflow.loader import check_bytes, load_bytes
from tests.unit.engine_cases import CAL, ENGINE_FIXTURES, D, MemoryCase

CLERK = engine.Person("clerk", frozenset({"clerk", "chair"}))

CLOCK = """
[[triggers]]
id = "reschedule"
label = "Reschedule"
from = ["scheduled"]
roles = ["clerk"]
requires = ["planned_on"]

[[fields]]
id = "planned_on"
label = "Planned publication"
type = "date"
required_at_open = true

[[clocks]]
id = "advance_copy"
label = "Advance copies"
kind = "statutory"
budget = 7
unit = "working_days"
direction = "before"
anchor = { field = "planned_on" }
start_on = ["open", "reschedule"]
stop_on = ["publish", "publish_despite_short_notice"]
stop_all = [
  { trigger = "send_copy", where = { recipient = "panel" } },
  { trigger = "send_copy", where = { recipient = "secretary_of_state" } },
]
source = "tests"
"""

TEXT = (ENGINE_FIXTURES / "checks.toml").read_text() + CLOCK


def _case() -> MemoryCase:
    definition = load_bytes(TEXT.encode(), name="stop_all.toml")
    return MemoryCase(
        definition, "2026-06-01", {"aware_on": "2026-06-01", "planned_on": "2026-07-06"}
    )


def _copy(case: MemoryCase, recipient: str, recorded: str, sent: str) -> clocks.ClockState:
    fields = {"recipient": recipient, "content": "full_report", "sent_on": sent}
    case.step("send_copy", recorded, fields, who=CLERK)
    return case.clocks()["advance_copy"]


def test_the_clock_stops_when_every_condition_has_happened_on_the_last_ones_day():
    case = _case()
    due = case.clocks()["advance_copy"].due_on
    assert due == D("2026-06-25")
    assert _copy(case, "panel", "2026-06-22", "2026-06-19").state == "running"
    # Another recipient, or the same one again, is not what the clock waits for.
    assert _copy(case, "ofsted", "2026-06-22", "2026-06-22").state == "running"
    assert _copy(case, "panel", "2026-06-23", "2026-06-23").state == "running"
    stopped = _copy(case, "secretary_of_state", "2026-06-26", "2026-06-24")
    assert (stopped.state, stopped.stopped_on, stopped.stopped_by) == (
        "stopped",
        D("2026-06-24"),
        "send_copy",
    )
    assert clocks.status(stopped, D("2026-07-01")) == "met"


def test_a_restart_forgets_the_conditions_met_before_it():
    case = _case()
    _copy(case, "panel", "2026-06-10", "2026-06-10")
    case.step("reschedule", "2026-06-11", {"planned_on": "2026-07-20"}, who=CLERK)
    running = _copy(case, "secretary_of_state", "2026-06-12", "2026-06-12")
    assert (running.state, running.due_on) == (
        "running",
        CAL.subtract_working_days(D("2026-07-20"), 7),
    )
    assert _copy(case, "panel", "2026-06-15", "2026-06-15").stopped_on == D("2026-06-15")


def test_a_stop_on_trigger_still_stops_it_by_itself():
    case = _case()
    _copy(case, "panel", "2026-06-10", "2026-06-10")
    case.step(
        "publish_despite_short_notice",
        "2026-06-12",
        {"published_on": "2026-06-12"},
        who=CLERK,
        rationale="court order",
    )
    stopped = case.clocks()["advance_copy"]
    assert (stopped.state, stopped.stopped_by) == ("stopped", "publish_despite_short_notice")


def test_the_loader_checks_each_condition():
    broken = TEXT.replace(
        '{ trigger = "send_copy", where = { recipient = "secretary_of_state" } },',
        '{ trigger = "send_cpy", where = { recipient = "secretary_of_state" } },\n'
        '  { trigger = "send_copy", where = { recipient = "dfe" } },\n'
        '  { trigger = "send_copy", where = { published_on = "2026-01-01" } },\n'
        '  { trigger = "publish" },\n'
        '  { trigger = "send_copy", where = { recipient = "panel" } },',
    )
    _, problems = check_bytes(broken.encode(), name="stop_all.toml")
    at = "stop_all.toml: clock 'advance_copy': stop_all condition"
    assert problems == [
        f"{at} 2: 'trigger' names an unknown trigger 'send_cpy' (did you mean 'send_copy'?)",
        f"{at} 3: 'where' 'recipient': 'dfe' is not a choice of field 'recipient' "
        "(choices: panel, secretary_of_state, ofsted)",
        f"{at} 4: 'where' names 'published_on', which 'send_copy' does not record",
        f"{at} 5: trigger 'publish' is also in 'stop_on', so it stops the clock by itself "
        "and the condition could never wait for the others",
        f"{at} 6: repeats an earlier condition",
    ]


def test_lint_reports_a_condition_that_can_never_be_met():
    assert lint_definition(load_bytes(TEXT.encode(), name="stop_all.toml")) == []
    # A condition on a trigger that fires only where the clock does not run.
    never = (
        TEXT
        + """
[[states]]
id = "archived"
label = "Archived"

[[triggers]]
id = "archive_copy"
label = "Archive a copy"
from = ["archived"]
roles = ["clerk"]
"""
    )
    never = never.replace(
        '{ trigger = "send_copy", where = { recipient = "panel" } },',
        '{ trigger = "send_copy", where = { recipient = "panel" } },\n'
        '  { trigger = "archive_copy" },',
    )
    findings = lint_definition(load_bytes(never.encode(), name="stop_all.toml"))
    assert any(
        f.startswith("clock 'advance_copy': stop_all condition 2 (archive_copy) can never be met")
        for f in findings
    ), findings
