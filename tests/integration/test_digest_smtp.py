"""`casereview digest` against a real SMTP server (aiosmtpd, in this process) on a fixed
database and date: one email per recipient, each holding the cases that recipient must
act on, multipart plain text and HTML, and no personal field anywhere in it."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socket
from pathlib import Path

import pytest

from casereview.infra.now import FixedClock, SystemClock
from casereview.services import cases, demo, users
from casereview.services import digest as service
from casereview.services.context import ServiceContext
from tests.conftest import TODAY as RUN_DAY
from tests.conftest import run_sql

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

TODAY = dt.date(2026, 11, 23)
ADMIN = "demo-officer"
CHILD_NAME = "Jessamy Quillfeather"  # a personal field: never in any email
PSEUDONYM = "Child Q"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(handler) -> tuple[object, int]:
    port = free_port()
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller, port = start(inbox)
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> str:
    """The demo dataset on Mon 23 Nov 2026, plus one case whose child's name is
    recorded (a personal field), its notification due in 2 working days."""
    url = f"sqlite:///{tmp_path_factory.mktemp('digest') / 'digest.db'}"
    demo.seed(url, ADMIN, TODAY)
    ctx = ServiceContext(url=url, account=ADMIN, clock=FixedClock(TODAY))
    try:
        users.add_user(ctx, "chair-only", "Chair of the group", ["chair"], None)
        users.add_user(ctx, "scrut", "Scrutineer", ["scrutineer"], None)
        cases.open_case(
            ctx,
            "2026-099",
            aware_on=dt.date(2026, 11, 20),
            pseudonym=PSEUDONYM,
            fields={"child_name": CHILD_NAME},
        )
    finally:
        ctx.close()
    return url


def settings(tmp_path: Path, port: int, extra: str = "") -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(
        f"""
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "Business unit <bu@example.org>"

[digest]
within = 5

[people]
{ADMIN} = "officer@example.org"
chair-only = "chair@example.org"
demo-icb = "icb.partner@example.org"
scrut = "scrutineer@example.org"

[agency_leads]
police = "police.lead@example.org"
icb = "icb.lead@example.org"
{extra}
""",
        encoding="utf-8",
    )
    return path


def personal_values(url: str) -> set[str]:
    """Every stored value of a personal field (the workflow's `personal = true`)."""
    found = set()
    for (fields,) in run_sql(url, "SELECT fields FROM cases"):
        data = json.loads(fields)
        if "child_name" in data:
            found.add(data["child_name"])
    return found


def run(url: str, config: Path, **kwargs) -> service.DigestRun:
    ctx = ServiceContext(url=url, account=ADMIN, clock=FixedClock(TODAY))
    try:
        return service.digest(ctx, config=config, **kwargs)
    finally:
        ctx.close()


def received(inbox: Inbox) -> dict[str, email.message.EmailMessage]:
    by_address: dict[str, email.message.EmailMessage] = {}
    for _, rcpts, content in inbox.messages:
        assert len(rcpts) == 1
        assert rcpts[0] not in by_address, "one email per recipient"
        by_address[rcpts[0]] = email.message_from_bytes(content, policy=email.policy.default)
    return by_address


def bodies(message) -> tuple[str, str]:
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return plain, html


def test_each_recipient_gets_one_email_with_their_cases_and_no_personal_field(
    world, smtp_server, tmp_path
):
    inbox, port = smtp_server
    assert personal_values(world) == {CHILD_NAME}
    result = run(world, settings(tmp_path, port))
    got = received(inbox)

    # Who: those with something to act on; the scrutineer records no step and gets none.
    assert set(got) == {
        "officer@example.org",
        "chair@example.org",
        "icb.partner@example.org",
        "icb.lead@example.org",
    }
    assert result.sent == 4 and not result.failures
    assert all(sender == "bu@example.org" for sender, _, _ in inbox.messages)

    for address, message in got.items():
        assert message["To"] == address
        assert message.get_content_type() == "multipart/alternative"
        assert message["Auto-Submitted"] == "auto-generated"
        plain, html = bodies(message)
        raw = inbox.messages[[r[1][0] for r in inbox.messages].index(address)][2]
        for text in (plain, html, str(message["Subject"]), raw.decode("utf-8", "replace")):
            assert CHILD_NAME not in text
            assert "Jessamy" not in text

    officer_plain, officer_html = bodies(got["officer@example.org"])
    # The new case's notification (due Wed 25 Nov), under its pseudonym, and the demo's
    # overdue notification and publication, in both parts.
    for ref in ("2026-099", "2026-012", "2026-003", "2026-009"):
        assert ref in officer_plain and ref in officer_html
    assert PSEUDONYM in officer_plain
    # Four clocks are overdue for the office, but one of them (2026-008's rapid review)
    # waits on the partners' sign-offs: theirs is the work, and the office is not told to
    # withdraw the case instead.
    assert "Overdue (3)" in officer_plain
    assert "Next: Withdraw" not in officer_plain
    assert "Notify the Panel (notify)" in officer_plain

    # The chair acts on decisions only: the notification (decide not to notify) and
    # the rapid review's proposal, not the publication the business unit records.
    chair_plain, _ = bodies(got["chair@example.org"])
    assert "2026-099" in chair_plain and "decide_not_to_notify" in chair_plain
    assert "2026-009" in chair_plain and "propose_decision" in chair_plain
    assert "2026-003" not in chair_plain

    # The ICB has one sign-off missing (2026-008): its partner and its lead hear of it;
    # the police have signed everything, so their lead gets no email.
    for address in ("icb.partner@example.org", "icb.lead@example.org"):
        plain, _ = bodies(got[address])
        assert "2026-008" in plain and "sign_off, for icb" in plain
        assert "2026-099" not in plain
    assert "police.lead@example.org" not in got


def test_a_dry_run_sends_nothing_and_needs_no_settings(world, smtp_server, tmp_path, monkeypatch):
    inbox, _ = smtp_server
    monkeypatch.setenv("CASEREVIEW_DIGEST_CONFIG", str(tmp_path / "absent.toml"))
    result = run(world, None, dry_run=True)
    assert inbox.messages == []
    assert {d.recipient.key for d in result.digests} == {ADMIN, "chair-only", "demo-icb"}
    assert all(d.recipient.address is None for d in result.digests)


def test_sending_without_a_settings_file_is_refused_and_sends_nothing(world, tmp_path):
    from casereview.errors import NotFound

    with pytest.raises(NotFound, match="no digest settings file"):
        run(world, tmp_path / "absent.toml")


def test_a_refused_address_is_reported_and_the_others_are_sent(world, tmp_path):
    class Refusing(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, options):
            if address.startswith("chair@"):
                return "550 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    refusing = Refusing()
    controller, port = start(refusing)
    try:
        result = run(world, settings(tmp_path, port))
    finally:
        controller.stop()
    assert [f.key for f in result.failures] == ["chair-only"]
    assert result.sent == 3
    assert "chair@example.org" not in {r[1][0] for r in refusing.messages}


def test_the_cli_exits_1_naming_a_refused_address(world, tmp_path, cli, monkeypatch):
    from tests.conftest import register_cli_account

    class Refusing(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, options):
            if address.startswith("icb.lead@"):
                return "550 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    register_cli_account(world, ADMIN, today=TODAY)
    refusing = Refusing()
    controller, port = start(refusing)
    try:
        path = world.removeprefix("sqlite:///")
        result = cli("digest", "--db", path, "--config", str(settings(tmp_path, port)))
    finally:
        controller.stop()
    assert result.exit_code == 1
    assert "not sent to icb: the server refused the address" in result.stderr
    assert "sent 3 emails" in result.stderr
    assert len(refusing.messages) == 3


def test_an_unreachable_server_is_one_error(world, tmp_path):
    from casereview.errors import CaseReviewError

    with pytest.raises(CaseReviewError, match=r"cannot send mail through 127\.0\.0\.1"):
        run(world, settings(tmp_path, 9))  # the discard port: nothing listens in tests


def test_the_cli_sends_and_reports_on_stderr(world, smtp_server, tmp_path, cli, monkeypatch):
    from tests.conftest import register_cli_account

    inbox, port = smtp_server
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    register_cli_account(world, ADMIN, today=TODAY)  # a scrutineer: reads, acts on nothing
    path = world.removeprefix("sqlite:///")
    result = cli("digest", "--db", path, "--config", str(settings(tmp_path, port)))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "Digest as of 2026-11-23, 5 working days ahead: sent 4 emails.\n"
    assert len(inbox.messages) == 4


def test_the_cli_dry_run_prints_each_digest(world, tmp_path, cli, monkeypatch):
    from tests.conftest import register_cli_account

    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    account = register_cli_account(world, ADMIN, today=TODAY)
    path = world.removeprefix("sqlite:///")
    result = cli(
        "digest",
        "--db",
        path,
        "--dry-run",
        "--within",
        "2",
        "--config",
        str(settings(tmp_path, 9)),
    )
    assert result.exit_code == 0, result.stderr
    assert "To: officer@example.org" in result.stdout
    assert "Subject: casereview reminders: 3 overdue, " in result.stdout
    assert "Next: Withdraw" not in result.stdout
    assert CHILD_NAME not in result.stdout
    assert "would send 4 emails" in result.stderr
    assert account  # registered to read


def test_bad_settings_are_one_error_line(world, tmp_path, cli, monkeypatch):
    from tests.conftest import register_cli_account

    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    register_cli_account(world, ADMIN, today=TODAY)
    path = world.removeprefix("sqlite:///")
    bad = tmp_path / "bad.toml"
    bad.write_text('[smtp]\nhost = "h"\nsender = "a@b.c"\npassword = "hunter2"\n')
    result = cli("digest", "--db", path, "--config", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert "never kept in the settings file" in result.stderr
    assert "hunter2" not in result.stderr
    missing = cli("digest", "--db", path, "--config", str(tmp_path / "none.toml"))
    assert missing.exit_code == 3


def test_the_digest_reads_the_backend_under_test(database_url, cli, monkeypatch, tmp_path):
    """The same dry run on SQLite and, with CASEREVIEW_TEST_DATABASE_URL, PostgreSQL."""
    from casereview.infra import identity

    monkeypatch.setattr(identity, "os_account", lambda: "root")
    monkeypatch.setenv("CASEREVIEW_DIGEST_CONFIG", str(tmp_path / "absent.toml"))
    account = ServiceContext.from_options(database_url).account
    demo.seed(database_url, account, RUN_DAY)
    result = cli("digest", "--dry-run", "--db", database_url)
    assert result.exit_code == 0, result.stderr
    # The demo's ICB partner has a sign-off missing (whatever today is); its account
    # acts for the business unit and the chair, so it has clocks of its own.
    assert "sign_off, for icb" in result.stdout
    assert result.stdout.count("To: (no address in the settings: not sent)") >= 2
    assert f"{account} has " in result.stderr and "no address in the settings" in result.stderr
