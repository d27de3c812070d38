"""On whose behalf: each trigger's `on_behalf` rules decide who may record it for whom.

Before: a police partner recorded `sign_off --on-behalf-of` the local authority's and
the ICB's partners, and the rapid review went to the Panel on three sign-offs by one
person. Now a partner records only for a partner of their own agency; the business unit
keys in a partner's sign-off naming that partner, for that partner's agency only; the
chair's decisions may be keyed by the business unit on the chair's behalf. Refusals say
what the workflow allows. Everything through the command line, as each person would.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import TODAY, enrol_keys, run_sql
from tests.security.conftest import ADMIN

REF = "OB-1"
ON = (TODAY - dt.timedelta(days=10)).isoformat()
ALLOWED = (
    "for someone else, sign_off is recorded by a business unit for a partner, or by a "
    "partner for a partner of their own agency"
)
PEOPLE = [
    ("bu", "business_unit", None),
    ("sam", "chair", None),
    ("kim", "partner", "police"),
    ("pat", "partner", "police"),
    ("lee", "partner", "local_authority"),
    ("ian", "partner", "icb"),
]


@pytest.fixture
def signing(database_url, cli, as_user):
    """A case waiting for the rapid review sign-offs, and the people above."""
    db = database_url
    assert cli("init", "--db", db).exit_code == 0
    for name, role, agency in PEOPLE:
        extra = ("--agency", agency) if agency else ()
        added = cli("user", "add", name, "--name", name.title(), "--role", role, *extra, "--db", db)
        assert added.exit_code == 0, added.stderr
    enrol_keys(db, *(name for name, _role, _agency in PEOPLE), admin="root")

    def run(who: str, *args: str):
        as_user(who)
        return cli(*args, "--on", ON, "--db", db)

    assert run("bu", "case", "open", REF, "--aware-on", ON).exit_code == 0
    assert run("bu", "case", "advance", REF, "notify", "--set", "sin_reference=S-1").exit_code == 0
    proposed = run(
        "sam", "case", "advance", REF, "propose_decision",
        "--set", "recommendation=lcspr", "--rationale", "criteria met",
    )  # fmt: skip
    assert proposed.exit_code == 0, proposed.stderr
    return db, run


def refused(result) -> str:
    assert result.exit_code == 4, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    return " ".join(result.stderr.split())


def sign_offs(db) -> list[tuple]:
    rows = run_sql(
        db,
        "SELECT actor, on_behalf_of, role, fields FROM events "
        "WHERE trigger = 'sign_off' ORDER BY seq",
    )
    return [(a, b, r, f) for a, b, r, f in rows]


def count_events(db) -> int:
    return run_sql(db, "SELECT COUNT(*) FROM events")[0][0]


def test_a_police_partner_cannot_sign_for_the_other_agencies(signing):
    db, run = signing
    assert run("kim", "case", "advance", REF, "sign_off").exit_code == 0
    before = count_events(db)
    for other, agency in (("lee", "local_authority"), ("ian", "icb")):
        message = refused(run("kim", "case", "advance", REF, "sign_off", "--on-behalf-of", other))
        assert message == (
            f"Error: 'kim' (partner for police) may not record sign_off on behalf of "
            f"'{other}' (partner for {agency}): {ALLOWED}"
        )
    assert count_events(db) == before
    # One agency's sign-off is not the round's: the review cannot go to the Panel.
    submitted = refused(run("bu", "case", "advance", REF, "submit_rapid_review"))
    assert "still waiting for local_authority, icb" in submitted
    assert [s[:2] for s in sign_offs(db)] == [("kim", None)]


def test_the_business_unit_records_a_partners_sign_off_naming_them(signing):
    db, run = signing
    for partner in ("lee", "ian", "kim"):
        done = run("bu", "case", "advance", REF, "sign_off", "--on-behalf-of", partner)
        assert done.exit_code == 0, done.stderr
    recorded = sign_offs(db)
    assert [(a, b, r) for a, b, r, _ in recorded] == [
        ("bu", "lee", "partner"),
        ("bu", "ian", "partner"),
        ("bu", "kim", "partner"),
    ]
    assert ['"local_authority"' in f for *_, f in recorded] == [True, False, False]
    assert run("bu", "case", "advance", REF, "submit_rapid_review").exit_code == 0


def test_the_business_unit_signs_only_for_the_named_partners_agency(signing):
    db, run = signing
    before = count_events(db)
    message = refused(
        run(
            "bu",
            "case",
            "advance",
            REF,
            "sign_off",
            "--on-behalf-of",
            "ian",
            "--set",
            "agency=police",
        )
    )
    assert "'ian' signs off for icb, not police" in message
    # Without naming a partner, the business unit is told how it may record a sign-off.
    message = refused(run("bu", "case", "advance", REF, "sign_off", "--set", "agency=icb"))
    assert "sign_off needs one of the roles partner; 'bu' holds business_unit" in message
    assert f"{ALLOWED}, naming them with --on-behalf-of" in message
    assert count_events(db) == before


def test_a_partner_records_a_colleagues_sign_off_of_their_own_agency(signing):
    db, run = signing
    done = run("pat", "case", "advance", REF, "sign_off", "--on-behalf-of", "kim")
    assert done.exit_code == 0, done.stderr
    assert [(a, b, r) for a, b, r, _ in sign_offs(db)] == [("pat", "kim", "partner")]
    assert '"police"' in sign_offs(db)[0][3]


def test_the_chairs_decision_is_keyed_by_the_business_unit_not_by_a_partner(signing):
    db, run = signing
    message = refused(
        run("kim", "case", "advance", REF, "revise", "--on-behalf-of", "sam", "--rationale", "r")
    )
    assert message == (
        "Error: 'kim' (partner for police) may not record revise on behalf of 'sam' "
        "(chair): for someone else, revise is recorded by a business unit or chair for a chair"
    )
    done = run(
        "bu", "case", "advance", REF, "revise", "--on-behalf-of", "sam", "--rationale", "new facts"
    )
    assert done.exit_code == 0, done.stderr
    last = run_sql(db, "SELECT actor, on_behalf_of, role FROM events ORDER BY seq DESC LIMIT 1")
    assert last == [("bu", "sam", "chair")]


def test_the_admin_is_no_one_to_record_for_others(signing, cli):
    """Admin manages users; it records case steps for nobody (and `user add` keeps the
    admin's roles whatever else happens: the admin here holds admin only)."""
    _, run = signing
    message = refused(run(ADMIN, "case", "advance", REF, "sign_off", "--on-behalf-of", "lee"))
    assert "'root' (admin) may not record sign_off on behalf of 'lee'" in message
