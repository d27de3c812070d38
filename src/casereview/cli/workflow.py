"""`casereview workflow …`: list, install, show, validate, lint, diff and diagram workflow
definitions.

Each command parses its arguments, makes one call into the registry or
`casereview.services.workflows` (list, install, validate, lint), and hands the result to
`cli.render.workflow`. The workflow package (pydantic, transitions) and
rich are imported inside the commands, so `casereview --help` does not pay for them.
Problems found by validate and lint go to stdout, one per line (they are the command's
output); the closing `Error: …` line goes to stderr with exit code 5.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from casereview.cli.options import DbOption, context

if TYPE_CHECKING:
    from casereview.domain.workflow.lint import Report
    from casereview.infra.workflows.registry import Registry

app = typer.Typer(
    no_args_is_help=True,
    help="Workflow definitions: list, install, show, validate, lint, diff, diagram.",
)

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON (stable keys, see docs/workflows.md).")
]
VersionOption = Annotated[
    int | None,
    typer.Option("--version", min=1, help="Use this version instead of the highest installed."),
]
Target = Annotated[
    str,
    typer.Argument(
        metavar="ID|FILE",
        help="An installed workflow id (e.g. england-lcspr) or the path of a .toml file.",
    ),
]


def _registry() -> Registry:
    from casereview.infra.workflows.registry import Registry

    return Registry.from_environment()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _finish(
    reports: list[Report], *, command: str, as_json: bool, clean: str, summary: str
) -> None:
    """Render the reports; raise InvalidWorkflow (exit 5) if any has problems."""
    from casereview.cli.render import console
    from casereview.cli.render import workflow as render
    from casereview.errors import InvalidWorkflow

    if as_json:
        render.reports_json(reports)
    else:
        render.reports_text(reports, clean=clean)
    bad = [r for r in reports if not r.ok]
    if bad:
        problems = [p for r in bad for p in r.problems]
        raise InvalidWorkflow(
            f"{command}: {_plural(len(problems), 'problem')} in "
            f"{_plural(len(bad), 'workflow')} (of {len(reports)} checked)",
            problems,
        )
    if not as_json:
        console.info(f"{command}: {_plural(len(reports), 'workflow')} checked, {summary}")


@app.command("list")
def list_workflows(json_: JsonFlag = False, db: DbOption = None) -> None:
    """List workflows: installed versions, and files found but not installed.

    Files are found in the shipped folder and in CASEREVIEW_WORKFLOWS; only an installed
    version can be used for new cases (see 'workflow install').
    """
    from casereview.cli.render import console
    from casereview.cli.render import workflow as render
    from casereview.services.workflows import listing

    found = listing(context(db))
    if json_:
        render.list_json(found.workflows)
    else:
        render.list_table(found.workflows)
    if found.database is None:
        console.warning("there is no database yet, so nothing is installed (run 'casereview init')")
    for problem in found.problems:
        console.warning(problem)


@app.command("install")
def install(
    target: Annotated[
        str,
        typer.Argument(
            metavar="ID|FILE",
            help="The path of a .toml file, or a workflow id (england-lcspr, england-lcspr@2) "
            "to install the file found for it.",
        ),
    ],
    version: Annotated[
        int | None,
        typer.Option("--version", min=1, help="With an id: this version, not the highest found."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Install a workflow file into the database, so new cases can use it (admin only).

    The file is checked as 'workflow validate' and 'workflow lint' check it; its content
    and sha256 are recorded by an event. An id installs the file found for it (shipped,
    or in CASEREVIEW_WORKFLOWS). An installed version is never replaced: give changed
    rules a new version number.
    """
    from casereview.cli.render import workflow as render
    from casereview.services.workflows import install as install_workflow

    render.installed(install_workflow(context(db), target, version))


@app.command("show")
def show(
    target: Target,
    version: VersionOption = None,
    json_: JsonFlag = False,
) -> None:
    """Show a workflow's states, triggers, clocks, approval rounds, fields and roles."""
    from casereview.cli.render import workflow as render

    definition = _registry().resolve(target, version)
    if json_:
        render.show_json(definition)
    else:
        render.show(definition)


@app.command("validate")
def validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Workflow files to check.")],
    json_: JsonFlag = False,
) -> None:
    """Check workflow files against the format; list every problem (exit 5 if any)."""
    from casereview.services.workflows import validate_files

    _finish(
        validate_files(files), command="validate", as_json=json_, clean="valid", summary="all valid"
    )


@app.command("lint")
def lint(
    targets: Annotated[
        list[str] | None,
        typer.Argument(metavar="ID|FILE", help="Default: every installed workflow."),
    ] = None,
    json_: JsonFlag = False,
) -> None:
    """Check the process itself; list every finding (exit 5 if any).

    Finds unreachable states, dead ends, clocks that never start or stop, approval
    rounds nobody can sign, and every validation problem.
    """
    from casereview.services.workflows import lint_targets

    reports = lint_targets(targets or [], _registry())
    _finish(reports, command="lint", as_json=json_, clean="no findings", summary="no findings")


@app.command("diff")
def diff(
    before: Annotated[
        str, typer.Argument(metavar="BEFORE", help="ID, ID@VERSION (e.g. england-lcspr@1) or FILE.")
    ],
    after: Annotated[
        str, typer.Argument(metavar="AFTER", help="ID, ID@VERSION or FILE to compare with.")
    ],
    json_: JsonFlag = False,
) -> None:
    """List what changed between two workflow versions: roles, fields, states, triggers,
    approval rounds, clocks, settings, the report and corrections tables.

    Items are matched by id; `+` added, `-` removed, `~` changed (each key that differs,
    before → after). Exit 0 whether or not they differ.
    """
    from casereview.cli.render import workflow as render
    from casereview.services.workflows import diff_targets

    result = diff_targets(_registry(), before, after)
    if json_:
        render.diff_json(result)
    else:
        render.diff_text(result)


@app.command("diagram")
def diagram(
    target: Target,
    version: VersionOption = None,
) -> None:
    """Print the workflow as a Mermaid stateDiagram-v2 (paste into Markdown or mermaid.live)."""
    from casereview.cli.render import workflow as render
    from casereview.domain.workflow.diagram import mermaid

    render.mermaid(mermaid(_registry().resolve(target, version)))
