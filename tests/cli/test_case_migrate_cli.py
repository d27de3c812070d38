"""`case migrate`: a version 1 database with a case in every v1 state moves to England
v2 (a dry run first, then for real), verifies, and every clock equals a recomputation
from v2's rules; the refusals write nothing; a forged move fails `audit verify`."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casereview.domain import clocks
from casereview.domain.replay import replay
from casereview.infra import now as clock_module
from casereview.infra.now import FixedClock
from casereview.infra.workflows.registry import Registry
from casereview.services import cases
from casereview.services.context import ServiceContext
from tests.conftest import enrol_keys, run_sql, unprotected

TODAY = dt.date(2026, 11, 2)
PARTNERS = (("la", "local_authority"), ("police", "police"), ("icb", "icb"))
V1_STATES = (
    "screening", "rapid_review", "rapid_review_signoff", "awaiting_panel", "panel_query",
    "lcspr_commissioning", "lcspr_in_progress", "draft_review", "final_signoff",
    "publication_hold", "publication_scheduled", "published", "other_learning",
    "national_review", "action_monitoring", "closed",
)  # fmt: skip

# The v1 path to each state: (who, trigger, fields, rationale), from an opening on 5 Jan.
_SIGN = [("la", "sign_off", {"agency": "local_authority"}, None),
         ("police", "sign_off", {"agency": "police"}, None),
         ("icb", "sign_off", {"agency": "icb"}, None)]  # fmt: skip
_TO_PANEL = [
    ("bu", "notify", {"sin_reference": "SIN-1"}, None),
    ("chair", "propose_decision", {"recommendation": "lcspr"}, "criteria met"),
    *_SIGN,
    ("bu", "submit_rapid_review", {}, None),
]
_TO_FINAL = [
    *_TO_PANEL,
    ("chair", "commission_lcspr", {"panel_position": "agreed"}, "Panel agreed"),
    ("chair", "appoint_reviewer",
     {"reviewer": "A. Reviewer", "scope_from": "2025-01-01", "scope_to": "2025-12-31"}, None),
    ("bu", "receive_draft", {}, None),
    ("chair", "accept_final", {}, None),
    *_SIGN,
]  # fmt: skip
_HOLD = ("chair", "hold_publication",
         {"hold_reason": "criminal_proceedings", "review_by": "2026-12-14"}, "trial")  # fmt: skip
_SCHEDULE = (
    "bu",
    "schedule_publication",
    {"planned_publication_on": "2026-11-30", "publication_form": "full_report"},
    None,
)
_PUBLISHED = [*_TO_FINAL, _SCHEDULE, ("bu", "send_advance_copy", {}, None),
              ("bu", "publish", {"url": "https://example.org/r"}, None)]  # fmt: skip
PATHS = {
    "screening": [],
    "rapid_review": _TO_PANEL[:1],
    "rapid_review_signoff": _TO_PANEL[:3],
    "awaiting_panel": _TO_PANEL,
    "panel_query": [*_TO_PANEL, ("bu", "record_panel_query", {"summary": "why?"}, None)],
    "lcspr_commissioning": _TO_FINAL[:7],
    "lcspr_in_progress": _TO_FINAL[:8],
    "draft_review": _TO_FINAL[:9],
    "final_signoff": _TO_FINAL,
    "publication_hold": [*_TO_FINAL, _HOLD],
    "publication_scheduled": [*_TO_FINAL, _SCHEDULE],
    "published": _PUBLISHED,
    "other_learning": [
        ("bu", "notify", {"sin_reference": "SIN-1"}, None),
        ("chair", "propose_decision", {"recommendation": "no_lcspr"}, "local learning"),
        *_SIGN,
        ("bu", "submit_rapid_review", {}, None),
        ("chair", "record_other_learning", {"learning_activity": "event"}, "as decided"),
    ],
    "national_review": [*_TO_PANEL, ("chair", "panel_commissions_national_review", {}, "Panel")],
    "action_monitoring": [*_PUBLISHED, ("chair", "approve_action_plan", {}, "plan agreed")],
    "closed": [*_PUBLISHED, ("chair", "approve_action_plan", {}, "plan agreed"),
               ("chair", "close", {}, "done")],
}  # fmt: skip
# A second held case, held after publication was scheduled: it goes back there, held.
PATHS["held_after_scheduling"] = [*_TO_FINAL, _SCHEDULE, _HOLD]


@pytest.fixture
def v1_db(database_url, cli, as_user, monkeypatch):
    """A database whose cases are all on version 1, one per v1 state (and a second held
    one), each taken there step by step through the services."""
    instant = FixedClock(TODAY).now()
    monkeypatch.setattr(clock_module.SystemClock, "now", lambda self: instant)
    assert cli("init", "--db", database_url).exit_code == 0
    users = [("bu", "business_unit", None), ("chair", "chair", None)]
    users += [(name, "partner", agency) for name, agency in PARTNERS]
    for name, role, agency in users:
        args = ["user", "add", name, "--name", name, "--role", role]
        args += ["--agency", agency] if agency else []
        assert cli(*args, "--db", database_url).exit_code == 0
    enrol_keys(database_url, *(name for name, _role, _agency in users), admin="root")
    contexts: dict[str, ServiceContext] = {}

    def ctx(name: str) -> ServiceContext:
        if name not in contexts:
            contexts[name] = ServiceContext(url=database_url, account=name, clock=FixedClock(TODAY))
        return contexts[name]

    for number, (target, path) in enumerate(PATHS.items(), start=1):
        ref = f"M-{number:02d}"
        opened = dt.date(2026, 1, 5)
        cases.open_case(ctx("bu"), ref, aware_on=opened, on=opened, workflow="england-lcspr@1")
        day = opened
        for who, trigger, fields, rationale in path:
            day += dt.timedelta(days=7)
            cases.advance(ctx(who), ref, trigger, on=day, rationale=rationale, fields=fields)
        shown = cases.show_case(ctx("bu"), ref)
        expected = "publication_hold" if target == "held_after_scheduling" else target
        assert (shown.state, shown.workflow_version) == (expected, 1)
    for context in contexts.values():
        context.close()
    return database_url


def _cases(cli, db: str) -> dict[str, dict]:
    listed = cli("case", "list", "--json", "--db", db)
    assert listed.exit_code == 0, listed.stderr
    found = {}
    for item in json.loads(listed.stdout):
        shown = cli("case", "show", item["ref"], "--json", "--db", db)
        assert shown.exit_code == 0, shown.stderr
        found[item["ref"]] = json.loads(shown.stdout)
    return found


def test_every_v1_state_moves_to_v2_dry_run_first_then_for_real(v1_db, cli, as_user):
    db = v1_db
    before = _cases(cli, db)
    assert {c["state"] for c in before.values()} == set(V1_STATES)
    events_before = run_sql(db, "SELECT COUNT(*) FROM events")

    dry = cli("case", "migrate", "--to", "england-lcspr@2", "--all", "--dry-run", "--json",
              "--db", db)  # fmt: skip
    assert dry.exit_code == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True and planned["version"] == 2
    moves = {m["ref"]: m for m in planned["cases"]}
    assert set(moves) == set(before)
    for ref, move in moves.items():
        assert move["from_state"] == before[ref]["state"]
        assert move["seq"] is None
        assert {c["clock_id"] for c in move["clocks"]} >= {
            c["clock_id"] for c in before[ref]["clocks"]
        }
    held = {ref: m for ref, m in moves.items() if m["held"]}
    assert {m["from_state"] for m in held.values()} == {"publication_hold"}
    assert sorted(m["to_state"] for m in held.values()) == [
        "final_signoff",
        "publication_scheduled",
    ]
    assert all(m["to_state"] == m["from_state"] for m in moves.values() if not m["held"])
    text = cli("case", "migrate", "--to", "england-lcspr@2", "--all", "--dry-run", "--db", db)
    assert text.exit_code == 0, text.stderr
    assert f"Dry run: {len(before)} cases would move to england-lcspr v2" in text.stderr
    assert run_sql(db, "SELECT COUNT(*) FROM events") == events_before  # nothing written

    as_user("bu")
    refused = cli("case", "migrate", "--to", "england-lcspr@2", "--all", "--db", db)
    assert refused.exit_code == 4
    assert refused.stderr.startswith("Error: only an admin can move cases between")
    as_user("root")

    moved = cli("case", "migrate", "--to", "england-lcspr@2", "--all", "--json", "--db", db)
    assert moved.exit_code == 0, moved.stderr
    done = json.loads(moved.stdout)
    assert done["dry_run"] is False and len(done["cases"]) == len(before)
    assert run_sql(db, "SELECT COUNT(*) FROM events WHERE kind = 'migrate'") == [(len(before),)]
    after = _cases(cli, db)
    registry = Registry()
    v2 = registry.get("england-lcspr", 2)
    for ref, shown in after.items():
        assert shown["workflow_version"] == 2
        assert shown["state"] == moves[ref]["to_state"]
        # The dry run said what each clock would become; it became that.
        dry_after = {c["clock_id"]: c["after"] for c in moves[ref]["clocks"] if c["after"]}
        assert {c["clock_id"]: c["due_on"] for c in shown["clocks"]} == {
            k: v["due_on"] for k, v in dry_after.items()
        }
    for ref in held:
        hold = after[ref]["hold"]
        assert hold["review_by"] == "2026-12-14"
        assert hold["fields"]["hold_reason"] == "criminal_proceedings"
        clock = next(c for c in after[ref]["clocks"] if c["clock_id"] == "lcspr_publication")
        assert clock["state"] == "paused"
        review = next(c for c in after[ref]["clocks"] if c["clock_id"] == "hold_review")
        assert review["due_on"] == "2026-12-14"

    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stdout + verified.stderr

    # Every stored clock equals a recomputation from v2's rules over the case's events.
    rules = clocks.rules_for(v2)
    calendar = ServiceContext(url=db, account="root").calendar
    for ref in after:
        case_id = run_sql(db, "SELECT id FROM cases WHERE ref = :r", params={"r": ref})[0][0]
        rows = [
            dict(zip(("seq", "kind", "trigger", "from_state", "to_state", "occurred_on",
                      "fields", "workflow_version", "definition_hash"), r, strict=True))
            for r in run_sql(
                db,
                "SELECT seq, kind, trigger, from_state, to_state, occurred_on, fields, "
                "workflow_version, definition_hash FROM events WHERE case_id = :c ORDER BY seq",
                params={"c": case_id},
            )
        ]  # fmt: skip
        replayed = replay(v2, ref, rows)
        assert replayed.problems == []
        derived = clocks.derive(rules, replayed.facts, calendar)
        stored = {
            r[0]: r[1:]
            for r in run_sql(
                db,
                "SELECT clock_id, state, due_on, stopped_on FROM case_clocks WHERE case_id = :c",
                params={"c": case_id},
            )
        }
        recomputed = {
            k: (s.state, s.due_on, s.stopped_on)
            for k, s in ((k, clocks.summarise(v)) for k, v in derived.items())
        }
        assert stored == recomputed, ref

    # The moved cases go on under v2: the held one is lifted and goes on in its stage.
    as_user("chair")
    ref = next(r for r, m in held.items() if m["to_state"] == "final_signoff")
    lifted = cli("case", "advance", ref, "lift_hold", "--rationale", "verdict", "--db", db)
    assert lifted.exit_code == 0, lifted.stderr
    as_user("root")
    assert cli("audit", "verify", "--db", db).exit_code == 0
    again = cli("case", "migrate", "--to", "england-lcspr@2", "--all", "--json", "--db", db)
    assert again.exit_code == 0 and json.loads(again.stdout)["cases"] == []


def test_nothing_moves_unless_every_case_can(v1_db, cli, as_user):
    db = v1_db
    events_before = run_sql(db, "SELECT COUNT(*) FROM events")
    refused = cli("case", "migrate", "--to", "england-lcspr@2", "--case", "M-01",
                  "--case", "M-02", "--to", "england-lcspr@1", "--db", db)  # fmt: skip
    assert refused.exit_code == 4
    assert refused.stderr.count("\n") == 1
    assert "cannot move to england-lcspr v1" in refused.stderr
    missing = cli("case", "migrate", "--to", "england-lcspr@2", "--case", "NOPE", "--db", db)
    assert missing.exit_code == 3
    both = cli("case", "migrate", "--to", "england-lcspr@2", "--case", "M-01", "--all",
               "--db", db)  # fmt: skip
    assert both.exit_code == 2
    assert run_sql(db, "SELECT COUNT(*) FROM events") == events_before


def test_a_forged_move_fails_verification(v1_db, cli, as_user):
    db = v1_db
    moved = cli("case", "migrate", "--to", "england-lcspr@2", "--case", "M-05", "--db", db)
    assert moved.exit_code == 0, moved.stderr
    assert cli("audit", "verify", "--db", db).exit_code == 0
    # Rewrite the move as a chair's: the chain breaks, and the authority check names it.
    unprotected(db, "UPDATE events SET actor = 'chair' WHERE kind = 'migrate'")
    verified = cli("audit", "verify", "--json", "--db", db)
    assert verified.exit_code == 7
    assert "did not hold admin" in verified.stdout


def test_moved_cases_are_read_by_every_view_and_export(v1_db, cli, as_user):
    db = v1_db
    moved = cli("case", "migrate", "--to", "england-lcspr@2", "--all", "--db", db)
    assert moved.exit_code == 0, moved.stderr
    assert "Moved 17 cases to england-lcspr v2." in moved.stderr
    for fmt in ("csv", "md"):
        exported = cli("log", "export", "--format", fmt, "--db", db)
        assert exported.exit_code == 0, exported.stderr
    log = json.loads(cli("log", "export", "--format", "json", "--db", db).stdout)
    assert {(w["id"], w["version"]) for w in log["meta"]["workflows"]} == {
        ("england-lcspr", 1),
        ("england-lcspr", 2),
    }
    moves = [e for e in log["events"] if e["trigger"] == "migrate"]
    assert len(moves) == 17 and {e["role"] for e in moves} == {"admin"}
    report = cli("report", "--year", "2025-26", "--format", "json", "--db", db)
    assert report.exit_code == 0, report.stderr
    for ref in ("M-10", "M-17"):  # the two cases that arrived held
        assert cli("timeline", ref, "--db", db).exit_code == 0
        explained = cli("explain", ref, "hold_review", "--db", db)
        assert explained.exit_code == 0, explained.stderr
        assert "2026-12-14" in explained.stdout
    due = cli("due", "--json", "--db", db)
    assert due.exit_code == 0, due.stderr
    assert "hold_review" in due.stdout
