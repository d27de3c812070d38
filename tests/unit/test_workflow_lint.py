"""Lint: domain findings on the process graph and the clocks, each with its own message."""

from __future__ import annotations

from pathlib import Path

from casereview.domain.workflow.lint import edges, lint_definition
from casereview.domain.workflow.loader import load_bytes, load_path
from casereview.services.workflows import lint_path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "workflows"
ENGLAND = ROOT / "workflows" / "england-lcspr@1.toml"


def test_minimal_fixture_is_clean():
    assert lint_definition(load_path(FIXTURES / "minimal.toml")) == []


def test_lint_path_names_the_file_and_reports_validation_problems_first():
    report = lint_path(FIXTURES / "lint" / "no_way_out.toml")
    assert not report.ok
    assert report.key is not None and report.key.id == "minimal"
    assert all(
        p.startswith(str(FIXTURES / "lint" / "no_way_out.toml") + ": ") for p in report.problems
    )
    broken = lint_path(FIXTURES / "broken" / "undeclared_role.toml")
    assert broken.key is None
    assert any("unknown role 'manager'" in p for p in broken.problems)


def test_edges_cover_every_trigger_and_source():
    england = load_path(ENGLAND)
    moves = edges(england)
    assert {e.trigger for e in moves} == set(england.triggers_by_id)
    assert len(moves) == sum(len(england.sources_of(t)) for t in england.triggers)
    assert all(e.source != "closed" for e in moves)


def _england_with(old: str, new: str) -> list[str]:
    text = ENGLAND.read_text()
    assert old in text
    return lint_definition(load_bytes(text.replace(old, new, 1).encode(), name="e.toml"))


def test_england_advance_copy_needs_publish_as_a_stop():
    # The publish guard ensures the copy went out, but lint reads the graph, not guards:
    # without `publish` in stop_on the clock could run on into closed.
    findings = _england_with(
        'stop_on = ["send_advance_copy", "publish"]', 'stop_on = ["send_advance_copy"]'
    )
    assert findings == [
        "clock 'advance_copy' can still be running when the case reaches terminal state "
        "'closed' via 'close' from 'action_monitoring'; add that trigger to its stop_on"
    ]


def test_england_reschedule_must_reproject_advance_copy():
    findings = _england_with('reproject_on = ["planned_publication_on"]\nsource', "source")
    assert findings == [
        "clock 'advance_copy' counts from 'planned_publication_on', which trigger "
        "'reschedule_publication' can change, but 'planned_publication_on' is not in its "
        "reproject_on, so its due date would not move"
    ]


def test_england_without_withdraw_stop_leaves_rapid_review_running():
    findings = _england_with(
        'stop_on = ["submit_rapid_review", "withdraw"]', 'stop_on = ["submit_rapid_review"]'
    )
    assert findings == [
        "clock 'rapid_review' can still be running when the case reaches terminal state "
        "'closed' via 'withdraw' from 'rapid_review'; add that trigger to its stop_on"
    ]


def test_setting_alternatives_are_checked_too():
    # If notified_on were only optional on notify, the default anchor could be unset.
    findings = _england_with(
        'requires = ["sin_reference", "notified_on"]\noptional = ["partners_informed_on"]\n'
        'defaults = { notified_on = "$event_date" }',
        'requires = ["sin_reference"]\noptional = ["partners_informed_on", "notified_on"]',
    )
    assert findings == [
        "clock 'rapid_review' counts from 'notified_on', which is not certain to be set when "
        "'notify' starts it (require it there, give it a default, or make it required_at_open)"
    ]
