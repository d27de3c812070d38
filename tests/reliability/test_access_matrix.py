"""Access: the full role × trigger matrix of the England workflow, through the CLI.

For every trigger, a case is put into a state where the trigger is possible (its fields
given, its guards satisfied) and the trigger is tried, through the real CLI in-process,
as a user holding only one role: business_unit, chair, partner, scrutineer, admin.
Where the workflow file lists the role the command must succeed and record that role and
that account; everywhere else it must be refused (exit 4) and the database must stay
byte for byte as it was. Opening a case and managing users are in the matrix too.

The actor is the operating-system account; in-process the test patches
`casereview.infra.identity.os_account`, and through a subprocess it shows that USER and
LOGNAME change nothing. The scrutineer can read, verify and export, and change nothing.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from casereview.infra import identity
from casereview.infra.identity import os_account
from casereview.infra.now import FixedClock
from casereview.services import cases
from casereview.services.context import ServiceContext
from tests.reliability import support
from tests.reliability.support import Step, path_to

ROLES = ("business_unit", "chair", "partner", "scrutineer", "admin")
ACCOUNT = {role: f"only_{role}" for role in ROLES}
WORKFLOW = tomllib.loads(support.WORKFLOW_FILE.read_text(encoding="utf-8"))
ALLOWED = {t["id"]: set(t["roles"]) for t in WORKFLOW["triggers"]}
ALLOWED["case open"] = set(WORKFLOW["open_roles"])
ALLOWED["user add"] = {"admin"}
TODAY = support.TODAY.isoformat()

# trigger -> (steps that make it possible, its fields, its rationale)
SETUP: dict[str, tuple[list[Step], dict[str, str], str | None]] = {
    "notify": ([], {"sin_reference": "SIN-9"}, None),
    "decide_not_to_notify": ([], {}, "criteria not met"),
    "propose_decision": (path_to("rapid_review"), {"recommendation": "lcspr"}, "met"),
    "sign_off": (path_to("rapid_review_signoff"), {}, None),
    "revise": (path_to("rapid_review_signoff"), {}, "redo"),
    "record_extension": (
        path_to("rapid_review"),
        {"extension_agreed_on": TODAY, "note": "agreed by phone"},
        None,
    ),
    "submit_rapid_review": (path_to("awaiting_panel")[:-1], {}, None),
    "record_panel_query": (path_to("awaiting_panel"), {"summary": "query"}, None),
    "answer_panel": (path_to("panel_query"), {"summary": "answer"}, None),
    "reconsider": (path_to("panel_query"), {"recommendation": "lcspr"}, "reconsidered"),
    "commission_lcspr": (path_to("awaiting_panel"), {"panel_position": "agreed"}, "agreed"),
    "record_other_learning": (
        path_to("awaiting_panel", recommendation="no_lcspr"),
        {"learning_activity": "learning event"},
        "instead",
    ),
    "panel_commissions_national_review": (path_to("awaiting_panel"), {}, "Panel letter"),
    "withdraw": (path_to("rapid_review"), {}, "not met after all"),
    "appoint_reviewer": (
        path_to("lcspr_commissioning"),
        {"reviewer": "R", "scope_from": "2024-01-01", "scope_to": "2024-12-31"},
        None,
    ),
    "record_progress_check": (path_to("lcspr_in_progress"), {"note": "on track"}, None),
    "receive_draft": (path_to("lcspr_in_progress"), {}, None),
    "request_changes": (path_to("draft_review"), {}, "more work"),
    "accept_final": (path_to("draft_review"), {}, None),
    "hold_publication": (
        path_to("final_signoff"),
        {"hold_reason": "inquest", "review_by": "2026-12-01"},
        "inquest listed",
    ),
    "review_hold": (path_to("publication_hold"), {"review_by": "2027-01-15"}, "still listed"),
    "lift_hold": (path_to("publication_hold"), {}, "verdict given"),
    "schedule_publication": (
        path_to("publication_scheduled")[:-1],
        {"planned_publication_on": "2026-12-30", "publication_form": "full_report"},
        None,
    ),
    "reschedule_publication": (
        path_to("publication_scheduled"),
        {"planned_publication_on": "2027-01-20"},
        "author ill",
    ),
    "send_advance_copy": (path_to("publication_scheduled"), {}, None),
    "publish": (path_to("published")[:-1], {"url": "https://example.org/r"}, None),
    "approve_action_plan": (path_to("published"), {}, "plan agreed"),
    "record_action_update": (path_to("action_monitoring"), {"note": "2 of 5 done"}, None),
    "close": (path_to("action_monitoring"), {}, "all done"),
    "add_note": ([], {"note": "a note"}, None),
}


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("access") / "access.db"
    people = dict(support.PEOPLE)
    people.update({ACCOUNT[r]: ([r], "local_authority" if r == "partner" else None) for r in ROLES})
    support.init_database(support.sqlite_url(path), FixedClock(support.TODAY), people=people)
    return path


class Cases:
    """Fresh cases walked along a path by the standard people (through services)."""

    def __init__(self, path: Path) -> None:
        self.url = support.sqlite_url(path)
        self.clock = FixedClock(support.TODAY)
        self.count = 0

    def prepare(self, steps: list[Step]) -> str:
        self.count += 1
        ref = f"ACC-{self.count}"
        ctx = {n: ServiceContext(url=self.url, account=n, clock=self.clock) for n in support.PEOPLE}
        try:
            cases.open_case(ctx["bu"], ref, aware_on=support.TODAY)
            for s in steps:
                cases.advance(
                    ctx[s.account], ref, s.trigger, fields=s.fields, rationale=s.rationale
                )
        finally:
            for c in ctx.values():
                c.close()
        return ref


@pytest.fixture(scope="module")
def prepared(database):
    return Cases(database)


@pytest.fixture
def as_account(monkeypatch):
    def switch(name: str) -> None:
        monkeypatch.setattr(identity, "os_account", lambda: name)

    return switch


@pytest.fixture(scope="module")
def matrix():
    results: dict[str, dict[str, str]] = {}
    yield results
    if results:
        outcome = Counter(v for row in results.values() for v in row.values())
        summary: dict[str, object] = {
            "triggers and commands": len(results),
            "roles": len(ROLES),
            "allowed and succeeded": outcome["allowed"],
            "refused (exit 4, nothing written)": outcome["refused"],
            "mismatches with the workflow file": outcome["MISMATCH"],
        }
        for name, row in sorted(results.items()):
            summary[name] = ", ".join(r for r in ROLES if row.get(r) == "allowed") or "nobody"
        support.record_figures("access", "role × trigger", summary, matrix=results)


def advance_args(ref: str, trigger: str, fields: dict[str, str], rationale: str | None, db):
    args = ["case", "advance", ref, trigger, "--db", str(db)]
    for name, value in fields.items():
        args += ["--set", f"{name}={value}"]
    if rationale:
        args += ["--rationale", rationale]
    return args


def last_event(db: Path) -> tuple:
    conn = support.connect(db)
    try:
        return conn.execute(
            "SELECT seq, case_ref, trigger, actor, role FROM events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()


def test_every_trigger_has_a_setup():
    assert set(SETUP) == {t["id"] for t in WORKFLOW["triggers"]}
    assert set(ROLES) == {r["id"] for r in WORKFLOW["roles"]}


@pytest.mark.parametrize("trigger", sorted(SETUP))
def test_role_by_trigger(trigger, database, prepared, cli, as_account, matrix):
    steps, fields, rationale = SETUP[trigger]
    allowed = ALLOWED[trigger]
    row = matrix.setdefault(trigger, {})
    ref = prepared.prepare(steps)
    for role in [r for r in ROLES if r not in allowed]:
        before = support.file_bytes(database)
        as_account(ACCOUNT[role])
        result = cli(*advance_args(ref, trigger, fields, rationale, database))
        row[role] = "refused" if result.exit_code == 4 else "MISMATCH"
        assert result.exit_code == 4, (role, result.stderr)
        assert result.stderr.startswith("Error: ") and "role" in result.stderr
        assert support.file_bytes(database) == before
    fresh = False
    for role in [r for r in ROLES if r in allowed]:
        if fresh:
            ref = prepared.prepare(steps)
        fresh = True
        as_account(ACCOUNT[role])
        result = cli(*advance_args(ref, trigger, fields, rationale, database))
        row[role] = "allowed" if result.exit_code == 0 else "MISMATCH"
        assert result.exit_code == 0, (role, result.stderr)
        _seq, case_ref, done, actor, recorded_role = last_event(database)
        assert (case_ref, done, actor, recorded_role) == (ref, trigger, ACCOUNT[role], role)


def test_opening_a_case_by_role(database, cli, as_account, matrix):
    row = matrix.setdefault("case open", {})
    for n, role in enumerate(ROLES):
        before = support.file_bytes(database)
        as_account(ACCOUNT[role])
        result = cli("case", "open", f"OPEN-{n}", "--aware-on", TODAY, "--db", str(database))
        expected = 0 if role in ALLOWED["case open"] else 4
        row[role] = {0: "allowed", 4: "refused"}.get(result.exit_code, "MISMATCH")
        assert result.exit_code == expected, (role, result.stderr)
        if expected:
            assert support.file_bytes(database) == before
        else:
            assert last_event(database)[1:4] == (f"OPEN-{n}", "open", ACCOUNT[role])


def test_managing_users_by_role(database, cli, as_account, matrix):
    row = matrix.setdefault("user add", {})
    for n, role in enumerate(ROLES):
        before = support.file_bytes(database)
        as_account(ACCOUNT[role])
        result = cli(
            "user", "add", f"new{n}", "--name", "New", "--role", "chair", "--db", str(database)
        )
        expected = 0 if role in ALLOWED["user add"] else 4
        row[role] = {0: "allowed", 4: "refused"}.get(result.exit_code, "MISMATCH")
        assert result.exit_code == expected, (role, result.stderr)
        if expected:
            assert support.file_bytes(database) == before
        else:
            assert last_event(database)[2:4] == ("user_add", ACCOUNT[role])


@pytest.mark.subprocesses
def test_user_and_logname_do_not_change_the_actor(tmp_path):
    """A real process, its environment claiming to be the chair: the log records the OS
    account, and the OS account's own roles decide what it may do."""
    path = tmp_path / "env.db"
    support.init_database(
        support.sqlite_url(path), FixedClock(support.TODAY), os_account_roles=["business_unit"]
    )
    ref = Cases(path).prepare([])
    me = os_account()
    env = support.python_env(USER="chair", LOGNAME="chair", USERNAME="chair")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [support.PYTHON, "-m", "casereview", *args, "--db", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    noted = run("case", "advance", ref, "add_note", "--set", "note=who am I")
    assert noted.returncode == 0, noted.stderr
    assert last_event(path)[2:5] == ("add_note", me, "business_unit")
    before = support.file_bytes(path)
    chair_only = run("case", "advance", ref, "decide_not_to_notify", "--rationale", "as chair?")
    assert chair_only.returncode == 4, chair_only.stderr
    assert f"'{me}' holds business_unit" in chair_only.stderr
    assert support.file_bytes(path) == before
    assert me != "chair"


def _exists(cli, *words: str) -> bool:
    return cli(*words, "--help").exit_code == 0


def test_the_scrutineer_reads_and_exports_but_changes_nothing(
    database, prepared, cli, as_account, tmp_path
):
    ref = prepared.prepare(path_to("rapid_review_signoff"))
    as_account(ACCOUNT["scrutineer"])
    db = str(database)
    before = support.file_bytes(database)
    reads = [
        ("case", "list"),
        ("case", "list", "--json"),
        ("case", "show", ref),
        ("case", "show", ref, "--json"),
        ("audit", "verify"),
        ("audit", "verify", "--json"),
        ("audit", "checkpoint"),
        ("audit", "checkpoint", "--output", str(tmp_path / "cp.json")),
    ]
    optional = [("timeline", ref), ("due",), ("log", "export")]
    reads += [
        args for args in optional if _exists(cli, *args[:2] if args[0] == "log" else args[:1])
    ]
    for args in reads:
        result = cli(*args, "--db", db)
        assert result.exit_code == 0, (args, result.stderr)
        assert support.file_bytes(database) == before, args
    listed = json.loads(cli("case", "list", "--json", "--db", db).stdout)
    assert ref in {c["ref"] for c in listed}
    writes = [
        ("case", "open", "SCRUT-1", "--aware-on", TODAY),
        ("case", "advance", ref, "add_note", "--set", "note=scrutineer was here"),
        ("case", "advance", ref, "sign_off", "--set", "agency=police"),
        ("case", "advance", ref, "withdraw", "--rationale", "I disagree"),
        ("user", "add", ACCOUNT["scrutineer"], "--name", "Me", "--role", "admin"),
    ]
    for args in writes:
        result = cli(*args, "--db", db)
        assert result.exit_code == 4, (args, result.stderr)
        assert support.file_bytes(database) == before, args
