"""The `casereview` command: the root typer app, its global options, and the one place
that turns exceptions into an `Error: …` line and an exit code.

Command groups live in sibling modules (one per noun) and are registered here.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from casereview import __version__
from casereview.cli import admin as admin_cli
from casereview.cli import audit as audit_cli
from casereview.cli import calendar as calendar_cli
from casereview.cli import cases as cases_cli
from casereview.cli import dashboard as dashboard_cli
from casereview.cli import demo as demo_cli
from casereview.cli import log as log_cli
from casereview.cli import report as report_cli
from casereview.cli import workdays as workdays_cli
from casereview.cli import workflow as workflow_cli
from casereview.errors import CaseReviewError, ExitCode

DEBUG_ENV = "CASEREVIEW_DEBUG"


def _debug_requested(args: Sequence[str]) -> bool:
    return "--debug" in args or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _fail(message: str, code: int) -> None:
    # Imported late so that a successful `--help` never pays for rich's console setup.
    from casereview.cli.render import console

    console.error(message)
    sys.exit(code)


class CaseReviewGroup(TyperGroup):
    """Runs click in non-standalone mode so every failure passes through one handler.

    Typer would otherwise draw usage errors as multi-line panels and print tracebacks
    (with local variables, which could hold case data) for unexpected exceptions.
    """

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = _debug_requested(argv)
        try:
            rv = super().main(
                args=argv,
                prog_name=prog_name or "casereview",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except CaseReviewError as exc:
            if debug:
                traceback.print_exc()
            _fail(exc.message, int(exc.exit_code))
        except TyperException as exc:
            # typer vendors click; its usage errors (exit 2) carry the failing context.
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
                typer.echo(ctx.get_help(), err=True)
                sys.exit(int(ExitCode.USAGE))
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _fail(" ".join(exc.format_message().split()) + hint, exc.exit_code)
        except Abort:
            _fail("interrupted; nothing was changed", int(ExitCode.ERROR))
        except Exit as exc:
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; nothing was changed", 130)
        except BrokenPipeError:
            # A reader such as `head` closed the pipe; that is not our failure.
            sys.stderr.close()
            sys.exit(int(ExitCode.OK))
        except Exception as exc:
            if debug:
                traceback.print_exc()
            _fail(
                f"unexpected internal error ({type(exc).__name__}); nothing was changed. "
                "Rerun with --debug for details and report it.",
                int(ExitCode.ERROR),
            )
        if isinstance(rv, int) and not isinstance(rv, bool):
            sys.exit(rv)
        sys.exit(int(ExitCode.OK))


app = typer.Typer(
    cls=CaseReviewGroup,
    name="casereview",
    help="Track child safeguarding practice reviews through their statutory life.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"casereview {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: bool = typer.Option(
        False, "--debug", help="Show a full traceback when a command fails."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Track child safeguarding practice reviews through their statutory life."""


app.command("init")(admin_cli.init)
app.add_typer(admin_cli.user_app, name="user")
app.add_typer(cases_cli.app, name="case")
app.add_typer(audit_cli.app, name="audit")
dashboard_cli.register(app)
app.add_typer(log_cli.app, name="log")
app.add_typer(calendar_cli.app, name="calendar")
demo_cli.register(app)
report_cli.register(app)
app.add_typer(workdays_cli.app, name="workdays")
app.add_typer(workflow_cli.app, name="workflow")


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    command = typer.main.get_command(app)
    command.main(args=argv, prog_name="casereview")
