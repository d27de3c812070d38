"""The Safeguarding Adults Review, Domestic Homicide Review and Wales's Single Unified
Safeguarding Review run on the engine as data: each is driven through the command line
from opening to closure along its main path and its main alternative, and its own rules
(the s44 duty, the Home Office's part, the Welsh Government's notice) hold.

All dates fall in the 2025-26 financial year, so `report --year 2025-26` counts them.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import enrol_keys

YEAR = ("--year", "2025-26")

USERS = (
    ("bu", ("business_unit",), None),
    ("subgroup", ("sar_subgroup",), None),
    ("sabchair", ("sab_chair",), None),
    ("cspchair", ("csp_chair",), None),
    ("panelchair", ("review_chair",), None),
    ("crg", ("crg_chair",), None),
    ("boardchair", ("board_chair",), None),
    ("la", ("partner",), "local_authority"),
    ("police", ("partner",), "police"),
    ("icb", ("partner",), "icb"),
    ("probation", ("partner",), "probation"),
    ("fire", ("partner",), "fire_rescue"),
    ("lhb", ("partner",), "health_board"),
)


class Desk:
    """One database and the people who record in it, through the CLI."""

    def __init__(self, cli, as_user, db: str) -> None:
        self.cli, self.as_user, self.db = cli, as_user, db

    def open(self, ref: str, workflow: str, on: str, pseudonym: str) -> dict:
        self.as_user("bu")
        result = self.cli(
            "case", "open", ref, "--workflow", workflow, "--aware-on", on, "--on", on,
            "--pseudonym", pseudonym, "--db", self.db, "--json",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    def attempt(self, who: str, ref: str, trigger: str, on: str, *sets: str, why: str = ""):
        self.as_user(who)
        args = ["case", "advance", ref, trigger, "--on", on, "--db", self.db, "--json"]
        for item in sets:
            args += ["--set", item]
        if why:
            args += ["--rationale", why]
        return self.cli(*args)

    def step(self, who: str, ref: str, trigger: str, on: str, *sets: str, why: str = "") -> dict:
        """Fire the trigger and return the case as `case show` gives it afterwards."""
        result = self.attempt(who, ref, trigger, on, *sets, why=why)
        assert result.exit_code == 0, (trigger, result.stderr)
        assert json.loads(result.stdout)["trigger"] == trigger
        return self.show(ref)

    def show(self, ref: str) -> dict:
        self.as_user("bu")
        result = self.cli("case", "show", ref, "--db", self.db, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    def figures(self) -> dict:
        self.as_user("bu")
        result = self.cli("report", "--db", self.db, *YEAR, "--format", "json")
        assert result.exit_code == 0, result.stderr
        figures = json.loads(result.stdout)["figures"]
        return {k: f["value"] for k, f in figures.items() if f.get("applicable", True)}

    def trail(self, ref: str) -> list[tuple[str, str | None]]:
        """(trigger, to_state) of every event of the case, oldest first."""
        self.as_user("bu")
        result = self.cli("timeline", ref, "--db", self.db, "--json")
        assert result.exit_code == 0, result.stderr
        entries = json.loads(result.stdout)["entries"]
        return [(e["trigger"], e["to_state"]) for e in entries if e["kind"] == "event"]

    def verify(self) -> None:
        self.as_user("root")
        assert self.cli("audit", "verify", "--db", self.db).exit_code == 0


@pytest.fixture
def desk(database_url, cli, as_user) -> Desk:
    assert cli("init", "--db", database_url).exit_code == 0
    for name, roles, agency in USERS:
        args = ["user", "add", name, "--name", name.title()]
        for role in roles:
            args += ["--role", role]
        if agency:
            args += ["--agency", agency]
        result = cli(*args, "--db", database_url)
        assert result.exit_code == 0, result.stderr
    enrol_keys(database_url, *(name for name, _roles, _agency in USERS), admin="root")
    return Desk(cli, as_user, database_url)


def clocks(view: dict) -> dict[str, tuple[str, str | None]]:
    """Each clock's due date, and "running" or, once stopped, whether it was met."""
    return {
        c["clock_id"]: (c["status"] if c["state"] == "stopped" else c["state"], c["due_on"])
        for c in view["clocks"]
    }


# -- Safeguarding Adults Review (england-sar) -------------------------------------------


def test_sar_mandatory_review_from_referral_to_closure(desk):
    opened = desk.open("SAR-1", "england-sar", "2025-04-07", "Adult A")
    assert opened["workflow"] == "england-sar"
    assert opened["state"] == "screening"
    # 15 working days from the referral (Good Friday and Easter Monday 2025 skipped).
    assert clocks(opened) == {"sar_decision": ("running", "2025-04-30")}
    desk.step(
        "subgroup", "SAR-1", "recommend", "2025-04-22", "criteria=mandatory_death",
        "adult_died=true", why="died; neglect suspected; concern about joint working",
    )  # fmt: skip
    view = desk.step("sabchair", "SAR-1", "commission_sar", "2025-04-28", why="s44(1) met")
    assert view["state"] == "commissioning"
    assert clocks(view)["sar_decision"][0] == "met"
    # Six months from the decision to arrange the review.
    assert clocks(view)["sar_completion"] == ("running", "2025-10-28")
    desk.step(
        "sabchair", "SAR-1", "appoint_reviewer", "2025-05-12", "reviewer=Independent reviewer",
        "scope_from=2023-01-01", "scope_to=2025-03-31",
    )  # fmt: skip
    desk.step("bu", "SAR-1", "receive_draft", "2025-09-01")
    desk.step("subgroup", "SAR-1", "submit_to_board", "2025-09-15")
    refused = desk.attempt("sabchair", "SAR-1", "conclude_review", "2025-09-16")
    assert refused.exit_code == 4  # not every statutory member has signed
    for who, agency in (("la", "local_authority"), ("police", "police"), ("icb", "icb")):
        desk.step(who, "SAR-1", "sign_off", "2025-09-22", f"agency={agency}")
    view = desk.step("sabchair", "SAR-1", "conclude_review", "2025-09-29")
    assert view["state"] == "concluded"
    assert clocks(view)["sar_completion"][0] == "met"
    desk.step("bu", "SAR-1", "publish", "2025-10-06", "url=https://example.org/sar-1")
    desk.step("sabchair", "SAR-1", "approve_action_plan", "2025-10-20", why="plan agreed")
    desk.step("bu", "SAR-1", "record_action_update", "2025-12-01", "note=training delivered")
    desk.step(
        "sabchair", "SAR-1", "decline_finding", "2026-01-12", "note=finding 4",
        why="already met by the new commissioning framework",
    )  # fmt: skip
    closed = desk.step("sabchair", "SAR-1", "close", "2026-03-02", why="actions complete")
    assert closed["state"] == "closed" and closed["closed"] is True
    desk.verify()
    figures = desk.figures()
    # Care Act Sch 2 para 4: reviews concluded in the year, ongoing at its end, and what
    # was done on their findings.
    assert figures["decisions.local_review"] == 1
    assert figures["local_reviews.commissioned"] == 1
    assert figures["local_reviews.published"] == 1  # concluded (board sign-off)
    assert figures["local_reviews.published_within_expectation"] == 1
    assert figures["local_reviews.in_progress_at_end"] == 0
    assert figures["action_plans.approved"] == 1
    assert figures["action_plans.closed"] == 1
    assert "notifications.made" not in figures  # no notification step: not applicable


def test_sar_criteria_not_met_closes_without_a_review(desk):
    desk.open("SAR-2", "england-sar", "2025-06-02", "Adult B")
    desk.step(
        "subgroup", "SAR-2", "recommend", "2025-06-16", "criteria=not_met", "adult_died=false",
        why="no concern about how agencies worked together",
    )  # fmt: skip
    # Criteria not met: the board cannot arrange a SAR on this screening...
    refused = desk.attempt("sabchair", "SAR-2", "commission_sar", "2025-06-20", why="x")
    assert refused.exit_code == 4
    closed = desk.step("sabchair", "SAR-2", "decide_no_sar", "2025-06-20", why="s44 not met")
    assert closed["state"] == "closed"
    assert clocks(closed)["sar_decision"][0] == "met"
    assert desk.trail("SAR-2") == [
        ("open", "screening"),
        ("recommend", "chair_decision"),
        ("decide_no_sar", "closed"),
    ]
    figures = desk.figures()
    assert figures["caseload.closed"] == 1
    assert figures["decisions.local_review"] == 0
    desk.verify()


def test_sar_mandatory_criteria_leave_the_chair_no_choice(desk):
    desk.open("SAR-3", "england-sar", "2025-06-02", "Adult C")
    desk.step(
        "subgroup", "SAR-3", "recommend", "2025-06-16", "criteria=mandatory_serious_harm",
        why="alive; serious neglect suspected",
    )  # fmt: skip
    for trigger, extra in (
        ("decide_no_sar", ()),
        ("record_other_learning", ("learning_activity=x",)),
    ):
        refused = desk.attempt("sabchair", "SAR-3", trigger, "2025-06-20", *extra, why="no")
        assert refused.exit_code == 4, trigger
    assert desk.show("SAR-3")["state"] == "chair_decision"


# -- Domestic Homicide Review (england-dhr) ---------------------------------------------


def test_dhr_from_police_notification_to_closure(desk):
    opened = desk.open("DHR-1", "england-dhr", "2025-04-01", "Ms A")
    assert opened["state"] == "notified"
    assert clocks(opened) == {"dhr_decision": ("running", "2025-05-01")}  # one month
    view = desk.step(
        "cspchair", "DHR-1", "commission_dhr", "2025-04-24", "victim_age_band=age_16_17",
        "linked_review_ref=2025-014", "death_type=homicide", why="criteria met",
    )  # fmt: skip
    assert view["fields"]["linked_review_ref"] == "2025-014"
    assert clocks(view)["dhr_completion"] == ("running", "2025-10-24")
    desk.step(
        "cspchair", "DHR-1", "appoint_panel", "2025-05-06", "review_chair_name=Independent chair",
        "scope_from=2020-01-01", "scope_to=2025-03-31",
    )  # fmt: skip
    desk.step("panelchair", "DHR-1", "record_progress_check", "2025-06-02", "note=panel 1")
    desk.step("panelchair", "DHR-1", "submit_overview", "2025-09-15")
    signers = (
        ("la", "local_authority"), ("police", "police"), ("icb", "icb"),
        ("probation", "probation"), ("fire", "fire_rescue"),
    )  # fmt: skip
    for who, agency in signers[:4]:
        desk.step(who, "DHR-1", "sign_off", "2025-09-22", f"agency={agency}")
    assert desk.attempt("bu", "DHR-1", "submit_to_home_office", "2025-09-23").exit_code == 4
    desk.step("fire", "DHR-1", "sign_off", "2025-09-23", "agency=fire_rescue")
    view = desk.step("bu", "DHR-1", "submit_to_home_office", "2025-09-24")
    assert view["state"] == "home_office_qa"
    assert view["fields"]["submitted_on"] == "2025-09-24"
    assert clocks(view)["dhr_completion"][0] == "met"
    desk.step("bu", "DHR-1", "record_qa_feedback", "2025-11-10", "note=clarify chronology")
    desk.step("bu", "DHR-1", "resubmit_to_home_office", "2025-11-24", "note=revised")
    view = desk.step("bu", "DHR-1", "record_qa_approval", "2026-01-12")
    assert view["fields"]["qa_outcome"] == "approved"
    view = desk.step("bu", "DHR-1", "publish", "2026-02-02", "url=https://example.org/dhr-1")
    assert clocks(view)["publication_retention"] == ("running", "2027-02-02")
    desk.step("cspchair", "DHR-1", "approve_action_plan", "2026-02-16", why="plan agreed")
    closed = desk.step("cspchair", "DHR-1", "close", "2026-03-23", why="actions complete")
    assert closed["state"] == "closed"
    desk.verify()
    figures = desk.figures()
    assert figures["decisions.local_review"] == 1
    assert figures["local_reviews.published"] == 1
    assert figures["action_plans.closed"] == 1


def test_dhr_not_commissioned_is_closed_once_the_home_office_is_told(desk):
    desk.open("DHR-2", "england-dhr", "2025-05-01", "Mr B")
    view = desk.step(
        "cspchair", "DHR-2", "decide_no_dhr", "2025-05-20", "death_type=other",
        why="no domestic relationship",
    )  # fmt: skip
    assert view["state"] == "no_review_decided"
    assert clocks(view)["dhr_decision"][0] == "met"
    closed = desk.step("bu", "DHR-2", "inform_home_office", "2025-05-22")
    assert closed["state"] == "closed"
    assert closed["fields"]["home_office_informed_on"] == "2025-05-22"
    figures = desk.figures()
    assert figures["decisions.local_review"] == 0
    assert figures["local_reviews.commissioned"] == 0
    assert figures["caseload.closed"] == 1
    desk.verify()


# -- Single Unified Safeguarding Review (wales-susr) ------------------------------------


def _susr_to_review(desk, ref: str) -> None:
    opened = desk.open(ref, "wales-susr", "2025-04-07", "Person A")
    assert opened["state"] == "case_review_group"
    desk.step(
        "crg", ref, "recommend", "2025-04-22", "recommendation=susr",
        "review_basis=domestic_homicide_review", why="DHR criteria met",
    )  # fmt: skip
    view = desk.step("boardchair", ref, "commission_susr", "2025-04-28", why="SUSR to proceed")
    assert clocks(view)["wg_notification"] == ("running", "2025-05-06")  # 5 WD, May Day
    desk.step(
        "boardchair", ref, "appoint_reviewers", "2025-05-12", "review_chair_name=Chair X",
        "reviewer=Reviewer Y",
    )  # fmt: skip
    # No draft before the Welsh Government has been told.
    assert desk.attempt("bu", ref, "receive_draft", "2025-05-13").exit_code == 4
    view = desk.step("bu", ref, "notify_welsh_government", "2025-05-13")
    assert clocks(view)["wg_notification"][0] == "missed"  # after 6 May


def _susr_to_closure(desk, ref: str) -> dict:
    desk.step("bu", ref, "receive_draft", "2025-09-01")
    desk.step("crg", ref, "submit_to_board", "2025-09-15")
    for who, agency in (("la", "local_authority"), ("police", "police"), ("lhb", "health_board")):
        desk.step(who, ref, "sign_off", "2025-09-22", f"agency={agency}")
    desk.step("boardchair", ref, "approve_report", "2025-09-29")
    view = desk.step("bu", ref, "lodge_in_repository", "2025-10-06", "url=https://example.org/r")
    assert clocks(view)["susr_completion"][0] == "met"
    desk.step("crg", ref, "approve_action_plan", "2025-10-20", why="plan signed off")
    closed = desk.step("boardchair", ref, "close", "2026-03-02", why="actions complete")
    assert closed["state"] == "closed"
    desk.verify()
    return closed


def test_susr_main_path_family_declined(desk):
    _susr_to_review(desk, "SUSR-1")
    # Still no draft without the practitioner learning event.
    assert desk.attempt("bu", "SUSR-1", "receive_draft", "2025-06-02").exit_code == 4
    desk.step("bu", "SUSR-1", "add_note", "2025-06-02", "note=family declined to take part")
    desk.step("crg", "SUSR-1", "record_practitioner_event", "2025-07-07")
    closed = _susr_to_closure(desk, "SUSR-1")
    assert "family_event_on" not in closed["fields"]
    assert closed["fields"]["practitioner_event_on"] == "2025-07-07"
    figures = desk.figures()
    assert figures["decisions.local_review"] == 1
    assert figures["local_reviews.published"] == 1
    assert figures["action_plans.closed"] == 1


def test_susr_with_a_family_learning_event(desk):
    _susr_to_review(desk, "SUSR-2")
    desk.step("bu", "SUSR-2", "record_family_event", "2025-06-16", "note=family met the reviewers")
    desk.step("crg", "SUSR-2", "record_practitioner_event", "2025-07-07")
    closed = _susr_to_closure(desk, "SUSR-2")
    assert closed["fields"]["family_event_on"] == "2025-06-16"
    triggers = [t for t, _ in desk.trail("SUSR-2")]
    assert triggers.index("notify_welsh_government") < triggers.index("record_family_event")
    assert triggers.index("record_family_event") < triggers.index("receive_draft")


def test_susr_not_commissioned_when_no_criteria_are_met(desk):
    desk.open("SUSR-3", "wales-susr", "2025-04-07", "Person C")
    desk.step(
        "crg", "SUSR-3", "recommend", "2025-04-22", "recommendation=no_review",
        "review_basis=not_met", why="no review's criteria met",
    )  # fmt: skip
    assert (
        desk.attempt("boardchair", "SUSR-3", "commission_susr", "2025-04-28", why="x").exit_code
        == 4
    )
    closed = desk.step("boardchair", "SUSR-3", "decide_no_susr", "2025-04-28", why="not met")
    assert closed["state"] == "closed"
    assert clocks(closed)["susr_decision"][0] == "met"
