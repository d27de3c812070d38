"""The `casereview` command: the root typer app, its global options, and the one place
that turns exceptions into an `Error: …` line and an exit code.

Command groups live in sibling modules (one per noun) and are registered here.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from casereview import __version__
from casereview.cli import actions as actions_cli
from casereview.cli import admin as admin_cli
from casereview.cli import audit as audit_cli
from casereview.cli import backup as backup_cli
from casereview.cli import calendar as calendar_cli
from casereview.cli import cases as cases_cli
from casereview.cli import dashboard as dashboard_cli
from casereview.cli import demo as demo_cli
from casereview.cli import digest as digest_cli
from casereview.cli import imports as imports_cli
from casereview.cli import keys as keys_cli
from casereview.cli import log as log_cli
from casereview.cli import messages
from casereview.cli import report as report_cli
from casereview.cli import serve as serve_cli
from casereview.cli import setup as setup_cli
from casereview.cli import workdays as workdays_cli
from casereview.cli import workflow as workflow_cli
from casereview.cli.streams import tolerate_narrow_encodings
from casereview.errors import CaseReviewError, ExitCode

DEBUG_ENV = "CASEREVIEW_DEBUG"


def _debug_requested(args: Sequence[str]) -> bool:
    return "--debug" in args or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _first_undecodable(argv: Sequence[str]) -> int | None:
    """The 1-based position of the first argument that cannot be encoded as UTF-8."""
    for position, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return position
    return None


def _print_traceback() -> None:
    # Imported only when --debug asks for it: importing `traceback` would slow every command.
    import traceback

    traceback.print_exc()


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
        # A terminal that cannot show every character gets escapes, not a crash.
        tolerate_narrow_encodings()
        debug = _debug_requested(argv)
        undecodable = _first_undecodable(argv)
        if undecodable is not None:
            # Bytes that are not UTF-8 reach Python as lone surrogates; nothing could
            # store or print them, so refuse them as a usage error before anything runs.
            _fail(
                f"argument {undecodable} is not valid UTF-8 text; check the terminal's encoding",
                int(ExitCode.USAGE),
            )
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
                _print_traceback()
            _fail(messages.wording(exc), int(exc.exit_code))
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
                _print_traceback()
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
    rich_markup_mode=None,
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
app.command("setup")(setup_cli.setup)
app.add_typer(admin_cli.user_app, name="user")
app.add_typer(keys_cli.app, name="key")
app.add_typer(admin_cli.partnership_app, name="partnership")
app.add_typer(cases_cli.app, name="case")
app.add_typer(audit_cli.app, name="audit")
dashboard_cli.register(app)
app.add_typer(log_cli.app, name="log")
app.add_typer(calendar_cli.app, name="calendar")
demo_cli.register(app)
report_cli.register(app)
backup_cli.register(app)
digest_cli.register(app)
serve_cli.register(app)
app.add_typer(workdays_cli.app, name="workdays")
app.add_typer(workflow_cli.app, name="workflow")
app.add_typer(imports_cli.app, name="import")
app.add_typer(actions_cli.rec_app, name="rec")
app.add_typer(actions_cli.action_app, name="action")


ROOT_FLAGS = ("--debug",)
"""Root options that take no value and may come before the command name."""


def _app_for(argv: Sequence[str]) -> typer.Typer:
    """The root app with only the command or group named in `argv` registered.

    Building the click command tree inspects every command's signature, which costs
    start-up time in proportion to the commands registered; a process runs one command,
    so only that one is built. Anything else — no command, `--help`, `--version`, a
    name that is not a command — gets the whole app, so help, suggestions and errors
    are exactly what they always were.
    """
    name = None
    for arg in argv:
        if arg in ROOT_FLAGS:
            continue
        if arg.startswith("-"):
            return app
        name = arg
        break
    if name is None:
        return app
    commands = [
        c
        for c in app.registered_commands
        if (c.name or typer.main.get_command_name(getattr(c.callback, "__name__", ""))) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    narrow = copy.copy(app)
    narrow.registered_commands = commands
    narrow.registered_groups = groups
    return narrow


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    # casereview uses no pydantic plugins. Without this, building the workflow model
    # classes makes pydantic scan every installed package's entry points for plugins
    # (importing importlib.metadata and reading each dist-info), in every command.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(_app_for(args))
    command.main(args=argv, prog_name="casereview")
