"""Installed workflows: a workflow file grants nothing until an admin installs it.

`CASEREVIEW_WORKFLOWS` is only where files are found. A new case needs an installed
(id, version); a file there claiming an installed (id, version) with other bytes is
refused for new and existing cases; the database keeps each installed file's content,
so a case replays where its file is missing; a case whose definition is nowhere is a
finding of `audit verify` for that case, and `log export` and `report` still complete
for every other case. Both backends (PostgreSQL when CASEREVIEW_TEST_DATABASE_URL is
set).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from casereview.errors import Conflict, ExitCode, InvalidWorkflow
from casereview.infra.now import FixedClock
from casereview.services import cases, users
from casereview.services import workflows as workflow_service
from casereview.services.context import ServiceContext
from tests.conftest import enrol_keys, snapshot
from tests.security.conftest import TODAY, days_ago, raw

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml"
ENGLAND = ROOT / "workflows" / "england-lcspr@1.toml"


def own_rules(folder: Path, workflow_id: str = "own-rules") -> Path:
    """A valid workflow in which the scrutineer opens cases and fires every trigger the
    clerk could: every right, as far as the file can give it."""
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace('id = "minimal"', f'id = "{workflow_id}"', 1).replace("clerk", "scrutineer")
    folder.mkdir(exist_ok=True)
    path = folder / f"{workflow_id}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Office:
    """A database where the CLI's own account is the scrutineer only, `boss` the admin
    and `officer` the business unit, with two england-lcspr cases."""

    url: str
    me: str
    tmp: Path

    def ctx(self, account: str) -> ServiceContext:
        return ServiceContext(url=self.url, account=account, clock=FixedClock(TODAY))

    def args(self) -> tuple[str, ...]:
        return ("--db", self.url)


@pytest.fixture
def office(database_url: str, tmp_path: Path) -> Iterator[Office]:
    me = ServiceContext.from_options(database_url).account
    boss = ServiceContext(url=database_url, account="boss", clock=FixedClock(TODAY))
    officer = ServiceContext(url=database_url, account="officer", clock=FixedClock(TODAY))
    try:
        users.init(boss)
        users.add_user(boss, "officer", "Officer", ["business_unit"], None)
        users.add_user(boss, me, "Scrutineer", ["scrutineer"], None)
        enrol_keys(database_url, "officer", me, admin=boss.account, clock=boss.clock)
        for ref in ("E-1", "E-2"):
            cases.open_case(officer, ref, aware_on=days_ago(10), fields={"nature": "death"})
    finally:
        boss.close()
        officer.close()
    yield Office(database_url, me, tmp_path)


def _error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in stderr
    return lines[0]


def _export_refs(stdout: str) -> set[str]:
    rows = csv.DictReader(io.StringIO(stdout.lstrip("\ufeff")))
    return {r["case_ref"] for r in rows if r["row_type"] == "event"}


# -- the scrutineer's own rules ------------------------------------------------------------


def test_a_scrutineer_cannot_open_a_case_on_a_file_of_their_own(office, cli):
    folder = office.tmp / "mine"
    own_rules(folder)
    env = {"CASEREVIEW_WORKFLOWS": str(folder)}
    before = snapshot(office.url)
    opened = cli(
        "case", "open", "X-1", "--workflow", "own-rules", "--aware-on", str(days_ago(1)),
        "--set", f"received_on={days_ago(1)}", *office.args(), env=env,
    )  # fmt: skip
    assert opened.exit_code == ExitCode.REFUSED, opened.stderr
    line = _error_line(opened.stderr)
    assert "workflow own-rules is not installed in this database" in line
    assert "casereview workflow install own-rules" in line
    # Nor can they install it: installing is an admin's.
    installed = cli("workflow", "install", str(folder / "own-rules.toml"), *office.args())
    assert installed.exit_code == ExitCode.REFUSED
    assert "only an admin can install workflows" in _error_line(installed.stderr)
    assert snapshot(office.url) == before
    # The log export and verification still work, for them and for everyone else.
    for extra in (env, {"CASEREVIEW_WORKFLOWS": ""}):
        exported = cli("log", "export", "--format", "csv", *office.args(), env=extra)
        assert exported.exit_code == 0, exported.stderr
        assert _export_refs(exported.stdout) == {"E-1", "E-2"}
        verified = cli("audit", "verify", *office.args(), env=extra)
        assert verified.exit_code == 0, verified.stdout + verified.stderr


def test_the_attack_needs_only_the_install_it_lacks(office, cli):
    """The control: the same file, installed by the admin, opens a case for whoever its
    rules allow (so the refusal above is the install check, not a broken file)."""
    folder = office.tmp / "mine"
    own_rules(folder)
    boss = office.ctx("boss")
    try:
        workflow_service.install(boss, str(folder / "own-rules.toml"))
    finally:
        boss.close()
    opened = cli(
        "case", "open", "X-1", "--workflow", "own-rules", "--aware-on", str(days_ago(1)),
        "--set", f"received_on={days_ago(1)}", *office.args(),
        env={"CASEREVIEW_WORKFLOWS": ""},
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr


def test_a_file_claiming_an_installed_version_with_other_bytes_is_refused(office, cli):
    """england-lcspr v1 is installed; a file in CASEREVIEW_WORKFLOWS with the same id and
    version but rules of the scrutineer's own is refused for a new case and for an
    existing one, and nothing is written."""
    folder = office.tmp / "shadow"
    folder.mkdir()
    text = ENGLAND.read_text(encoding="utf-8").replace(
        'open_roles = ["business_unit"]', 'open_roles = ["business_unit", "scrutineer"]', 1
    )
    assert text != ENGLAND.read_text(encoding="utf-8")
    (folder / "england-lcspr.toml").write_text(text, encoding="utf-8")
    env = {"CASEREVIEW_WORKFLOWS": str(folder)}
    before = snapshot(office.url)
    opened = cli(
        "case", "open", "X-2", "--aware-on", str(days_ago(1)), "--set", "nature=death",
        *office.args(), env=env,
    )  # fmt: skip
    assert opened.exit_code == ExitCode.INVALID_WORKFLOW, opened.stderr
    # Here two files disagree (the shipped one and this): refused as a pinned case whose
    # file changed is (test_a_shadowing_file_refuses_existing_cases_of_a_custom_workflow).
    assert "is defined twice with different content" in _error_line(opened.stderr)
    noted = cli("case", "advance", "E-1", "add_note", "--set", "note=mine", *office.args(), env=env)
    assert noted.exit_code == ExitCode.INVALID_WORKFLOW, noted.stderr
    assert snapshot(office.url) == before
    listed = cli("workflow", "list", "--json", *office.args(), env=env)
    statuses = {(w["id"], w["status"]) for w in json.loads(listed.stdout)}
    assert ("england-lcspr", "differs") in statuses


def test_a_shadowing_file_refuses_existing_cases_of_a_custom_workflow(office, cli):
    """An installed workflow with no file here replays from the database's copy; a file
    that claims its (id, version) with other bytes makes it refuse (hash mismatch)."""
    folder = office.tmp / "mine"
    path = own_rules(folder, "custom")
    boss = office.ctx("boss")
    try:
        workflow_service.install(boss, str(path))
    finally:
        boss.close()
    opened = cli(
        "case", "open", "C-1", "--workflow", "custom", "--aware-on", str(days_ago(1)),
        "--set", f"received_on={days_ago(1)}", *office.args(),
        env={"CASEREVIEW_WORKFLOWS": str(folder)},
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    path.write_text(path.read_text().replace('label = "Decider"', 'label = "Anyone"'))
    before = snapshot(office.url)
    env = {"CASEREVIEW_WORKFLOWS": str(folder)}
    shown = cli("case", "advance", "C-1", "note", "--set", "note=x", *office.args(), env=env)
    assert shown.exit_code == ExitCode.INVALID_WORKFLOW
    assert "changed on disk without a new version number" in _error_line(shown.stderr)
    opened = cli(
        "case", "open", "C-2", "--workflow", "custom", "--aware-on", str(days_ago(1)),
        "--set", f"received_on={days_ago(1)}", *office.args(), env=env,
    )  # fmt: skip
    assert opened.exit_code == ExitCode.INVALID_WORKFLOW
    assert snapshot(office.url) == before


# -- installing ------------------------------------------------------------------------------


def test_an_admin_installs_and_the_event_and_projection_agree(office, cli):
    folder = office.tmp / "mine"
    path = own_rules(folder)
    boss = office.ctx("boss")
    try:
        result = workflow_service.install(boss, str(path))
        with pytest.raises(Conflict, match="already installed"):
            workflow_service.install(boss, str(path))
        path.write_text(path.read_text() + "\n# changed\n")
        with pytest.raises(Conflict, match="with other content"):
            workflow_service.install(boss, str(path))
    finally:
        boss.close()
    event = raw(
        office.url,
        "SELECT kind, trigger, actor, role, fields, case_id FROM events WHERE seq = :s",
        s=result.installed.installed_seq,
    )[0]
    assert event[:4] == ("admin", "workflow_install", "boss", "admin")
    assert json.loads(event[4]) == {
        "workflow_id": "own-rules",
        "version": 1,
        "definition_hash": result.installed.definition_hash,
        "title": "Minimal workflow for tests",
    }
    assert event[5] is None
    listed = cli("workflow", "list", "--json", *office.args(), env={"CASEREVIEW_WORKFLOWS": ""})
    by_id = {w["id"]: w for w in json.loads(listed.stdout)}
    assert by_id["own-rules"]["status"] == "installed_no_file"
    assert by_id["own-rules"]["installed_seq"] == result.installed.installed_seq
    assert by_id["england-lcspr"]["status"] == "installed"
    verified = cli("audit", "verify", *office.args(), env={"CASEREVIEW_WORKFLOWS": ""})
    assert verified.exit_code == 0, verified.stdout


def test_install_checks_the_file_as_validate_and_lint_do(office, cli, fixtures_dir):
    boss = office.ctx("boss")
    before = snapshot(office.url)
    try:
        broken = sorted((fixtures_dir / "workflows" / "broken").glob("*.toml"))[0]
        with pytest.raises(InvalidWorkflow, match="is not valid"):
            workflow_service.install(boss, str(broken))
        linted = sorted((fixtures_dir / "workflows" / "lint").glob("*.toml"))[0]
        with pytest.raises(InvalidWorkflow, match="lint findings"):
            workflow_service.install(boss, str(linted))
    finally:
        boss.close()
    assert snapshot(office.url) == before


def test_a_case_replays_from_the_database_where_its_file_is_gone(office, cli):
    folder = office.tmp / "mine"
    path = own_rules(folder, "kept")
    boss = office.ctx("boss")
    try:
        workflow_service.install(boss, str(path))
    finally:
        boss.close()
    opened = cli(
        "case", "open", "K-1", "--workflow", "kept", "--aware-on", str(days_ago(1)),
        "--set", f"received_on={days_ago(1)}", *office.args(),
        env={"CASEREVIEW_WORKFLOWS": str(folder)},
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    path.unlink()
    nowhere = {"CASEREVIEW_WORKFLOWS": ""}
    shown = cli("case", "show", "K-1", *office.args(), env=nowhere)
    assert shown.exit_code == 0, shown.stderr
    exported = cli("log", "export", "--format", "csv", *office.args(), env=nowhere)
    assert exported.exit_code == 0, exported.stderr
    assert _export_refs(exported.stdout) == {"E-1", "E-2", "K-1"}
    assert cli("audit", "verify", *office.args(), env=nowhere).exit_code == 0
    if office.url.startswith("sqlite"):
        # Read-only commands read the kept copy through the standard library's driver,
        # as they read everything else on SQLite: no SQLAlchemy.
        assert _shown_without_sqlalchemy(office, "K-1")


def _shown_without_sqlalchemy(office: Office, ref: str) -> bool:
    script = (
        "import sys\n"
        "from casereview.cli.app import main\n"
        f"sys.argv = ['casereview', 'case', 'show', {ref!r}, '--db', {office.url!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('sqlalchemy loaded:', 'sqlalchemy' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CASEREVIEW_WORKFLOWS": ""}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert f"Case {ref}" in done.stdout
    return done.stdout.rstrip().endswith("sqlalchemy loaded: False")


def test_a_kept_copy_that_does_not_match_its_install_is_a_finding(office, cli):
    raw(
        office.url,
        "UPDATE installed_workflows SET content = content || '# edited' "
        "WHERE workflow_id = 'england-lcspr'",
    )
    verified = cli("audit", "verify", *office.args(), env={"CASEREVIEW_WORKFLOWS": ""})
    assert verified.exit_code == ExitCode.VERIFICATION_FAILED
    assert "the workflow content kept for sha256" in verified.stdout


# -- a case whose workflow is nowhere ---------------------------------------------------------


def test_a_case_whose_workflow_is_nowhere_is_a_finding_and_the_rest_is_exported(office, cli):
    """A case pinned to a workflow that is neither installed nor in a file found here
    (as a database from before installs holds a case opened from a file since removed):
    `audit verify` names that case; `log export` and `report` complete for the others."""
    folder = office.tmp / "mine"
    path = own_rules(folder, "gone")
    boss = office.ctx("boss")
    try:
        workflow_service.install(boss, str(path))
    finally:
        boss.close()
    opened = cli(
        "case", "open", "G-1", "--workflow", "gone", "--aware-on", str(days_ago(1)),
        "--set", f"received_on={days_ago(1)}", *office.args(),
        env={"CASEREVIEW_WORKFLOWS": str(folder)},
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    path.unlink()
    raw(office.url, "DELETE FROM installed_workflows WHERE workflow_id = 'gone'")
    nowhere = {"CASEREVIEW_WORKFLOWS": ""}

    verified = cli("audit", "verify", "--json", *office.args(), env=nowhere)
    assert verified.exit_code == ExitCode.VERIFICATION_FAILED
    findings = json.loads(verified.stdout)["findings"]
    about_case = [f for f in findings if "case G-1" in f["message"]]
    assert len(about_case) == 1, findings
    assert "workflow gone v1" in about_case[0]["message"]
    assert not [f for f in findings if "E-1" in f["message"] or "E-2" in f["message"]]

    exported = cli("log", "export", "--format", "csv", *office.args(), env=nowhere)
    assert exported.exit_code == 0, exported.stderr
    assert _export_refs(exported.stdout) == {"E-1", "E-2"}
    assert "1 case on workflow gone v1" in exported.stderr
    assert "left out" in exported.stderr

    period = ("--from", str(days_ago(30)), "--to", str(TODAY))
    reported = cli("report", *period, "--format", "json", *office.args(), env=nowhere)
    assert reported.exit_code == 0, reported.stderr
    figures = json.loads(reported.stdout)["figures"]
    assert figures["caseload.opened"]["value"] == 2


# -- a database from before installs ----------------------------------------------------------


def test_a_database_from_before_installs_keeps_working(database_url, tmp_path, cli, monkeypatch):
    """Its cases load by hash from the files found; a new case is refused until an admin
    installs the workflow, which `workflow list` says is in use but not installed."""
    me = ServiceContext.from_options(database_url).account
    with monkeypatch.context() as old:
        # The code before installs: init installed nothing, a new case took the file.
        old.setattr(workflow_service, "install_shipped", lambda ctx, conn: [])
        old.setattr(
            workflow_service,
            "for_new_case",
            lambda ctx, workflow_id, conn=None: ctx.registry.resolve(workflow_id),
        )
        admin = ServiceContext(url=database_url, account=me, clock=FixedClock(TODAY))
        try:
            users.init(admin)
            users.grant_role(admin, me, "business_unit", None)
            cases.open_case(admin, "O-1", aware_on=days_ago(5), fields={"nature": "death"})
        finally:
            admin.close()
    # As that code left it: no installed_workflows table, its migration not recorded.
    raw(database_url, "DROP TABLE installed_workflows")
    raw(database_url, "DELETE FROM schema_migrations WHERE name = '0007_installed_workflows'")
    events = raw(database_url, "SELECT COUNT(*) FROM events")
    args = ("--db", database_url)
    nothing = {"CASEREVIEW_WORKFLOWS": ""}
    assert cli("case", "show", "O-1", *args, env=nothing).exit_code == 0
    # Opening it added the table and wrote no event.
    assert raw(database_url, "SELECT COUNT(*) FROM installed_workflows") == [(0,)]
    assert raw(database_url, "SELECT COUNT(*) FROM events") == events
    noted = cli("case", "advance", "O-1", "add_note", "--set", "note=n", *args, env=nothing)
    assert noted.exit_code == 0, noted.stderr
    assert cli("audit", "verify", *args, env=nothing).exit_code == 0
    listed = cli("workflow", "list", "--json", *args, env=nothing)
    statuses = {(w["id"], w["status"]) for w in json.loads(listed.stdout)}
    assert ("england-lcspr", "in_use_not_installed") in statuses
    opened = cli("case", "open", "O-2", "--aware-on", str(days_ago(1)), "--set",
                 "nature=death", *args, env=nothing)  # fmt: skip
    assert opened.exit_code == ExitCode.REFUSED
    assert "casereview workflow install england-lcspr" in _error_line(opened.stderr)
    assert "casereview workflow install england-lcspr@1" in _error_line(opened.stderr)
    installed = cli("workflow", "install", "england-lcspr@1", *args, env=nothing)
    assert installed.exit_code == 0, installed.stderr
    assert "Installed workflow england-lcspr v1" in installed.stderr
    opened = cli("case", "open", "O-2", "--aware-on", str(days_ago(1)), "--set",
                 "nature=death", *args, env=nothing)  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    assert cli("audit", "verify", *args, env=nothing).exit_code == 0
