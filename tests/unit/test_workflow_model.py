"""The shipped workflow files and the model's read-only API.

The England vocabulary below is copied from the domain reference (england-lcspr.md): those
ids are stable, so a rename or a dropped id in workflows/england-lcspr.toml fails here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from casereview.domain.workflow.lint import lint_definition
from casereview.domain.workflow.loader import check_bytes, load_bytes, load_path
from casereview.domain.workflow.model import FieldEqualsGuard, WorkflowDefinition, WorkflowKey
from casereview.errors import NotFound

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
SHIPPED = sorted(WORKFLOWS.glob("*.toml"))
ENGLAND = WORKFLOWS / "england-lcspr@1.toml"

ROLES = {"business_unit", "chair", "partner", "scrutineer", "admin"}
OPEN_FIELDS = {
    "ref",
    "pseudonym",
    "aware_on",
    "incident_on",
    "nature",
    "looked_after",
    "notifying_la",
    "resident_la",
}
STATES = [
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
    "closed",
]
OPEN_STATES = tuple(s for s in STATES if s != "closed")
# trigger: (from states, to (None = same), roles, fields the vocabulary says it needs)
TRIGGERS: dict[str, tuple[tuple[str, ...], str | None, set[str], set[str]]] = {
    "notify": (("screening",), "rapid_review", {"business_unit"}, {"sin_reference"}),
    "decide_not_to_notify": (("screening",), "closed", {"chair"}, set()),
    "propose_decision": (
        ("rapid_review",),
        "rapid_review_signoff",
        {"chair"},
        {"recommendation"},
    ),
    "sign_off": (("rapid_review_signoff", "final_signoff"), None, {"partner"}, {"agency"}),
    "revise": (("rapid_review_signoff",), "rapid_review", {"chair"}, set()),
    "submit_rapid_review": (
        ("rapid_review_signoff",),
        "awaiting_panel",
        {"business_unit"},
        set(),
    ),
    "record_panel_query": (
        ("awaiting_panel",),
        "panel_query",
        {"business_unit", "chair"},
        {"summary"},
    ),
    "answer_panel": (("panel_query",), "awaiting_panel", {"business_unit"}, {"summary"}),
    "reconsider": (("panel_query",), "rapid_review_signoff", {"chair"}, {"recommendation"}),
    "commission_lcspr": (
        ("awaiting_panel",),
        "lcspr_commissioning",
        {"chair"},
        {"panel_position"},
    ),
    "record_other_learning": (
        ("awaiting_panel",),
        "other_learning",
        {"chair"},
        {"learning_activity"},
    ),
    "panel_commissions_national_review": (
        ("awaiting_panel", "panel_query"),
        "national_review",
        {"chair"},
        set(),
    ),
    "withdraw": (("rapid_review", "rapid_review_signoff"), "closed", {"chair"}, set()),
    "appoint_reviewer": (
        ("lcspr_commissioning",),
        "lcspr_in_progress",
        {"chair"},
        {"reviewer", "scope_from", "scope_to"},
    ),
    "record_progress_check": (("lcspr_in_progress",), None, {"chair"}, {"note"}),
    "receive_draft": (("lcspr_in_progress",), "draft_review", {"business_unit"}, set()),
    "request_changes": (("draft_review",), "lcspr_in_progress", {"chair"}, set()),
    "accept_final": (("draft_review",), "final_signoff", {"chair"}, set()),
    "hold_publication": (
        ("final_signoff", "publication_scheduled"),
        "publication_hold",
        {"chair"},
        {"hold_reason", "review_by"},
    ),
    "lift_hold": (("publication_hold",), "final_signoff", {"chair"}, set()),
    "schedule_publication": (
        ("final_signoff",),
        "publication_scheduled",
        {"business_unit"},
        {"planned_publication_on", "publication_form"},
    ),
    "reschedule_publication": (
        ("publication_scheduled",),
        None,
        {"business_unit"},
        {"planned_publication_on"},
    ),
    "send_advance_copy": (("publication_scheduled",), None, {"business_unit"}, set()),
    "publish": (("publication_scheduled",), "published", {"business_unit"}, {"url"}),
    "approve_action_plan": (
        ("published", "other_learning", "national_review"),
        "action_monitoring",
        {"chair"},
        set(),
    ),
    "record_action_update": (("action_monitoring",), None, {"business_unit"}, {"note"}),
    "close": (("action_monitoring",), "closed", {"chair"}, set()),
}
RATIONALE = {
    "decide_not_to_notify",
    "propose_decision",
    "revise",
    "reconsider",
    "commission_lcspr",
    "record_other_learning",
    "panel_commissions_national_review",
    "withdraw",
    "request_changes",
    "hold_publication",
    "lift_hold",
    "reschedule_publication",
    "approve_action_plan",
    "close",
}
CHOICES = {
    "nature": ("death", "serious_harm", "other"),
    "recommendation": ("lcspr", "no_lcspr", "national_review"),
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
    "agency": ("local_authority", "police", "icb"),
}
# clock: kind, budget, unit, direction, anchor field (resolved), start_on, stop_on, pause_in
CLOCKS = {
    "notification": (
        "statutory",
        5,
        "working_days",
        "after",
        "aware_on",
        {"open"},
        {"notify", "decide_not_to_notify"},
        set(),
    ),
    "rapid_review": (
        "expectation",
        15,
        "working_days",
        "after",
        "notified_on",
        {"notify"},
        {"submit_rapid_review", "withdraw"},
        set(),
    ),
    "panel_response": (
        "local",
        10,
        "working_days",
        "after",
        None,
        {"submit_rapid_review", "answer_panel"},
        {
            "record_panel_query",
            "commission_lcspr",
            "record_other_learning",
            "panel_commissions_national_review",
        },
        set(),
    ),
    "lcspr_publication": (
        "expectation",
        6,
        "months",
        "after",
        None,
        {"commission_lcspr"},
        {"publish"},
        {"publication_hold"},
    ),
    "hold_review": (
        "local",
        0,
        "calendar_days",
        "after",
        "review_by",
        {"hold_publication", "review_hold"},
        {"lift_hold"},
        set(),
    ),
    "advance_copy": (
        "statutory",
        7,
        "working_days",
        "before",
        "planned_publication_on",
        {"schedule_publication"},
        {"send_advance_copy", "publish"},
        {"publication_hold", "final_signoff"},
    ),
    "publication_retention": (
        "expectation",
        1,
        "years",
        "after",
        None,
        {"publish"},
        set(),
        set(),
    ),
}


@pytest.fixture(scope="module")
def england():
    return load_path(ENGLAND)


def test_both_workflows_are_shipped():
    assert {p.name for p in SHIPPED} >= {"england-lcspr.toml", "scr-transitional.toml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_workflow_validates_and_lints_clean(path):
    definition, problems = check_bytes(path.read_bytes(), name=path.name)
    assert problems == []
    assert definition is not None
    assert lint_definition(definition) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_clock_cites_a_source(path):
    definition = load_path(path)
    assert definition.clocks
    for clock in definition.clocks:
        assert clock.source.strip(), clock.id


def test_england_declares_the_reference_vocabulary(england):
    assert {r.id for r in england.roles} == ROLES
    assert england.role("partner").has_agency is True
    assert [r.id for r in england.roles if r.has_agency] == ["partner"]
    assert {a.id for a in england.agencies} == {"local_authority", "police", "icb"}
    assert [s.id for s in england.states] == STATES
    assert [s.id for s in england.states if s.terminal] == ["closed"]
    assert england.initial_state == "screening"
    assert england.open_roles == ("business_unit",)
    assert set(england.fields_by_id) >= OPEN_FIELDS
    assert {f.id for f in england.fields_required_at_open} >= {"aware_on"}
    for field_id, choices in CHOICES.items():
        assert england.field(field_id).choices == choices


@pytest.mark.parametrize("trigger_id", sorted(TRIGGERS))
def test_england_trigger_matches_the_reference(england, trigger_id):
    sources, dest, roles, needs = TRIGGERS[trigger_id]
    trigger = england.trigger(trigger_id)
    assert trigger.from_ == sources
    assert trigger.to == dest
    assert set(trigger.roles) == roles
    assert needs <= set(trigger.requires)
    assert trigger.rationale_required is (trigger_id in RATIONALE)


def test_england_trigger_details(england):
    notify = england.trigger("notify")
    assert notify.defaults["notified_on"] == "$event_date"
    assert "notified_on" in notify.requires
    assert england.trigger("sign_off").signs is True
    assert [g.describe() for g in england.trigger("submit_rapid_review").guards] == [
        "approval round 'rapid_review' complete"
    ]
    assert [g.describe() for g in england.trigger("schedule_publication").guards] == [
        "approval round 'final_report' complete"
    ]
    guard = england.trigger("record_other_learning").guards[0]
    assert isinstance(guard, FieldEqualsGuard)
    assert (guard.field, guard.value) == ("recommendation", "no_lcspr")
    assert [g.describe() for g in england.trigger("publish").guards] == [
        "advance_copy_sent_on is set"
    ]
    add_note = england.trigger("add_note")
    assert add_note.from_any and add_note.stays
    assert set(add_note.roles) == ROLES - {"scrutineer"}
    assert {r.id for r in england.rounds_cleared_by("revise")} == {"rapid_review"}
    assert {r.id for r in england.rounds_cleared_by("reconsider")} == {"rapid_review"}
    assert england.rounds_cleared_by("submit_rapid_review") == ()


@pytest.mark.parametrize("clock_id", sorted(CLOCKS))
def test_england_clock_matches_the_reference(england, clock_id):
    kind, budget, unit, direction, anchor, starts, stops, pauses = CLOCKS[clock_id]
    clock = england.clock(clock_id)
    assert (clock.kind, clock.budget, clock.unit, clock.direction) == (
        kind,
        budget,
        unit,
        direction,
    )
    assert england.anchor_field(clock) == anchor
    assert set(clock.start_on) == starts
    assert set(clock.stop_on) == stops
    assert set(clock.pause_in) == pauses
    assert clock.ends == ("on_due" if clock_id == "publication_retention" else "on_stop")
    assert england.day_zero_of(clock) == "anchor_is_day_0"


def test_england_event_anchors_and_reprojection(england):
    assert england.clock("panel_response").anchor.event == "start"
    assert england.clock("rapid_review").anchor.setting == "rapid_review_anchor"
    assert england.clock("advance_copy").reproject_on == ("planned_publication_on",)
    assert [c.id for c in england.clocks_reprojected_by("planned_publication_on")] == [
        "advance_copy"
    ]
    assert [c.id for c in england.clocks_started_by("open")] == ["notification"]
    assert [c.id for c in england.clocks_stopped_by("publish")] == [
        "lcspr_publication",
        "advance_copy",
    ]
    assert {c.id for c in england.clocks_paused_in("publication_hold")} == {
        "lcspr_publication",
        "advance_copy",
    }


def test_england_clocks_are_marked_where_unconfirmed():
    text = ENGLAND.read_text()
    assert text.count("[UNCONFIRMED]") >= 6
    for url in (
        "https://wirralsafeguarding.co.uk/?p=2119",
        "https://www.kscmp.org.uk/procedures/safeguarding-practice-reviews/the-scr-process",
        "https://www.safeguardingcambspeterborough.org.uk/children-board/serious-case-reviews",
    ):
        assert url in text


def test_rapid_review_anchor_setting_can_switch_to_aware_on():
    text = ENGLAND.read_text().replace(
        'field = "notified_on"\nallowed', 'field = "aware_on"\nallowed'
    )
    definition = load_bytes(text.encode(), name="variant-b.toml")
    assert definition.anchor_field("rapid_review") == "aware_on"
    assert lint_definition(definition) == []


def test_key_is_id_version_and_sha256_of_the_bytes(england):
    digest = hashlib.sha256(ENGLAND.read_bytes()).hexdigest()
    assert england.content_hash == digest
    assert england.key == WorkflowKey("england-lcspr", 1, digest)
    assert england.source == str(ENGLAND)
    assert england.label == "england-lcspr v1"


def test_any_edit_changes_the_hash(england):
    edited = load_bytes(ENGLAND.read_bytes() + b"\n# a comment\n", name="x.toml")
    assert edited.content_hash != england.content_hash
    assert edited.key[:2] == england.key[:2]


def test_definition_is_read_only(england):
    with pytest.raises(ValidationError):
        england.version = 2
    with pytest.raises(ValidationError):
        england.trigger("notify").to = "closed"
    with pytest.raises(TypeError):
        england.trigger("notify").defaults["notified_on"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        england.triggers_by_id["x"] = england.trigger("notify")  # type: ignore[index]
    assert isinstance(england.states, tuple)


def test_lookups_raise_not_found_naming_what_exists(england):
    with pytest.raises(NotFound, match=r"england-lcspr v1 has no trigger 'nope' \(known: notify"):
        england.trigger("nope")
    with pytest.raises(NotFound, match="no state 'limbo'"):
        england.triggers_from("limbo")
    with pytest.raises(NotFound, match="no clock"):
        england.clock("x")


def test_triggers_from_expands_star_and_skips_terminal_states(england):
    assert england.sources_of("add_note") == OPEN_STATES
    assert england.triggers_from("closed") == ()
    assert [t.id for t in england.triggers_from("screening")] == [
        "notify",
        "decide_not_to_notify",
        "add_note",
    ]
    assert [t.id for t in england.triggers_from("publication_hold")] == [
        "review_hold",
        "lift_hold",
        "add_note",
    ]


def test_destination_from_the_definition(england):
    assert england.destination("screening", "notify") == "rapid_review"
    assert england.destination("final_signoff", "sign_off") == "final_signoff"
    assert england.destination("closed", "add_note") is None
    assert england.destination("screening", "publish") is None


def test_rounds_and_personal_fields(england):
    assert england.round_collected_in("rapid_review_signoff").id == "rapid_review"
    assert england.round_collected_in("final_signoff").id == "final_report"
    assert england.round_collected_in("screening") is None
    assert "child_name" in england.personal_field_ids
    assert "aware_on" not in england.personal_field_ids
    assert england.field("note").scope == "event"
    assert england.field("recommendation").scope == "case"


def test_json_dump_uses_file_keys(england):
    dumped = england.model_dump(mode="json", by_alias=True)
    assert "from" in dumped["triggers"][0]
    assert "from_" not in dumped["triggers"][0]
    assert dumped["triggers"][0]["defaults"] == {"notified_on": "$event_date"}
    assert dumped["settings"]["anchors"]["rapid_review_anchor"]["field"] == "notified_on"


def test_scr_transitional_basics():
    scr = load_path(WORKFLOWS / "scr-transitional.toml")
    assert scr.key[:2] == ("scr-transitional", 1)
    assert scr.initial_state == "scr_decision"
    assert scr.clock("scr_publication").rule() == "6 months after the event that started it"
    assert scr.clock("scr_publication_limit").pause_in == ()
    assert scr.clock("publication_retention").ends == "on_due"


def test_indexes_answer_from_the_tables(england):
    """The accessors read the index built after validation, not pydantic's attributes."""
    assert tuple(england.states_by_id.values()) == england.states
    assert tuple(england.triggers_by_id) == tuple(t.id for t in england.triggers)
    assert england.open_state_ids == tuple(s.id for s in england.states if not s.terminal)
    assert england.sources_of(england.trigger("add_note")) == england.open_state_ids
    assert "_ix" not in type(england).__private_attributes__  # a property, not pydantic state


def test_a_definition_built_in_memory_has_no_hash_or_source(england):
    copy = WorkflowDefinition.model_validate(england.model_dump(by_alias=True))
    assert copy.content_hash == ""
    assert copy.source is None
    assert copy.key == WorkflowKey("england-lcspr", 1, "")
    assert copy.trigger("notify") == england.trigger("notify")
    assert copy.open_state_ids == england.open_state_ids
