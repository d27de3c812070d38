"""The digest's parts without a database or a server: who must act on a clock (on the
shipped LCSPR workflow), the settings file's rules, where the password may come from,
and the email's words (stored text escaped, never a case field)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from casereview.domain import digest as rules
from casereview.errors import CaseReviewError, InvalidInput, NotFound
from casereview.formats import email as email_format
from casereview.infra import mail
from casereview.infra.workflows.registry import Registry


@pytest.fixture(scope="module")
def lcspr():
    return Registry(include_shipped=True).get("england-lcspr", 1)


def ids(duties):
    return {(d.trigger, d.role, d.agency) for d in duties}


def test_the_roles_that_may_stop_a_clock_must_act(lcspr):
    assert ids(rules.duties(lcspr, "screening", {}, "notification")) == {
        ("notify", "business_unit", None),
        ("decide_not_to_notify", "chair", None),
    }


def test_when_only_a_way_out_stops_the_clock_the_step_onward_is_the_duty(lcspr):
    # In rapid_review the clock's own stop (submit) is one state on; withdrawing is no duty
    # on its own, so proposing the decision is listed.
    found = ids(rules.duties(lcspr, "rapid_review", {}, "rapid_review"))
    assert ("propose_decision", "chair", None) in found


def test_a_stop_waiting_on_sign_offs_names_the_agencies_yet_to_sign(lcspr):
    approvals = {"rapid_review": {"local_authority": 10, "police": 11}}
    found = ids(rules.duties(lcspr, "rapid_review_signoff", approvals, "rapid_review"))
    assert ("sign_off", "partner", "icb") in found
    assert not any(agency in ("police", "local_authority") for _, _, agency in found)
    assert ("submit_rapid_review", "business_unit", None) not in found
    signed = {"rapid_review": {"local_authority": 1, "police": 2, "icb": 3}}
    done = ids(rules.duties(lcspr, "rapid_review_signoff", signed, "rapid_review"))
    assert ("submit_rapid_review", "business_unit", None) in done
    assert not any(t == "sign_off" for t, _, _ in done)


def test_unknown_clock_or_terminal_state_has_no_duty(lcspr):
    assert rules.duties(lcspr, "screening", {}, "no_such_clock") == ()
    assert rules.duties(lcspr, "closed", {}, "notification") == ()


def test_a_sign_off_is_for_a_partner_of_that_agency_and_its_lead_only():
    duty = rules.Duty("sign_off", "Sign off", "partner", "icb")
    icb = rules.Person("a", frozenset({"partner"}), "icb")
    police = rules.Person("b", frozenset({"partner"}), "police")
    assert rules.is_for_person(duty, icb) and not rules.is_for_person(duty, police)
    assert rules.is_for_agency(duty, "icb", [icb, police])
    assert not rules.is_for_agency(duty, "police", [icb, police])
    unsigned = rules.Duty("notify", "Notify", "business_unit")
    assert not rules.is_for_agency(unsigned, "icb", [icb, police])


# -- settings ---------------------------------------------------------------------------


def parse(text: str):
    import tomllib

    return mail.parse_settings(tomllib.loads(text), Path("digest.toml"))


GOOD = """
[smtp]
host = "smtp.example.org"
sender = "bu@example.org"
username = "bu@example.org"
[people]
crbu = "Ann Officer <ann@example.org>"
[agency_leads]
police = "lead@police.example.org"
"""


def test_settings_defaults_are_starttls_on_587():
    settings = parse(GOOD)
    assert settings.smtp is not None
    assert (settings.smtp.security, settings.smtp.port) == ("starttls", 587)
    assert settings.smtp.password_env == mail.PASSWORD_ENV
    assert settings.people == {"crbu": "Ann Officer <ann@example.org>"}
    assert parse(GOOD.replace("username", 'security = "ssl"\nusername')).smtp.port == 465


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (GOOD + "\n[smtp2]\n", "unknown table"),
        (GOOD.replace("[people]", '[people]\nx = "not an address"'), "people.x"),
        (GOOD.replace("[people]", '[people]\nx = "a@b.c, d@e.f"'), "people.x"),
        (GOOD.replace("host =", 'password = "pw"\nhost ='), "never kept in the settings"),
        (GOOD.replace("host =", 'security = "none"\nhost ='), "never sent unencrypted"),
        (GOOD.replace("host =", 'security = "tls"\nhost ='), "smtp.security"),
        (GOOD.replace("host =", "port = 0\nhost ="), "smtp.port"),
        (GOOD + "\n[digest]\nwithin = -1\n", "digest.within"),
        (GOOD + '\n[digest]\nsubject = "a\\nBcc: x@y.z"\n', "one line"),
    ],
)
def test_wrong_settings_are_refused_naming_the_key(text, words):
    with pytest.raises(InvalidInput, match=words):
        parse(text)


def test_settings_file_location(tmp_path, monkeypatch):
    monkeypatch.setenv(mail.CONFIG_ENV, str(tmp_path / "x.toml"))
    assert mail.default_config_path() == tmp_path / "x.toml"
    assert mail.load_settings(None, required=False).smtp is None
    with pytest.raises(NotFound):
        mail.load_settings(None, required=True)
    monkeypatch.delenv(mail.CONFIG_ENV)
    assert mail.default_config_path().name == "digest.toml"
    assert "casereview" in mail.default_config_path().parts


def test_the_password_comes_from_the_environment_then_the_keyring():
    smtp = parse(GOOD).smtp
    assert mail.password(smtp, {mail.PASSWORD_ENV: "s3cret"}) == "s3cret"
    asked = []

    def keyring(service, user):
        asked.append((service, user))
        return "from-keyring"

    assert mail.password(smtp, {}, keyring) == "from-keyring"
    assert asked == [(mail.KEYRING_SERVICE, "bu@example.org")]
    with pytest.raises(CaseReviewError, match=mail.PASSWORD_ENV):
        mail.password(smtp, {}, lambda s, u: None)
    no_login = parse(GOOD.replace('username = "bu@example.org"', ""))
    assert mail.password(no_login.smtp, {}) is None


# -- the email --------------------------------------------------------------------------


def digest(items, address="x@example.org"):
    recipient = rules.Recipient("person", "crbu", "Ann", address)
    return rules.Digest(recipient, "2026-11-23", 5, tuple(items))


def item(**changes):
    base = {
        "ref": "2026-001",
        "pseudonym": "Child A",
        "workflow": "England: LCSPR",
        "clock_label": "Rapid review",
        "status": "overdue",
        "due_on": "2026-11-18",
        "working_days_left": -3,
        "steps": (rules.Duty("notify", "Notify the Panel", "business_unit"),),
    }
    return rules.DigestItem(**{**base, **changes})


def test_the_email_has_both_parts_and_sorts_overdue_first():
    msg = email_format.message(
        digest([item(), item(ref="2026-002", status="due_soon", working_days_left=2)]),
        "bu@example.org",
    )
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert (
        plain.index("Overdue (1)")
        < plain.index("2026-001")
        < plain.index("Due within 5 working days (1)")
    )
    assert "3 working days overdue" in plain and "2 working days left, due soon" in plain
    assert "<td>2026-002</td>" in html
    assert (
        msg["Subject"]
        == "casereview reminders: 1 overdue, 1 due within 5 working days (2026-11-23)"
    )


def test_stored_text_is_escaped_in_both_parts():
    msg = email_format.message(
        digest([item(pseudonym="<script>x</script>\x1b[31m")]), "bu@example.org"
    )
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "\x1b" not in plain and "\\x1b" in plain
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_email_names_a_person_by_name_and_login_and_an_agency_by_its_lead():
    plain = email_format.plain_text(digest([item()]))
    assert "What is due for Ann (crbu) as of Mon 23 Nov 2026" in plain
    lead = rules.Digest(
        rules.Recipient("agency", "police", "Police", "l@x.org"), "2026-11-23", 5, (item(),)
    )
    assert "What is due for the lead for Police as of" in email_format.plain_text(lead)


def test_a_digest_without_an_address_is_not_mailed_but_shown():
    with pytest.raises(ValueError):
        email_format.message(digest([item()], address=None), "bu@example.org")
    assert "(no address in the settings: not sent)" in email_format.dry_run(
        digest([item()], address=None)
    )


# -- sending ----------------------------------------------------------------------------


class FakeSMTP:
    """Records what `mail.send` asks of the server."""

    made: ClassVar[list[FakeSMTP]] = []

    def __init__(self, host, port, timeout=None, context=None):
        self.calls = [("connect", host, port)]
        self.context = context
        FakeSMTP.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context):
        self.context = context
        self.calls.append(("starttls",))

    def login(self, user, secret):
        self.calls.append(("login", user))

    def send_message(self, message):
        self.calls.append(("send", message["To"]))


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_sending_encrypts_and_checks_the_certificate_before_the_login(security, monkeypatch):
    import smtplib
    import ssl
    from email.message import EmailMessage

    FakeSMTP.made = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSMTP)
    smtp = parse(GOOD.replace("username", f'security = "{security}"\nusername')).smtp
    msg = EmailMessage()
    msg["To"] = "a@example.org"
    assert mail.send(smtp, "pw", [("crbu", msg)]) == []
    (server,) = FakeSMTP.made
    assert server.context.verify_mode == ssl.CERT_REQUIRED and server.context.check_hostname
    names = [c[0] for c in server.calls]
    assert names.index("login") < names.index("send")
    if security == "starttls":
        assert names.index("starttls") < names.index("login")


def test_no_password_option_exists_on_the_command_line(cli):
    help_text = cli("digest", "--help").stdout
    assert "--password" not in help_text
    assert cli("digest", "--password", "x").exit_code == 2
