"""The root command: help, version, and the single-line error contract."""

from __future__ import annotations

from casereview import __version__


def test_version_prints_package_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"casereview {__version__}"


def test_unknown_option_is_one_error_line_and_exit_2(cli):
    result = cli("--no-such-option")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: No such option: --no-such-option")
    assert "Traceback" not in result.stderr


def test_unknown_command_is_exit_2(cli):
    result = cli("no-such-command")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")


def test_help_lists_command_groups(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for group in ("workdays", "workflow"):
        assert group in result.stdout


def test_python_dash_m_runs_the_same_cli():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "casereview", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"casereview {__version__}"
