"""Clock status colours (the words are `domain.clock_status`'s) and the progress bar:
shared by every renderer, so `due`, `timeline` and `case show` draw statuses
identically. Imports only rich and the status words, so `due` stays light.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.text import Text

from casereview.cli.render.console import err
from casereview.domain.clock_status import status_word

STATUS_STYLE = {
    "overdue": "bold red",
    "missed": "red",
    "due_soon": "yellow",
    "paused": "cyan",
    "running": "green",
    "met": "dim green",
}


def status_text(status: str) -> Text:
    """The status as a word (so it reads without colour) in its colour."""
    return Text(status_word(status), style=STATUS_STYLE.get(status, ""))


@contextmanager
def progress(label: str, unit: str = "events") -> Iterator[Callable[[int], None]]:
    """A bar with a count on a terminal; silent when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield lambda _n: None
        return
    # Imported here: rich.progress (with rich.live) has an import cost that every command
    # showing a clock status would otherwise pay without ever drawing a bar.
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} " + unit),
        console=err(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)
