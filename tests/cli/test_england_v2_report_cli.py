"""`casereview report` on England v2 cases, each figure against a count by hand.

The scenario: two LCSPRs the partners commissioned before the Panel replied, each later
answered by the Panel with `agreed`; one of them folded into a national review.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from casereview.domain import clocks
from casereview.domain.reporting.events import ReplayedEvents
from casereview.infra.workflows.registry import Registry
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


# -- version 2's own figures ------------------------------------------------------------
# One scenario, every figure counted by hand below, read back in every format. The
# period is 1 January to 30 November 2026 (complete: today is 1 December 2026). Every
# case taken to the Panel by `to_awaiting_panel` was aware 2 Feb and notified 3 Feb (on
# time), and one taken on by `to_in_progress` was commissioned 23 Feb (6 months: 23 Aug).
PERIOD = ("--from", "2026-01-01", "--to", "2026-11-30")


def _final_signoff(case: Case, form: str, on: str, *reasons: str) -> None:
    """Commissioned 23 Feb, the draft in on 1 Jun, the final accepted 15 Jun, the
    publication decision taken on `on` and signed off by all three partners."""
    case.to_in_progress()
    case.step("bu", "receive_draft", "2026-06-01")
    case.step("chair", "accept_final", "2026-06-15")
    case.step(
        "chair", "decide_publication", on, f"publication_form={form}", *reasons, rationale="r"
    )
    case.sign(on)


def _seed_v2(cli, db: str, as_user) -> None:
    def case(ref: str) -> Case:
        return Case(cli, db, as_user, ref)

    # Notifications: F-1 sent on 6 Mar (due 9 Mar) and keyed in on 16 Mar: on time by
    # its fact date. F-2 sent on 12 Mar: 3 working days late.
    on_time = case("F-1")
    on_time.open("2026-03-02")
    on_time.step("bu", "notify", "2026-03-16", "sin_reference=SIN-F1", "notified_on=2026-03-06")
    late = case("F-2")
    late.open("2026-03-02")
    late.step("bu", "notify", "2026-03-12", "sin_reference=SIN-F2")
    # Notified only: L-1 on time and escalated; L-2 sent 13 Mar (due 9 Mar), keyed 16 Mar.
    looked_after = case("L-1")
    looked_after.open("2026-03-02", "--set", "looked_after=true")
    looked_after.step("bu", "notify_only", "2026-03-04", "category=looked_after_child_death")
    looked_after.step(
        "chair", "escalate_to_rapid_review", "2026-03-20", rationale="neglect now suspected"
    )
    leaver = case("L-2")
    leaver.open("2026-03-02")
    leaver.step(
        "bu", "notify_only", "2026-03-16", "category=care_leaver_death", "notified_on=2026-03-13"
    )
    # Local reviews of incidents not notified: N-1 done by its due date (25 Mar); N-2
    # started 1 Apr, due 24 Apr (Easter), still under way.
    learning = case("N-1")
    learning.open("2026-03-02")
    learning.step(
        "chair", "start_local_review", "2026-03-04", "review_type=learning_review", rationale="r"
    )
    learning.step(
        "chair",
        "complete_local_review",
        "2026-03-20",
        "learning_activity=practitioner event",
        rationale="r",
    )
    open_learning = case("N-2")
    open_learning.open("2026-03-30")
    open_learning.step(
        "chair", "start_local_review", "2026-04-01", "review_type=local_rapid_review", rationale="r"
    )
    # The Panel: P-1's LCSPR agreed, then disputed, and the partners maintain it; P-2's
    # "no LCSPR" met with a request for one, and the partners reconsider.
    maintained = case("P-1")
    maintained.to_awaiting_panel()
    maintained.step("chair", "commission_lcspr", "2026-02-23", rationale="partners decided")
    for on, position in (("2026-03-05", "agreed"), ("2026-03-09", "disagreed")):
        maintained.step(
            "bu", "record_panel_response", on, f"panel_position={position}", f"responded_on={on}"
        )
    maintained.step("chair", "maintain_decision", "2026-03-10", rationale="the review is needed")
    maintained.sign("2026-03-11")
    reconsidered = case("P-2")
    reconsidered.to_awaiting_panel("no_lcspr")
    reconsidered.step(
        "bu",
        "record_panel_response",
        "2026-03-02",
        "panel_position=requested_lcspr",
        "responded_on=2026-03-02",
    )
    reconsidered.step(
        "chair", "reconsider", "2026-03-04", "recommendation=lcspr", rationale="as the Panel asks"
    )
    # P-3's "no LCSPR" disputed too: maintained, but no partner has signed it yet.
    unsigned = case("P-3")
    unsigned.to_awaiting_panel("no_lcspr")
    unsigned.step(
        "bu",
        "record_panel_response",
        "2026-03-02",
        "panel_position=disagreed",
        "responded_on=2026-03-02",
    )
    unsigned.step("chair", "maintain_decision", "2026-03-04", rationale="learning is local")
    unsigned.step("la", "sign_off", "2026-03-05", "agency=local_authority")
    # Publication: A-1 in full, 2 working days after its advance copies, by the chair's
    # override; A-2 redacted, with a revised target (30 Sep), on 7 working days' notice.
    full = case("A-1")
    _final_signoff(full, "full_report", "2026-06-16")
    full.step("bu", "schedule_publication", "2026-06-18", "planned_publication_on=2026-07-06")
    for recipient in ("panel", "secretary_of_state"):
        full.step(
            "bu",
            "send_advance_copy",
            "2026-07-02",
            f"recipient={recipient}",
            "sent_on=2026-07-01",
            "content=full_report",
        )
    full.step(
        "chair",
        "publish_despite_short_notice",
        "2026-07-03",
        "published_on=2026-07-03",
        "url=https://example.org/a1",
        rationale="court order lifted",
    )
    redacted = case("A-2")
    redacted.to_in_progress()
    redacted.step(
        "chair",
        "revise_publication_target",
        "2026-05-01",
        "revised_target_on=2026-09-30",
        "reason=a late agency chronology",
    )
    redacted.step("bu", "receive_draft", "2026-06-01")
    redacted.step("chair", "accept_final", "2026-06-15")
    redacted.step(
        "chair",
        "decide_publication",
        "2026-06-16",
        "publication_form=redacted_report",
        "reasons=a sibling would be identified",
        rationale="r",
    )
    redacted.sign("2026-06-17")
    redacted.step("bu", "schedule_publication", "2026-06-18", "planned_publication_on=2026-07-13")
    for recipient in ("secretary_of_state", "panel"):
        redacted.step(
            "bu",
            "send_advance_copy",
            "2026-06-30",
            f"recipient={recipient}",
            "sent_on=2026-06-29",
            "content=full_report",
        )
    redacted.step("bu", "publish", "2026-07-09", "published_on=2026-07-09", "url=https://e.org/a2")
    # U-1 not published, with reasons; U-2 improvements only, decided, not yet scheduled.
    unpublished = case("U-1")
    _final_signoff(
        unpublished, "not_published", "2026-06-17", "reasons=the family would be identified"
    )
    unpublished.step(
        "chair",
        "record_not_published",
        "2026-06-22",
        "panel_informed_on=2026-06-22",
        rationale="signed off",
    )
    improvements = case("U-2")
    _final_signoff(
        improvements, "improvements_only", "2026-06-17", "reasons=the report names staff"
    )
    # H-1: a revised target of 31 Oct, then held for a trial from 16 Mar to the end.
    held = case("H-1")
    held.to_in_progress()
    held.step(
        "chair",
        "revise_publication_target",
        "2026-03-12",
        "revised_target_on=2026-10-31",
        "reason=trial",
    )
    held.step(
        "chair",
        "hold",
        "2026-03-16",
        "review_by=2026-12-15",
        "hold_reason=criminal_proceedings",
        rationale="trial",
    )
    # National reviews: S-1 merged (the Secretary of State's; its report out 26 May),
    # S-2 before any local review, S-3 alongside the local review, S-4 superseding it.
    merged = case("S-1")
    merged.to_in_progress()
    merged.step(
        "chair",
        "panel_commissions_national_review",
        "2026-04-06",
        "commissioned_by=secretary_of_state",
        "local_review_outcome=merged",
        rationale="folded into the national review",
    )
    merged.step(
        "bu",
        "record_national_report",
        "2026-06-01",
        "published_on=2026-05-26",
        "url=https://example.org/national",
    )
    national = case("S-2")
    national.to_awaiting_panel()
    national.step(
        "chair",
        "panel_commissions_national_review",
        "2026-03-02",
        "commissioned_by=panel",
        "local_review_outcome=not_started",
        rationale="national",
    )
    alongside = case("S-3")
    alongside.to_in_progress()
    alongside.step(
        "chair",
        "record_national_review_alongside",
        "2026-04-10",
        "commissioned_by=panel",
        rationale="the local review goes on",
    )
    superseded = case("S-4")
    superseded.to_in_progress()
    superseded.step(
        "chair",
        "panel_commissions_national_review",
        "2026-05-01",
        "commissioned_by=panel",
        "local_review_outcome=superseded",
        rationale="superseded",
    )


V2_FIGURES = {
    # 12 cases to the Panel (on time), F-1 on time by its fact date, F-2 late.
    "notifications.made": 14,
    "notifications.on_time": 13,
    "notifications.late": 1,
    "notifications.pending_at_end": 0,
    "notifications.only": 2,  # L-1, L-2
    "notifications.only_on_time": 1,  # L-1 (L-2 sent 13 Mar, due 9 Mar)
    "notifications.only_escalated": 1,  # L-1
    # P-1, A-1, A-2, U-1, U-2, H-1, S-1, S-3, S-4; never N-1 or N-2.
    "decisions.local_review": 9,
    "decisions.national_review": 3,  # S-1, S-2, S-4 (S-3's runs alongside)
    "panel.responses": 4,  # P-1 twice, P-2, P-3
    "panel.disputed": 3,  # P-1 and P-3 disagreed, P-2 requested an LCSPR
    "panel.maintained": 2,  # P-1, P-3
    "panel.maintained_signed": 1,  # P-1, by all three on 11 Mar (P-3: the LA only)
    "panel.reconsidered": 1,  # P-2
    "local_reviews.commissioned": 9,
    # P-1, U-2, H-1, S-3 (A-1 and A-2 published, U-1 not published, S-1 and S-4 ended).
    "local_reviews.in_progress_at_end": 4,
    "local_reviews.on_hold_at_end": 1,  # H-1
    # All but H-1 are past 23 Aug; H-1 paused on 16 Mar with 160 days left.
    "local_reviews.overdue_at_end": 3,
    "local_reviews.elapsed_at_end": 4,  # all four commissioned 23 Feb: 6 months on 23 Aug
    "local_reviews.held_in_period": 1,
    "local_reviews.hold_days": 260,  # 16 Mar to 30 Nov, both included
    "local_reviews.published": 2,  # A-1 by the override, A-2
    "local_reviews.published_within_expectation": 2,
    "local_reviews.published_within_elapsed": 2,  # 3 and 9 Jul, before 23 Aug
    "local_reviews.revised_target": 2,  # A-2 (published), H-1 (in progress)
    "local_reviews.published_within_revised_target": 1,  # 9 Jul, by 30 Sep
    "local_reviews.past_revised_target": 1,  # H-1: 31 Oct passed on 30 Nov
    "publication.decided": 4,
    "publication.full": 1,
    "publication.redacted": 1,
    "publication.improvements_only": 1,  # U-2
    "publication.not_published": 1,  # U-1
    "publication.not_published_with_reasons": 1,
    "publication.despite_short_notice": 1,
    "national_reviews.commissioned": 4,
    "national_reviews.by_panel": 3,
    "national_reviews.by_secretary_of_state": 1,  # S-1
    "national_reviews.local_continued": 1,  # S-3
    "national_reviews.local_superseded": 1,  # S-4
    "national_reviews.local_merged": 1,  # S-1
    "national_reviews.local_not_started": 1,  # S-2
    "national_reviews.reported": 1,  # S-1
    "local_learning.started": 2,  # N-1, N-2
    "local_learning.completed": 1,  # N-1
    "local_learning.completed_on_time": 1,
    "local_learning.open_at_end": 1,  # N-2
    "local_learning.overdue_at_end": 1,  # due 24 Apr
}


def _cases(figures: dict, figure_id: str) -> list[str]:
    return [c["ref"] for c in figures[figure_id]["cases"]]


def test_version_2s_own_figures_by_hand_in_every_format(db, cli, as_user, monkeypatch):
    _seed_v2(cli, db, as_user)
    as_user("root")
    result = cli("report", "--db", db, *PERIOD, "--format", "json", "--detail")
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)["figures"]
    assert {k: figures[k]["value"] for k in V2_FIGURES} == V2_FIGURES
    # The cases behind them, and the dates that put them there.
    assert _cases(figures, "notifications.late") == ["F-2"]
    [f1] = [c for c in figures["notifications.on_time"]["cases"] if c["ref"] == "F-1"]
    assert (f1["notified_on"], f1["due_on"], f1["working_days_late"]) == (
        "2026-03-06",
        "2026-03-09",
        0,
    )
    only = {c["ref"]: c for c in figures["notifications.only"]["cases"]}
    assert only["L-1"]["category"] == "looked_after_child_death"
    assert only["L-1"]["escalated_on"] == "2026-03-20"
    assert (only["L-2"]["notified_on"], only["L-2"]["working_days_late"]) == ("2026-03-13", 4)
    assert [(c["ref"], c["then"]) for c in figures["panel.disputed"]["cases"]] == [
        ("P-1", "maintained"),
        ("P-2", "reconsidered"),
        ("P-3", "maintained"),
    ]
    assert [
        (c["ref"], c["maintained_on"], c["panel_position"], c["signed_off_on"])
        for c in figures["panel.maintained"]["cases"]
    ] == [
        ("P-1", "2026-03-10", "disagreed", "2026-03-11"),
        ("P-3", "2026-03-04", "disagreed", None),
    ]
    assert _cases(figures, "local_reviews.overdue_at_end") == ["P-1", "S-3", "U-2"]
    [h1] = [c for c in figures["local_reviews.elapsed_at_end"]["cases"] if c["ref"] == "H-1"]
    # Held 16 Mar with 160 days of its 6 months left: due 160 days after 30 Nov if the
    # hold ended then; the 6 months as first set ended on 23 Aug.
    assert (h1["elapsed_due_on"], h1["due_on"], h1["days_overdue"]) == (
        "2026-08-23",
        "2027-05-09",
        0,
    )
    published = {c["ref"]: c for c in figures["local_reviews.published"]["cases"]}
    assert published["A-1"]["elapsed_due_on"] == "2026-08-23"
    assert published["A-1"]["published_on"] == "2026-07-03"
    revised = {c["ref"]: c for c in figures["local_reviews.revised_target"]["cases"]}
    assert revised["A-2"]["revised_target_on"] == "2026-09-30"
    assert revised["H-1"]["within_revised_target"] is False
    assert [
        (c["ref"], c["form"], c["group"], c["reasons_given"])
        for c in figures["publication.decided"]["cases"]
    ] == [
        ("A-1", "full_report", "full", False),
        ("A-2", "redacted_report", "redacted", True),
        ("U-1", "not_published", "not_published", True),
        ("U-2", "improvements_only", "improvements_only", True),
    ]
    [breach] = figures["publication.despite_short_notice"]["cases"]
    assert (breach["ref"], breach["trigger"], breach["overrides"]) == (
        "A-1",
        "publish_despite_short_notice",
        "publish",
    )
    assert [
        (c["ref"], c["commissioned_by"], c["local_review"])
        for c in figures["national_reviews.commissioned"]["cases"]
    ] == [
        ("S-1", "secretary_of_state", "merged"),
        ("S-2", "panel", "not_started"),
        ("S-3", "panel", "continued"),
        ("S-4", "panel", "superseded"),
    ]
    assert figures["national_reviews.reported"]["cases"][0]["reported_on"] == "2026-05-26"
    assert [(c["ref"], c["due_on"]) for c in figures["local_learning.open_at_end"]["cases"]] == [
        ("N-2", "2026-04-24")
    ]

    # CSV: one figure row per figure, with the same values.
    out = cli("report", "--db", db, *PERIOD, "--format", "csv")
    assert out.exit_code == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout.lstrip("\ufeff"))))
    from_csv = {r["figure"]: r["value"] for r in rows if r["record"] == "figure"}
    assert {k: from_csv[k] for k in V2_FIGURES} == {k: str(v) for k, v in V2_FIGURES.items()}
    assert {r["section"] for r in rows if r["figure"].startswith("publication.")} == {"publication"}

    # Markdown, HTML and the terminal table: each new section under its heading, with
    # its figures' values and shares.
    md = cli("report", "--db", db, *PERIOD, "--format", "md").stdout
    for heading in (
        "## Publication decisions",
        "## National reviews",
        "## Local reviews of incidents not notified",
    ):
        assert heading in md
    md_rows = dict(
        line.strip("|").rsplit("|", 1) for line in md.splitlines() if line.startswith("| ")
    )
    values = {label.strip(): value.strip() for label, value in md_rows.items()}
    assert values[r"Publication decisions taken"] == "4"
    assert values[r"… not published"] == "1 of 4 (25%)"
    assert values[r"… by the Secretary of State"] == "1 of 4 (25%)"
    assert values[r"Local reviews under way at period end"] == "1"
    html = cli("report", "--db", db, *PERIOD, "--format", "html").stdout
    for figure_id in V2_FIGURES:
        assert f'<tr id="{figure_id}">' in html
    assert '<section class="figures" id="section-national_reviews">' in html
    assert (
        '<tr id="publication.despite_short_notice"><td>Published despite a failed '
        'advance-copy check (the chair&#x27;s override)</td><td class="num">1</td>'
        "<td>of 2 (50%)</td></tr>"
    ) in html
    table = cli("report", "--db", db, *PERIOD, "--format", "table").stdout
    assert "national_reviews.local_merged" in table
    assert "publication.not_published_with_reasons" in table

    # The events the report leaves out change none of these figures: replaying every
    # event up to the period end gives the same.
    def keep_all(self, events, until):
        return [row for row in events if dt.date.fromisoformat(str(row["occurred_on"])) <= until]

    monkeypatch.setattr(ReplayedEvents, "needed", keep_all)
    again = cli("report", "--db", db, *PERIOD, "--format", "json", "--detail")
    assert json.loads(again.stdout)["figures"] == figures


def test_a_case_whose_decision_was_maintained_keeps_its_sign_offs_for_the_report():
    definition = Registry.from_environment().get("england-lcspr", 2)
    events = ReplayedEvents(definition, clocks.rules_for(definition))
    assert "sign_off" in events.inert_triggers

    def row(trigger: str, day: str, **fields: str) -> dict:
        return {"trigger": trigger, "occurred_on": day, "fields": json.dumps(fields)}

    signed = [row("open", "2026-03-01"), row("sign_off", "2026-03-02", agency="police")]
    assert len(events.needed(signed, dt.date(2026, 12, 31))) == 1
    maintained = [signed[0], row("maintain_decision", "2026-03-02"), signed[1]]
    assert len(events.needed(maintained, dt.date(2026, 12, 31))) == 3
