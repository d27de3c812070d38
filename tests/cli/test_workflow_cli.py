"""`casereview workflow …` end to end: exit codes, one-line errors, output and JSON keys."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from casereview.domain.workflow.loader import check_bytes, load_path
from casereview.services.workflows import lint_path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "workflows"
SHIPPED = sorted((ROOT / "workflows").glob("*.toml"))
ENGLAND = ROOT / "workflows" / "england-lcspr@1.toml"
NO_EXTRA = {"CASEREVIEW_WORKFLOWS": ""}
BROKEN = sorted((FIXTURES / "broken").glob("*.toml"))
LINT = sorted((FIXTURES / "lint").glob("*.toml"))


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in stderr
    return lines[0]


def test_validate_shipped_files(cli):
    result = cli("workflow", "validate", *map(str, SHIPPED))
    assert result.exit_code == 0, result.stderr
    for path in SHIPPED:
        assert f"{path}: valid (" in result.stdout
    assert result.stderr.strip() == f"validate: {len(SHIPPED)} workflows checked, all valid"


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_validate_broken_fixture_exits_5_with_its_messages(cli, path):
    # The fixture's own message is checked in tests/unit/test_workflow_fixtures.py; here
    # the CLI must print exactly what the library found, naming the path as typed.
    result = cli("workflow", "validate", str(path))
    assert result.exit_code == 5
    _, problems = check_bytes(path.read_bytes(), name=str(path))
    assert problems
    assert result.stdout.splitlines() == problems
    error = _one_error_line(result.stderr)
    assert error.startswith("Error: validate: ")
    assert "in 1 workflow (of 1 checked)" in error


def test_validate_reports_every_file(cli):
    good, bad = SHIPPED[0], FIXTURES / "broken" / "undeclared_role.toml"
    result = cli("workflow", "validate", str(good), str(bad))
    assert result.exit_code == 5
    assert f"{good}: valid" in result.stdout
    assert "unknown role 'manager'" in result.stdout
    assert _one_error_line(result.stderr) == (
        "Error: validate: 1 problem in 1 workflow (of 2 checked)"
    )


def test_validate_missing_file_is_not_found(cli, tmp_path):
    result = cli("workflow", "validate", str(tmp_path / "absent.toml"))
    assert result.exit_code == 3
    assert (
        _one_error_line(result.stderr)
        == f"Error: no such workflow file: {tmp_path / 'absent.toml'}"
    )


def test_validate_json(cli):
    bad = FIXTURES / "broken" / "bad_version.toml"
    result = cli("workflow", "validate", "--json", str(ENGLAND), str(bad))
    assert result.exit_code == 5
    data = json.loads(result.stdout)
    assert [sorted(item) for item in data] == [
        ["content_hash", "id", "ok", "problems", "target", "version"]
    ] * 2
    assert data[0]["ok"] is True and data[0]["id"] == "england-lcspr" and data[0]["version"] == 1
    assert data[1]["ok"] is False and data[1]["id"] is None
    assert data[1]["problems"] == [f"{bad}: key 'version': must be at least 1, got 0"]


@pytest.mark.parametrize("path", LINT, ids=lambda p: p.stem)
def test_lint_fixture_exits_5_with_its_findings(cli, path):
    result = cli("workflow", "lint", str(path), env=NO_EXTRA)
    assert result.exit_code == 5
    findings = lint_path(str(path)).problems
    assert findings
    assert tuple(result.stdout.splitlines()) == findings
    assert _one_error_line(result.stderr).startswith("Error: lint: ")


@pytest.mark.parametrize("name", ["undeclared_role", "toml_syntax", "unknown_key"])
def test_lint_reports_validation_problems_too(cli, name):
    path = FIXTURES / "broken" / f"{name}.toml"
    result = cli("workflow", "lint", str(path), env=NO_EXTRA)
    assert result.exit_code == 5
    assert result.stdout.splitlines() == check_bytes(path.read_bytes(), name=str(path))[1]


def test_lint_defaults_to_every_installed_workflow(cli):
    result = cli("workflow", "lint", env=NO_EXTRA)
    assert result.exit_code == 0, result.stdout + result.stderr
    for path in SHIPPED:
        assert f"{path.name}: no findings (" in result.stdout
    assert result.stderr.strip() == f"lint: {len(SHIPPED)} workflows checked, no findings"


def test_lint_by_id(cli):
    result = cli("workflow", "lint", "england-lcspr", env=NO_EXTRA)
    assert result.exit_code == 0
    assert "england-lcspr.toml: no findings (england-lcspr v2" in result.stdout


def test_lint_default_includes_broken_installed_files(cli, tmp_path):
    (tmp_path / "x.toml").write_bytes((FIXTURES / "lint" / "dead_end.toml").read_bytes())
    (tmp_path / "y.toml").write_bytes((FIXTURES / "broken" / "unknown_key.toml").read_bytes())
    result = cli("workflow", "lint", env={"CASEREVIEW_WORKFLOWS": str(tmp_path)})
    assert result.exit_code == 5
    assert "x.toml: trigger 'wander' leads from 'deciding' into 'loop_a'" in result.stdout
    y = tmp_path / "y.toml"
    assert f"{y}: trigger 'start': unknown key 'role'" in result.stdout
    assert f"{y}: trigger 'start': missing required key 'roles'" in result.stdout
    # A file with two problems is still one workflow.
    assert _one_error_line(result.stderr) == (
        f"Error: lint: 3 problems in 2 workflows (of {len(SHIPPED) + 2} checked)"
    )


def test_lint_json(cli):
    result = cli("workflow", "lint", "--json", env=NO_EXTRA)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {item["id"] for item in data} >= {"england-lcspr", "scr-transitional"}
    assert all(item["ok"] and item["problems"] == [] for item in data)


def test_list_table(cli, tmp_path):
    """Without a database, the files found are listed as found, not installed."""
    result = cli("workflow", "list", "--db", str(tmp_path / "none.db"), env=NO_EXTRA)
    assert result.exit_code == 0
    for word in ("england-lcspr", "scr-transitional", "(shipped)", "version", "not installed"):
        assert word in result.stdout
    assert result.stderr == (
        "Warning: there is no database yet, so nothing is installed (run 'casereview init')\n"
    )
    assert not (tmp_path / "none.db").exists()


def test_list_json_keys(cli, tmp_path):
    result = cli("workflow", "list", "--json", "--db", str(tmp_path / "none.db"), env=NO_EXTRA)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [list(item) for item in data] == [
        [
            "id",
            "version",
            "title",
            "content_hash",
            "file",
            "directory",
            "status",
            "installed_seq",
        ]
    ] * len(data)
    assert {item["status"] for item in data} == {"not_installed"}
    by_id = {item["id"]: item for item in data}
    assert set(by_id) == {
        "england-lcspr",
        "scr-transitional",
        "england-sar",
        "england-dhr",
        "wales-susr",
    }
    englands = [item for item in data if item["id"] == "england-lcspr"]
    assert [item["version"] for item in englands] == [1, 2]
    for england in englands:
        assert len(england["content_hash"]) == 64
        assert england["directory"] == "(shipped)"
    assert englands[0]["file"].endswith("england-lcspr@1.toml")
    assert englands[1]["file"].endswith("england-lcspr.toml")


def test_list_warns_about_conflicting_files(cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    text = (FIXTURES / "minimal.toml").read_text()
    (a / "m.toml").write_text(text)
    (b / "m.toml").write_text(text.replace("Minimal", "Other"))
    result = cli("workflow", "list", "--json", env={"CASEREVIEW_WORKFLOWS": f"{a}{os.pathsep}{b}"})
    assert result.exit_code == 0
    assert "minimal" not in {item["id"] for item in json.loads(result.stdout)}
    assert "Warning: workflow minimal v1 is defined twice with different content" in result.stderr


def test_show_table_lists_every_state_trigger_and_clock(cli):
    result = cli("workflow", "show", "england-lcspr@1", env=NO_EXTRA)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for heading in ("States", "Triggers", "Clocks", "Approval rounds", "Fields", "Roles"):
        assert heading in out
    england = load_path(ENGLAND)
    # Ids sit in no-wrap first columns, so each appears whole at the start of a row.
    rows = {line.split()[0] for line in out.splitlines() if line.startswith(" ") and line.split()}
    for table in (england.states, england.triggers, england.clocks, england.fields, england.roles):
        for item in table:
            assert item.id in rows, item.id
    assert "rationale required" in out


SHOW_KEYS = [
    "id",
    "version",
    "content_hash",
    "file",
    "title",
    "short_label",
    "description",
    "sources",
    "settings",
    "agencies",
    "roles",
    "open_roles",
    "fields",
    "initial_state",
    "states",
    "triggers",
    "approval_rounds",
    "clocks",
    "report",
    "corrections",
    "holds",
    "migrations",
    "action_plan",
    "processes",
    "links",
]


def test_show_json_has_stable_keys(cli):
    result = cli("workflow", "show", "england-lcspr@1", "--json", env=NO_EXTRA)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == SHOW_KEYS
    assert list(data["triggers"][0]) == [
        "id",
        "label",
        "description",
        "from",
        "to",
        "roles",
        "requires",
        "optional",
        "defaults",
        "rationale_required",
        "guards",
        "signs",
        "clears",
        "on_behalf",
        "fact_date",
    ]
    assert list(data["clocks"][0]) == [
        "id",
        "label",
        "description",
        "kind",
        "budget",
        "unit",
        "direction",
        "anchor",
        "day_zero",
        "warn_within",
        "start_on",
        "stop_on",
        "stop_all",
        "pause_in",
        "reproject_on",
        "ends",
        "source",
        "status_note",
    ]
    assert list(data["states"][0]) == ["id", "label", "description", "terminal"]
    assert list(data["fields"][0]) == [
        "id",
        "label",
        "description",
        "type",
        "choices",
        "required_at_open",
        "personal",
        "scope",
        "not_after",
    ]
    assert list(data["corrections"]) == ["fields", "event_dates", "rationales", "undo", "void"]
    assert data["corrections"]["undo"] == ["chair"]
    assert list(data["approval_rounds"][0]) == [
        "id",
        "label",
        "description",
        "agencies",
        "collect_in",
        "cleared_by",
        "opened_by",
        "agency_field",
    ]
    assert list(data["settings"]) == ["day_zero", "calendar", "anchors"]
    assert data["content_hash"] == hashlib.sha256(ENGLAND.read_bytes()).hexdigest()
    assert data["triggers"][0]["from"] == ["screening"]


def test_show_a_file_and_version_mismatch(cli):
    path = FIXTURES / "minimal.toml"
    result = cli("workflow", "show", str(path), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["id"] == "minimal"
    result = cli("workflow", "show", str(path), "--version", "2")
    assert result.exit_code == 2
    assert "is version 1, not 2" in _one_error_line(result.stderr)


def test_show_unknown_workflow_is_not_found(cli):
    result = cli("workflow", "show", "no-such-workflow", env=NO_EXTRA)
    assert result.exit_code == 3
    assert _one_error_line(result.stderr).startswith(
        "Error: no workflow file for 'no-such-workflow' was found"
    )


def test_show_invalid_file_is_exit_5_with_one_line(cli):
    result = cli("workflow", "show", str(FIXTURES / "broken" / "wrong_type.toml"))
    assert result.exit_code == 5
    assert "wrong_type.toml is not a valid workflow definition (1 problem" in _one_error_line(
        result.stderr
    )


def test_diagram(cli):
    result = cli("workflow", "diagram", "england-lcspr", env=NO_EXTRA)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    [*] --> screening" in lines
    assert "    screening --> rapid_review : notify" in lines
    assert "    closed --> [*]" in lines


def test_diagram_of_a_file(cli):
    result = cli("workflow", "diagram", str(FIXTURES / "minimal.toml"))
    assert result.exit_code == 0
    assert "    signoff --> done : finish" in result.stdout.splitlines()


def test_cli_import_stays_light():
    code = (
        "import sys, casereview.cli.app; "
        "print(sorted(m for m in ('pydantic', 'transitions', 'rich', 'casereview.domain.workflow') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
