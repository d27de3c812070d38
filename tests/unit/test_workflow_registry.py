"""The registry: where workflows are found, identity by id + version + content hash, and
refusal when a pinned definition changed on disk."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from casereview.errors import ExitCode, InvalidInput, InvalidWorkflow, NotFound
from casereview.infra.workflows.registry import (
    ENV_VAR,
    SHIPPED,
    Registry,
    WorkflowChanged,
    is_file_target,
    shipped_directory,
)

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = (ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml").read_text()


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def _version(text: str, version: int) -> str:
    return text.replace("version = 1", f"version = {version}", 1)


def test_shipped_workflows_come_from_package_resources():
    shipped = shipped_directory()
    names = {f.name for f in shipped.iterdir()}
    assert {"england-lcspr.toml", "scr-transitional.toml"} <= names
    registry = Registry()
    listed = {(e.definition.id, e.definition.version): e for e in registry.list()}
    assert ("england-lcspr", 1) in listed and ("scr-transitional", 1) in listed
    entry = listed[("england-lcspr", 1)]
    assert entry.directory == SHIPPED
    assert (
        entry.definition.content_hash
        == hashlib.sha256((ROOT / "workflows" / "england-lcspr@1.toml").read_bytes()).hexdigest()
    )
    assert registry.problems() == []


def test_without_shipped_and_without_dirs_nothing_is_installed():
    registry = Registry(include_shipped=False)
    assert registry.list() == []
    with pytest.raises(
        NotFound, match=r"no workflow file for 'england-lcspr' was found \(found: none\)"
    ):
        registry.get("england-lcspr", 1)


def test_environment_directories_are_added(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, "minimal.toml", MINIMAL)
    _write(b, "minimal-v2.toml", _version(MINIMAL, 2))
    registry = Registry.from_environment({ENV_VAR: f"{a}{os.pathsep}{b}{os.pathsep}"})
    ids = [(e.definition.id, e.definition.version, e.directory) for e in registry.list()]
    assert ("minimal", 1, str(a)) in ids
    assert ("minimal", 2, str(b)) in ids
    assert ("england-lcspr", 1, SHIPPED) in ids


def test_non_toml_files_and_subdirectories_are_ignored(tmp_path):
    _write(tmp_path, "minimal.toml", MINIMAL)
    _write(tmp_path, "README.md", "not a workflow")
    _write(tmp_path / "nested", "other.toml", _version(MINIMAL, 5))
    registry = Registry([tmp_path], include_shipped=False)
    assert [(e.definition.id, e.definition.version) for e in registry.list()] == [("minimal", 1)]


def test_get_returns_the_latest_version_unless_asked(tmp_path):
    _write(tmp_path, "m1.toml", MINIMAL)
    _write(tmp_path, "m3.toml", _version(MINIMAL, 3))
    _write(tmp_path, "m2.toml", _version(MINIMAL, 2))
    registry = Registry([tmp_path], include_shipped=False)
    assert registry.get("minimal").version == 3
    assert registry.get("minimal", 1).version == 1
    assert registry.versions("minimal") == [1, 2, 3]
    with pytest.raises(
        NotFound, match=r"no file of workflow minimal v4 was found \(versions found: 1, 2, 3\)"
    ):
        registry.get("minimal", 4)


def test_get_exact_returns_the_pinned_definition(tmp_path):
    path = _write(tmp_path, "minimal.toml", MINIMAL)
    registry = Registry([tmp_path], include_shipped=False)
    pinned = registry.get("minimal").key
    assert pinned.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    again = Registry([tmp_path], include_shipped=False).get_exact(*pinned)
    assert again.key == pinned


def test_get_exact_refuses_a_file_changed_without_a_new_version(tmp_path):
    path = _write(tmp_path, "minimal.toml", MINIMAL)
    pinned = Registry([tmp_path], include_shipped=False).get("minimal").key
    path.write_text(MINIMAL.replace('label = "Received"', 'label = "Referral received"'))
    registry = Registry([tmp_path], include_shipped=False)
    with pytest.raises(WorkflowChanged) as caught:
        registry.get_exact(*pinned)
    assert caught.value.message == (
        "workflow minimal v1 changed on disk without a new version number; "
        "restore it or install it as version 2"
    )
    assert caught.value.exit_code == ExitCode.INVALID_WORKFLOW
    assert pinned.content_hash[:12] in caught.value.problems[0]
    # Restoring the bytes makes the pinned definition loadable again.
    path.write_text(MINIMAL)
    assert Registry([tmp_path], include_shipped=False).get_exact(*pinned).key == pinned


def test_changed_message_suggests_the_next_free_version(tmp_path):
    path = _write(tmp_path, "minimal.toml", MINIMAL)
    _write(tmp_path, "minimal-v4.toml", _version(MINIMAL, 4))
    pinned = Registry([tmp_path], include_shipped=False).get("minimal", 1).key
    path.write_text(MINIMAL + "\n# edited\n")
    with pytest.raises(WorkflowChanged, match="install it as version 5"):
        Registry([tmp_path], include_shipped=False).get_exact(*pinned)


def test_get_exact_of_a_removed_version_is_not_found(tmp_path):
    registry = Registry([tmp_path], include_shipped=False)
    with pytest.raises(NotFound):
        registry.get_exact("minimal", 1, "0" * 64)


def test_same_id_and_version_with_different_content_is_refused(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, "minimal.toml", MINIMAL)
    _write(b, "minimal.toml", MINIMAL.replace("Minimal workflow", "Another workflow"))
    registry = Registry([a, b], include_shipped=False)
    assert registry.list() == []
    (problem,) = registry.problems()
    assert problem == (
        f"workflow minimal v1 is defined twice with different content ({a / 'minimal.toml'} "
        f"and {b / 'minimal.toml'}); remove one, or give one of them a new version number"
    )
    with pytest.raises(InvalidWorkflow, match="defined twice with different content"):
        registry.get("minimal")
    with pytest.raises(InvalidWorkflow, match="defined twice"):
        registry.get("minimal", 1)


def test_a_third_copy_joins_the_conflict(tmp_path):
    dirs = [tmp_path / n for n in ("a", "b", "c")]
    for n, d in enumerate(dirs):
        _write(d, "minimal.toml", MINIMAL + f"\n# copy {n}\n")
    registry = Registry(dirs, include_shipped=False)
    assert registry.list() == []
    (problem,) = registry.problems()
    files = [str(d / "minimal.toml") for d in dirs]
    assert f"({files[0]}, {files[1]} and {files[2]})" in problem


def test_identical_copies_in_two_directories_are_one_workflow(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, "minimal.toml", MINIMAL)
    _write(b, "copy.toml", MINIMAL)
    registry = Registry([a, b], include_shipped=False)
    (entry,) = registry.list()
    assert entry.directory == str(a)
    assert registry.problems() == []


def test_an_invalid_file_is_reported_and_refused_by_id(tmp_path):
    _write(tmp_path, "minimal.toml", MINIMAL)
    broken = _write(
        tmp_path, "broken.toml", _version(MINIMAL, 2).replace('to = "signoff"', 'to = "nowhere"')
    )
    registry = Registry([tmp_path], include_shipped=True)
    problems = registry.problems()
    assert problems == [
        f"{broken}: trigger 'decide': 'to' names an unknown state 'nowhere' "
        "(declared: deciding, done, received, signoff)"
    ]
    # The newest version is broken: refuse rather than quietly start cases on v1.
    with pytest.raises(InvalidWorkflow) as caught:
        registry.get("minimal")
    assert caught.value.problems == problems
    assert registry.get("minimal", 1).version == 1
    assert registry.get("england-lcspr", 1).id == "england-lcspr"


def test_a_missing_environment_directory_is_a_problem_not_a_crash(tmp_path):
    registry = Registry.from_environment({ENV_VAR: str(tmp_path / "absent")})
    assert registry.problems() == [
        f"{ENV_VAR} names {tmp_path / 'absent'}, which is not a directory; it was skipped"
    ]
    assert registry.list()  # shipped workflows are still there


def test_scanning_happens_once(tmp_path):
    _write(tmp_path, "minimal.toml", MINIMAL)
    registry = Registry([tmp_path], include_shipped=False)
    first = registry.get("minimal")
    (tmp_path / "minimal.toml").write_text(_version(MINIMAL, 2))
    assert registry.get("minimal") is first


def test_resolve_accepts_a_file_or_an_id(tmp_path):
    path = _write(tmp_path, "minimal.toml", MINIMAL)
    registry = Registry(include_shipped=True)
    assert registry.resolve(str(path)).id == "minimal"
    assert registry.resolve("england-lcspr").id == "england-lcspr"
    with pytest.raises(InvalidInput, match="is version 1, not 2"):
        registry.resolve(str(path), 2)
    assert is_file_target("x.toml") and is_file_target("dir/x") and not is_file_target("x")
