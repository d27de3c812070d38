"""Which casereview user a verified sign-in identity is. Pure.

An identity provider (OpenID Connect) vouches for a person as the pair (issuer,
subject): the provider's URL and its stable id for that person, never an email
address, which can change hands. An admin links such a pair to a casereview username
(`identity_link`) and may unlink it (`identity_unlink`): admin events under no case,
fields `username`, `issuer`, `subject`. The mapping is the log's last word on each
pair, the rule the sign-in lookup (`store.identities`), the PostgreSQL lookup function
and `audit verify` all apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IDENTITY_LINK = "identity_link"
IDENTITY_UNLINK = "identity_unlink"
IDENTITY_TRIGGERS = frozenset({IDENTITY_LINK, IDENTITY_UNLINK})
MAX_SUBJECT = 255
"""OpenID Connect: a subject is at most 255 ASCII characters."""

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, order=True)
class Identity:
    issuer: str
    subject: str


def issuer_problem(issuer: str) -> str | None:
    """Why `issuer` is no OpenID Connect issuer (None if it is one): an https URL with no
    query or fragment (http only on this machine, as a test provider runs)."""
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or not parts.hostname:
        return "an issuer is the provider's URL, with no query or fragment"
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS):
        return None
    return "an issuer's URL starts with https://"


def subject_problem(subject: str) -> str | None:
    """Why `subject` is no OpenID Connect subject (None if it is one)."""
    if not subject or len(subject) > MAX_SUBJECT:
        return f"a subject is 1 to {MAX_SUBJECT} characters"
    if not subject.isascii() or not subject.isprintable():
        return "a subject is printable ASCII"
    return None


def read(fields: Mapping[str, Any]) -> tuple[str, Identity]:
    """The username and identity an `identity_link` or `identity_unlink` names;
    ValueError when they cannot be read."""
    username, issuer, subject = (fields.get(k) for k in ("username", "issuer", "subject"))
    if not all(isinstance(v, str) and v for v in (username, issuer, subject)):
        raise ValueError("an identity event names a username, an issuer and a subject")
    return str(username), Identity(str(issuer), str(subject))


def apply(links: dict[Identity, str], trigger: str, fields: Mapping[str, Any]) -> str | None:
    """Apply one identity event to `links` (identity -> username); why it does not fit
    the mapping as it stood (a link of a linked identity, an unlink of one not linked
    to that user), or None. ValueError when it cannot be read."""
    username, identity = read(fields)
    current = links.get(identity)
    if trigger == IDENTITY_LINK:
        if current is not None:
            return f"the identity is already linked to {current!r}"
        links[identity] = username
        return None
    if trigger != IDENTITY_UNLINK:
        raise ValueError(f"{trigger!r} is not an identity event")
    if current != username:
        return f"the identity is not linked to {username!r}"
    del links[identity]
    return None


def mapping(events: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[Identity, str]:
    """Every linked identity after `events` ((trigger, fields) in seq order); an event
    that cannot be read or does not fit is passed over (verify reports it)."""
    links: dict[Identity, str] = {}
    for trigger, fields in events:
        try:
            apply(links, trigger, fields)
        except ValueError:
            continue
    return links
