"""Sending email: the digest's settings file, the SMTP password, and the server.

The settings are a TOML file (docs/digest.md shows one): `--config PATH`, else the file
named by `CASEREVIEW_DIGEST_CONFIG`, else `digest.toml` in the user configuration
directory (`~/.config/casereview/` on Linux, `%LOCALAPPDATA%\\casereview\\` on Windows,
`~/Library/Application Support/casereview/` on macOS). The password is never in that file
nor on a command line (where other accounts can read it in the process list): it comes
from an environment variable or, if the optional `keyring` package is installed, from
the operating system's keyring. Mail goes through the standard library's `smtplib`,
encrypted with STARTTLS (the default) or implicit TLS, certificates checked; unencrypted
delivery is allowed only without a login, so a password never crosses the wire in clear.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from casereview.errors import CaseReviewError, InvalidInput, NotFound

CONFIG_ENV = "CASEREVIEW_DIGEST_CONFIG"
PASSWORD_ENV = "CASEREVIEW_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a password
"""The default environment variable holding the SMTP password."""
KEYRING_SERVICE = "casereview-smtp"
"""The default keyring service name (the entry's user name is the SMTP login)."""
CONFIG_LIMIT = 1024 * 1024
SECURITY = ("starttls", "ssl", "none")
_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | ssl | none
    sender: str
    username: str | None = None
    password_env: str = PASSWORD_ENV
    keyring_service: str = KEYRING_SERVICE
    timeout: float = 30.0


@dataclass(frozen=True)
class MailSettings:
    """A digest settings file, read and checked. `smtp` is None when the file has no
    `[smtp]` table (enough for a dry run)."""

    path: Path | None
    smtp: SmtpSettings | None
    within: int | None = None
    subject: str | None = None
    people: Mapping[str, str] = field(default_factory=dict)
    agency_leads: Mapping[str, str] = field(default_factory=dict)


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the settings are looked for when no path is given."""
    env = os.environ if environ is None else environ
    named = env.get(CONFIG_ENV)
    if named:
        return Path(named)
    from platformdirs import user_config_path

    return user_config_path("casereview", appauthor=False, roaming=False) / "digest.toml"


def load_settings(path: Path | None, *, required: bool) -> MailSettings:
    """The settings at `path` (else the default location). A missing file is NotFound
    when `required`, else empty settings (a dry run needs none)."""
    from casereview.infra.files import read_bounded

    explicit = path is not None
    where = path if path is not None else default_config_path()
    if not explicit and not where.exists() and not required:
        return MailSettings(None, None)
    try:
        raw = read_bounded(where, CONFIG_LIMIT, what="a settings")
    except NotFound:
        raise NotFound(
            f"no digest settings file at {where}; write one as docs/digest.md shows"
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{where} is not a TOML file: {exc}") from None
    return parse_settings(data, where)


def parse_settings(data: Mapping[str, Any], where: Path) -> MailSettings:
    """Check a parsed settings file; InvalidInput names the first wrong key."""
    unknown = sorted(set(data) - {"smtp", "digest", "people", "agency_leads"})
    if unknown:
        raise InvalidInput(f"{where}: unknown table or key {unknown[0]!r}")
    smtp = _smtp(_table(data, "smtp", where), where) if "smtp" in data else None
    digest = _table(data, "digest", where)
    _only(digest, {"within", "subject"}, "digest", where)
    within = digest.get("within")
    if within is not None and (type(within) is not int or not 0 <= within <= 250):
        raise InvalidInput(f"{where}: digest.within must be a whole number from 0 to 250")
    subject = _text(digest, "subject", where, "digest")
    return MailSettings(
        path=where,
        smtp=smtp,
        within=within,
        subject=subject,
        people=_addresses(_table(data, "people", where), "people", where),
        agency_leads=_addresses(_table(data, "agency_leads", where), "agency_leads", where),
    )


def _table(data: Mapping[str, Any], name: str, where: Path) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: [{name}] must be a table")
    return value


def _only(table: Mapping[str, Any], keys: set[str], name: str, where: Path) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise InvalidInput(f"{where}: unknown key {name}.{unknown[0]}")


def _text(table: Mapping[str, Any], key: str, where: Path, name: str) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidInput(f"{where}: {name}.{key} must be non-empty text")
    if isinstance(value, str) and any(c in value for c in "\r\n"):
        raise InvalidInput(f"{where}: {name}.{key} must be one line")
    return value


def is_address(value: str) -> bool:
    """A plain `user@domain` address, or `Name <user@domain>`: one line, one `@`."""
    if any(c in value for c in "\r\n,;") or not value.isprintable():
        return False
    _, address = parseaddr(value)
    local, at, domain = address.partition("@")
    return bool(at and local and domain and "@" not in domain and " " not in address)


def _addresses(table: Mapping[str, Any], name: str, where: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(value, str) or not is_address(value):
            raise InvalidInput(f"{where}: {name}.{key} must be one email address")
        found[str(key)] = value
    return found


def _smtp(table: Mapping[str, Any], where: Path) -> SmtpSettings:
    if "password" in table:
        raise InvalidInput(
            f"{where}: the password is never kept in the settings file; see docs/digest.md"
        )
    _only(
        table,
        {
            "host",
            "port",
            "security",
            "sender",
            "username",
            "password_env",
            "keyring_service",
            "timeout",
        },
        "smtp",
        where,
    )
    host = _text(table, "host", where, "smtp")
    sender = _text(table, "sender", where, "smtp")
    if host is None or sender is None:
        raise InvalidInput(f"{where}: [smtp] needs host and sender")
    if not is_address(sender):
        raise InvalidInput(f"{where}: smtp.sender must be one email address")
    security = table.get("security", "starttls")
    if security not in SECURITY:
        raise InvalidInput(f"{where}: smtp.security must be one of {', '.join(SECURITY)}")
    port = table.get("port", _PORTS[security])
    if type(port) is not int or not 0 < port < 65536:
        raise InvalidInput(f"{where}: smtp.port must be a port number")
    timeout = table.get("timeout", 30)
    if type(timeout) not in (int, float) or not 0 < timeout <= 600:
        raise InvalidInput(f"{where}: smtp.timeout must be seconds, more than 0, at most 600")
    username = _text(table, "username", where, "smtp")
    if username is not None and security == "none":
        raise InvalidInput(
            f"{where}: a login needs smtp.security starttls or ssl; a password is never "
            "sent unencrypted"
        )
    return SmtpSettings(
        host=host,
        port=port,
        security=str(security),
        sender=sender,
        username=username,
        password_env=_text(table, "password_env", where, "smtp") or PASSWORD_ENV,
        keyring_service=_text(table, "keyring_service", where, "smtp") or KEYRING_SERVICE,
        timeout=float(timeout),
    )


def password(
    smtp: SmtpSettings,
    environ: Mapping[str, str] | None = None,
    keyring_lookup: Callable[[str, str], str | None] | None = None,
) -> str | None:
    """The SMTP password: from the environment variable the settings name, else from
    the OS keyring (service `keyring_service`, user the SMTP login) when the `keyring`
    package is installed. None when there is no login; CaseReviewError when there is
    one but no password anywhere."""
    if smtp.username is None:
        return None
    env = os.environ if environ is None else environ
    found = env.get(smtp.password_env)
    if found:
        return found
    lookup = keyring_lookup if keyring_lookup is not None else _keyring_lookup()
    if lookup is not None:
        try:
            found = lookup(smtp.keyring_service, smtp.username)
        except Exception:
            found = None
        if found:
            return found
    raise CaseReviewError(
        f"no SMTP password: set the environment variable {smtp.password_env}, or store it "
        f"in the keyring as service {smtp.keyring_service!r} (see docs/digest.md)"
    )


def _keyring_lookup() -> Callable[[str, str], str | None] | None:
    try:
        import keyring  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    lookup: Callable[[str, str], str | None] = keyring.get_password
    return lookup


@dataclass(frozen=True)
class Failure:
    key: str  # whose message it was (a username or agency id)
    reason: str


def send(
    smtp: SmtpSettings, secret: str | None, messages: Sequence[tuple[str, EmailMessage]]
) -> list[Failure]:
    """Send each `(key, message)` over one connection; the ones the server refused are
    returned (the rest were accepted). CaseReviewError when the server cannot be reached
    or refuses the login: then nothing was sent."""
    if not messages:
        return []
    context = ssl.create_default_context()
    try:
        server: smtplib.SMTP
        if smtp.security == "ssl":
            server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with server:
            if smtp.security == "starttls":
                server.starttls(context=context)
            if smtp.username is not None and secret is not None:
                server.login(smtp.username, secret)
            failures: list[Failure] = []
            for key, message in messages:
                try:
                    server.send_message(message)
                except smtplib.SMTPRecipientsRefused:
                    failures.append(Failure(key, "the server refused the address"))
                except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                    failures.append(
                        Failure(key, f"the server refused the message ({exc.smtp_code})")
                    )
            return failures
    except smtplib.SMTPAuthenticationError:
        raise CaseReviewError(
            f"the SMTP server {smtp.host} refused the login {smtp.username!r}; nothing was sent"
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise CaseReviewError(
            f'the SMTP server {smtp.host} does not offer STARTTLS; set smtp.security = "ssl" '
            "if it takes implicit TLS. Nothing was sent"
        ) from None
    except ssl.SSLError as exc:
        raise CaseReviewError(
            f"no secure connection to {smtp.host}:{smtp.port} ({exc.reason}); nothing was sent"
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise CaseReviewError(
            f"cannot send mail through {smtp.host}:{smtp.port} ({type(exc).__name__}: {exc}); "
            "nothing more was sent"
        ) from None
