"""Output of `casereview demo`: where the demo database is, its dashboard and one timeline.

The dashboard and timeline go to stdout exactly as `due` and `timeline` print them;
where the database is and how to explore it are messages, on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from casereview.cli import shell
from casereview.cli.render import dashboard
from casereview.cli.render.console import err, info, out
from casereview.services.demo import DemoTour


@contextmanager
def seeding() -> Iterator[None]:
    """A spinner on a terminal while the demo cases are recorded; silent when piped."""
    if not sys.stderr.isatty():
        yield
        return
    with err().status("Recording the demonstration cases…"):
        yield


def tour(result: DemoTour) -> None:
    db = shell.quote(result.location)
    info(
        f"Demo database: {result.location} ({result.cases} cases, {result.events} events, "
        f"dated from {result.due.as_of})."
    )
    dashboard.due(result.due, "table")
    out().print()
    dashboard.timeline(result.timeline, as_json=False)
    info(
        "Explore it:\n"
        f"  casereview due --db {db}\n"
        f"  casereview timeline {result.timeline.ref} --db {db}\n"
        f"  casereview explain {result.timeline.ref} lcspr_publication --db {db}\n"
        f"  casereview case list --db {db}"
    )
