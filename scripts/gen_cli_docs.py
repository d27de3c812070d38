"""Generate docs/cli.md from the command tree itself.

    python scripts/gen_cli_docs.py            # rewrite docs/cli.md
    python scripts/gen_cli_docs.py --check    # exit 1 if docs/cli.md is out of date

The test suite runs the check, so a command or option added without regenerating the
reference fails CI. The text comes from each command's own help, so the reference and
`--help` can never disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from casereview.cli.app import app
from casereview.errors import ExitCode

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"

EXIT_CODES = {
    ExitCode.OK: "success",
    ExitCode.ERROR: (
        "an error not covered below (a file that cannot be read or written, a database "
        "written by a newer casereview, an internal error)"
    ),
    ExitCode.USAGE: (
        "usage: an unknown command or option, a malformed date or number, a value out of range"
    ),
    ExitCode.NOT_FOUND: "not found: no such case, user, workflow, clock or database",
    ExitCode.REFUSED: (
        "refused: the trigger is not possible now, a role is not held, "
        "a field, rationale or sign-off is missing"
    ),
    ExitCode.INVALID_WORKFLOW: "invalid workflow file: validation or lint findings",
    ExitCode.CONFLICT: (
        "conflict: someone else moved the case first (or `--expect-state` no longer holds), "
        "a duplicate reference or pseudonym, an existing file"
    ),
    ExitCode.VERIFICATION_FAILED: (
        "verification failed: the audit trail or an export did not verify"
    ),
}

INTRO = """# CLI reference

Generated from the commands' own `--help` by `scripts/gen_cli_docs.py`; do not edit by
hand. Dates are ISO `YYYY-MM-DD` in and out. Data goes to stdout and messages to stderr;
every listing has `--json` with stable keys. A failing command prints one line,
`Error: …`, changes nothing, and exits with one of the codes below. `--debug` (before the
command) shows a traceback; `CASEREVIEW_DEBUG=1` does the same.

## Exit codes

| code | meaning |
|---|---|
"""


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if getattr(sub, "hidden", False):
            continue
        found.extend(_walk(sub, [*path, name]))
    return found


def _param_row(param: Any) -> str | None:
    if getattr(param, "hidden", False) or param.name == "help":
        return None
    if param.param_type_name == "argument":
        name = f"`{(param.metavar or param.name).upper()}`"
        kind = "argument" + ("" if param.required else " (optional)")
    else:
        name = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
        kind = "required" if param.required else "option"
    help_text = " ".join((getattr(param, "help", None) or "").split())
    default = param.default
    if (
        param.param_type_name == "option"
        and default not in (None, False, (), [])
        and not callable(default)
    ):
        help_text += f" Default: `{default}`."
    escaped = help_text.replace("|", "\\|")
    return f"| {name} | {kind} | {escaped} |"


def render() -> str:
    root = typer.main.get_command(app)
    lines = [INTRO.rstrip("\n")]
    for code, meaning in EXIT_CODES.items():
        lines.append(f"| {int(code)} | {meaning} |")
    lines.append("")
    lines.append("## Commands")
    lines.append("")
    for path, command in _walk(root, ["casereview"])[1:]:
        if getattr(command, "commands", None):
            lines.append(f"### `{' '.join(path)}`")
            lines.append("")
            lines.append(" ".join((command.help or "").split()))
            lines.append("")
            continue
        lines.append(f"### `{' '.join(path)}`")
        lines.append("")
        help_text = (command.help or "").strip()
        if help_text:
            lines.append(help_text)
            lines.append("")
        params = [p for p in command.params]
        args = " ".join(
            (p.metavar or p.name).upper() if p.required else f"[{(p.metavar or p.name).upper()}]"
            for p in params
            if p.param_type_name == "argument"
        )
        lines.append("```")
        lines.append(f"{' '.join(path)} [OPTIONS] {args}".rstrip())
        lines.append("```")
        lines.append("")
        rows = [r for r in (_param_row(p) for p in params) if r]
        if rows:
            lines.append("| parameter | kind | description |")
            lines.append("|---|---|---|")
            lines.extend(rows)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print("docs/cli.md is out of date: run python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
