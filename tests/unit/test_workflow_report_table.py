"""The `[report]` table of a workflow: its shape, and every id it names checked against
the file (a wrong id is a validation problem naming the file and the id, never a figure
that silently stays at 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from casereview.domain.reporting.case_facts import BASES, ReportPlan
from casereview.domain.workflow.loader import check_bytes, load_bytes, load_path
from casereview.errors import ExitCode, InvalidWorkflow

ROOT = Path(__file__).resolve().parents[2]
ENGLAND = ROOT / "workflows" / "england-lcspr@1.toml"
ENGLAND_V2 = ROOT / "workflows" / "england-lcspr.toml"
V2_BASES = {
    "notified_only",
    "disputed",
    "maintained",
    "reconsidered",
    "revised",
    "pub_decided",
    "breaches",
    "national",
    "national_reported",
    "ll_started",
    "ll_completed",
    "ll_open",
}
"""The base lists England's version 2 added figures on: version 1 has no such step."""
SCR = ROOT / "workflows" / "scr-transitional.toml"
MINIMAL = ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml"


def _problems(old: str, new: str, path: Path = ENGLAND) -> list[str]:
    text = path.read_text()
    assert old in text
    _, problems = check_bytes(text.replace(old, new, 1).encode(), name="e.toml")
    return problems


def _bases(plan: ReportPlan) -> set[str]:
    return {BASES[i].name for i in plan.bases}


def test_england_v2_measures_every_figure():
    plan = ReportPlan.of(load_path(ENGLAND_V2).report)
    assert _bases(plan) == {base.name for base in BASES}
    assert plan.table.local_reviews is not None
    assert plan.table.local_reviews.published_by == ("publish", "publish_despite_short_notice")


def test_england_v1_measures_every_figure_but_version_2s():
    plan = ReportPlan.of(load_path(ENGLAND).report)
    assert _bases(plan) == {base.name for base in BASES} - V2_BASES
    assert plan.table.local_reviews is not None
    assert plan.table.local_reviews.published_by == ("publish",)  # one id, as a string
    assert plan.at_end_clocks == {"notification", "rapid_review"}
    assert plan.kept_states == {"publication_hold", "action_monitoring"}
    assert {name for name, _ in plan.outcomes.values()} == {
        "local_review",
        "other_learning",
        "national_review",
    }


def test_scr_measures_what_its_process_has():
    scr = load_path(SCR)
    plan = ReportPlan.of(scr.report)
    assert _bases(plan) == {
        "opened",
        "closed",
        "open_at_end",
        "decision:local_review",
        "commissioned",
        "in_progress",
        "on_hold",
        "held_cases",
        "hold_spells",
        "published",
        "plan_approved",
        "plan_closed",
        "plan_open",
        "amended",  # corrections after the fact: every workflow
    }
    assert plan.at_end_clocks == frozenset()
    # Every id the table names is one of the file's own.
    assert plan.table.triggers <= set(scr.triggers_by_id)
    assert scr.report is not None and scr.report.local_reviews is not None
    assert scr.report.local_reviews.clock in scr.clocks_by_id


def test_a_workflow_without_a_report_table_is_valid_and_measures_the_caseload_only():
    minimal = load_path(MINIMAL)
    assert minimal.report is None
    plan = ReportPlan.of(minimal.report)
    # The caseload, and the corrections after the fact, which every workflow has.
    assert _bases(plan) == {"opened", "closed", "open_at_end", "amended"}
    assert plan.table.triggers == frozenset()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'trigger = "notify"\nclock = "notification"',
            'trigger = "notfy"\nclock = "notification"',
            "table 'report.notifications': 'trigger' names an unknown trigger 'notfy' "
            "(did you mean 'notify'?)",
        ),
        (
            'clock = "rapid_review"\ncompleted_by',
            'clock = "rapid_reviews"\ncompleted_by',
            "table 'report.rapid_reviews': 'clock' names an unknown clock 'rapid_reviews' "
            "(did you mean 'rapid_review'?)",
        ),
        (
            'withdrawn = ["withdraw"]',
            'withdrawn = ["withdrawn"]',
            "table 'report.decisions': 'withdrawn' names an unknown trigger 'withdrawn' "
            "(did you mean 'withdraw'?)",
        ),
        (
            'hold_state = "publication_hold"',
            'hold_state = "on_hold"',
            "table 'report.local_reviews': 'hold_state' names an unknown state 'on_hold'",
        ),
        (
            'state = "action_monitoring"\nclosed_by',
            'state = "monitoring"\nclosed_by',
            "table 'report.action_plans': 'state' names an unknown state 'monitoring'",
        ),
        (
            'query = "record_panel_query"',
            'query = "panel_query"',
            "table 'report.panel': 'query' names an unknown trigger 'panel_query'",
        ),
        (
            'trigger = "panel_commissions_national_review"\nagreed',
            'trigger = "national"\nagreed',
            "table 'report.panel.outcomes.national_review': 'trigger' names an unknown "
            "trigger 'national'",
        ),
        (
            'values = ["national_review"]',
            'values = ["national"]',
            "table 'report.panel.outcomes.national_review': 'agreed.values': 'national' is "
            "not a choice of field 'recommendation'",
        ),
        (
            'review_by = "review_by"\n\n[report.notifications]',
            'review_by = "review_on"\n\n[report.notifications]',
            "table 'report.columns': 'review_by' names an unknown field 'review_on' "
            "(did you mean 'review_by'?)",
        ),
        (
            'aware_on = "aware_on"\nrecommendation',
            'aware_on = "note"\nrecommendation',
            "table 'report.columns': 'aware_on' names 'note', an event field",
        ),
    ],
)
def test_every_id_the_table_names_is_checked(old, new, message):
    problems = _problems(old, new)
    assert len(problems) == 1, problems
    assert problems[0].startswith("e.toml: " + message)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'clock = "notification"',
            'clok = "notification"',
            "table 'report.notifications': unknown key 'clok' (did you mean 'clock'?",
        ),
        (
            'withdrawn = ["withdraw"]',
            'scr = ["withdraw"]',
            "table 'report.decisions': unknown key 'scr' (allowed: local_review, "
            "other_learning, national_review, not_notified, withdrawn)",
        ),
        (
            'withdrawn = ["withdraw"]',
            "withdrawn = []",
            "key 'report.decisions.withdrawn': must not be empty",
        ),
        (
            'published_by = "publish"\n',
            "",
            "table 'report.local_reviews': missing required key 'published_by'",
        ),
    ],
)
def test_the_table_shape_is_checked(old, new, message):
    problems = _problems(old, new)
    assert any(p.startswith("e.toml: " + message) for p in problems), problems


def test_a_wrong_id_refuses_the_file_with_exit_5():
    # The England clock's id, copied into the SCR file by mistake.
    text = SCR.read_text().replace('clock = "scr_publication"', 'clock = "lcspr_publication"')
    with pytest.raises(InvalidWorkflow) as caught:
        load_bytes(text.encode(), name="scr.toml")
    assert caught.value.exit_code == ExitCode.INVALID_WORKFLOW
    assert caught.value.problems == [
        "scr.toml: table 'report.local_reviews': 'clock' names an unknown clock "
        "'lcspr_publication' (did you mean 'scr_publication'?)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'published_by = ["publish", "publish_despite_short_notice"]',
            'published_by = ["publish", "publish_despite"]',
            "table 'report.local_reviews': 'published_by' names an unknown trigger "
            "'publish_despite'",
        ),
        (
            'revised_target = "revised_target_on"',
            'revised_target = "revised_on"',
            "table 'report.local_reviews': 'revised_target' names an unknown field 'revised_on'",
        ),
        (
            'decided_by = ["decide_publication"]',
            'decided_by = ["decide"]',
            "table 'report.publication': 'decided_by' names an unknown trigger 'decide'",
        ),
        (
            'redacted = ["redacted_report"]',
            'redacted = ["redacted"]',
            "table 'report.publication': 'form.values.redacted': 'redacted' is not a choice "
            "of field 'publication_form'",
        ),
        (
            'alongside = ["record_national_review_alongside"]',
            'alongside = ["alongside"]',
            "table 'report.national_reviews': 'alongside' names an unknown trigger 'alongside'",
        ),
        (
            'by = { field = "commissioned_by"',
            'by = { field = "commissioner"',
            "table 'report.national_reviews': 'by.field' names an unknown field 'commissioner'",
        ),
        (
            'disputed = { field = "panel_position", values = ["disagreed", "requested_lcspr"] }',
            'disputed = { field = "panel_position", values = ["disputed"] }',
            "table 'report.panel': 'disputed.values': 'disputed' is not a choice of field "
            "'panel_position'",
        ),
        (
            'maintained_by = "maintain_decision"',
            'maintained_by = "maintain"',
            "table 'report.panel': 'maintained_by' names an unknown trigger 'maintain'",
        ),
        (
            'only = ["notify_only"]',
            'only = ["notify_onyl"]',
            "table 'report.notifications': 'only' names an unknown trigger 'notify_onyl'",
        ),
        (
            'started_by = ["start_local_review"]',
            'started_by = ["start_review"]',
            "table 'report.local_learning': 'started_by' names an unknown trigger 'start_review'",
        ),
    ],
)
def test_every_id_version_2s_tables_name_is_checked(old, new, message):
    problems = _problems(old, new, ENGLAND_V2)
    assert len(problems) == 1, problems
    assert problems[0].startswith("e.toml: " + message)


def test_a_group_the_report_does_not_count_is_refused():
    problems = _problems(
        "improvements_only = [",
        "summary_only = [",
        ENGLAND_V2,
    )
    assert any(
        "group 'summary_only' is not one the report counts; the groups are full, redacted, "
        "improvements_only, not_published" in p
        for p in problems
    ), problems
