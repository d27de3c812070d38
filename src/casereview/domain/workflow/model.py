"""The shape of a workflow definition: immutable pydantic models, one per TOML table.

What a definition *is*: its keys, their types and defaults, the rules one table can check
alone, and the read-only accessors the engine asks (`trigger(id)`, `triggers_from(state)`,
`clocks_started_by(trigger)`, `key`, ...). Unknown keys are refused, scalars are strict
(`version = "1"` is a mistake to report, not a value to coerce), and everything is frozen
(tuples, read-only mappings), so a definition the engine pinned cannot change under it.
Reading files is `loader`'s; checking tables against each other is `references`'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, Literal, NamedTuple, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    Strict,
    StringConstraints,
    field_serializer,
    field_validator,
    model_validator,
)

# Re-exported: a definition's identity is told here, computed where no model is needed.
from casereview.domain.workflow.identity import content_hash as content_hash
from casereview.domain.workflow.moves import Moves
from casereview.errors import NotFound

# Pseudo-values with a meaning in the file format.
FROM_ANY = "*"
"""In a trigger's `from` list: every non-terminal state."""
OPEN = "open"
"""In a clock's `start_on` list: the opening of the case (not a trigger; reserved as an id)."""
EVENT_DATE = "$event_date"
"""As a trigger default for a date field: the business date of the event."""
IDENTITY_FIELDS = ("ref", "pseudonym")
"""Fields that identify a case: kept in their own columns (a workflow may declare them as
fields for documentation), never given or corrected as fields."""
AMENDING = ("correct", "undo", "void")
"""Trigger ids the engine keeps for its own events that put a case's record right (a
correction, the undo of the latest step, the voiding of a case opened in error); like
`open`, no workflow may declare them."""

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
WORKFLOW_ID_PATTERN = r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$"
FROM_PATTERN = r"^(\*|[a-z][a-z0-9_]*)$"

Id = Annotated[str, Strict(), StringConstraints(pattern=ID_PATTERN)]
WorkflowId = Annotated[str, Strict(), StringConstraints(pattern=WORKFLOW_ID_PATTERN)]
FromRef = Annotated[str, Strict(), StringConstraints(pattern=FROM_PATTERN)]
Text = Annotated[str, Strict(), StringConstraints(min_length=1)]
OptionalText = Annotated[str, Strict()]
Flag = Annotated[bool, Strict()]
Count = Annotated[int, Strict(), Field(ge=0)]

DayZero = Literal["anchor_is_day_0", "anchor_is_day_1"]
FieldType = Literal["date", "text", "choice", "yes_no"]
FieldScope = Literal["case", "event"]
ClockKind = Literal["statutory", "expectation", "local"]
ClockUnit = Literal["working_days", "calendar_days", "months", "years"]
Direction = Literal["after", "before"]
ClockEnd = Literal["on_stop", "on_due"]


def toml_kind(value: object) -> str:
    """What a TOML reader calls the type of a parsed value (for messages)."""
    for kind, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "float"),
        (str, "text"),
        (list, "list"),
        (dict, "table"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _scalar(value: object) -> str | bool:
    # One readable message instead of pydantic's two (one per union branch).
    if isinstance(value, str | bool):
        return value
    raise ValueError(f"must be text or true/false, got {toml_kind(value)} {value!r}")


Scalar = Annotated[str | bool, PlainValidator(_scalar)]


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"lists {value!r} more than once")
        seen.add(value)
    return values


UniqueIds = Annotated[tuple[Id, ...], AfterValidator(_unique)]


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


class _Model(BaseModel):
    # defer_build: the validators are built on first validation, not on import, so a
    # process that takes every definition from the disk cache (`infra.workflows.cache`)
    # never builds them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Agency(_Model):
    """An organisation whose representatives sign approval rounds (e.g. `police`)."""

    id: Id
    label: Text
    description: OptionalText = ""


class Role(_Model):
    """A role a user can hold; triggers name the roles allowed to fire them."""

    id: Id
    label: Text
    description: OptionalText = ""
    has_agency: Flag = False
    """Users holding this role act for one agency (they sign approval rounds for it)."""
    sees_personal: Flag = False
    """Users holding this role may ask to see the fields marked `personal`; every such
    view is recorded in the log. Nobody else ever sees them."""


class FieldSpec(_Model):
    """A named value a case or an event carries (`aware_on`, `recommendation`, `note`)."""

    id: Id
    label: Text
    description: OptionalText = ""
    type: FieldType
    choices: UniqueIds = ()
    required_at_open: Flag = False
    personal: Flag = False
    """Identifying data: exports leave it out unless asked to include it."""
    scope: FieldScope = "case"
    """`case`: the value is kept on the case (guards can test it). `event`: it belongs
    to the one event that carried it (a note, the signing agency)."""
    not_after: UniqueIds = ()
    """Date fields this date cannot be later than when both are recorded (the day the
    local authority became aware is not after the day it notified): a correction that
    would break the order is refused."""

    @model_validator(mode="after")
    def _choices_match_type(self) -> FieldSpec:
        if self.type == "choice" and not self.choices:
            raise ValueError("type is 'choice' but 'choices' is missing or empty")
        if self.type != "choice" and self.choices:
            raise ValueError(
                f"'choices' is only allowed when type = 'choice' (type is {self.type!r})"
            )
        if self.scope == "event" and self.required_at_open:
            raise ValueError("an event-scoped field cannot be required_at_open")
        if self.not_after and self.type != "date":
            raise ValueError(f"'not_after' is only for date fields (type is {self.type!r})")
        return self


class State(_Model):
    """A state a case can be in."""

    id: Id
    label: Text
    description: OptionalText = ""
    terminal: Flag = False


class ApprovalCompleteGuard(_Model):
    """Every agency of the approval round has signed the current round. With
    `if_opened`, for a round a trigger opens: it also holds while the round has never
    been opened (a decision the partners may or may not have to sign again, such as
    maintaining one the Panel disputed: once taken, it waits for their sign-offs)."""

    kind: Literal["approval_complete"]
    round: Id
    if_opened: Flag = False

    def describe(self) -> str:
        if self.if_opened:
            return f"approval round '{self.round}' complete, once opened"
        return f"approval round '{self.round}' complete"


class FieldEqualsGuard(_Model):
    """A case field has exactly this value."""

    kind: Literal["field_equals"]
    field: Id
    value: Scalar

    def describe(self) -> str:
        return f"{self.field} = {_show(self.value)}"


class FieldInGuard(_Model):
    """A case field has one of these values."""

    kind: Literal["field_in"]
    field: Id
    values: Annotated[tuple[Scalar, ...], Field(min_length=1)]

    def describe(self) -> str:
        return f"{self.field} in ({', '.join(_show(v) for v in self.values)})"


class FieldSetGuard(_Model):
    """A case field has a value."""

    kind: Literal["field_set"]
    field: Id

    def describe(self) -> str:
        return f"{self.field} is set"


class DaysApartGuard(_Model):
    """What happened is checked against a rule about dates (`domain.checks`): a date an
    earlier event recorded (`earlier`, e.g. `sent_on`) is at least `at_least` days of
    `unit` before a date this event (or the case) records (`later`, e.g. `published_on`).

    `trigger` and `where` narrow the earlier events that count (the trigger that recorded
    them; their field values); `each` asks for one such event per value of a field (every
    recipient). `override` names the trigger that records the step despite a failed check:
    it is possible only when the check fails, needs a rationale, and its event is the
    record of the breach."""

    kind: Literal["days_apart"]
    earlier: Id
    later: Id
    at_least: Count
    unit: Literal["working_days", "calendar_days"] = "working_days"
    trigger: Id | None = None
    where: Annotated[Mapping[Id, Scalar], AfterValidator(_frozen_mapping)] = Field(
        default_factory=dict, validate_default=True
    )
    each: Annotated[
        Mapping[Id, Annotated[tuple[Scalar, ...], Field(min_length=1)]],
        AfterValidator(_frozen_mapping),
        Field(max_length=1),
    ] = Field(default_factory=dict, validate_default=True)
    override: Id | None = None

    @field_serializer("where", "each")
    def _dump_maps(self, value: Mapping[str, Any]) -> dict[str, Any]:
        return dict(value)

    def describe(self) -> str:
        unit = self.unit.replace("_", " ")
        which = [self.trigger] if self.trigger else []
        which += [f"{k} = {_show(v)}" for k, v in self.where.items()]
        which += [
            f"one for each {k} in {', '.join(_show(v) for v in vs)}" for k, vs in self.each.items()
        ]
        narrowed = f" ({'; '.join(which)})" if which else ""
        return f"{self.earlier}{narrowed} at least {self.at_least} {unit} before {self.later}"


Guard = Annotated[
    ApprovalCompleteGuard | FieldEqualsGuard | FieldInGuard | FieldSetGuard | DaysApartGuard,
    Field(discriminator="kind"),
]


def _show(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class OnBehalf(_Model):
    """One way a trigger may be recorded for someone else, naming who decided it:
    a user holding one of the `by` roles keys in the event for a person who holds one of
    the `for` roles (the trigger's roles when omitted), and the event records that
    person's role. `same_agency`: only for a person of the recorder's own agency (a
    partner records for a colleague, never for another agency)."""

    by: Annotated[UniqueIds, Field(min_length=1)]
    for_: Annotated[UniqueIds, Field(alias="for")] = ()
    same_agency: Flag = False

    def for_roles(self, trigger: Trigger) -> tuple[str, ...]:
        """The roles this rule records for: `for`, or every role of the trigger."""
        return self.for_ or trigger.roles


class Trigger(_Model):
    """A named event that moves a case from one of its `from` states to `to`."""

    id: Id
    label: Text
    description: OptionalText = ""
    from_: Annotated[tuple[FromRef, ...], Field(alias="from", min_length=1)]
    to: Id | None = None
    """Destination; omitted means the case stays in the state it was in."""
    roles: Annotated[UniqueIds, Field(min_length=1)]
    requires: UniqueIds = ()
    optional: UniqueIds = ()
    defaults: Annotated[Mapping[Id, Scalar], AfterValidator(_frozen_mapping)] = Field(
        default_factory=dict, validate_default=True
    )
    """Values used when the event does not give the field; `$event_date` for dates."""
    rationale_required: Flag = False
    guards: tuple[Guard, ...] = ()
    signs: Flag = False
    """Fired in a state listed in an approval round's `collect_in`: signs that round."""
    clears: UniqueIds = ()
    """Approval rounds whose sign-offs this trigger discards."""
    on_behalf: tuple[OnBehalf, ...] = ()
    """Who may record this trigger for someone else, and for whom; empty: only the
    person who decides it records it."""
    fact_date: Id | None = None
    """The date field (one of `requires`) holding the day the recorded thing happened
    (`notified_on`, `published_on`): clocks start and stop on it rather than on the day
    the event was recorded, and the engine bounds it (`domain.facts`)."""

    @field_serializer("defaults")
    def _dump_defaults(self, value: Mapping[str, str | bool]) -> dict[str, str | bool]:
        return dict(value)

    @field_validator("from_", mode="after")
    @classmethod
    def _from_list(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if FROM_ANY in value and len(value) > 1:
            raise ValueError("'*' (every non-terminal state) must be the only entry")
        return _unique(value)

    @model_validator(mode="after")
    def _required_or_optional(self) -> Trigger:
        both = [f for f in self.requires if f in self.optional]
        if both:
            raise ValueError(f"field {both[0]!r} is listed in both 'requires' and 'optional'")
        return self

    @property
    def from_any(self) -> bool:
        """True when `from = ["*"]`: the trigger fires in every non-terminal state."""
        return self.from_ == (FROM_ANY,)

    @property
    def stays(self) -> bool:
        """True when `to` is omitted: the case stays in its state."""
        return self.to is None

    def destination_from(self, state: str) -> str:
        """Where the case goes when this trigger fires in `state` (no validity check)."""
        return self.to if self.to is not None else state

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field the event may carry: required first, then optional."""
        return self.requires + self.optional


class ApprovalRound(_Model):
    """A set of agencies that must each sign once before a guard lets a trigger fire.

    A round is collected in the states of `collect_in` (a state round: open whenever the
    case is in one of them), or opened by one of the triggers of `opened_by` (an opened
    round: open from that event until every agency has signed; a later opening starts a
    new round of the same name, discarding the old one's sign-offs). An opened round is
    signed in its `collect_in` states, or in any state when `collect_in` is empty.
    """

    id: Id
    label: Text
    description: OptionalText = ""
    agencies: Annotated[UniqueIds, Field(min_length=1)]
    collect_in: UniqueIds = ()
    cleared_by: UniqueIds = ()
    opened_by: UniqueIds = ()
    """Triggers that open a new round (`domain.signoffs`): the sign-offs of any earlier
    round of this name are discarded."""
    agency_field: Id = "agency"
    """The event field on a signing trigger that names the agency signing."""

    @model_validator(mode="after")
    def _collected_somewhere(self) -> ApprovalRound:
        if not self.collect_in and not self.opened_by:
            raise ValueError(
                "a round needs 'collect_in' (the states it is signed in) or 'opened_by' "
                "(the triggers that open it), or both"
            )
        return self

    @property
    def opened(self) -> bool:
        """True for a round that triggers open (`opened_by`), not the states it is in."""
        return bool(self.opened_by)

    def signable_in(self, state_id: str) -> bool:
        """Whether a sign-off in `state_id` may sign this round (when it is open)."""
        return state_id in self.collect_in or (self.opened and not self.collect_in)


class Anchor(_Model):
    """What a clock counts from: a case field, a settings anchor, or its starting event."""

    field: Id | None = None
    setting: Id | None = None
    event: Literal["start"] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Anchor:
        given = [k for k in ("field", "setting", "event") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "an anchor names exactly one of field = ..., setting = ... or event = 'start'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    def describe(self) -> str:
        if self.field is not None:
            return self.field
        if self.setting is not None:
            return f"setting {self.setting}"
        return "the event that started it"


class StopWhen(_Model):
    """One of the things a clock's `stop_all` waits for: an event of `trigger` that
    recorded the `where` values (e.g. an advance copy sent to the Panel)."""

    trigger: Id
    where: Annotated[Mapping[Id, Scalar], AfterValidator(_frozen_mapping)] = Field(
        default_factory=dict, validate_default=True
    )

    @field_serializer("where")
    def _dump_where(self, value: Mapping[str, Any]) -> dict[str, Any]:
        return dict(value)

    def describe(self) -> str:
        which = [f"{k} = {_show(v)}" for k, v in self.where.items()]
        return self.trigger + (f" ({'; '.join(which)})" if which else "")


class Clock(_Model):
    """A deadline: `budget` `unit` `direction` `anchor`, started and stopped by triggers.
    `stop_on` triggers stop it each on its own; `stop_all` stops it once every one of
    its conditions has happened since the clock (re)started, on the day the last did."""

    id: Id
    label: Text
    description: OptionalText = ""
    kind: ClockKind
    budget: Count
    unit: ClockUnit
    direction: Direction = "after"
    anchor: Anchor
    day_zero: DayZero | None = None
    """Overrides `settings.day_zero` for this clock."""
    warn_within: Count = 0
    """Working days before the due date from which the clock shows as due soon."""
    start_on: UniqueIds = ()
    stop_on: UniqueIds = ()
    stop_all: tuple[StopWhen, ...] = ()
    pause_in: UniqueIds = ()
    reproject_on: UniqueIds = ()
    ends: ClockEnd = "on_stop"
    source: Text
    status_note: OptionalText = ""

    @property
    def stoppers(self) -> tuple[str, ...]:
        """Every trigger that stops the clock or brings its stop nearer: `stop_on`, then
        the triggers of `stop_all`."""
        extra = tuple(
            dict.fromkeys(w.trigger for w in self.stop_all if w.trigger not in self.stop_on)
        )
        return (*self.stop_on, *extra)

    @model_validator(mode="after")
    def _before_needs_a_date(self) -> Clock:
        if self.direction == "before" and self.anchor.event is not None:
            raise ValueError(
                "direction = 'before' needs a field or setting anchor: "
                "a due date before the event that starts the clock has already passed"
            )
        return self

    def rule(self) -> str:
        """The due-date rule in words, e.g. `15 working days after notified_on`."""
        from casereview.domain.calendar.units import unit_named

        amount = unit_named(self.unit).amount(self.budget)
        return f"{amount} {self.direction} {self.anchor.describe()}"


class AnchorSetting(_Model):
    """A named, installation-chosen anchor field (e.g. which date a rapid review counts from)."""

    field: Id
    allowed: UniqueIds = ()
    """The documented alternatives; empty means any date field."""
    description: OptionalText = ""


class Settings(_Model):
    """Per-workflow choices the guidance leaves open."""

    day_zero: DayZero = "anchor_is_day_0"
    calendar: Literal["england-and-wales"] = "england-and-wales"
    anchors: Annotated[Mapping[Id, AnchorSetting], AfterValidator(_frozen_mapping)] = Field(
        default_factory=dict, validate_default=True
    )

    @field_serializer("anchors")
    def _dump_anchors(self, value: Mapping[str, AnchorSetting]) -> dict[str, AnchorSetting]:
        return dict(value)


# -- [report]: what the annual report counts in this workflow ----------------------------
# Each table names the triggers, states, clocks and fields behind one section of the
# report's figures (docs/report.md); a section left out is "not applicable" to this
# workflow. `references` checks that every id named exists.


class ReportColumns(_Model):
    """The case fields shown in the report's detail columns of the same name."""

    aware_on: Id | None = None
    recommendation: Id | None = None
    panel_position: Id | None = None
    review_by: Id | None = None
    category: Id | None = None
    """Why a case was notified without a rapid review (`notifications.only`)."""
    review_type: Id | None = None
    """Which kind of local review of an incident not notified (`local_learning.*`)."""


class ReportNotifications(_Model):
    """`notifications.*`: the trigger that notifies and the clock it is due by."""

    trigger: Id
    clock: Id
    only: UniqueIds = ()
    """Triggers that notify without a rapid review (a looked-after child's death):
    counted apart (`notifications.only*`), on time by the same clock."""
    escalated_by: Id | None = None
    """The trigger that later sends a case notified only to a rapid review."""


class ReportRapidReviews(_Model):
    """`rapid_reviews.*`: the review's clock, and the trigger that stopping it on counts
    as the review completed (not, say, a withdrawal)."""

    clock: Id
    completed_by: Id


NonEmptyIds = Annotated[UniqueIds, Field(min_length=1)]


def _one_or_more(value: object) -> object:
    return (value,) if isinstance(value, str) else value


IdOrIds = Annotated[NonEmptyIds, BeforeValidator(_one_or_more)]
"""One trigger id, or a list of them (`published_by = ["publish", "publish_despite…"]`)."""


class FieldGroups(_Model):
    """A case field and which of its values put a case in each named group of a figure
    (`publication.full`: `publication_form` is `full_report`). The group names are the
    report's vocabulary (`allowed`, checked by the table that uses it)."""

    field: Id
    values: Annotated[
        Mapping[Id, Annotated[tuple[Scalar, ...], Field(min_length=1)]],
        AfterValidator(_frozen_mapping),
        Field(min_length=1),
    ]

    @field_serializer("values")
    def _dump_values(self, value: Mapping[str, tuple[Any, ...]]) -> dict[str, Any]:
        return dict(value)

    def group_of(self, value: object) -> str | None:
        """The group a field value puts a case in (None: in none)."""
        return next((name for name, vs in self.values.items() if value in vs), None)

    def only(self, allowed: tuple[str, ...]) -> FieldGroups:
        unknown_names = [name for name in self.values if name not in allowed]
        if unknown_names:
            raise ValueError(
                f"group {unknown_names[0]!r} is not one the report counts; "
                f"the groups are {', '.join(allowed)}"
            )
        return self


class ReportDecisions(_Model):
    """`decisions.*`: the triggers that record each decision."""

    local_review: NonEmptyIds | None = None
    other_learning: NonEmptyIds | None = None
    national_review: NonEmptyIds | None = None
    not_notified: NonEmptyIds | None = None
    withdrawn: NonEmptyIds | None = None

    def named(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(decision, its triggers) for each decision given, in the report's order."""
        found = ((name, getattr(self, name)) for name in type(self).model_fields)
        return tuple((name, triggers) for name, triggers in found if triggers is not None)


class PanelAgreement(_Model):
    """When an outcome shows the Panel agreeing: case field `field` holds one of
    `values` (or, with `or_unset`, holds nothing) once the outcome is recorded."""

    field: Id
    values: Annotated[tuple[Scalar, ...], Field(min_length=1)]
    or_unset: Flag = False


class FieldValues(_Model):
    """A case field and the values that count (`panel.disputed`)."""

    field: Id
    values: Annotated[tuple[Scalar, ...], Field(min_length=1)]


class PanelOutcome(_Model):
    """One outcome of the Panel's response: the trigger that records it."""

    trigger: Id
    agreed: PanelAgreement


class ReportPanel(_Model):
    """`panel.*`: the trigger recording a Panel query, and the Panel's outcomes by name
    (the name is the `outcome` detail column)."""

    query: Id
    outcomes: Annotated[
        Mapping[Id, PanelOutcome], AfterValidator(_frozen_mapping), Field(min_length=1)
    ]
    disputed: FieldValues | None = None
    """A response in which the Panel disputed the partners' decision (`panel.disputed`):
    the case field and its values (`panel_position` is `disagreed`, say)."""
    maintained_by: Id | None = None
    """The trigger by which the partners keep their decision after a disputed response
    (`panel.maintained`)."""
    reconsidered_by: Id | None = None
    """The trigger by which the partners change their decision (`panel.reconsidered`
    counts it after a disputed response)."""

    @field_serializer("outcomes")
    def _dump_outcomes(self, value: Mapping[str, PanelOutcome]) -> dict[str, PanelOutcome]:
        return dict(value)


class ReportLocalReviews(_Model):
    """`local_reviews.*`: commissioning, publication, the publication clock and the
    state publication is held in."""

    commissioned_by: Id
    published_by: IdOrIds
    """The trigger (or triggers) that publish: the usual step and any override of a
    check on it (`publish_despite_short_notice`)."""
    clock: Id
    hold_state: Id | None = None
    """The state publication is held in (a workflow that models a hold as a state); a
    case held as an overlay (`[holds]`) counts as on hold too."""
    revised_target: Id | None = None
    """The case field holding a revised publication target: the expectation keeps its
    date, and `local_reviews.revised_target*` count against the revised one."""


PUBLICATION_FORMS = ("full", "redacted", "improvements_only", "not_published")
"""The groups of `[report.publication] form`: the publication decision's figures."""
NATIONAL_BY = ("panel", "secretary_of_state")
"""The groups of `[report.national_reviews] by`: who commissioned a national review."""
LOCAL_OUTCOMES = ("superseded", "merged", "not_started")
"""The groups of `[report.national_reviews] outcome`: what happened to the local review
when the case moved to the national review (one alongside it: `continued`)."""


class ReportPublication(_Model):
    """`publication.*`: the partners' publication decision, by form, and publications
    recorded despite a failed check (the chair's override of the advance-copy rule)."""

    decided_by: NonEmptyIds
    form: Annotated[FieldGroups, AfterValidator(lambda g: g.only(PUBLICATION_FORMS))]
    reasons: Id | None = None
    """The case field holding the reasons for a form other than the full report."""


class ReportNationalReviews(_Model):
    """`national_reviews.*`: national reviews commissioned, by whom, and what happened
    to the local review."""

    commissioned_by: NonEmptyIds
    """Triggers that move the case into the national review."""
    alongside: UniqueIds = ()
    """Triggers that record a national review while the local review continues."""
    reported_by: Id | None = None
    """The trigger that records the national review's report."""
    by: Annotated[FieldGroups, AfterValidator(lambda g: g.only(NATIONAL_BY))] | None = None
    outcome: Annotated[FieldGroups, AfterValidator(lambda g: g.only(LOCAL_OUTCOMES))] | None = None


class ReportLocalLearning(_Model):
    """`local_learning.*`: local reviews of incidents not notified, apart from LCSPRs."""

    started_by: NonEmptyIds
    completed_by: UniqueIds = ()
    clock: Id | None = None
    """The review's clock: completed on time when it stopped on or before its due date."""


class ReportActionPlans(_Model):
    """`action_plans.*`: approving the plan, the state it is monitored in, and the
    trigger that closes it from there."""

    approved_by: Id
    state: Id
    closed_by: Id


def _section_titles(value: Mapping[str, str]) -> Mapping[str, str]:
    from casereview.domain.reporting.figures import SECTIONS
    from casereview.domain.workflow.references import unknown

    known = [section_id for section_id, _ in SECTIONS]
    for section_id in value:
        if section_id not in known:
            raise ValueError(unknown("report section", section_id, known))
    return _frozen_mapping(value)


class ReportTable(_Model):
    """The `[report]` table: which ids the annual report's figures count."""

    titles: Annotated[Mapping[Id, Text], AfterValidator(_section_titles)] = Field(
        default_factory=dict, validate_default=True
    )
    """Report section id -> the heading this review type's own section of the report
    gives it (`[report.titles]`): "Safeguarding adults reviews" where England's says
    "Local reviews (LCSPRs)". A section not named keeps its own heading."""
    columns: ReportColumns = Field(default_factory=ReportColumns)
    notifications: ReportNotifications | None = None
    rapid_reviews: ReportRapidReviews | None = None
    decisions: ReportDecisions = Field(default_factory=ReportDecisions)
    panel: ReportPanel | None = None
    local_reviews: ReportLocalReviews | None = None
    publication: ReportPublication | None = None
    national_reviews: ReportNationalReviews | None = None
    local_learning: ReportLocalLearning | None = None
    action_plans: ReportActionPlans | None = None

    @field_serializer("titles")
    def _dump_titles(self, value: Mapping[str, str]) -> dict[str, str]:
        return dict(value)

    @property
    def triggers(self) -> frozenset[str]:
        """Every trigger the table names."""
        named = {t for _, triggers in self.decisions.named() for t in triggers}
        if self.notifications is not None:
            n = self.notifications
            named.update((n.trigger, *n.only))
            if n.escalated_by is not None:
                named.add(n.escalated_by)
        if self.rapid_reviews is not None:
            named.add(self.rapid_reviews.completed_by)
        if self.panel is not None:
            named.add(self.panel.query)
            named.update(o.trigger for o in self.panel.outcomes.values())
            for extra in (self.panel.maintained_by, self.panel.reconsidered_by):
                if extra is not None:
                    named.add(extra)
        if self.local_reviews is not None:
            named.update((self.local_reviews.commissioned_by, *self.local_reviews.published_by))
        if self.publication is not None:
            named.update(self.publication.decided_by)
        if self.national_reviews is not None:
            nr = self.national_reviews
            named.update((*nr.commissioned_by, *nr.alongside))
            if nr.reported_by is not None:
                named.add(nr.reported_by)
        if self.local_learning is not None:
            named.update((*self.local_learning.started_by, *self.local_learning.completed_by))
        if self.action_plans is not None:
            named.update((self.action_plans.approved_by, self.action_plans.closed_by))
        return frozenset(named)


# -- [holds]: a case held in its stage --------------------------------------------------


class Holds(_Model):
    """The `[holds]` table: a hold is an overlay on a case, not a state. A case in one of
    `states` may be held by a `hold` trigger; it stays in its stage while the clocks in
    `pause` are paused and only the hold's own triggers and those in `allowed` are
    possible; a `review` trigger gives the hold a new `review_by` date, a `lift` trigger
    (or a move out of `states`) ends it. `review_clock` is the clock due on the hold's
    `review_by` date: it runs while the case is held and stops when the hold ends."""

    states: Annotated[UniqueIds, Field(min_length=1)]
    """States in which a case may be held."""
    hold: Annotated[UniqueIds, Field(min_length=1)]
    """Triggers that put a hold on a case that is not held."""
    review: UniqueIds = ()
    """Triggers that re-review a hold: a new `review_by`, the case still held."""
    lift: Annotated[UniqueIds, Field(min_length=1)]
    """Triggers that lift the hold: the case goes on in its stage."""
    pause: UniqueIds = ()
    """Clocks paused while the case is held (resumed when the hold ends)."""
    allowed: UniqueIds = ()
    """Other triggers possible while the case is held (the hold's own always are)."""
    review_by: Id
    """The date field every hold and review records: the day by which the hold must be
    reviewed or lifted."""
    review_clock: Id
    """The clock due on `review_by`: started by every hold and review trigger."""
    process: Id | None = None
    """The event field in which a hold or review names the parallel process it waits
    for (its number on the case, the workflow's `[processes]`): the process must be
    registered on the case and not concluded."""
    reason: Id | None = None
    """The field holding why the case is held. With `process`, a hold records one or
    the other (or both): a registered parallel process is reason enough."""


# -- [[migrations]]: moving cases from an earlier version --------------------------------


class VersionMap(_Model):
    """A `[[migrations]]` entry: how a case on an earlier version of this workflow moves
    to this one (moving cases between versions). `states` maps every state of that version
    to a state of this one; a case in a `held` state arrives held (this version's
    `[holds]`), keeping the hold reason and review date it had; for a `resume` state it
    arrives in the state it was in before it entered that one, where this version can
    hold a case there (else in the state `states` names)."""

    from_version: Annotated[int, Strict(), Field(ge=1)]
    states: Annotated[Mapping[Id, Id], AfterValidator(_frozen_mapping)]
    """Earlier version's state -> this version's state."""
    held: UniqueIds = ()
    """Earlier states whose cases arrive held."""
    resume: UniqueIds = ()
    """Held states whose cases go back to the state they came from."""

    @field_serializer("states")
    def _dump_states(self, value: Mapping[str, str]) -> dict[str, str]:
        return dict(value)


# -- [processes]: parallel processes recorded on a case ---------------------------------


class Processes(_Model):
    """The `[processes]` table: parallel processes (a criminal trial, an inquest, a
    national review) kept as records on a case (`domain.processes`), each registered by
    an `add` trigger and changed by an `update` trigger; the triggers' roles say who
    may record them and the `type` field's choices are the process types. Each process
    is numbered 1, 2, … on its case; the engine records the number in the `number` field
    of a registration, and an update names it there."""

    add: Annotated[UniqueIds, Field(min_length=1)]
    """Triggers that register a new process on the case."""
    update: Annotated[UniqueIds, Field(min_length=1)]
    """Triggers that change a registered process (its dates, status, reference)."""
    number: Id
    """The text field holding the process's number on its case."""
    type: Id
    """The choice field holding the process's type (its choices are the types)."""
    reference: Id | None = None
    """The text field holding the process's own reference (a court or coroner's number)."""
    lead: Id | None = None
    """The field holding the agency leading the process."""
    status: Id | None = None
    """The choice field holding the process's status."""
    concluded: UniqueIds = ("concluded",)
    """The status values that mean the process is over (its dates leave `due`)."""
    dates: UniqueIds = ()
    """The date fields holding the process's key dates (a hearing, the trial): `due`
    lists those near, for processes not concluded."""


# -- [links]: a case linked to another -----------------------------------------------


class Follow(_Model):
    """A `[[links.follow]]` entry: when a case fires one of `triggers` from one of the
    `from` states (omitted: any), each case it linked with one of `relations` that is in
    the same state takes the same step with it (a review of several children recorded
    once, on the lead case)."""

    relations: Annotated[UniqueIds, Field(min_length=1)]
    triggers: Annotated[UniqueIds, Field(min_length=1)]
    from_: Annotated[UniqueIds, Field(alias="from")] = ()


class Links(_Model):
    """The `[links]` table: a case is linked to another case (siblings, the same
    incident, a thematic review covering both) by one of the `link` triggers, which
    records the other case's reference in `other` and the relation in `relation` (a
    choice field: its choices are the relations). The link is recorded on one case and
    shown on both (`domain.links`); `follow` says which steps of the case that recorded
    it the linked case takes with it."""

    link: Annotated[UniqueIds, Field(min_length=1)]
    """Triggers that link the case to another."""
    other: Id
    """The text field holding the other case's reference."""
    relation: Id
    """The choice field holding the relation."""
    follow: tuple[Follow, ...] = ()
    """Steps a linked case takes with the case that recorded the link."""


# -- [corrections]: who may put right what was recorded in error ------------------------


class CorrectionRules(_Model):
    """The `[corrections]` table: which roles may correct which recorded fields, an
    event's date or its rationale, undo a case's latest step, and void a case opened in
    error. A workflow without the table lets nobody do any of these."""

    fields: Annotated[Mapping[Id, UniqueIds], AfterValidator(_frozen_mapping)] = Field(
        default_factory=dict, validate_default=True
    )
    """Role id -> the fields that role may correct (wherever an event recorded them)."""
    event_dates: UniqueIds = ()
    """Roles that may correct the date an event is recorded as having happened."""
    rationales: UniqueIds = ()
    """Roles that may correct the rationale recorded with an event."""
    undo: UniqueIds = ()
    """Roles that may undo a case's latest step."""
    void: UniqueIds = ()
    """Roles that may void a case opened in error."""

    @field_serializer("fields")
    def _dump_fields(self, value: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return dict(value)

    def roles_for_field(self, field_id: str) -> tuple[str, ...]:
        """The roles that may correct `field_id`, in the table's order."""
        return tuple(role for role, named in self.fields.items() if field_id in named)


# -- [action_plan]: who does what to recommendations and actions ----------------------


class ActionPlanRules(_Model):
    """The `[action_plan]` table: who records a case's recommendations and actions
    (`domain.actions`), and which triggers wait for the plan. A workflow without the
    table has no recommendations or actions."""

    approve: Annotated[UniqueIds, Field(min_length=1)]
    """Roles that approve the plan and its changes: add recommendations and actions,
    agree extensions, close an action without completion, record that a case has no
    recommendations, and override `refuse_while_open`."""
    update_any: UniqueIds = ()
    """Roles that record progress and completion on any agency's behalf."""
    update_own: UniqueIds = ()
    """Roles that record progress and completion of their own agency's actions only."""
    read: UniqueIds = ()
    """Roles that may read the plan (and nothing more); every role above may too."""
    refuse_while_open: UniqueIds = ()
    """Triggers refused while any action is open, unless overridden with a rationale."""
    require_plan: UniqueIds = ()
    """Triggers that need at least one recommendation with an action, or a recorded
    reason for none."""


class WorkflowKey(NamedTuple):
    """The identity a case pins: id, version and the sha256 of the file's bytes."""

    id: str
    version: int
    content_hash: str


@dataclass(frozen=True)
class _Index:
    states: Mapping[str, State]
    triggers: Mapping[str, Trigger]
    fields: Mapping[str, FieldSpec]
    roles: Mapping[str, Role]
    agencies: Mapping[str, Agency]
    rounds: Mapping[str, ApprovalRound]
    clocks: Mapping[str, Clock]
    moves: Moves


_Item = TypeVar("_Item", State, Trigger, FieldSpec, Role, Agency, ApprovalRound, Clock)
_T = TypeVar("_T")


def _by_id(items: tuple[_Item, ...]) -> Mapping[str, _Item]:
    return MappingProxyType({item.id: item for item in items})


class WorkflowDefinition(_Model):
    """One workflow file, validated. Load it with `casereview.domain.workflow.loader`, which also
    checks every cross-reference and records the file's content hash."""

    id: WorkflowId
    version: Annotated[int, Strict(), Field(ge=1)]
    title: Text
    short_label: Annotated[str, Strict(), StringConstraints(max_length=12)] = ""
    """The review type in a few letters ("SAR"), shown beside each case in lists and
    exports where more than one type is present; empty: the workflow's id."""
    description: OptionalText = ""
    sources: tuple[Text, ...] = ()
    settings: Settings = Field(default_factory=Settings)
    agencies: tuple[Agency, ...] = ()
    roles: Annotated[tuple[Role, ...], Field(min_length=1)]
    open_roles: Annotated[UniqueIds, Field(min_length=1)]
    fields: tuple[FieldSpec, ...] = ()
    initial_state: Id
    states: Annotated[tuple[State, ...], Field(min_length=1)]
    triggers: Annotated[tuple[Trigger, ...], Field(min_length=1)]
    approval_rounds: tuple[ApprovalRound, ...] = ()
    clocks: tuple[Clock, ...] = ()
    report: ReportTable | None = None
    """What the annual report counts; None: only the figures every workflow has."""
    corrections: CorrectionRules = Field(default_factory=CorrectionRules)
    """Who may correct, undo and void (`[corrections]`); empty: nobody may."""
    holds: Holds | None = None
    """How a case is held in its stage (`[holds]`); None: the workflow has no holds."""
    migrations: tuple[VersionMap, ...] = ()
    """How cases on earlier versions move to this one (`[[migrations]]`)."""
    action_plan: ActionPlanRules | None = None
    """Who does what to recommendations and actions (`[action_plan]`); None: none."""
    processes: Processes | None = None
    """Parallel processes recorded on a case (`[processes]`); None: the workflow has none."""
    links: Links | None = None
    """Links from a case to others (`[links]`); None: the workflow records none."""

    _content_hash: str = PrivateAttr(default="")
    _source: str | None = PrivateAttr(default=None)
    _index: _Index = PrivateAttr()

    def migration_from(self, version: int) -> VersionMap | None:
        """The state map for cases on `version` of this workflow, if the file has one."""
        return next((m for m in self.migrations if m.from_version == version), None)

    def model_post_init(self, context: Any, /) -> None:
        self._index = _Index(
            states=_by_id(self.states),
            triggers=_by_id(self.triggers),
            fields=_by_id(self.fields),
            roles=_by_id(self.roles),
            agencies=_by_id(self.agencies),
            rounds=_by_id(self.approval_rounds),
            clocks=_by_id(self.clocks),
            moves=Moves(self.id, self.states, self.triggers),
        )

    @property
    def _ix(self) -> _Index:
        # Reading a private attribute as `self._index` goes through pydantic's
        # `BaseModel.__getattr__`, which probes the `ModelPrivateAttr` for `__get__` (an
        # AttributeError raised and caught): many times slower than reading the dict
        # pydantic keeps private attributes in. The engine, replay and the exports
        # ask the definition several questions per event, so the accessors read the dict.
        index: _Index = self.__pydantic_private__["_index"]  # type: ignore[index]
        return index

    def _attach(self, content_hash: str, source: str | None) -> None:
        """Record where the definition came from (called by the loader only)."""
        self._content_hash = content_hash
        self._source = source

    # -- identity ---------------------------------------------------------------------

    @property
    def content_hash(self) -> str:
        """sha256 (hex) of the file's bytes; empty if built in memory without the loader."""
        found: str = self.__pydantic_private__["_content_hash"]  # type: ignore[index]  # as _ix
        return found

    @property
    def key(self) -> WorkflowKey:
        return WorkflowKey(self.id, self.version, self.content_hash)

    @property
    def source(self) -> str | None:
        """The file this definition was read from, if any."""
        found: str | None = self.__pydantic_private__["_source"]  # type: ignore[index]
        return found

    @property
    def label(self) -> str:
        """`england-lcspr v1`: how messages name this definition."""
        return f"{self.id} v{self.version}"

    # -- lookups by id (NotFound names what exists) -------------------------------------

    @property
    def states_by_id(self) -> Mapping[str, State]:
        return self._ix.states

    @property
    def triggers_by_id(self) -> Mapping[str, Trigger]:
        return self._ix.triggers

    @property
    def fields_by_id(self) -> Mapping[str, FieldSpec]:
        return self._ix.fields

    @property
    def approval_rounds_by_id(self) -> Mapping[str, ApprovalRound]:
        return self._ix.rounds

    @property
    def clocks_by_id(self) -> Mapping[str, Clock]:
        return self._ix.clocks

    def _lookup(self, table: Mapping[str, _T], what: str, key: str) -> _T:
        try:
            return table[key]
        except KeyError:
            known = ", ".join(table) or "none"
            raise NotFound(
                f"workflow {self.label} has no {what} {key!r} (known: {known})"
            ) from None

    def state(self, state_id: str) -> State:
        return self._lookup(self._ix.states, "state", state_id)

    def trigger(self, trigger_id: str) -> Trigger:
        return self._lookup(self._ix.triggers, "trigger", trigger_id)

    def field(self, field_id: str) -> FieldSpec:
        return self._lookup(self._ix.fields, "field", field_id)

    def role(self, role_id: str) -> Role:
        return self._lookup(self._ix.roles, "role", role_id)

    def agency(self, agency_id: str) -> Agency:
        return self._lookup(self._ix.agencies, "agency", agency_id)

    def approval_round(self, round_id: str) -> ApprovalRound:
        return self._lookup(self._ix.rounds, "approval round", round_id)

    def clock(self, clock_id: str) -> Clock:
        return self._lookup(self._ix.clocks, "clock", clock_id)

    # -- questions the engine asks ------------------------------------------------------

    def is_terminal(self, state_id: str) -> bool:
        return self.state(state_id).terminal

    @property
    def moves(self) -> Moves:
        """Where each trigger may fire and where it takes the case (`workflow.moves`);
        the accessors below ask it."""
        return self._ix.moves

    @property
    def open_state_ids(self) -> tuple[str, ...]:
        """Every non-terminal state, in file order (what `from = ["*"]` means)."""
        return self._ix.moves.open_states

    def sources_of(self, trigger: Trigger | str) -> tuple[str, ...]:
        """The states `trigger` can fire from, with `*` expanded."""
        t = self.trigger(trigger) if isinstance(trigger, str) else trigger
        return self._ix.moves.sources(t)

    def triggers_from(self, state_id: str) -> tuple[Trigger, ...]:
        """Triggers that can fire in `state_id` (file order); guards not evaluated."""
        self.state(state_id)
        return self._ix.moves.triggers_from(state_id)

    def destination(self, state_id: str, trigger_id: str) -> str | None:
        """Where `trigger_id` takes a case in `state_id`, or None if it cannot fire there.

        `machine.CompiledWorkflow.destination` asks the compiled state machine the same
        question, and the tests hold the two to agreement.
        """
        self.trigger(trigger_id)
        move = self._ix.moves.get(state_id, trigger_id)
        return move.to_state if move is not None else None

    @property
    def fields_required_at_open(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.required_at_open)

    @property
    def personal_field_ids(self) -> frozenset[str]:
        """Fields exports omit by default."""
        return frozenset(f.id for f in self.fields if f.personal)

    @property
    def personal_roles(self) -> frozenset[str]:
        """Roles whose holders may ask to see personal fields (`Role.sees_personal`)."""
        return frozenset(r.id for r in self.roles if r.sees_personal)

    def anchor_field(self, clock: Clock | str) -> str | None:
        """The case field a clock counts from (settings resolved); None for event anchors."""
        c = self.clock(clock) if isinstance(clock, str) else clock
        if c.anchor.field is not None:
            return c.anchor.field
        if c.anchor.setting is not None:
            setting = self.settings.anchors.get(c.anchor.setting)
            return setting.field if setting is not None else None
        return None

    def day_zero_of(self, clock: Clock | str) -> DayZero:
        c = self.clock(clock) if isinstance(clock, str) else clock
        return c.day_zero or self.settings.day_zero

    def clocks_started_by(self, trigger_id: str) -> tuple[Clock, ...]:
        """Clocks that start (or restart, if running) when `trigger_id` fires; `open` for
        clocks started when the case is opened."""
        return tuple(c for c in self.clocks if trigger_id in c.start_on)

    def fact_field_of(self, trigger_id: str) -> str | None:
        """The field holding `trigger_id`'s fact date (None: it has none, or is `open` or
        an engine trigger)."""
        trigger = self._ix.triggers.get(trigger_id)
        return trigger.fact_date if trigger is not None else None

    def clocks_stopped_by(self, trigger_id: str) -> tuple[Clock, ...]:
        return tuple(c for c in self.clocks if trigger_id in c.stoppers)

    def clocks_paused_in(self, state_id: str) -> tuple[Clock, ...]:
        return tuple(c for c in self.clocks if state_id in c.pause_in)

    def clocks_reprojected_by(self, field_id: str) -> tuple[Clock, ...]:
        return tuple(c for c in self.clocks if field_id in c.reproject_on)

    def round_collected_in(self, state_id: str) -> ApprovalRound | None:
        """The state round (not one that triggers open) a signing trigger signs when
        fired in `state_id`; which round a sign-off signs when opened rounds are open too
        is `domain.signoffs.signing_round`."""
        for rnd in self.approval_rounds:
            if not rnd.opened and state_id in rnd.collect_in:
                return rnd
        return None

    def rounds_signable_in(self, state_id: str) -> tuple[ApprovalRound, ...]:
        """Every round a sign-off in `state_id` could sign: its state round and the
        opened rounds that may be signed there."""
        return tuple(r for r in self.approval_rounds if r.signable_in(state_id))

    def checks_overridden_by(self, trigger_id: str) -> tuple[tuple[Trigger, DaysApartGuard], ...]:
        """The checks (trigger, its `days_apart` guard) whose `override` is `trigger_id`."""
        return tuple(
            (t, g)
            for t in self.triggers
            for g in t.guards
            if isinstance(g, DaysApartGuard) and g.override == trigger_id
        )

    def rounds_opened_by(self, trigger_id: str) -> tuple[ApprovalRound, ...]:
        """Rounds a new round of which `trigger_id` opens."""
        return tuple(r for r in self.approval_rounds if trigger_id in r.opened_by)

    def rounds_cleared_by(self, trigger_id: str) -> tuple[ApprovalRound, ...]:
        """Rounds whose sign-offs `trigger_id` discards: the trigger's `clears` and every
        round that lists the trigger in `cleared_by` (either place may say it)."""
        trigger = self.trigger(trigger_id)
        return tuple(
            r for r in self.approval_rounds if r.id in trigger.clears or trigger_id in r.cleared_by
        )
