"""`casereview report`: figures for the annual report and the scrutiny committee."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `report` command to the root app."""
