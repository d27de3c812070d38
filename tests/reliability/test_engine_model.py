"""Model-based test of the engine: a hypothesis state machine drives the service layer
and holds it to a small reference model of the England workflow.

The model below is written from the workflow's documentation (workflows/
england-lcspr.toml read by a person, not by casereview's loader) and shares no code with
the engine: its own trigger table, its own field rules, its own working-day arithmetic
over GOV.UK's published bank holidays (tests/fixtures/bank-holidays-england-and-wales.json).
The state machine opens cases, fires random triggers as random people on random dates
with complete, incomplete, extra or malformed fields, walks cases deep into the process
(sign-offs, holds), moves today forward, and reopens the store from disk with fresh
service contexts. After every step the touched case's state, event count and clock due
dates (notification, rapid review, Panel response, hold review, publication) must match
the model; the whole log must hold exactly the model's number of events; `audit verify`
runs every few steps and always at the end.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from casereview.errors import NotFound, Refused
from casereview.infra.now import FixedClock
from casereview.services import audit, cases
from casereview.services.context import ServiceContext
from tests.reliability import support

PROFILE = support.profile()

# -- the reference model ------------------------------------------------------------------

HOLIDAYS = {
    dt.date.fromisoformat(d)
    for year in json.loads(
        (support.REPO / "tests" / "fixtures" / "bank-holidays-england-and-wales.json").read_text()
    )["dates"].values()
    for d in year
}
LAST_KNOWN = dt.date(2028, 12, 31)


def working(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def add_working_days(anchor: dt.date, n: int) -> dt.date:
    """The n-th working day after `anchor` (the anchor itself is day 0)."""
    day, counted = anchor, 0
    while counted < n:
        day += dt.timedelta(days=1)
        counted += working(day)
    return day


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


PEOPLE = {
    "bu": ({"business_unit"}, None),
    "chair": ({"chair"}, None),
    "la": ({"partner"}, "local_authority"),
    "police": ({"partner"}, "police"),
    "icb": ({"partner"}, "icb"),
    "scrut": ({"scrutineer"}, None),
    "admin": ({"admin"}, None),
}
AGENCIES = ("local_authority", "police", "icb")
OPEN_STATES = (
    "screening",
    "rapid_review",
    "rapid_review_signoff",
    "awaiting_panel",
    "panel_query",
    "lcspr_commissioning",
    "lcspr_in_progress",
    "draft_review",
    "final_signoff",
    "publication_hold",
    "publication_scheduled",
    "published",
    "other_learning",
    "national_review",
    "action_monitoring",
)
DATE_FIELDS = (
    "aware_on",
    "incident_on",
    "notified_on",
    "partners_informed_on",
    "extension_agreed_on",
    "scope_from",
    "scope_to",
    "review_by",
    "planned_publication_on",
    "advance_copy_sent_on",
)
TEXT_FIELDS = (
    "child_name",
    "notifying_la",
    "resident_la",
    "sin_reference",
    "learning_activity",
    "reviewer",
    "url",
    "summary",
    "note",
)
FIELD_TYPES = {
    **dict.fromkeys(DATE_FIELDS, "date"),
    "nature": ("death", "serious_harm", "other"),
    "recommendation": ("lcspr", "no_lcspr", "national_review"),
    "agency": AGENCIES,
    "panel_position": ("agreed", "requested_lcspr"),
    "hold_reason": (
        "criminal_proceedings",
        "inquest",
        "other_review",
        "family",
        "legal_advice",
        "other",
    ),
    "publication_form": ("full_report", "improvements_only"),
    "looked_after": "yes_no",
    **dict.fromkeys(TEXT_FIELDS, "text"),
}
EVENT_SCOPED = {"agency", "summary", "note"}


@dataclass(frozen=True)
class T:
    """A trigger as the workflow documents it."""

    sources: tuple[str, ...]
    to: str | None
    roles: frozenset[str]
    needs: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    defaults: tuple[str, ...] = ()  # filled with the event date when not given
    rationale: bool = False
    guard: tuple[str, str] | None = None  # ("signed", round) | ("equals", field=value) | ("set", f)
    clears: str | None = None


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


BU, CHAIR = roles("business_unit"), roles("chair")
TRIGGERS: dict[str, T] = {
    "notify": T(
        ("screening",),
        "rapid_review",
        BU,
        ("sin_reference",),
        ("partners_informed_on",),
        ("notified_on",),
    ),
    "decide_not_to_notify": T(("screening",), "closed", CHAIR, rationale=True),
    "propose_decision": T(
        ("rapid_review",), "rapid_review_signoff", CHAIR, ("recommendation",), rationale=True
    ),
    "sign_off": T(("rapid_review_signoff", "final_signoff"), None, roles("partner")),
    "revise": T(
        ("rapid_review_signoff",), "rapid_review", CHAIR, rationale=True, clears="rapid_review"
    ),
    "record_extension": T(
        ("rapid_review", "rapid_review_signoff"),
        None,
        roles("business_unit", "chair"),
        ("extension_agreed_on", "note"),
    ),
    "submit_rapid_review": T(
        ("rapid_review_signoff",), "awaiting_panel", BU, guard=("signed", "rapid_review")
    ),
    "record_panel_query": T(
        ("awaiting_panel",), "panel_query", roles("business_unit", "chair"), ("summary",)
    ),
    "answer_panel": T(("panel_query",), "awaiting_panel", BU, ("summary",)),
    "reconsider": T(
        ("panel_query",),
        "rapid_review_signoff",
        CHAIR,
        ("recommendation",),
        rationale=True,
        clears="rapid_review",
    ),
    "commission_lcspr": T(
        ("awaiting_panel",), "lcspr_commissioning", CHAIR, ("panel_position",), rationale=True
    ),
    "record_other_learning": T(
        ("awaiting_panel",),
        "other_learning",
        CHAIR,
        ("learning_activity",),
        ("panel_position",),
        rationale=True,
        guard=("equals", "recommendation=no_lcspr"),
    ),
    "panel_commissions_national_review": T(
        ("awaiting_panel", "panel_query"), "national_review", CHAIR, rationale=True
    ),
    "withdraw": T(("rapid_review", "rapid_review_signoff"), "closed", CHAIR, rationale=True),
    "appoint_reviewer": T(
        ("lcspr_commissioning",),
        "lcspr_in_progress",
        CHAIR,
        ("reviewer", "scope_from", "scope_to"),
    ),
    "record_progress_check": T(("lcspr_in_progress",), None, CHAIR, ("note",)),
    "receive_draft": T(("lcspr_in_progress",), "draft_review", BU),
    "request_changes": T(("draft_review",), "lcspr_in_progress", CHAIR, rationale=True),
    "accept_final": T(("draft_review",), "final_signoff", CHAIR),
    "hold_publication": T(
        ("final_signoff", "publication_scheduled"),
        "publication_hold",
        CHAIR,
        ("hold_reason", "review_by"),
        rationale=True,
    ),
    "review_hold": T(
        ("publication_hold",), None, CHAIR, ("review_by",), ("hold_reason",), rationale=True
    ),
    "lift_hold": T(("publication_hold",), "final_signoff", CHAIR, rationale=True),
    "schedule_publication": T(
        ("final_signoff",),
        "publication_scheduled",
        BU,
        ("planned_publication_on", "publication_form"),
        guard=("signed", "final_report"),
    ),
    "reschedule_publication": T(
        ("publication_scheduled",), None, BU, ("planned_publication_on",), rationale=True
    ),
    "send_advance_copy": T(
        ("publication_scheduled",), None, BU, defaults=("advance_copy_sent_on",)
    ),
    "publish": T(
        ("publication_scheduled",), "published", BU, ("url",), guard=("set", "advance_copy_sent_on")
    ),
    "approve_action_plan": T(
        ("published", "other_learning", "national_review"),
        "action_monitoring",
        CHAIR,
        rationale=True,
    ),
    "record_action_update": T(("action_monitoring",), None, BU, ("note",)),
    "close": T(("action_monitoring",), "closed", CHAIR, rationale=True),
    "add_note": T(
        tuple(OPEN_STATES), None, roles("business_unit", "chair", "partner", "admin"), ("note",)
    ),
}
ROUND_IN = {"rapid_review_signoff": "rapid_review", "final_signoff": "final_report"}


def valid_value(name: str, rng_value: int, today: dt.date) -> str:
    kind = FIELD_TYPES[name]
    if kind == "date":
        return (today - dt.timedelta(days=rng_value % 40)).isoformat()
    if kind == "yes_no":
        return ("yes", "no")[rng_value % 2]
    if kind == "text":
        return f"{name} {rng_value}"
    return kind[rng_value % len(kind)]


def value_ok(name: str, raw: str) -> bool:
    if "\x00" in raw:
        return False
    kind, text = FIELD_TYPES[name], raw.strip()
    if kind == "date":
        try:
            return len(text) == 10 and bool(dt.date.fromisoformat(text))
        except ValueError:
            return False
    if kind == "yes_no":
        return text.lower() in {"yes", "y", "true", "no", "n", "false"}
    if kind == "text":
        return bool(text) and len(text) <= 4000
    return text in kind


@dataclass
class Clock:
    state: str
    due: dt.date | None
    remaining: int | None = None


@dataclass
class ModelCase:
    ref: str
    state: str = "screening"
    fields: dict[str, str] = field(default_factory=dict)
    approvals: dict[str, set[str]] = field(default_factory=dict)
    events: int = 1
    last_on: dt.date = support.TODAY
    clocks: dict[str, Clock] = field(default_factory=dict)

    def possible(self) -> list[str]:
        return [name for name, t in TRIGGERS.items() if self.state in t.sources]


def predict(
    case: ModelCase,
    trigger: str,
    actor: str,
    on: dt.date,
    today: dt.date,
    fields: dict[str, str],
    rationale: str | None,
) -> tuple[str, dict[str, str]]:
    """("ok", changes) or ("refused" | "not_found", {}) — the model's verdict."""
    if on > today or on < case.last_on:
        return "refused", {}
    t = TRIGGERS.get(trigger)
    if t is None:
        return "not_found", {}
    if case.state not in t.sources:
        return "refused", {}
    held, agency = PEOPLE[actor]
    if not (held & t.roles):
        return "refused", {}
    allowed = (
        set(t.needs)
        | set(t.optional)
        | set(t.defaults)
        | ({"agency"} if trigger == "sign_off" else set())
    )
    if set(fields) - allowed or not all(value_ok(k, v) for k, v in fields.items()):
        return "refused", {}
    changes = {k: v.strip() for k, v in fields.items()}
    for name in t.defaults:
        changes.setdefault(name, on.isoformat())
    if trigger == "sign_off":
        signing = changes.get("agency") or agency
        if signing is None or (agency is not None and signing != agency):
            return "refused", {}
        if signing in case.approvals.get(ROUND_IN[case.state], set()):
            return "refused", {}
        changes["agency"] = signing
    if any(name not in changes for name in t.needs):
        return "refused", {}
    text = rationale or ""
    if "\x00" in text or len(text.strip()) > 4000 or (t.rationale and not text.strip()):
        return "refused", {}
    after = {**case.fields, **{k: v for k, v in changes.items() if k not in EVENT_SCOPED}}
    if t.guard is not None:
        kind, arg = t.guard
        if kind == "signed" and set(AGENCIES) - case.approvals.get(arg, set()):
            return "refused", {}
        if kind == "equals" and after.get(arg.split("=")[0]) != arg.split("=")[1]:
            return "refused", {}
        if kind == "set" and not after.get(arg):
            return "refused", {}
    return "ok", changes


def apply(case: ModelCase, trigger: str, on: dt.date, changes: dict[str, str]) -> None:
    t = TRIGGERS[trigger]
    if t.clears:
        case.approvals.pop(t.clears, None)
    if trigger == "sign_off":
        case.approvals.setdefault(ROUND_IN[case.state], set()).add(changes["agency"])
    case.fields.update({k: v for k, v in changes.items() if k not in EVENT_SCOPED})
    case.state = t.to or case.state
    case.events += 1
    case.last_on = on
    clocks = case.clocks
    if trigger in ("notify", "decide_not_to_notify"):
        clocks["notification"].state = "stopped"
    if trigger == "notify":
        notified = dt.date.fromisoformat(case.fields["notified_on"])
        clocks["rapid_review"] = Clock("running", add_working_days(notified, 15))
    if trigger in ("submit_rapid_review", "withdraw") and "rapid_review" in clocks:
        clocks["rapid_review"].state = "stopped"
    if trigger in ("submit_rapid_review", "answer_panel"):
        clocks["panel_response"] = Clock("running", add_working_days(on, 10))
    elif (
        trigger
        in (
            "record_panel_query",
            "commission_lcspr",
            "record_other_learning",
            "panel_commissions_national_review",
        )
        and clocks.get("panel_response", Clock("stopped", None)).state != "stopped"
    ):
        clocks["panel_response"].state = "stopped"
    if trigger in ("hold_publication", "review_hold"):
        clocks["hold_review"] = Clock("running", dt.date.fromisoformat(case.fields["review_by"]))
    elif trigger == "lift_hold" and "hold_review" in clocks:
        clocks["hold_review"].state = "stopped"
    publication = clocks.get("lcspr_publication")
    if trigger == "commission_lcspr":
        clocks["lcspr_publication"] = Clock("running", add_months(on, 6))
    elif publication is not None and publication.state != "stopped":
        if trigger == "publish":
            publication.state = "stopped"
        elif publication.state == "running" and case.state == "publication_hold":
            publication.state, publication.remaining = "paused", (publication.due - on).days
        elif publication.state == "paused" and case.state != "publication_hold":
            publication.state = "running"
            publication.due = on + dt.timedelta(days=publication.remaining or 0)
            publication.remaining = None


MODELLED_CLOCKS = (
    "notification",
    "rapid_review",
    "panel_response",
    "hold_review",
    "lcspr_publication",
)

# -- the machine -----------------------------------------------------------------------------

_template: Path | None = None
STATS: Counter[str] = Counter()
STATES_SEEN: set[str] = set()


def template() -> Path:
    global _template
    if _template is None:
        path = Path(tempfile.mkdtemp(prefix="casereview-model-")) / "template.db"
        support.init_database(
            support.sqlite_url(path),
            FixedClock(support.TODAY),
            people={name: (sorted(r), a) for name, (r, a) in PEOPLE.items() if name != "admin"},
        )
        support.checkpoint_wal(path)
        _template = path
    return _template


Step = support.Step
DEEP_PATHS: dict[str, list[support.Step]] = {
    state: support.path_to(state)
    for state in (
        "awaiting_panel",
        "panel_query",
        "final_signoff",
        "publication_hold",
        "publication_scheduled",
        "published",
        "other_learning",
        "national_review",
    )
}
# Sign-offs discarded by a revision and given again; a hold lifted (the publication
# clock resumes with the days it had left).
DEEP_PATHS["signed again after a revision"] = [
    *support.path_to("rapid_review_signoff"),
    Step("sign_off", "la"),
    Step("sign_off", "police"),
    Step("revise", "chair", rationale="chronology incomplete"),
    Step("propose_decision", "chair", {"recommendation": "no_lcspr"}, "revised"),
    Step("sign_off", "la"),
]
DEEP_PATHS["hold lifted"] = [
    *support.path_to("publication_hold"),
    Step("lift_hold", "chair", rationale="verdict given"),
]
FIELD_MODES = st.sampled_from(["complete", "complete", "complete", "missing", "extra", "bad"])
RATIONALES = st.sampled_from([None, "because", "because", "", "   ", "a\x00b", "x" * 4001])
BAD_VALUES = st.sampled_from(["", "   ", "2025-02-30", "maybe", "\x00", "y" * 4001])


class EngineModel(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="casereview-model-run-"))
        self.path = self.dir / "model.db"
        shutil.copyfile(template(), self.path)
        self.url = support.sqlite_url(self.path)
        self.today = support.TODAY
        self.clock = FixedClock(self.today)
        self.contexts: dict[str, ServiceContext] = {}
        self.model: dict[str, ModelCase] = {}
        self.events = support.consistency(self.path).events
        self.opened = 0
        self.steps = 0
        STATS["runs"] += 1

    # -- plumbing --

    def ctx(self, account: str) -> ServiceContext:
        if account not in self.contexts:
            self.contexts[account] = ServiceContext(url=self.url, account=account, clock=self.clock)
        return self.contexts[account]

    def close_contexts(self) -> None:
        for c in self.contexts.values():
            c.close()
        self.contexts = {}

    def teardown(self) -> None:
        try:
            if self.model:
                for ref in self.model:
                    self.check_case(ref)
                self.verify()
        finally:
            self.close_contexts()
            shutil.rmtree(self.dir, ignore_errors=True)

    def verify(self) -> None:
        report = audit.verify(self.ctx("scrut"))
        STATS["verify runs"] += 1
        assert report.ok, [str(f) for f in report.findings]
        assert report.events == self.events

    def check_case(self, ref: str) -> None:
        want = self.model[ref]
        view = cases.show_case(self.ctx("scrut"), ref)
        assert view.state == want.state, ref
        assert view.version == want.events, ref
        have = {c.clock_id: c for c in view.clocks}
        for clock_id in MODELLED_CLOCKS:
            expected = want.clocks.get(clock_id)
            got = have.get(clock_id)
            if expected is None:
                assert got is None, (ref, clock_id)
                continue
            assert got is not None, (ref, clock_id)
            assert (got.state, got.due_on) == (
                expected.state,
                expected.due.isoformat() if expected.due else None,
            ), (ref, clock_id, want.state)
        STATES_SEEN.add(want.state)

    def attempt(
        self, ref: str, trigger: str, actor: str, on: dt.date, fields, rationale, *, check=True
    ) -> str:
        case = self.model[ref]
        verdict, changes = predict(case, trigger, actor, on, self.today, fields, rationale)
        try:
            result = cases.advance(
                self.ctx(actor),
                ref,
                trigger,
                on=on,
                fields=fields,
                rationale=rationale,
            )
        except NotFound:
            outcome = "not_found"
        except Refused:
            outcome = "refused"
        else:
            outcome = "ok"
            assert result.seq == self.events + 1
        assert outcome == verdict, (ref, case.state, trigger, actor, on, fields, rationale)
        if outcome == "ok":
            apply(case, trigger, on, changes)
            self.events += 1
        STATS[f"advance {outcome}"] += 1
        if check:
            self.check_case(ref)
        return outcome

    def fields_for(self, trigger: str, mode: str, seed: int, bad: str) -> dict[str, str]:
        t = TRIGGERS.get(trigger)
        if t is None:
            return {}
        fields = {n: valid_value(n, seed + i, self.today) for i, n in enumerate(t.needs)}
        if mode == "missing" and fields:
            fields.pop(sorted(fields)[seed % len(fields)])
        elif mode == "extra":
            fields["url" if trigger != "publish" else "note"] = "https://example.org"
        elif mode == "bad" and fields:
            fields[sorted(fields)[seed % len(fields)]] = bad
        return fields

    # -- rules --

    @initialize(target=cases)
    def first_case(self):
        return self.open_as("bu", 0)

    def open_as(self, who: str, aware_days_ago: int):
        self.opened += 1
        ref = f"M-{self.opened}"
        aware = self.today - dt.timedelta(days=aware_days_ago)
        expected = "ok" if "business_unit" in PEOPLE[who][0] and aware <= self.today else "refused"
        try:
            cases.open_case(self.ctx(who), ref, aware_on=aware, fields={"nature": "death"})
            outcome = "ok"
        except Refused:
            outcome = "refused"
        assert outcome == expected, (who, aware, self.today)
        STATS[f"open {outcome}"] += 1
        if outcome != "ok":
            return multiple()
        self.model[ref] = ModelCase(
            ref,
            last_on=self.today,
            clocks={"notification": Clock("running", add_working_days(aware, 5))},
        )
        self.events += 1
        self.check_case(ref)
        return ref

    @rule(target=cases, who=st.sampled_from(sorted(PEOPLE)), days=st.integers(-3, 30))
    def open_case(self, who, days):
        return self.open_as(who, days)

    @rule(
        ref=cases,
        trigger=st.one_of(st.sampled_from(list(TRIGGERS)), st.just("teleport")),
        actor=st.sampled_from(sorted(PEOPLE)),
        back=st.integers(-2, 5),
        mode=FIELD_MODES,
        seed=st.integers(0, 1000),
        bad=BAD_VALUES,
        rationale=RATIONALES,
    )
    def advance_anything(self, ref, trigger, actor, back, mode, seed, bad, rationale):
        """Any trigger, anyone, any day around today, fields right or wrong."""
        on = self.today - dt.timedelta(days=back)
        fields = self.fields_for(trigger, mode, seed, bad)
        self.attempt(ref, trigger, actor, on, fields, rationale)

    @rule(ref=cases, data=st.data())
    def advance_plausibly(self, ref, data):
        """A trigger possible now, by someone allowed, with everything it needs."""
        case = self.model[ref]
        possible = case.possible()
        if not possible:
            return
        trigger = data.draw(st.sampled_from(possible))
        t = TRIGGERS[trigger]
        allowed = [p for p, (held, _a) in PEOPLE.items() if held & t.roles]
        actor = data.draw(st.sampled_from(allowed))
        span = (self.today - case.last_on).days
        on = self.today - dt.timedelta(days=data.draw(st.integers(0, min(span, 10))))
        fields = self.fields_for(trigger, "complete", data.draw(st.integers(0, 1000)), "")
        self.attempt(ref, trigger, actor, on, fields, "reasons given")

    @rule(target=cases, depth=st.sampled_from(sorted(DEEP_PATHS)))
    def open_deep_case(self, depth):
        """Open a case and walk it far into the process: every step's outcome is checked
        against the model, the case's state and clocks at the end of the walk."""
        ref = self.open_as("bu", 1)
        for step in DEEP_PATHS[depth]:
            self.attempt(
                ref,
                step.trigger,
                step.account,
                self.today,
                dict(step.fields),
                step.rationale,
                check=False,
            )
        self.check_case(ref)
        return ref

    @rule(ref=cases, partner=st.sampled_from(["la", "police", "icb"]), name_agency=st.booleans())
    def sign_off(self, ref, partner, name_agency):
        fields = {"agency": PEOPLE[partner][1]} if name_agency else {}
        self.attempt(ref, "sign_off", partner, self.today, fields, None)

    @precondition(lambda self: self.today < dt.date(2027, 12, 1))
    @rule(days=st.integers(1, 20))
    def time_passes(self, days):
        self.today += dt.timedelta(days=days)
        self.clock._instant = FixedClock(self.today).now()

    @rule()
    def reopen_the_store(self):
        """Drop every connection and context: the next step reads from disk afresh."""
        self.close_contexts()
        STATS["reopens"] += 1
        for ref in list(self.model)[-3:]:
            self.check_case(ref)

    @invariant()
    def log_length_matches(self):
        self.steps += 1
        STATS["steps"] += 1
        assert support.consistency(self.path).events == self.events
        if self.steps % 10 == 0:
            self.verify()


def test_engine_matches_the_reference_model():
    run_state_machine_as_test(
        EngineModel,
        settings=settings(
            max_examples=PROFILE.model_examples,
            stateful_step_count=PROFILE.model_steps,
            deadline=None,
            derandomize=PROFILE.name == "quick",
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            # Each step costs real database work: shrinking a failure can take many
            # minutes, so a failure is reported as found (every step is printed).
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )
    assert STATS["advance ok"] > 0 and STATS["advance refused"] > 0
    assert STATS["verify runs"] >= STATS["runs"]
    support.record_figures(
        "model",
        "state machine",
        {
            "runs": STATS["runs"],
            "steps": STATS["steps"],
            "cases opened": STATS["open ok"],
            "opens refused as predicted": STATS["open refused"],
            "advances accepted as predicted": STATS["advance ok"],
            "advances refused as predicted": STATS["advance refused"],
            "unknown triggers (not found) as predicted": STATS["advance not_found"],
            "store reopened": STATS["reopens"],
            "audit verify runs (all ok)": STATS["verify runs"],
            "states reached": len(STATES_SEEN),
            "mismatches with the model": 0,
        },
        states=sorted(STATES_SEEN),
    )


def test_model_working_days_agree_with_the_documented_examples():
    """The model's own calendar reproduces the domain reference's worked examples, so a
    disagreement with the engine points at the engine, not at the model."""
    assert add_working_days(dt.date(2025, 6, 2), 5) == dt.date(2025, 6, 9)
    assert add_working_days(dt.date(2025, 6, 9), 15) == dt.date(2025, 6, 30)
    assert add_working_days(dt.date(2025, 12, 19), 5) == dt.date(2025, 12, 30)  # Christmas
    assert add_months(dt.date(2025, 8, 31), 6) == dt.date(2026, 2, 28)
    assert not working(dt.date(2025, 12, 25)) and working(dt.date(2025, 12, 24))
    assert LAST_KNOWN.year >= max(d.year for d in HOLIDAYS)


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_model_trigger_table_matches_the_workflow_file(trigger):
    """The hand-written table says what the workflow file says (read with tomllib)."""
    import tomllib

    data = tomllib.loads(support.WORKFLOW_FILE.read_text(encoding="utf-8"))
    spec = next(t for t in data["triggers"] if t["id"] == trigger)
    t = TRIGGERS[trigger]
    sources = tuple(OPEN_STATES) if spec["from"] == ["*"] else tuple(spec["from"])
    assert set(t.sources) == set(sources)
    assert t.to == spec.get("to")
    assert set(t.roles) == set(spec["roles"])
    required = [f for f in spec.get("requires", []) if f not in spec.get("defaults", {})]
    assert set(t.needs) | ({"agency"} if spec.get("signs") else set()) == set(required)
    assert set(t.optional) == set(spec.get("optional", []))
    assert set(t.defaults) == set(spec.get("defaults", {}))
    assert bool(t.rationale) == bool(spec.get("rationale_required"))
    assert (t.clears,) == tuple(spec.get("clears", [None]))
    assert bool(t.guard) == bool(spec.get("guards"))
    assert {x["id"] for x in data["triggers"]} == set(TRIGGERS)
