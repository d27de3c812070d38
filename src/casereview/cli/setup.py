"""`casereview setup`: the first run, by questions or by flags.

With none of `--partnership`, `--my-role`, `--person` (and without `--no-input`) it asks,
explaining each question (`cli/render/setup.py`); with any of them it asks nothing and
does exactly what the flags say. Either way `services.setup` checks everything before
the first step is recorded.
"""

from __future__ import annotations

from typing import Annotated

import typer

from casereview.cli.options import DbOption, context
from casereview.errors import Input, InvalidInput

PERSON_FORMAT = "LOGIN:FULL NAME:ROLE[,ROLE…][:AGENCY]"


def parse_person(text: str) -> tuple[str, str, tuple[str, ...], str | None]:
    """`jo:Jo Bloggs:business_unit`, `kim:Kim Jones:partner:police` → its parts
    (typer.BadParameter, a usage error, if it is not in `PERSON_FORMAT`)."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (3, 4) or not all(parts[:3]):
        raise typer.BadParameter(
            f"{text!r} is not {PERSON_FORMAT} (e.g. 'kim:Kim Jones:partner:police')",
            param_hint="--person",
        )
    roles = tuple(r.strip() for r in parts[2].split(",") if r.strip())
    agency = parts[3] if len(parts) == 4 and parts[3] else None
    return parts[0], parts[1], roles, agency


def setup(
    partnership: Annotated[
        str | None,
        typer.Option(
            "--partnership",
            metavar="NAME",
            help="The partnership's name (heads every report and export).",
        ),
    ] = None,
    my_role: Annotated[
        list[str] | None,
        typer.Option(
            "--my-role",
            metavar="ROLE",
            help="A role for yourself besides admin (repeat for several), e.g. business_unit "
            "to open cases.",
        ),
    ] = None,
    my_agency: Annotated[
        str | None,
        typer.Option("--my-agency", metavar="AGENCY", help="The agency --my-role acts for."),
    ] = None,
    person: Annotated[
        list[str] | None,
        typer.Option(
            "--person",
            metavar="SPEC",
            help=f"Add a person: {PERSON_FORMAT} (repeat for each), e.g. "
            "'jo:Jo Bloggs:business_unit' or 'kim:Kim Jones:partner:police'.",
        ),
    ] = None,
    no_input: Annotated[
        bool,
        typer.Option("--no-input", help="Ask nothing: do what the flags say (for scripts)."),
    ] = False,
    group: Annotated[
        str | None,
        typer.Option(
            "--group",
            metavar="GROUP",
            help="On a new SQLite file: share it with this operating-system group (as "
            "'init --group').",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Set up casereview for the first time: the database (you become admin), the
    partnership's name, your own roles and the first people with their roles and
    agencies.

    Without flags it asks, explaining each question; with --partnership, --my-role or
    --person (or --no-input) it asks nothing. Everything is checked before anything is
    recorded; a person who already exists exactly as given is left as they are, one who
    exists otherwise is refused. Run it again later to add more people.
    """
    from casereview.cli.render import setup as render
    from casereview.services import partnership as partnerships
    from casereview.services import setup as service

    ctx = context(db)
    people = tuple(service.Person(*parse_person(p)) for p in person or ())
    scripted = no_input or partnership is not None or bool(my_role) or bool(people)
    if scripted:
        result = service.run(
            ctx,
            partnership=partnership,
            my_roles=tuple(my_role or ()),
            my_agency=my_agency,
            people=people,
            group=group,
        )
    else:
        choices = service.start(ctx, group)
        checks = (
            partnerships.check_name,
            lambda p: service.check_person(ctx, choices, p),
        )
        try:
            answers = render.ask(choices, checks)
        except EOFError:
            raise InvalidInput(
                "setup ran out of answers: run it at a terminal, or give what it asks with "
                "{partnership}, {my_role} and {person} (or {no_input})",
                partnership=Input("partnership"),
                my_role=Input("my_role"),
                person=Input("person"),
                no_input=Input("no_input"),
            ) from None
        if answers is None:
            raise typer.Exit(0)
        result = service.run(ctx, **answers)
    render.done(result)
