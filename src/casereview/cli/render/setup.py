"""The questions `casereview setup` asks, each explained, and its closing summary.

Every answer is checked as it is given (by the checks the service itself applies,
handed in as callables), so a mistake is said at once and the question asked again;
nothing is recorded until the last question, "Record all this?", is answered yes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.prompt import Confirm, Prompt
from rich.text import Text

from casereview.cli.messages import wording
from casereview.cli.render.console import err, info, literal
from casereview.errors import CaseReviewError
from casereview.services.setup import Choice, Choices, Person, SetupResult

Checks = tuple[Callable[[str], str], Callable[[Person], bool]]
"""(check a partnership name → the name as recorded; check a person → new or not)."""


def _say(text: str) -> None:
    err().print(Text(text, style="dim"))


def _problem(error: CaseReviewError) -> None:
    err().print(Text("That cannot be recorded: ", style="yellow") + literal(wording(error)))


def _ask(question: str, *, default: str | None = None, choices: list[str] | None = None) -> str:
    while True:
        kwargs: dict[str, Any] = {"console": err(), "choices": choices}
        if default is not None:
            kwargs["default"] = default
        try:
            answer = Prompt.ask(question, **kwargs)
        except EOFError:
            err().print()  # end the unanswered question's line before the error
            raise
        if answer and answer.strip():
            return str(answer).strip()
        err().print(Text("Please give an answer.", style="yellow"))


def _confirm(question: str, *, default: bool) -> bool:
    try:
        return bool(Confirm.ask(question, console=err(), default=default))
    except EOFError:
        err().print()
        raise


def _describe(items: tuple[Choice, ...]) -> None:
    for item in items:
        about = f": {item.description}" if item.description else ""
        err().print(Text("  ") + Text(item.id, style="bold") + literal(f" ({item.label}){about}"))


def ask(choices: Choices, checks: Checks) -> dict[str, Any] | None:
    """Ask the questions; the answers as `services.setup.run` takes them, or None when
    the person declines to record them. EOF on input ends with an error (a usage error:
    setup needs answers, or flags)."""
    check_name, check_person = checks
    where = "Created" if choices.created else "Using"
    info(f"{where} {choices.location}; you ({choices.admin}) are its admin.")
    _say("A few questions set casereview up. Press Enter to take the answer in [brackets].")

    # 1. The partnership's name.
    _say(
        "\nThe partnership's name heads every report and export, e.g. "
        '"Northshire Safeguarding Children Partnership".'
    )
    while True:
        answer = _ask("Partnership name", default=choices.partnership)
        try:
            partnership = check_name(answer)
            break
        except CaseReviewError as error:
            _problem(error)

    # 2. The admin's own working role.
    my_roles: list[str] = []
    mine = choices.people.get(choices.admin)
    opener = choices.open_role
    if opener is not None and (mine is None or opener not in mine.roles):
        _say(
            f"\nAs admin you manage people and install workflows. Opening cases and "
            f"recording their steps needs the {opener} role too (you keep admin)."
        )
        if _confirm(f"Will you open cases yourself (give yourself {opener})?", default=True):
            my_roles.append(opener)

    # 3. The people.
    _say(
        "\nNow the people who will use casereview. Each is known by the login they sign "
        "in to this computer (or the database) with: every step they record is recorded "
        "under it, and shown with their full name."
    )
    if choices.roles:
        _say("The roles:")
        _describe(choices.roles)
    people: list[Person] = []
    taken = {choices.admin}
    while _confirm("Add a person?" if not people else "Add another person?", default=not people):
        login = _ask("Their login (e.g. jbloggs)")
        if login in taken:
            err().print(Text(f"{login} is already given above.", style="yellow"))
            continue
        name = _ask("Their full name")
        ids = [r.id for r in choices.roles]
        role = _ask("Their role", choices=ids) if ids else _ask("Their role")
        agency = None
        if role in choices.agency_roles and choices.agencies:
            _say(f"A {role} signs for one agency:")
            _describe(choices.agencies)
            agency = _ask("Their agency", choices=[a.id for a in choices.agencies])
        person = Person(login, name, (role,), agency)
        try:
            new = check_person(person)
        except CaseReviewError as error:
            _problem(error)
            continue
        if not new:
            _say(f"{login} is already recorded exactly so; nothing will change for them.")
        people.append(person)
        taken.add(login)

    # 4. What will be recorded.
    info("\nTo be recorded:")
    if partnership != choices.partnership:
        info(f"  the partnership's name: {partnership}")
    for role in my_roles:
        info(f"  you ({choices.admin}) also hold {role}")
    for p in people:
        agency = f" for {p.agency}" if p.agency else ""
        info(f"  {p.display_name} ({p.username}): {', '.join(p.roles)}{agency}")
    if not _confirm("Record all this?", default=True):
        info("Nothing more was recorded. Run 'casereview setup' again at any time.")
        return None
    return {"partnership": partnership, "my_roles": tuple(my_roles), "people": tuple(people)}


def done(result: SetupResult) -> None:
    """What setup recorded, and what to do next."""
    if result.created:
        info(f"Created {result.location} and registered {result.admin} as admin.")
    if result.partnership_changed:
        info(f"The partnership is {result.partnership}.")
    for role in result.granted:
        info(f"Granted: you ({result.admin}) now also hold {role}.")
    for user in result.added:
        agency = f" for {user.agency}" if user.agency else ""
        info(f"Added: {user.display_name} ({user.username}), {', '.join(user.roles)}{agency}.")
    for username in result.unchanged:
        info(f"Unchanged: {username} was already recorded exactly so.")
    if result.partnership is None:
        info('The partnership has no name yet: casereview partnership set "NAME"')
    info(
        "Next: open the first case with 'casereview case open REF --aware-on YYYY-MM-DD'; "
        "'casereview user list' shows everyone."
    )
