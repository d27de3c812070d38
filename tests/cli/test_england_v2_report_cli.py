"""`casereview report` on England v2 cases, each figure against a count by hand.

The scenario: two LCSPRs the partners commissioned before the Panel replied, each later
answered by the Panel with `agreed`; one of them folded into a national review.
"""

from __future__ import annotations

import json

from tests.cli import test_england_v2_cli as v2

Case = v2.Case
# The v2 database and the fixed day, shared with the v2 workflow's own tests.
db = v2.db
today = v2.today

YEAR = ("--year", "2025-26")  # 1 April 2025 to 31 March 2026


def _report(cli, db: str, as_user) -> dict:
    as_user("root")
    result = cli("report", "--db", db, *YEAR, "--format", "json", "--detail")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["figures"]


def _seed(cli, db: str, as_user) -> None:
    # P-1: commissioned 23 Feb before the Panel replied; the Panel agreed on 5 March.
    waiting = Case(cli, db, as_user, "P-1")
    waiting.to_awaiting_panel()
    waiting.step("chair", "commission_lcspr", "2026-02-23", rationale="partners decided")
    waiting.step(
        "bu",
        "record_panel_response",
        "2026-03-06",
        "panel_position=agreed",
        "responded_on=2026-03-05",
    )
    # S-1: commissioned 23 Feb, under way, the Panel agreed on 3 March, then merged into
    # a national review on 16 March.
    merged = Case(cli, db, as_user, "S-1")
    merged.to_in_progress()
    merged.step(
        "bu",
        "record_panel_response",
        "2026-03-03",
        "panel_position=agreed_with_comments",
    )
    merged.step(
        "chair",
        "panel_commissions_national_review",
        "2026-03-16",
        "commissioned_by=secretary_of_state",
        "local_review_outcome=merged",
        rationale="folded into the national review",
    )


def test_panel_responses_all_agreed_and_a_merged_review_is_not_in_progress(db, cli, as_user):
    _seed(cli, db, as_user)
    figures = _report(cli, db, as_user)
    value = {k: f["value"] for k, f in figures.items()}
    # By hand: two Panel responses, both agreeing, neither after a query.
    assert value["panel.responses"] == 2
    assert value["panel.agreed_first_response"] == 2
    assert value["panel.panel_decided"] == 0
    assert value["panel.after_query"] == 0
    assert [
        (c["ref"], c["outcome_on"], c["panel_position"])
        for c in figures["panel.responses"]["cases"]
    ] == [
        ("P-1", "2026-03-05", "agreed"),
        ("S-1", "2026-03-03", "agreed_with_comments"),
    ]
    # Both commissioned; only P-1 is still in progress on 31 March (S-1 was merged).
    assert value["local_reviews.commissioned"] == 2
    assert [c["ref"] for c in figures["local_reviews.in_progress_at_end"]["cases"]] == ["P-1"]
    assert value["local_reviews.in_progress_at_end"] == 1
    assert value["decisions.national_review"] == 1
