"""`casereview import template|cases` through the command line: exit codes, the problem
report, and an .ods tracker (converted by LibreOffice when it is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from casereview.infra import identity
from casereview.store import location
from tests.conftest import BACKEND, ensure_pg_login, run_sql, with_user
from tests.fixtures import make_tracker


@pytest.fixture
def db(database_url, cli, monkeypatch):
    monkeypatch.setattr(identity, "os_account", lambda: "root")
    if BACKEND == "postgresql":
        ensure_pg_login("root", superuser=True)
        real = location.resolve
        monkeypatch.setattr(location, "resolve", lambda option: with_user(real(option), "root"))
    assert cli("init", "--db", database_url).exit_code == 0
    assert cli("user", "grant", "root", "business_unit", "--db", database_url).exit_code == 0
    for args in (
        ("chair", "--name", "Chair", "--role", "chair"),
        ("la", "--name", "LA", "--role", "partner", "--agency", "local_authority"),
        ("police", "--name", "Police", "--role", "partner", "--agency", "police"),
        ("icb", "--name", "ICB", "--role", "partner", "--agency", "icb"),
    ):
        result = cli("user", "add", *args, "--db", database_url)
        assert result.exit_code == 0, result.stderr
    return database_url


def _cases(url: str) -> int:
    return int(run_sql(url, "SELECT count(*) FROM cases")[0][0])


def test_a_tracker_with_problems_is_refused_with_its_report(db, cli):
    result = cli(
        "import",
        "cases",
        str(make_tracker.TRACKER),
        "--mapping",
        str(make_tracker.MAPPING),
        "--db",
        db,
    )
    assert result.exit_code == 4
    assert "Problems in tracker.xlsx" in result.stdout
    assert "Yes - LSCPR" in result.stdout
    assert result.stderr.startswith("Error: 6 problem(s) in 6 row(s) of tracker.xlsx")
    assert "--skip-bad-rows" in result.stderr
    assert _cases(db) == 0


def test_dry_run_then_import_then_twice_refused(db, cli, tmp_path):
    fixed = tmp_path / "tracker.xlsx"
    make_tracker.build(fixed, fixed=True)
    args = ("import", "cases", str(fixed), "--mapping", str(make_tracker.MAPPING), "--db", db)
    dry = cli(*args, "--dry-run")
    assert dry.exit_code == 0, dry.stdout + dry.stderr
    assert "all 40 rows of tracker.xlsx" in dry.stderr
    assert _cases(db) == 0
    done = cli(*args, "--json")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["imported"] == 40
    assert cli("audit", "verify", "--db", db).exit_code == 0
    again = cli(*args, "--json")
    assert again.exit_code == 4
    problems = json.loads(again.stdout)["problems"]
    assert len(problems) == 40 and all("already exists" in p["what"] for p in problems)
    assert _cases(db) == 40


def test_template_prints_a_commented_mapping(db, cli):
    result = cli("import", "template", "--db", db)
    assert result.exit_code == 0
    assert result.stdout.startswith("# casereview import mapping")
    assert 'date_formats = ["dd/mm/yyyy"]' in result.stdout


@pytest.mark.parametrize(
    ("mapping", "code", "words"),
    [
        ("[case]\nref = 'Ref'\n", 2, "aware_on is missing"),
        ("[case]\nref = 'Ref'\naware_on = 'Aware'\nbogus = 1\n", 2, "unknown key 'bogus'"),
        ("not toml [", 2, "not valid TOML"),
        ("[case]\nref = 'Ref'\naware_on = 'Nowhere'\n", 2, "no column 'Nowhere'"),
    ],
)
def test_a_mapping_that_cannot_be_used_is_one_error_line(db, cli, tmp_path, mapping, code, words):
    tracker = tmp_path / "t.csv"
    tracker.write_text("Ref,Aware\nA,01/02/2024\n")
    path = tmp_path / "m.toml"
    path.write_text(mapping)
    result = cli("import", "cases", str(tracker), "--mapping", str(path), "--db", db)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith("Error: ") and words in result.stderr
    assert "Traceback" not in result.stderr
    assert _cases(db) == 0


def test_a_missing_tracker_is_not_found(db, cli, tmp_path):
    result = cli(
        "import",
        "cases",
        str(tmp_path / "none.xlsx"),
        "--mapping",
        str(make_tracker.MAPPING),
        "--db",
        db,
    )
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: no such file")


def test_an_ods_tracker_imports_like_the_xlsx(db, cli, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed here; .ci/run installs it")
    fixed = tmp_path / "tracker.xlsx"
    make_tracker.build(fixed, fixed=True)
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "ods",
            "--outdir",
            str(tmp_path),
            str(fixed),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    ods = tmp_path / "tracker.ods"
    result = cli(
        "import", "cases", str(ods), "--mapping", str(make_tracker.MAPPING), "--db", db, "--json"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["imported"] == 40
