"""`casereview demo`: build a demonstration database and show it."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `demo` command to the root app."""
