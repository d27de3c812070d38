"""`casereview calendar export`: open deadlines as an iCalendar file."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Deadlines as a calendar feed (iCalendar).")
