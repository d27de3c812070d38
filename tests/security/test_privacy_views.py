"""Personal fields: the child's name (and any field a workflow marks `personal`) is left
out of every view, JSON, CSV, export, report and calendar feed; `--include-personal`
shows it only to a role the workflow marks `sees_personal` (England: the business unit
and the chair), and every such view is an event on the hash chain. README: "Children
are always shown by pseudonym."
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from casereview.errors import Refused
from casereview.infra.now import FixedClock
from casereview.services import cases, exports, timeline, users
from casereview.services.context import ServiceContext
from tests.conftest import Cli, enrol_keys
from tests.security.conftest import TODAY, _engine, days_ago

SECRET = "Jordan Zebedee-Quill"
"""The child's name: it must never appear unless asked for by someone allowed to."""


@dataclass
class World:
    url: str
    account: str  # the CLI's own account
    tmp: Path

    def ctx(self, account: str) -> ServiceContext:
        return ServiceContext(url=self.url, account=account, clock=FixedClock(TODAY))

    def access_events(self) -> list[dict[str, Any]]:
        engine = _engine(self.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT kind, trigger, actor, role, case_id, fields FROM events "
                        "WHERE kind = 'access' ORDER BY seq"
                    )
                ).mappings()
                return [{**row, "fields": json.loads(row["fields"])} for row in rows]
        finally:
            engine.dispose()

    def event_count(self) -> int:
        engine = _engine(self.url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one())
        finally:
            engine.dispose()


def _world(url: str, tmp: Path, cli_roles: list[str]) -> World:
    account = ServiceContext.from_options(url).account
    world = World(url, account, tmp)
    me = world.ctx(account)
    try:
        users.init(me)
        for role in cli_roles:
            users.grant_role(me, account, role, None)
        users.add_user(me, "office", "Office", ["business_unit"], None)
        users.add_user(me, "scrut", "Scrutineer", ["scrutineer"], None)
        users.add_user(me, "boss", "Chair", ["chair"], None)
        users.add_user(me, "pol", "Police", ["partner"], "police")
    finally:
        me.close()
    enrol_keys(url, "office", "scrut", "boss", "pol", admin=account, clock=me.clock)
    office = world.ctx("office")
    try:
        cases.open_case(
            office,
            "P-1",
            aware_on=days_ago(8),
            pseudonym="Child A",
            fields={"nature": "death", "child_name": SECRET},
            on=days_ago(7),
        )
        cases.advance(office, "P-1", "notify", fields={"sin_reference": "SIN-1"}, on=days_ago(6))
    finally:
        office.close()
    return world


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> World:
    """The CLI's account is the business unit: allowed to ask, not asking by default."""
    return _world(database_url, tmp_path, ["business_unit"])


@pytest.fixture
def scrutinised(database_url: str, tmp_path: Path) -> World:
    """The CLI's account is the scrutineer: never shown personal fields."""
    return _world(database_url, tmp_path, ["scrutineer"])


VIEWS = [
    ("case", "show", "P-1"),
    ("case", "show", "P-1", "--json"),
    ("case", "show", "P-1", "--as-at", days_ago(6).isoformat()),
    ("case", "list"),
    ("case", "list", "--json"),
    ("timeline", "P-1"),
    ("timeline", "P-1", "--json"),
    ("explain", "P-1", "rapid_review"),
    ("explain", "P-1", "rapid_review", "--json"),
    ("due",),
    ("due", "--json"),
    ("due", "--csv"),
    ("report", "--format", "json", "--detail"),
    ("report", "--format", "md", "--detail"),
    ("report", "--format", "html", "--detail"),
    ("report", "--format", "csv", "--detail"),
]


@pytest.mark.parametrize("args", VIEWS, ids=[" ".join(a) for a in VIEWS])
def test_no_view_shows_the_childs_name(cli: Cli, world: World, args: tuple[str, ...]) -> None:
    result = cli(*args, "--db", world.url)
    assert result.exit_code == 0, result.stderr
    assert "Child A" in result.stdout or args[0] in ("due", "report")
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    assert world.access_events() == []  # nothing asked, nothing recorded


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_no_export_holds_the_childs_name(cli: Cli, world: World, fmt: str) -> None:
    path = world.tmp / f"log.{fmt}"
    result = cli("log", "export", "--format", fmt, "--output", str(path), "--db", world.url)
    assert result.exit_code == 0, result.stderr
    assert SECRET not in path.read_text(encoding="utf-8-sig")


def test_the_calendar_feed_holds_no_childs_name(cli: Cli, world: World) -> None:
    path = world.tmp / "feed.ics"
    result = cli("calendar", "export", "--output", str(path), "--db", world.url)
    assert result.exit_code == 0, result.stderr
    feed = path.read_text(encoding="utf-8")
    assert "Child A" in feed
    assert SECRET not in feed


def test_case_show_names_the_personal_fields_it_left_out(cli: Cli, world: World) -> None:
    shown = json.loads(cli("case", "show", "P-1", "--json", "--db", world.url).stdout)
    assert "child_name" not in shown["fields"]
    assert shown["hidden_fields"] == ["child_name"]
    text_view = cli("case", "show", "P-1", "--db", world.url)
    assert "Personal fields not shown: child_name." in text_view.stderr + text_view.stdout


# -- asking for them ------------------------------------------------------------------------

ASKING = [
    (("case", "show", "P-1", "--include-personal"), "case show", ["P-1"]),
    (("timeline", "P-1", "--include-personal"), "timeline", ["P-1"]),
    (("timeline", "P-1", "--include-personal", "--json"), "timeline", ["P-1"]),
]


@pytest.mark.parametrize(("args", "command", "named"), ASKING, ids=[a[0][0] for a in ASKING])
def test_an_allowed_role_sees_them_and_the_view_is_logged_on_the_chain(
    cli: Cli, world: World, args: tuple[str, ...], command: str, named: list[str]
) -> None:
    result = cli(*args, "--db", world.url)
    assert result.exit_code == 0, result.stderr
    assert SECRET in result.stdout
    [event] = world.access_events()
    assert event["trigger"] == "view_personal"
    assert event["actor"] == world.account
    assert event["role"] == "business_unit"
    assert event["case_id"] is None
    assert event["fields"] == {"command": command, "cases": named}
    # One append path: the view is chained like any other event, and the log verifies.
    verified = cli("audit", "verify", "--db", world.url)
    assert verified.exit_code == 0, verified.stdout + verified.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_an_export_with_personal_fields_is_logged_and_still_verifies(
    cli: Cli, world: World, fmt: str
) -> None:
    path = world.tmp / f"personal.{fmt}"
    args = ("log", "export", "--format", fmt, "--output", str(path), "--include-personal")
    result = cli(*args, "--db", world.url)
    assert result.exit_code == 0, result.stderr
    assert SECRET in path.read_text(encoding="utf-8-sig")
    [event] = world.access_events()
    made = exports.verify_export(path, None).meta
    assert made is not None
    assert event["fields"] == {
        "command": "log export",
        "cases": "all",
        "created_at": made.created_at,
    }
    # Verifying the file regenerates it; that is no new view of anyone's name.
    checked = cli("log", "verify-export", str(path), "--db", world.url)
    assert checked.exit_code == 0, checked.stdout
    assert len(world.access_events()) == 1


ASKED = [
    ("case", "show", "P-1", "--include-personal"),
    ("timeline", "P-1", "--include-personal"),
    ("log", "export", "--include-personal"),
]


@pytest.mark.parametrize("args", ASKED, ids=[a[0] for a in ASKED])
def test_the_scrutineer_is_refused_and_nothing_is_shown_or_recorded(
    cli: Cli, scrutinised: World, args: tuple[str, ...]
) -> None:
    before = scrutinised.event_count()
    result = cli(*args, "--db", scrutinised.url)
    assert result.exit_code == 4, result.stderr
    assert result.stderr.startswith("Error: personal fields are shown only to ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "business_unit" in result.stderr and "chair" in result.stderr
    assert SECRET not in result.stdout
    assert scrutinised.event_count() == before


@pytest.mark.parametrize(
    ("account", "allowed"),
    [("office", True), ("boss", True), ("scrut", False), ("pol", False)],
)
def test_which_england_roles_may_ask(world: World, account: str, allowed: bool) -> None:
    ctx = world.ctx(account)
    try:
        if allowed:
            view = cases.show_case(ctx, "P-1", include_personal=True)
            assert view.fields["child_name"] == SECRET
            line = timeline.timeline(ctx, "P-1", include_personal=True)
            assert line.hidden_fields == ()
        else:
            with pytest.raises(Refused):
                cases.show_case(ctx, "P-1", include_personal=True)
            with pytest.raises(Refused):
                timeline.timeline(ctx, "P-1", include_personal=True)
            with pytest.raises(Refused), (world.tmp / "x.csv").open("wb") as sink:
                exports.export_log(ctx, exports.LogExportRequest(include_personal=True), sink)
    finally:
        ctx.close()
    assert len(world.access_events()) == (2 if allowed else 0)


# -- another workflow's personal field ------------------------------------------------------


@pytest.fixture
def minimal_case(
    world: World, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServiceContext]:
    """A case on the `minimal` test workflow, whose field `name` is personal and which
    marks no role `sees_personal`."""
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(fixtures_dir / "workflows"))
    me = world.ctx(world.account)
    try:
        from casereview.services import workflows as workflow_service

        workflow_service.install(me, "minimal")
        users.add_user(me, "clerk", "Clerk", ["clerk"], None)
    finally:
        me.close()
    enrol_keys(me.url, "clerk", admin=me.account, clock=me.clock)
    clerk = world.ctx("clerk")
    try:
        cases.open_case(
            clerk,
            "M-1",
            aware_on=days_ago(3),
            workflow="minimal",
            fields={"received_on": days_ago(3).isoformat(), "name": SECRET},
            on=days_ago(3),
        )
        yield clerk
    finally:
        clerk.close()


def test_a_field_another_workflow_marks_personal_is_hidden_and_nobody_may_ask(
    minimal_case: ServiceContext,
) -> None:
    view = cases.show_case(minimal_case, "M-1")
    assert "name" not in view.fields
    assert view.hidden_fields == ("name",)
    assert SECRET not in json.dumps(timeline.timeline(minimal_case, "M-1"), default=str)
    with pytest.raises(Refused, match="lets no role see"):
        cases.show_case(minimal_case, "M-1", include_personal=True)
