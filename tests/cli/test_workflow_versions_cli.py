"""Versions of one workflow side by side: both installed, new cases on the newest,
`case open --workflow ID@N` on an older installed one, and every case read with its own
version (show, advance, timeline, verify, the decision log)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import enrol_keys

ENGINE = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "engine"


def _two_versions(directory: Path) -> None:
    """overlays v1 as it is, and a v2 that adds a trigger v1 does not have."""
    v1 = (ENGINE / "overlays.toml").read_text(encoding="utf-8")
    (directory / "overlays@1.toml").write_text(v1, encoding="utf-8")
    v2 = v1.replace("version = 1", "version = 2", 1).replace(
        'stop_on = ["notify"]', 'stop_on = ["notify", "escalate"]', 1
    ) + (
        "\n[[triggers]]\n"
        'id = "escalate"\n'
        'label = "Escalate"\n'
        'from = ["received"]\n'
        'to = "reviewing"\n'
        'roles = ["chair"]\n'
        "rationale_required = true\n"
    )
    (directory / "overlays.toml").write_text(v2, encoding="utf-8")


@pytest.fixture
def db(database_url, cli, monkeypatch, as_user, tmp_path):
    files = tmp_path / "workflows"
    files.mkdir()
    _two_versions(files)
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(files))
    assert cli("init", "--db", database_url).exit_code == 0
    for target in ("overlays@1", "overlays@2"):
        installed = cli("workflow", "install", target, "--db", database_url)
        assert installed.exit_code == 0, installed.stderr
    for name, role in (("clerk", "clerk"), ("chair", "chair")):
        result = cli("user", "add", name, "--name", name, "--role", role, "--db", database_url)
        assert result.exit_code == 0, result.stderr
    enrol_keys(database_url, "clerk", "chair", admin="root")
    as_user("clerk")
    return database_url


def _open(cli, db: str, ref: str, *extra: str):
    return cli(
        "case", "open", ref, "--aware-on", "2026-03-02", "--on", "2026-03-02", *extra,
        "--db", db,
    )  # fmt: skip


def _show(cli, db: str, ref: str) -> dict:
    result = cli("case", "show", ref, "--json", "--db", db)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_new_cases_open_on_the_newest_version_and_id_at_n_on_an_older_one(cli, db, as_user):
    assert _open(cli, db, "V-2", "--workflow", "overlays").exit_code == 0
    older = _open(cli, db, "V-1", "--workflow", "overlays@1")
    assert older.exit_code == 0, older.stderr
    assert _show(cli, db, "V-2")["workflow_version"] == 2
    assert _show(cli, db, "V-1")["workflow_version"] == 1

    # Each case follows its own version's rules: v2's trigger is refused on the v1 case.
    as_user("chair")
    on_v1 = cli("case", "advance", "V-1", "escalate", "--rationale", "r", "--on", "2026-03-03",
                "--db", db)  # fmt: skip
    assert on_v1.exit_code == 3, on_v1.stdout + on_v1.stderr
    assert "escalate" in on_v1.stderr
    on_v2 = cli("case", "advance", "V-2", "escalate", "--rationale", "r", "--on", "2026-03-03",
                "--db", db)  # fmt: skip
    assert on_v2.exit_code == 0, on_v2.stderr
    assert _show(cli, db, "V-2")["state"] == "reviewing"
    assert _show(cli, db, "V-1")["state"] == "received"

    # Every reader loads each case's own version.
    as_user("root")
    assert cli("audit", "verify", "--db", db).exit_code == 0
    for ref in ("V-1", "V-2"):
        timeline = cli("timeline", ref, "--db", db)
        assert timeline.exit_code == 0, timeline.stderr
    exported = cli("log", "export", "--format", "json", "--db", db)
    assert exported.exit_code == 0, exported.stderr
    log = json.loads(exported.stdout)
    assert {(w["id"], w["version"]) for w in log["meta"]["workflows"]} == {
        ("overlays", 1),
        ("overlays", 2),
    }
    assert {e["trigger"] for e in log["events"] if e["case_ref"] == "V-2"} >= {"escalate"}


def test_a_version_not_installed_is_refused_and_nothing_is_written(cli, db, tmp_path):
    third = tmp_path / "workflows" / "overlays@3.toml"
    third.write_text(
        (tmp_path / "workflows" / "overlays.toml")
        .read_text(encoding="utf-8")
        .replace("version = 2", "version = 3", 1),
        encoding="utf-8",
    )
    found_not_installed = _open(cli, db, "V-3", "--workflow", "overlays@3")
    assert found_not_installed.exit_code == 4
    assert found_not_installed.stderr.startswith("Error: workflow overlays@3 is not installed")
    assert "casereview workflow install overlays@3" in found_not_installed.stderr
    nowhere = _open(cli, db, "V-9", "--workflow", "overlays@9")
    assert nowhere.exit_code == 3
    assert "installed versions: v1, v2" in nowhere.stderr
    bad = _open(cli, db, "V-0", "--workflow", "overlays@x")
    assert bad.exit_code == 2
    assert bad.stderr.count("\n") == 1
    listed = cli("case", "list", "--json", "--db", db)
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_workflow_diff_lists_what_england_v2_changed(cli):
    result = cli("workflow", "diff", "england-lcspr@1", "england-lcspr@2", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["before"], data["after"]) == ("england-lcspr v1", "england-lcspr v2")
    by = {}
    for change in data["changes"]:
        by.setdefault((change["section"], change["change"]), set()).add(change["item"])
    assert by[("states", "added")] == {"notification_only", "local_review"}
    assert by[("states", "removed")] == {"publication_hold"}
    assert by[("triggers", "removed")] == {"hold_publication"}
    assert by[("triggers", "added")] >= {
        "notify_only", "escalate_to_rapid_review", "start_local_review",
        "complete_local_review", "record_panel_response", "maintain_decision",
        "record_national_review_alongside", "record_national_report", "inform_lcspr",
        "hold", "register_parallel_process", "update_parallel_process",
        "decide_publication", "record_not_published", "publish_despite_short_notice",
        "revise_publication_target",
    }  # fmt: skip
    assert by[("triggers", "changed")] >= {
        "commission_lcspr", "panel_commissions_national_review", "lift_hold",
        "schedule_publication", "send_advance_copy", "publish", "close",
    }  # fmt: skip
    assert by[("clocks", "added")] == {"lcspr_informed", "local_review"}
    text = cli("workflow", "diff", "england-lcspr@1", "england-lcspr@2", env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith("england-lcspr v1 → england-lcspr v2: ")
    lines = [line.strip() for line in text.stdout.splitlines()]
    assert "- publication_hold  Publication held" in lines
    assert "- hold_publication  Hold publication" in lines
    assert "+ notification_only  Notification only" in lines
