"""The demonstration: a dozen realistic cases at every stage, and the tour that shows them.

`seed` records the cases through the real write path (the same service calls the CLI
makes), so the demo database verifies like any other. Dates are placed relative to
`today` in working days, so the dashboard always shows a realistic mix: some clocks on
track, some due soon, some overdue, one review on hold, one published with an action
plan; given the same `today`, the result is the same every time. `tour` builds a new
demonstration database and reads back its dashboard and one case's timeline.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casereview.errors import Conflict, Input, InvalidInput
from casereview.infra.now import FixedClock
from casereview.services import cases, users
from casereview.services.context import ServiceContext
from casereview.services.due import DueList, due_list
from casereview.services.timeline import CaseTimeline, timeline

MORE_CASES = "review-types.toml"
"""The demo's other cases, in the `demo` folder beside the shipped workflows."""

DEMO_WORKFLOW = "england-lcspr@1"
"""The demo's cases follow version 1 of the England workflow: its scripts are v1 paths
(publication held as a stage), and the goldens drawn from it are v1's."""

PARTNERS = (
    ("demo-la", "Local authority partner (demo)", "local_authority"),
    ("demo-police", "Police partner (demo)", "police"),
    ("demo-icb", "ICB partner (demo)", "icb"),
)

PARTNERSHIP = "Northshire Safeguarding Children Partnership"
"""The invented partnership the demonstration database belongs to (its web pages' header
names it): the one docs/user-guide.md follows through a year."""


@dataclass(frozen=True)
class Step:
    """One event: `ago` working days before today, by `who` (None: the demo account)."""

    ago: int
    trigger: str
    fields: tuple[tuple[str, str], ...] = ()
    rationale: str | None = None
    who: str | None = None


@dataclass(frozen=True)
class Script:
    aware_ago: int
    nature: str
    steps: tuple[Step, ...]


def _s(
    ago: int, trigger: str, rationale: str | None = None, who: str | None = None, **fields: str
) -> Step:
    return Step(ago, trigger, tuple(fields.items()), rationale, who)


def _rapid_review(start: int, recommendation: str, *, submit: int | None) -> list[Step]:
    """Notify at `start`, propose and sign off, then submit `submit` days ago (if given)."""
    steps = [
        _s(start, "notify", sin_reference=f"SIN-{start:04d}"),
        _s(
            start - 6,
            "propose_decision",
            "Criteria for a local review considered at the rapid review meeting.",
            recommendation=recommendation,
        ),
        _s(start - 7, "sign_off", who="demo-la"),
        _s(start - 8, "sign_off", who="demo-police"),
        _s(start - 9, "sign_off", who="demo-icb"),
    ]
    if submit is not None:
        steps.append(_s(submit, "submit_rapid_review"))
    return steps


def scripts() -> Sequence[Script]:
    """The demonstration cases, oldest first."""
    published = [
        *_rapid_review(225, "lcspr", submit=212),
        _s(
            205,
            "commission_lcspr",
            "Panel agreed a local review is appropriate.",
            panel_position="agreed",
        ),
        _s(
            195,
            "appoint_reviewer",
            reviewer="Independent reviewer (demo)",
            scope_from="2024-01-01",
            scope_to="2025-01-31",
        ),
        _s(150, "record_progress_check", note="Reviewer on schedule; family engagement under way."),
        _s(110, "receive_draft"),
        _s(100, "accept_final"),
        _s(98, "sign_off", who="demo-la"),
        _s(97, "sign_off", who="demo-police"),
        _s(96, "sign_off", who="demo-icb"),
        _s(
            95, "schedule_publication", planned_publication_on="@80", publication_form="full_report"
        ),
        _s(90, "send_advance_copy"),
        _s(80, "publish", url="https://example.org/reviews/demo-child"),
        _s(60, "approve_action_plan", "Multi-agency action plan approved by the partners."),
        _s(20, "record_action_update", note="Four of six actions complete; evidence reviewed."),
    ]
    hold = [
        *_rapid_review(160, "lcspr", submit=146),
        _s(140, "commission_lcspr", "Panel agreed.", panel_position="agreed"),
        _s(
            130,
            "appoint_reviewer",
            reviewer="Independent reviewer (demo)",
            scope_from="2024-06-01",
            scope_to="2025-03-31",
        ),
        _s(60, "receive_draft"),
        _s(50, "accept_final"),
        _s(49, "sign_off", who="demo-la"),
        _s(48, "sign_off", who="demo-police"),
        _s(47, "sign_off", who="demo-icb"),
        _s(
            40,
            "hold_publication",
            "Criminal trial listed; publication could prejudice it.",
            hold_reason="criminal_proceedings",
            review_by="@-3",
        ),
    ]
    scheduled = [
        *_rapid_review(150, "lcspr", submit=138),
        _s(
            130,
            "commission_lcspr",
            "Panel asked for a local review.",
            panel_position="requested_lcspr",
        ),
        _s(
            120,
            "appoint_reviewer",
            reviewer="Independent reviewer (demo)",
            scope_from="2024-09-01",
            scope_to="2025-04-30",
        ),
        _s(40, "receive_draft"),
        _s(30, "accept_final"),
        _s(28, "sign_off", who="demo-la"),
        _s(27, "sign_off", who="demo-police"),
        _s(26, "sign_off", who="demo-icb"),
        _s(
            10, "schedule_publication", planned_publication_on="@-9", publication_form="full_report"
        ),
    ]
    in_progress = [
        *_rapid_review(100, "lcspr", submit=85),
        _s(80, "commission_lcspr", "Panel agreed.", panel_position="agreed"),
        _s(
            70,
            "appoint_reviewer",
            reviewer="Independent reviewer (demo)",
            scope_from="2024-10-01",
            scope_to="2025-06-30",
        ),
        _s(25, "record_progress_check", note="Practitioner event held; draft expected next month."),
    ]
    other_learning = [
        *_rapid_review(120, "no_lcspr", submit=104),
        _s(
            95,
            "record_other_learning",
            "Learning already identified by a recent review.",
            learning_activity="multi-agency learning event",
        ),
        _s(80, "approve_action_plan", "Learning event actions agreed."),
        _s(30, "close", "All actions complete; briefing shared with staff."),
    ]
    national = [
        *_rapid_review(90, "national_review", submit=76),
        _s(
            70,
            "panel_commissions_national_review",
            "The Panel will include the case in a national review.",
        ),
    ]
    panel_query = [
        *_rapid_review(35, "lcspr", submit=22),
        _s(
            15,
            "record_panel_query",
            summary="The Panel asked how the school's concerns were shared.",
        ),
        _s(8, "answer_panel", summary="Chronology of the school's referrals sent to the Panel."),
    ]
    awaiting_signoff = [
        _s(28, "notify", sin_reference="SIN-0028"),
        _s(
            20,
            "propose_decision",
            "Recommendation agreed in the meeting.",
            recommendation="no_lcspr",
        ),
        _s(19, "sign_off", who="demo-la"),
        _s(18, "sign_off", who="demo-police"),
    ]
    return (
        Script(232, "death", tuple(published)),
        Script(165, "serious_harm", tuple(hold)),
        Script(155, "death", tuple(scheduled)),
        Script(125, "serious_harm", tuple(other_learning)),
        Script(105, "serious_harm", tuple(in_progress)),
        Script(94, "death", tuple(national)),
        Script(40, "serious_harm", tuple(panel_query)),
        Script(30, "serious_harm", tuple(awaiting_signoff)),
        Script(26, "death", (_s(25, "notify", sin_reference="SIN-0025"),)),
        Script(12, "serious_harm", (_s(11, "notify", sin_reference="SIN-0011"),)),
        Script(
            20,
            "other",
            (
                _s(
                    18,
                    "decide_not_to_notify",
                    "Local authority and partners agreed the s16C criteria are not met.",
                ),
            ),
        ),
        Script(9, "serious_harm", ()),
        Script(3, "death", ()),
    )


@dataclass(frozen=True)
class DemoResult:
    location: str
    cases: int
    events: int
    refs: tuple[str, ...]


def more_scripts() -> tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]:
    """The demo's users and cases beyond England's version 1 (every other review type,
    England's version 2), from the data file beside the shipped workflows: like the
    workflows, they are data, and no code here names a workflow."""
    import tomllib

    from casereview.infra.workflows.registry import shipped_directory

    data = tomllib.loads((shipped_directory() / "demo" / MORE_CASES).read_text("utf-8"))
    return tuple(data.get("users", ())), tuple(data.get("cases", ()))


def seed(
    url: str,
    account: str,
    today: dt.date,
    key_dir: Path | None = None,
    *,
    every_type: bool = False,
    partnership: str | None = None,
) -> DemoResult:
    """Create the demonstration cases in an empty database at `url` (created if needed),
    signed with the account's key in `key_dir` (None: the account's own folder).

    Without `every_type`, England's version 1 cases alone: the dataset the golden files
    and most tests read, unchanged. With it (the demo command), after them, one case
    of each other review type along its main path and England's version 2 in the
    situations it was written for (`more_scripts`). `partnership` names the partnership
    (the web pages' header, the reports' heading); None leaves it unnamed."""
    from casereview.infra.bank_holidays import default_calendar
    from casereview.store import location

    cal = default_calendar()
    clock = FixedClock(today)
    me = ServiceContext(url=url, account=account, clock=clock, key_dir=key_dir)
    contexts = {account: me}
    users.init(me, "Demo business unit officer and chair")
    for role in ("business_unit", "chair"):
        users.grant_role(me, account, role, None)
    for username, name, agency in PARTNERS:
        users.add_user(me, username, name, ["partner"], agency)

    def day(ago: int) -> dt.date:
        if ago >= 0:
            return cal.subtract_working_days(today, ago) if ago else today
        return cal.add_working_days(today, -ago)

    def value(text: str) -> str:
        return day(int(text[1:])).isoformat() if text.startswith("@") else text

    refs: list[str] = []
    events = 0
    year = today.year
    for number, script in enumerate(scripts(), start=1):
        ref = f"{year}-{number:03d}"
        aware = day(script.aware_ago)
        cases.open_case(
            me,
            ref,
            aware_on=aware,
            fields={"nature": script.nature, "incident_on": aware.isoformat()},
            on=aware,
            workflow=DEMO_WORKFLOW,
        )
        events += 1
        for step in script.steps:
            ctx = me
            cases.advance(
                ctx,
                ref,
                step.trigger,
                on=day(step.ago),
                rationale=step.rationale,
                fields={k: value(v) for k, v in step.fields},
                on_behalf_of=step.who,
            )
            events += 1
        refs.append(ref)
    if every_type:
        people, more = more_scripts()
        for person in people:
            users.add_user(
                me, str(person["login"]), str(person["name"]), list(person["roles"]),
                person.get("agency"),
            )  # fmt: skip
        keyed: dict[str, str] = {}

        def given(text: str) -> str:
            return keyed[text[1:]] if text.startswith("#") else value(text)

        for number, case in enumerate(more, start=len(refs) + 1):
            ref = f"{year}-{number:03d}"
            keyed[str(case["key"])] = ref
            aware = day(int(case["aware_ago"]))
            cases.open_case(
                me,
                ref,
                aware_on=aware,
                pseudonym=str(case["pseudonym"]),
                fields={k: given(str(v)) for k, v in case.get("fields", {}).items()},
                on=aware,
                workflow=str(case["workflow"]),
            )
            events += 1
            for step in case.get("steps", ()):
                cases.advance(
                    me,
                    ref,
                    str(step["trigger"]),
                    on=day(int(step["ago"])),
                    rationale=step.get("rationale"),
                    fields={k: given(str(v)) for k, v in step.get("fields", {}).items()},
                    on_behalf_of=step.get("who"),
                )
                events += 1
            refs.append(ref)
    if partnership is not None:
        # Named last, so the cases' events keep the numbers the golden timelines show.
        from casereview.services import partnership as partnerships

        partnerships.set_name(me, partnership)
    for ctx in contexts.values():
        ctx.close()
    return DemoResult(location.describe(url), len(refs), events, tuple(refs))


# -- the tour ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoTour:
    location: str
    cases: int
    events: int
    due: DueList
    timeline: CaseTimeline


def demo_path() -> Path:
    """The demo database: `demo.db` in the user data directory, replaced on every run."""
    from platformdirs import user_data_path

    return user_data_path("casereview", appauthor=False) / "demo.db"


def demo_key_dir(path: Path) -> Path:
    """The signing key the demonstration database at `path` is recorded with."""
    return path.with_name(f"{path.name}.keys")


TIMELINE_STATES = ("publication_hold", "published", "action_monitoring")
"""The tour shows the timeline of the first case found in one of these states."""


def tour(ctx: ServiceContext, *, replace: bool) -> DemoTour:
    """Seed the demonstration cases into a new SQLite file at the context's database
    (dated from the context's today, recorded as the context's account) and read back
    the dashboard and one timeline. An existing file is removed first only when
    `replace` is true; otherwise it is refused, so a real database is never touched."""
    from casereview.store import location

    path = location.file_of(ctx.url)
    if path is None:
        raise InvalidInput(
            "the demo builds a database file of its own; give {db} PATH", db=Input("db")
        )
    if path.exists() and not replace:
        raise Conflict(
            "{path} already exists; the demo never writes into an existing file: "
            "choose a new file for {db}, or leave {db} out to use the demo database",
            path=str(path),
            db=Input("db"),
        )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    ctx.close()
    # The demo signs with a key of its own beside its file, never the account's real one.
    keys = demo_key_dir(path)
    shutil.rmtree(keys, ignore_errors=True)
    seeded = seed(
        ctx.url, ctx.account, ctx.clock.today(), keys, every_type=True, partnership=PARTNERSHIP
    )
    due = due_list(ctx)
    chosen = seeded.refs[0]
    listed = {item.ref: item.state for item in cases.list_cases(ctx)}
    for state in TIMELINE_STATES:
        match = [ref for ref in seeded.refs if listed.get(ref) == state]
        if match:
            chosen = match[0]
            break
    return DemoTour(seeded.location, seeded.cases, seeded.events, due, timeline(ctx, chosen))
