"""Parallel processes (`[processes]`, `domain.processes`): registered and numbered by the
engine, updated by number, kept by replay; the loader checks the table."""

from __future__ import annotations

import pytest

from casereview.domain import engine, processes
from casereview.domain.workflow.lint import lint_definition
from casereview.domain.workflow.loader import check_bytes, load_path
from casereview.errors import Refused
from tests.unit.engine_cases import ENGINE_FIXTURES, MemoryCase

TEXT = (ENGINE_FIXTURES / "processes.toml").read_text()
CLERK = engine.Person("clerk", frozenset({"clerk"}))


class _Case(MemoryCase):
    """A memory case whose snapshot carries its processes, as the case row does."""

    def step(self, trigger, on, fields=None, *, who=CLERK, rationale=None):  # type: ignore[no-untyped-def, override]
        import datetime as dt

        state = self.replayed
        assert not state.problems, state.problems
        decision = engine.decide(
            self.definition,
            engine.CaseSnapshot(
                ref=self.ref,
                state=state.state,
                fields=state.fields,
                approvals=state.approvals,
                version=state.version,
                processes=state.processes,
                links=state.links,
            ),
            engine.Request(trigger, dt.date.fromisoformat(on), dict(fields or {}), rationale),
            who,
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


def _case() -> _Case:
    definition = load_path(ENGINE_FIXTURES / "processes.toml")
    return _Case(definition, "2026-03-02", {"aware_on": "2026-03-02"})


def test_the_fixture_loads_and_lints_clean():
    _, problems = check_bytes(TEXT.encode(), name="processes.toml")
    assert problems == []
    assert lint_definition(load_path(ENGINE_FIXTURES / "processes.toml")) == []


def test_processes_are_numbered_by_the_engine_and_updated_by_number():
    case = _case()
    first = case.step("register_parallel_process", "2026-03-03", {"process_type": "inquest"})
    assert first.changes["process"] == "1"
    assert first.to_state == "reviewing"
    second = case.step(
        "register_parallel_process",
        "2026-03-04",
        {"process_type": "criminal_proceedings", "trial_on": "2026-09-01"},
    )
    assert second.changes["process"] == "2"
    with pytest.raises(Refused, match="does not record 'process'"):
        case.step(
            "register_parallel_process", "2026-03-04", {"process_type": "other", "process": "7"}
        )
    case.step(
        "update_parallel_process",
        "2026-03-05",
        {"process": "2", "trial_on": "2026-10-05", "process_status": "concluded"},
    )
    kept = case.replayed.processes
    assert kept["1"]["type"] == "inquest" and kept["1"]["concluded"] is False
    assert kept["2"]["dates"] == {"trial_on": "2026-10-05"}
    assert kept["2"]["concluded"] is True
    assert (kept["2"]["registered_seq"], kept["2"]["updated_seq"]) == (3, 4)
    with pytest.raises(Refused, match=r"has no parallel process '5' \(its processes: 1, 2\)"):
        case.step("update_parallel_process", "2026-03-05", {"process": "5"})
    # Only the inquest is still open: its dates (none yet) would be `due`'s.
    assert processes.key_dates(processes.listed(kept)) == []


def test_replay_reports_an_update_of_a_process_the_case_lacks():
    case = _case()
    case.rows.append(
        {
            "seq": 2,
            "trigger": "update_parallel_process",
            "from_state": "reviewing",
            "to_state": "reviewing",
            "occurred_on": "2026-03-03",
            "fields": {"process": "4"},
        }
    )
    assert case.replayed.problems == [
        (2, "update_parallel_process updates process 4, which the case does not have")
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'dates = ["next_hearing_on", "trial_on"]',
            'dates = ["next_hearing_on", "process_type"]',
            "processes.toml: table 'processes': 'dates' must name a date field; "
            "'process_type' is a choice field",
        ),
        (
            'add = ["register_parallel_process"]',
            'add = ["register_process"]',
            "processes.toml: table 'processes': 'add' names an unknown trigger 'register_process'",
        ),
        (
            'label = "Trial"\ntype = "date"\nscope = "event"',
            'label = "Trial"\ntype = "date"',
            "processes.toml: table 'processes': 'dates' names 'trial_on', which is kept on "
            "the case; a process's fields belong to the process: give it scope = 'event'",
        ),
        (
            'label = "Update a parallel process"\nfrom = ["*"]',
            'label = "Update a parallel process"\nfrom = ["*"]\nto = "done"',
            "processes.toml: trigger 'update_parallel_process': it records a parallel "
            "process, so the case stays in its stage: remove 'to' ('done')",
        ),
    ],
)
def test_the_loader_names_a_bad_processes_table(old, new, expected):
    assert old in TEXT
    _, problems = check_bytes(TEXT.replace(old, new).encode(), name="processes.toml")
    assert any(p.startswith(expected) for p in problems), problems


def test_a_link_names_another_case_once_per_relation_and_replay_keeps_it():
    case = _case()
    with pytest.raises(Refused, match="cannot be linked to itself"):
        case.step("link_case", "2026-03-03", {"linked_case": "C-1", "relation": "sibling"})
    case.step("link_case", "2026-03-03", {"linked_case": "C-2", "relation": "sibling"})
    assert case.replayed.links == [
        {"other": "C-2", "relation": "sibling", "on": "2026-03-03", "seq": 2}
    ]
    from casereview.domain import links

    assert links.naming("C-2", [("C-1", case.replayed.links)]) == [
        {"other": "C-1", "relation": "sibling", "on": "2026-03-03", "seq": 2}
    ]


def test_the_loader_names_a_bad_links_table():
    text = TEXT.replace('other = "linked_case"', 'other = "relation"')
    _, problems = check_bytes(text.encode(), name="processes.toml")
    assert (
        "processes.toml: table 'links': 'other' must name a text field; 'relation' is a "
        "choice field"
    ) in problems
