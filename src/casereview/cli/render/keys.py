"""Rendering for `key …`."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.services.keys import EnrolResult, KeyView


def enrolled(result: EnrolResult) -> None:
    made = "Created and enrolled" if result.created else "Enrolled"
    info(f"{made} signing key {result.key_id} for {result.username}.")
    if result.confirmed:
        info("It is the log's first key, an admin's: confirmed by being first.")
    else:
        info(f"An admin must now run: casereview key confirm {result.username} {result.key_id}")


def changed(key: KeyView, what: str) -> None:
    info(f"{what} key {key.key_id} of {key.username}.")


def key_list(rows: Sequence[KeyView], as_json: bool) -> None:
    if as_json:
        print_json_data(
            [
                {
                    "username": k.username,
                    "key_id": k.key_id,
                    "state": k.state,
                    "enrolled_seq": k.enrolled_seq,
                    "confirmed_seq": k.confirmed_seq,
                    "confirmed_by": k.confirmed_by,
                    "revoked_seq": k.revoked_seq,
                    "revoked_by": k.revoked_by,
                    "yours": k.yours,
                }
                for k in rows
            ]
        )
        return
    table = Table("username", "key id", "state", "enrolled", "confirmed by", "revoked by")
    for k in rows:
        confirmed = (k.confirmed_by or "(first key)") if k.confirmed_seq is not None else ""
        table.add_row(
            literal(k.username) + (" (you)" if k.yours else ""),
            k.key_id,
            k.state,
            f"event {k.enrolled_seq}",
            literal(confirmed) + (f" (event {k.confirmed_seq})" if k.confirmed_seq else ""),
            literal(k.revoked_by or "") + (f" (event {k.revoked_seq})" if k.revoked_seq else ""),
        )
    out().print(table)
