"""Shared fixtures: a CLI runner that goes through casereview's own error handling."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casereview.cli import app as cli_app
from casereview.cli.render import console

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


class Cli:
    """Invoke `casereview ARGS…` in-process and capture stdout and stderr separately."""

    def __init__(self) -> None:
        self._runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        console.reset()
        result = self._runner.invoke(cli_app.app, list(args), env=env, catch_exceptions=False)
        console.reset()
        return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
