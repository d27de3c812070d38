"""What each user event does to the users table. Pure.

The users table is a projection of the log's admin events, like cases are of case events:
this module is the one rule that turns a `user_add`, `user_change`, `user_grant`,
`user_revoke`, `user_deactivate` or `user_reactivate` into the user as it is afterwards.
The write path (`services/users`) and `audit verify` both apply it, so they cannot
disagree about who held which role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

USER_TRIGGERS = frozenset(
    {
        "user_add",
        "user_change",
        "user_grant",
        "user_revoke",
        "user_deactivate",
        "user_reactivate",
    }
)


@dataclass(frozen=True)
class UserRecord:
    """One user as the log says they are: roles sorted, `active` False once deactivated
    (their history stays)."""

    username: str
    display_name: str
    roles: tuple[str, ...]
    agency: str | None
    active: bool = True


def _text(fields: Mapping[str, Any], key: str) -> str:
    value = fields[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} is not text")
    return value


def _agency(fields: Mapping[str, Any]) -> str | None:
    value = fields.get("agency")
    if value is not None and not isinstance(value, str):
        raise ValueError("agency is not text")
    return value


def apply(users: Mapping[str, UserRecord], trigger: str, fields: Mapping[str, Any]) -> UserRecord:
    """The user an event names, as they are after it. `users` holds everyone as they
    were before. ValueError when the event cannot be read: a trigger that is no user
    event, missing or mistyped fields, a change to a user the log never added.

    `user_add` and `user_change` give the whole user (`user_change` also makes them
    active: that is how a deactivated user was brought back before `user_reactivate`);
    `user_grant` adds one role and, when given, the agency it acts for; `user_revoke`
    takes one role away (the agency stays on record).
    """
    if trigger not in USER_TRIGGERS:
        raise ValueError(f"{trigger!r} is not a user event")
    try:
        username = _text(fields, "username")
        if trigger in ("user_add", "user_change"):
            roles = fields["roles"]
            if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                raise ValueError("roles is not a list of role ids")
            return UserRecord(
                username,
                _text(fields, "display_name"),
                tuple(sorted(set(roles))),
                _agency(fields),
                True,
            )
        before = users.get(username)
        if before is None:
            raise ValueError(f"{trigger} names a user the log never added")
        if trigger == "user_grant":
            role = _text(fields, "role")
            agency = _agency(fields)
            return replace(
                before,
                roles=tuple(sorted({*before.roles, role})),
                agency=agency if agency is not None else before.agency,
            )
        if trigger == "user_revoke":
            role = _text(fields, "role")
            return replace(before, roles=tuple(r for r in before.roles if r != role))
        return replace(before, active=trigger == "user_reactivate")
    except KeyError as missing:
        raise ValueError(f"the event has no {missing}") from None
