"""Checks against what happened (`domain.checks`, a `days_apart` guard): the advance copy
is checked against the day the report was actually published; the override records the
step despite the check, only when it fails, and is the record of the breach."""

from __future__ import annotations

import pytest

from casereview.domain import checks, engine
from casereview.domain.reporting.case_facts import CaseHistory
from casereview.domain.workflow.lint import lint_definition
from casereview.domain.workflow.loader import check_bytes, load_path
from casereview.errors import Refused
from tests.unit.engine_cases import CAL, ENGINE_FIXTURES, MemoryCase

TEXT = (ENGINE_FIXTURES / "checks.toml").read_text()
CLERK = engine.Person("clerk", frozenset({"clerk"}))
CHAIR = engine.Person("chair", frozenset({"chair"}))


class _Case(MemoryCase):
    """A memory case whose steps are decided with the case's history and the calendar,
    as the write path decides them."""

    def step(self, trigger, on, fields=None, *, who=CLERK, rationale=None):  # type: ignore[no-untyped-def, override]
        state = self.replayed
        snapshot = engine.CaseSnapshot(
            ref=self.ref,
            state=state.state,
            fields=state.fields,
            approvals=state.approvals,
            version=state.version,
            history=tuple(state.facts),
            steps=tuple(state.history),
        )
        decision = engine.decide(
            self.definition,
            snapshot,
            engine.Request(trigger, checks_day(on), dict(fields or {}), rationale),
            who,
            calendar=CAL,
        )
        self.rows.append(
            {
                "seq": self.rows[-1]["seq"] + 1,
                "trigger": decision.trigger,
                "from_state": decision.from_state,
                "to_state": decision.to_state,
                "occurred_on": on,
                "fields": dict(decision.changes),
            }
        )
        return decision


def checks_day(text: str):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.date.fromisoformat(text)


def _scheduled() -> _Case:
    case = _Case(
        load_path(ENGINE_FIXTURES / "checks.toml"), "2026-06-01", {"aware_on": "2026-06-01"}
    )
    return case


def _sent(case: _Case, on: str, recipients=("panel", "secretary_of_state"), content="full_report"):  # type: ignore[no-untyped-def]
    for recipient in recipients:
        case.step("send_copy", on, {"recipient": recipient, "content": content, "sent_on": on})


def test_the_fixture_loads_and_lints_clean():
    _, problems = check_bytes(TEXT.encode(), name="checks.toml")
    assert problems == []
    definition = load_path(ENGINE_FIXTURES / "checks.toml")
    assert lint_definition(definition) == []
    [(guarded, guard)] = definition.checks_overridden_by("publish_despite_short_notice")
    assert guarded.id == "publish" and guard.at_least == 7


def test_seven_working_days_before_is_checked_against_the_actual_publication_day():
    case = _scheduled()
    _sent(case, "2026-07-01")
    with pytest.raises(Refused) as refused:
        case.step("publish", "2026-07-03")
    # 7 working days before Friday 3 July is Wednesday 24 June.
    assert str(refused.value) == (
        "publish refused: sent_on must be on or before 2026-06-24, 7 working days before "
        "published_on 2026-07-03 (panel: sent_on 2026-07-01; secretary_of_state: sent_on "
        "2026-07-01); publish_despite_short_notice records it despite the check, with a "
        "rationale"
    )
    # Published on the 13th instead (the 7th working day after 1 July is 10 July): met.
    assert case.step("publish", "2026-07-13").to_state == "published"
    assert case.replayed.facts[-1].overrode is None


def test_each_recipient_needs_its_own_copy_and_only_the_full_report_counts():
    case = _scheduled()
    _sent(case, "2026-06-01", recipients=("panel",))
    _sent(case, "2026-06-01", recipients=("secretary_of_state",), content="summary")
    with pytest.raises(Refused, match=r"\(secretary_of_state: no sent_on recorded\)"):
        case.step("publish", "2026-07-03")
    _sent(case, "2026-06-24", recipients=("secretary_of_state",))
    assert case.step("publish", "2026-07-03").to_state == "published"


def test_the_override_is_only_for_a_failed_check_and_is_the_record_of_the_breach():
    case = _scheduled()
    _sent(case, "2026-06-01")
    with pytest.raises(Refused) as holds:
        case.step("publish_despite_short_notice", "2026-07-03", who=CHAIR, rationale="urgent")
    assert str(holds.value).startswith(
        "publish_despite_short_notice records publish despite a failed check, but the check "
        "holds (sent_on (send_copy; content = full_report; one for each recipient in panel, "
        "secretary_of_state) at least 7 working days before published_on): record publish"
    )
    short = _scheduled()
    _sent(short, "2026-07-01")
    with pytest.raises(Refused, match="needs a rationale"):
        short.step("publish_despite_short_notice", "2026-07-03", who=CHAIR)
    with pytest.raises(Refused, match="needs one of the roles chair"):
        short.step("publish_despite_short_notice", "2026-07-03", rationale="urgent")
    done = short.step(
        "publish_despite_short_notice", "2026-07-03", who=CHAIR, rationale="court order"
    )
    assert done.to_state == "published"
    replayed = short.replayed
    assert replayed.facts[-1].overrode == "publish"
    [breach] = checks.breaches(short.definition, replayed.history, CAL)
    assert (breach.seq, breach.on, breach.trigger, breach.overrides) == (
        4,
        "2026-07-03",
        "publish_despite_short_notice",
        "publish",
    )
    assert breach.detail.startswith("sent_on must be on or before 2026-06-24")
    # The report's view of the case sees the breach.
    history = CaseHistory(
        ref="C-1",
        pseudonym="Child A",
        facts=tuple(replayed.facts),
        clocks={},
        rules=(),
        terminal_states=frozenset({"published"}),
        plan=None,  # type: ignore[arg-type]  # not asked here
    )
    assert [f.seq for f in history.breaches()] == [4]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'later = "published_on", at_least = 7',
            'later = "recipient", at_least = 7',
            "checks.toml: trigger 'publish': guard 1 (days_apart): 'later' must name a date "
            "field; 'recipient' is a choice field",
        ),
        (
            'where = { content = "full_report" }',
            'where = { content = "full" }',
            "checks.toml: trigger 'publish': guard 1 (days_apart): 'where' 'content': 'full' "
            "is not a choice of field 'content' (choices: full_report, summary)",
        ),
        (
            'to = "published"\nroles = ["chair"]',
            'roles = ["chair"]',
            "checks.toml: trigger 'publish': guard 1 (days_apart): override "
            "'publish_despite_short_notice' must move the case as 'publish' does (the same "
            "'from' and 'to'): it records the same step despite the check",
        ),
        (
            'fact_date = "published_on"\nrationale_required = true',
            'fact_date = "published_on"',
            "checks.toml: trigger 'publish': guard 1 (days_apart): override "
            "'publish_despite_short_notice' must have rationale_required = true: the reasons "
            "for the breach are recorded",
        ),
        (
            'override = "publish_despite_short_notice"',
            'override = "publish_anyway"',
            "checks.toml: trigger 'publish': guard 1 (days_apart): 'override' names an "
            "unknown trigger 'publish_anyway'",
        ),
    ],
)
def test_the_loader_names_a_bad_check(old, new, expected):
    assert old in TEXT
    _, problems = check_bytes(TEXT.replace(old, new).encode(), name="checks.toml")
    assert any(p.startswith(expected) for p in problems), problems
