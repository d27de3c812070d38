"""Names vulture reports as unused that are used, each with the reason.

`make lint` runs `vulture` (settings in pyproject.toml) over src/ with this file. A name
belongs here only when something outside casereview's own calls uses it; anything else
vulture finds is dead and is deleted. Review this list when a name's reason changes.
"""

# ruff: noqa
# mypy: ignore-errors

# Typer commands: registered by decorators, called by click.
user_add, user_grant, user_revoke, user_deactivate, user_reactivate, user_list  # cli/admin.py
user_link, user_unlink  # cli/admin.py
key_enrol, key_confirm, key_revoke  # cli/keys.py
partnership_set, partnership_show  # cli/admin.py
setup  # cli/setup.py
case_open, case_find, case_show, case_advance, case_correct, case_undo, case_void  # cli/cases.py
case_migrate  # cli/cases.py
process_add, process_update, process_list, case_link  # cli/cases.py: `case process`, `case link`
list_workflows, validate, lint, diagram  # cli/workflow.py
rec_add, rec_none, rec_list, rec_show, action_add, action_update, action_extend  # cli/actions.py
action_complete, action_override, action_list, action_due, action_plan, action_import  # cli/actions.py
standalone_mode  # cli/app.py: part of click's `main` signature, which the group overrides

# Pydantic: validators and serializers run by the model machinery; fields read by name.
model_config
_._choices_match_type, _._collected_somewhere, _._dump_maps, _._dump_defaults, _._from_list, _._required_or_optional
_._exactly_one, _._before_needs_a_date, _._dump_anchors, _._dump_outcomes, _._dump_fields
_._dump_states  # workflow/model.py VersionMap (pydantic serializer)
_._dump_where  # workflow/model.py StopWhen (pydantic serializer)
_._dump_titles  # workflow/model.py ReportTable (pydantic serializer)
_._dump_values  # workflow/model.py FieldGroups (pydantic serializer)
_._content_hash, _._source  # private attributes set through __pydantic_private__
local_review, national_review, not_notified, withdrawn  # ReportDecisions: read by `named()`

# Python protocols.
__getattr__  # domain/workflow/__init__.py: PEP 562 lazy names
_.reducer_override, _.find_class  # infra/workflows/cache.py: pickle's hooks
_.isolation_level  # store/dialect.py: sqlite3's connection attribute, set for SQLAlchemy

# The definition's query API, documented in docs/workflows.md and used by tests and the
# reliability workers.
_.stays, _.open_state_ids
_.clocks_started_by, _.clocks_stopped_by, _.clocks_paused_in, _.clocks_reprojected_by

# Reference implementations the tests hold the fast paths equal to.
verify_chain  # domain/chain.py: the whole-chain check that `check_links` streams
clock_moments  # formats/decision_log/records.py: a fresh position per event
_.open_cases  # formats/decision_log/records.py: the builder's memory bound
to_data  # formats/report/as_json.py: the document the streamed JSON must equal
count_events  # store/event_log.py: the schema tests' count

# Called from outside src/: the benchmark generator writes its cases through it.
apply_scripts  # services/bulk.py

# Data for front ends, part of a record's documented shape.
meaning  # domain/clock_status.py: what each status means
media_type  # formats/registry.py: the media type of each export format
due_next_5  # services/due.py: a documented key of the due summary's JSON

# SQLModel tables: the schema as classes, held equal to the migrations by a test.
User, Case, CaseClock, ChainHead, SchemaMigration
CaseRecommendation, CaseAction, CaseActionPlan, CalendarFeed
created_seq, workflow_hash, applied_at, voided_seq, signature, key_id, open_due

# Called from outside src/: the benchmark generator records its action plans with it.
record_many  # services/actions.py, by benchmarks/generate.py

# Read by the web interface's templates (Jinja looks them up by name).
_.for_others  # services/steps.py StepForm: the on-behalf select of a step's form
# The web interface's shared mode calls these (the web app is wired in separately).
for_person, open_shared  # services/context.py: a request's context acting for a person
user_for  # services/identities.py: the sign-in lookup of a verified identity
discover, begin, finish  # web/oidc.py: the OpenID Connect client the sign-in routes call
