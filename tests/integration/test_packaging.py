"""casereview installs like a tool: the wheel holds the package, every shipped workflow
and the bank-holiday data, and declares the `casereview` command; installed into a fresh
virtual environment it runs from there (docs/install.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.name for p in (ROOT / "workflows").glob("*.toml"))

pytest.importorskip("hatchling", reason="the build backend (a dev dependency)")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    (found,) = out.glob("casereview-*.whl")
    return found


def test_the_wheel_holds_the_workflows_the_holiday_data_and_the_command(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert len(SHIPPED) >= 5
        for name in SHIPPED:
            assert f"casereview/workflows/{name}" in names
            shipped = (ROOT / "workflows" / name).read_bytes()
            assert archive.read(f"casereview/workflows/{name}") == shipped  # same hash
        assert "casereview/data/bank_holiday_overrides.toml" in names
        # The demo's cases of the other review types are data beside the workflows.
        assert "casereview/workflows/demo/review-types.toml" in names
        # The web interface's templates ship inside the package (`casereview serve`).
        assert "casereview/web/templates/layout.html" in names
        assert "casereview/web/templates/case.html" in names
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        # The web interface's templates and static files (the vendored GOV.UK Frontend
        # with its licence), byte for byte.
        for web in (
            "templates/layout.html",
            "templates/accessibility.html",
            "static/govuk-frontend.min.css",
            "static/govuk-frontend.min.js",
            "static/app.js",
            "static/app.css",
            "static/report.css",
            "static/LICENCE",
        ):
            shipped = (ROOT / "src" / "casereview" / "web" / web).read_bytes()
            assert archive.read(f"casereview/web/{web}") == shipped, web
    assert "casereview = casereview.cli.launch:main" in entry_points
    # England and Wales's bank holidays come from the `holidays` package, a dependency.
    assert "Requires-Dist: holidays" in metadata
    assert "Requires-Dist: starlette" in metadata and "Requires-Dist: uvicorn" in metadata
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


def test_the_source_distribution_holds_the_workflows_as_files(tmp_path):
    """`python -m build` makes the wheel from the sdist: the sdist must carry the
    shipped workflows (a symlink in the checkout) as files inside the package."""
    import tarfile

    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    (sdist,) = tmp_path.glob("casereview-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1]: m for m in archive.getmembers()}
    expected = [f"src/casereview/workflows/{name}" for name in SHIPPED]
    for path in [*expected, "src/casereview/data/bank_holiday_overrides.toml"]:
        assert members[path].isfile(), path


@pytest.mark.slow
def test_installed_from_the_wheel_the_command_runs_from_its_own_environment(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    # The dependencies come from this environment (no index needed): a .pth file.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CASEREVIEW"))}
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
        check=True,
        env=env,
    )
    command = bindir / "casereview"
    version = subprocess.run(
        [str(command), "--version"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert version.stdout.startswith("casereview ")
    where = subprocess.run(
        [str(python), "-c", "import casereview; print(casereview.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    ).stdout
    assert where.startswith(str(venv))
    env["CASEREVIEW_DB"] = str(tmp_path / "none.db")  # nothing is read from a database

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(command), *args], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    # The shipped workflows and the bank holidays, from the installed package alone:
    # Christmas Eve 2026 plus one working day skips Christmas, Boxing Day (substitute on
    # Monday 28th) and the weekend.
    listed = run("workflow", "list")
    assert all(name.removesuffix(".toml").split("@")[0] in listed for name in SHIPPED)
    assert "(shipped)" in listed
    assert run("workdays", "add", "2026-12-24", "1").strip() == "2026-12-29"
    # The demo, from the installed package alone (its other review types are data there).
    run("demo", "--db", str(tmp_path / "demo.db"))
    listed_cases = run("case", "list", "--db", str(tmp_path / "demo.db"), "--json")
    workflows = {case["workflow"].split()[0] for case in json.loads(listed_cases)}
    assert {"england-lcspr", "england-sar", "england-dhr", "wales-susr"} <= workflows
