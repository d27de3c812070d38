"""Rendering for `digest`: the digests themselves on a dry run (stdout), and what was
sent, skipped or refused (stderr)."""

from __future__ import annotations

from casereview.cli.render.console import info, print_line, warning
from casereview.formats import email
from casereview.presenters.words import plural
from casereview.services.digest import DigestRun


def digest_run(run: DigestRun) -> None:
    if run.dry_run:
        for digest in run.digests:
            print_line("=" * 72)
            print_line(email.dry_run(digest).rstrip("\n"))
    for username in run.unknown_people:
        warning(f"the settings name {username!r}, who is not an active casereview user")
    for agency in run.unknown_agencies:
        warning(f"the settings name agency {agency!r}, which no installed workflow declares")
    for d in run.unaddressed:
        warning(
            f"{d.recipient.key} has {plural(len(d.items), 'clock')} due but no address in "
            "the settings"
        )
    for failure in run.failures:
        warning(f"not sent to {failure.key}: {failure.reason}")
    addressed = len(run.digests) - len(run.unaddressed)
    verb = "would send" if run.dry_run else "sent"
    count = addressed if run.dry_run else run.sent
    info(
        f"Digest as of {run.as_of}, {run.within} working days ahead: {verb} {count} "
        f"email{'s' if count != 1 else ''}"
        + (f"; {plural(run.unassigned, 'clock')} nobody can act on now" if run.unassigned else "")
        + "."
    )
