"""`casereview log export|verify-export`: the scrutineer's decision log."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="The decision log: export it, verify an export.")
