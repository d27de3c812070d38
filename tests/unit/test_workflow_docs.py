"""docs/workflows.md stays true: its example is a valid, clean workflow, and it documents
every key of the format and every `workflow` command."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from casereview.domain.workflow.lint import lint_definition
from casereview.domain.workflow.loader import load_bytes
from casereview.domain.workflow.model import (
    Agency,
    Anchor,
    AnchorSetting,
    ApprovalRound,
    Clock,
    CorrectionRules,
    FieldGroups,
    FieldSpec,
    FieldValues,
    OnBehalf,
    PanelAgreement,
    PanelOutcome,
    ReportActionPlans,
    ReportColumns,
    ReportDecisions,
    ReportLocalLearning,
    ReportLocalReviews,
    ReportNationalReviews,
    ReportNotifications,
    ReportPanel,
    ReportPublication,
    ReportRapidReviews,
    ReportTable,
    Role,
    Settings,
    State,
    Trigger,
    WorkflowDefinition,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "workflows.md").read_text()


def test_annotated_example_is_valid_and_lint_clean():
    blocks = re.findall(r"```toml\n(.*?)```", DOC, re.S)
    assert len(blocks) == 1
    definition = load_bytes(blocks[0].encode(), name="docs-example.toml")
    assert lint_definition(definition) == []
    # The example shows every kind of table and every guard, anchor and end.
    assert definition.agencies and definition.approval_rounds and definition.settings.anchors
    kinds = {g.kind for t in definition.triggers for g in t.guards}
    assert kinds >= {"approval_complete", "field_equals"}
    anchors = {
        "field" if c.anchor.field else "setting" if c.anchor.setting else "event"
        for c in definition.clocks
    }
    assert anchors >= {"setting", "event"}
    assert {c.ends for c in definition.clocks} == {"on_stop", "on_due"}


def test_every_key_of_the_format_is_documented():
    for model in (
        WorkflowDefinition,
        Settings,
        AnchorSetting,
        Agency,
        Role,
        FieldSpec,
        State,
        Trigger,
        OnBehalf,
        ApprovalRound,
        Anchor,
        Clock,
        CorrectionRules,
    ):
        for name, info in model.model_fields.items():
            key = info.alias or name
            forms = (f"`{key}`", f"{key} =", f"[{key}]", f"[[{key}]]")
            assert any(form in DOC for form in forms), f"{model.__name__}.{key}"


def test_the_report_table_is_documented_with_englands_own_table():
    for model in (
        ReportTable,
        ReportColumns,
        ReportNotifications,
        ReportRapidReviews,
        ReportDecisions,
        ReportPanel,
        PanelOutcome,
        PanelAgreement,
        ReportLocalReviews,
        ReportPublication,
        ReportNationalReviews,
        ReportLocalLearning,
        FieldGroups,
        FieldValues,
        ReportActionPlans,
    ):
        for name in model.model_fields:
            forms = (f"`{name}`", f"{name} =", f"[report.{name}]")
            assert any(form in DOC for form in forms), f"{model.__name__}.{name}"
    section = DOC.split("### `[report]`", 1)[1].split("\n### ", 1)[0]
    example = re.findall(r"```\n(.*?)```", section, re.S)
    assert len(example) == 1
    shipped = tomllib.loads((ROOT / "workflows" / "england-lcspr@1.toml").read_text())
    assert tomllib.loads(example[0]) == {"report": shipped["report"]}
    # Version 2's additions, as its file has them.
    [added] = re.findall(r"```text\n(.*?)```", section, re.S)
    v2 = tomllib.loads((ROOT / "workflows" / "england-lcspr.toml").read_text())["report"]
    for table, keys in tomllib.loads(added)["report"].items():
        assert {key: v2[table][key] for key in keys} == keys, table


def test_every_workflow_command_is_documented(cli):
    result = cli("workflow", "--help")
    listing = result.stdout.split("Commands:", 1)[1]
    commands = re.findall(r"^  (\w+)\s", listing, re.M)
    assert {"list", "show", "validate", "lint", "diagram", "diff"} <= set(commands)
    for command in commands:
        assert f"`casereview workflow {command}" in DOC
