"""docs/cli.md is generated from --help; it must list every command and option."""

from __future__ import annotations

import typer
from scripts import gen_cli_docs

from casereview.cli.app import app


def _leaves(command, path):
    subs = getattr(command, "commands", None)
    if not subs:
        yield path, command
        return
    for name, sub in subs.items():
        yield from _leaves(sub, [*path, name])


def test_cli_reference_is_up_to_date():
    current = gen_cli_docs.DOC.read_text(encoding="utf-8")
    assert current == gen_cli_docs.render(), "run: python scripts/gen_cli_docs.py"


def test_every_command_and_option_is_documented():
    text = gen_cli_docs.DOC.read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    leaves = list(_leaves(root, ["casereview"]))
    assert len(leaves) >= 20
    for path, command in leaves:
        assert f"### `{' '.join(path)}`" in text, path
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert f"`{param.opts[0]}`" in text, (path, param.opts)


def test_every_exit_code_is_documented():
    text = gen_cli_docs.DOC.read_text(encoding="utf-8")
    for code in range(8):
        assert f"\n| {code} | " in text
