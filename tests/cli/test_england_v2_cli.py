"""Version 2 of the England workflow (`workflows/england-lcspr.toml`) through the command
line: the paths real cases take that version 1 refused or recorded falsely (issue #15's
scenarios), with the engine's general features the file uses: sign-off rounds opened by
a decision, checks against fact dates, parallel processes, clocks that stop when all of
several things have happened, linked cases and the action plan."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SettableToday, enrol_keys, run_sql

V2 = "england-lcspr@2"
PARTNERS = (("la", "local_authority"), ("police", "police"), ("icb", "icb"))


@pytest.fixture
def today(monkeypatch):
    """Today is settable: `today.set("2026-03-13")`."""
    return SettableToday(monkeypatch, "2026-12-01")


@pytest.fixture
def db(database_url, cli, as_user, today):
    assert cli("init", "--db", database_url).exit_code == 0
    users = [("bu", "business_unit", None), ("chair", "chair", None)]
    users += [(name, "partner", agency) for name, agency in PARTNERS]
    for name, role, agency in users:
        args = ["user", "add", name, "--name", name, "--role", role]
        args += ["--agency", agency] if agency else []
        result = cli(*args, "--db", database_url)
        assert result.exit_code == 0, result.stderr
    enrol_keys(database_url, *(name for name, _role, _agency in users), admin="root")
    return database_url


class Case:
    """One case's steps, each as the person who takes it."""

    def __init__(self, cli, db: str, as_user, ref: str) -> None:
        self.cli, self.db, self.as_user, self.ref = cli, db, as_user, ref

    def open(self, aware_on: str, *extra: str) -> None:
        self.as_user("bu")
        result = self.cli(
            "case",
            "open",
            self.ref,
            "--aware-on",
            aware_on,
            "--on",
            aware_on,
            "--workflow",
            V2,
            *extra,
            "--db",
            self.db,
        )
        assert result.exit_code == 0, result.stderr

    def try_step(self, who: str, trigger: str, on: str, *fields: str, rationale: str = ""):
        self.as_user(who)
        args = ["case", "advance", self.ref, trigger, "--on", on]
        for item in fields:
            args += ["--set", item]
        if rationale:
            args += ["--rationale", rationale]
        return self.cli(*args, "--db", self.db)

    def step(self, who: str, trigger: str, on: str, *fields: str, rationale: str = "") -> None:
        result = self.try_step(who, trigger, on, *fields, rationale=rationale)
        assert result.exit_code == 0, f"{trigger}: {result.stderr}"

    def sign(self, on: str) -> None:
        for name, agency in PARTNERS:
            self.step(name, "sign_off", on, f"agency={agency}")

    def show(self) -> dict:
        self.as_user("root")
        result = self.cli("case", "show", self.ref, "--json", "--db", self.db)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    def clock(self, clock_id: str) -> dict:
        return next(c for c in self.show()["clocks"] if c["clock_id"] == clock_id)

    def to_awaiting_panel(self, recommendation: str = "lcspr") -> None:
        """Notified 2 Feb, rapid review signed off and submitted 20 Feb."""
        self.open("2026-02-02")
        self.step("bu", "notify", "2026-02-03", "sin_reference=SIN-1")
        self.step(
            "chair",
            "propose_decision",
            "2026-02-16",
            f"recommendation={recommendation}",
            rationale="criteria met",
        )
        self.sign("2026-02-18")
        self.step("bu", "submit_rapid_review", "2026-02-20")

    def to_in_progress(self) -> None:
        self.to_awaiting_panel()
        self.step("chair", "commission_lcspr", "2026-02-23", rationale="partners decided")
        self.step(
            "chair",
            "appoint_reviewer",
            "2026-03-02",
            "reviewer=A. Reviewer",
            "scope_from=2025-01-01",
            "scope_to=2026-01-31",
        )


def verified(cli, db: str, as_user) -> None:
    as_user("root")
    result = cli("audit", "verify", "--db", db)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_without_a_default_set_new_cases_open_on_version_2(db, cli, as_user, monkeypatch):
    monkeypatch.delenv("CASEREVIEW_DEFAULT_WORKFLOW", raising=False)
    as_user("bu")
    opened = cli("case", "open", "N-1", "--aware-on", "2026-02-02", "--db", db)
    assert opened.exit_code == 0, opened.stderr
    older = cli(
        "case",
        "open",
        "O-1",
        "--aware-on",
        "2026-02-02",
        "--workflow",
        "england-lcspr@1",
        "--db",
        db,
    )
    assert older.exit_code == 0, older.stderr
    as_user("root")
    shown = {
        ref: json.loads(cli("case", "show", ref, "--json", "--db", db).stdout)
        for ref in ("N-1", "O-1")
    }
    assert (shown["N-1"]["workflow"], shown["N-1"]["workflow_version"]) == ("england-lcspr", 2)
    assert shown["O-1"]["workflow_version"] == 1


def test_a_notification_keyed_in_late_whose_notified_on_was_on_time_is_on_time(
    db, cli, as_user, today
):
    case = Case(cli, db, as_user, "F-1")
    case.open("2026-03-02")  # due 2026-03-09
    case.step("bu", "notify", "2026-03-16", "sin_reference=SIN-1", "notified_on=2026-03-06")
    notification = case.clock("notification")
    assert (notification["stopped_on"], notification["status"]) == ("2026-03-06", "met")
    rapid = case.clock("rapid_review")
    assert rapid["started_on"] == rapid["anchor_on"] == "2026-03-06"
    verified(cli, db, as_user)


def test_commissioning_before_the_panel_replies_then_disagreement_and_maintaining(db, cli, as_user):
    case = Case(cli, db, as_user, "P-1")
    case.to_awaiting_panel()
    case.step("chair", "commission_lcspr", "2026-02-23", rationale="partners decided")
    shown = case.show()
    assert shown["state"] == "lcspr_commissioning"
    publication = case.clock("lcspr_publication")
    assert (publication["started_on"], publication["due_on"]) == ("2026-02-23", "2026-08-23")
    assert case.clock("panel_response")["state"] == "running"  # not stopped by commissioning
    case.step(
        "bu",
        "record_panel_response",
        "2026-03-06",
        "panel_position=agreed_with_comments",
        "responded_on=2026-03-05",
    )
    response = case.clock("panel_response")
    assert (response["stopped_on"], response["status"]) == ("2026-03-05", "met")
    assert case.show()["state"] == "lcspr_commissioning"
    # The Panel's later response disputes the LCSPR: the partners maintain their
    # decision, and the review goes on only once all three have signed that again.
    case.step(
        "bu",
        "record_panel_response",
        "2026-03-09",
        "panel_position=disagreed",
        "responded_on=2026-03-09",
    )
    case.step("chair", "maintain_decision", "2026-03-10", rationale="the review is needed")
    rounds = {r["round"]: r for r in case.show()["rounds"]}
    assert rounds["maintained_decision"]["waiting_for"] == ["local_authority", "police", "icb"]
    assert rounds["maintained_decision"]["opened_by"] == "maintain_decision"
    appoint = (
        "appoint_reviewer",
        "2026-03-11",
        "reviewer=A. Reviewer",
        "scope_from=2025-01-01",
        "scope_to=2026-01-31",
    )
    waiting = case.try_step("chair", *appoint)
    assert waiting.exit_code == 4
    assert "Maintained decision sign-off is not complete" in waiting.stderr
    case.sign("2026-03-11")
    case.step("chair", *appoint)
    assert case.show()["state"] == "lcspr_in_progress"
    # The 6-month clock started when the partners commissioned the review, not later.
    assert case.clock("lcspr_publication")["started_on"] == "2026-02-23"

    # A no-LCSPR decision the Panel disputes: maintained by the partners.
    other = Case(cli, db, as_user, "P-2")
    other.to_awaiting_panel("no_lcspr")
    early = other.try_step("chair", "maintain_decision", "2026-02-24", rationale="r")
    assert early.exit_code == 4, early.stderr  # only after a disputed response
    refused = other.try_step("chair", "commission_lcspr", "2026-02-24", rationale="r")
    assert refused.exit_code == 4  # the signed-off recommendation is not an LCSPR
    other.step(
        "bu",
        "record_panel_response",
        "2026-03-02",
        "panel_position=disagreed",
        "responded_on=2026-03-02",
    )
    other.step("chair", "maintain_decision", "2026-03-04", rationale="learning is local")
    assert other.show()["state"] == "awaiting_panel"
    unsigned = other.try_step(
        "chair",
        "record_other_learning",
        "2026-03-05",
        "learning_activity=multi-agency learning event",
        rationale="as decided",
    )
    assert unsigned.exit_code == 4, unsigned.stderr
    other.sign("2026-03-05")
    twice = other.try_step("la", "sign_off", "2026-03-05", "agency=local_authority")
    assert twice.exit_code == 4  # each agency signs a round once
    other.step(
        "chair",
        "record_other_learning",
        "2026-03-05",
        "learning_activity=multi-agency learning event",
        rationale="as decided",
    )
    assert other.show()["state"] == "other_learning"
    verified(cli, db, as_user)


def test_a_review_held_for_a_trial_while_in_progress_pauses_the_six_months(db, cli, as_user):
    case = Case(cli, db, as_user, "H-1")
    case.to_in_progress()
    assert case.clock("lcspr_publication")["due_on"] == "2026-08-23"
    case.step(
        "chair",
        "register_parallel_process",
        "2026-03-10",
        "process_type=criminal_proceedings",
        "reference=T20267001",
        "lead_agency=CPS",
        "trial_on=2026-05-11",
    )
    assert [p["number"] for p in case.show()["processes"]] == ["1"]
    unknown = case.try_step(
        "chair",
        "hold",
        "2026-03-16",
        "review_by=2026-04-30",
        "parallel_process=2",
        rationale="trial listed for May",
    )
    assert unknown.exit_code == 4
    assert "no parallel process '2'" in unknown.stderr
    neither = case.try_step("chair", "hold", "2026-03-16", "review_by=2026-04-30", rationale="r")
    assert neither.exit_code == 4
    assert "hold_reason" in neither.stderr and "parallel_process" in neither.stderr
    # The registered trial is reason enough: no hold_reason is needed.
    case.step(
        "chair",
        "hold",
        "2026-03-16",
        "review_by=2026-04-30",
        "parallel_process=1",
        rationale="trial listed for May",
    )
    shown = case.show()
    assert shown["state"] == "lcspr_in_progress"
    assert shown["hold"]["fields"] == {"parallel_process": "1"}
    assert case.clock("lcspr_publication")["state"] == "paused"
    refused = case.try_step("bu", "receive_draft", "2026-03-20")
    assert refused.exit_code == 4
    assert "is held" in refused.stderr
    case.step("chair", "record_progress_check", "2026-04-01", "note=author waiting")
    case.step("chair", "lift_hold", "2026-05-18", rationale="verdict given 15 May")
    publication = case.clock("lcspr_publication")
    assert publication["state"] == "running"
    # Held 16 Mar to 18 May (63 days): the due date moves on by the time held.
    assert publication["due_on"] > "2026-08-23"
    case.step("bu", "receive_draft", "2026-06-01")
    assert case.show()["state"] == "draft_review"
    verified(cli, db, as_user)


def test_a_local_review_under_way_is_merged_into_a_national_review(db, cli, as_user):
    case = Case(cli, db, as_user, "S-1")
    case.to_in_progress()
    case.step(
        "chair",
        "panel_commissions_national_review",
        "2026-04-06",
        "commissioned_by=secretary_of_state",
        "local_review_outcome=merged",
        rationale="folded into the national review, as Star Hobson's was",
    )
    shown = case.show()
    assert shown["state"] == "national_review"
    assert shown["fields"]["local_review_outcome"] == "merged"
    publication = case.clock("lcspr_publication")
    assert (publication["state"], publication["stopped_on"]) == ("stopped", "2026-04-06")
    case.step(
        "bu",
        "record_national_report",
        "2026-06-01",
        "published_on=2026-05-26",
        "url=https://example.org/national",
    )
    assert case.show()["fields"]["published_on"] == "2026-05-26"
    # The national report's local recommendations reach the action plan; it is approved
    # only with a recommendation that has an action, and the case is not closed while
    # the action is open unless the chair overrides.
    bare = case.try_step("chair", "approve_action_plan", "2026-06-10", rationale="plan")
    assert bare.exit_code == 4, bare.stderr
    as_user("chair")
    plan = [
        ("rec", "add", "S-1", "1", "--text", "Share referrals the same day"),
        ("--source", "National review of Arthur and Star", "--agency", "local_authority"),
        ("action", "add", "S-1", "1.1", "--rec", "1", "--text", "Same-day referral protocol"),
        ("--agency", "local_authority", "--owner", "Head of service", "--due", "2026-12-31"),
    ]
    for first, second in zip(plan[::2], plan[1::2], strict=True):
        result = cli(*first, *second, "--on", "2026-06-08", "--db", db)
        assert result.exit_code == 0, result.stderr
    case.step("chair", "approve_action_plan", "2026-06-10", rationale="local actions")
    assert case.show()["state"] == "action_monitoring"
    held = case.try_step("chair", "close", "2026-06-20", rationale="done")
    assert held.exit_code == 4
    assert "1.1" in held.stderr
    as_user("chair")
    override = cli(
        "action", "override", "S-1", "close", "--rationale", "carried into the business plan",
        "--on", "2026-06-20", "--db", db,
    )  # fmt: skip
    assert override.exit_code == 0, override.stderr
    case.step("chair", "close", "2026-06-20", rationale="the plan is carried forward")
    assert case.show()["state"] == "closed"

    verified(cli, db, as_user)


def test_a_looked_after_childs_death_notified_only_then_escalated(db, cli, as_user):
    case = Case(cli, db, as_user, "L-1")
    case.open("2026-03-02", "--set", "looked_after=true")
    refused = case.try_step("bu", "notify_only", "2026-03-04", "category=other")
    assert refused.exit_code != 0
    case.step("bu", "notify_only", "2026-03-04", "category=looked_after_child_death")
    assert case.show()["state"] == "notification_only"
    assert case.clock("notification")["status"] == "met"
    assert "rapid_review" not in {c["clock_id"] for c in case.show()["clocks"]}
    case.step("chair", "escalate_to_rapid_review", "2026-03-20", rationale="neglect now suspected")
    rapid = case.clock("rapid_review")
    assert (rapid["started_on"], rapid["due_on"]) == ("2026-03-20", "2026-04-14")
    assert case.show()["state"] == "rapid_review"
    verified(cli, db, as_user)


def test_a_non_notified_incident_with_a_local_review(db, cli, as_user):
    case = Case(cli, db, as_user, "N-1")
    case.open("2026-03-02")
    case.step(
        "chair",
        "start_local_review",
        "2026-03-04",
        "review_type=learning_review",
        rationale="not notifiable; local learning",
    )
    assert case.clock("notification")["state"] == "stopped"
    assert case.clock("local_review")["due_on"] == "2026-03-25"
    case.step(
        "chair",
        "complete_local_review",
        "2026-03-20",
        "learning_activity=practitioner event",
        rationale="learning found",
    )
    assert case.show()["state"] == "other_learning"
    verified(cli, db, as_user)


def test_not_published_with_reasons_after_the_partners_sign_the_decision(db, cli, as_user):
    case = Case(cli, db, as_user, "U-1")
    case.to_in_progress()
    case.step("bu", "receive_draft", "2026-06-01")
    case.step("chair", "accept_final", "2026-06-15")
    case.sign("2026-06-16")  # before a decision: the decision opens the round again
    case.step(
        "chair",
        "decide_publication",
        "2026-06-17",
        "publication_form=not_published",
        "reasons=the family would be identified",
        rationale="welfare of the siblings",
    )
    early = case.try_step(
        "chair", "record_not_published", "2026-06-18", "panel_informed_on=2026-06-18", rationale="r"
    )
    assert early.exit_code == 4  # the partners have not signed this decision
    scheduling = case.try_step(
        "bu", "schedule_publication", "2026-06-18", "planned_publication_on=2026-07-20"
    )
    assert scheduling.exit_code == 4
    case.sign("2026-06-19")
    case.step(
        "chair",
        "record_not_published",
        "2026-06-22",
        "panel_informed_on=2026-06-22",
        rationale="signed off by all three partners",
    )
    shown = case.show()
    assert shown["state"] == "action_monitoring"
    assert shown["fields"]["publication_form"] == "not_published"
    assert case.clock("lcspr_publication")["stopped_on"] == "2026-06-22"
    verified(cli, db, as_user)


def test_publication_with_advance_copies_and_the_chairs_override(db, cli, as_user):
    case = Case(cli, db, as_user, "A-1")
    case.to_in_progress()
    case.step("bu", "receive_draft", "2026-06-01")
    case.step("chair", "accept_final", "2026-06-15")
    case.step(
        "chair",
        "decide_publication",
        "2026-06-16",
        "publication_form=full_report",
        rationale="publish in full",
    )
    case.sign("2026-06-17")
    case.step("bu", "schedule_publication", "2026-06-18", "planned_publication_on=2026-07-06")
    unsent = case.try_step("bu", "publish", "2026-07-06", "url=https://example.org/r")
    assert unsent.exit_code == 4  # no advance copy has gone
    assert "secretary_of_state: no sent_on recorded" in unsent.stderr
    for recipient in ("panel", "ofsted", "secretary_of_state"):
        case.step(
            "bu",
            "send_advance_copy",
            "2026-07-02",
            f"recipient={recipient}",
            "sent_on=2026-07-01",
            "content=full_report",
        )
        copy = case.clock("advance_copy")
        if recipient != "secretary_of_state":  # it waits for both statutory recipients
            assert copy["state"] == "running", recipient
    # Stopped on the later of the two statutory copies' sent_on, after its due date.
    assert (copy["stopped_on"], copy["due_on"], copy["status"]) == (
        "2026-07-01",
        "2026-06-25",
        "missed",
    )
    # Published 2 working days after the copies: refused, naming the last good day...
    short = case.try_step(
        "bu", "publish", "2026-07-03", "published_on=2026-07-03", "url=https://example.org/r"
    )
    assert short.exit_code == 4
    assert "sent_on must be on or before 2026-06-24" in short.stderr
    assert "publish_despite_short_notice" in short.stderr
    # ... then recorded as a breach with the chair's override and reasons.
    case.step(
        "chair",
        "publish_despite_short_notice",
        "2026-07-03",
        "published_on=2026-07-03",
        "url=https://example.org/r",
        rationale="court order lifted; 2 working days' notice",
    )
    shown = case.show()
    assert shown["state"] == "published"
    assert case.clock("lcspr_publication")["stopped_on"] == "2026-07-03"
    rows = run_sql(db, "SELECT trigger FROM events WHERE trigger = 'publish_despite_short_notice'")
    assert len(rows) == 1
    breaches = shown["breaches"]
    assert [(b["trigger"], b["overrides"], b["on"]) for b in breaches] == [
        ("publish_despite_short_notice", "publish", "2026-07-03")
    ]
    verified(cli, db, as_user)


def test_publication_after_seven_working_days_notice_needs_no_override(db, cli, as_user):
    case = Case(cli, db, as_user, "A-2")
    case.to_in_progress()
    case.step("bu", "receive_draft", "2026-06-01")
    case.step("chair", "accept_final", "2026-06-15")
    case.step(
        "chair",
        "decide_publication",
        "2026-06-16",
        "publication_form=redacted_report",
        "reasons=a sibling would be identified",
        rationale="publish redacted",
    )
    case.sign("2026-06-17")
    case.step("bu", "schedule_publication", "2026-06-18", "planned_publication_on=2026-07-13")
    for recipient in ("secretary_of_state", "panel"):
        case.step(
            "bu",
            "send_advance_copy",
            "2026-06-30",
            f"recipient={recipient}",
            "sent_on=2026-06-29",
            "content=full_report",
        )
    copy = case.clock("advance_copy")
    assert (copy["stopped_on"], copy["status"]) == ("2026-06-29", "met")
    # 29 Jun is the 8th working day before 9 Jul: published on time, in the plan's week.
    case.step("bu", "publish", "2026-07-09", "published_on=2026-07-09", "url=https://e.org/r")
    shown = case.show()
    assert shown["state"] == "published"
    assert shown["breaches"] == []
    override = case.try_step(
        "chair",
        "publish_despite_short_notice",
        "2026-07-09",
        "published_on=2026-07-09",
        "url=https://e.org/r",
        rationale="r",
    )
    assert override.exit_code == 4  # nothing left to override: the case is published
    verified(cli, db, as_user)


def test_a_sibling_review_recorded_once_on_the_lead_case_moves_both_children(db, cli, as_user):
    lead, sibling, other = (Case(cli, db, as_user, ref) for ref in ("SIB-1", "SIB-2", "SIB-3"))
    # Each child has its own notification and rapid review (and their clocks).
    lead.to_awaiting_panel()
    sibling.open("2026-02-03")
    sibling.step("bu", "notify", "2026-02-05", "sin_reference=SIN-2")
    sibling.step(
        "chair",
        "propose_decision",
        "2026-02-16",
        "recommendation=lcspr",
        rationale="criteria met",
    )
    sibling.sign("2026-02-18")
    sibling.step("bu", "submit_rapid_review", "2026-02-20")
    other.open("2026-02-04")  # a third child, still being screened
    as_user("bu")
    for ref, relation in (("SIB-2", "sibling"), ("SIB-3", "same_household")):
        linked = cli(
            "case", "link", "SIB-1", ref, "--relation", relation, "--on", "2026-02-20",
            "--rationale", "one review of the siblings", "--db", db,
        )  # fmt: skip
        assert linked.exit_code == 0, linked.stderr
    # Commissioning the review on the lead commissions it for the sibling too.
    as_user("chair")
    commissioned = cli(
        "case", "advance", "SIB-1", "commission_lcspr", "--on", "2026-02-23",
        "--rationale", "one review of both children", "--db", db,
    )  # fmt: skip
    assert commissioned.exit_code == 0, commissioned.stderr
    assert "and on linked case SIB-2" in commissioned.stderr
    assert "SIB-3" not in commissioned.stderr  # same household: not a relation that follows
    assert sibling.show()["state"] == "lcspr_commissioning"
    assert sibling.clock("lcspr_publication")["started_on"] == "2026-02-23"
    assert other.show()["state"] == "screening"
    # Its own clocks stay its own: the sibling's notification was due from its awareness.
    assert sibling.clock("notification")["stopped_on"] == "2026-02-05"
    assert sibling.clock("rapid_review")["started_on"] == "2026-02-05"
    lead.step(
        "chair",
        "appoint_reviewer",
        "2026-03-02",
        "reviewer=A. Reviewer",
        "scope_from=2025-01-01",
        "scope_to=2026-01-31",
    )
    lead.step("bu", "receive_draft", "2026-06-01")
    lead.step("chair", "accept_final", "2026-06-15")
    lead.step(
        "chair",
        "decide_publication",
        "2026-06-16",
        "publication_form=not_published",
        "reasons=the children would be identified",
        rationale="welfare of the children",
    )
    lead.sign("2026-06-17")  # the partners sign the one report, for both cases
    lead.step(
        "chair",
        "record_not_published",
        "2026-06-22",
        "panel_informed_on=2026-06-22",
        rationale="signed off by all three partners",
    )
    shown = sibling.show()
    assert shown["state"] == "action_monitoring"
    assert shown["fields"]["publication_form"] == "not_published"
    assert sibling.clock("lcspr_publication")["stopped_on"] == "2026-06-22"
    # Both cases show the link; the sibling's steps say which case they came with.
    assert [(lk["other"], lk["relation"]) for lk in lead.show()["links"]] == [
        ("SIB-2", "sibling"),
        ("SIB-3", "same_household"),
    ]
    assert [lk["other"] for lk in shown["linked_from"]] == ["SIB-1"]
    rationales = run_sql(
        db,
        "SELECT e.rationale FROM events e JOIN cases c ON c.id = e.case_id "
        "WHERE c.ref = 'SIB-2' AND e.trigger = 'commission_lcspr'",
    )
    assert rationales[0][0].startswith("With case SIB-1 (event ")
    verified(cli, db, as_user)


def test_a_linked_case_that_cannot_take_the_step_refuses_it_for_both(db, cli, as_user):
    lead, sibling = Case(cli, db, as_user, "SIB-4"), Case(cli, db, as_user, "SIB-5")
    lead.to_awaiting_panel()
    sibling.open("2026-02-03")
    sibling.step("bu", "notify", "2026-02-05", "sin_reference=SIN-5")
    sibling.step(
        "chair",
        "propose_decision",
        "2026-02-16",
        "recommendation=no_lcspr",
        rationale="criteria not met for this child",
    )
    sibling.sign("2026-02-18")
    sibling.step("bu", "submit_rapid_review", "2026-02-20")
    as_user("chair")
    linked = cli(
        "case", "link", "SIB-4", "SIB-5", "--relation", "thematic_review", "--on", "2026-02-20",
        "--rationale", "thematic review", "--db", db,
    )  # fmt: skip
    assert linked.exit_code == 0, linked.stderr
    events = run_sql(db, "SELECT COUNT(*) FROM events")
    refused = lead.try_step("chair", "commission_lcspr", "2026-02-23", rationale="review")
    assert refused.exit_code == 4
    assert "linked case SIB-5 takes commission_lcspr with case SIB-4, but:" in refused.stderr
    assert "recommendation must be 'lcspr'" in refused.stderr
    assert run_sql(db, "SELECT COUNT(*) FROM events") == events  # nothing written
    assert lead.show()["state"] == "awaiting_panel"
