"""Linked cases that take a step with the case that recorded the link (`[[links.follow]]`):
which cases follow which step, what the loader refuses in the table, and what lint
reports about it and about `[processes]`. Through the command line (a sibling review
recorded once on the lead case): tests/cli/test_england_v2_cli.py."""

from __future__ import annotations

from casereview.domain import links
from casereview.domain.workflow.lint import lint_definition
from casereview.domain.workflow.loader import check_bytes, load_bytes
from tests.unit.engine_cases import ENGINE_FIXTURES

TEXT = (ENGINE_FIXTURES / "processes.toml").read_text()
FOLLOW = """
[[links.follow]]
relations = ["sibling", "thematic_review"]
triggers = ["finish"]
from = ["reviewing"]
"""
LINKS = [
    {"other": "C-2", "relation": "sibling", "on": "2026-03-02", "seq": 4},
    {"other": "C-3", "relation": "same_incident", "on": "2026-03-02", "seq": 5},
    {"other": "C-4", "relation": "thematic_review", "on": "2026-03-03", "seq": 6},
    {"other": "C-2", "relation": "thematic_review", "on": "2026-03-03", "seq": 7},
]


def _with(extra: str):
    return load_bytes((TEXT + extra).encode(), name="follow.toml")


def test_the_cases_linked_with_a_following_relation_follow_once_each_in_link_order():
    table = _with(FOLLOW).links
    assert table is not None
    assert links.followers(table, LINKS, "finish", "reviewing") == ["C-2", "C-4"]
    # Only the entry's triggers, fired from its states.
    assert links.followers(table, LINKS, "register_parallel_process", "reviewing") == []
    assert links.followers(table, LINKS, "finish", "done") == []
    # Without `from`, any state.
    anywhere = _with(FOLLOW.replace('from = ["reviewing"]\n', "")).links
    assert anywhere is not None
    assert links.followers(anywhere, LINKS, "finish", "done") == ["C-2", "C-4"]


def test_a_workflow_without_follow_entries_moves_no_linked_case():
    table = load_bytes(TEXT.encode(), name="p.toml").links
    assert table is not None
    assert links.followers(table, LINKS, "finish", "reviewing") == []


def test_the_loader_checks_each_follow_entry():
    broken = FOLLOW.replace('"sibling", "thematic_review"', '"sibling", "cousin"')
    broken = broken.replace('["finish"]', '["finish", "link_case", "finsh"]')
    broken = broken.replace('["reviewing"]', '["reviewed"]')
    _, problems = check_bytes((TEXT + broken).encode(), name="follow.toml")
    at = "follow.toml: table 'links': follow entry 1"
    assert problems == [
        f"{at}: 'relations' names an unknown relation 'cousin' (declared: same_incident, "
        "sibling, thematic_review)",
        f"{at}: 'triggers' names an unknown trigger 'finsh' (did you mean 'finish'?)",
        f"{at}: 'from' names an unknown state 'reviewed' (declared: done, reviewing)",
        f"{at}: trigger 'link_case' links cases; a link is each case's own step",
    ]


def test_lint_reports_a_step_no_linked_case_could_take():
    assert lint_definition(_with(FOLLOW)) == []
    never = FOLLOW.replace('from = ["reviewing"]', 'from = ["done"]')
    assert lint_definition(_with(never)) == [
        "table 'links': follow entry 1 names trigger 'finish', which fires from no reachable "
        "state from 'done', so a linked case would never take it"
    ]


def test_lint_reports_process_triggers_that_can_never_fire():
    text = (
        TEXT.replace(
            'id = "register_parallel_process"\nlabel = "Register a parallel process"\nfrom = ["*"]',
            'id = "register_parallel_process"\nlabel = "Register a parallel process"\n'
            'from = ["archived"]',
        )
        + '\n[[states]]\nid = "archived"\nlabel = "Archived"\n'
    )
    findings = lint_definition(load_bytes(text.encode(), name="p.toml"))
    assert (
        "table 'processes': none of its add triggers ('register_parallel_process') fires "
        "from a state a case can reach, so no process could be registered"
    ) in findings
