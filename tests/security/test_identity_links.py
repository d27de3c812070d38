"""Sign-in identities linked to users by an admin (#22, item 4, shared mode).

An OpenID Connect identity (issuer, subject) signs in to the web interface as the user
an admin linked it to with `casereview user link`, and as nobody once unlinked: the
links are admin events, shown in `user list --json` and replayed by `audit verify`. An
identity no admin linked to an active user gets "ask your admin to add you", and
nothing else.
"""

from __future__ import annotations

import json

import pytest

from casereview.domain import authority, identities
from casereview.domain.chain import PAYLOAD_ORDER
from casereview.services import identities as identity_service
from casereview.services.identities import ASK_YOUR_ADMIN, NotLinked
from casereview.store.database import Database
from tests.conftest import enrol_keys, run_sql
from tests.security.conftest import ADMIN
from tests.security.test_users_admin import count_events, listed, one_error

ISSUER = "https://login.microsoftonline.com/0b1c2d3e-0000-4000-8000-000000000001/v2.0"
SUBJECT = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"


@pytest.fixture
def db(database_url, cli, as_user):
    assert cli("init", "--db", database_url).exit_code == 0
    for name, role in (("bu", "business_unit"), ("chair", "chair")):
        added = cli("user", "add", name, "--name", name, "--role", role, "--db", database_url)
        assert added.exit_code == 0, added.stderr
    enrol_keys(database_url, "bu", "chair", admin=ADMIN)
    return database_url


def link(cli, db, *words: str):
    return cli("user", *words, "--db", db)


def who(db: str, issuer: str = ISSUER, subject: str = SUBJECT) -> str:
    shared = Database.open(db) if db.startswith("sqlite") else None
    if shared is None:
        pytest.skip("the PostgreSQL lookup runs as a server login: test_acting_for_person")
    try:
        return identity_service.user_for(shared, issuer, subject)
    finally:
        shared.dispose()


def test_an_admin_links_an_identity_and_it_signs_in_as_that_user(db, cli):
    result = link(cli, db, "link", "bu", "--issuer", ISSUER, "--subject", SUBJECT)
    assert result.exit_code == 0, result.stderr
    assert "Linked" in result.stderr
    assert listed(cli, db)["bu"]["identities"] == [{"issuer": ISSUER, "subject": SUBJECT}]
    assert listed(cli, db)["chair"]["identities"] == []
    events = run_sql(
        db, "SELECT trigger, actor, role, fields FROM events WHERE trigger LIKE 'identity%'"
    )
    assert [(t, r) for t, _a, r, _f in events] == [("identity_link", "admin")]
    assert json.loads(events[0][3]) == {"username": "bu", "issuer": ISSUER, "subject": SUBJECT}
    if db.startswith("sqlite"):
        assert who(db) == "bu"
    # Unlinked: signs in as nobody.
    result = link(cli, db, "unlink", "bu", "--issuer", ISSUER, "--subject", SUBJECT)
    assert result.exit_code == 0, result.stderr
    assert listed(cli, db)["bu"]["identities"] == []
    if db.startswith("sqlite"):
        with pytest.raises(NotLinked):
            who(db)
    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stdout + verified.stderr


@pytest.mark.sqlite_only
def test_an_unlinked_identity_gets_ask_your_admin_and_nothing_else(db, cli, as_user):
    assert link(cli, db, "link", "bu", "--issuer", ISSUER, "--subject", SUBJECT).exit_code == 0
    for issuer, subject in (
        (ISSUER, "someone-else"),
        ("https://other.example.org", SUBJECT),
        ("not a url", SUBJECT),
        (ISSUER, ""),
    ):
        with pytest.raises(NotLinked) as refused:
            who(db, issuer, subject)
        assert str(refused.value) == ASK_YOUR_ADMIN
        assert "bu" not in str(refused.value).split()
    # A deactivated user's identity signs in as nobody.
    assert cli("user", "deactivate", "bu", "--db", db).exit_code == 0
    with pytest.raises(NotLinked):
        who(db)


def test_only_an_admin_links_and_each_refusal_is_one_line(db, cli, as_user):
    before = count_events(db)
    as_user("bu")
    one_error(link(cli, db, "link", "bu", "--issuer", ISSUER, "--subject", SUBJECT), 4)
    as_user("root")
    one_error(link(cli, db, "link", "nobody", "--issuer", ISSUER, "--subject", SUBJECT), 3)
    one_error(
        link(cli, db, "link", "bu", "--issuer", "http://idp.example.org", "--subject", "s"), 2
    )
    one_error(link(cli, db, "link", "bu", "--issuer", ISSUER, "--subject", "a\tb"), 2)
    one_error(link(cli, db, "unlink", "bu", "--issuer", ISSUER, "--subject", SUBJECT), 3)
    assert count_events(db) == before
    assert link(cli, db, "link", "bu", "--issuer", ISSUER, "--subject", SUBJECT).exit_code == 0
    # One identity, one user: linking it again, or to someone else, is refused.
    message = one_error(link(cli, db, "link", "chair", "--issuer", ISSUER, "--subject", SUBJECT), 6)
    assert "already linked to 'bu'" in message
    one_error(link(cli, db, "unlink", "chair", "--issuer", ISSUER, "--subject", SUBJECT), 3)
    assert count_events(db) == before + 1


def _event(seq: int, trigger: str, fields: dict[str, object]) -> list[object]:
    values: list[object] = [None] * len(PAYLOAD_ORDER)
    at = {name: i for i, name in enumerate(PAYLOAD_ORDER)}
    values[at["seq"]], values[at["kind"]], values[at["trigger"]] = seq, "admin", trigger
    values[at["actor"]], values[at["role"]] = "root", "admin"
    values[at["fields"]] = json.dumps(fields)
    return values


def test_verify_replays_identity_events_that_do_not_fit():
    """What `audit verify` reports of identity events written around casereview."""
    timeline = authority.Timeline()
    user = authority.UserState("bu", "Officer", frozenset({"business_unit"}), None, True, 1)
    timeline._record(user)
    good = {"username": "bu", "issuer": ISSUER, "subject": SUBJECT}
    assert authority._apply(timeline, _event(5, "identity_link", good), good) == []
    for fields, says in (
        (good, "already linked to 'bu'"),
        ({**good, "username": "ghost"}, "who is not a user"),
        ({"username": "bu", "issuer": ISSUER}, "cannot be read"),
    ):
        findings = authority._apply(timeline, _event(6, "identity_link", fields), fields)
        assert len(findings) == 1 and says in findings[0].message, findings
    other = {**good, "subject": "other"}
    findings = authority._apply(timeline, _event(7, "identity_unlink", other), other)
    assert "not linked to 'bu'" in findings[0].message
    assert timeline.identity_links == {identities.Identity(ISSUER, SUBJECT): "bu"}
