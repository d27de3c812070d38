"""`casereview workflow …`: list, show, validate, lint and diagram workflow definitions."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True, help="Workflow definitions: list, show, validate, lint, diagram."
)
