"""`casereview due`, `timeline` and `explain`: what is due, a case's story, a due date's why."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's top-level commands to the root app."""
