"""The disk cache of validated definitions: a hit gives exactly what validation gives, and
anything stale, damaged, foreign or unwritable is a miss that validates the file."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casereview.domain.workflow import loader
from casereview.infra.workflows import cache
from casereview.infra.workflows.registry import ENV_VAR, Registry, shipped_directory

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = (ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml").read_text()
CACHE_ENV = "CASEREVIEW_CACHE_DIR"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test's own."""
    path = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(path))
    return path


def _workflows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str = MINIMAL) -> Path:
    directory = tmp_path / "workflows"
    directory.mkdir(exist_ok=True)
    (directory / "minimal.toml").write_text(text)
    monkeypatch.setenv(ENV_VAR, str(directory))
    return directory / "minimal.toml"


def _validated(path: Path):
    return loader.load_bytes(path.read_bytes(), name=str(path), source=str(path))


def _entry(folder: Path, data: bytes) -> Path:
    key = cache.code_key()
    assert key is not None
    return cache._file(folder, hashlib.sha256(data).hexdigest(), key)


def _refuse_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was validated: the cache was not used")

    monkeypatch.setattr(loader, "check_bytes", fail)


def _scan(path: Path):
    registry = Registry([path.parent], include_shipped=False)
    assert registry.problems() == []
    (entry,) = registry.list()
    return entry.definition


def test_a_hit_is_equal_to_the_validated_definition_for_every_shipped_workflow(folder: Path):
    for file in shipped_directory().iterdir():
        if not file.name.endswith(".toml"):
            continue
        data = file.read_bytes()
        validated = loader.load_bytes(data, name=file.name, source=str(file))
        cache.store(validated)
        hit = cache.load(validated.content_hash, str(file))
        assert hit is not None and hit is not validated
        assert hit == validated  # fields, fields set and private state (the index too)
        assert hit.model_dump() == validated.model_dump()
        assert (hit.content_hash, hit.source, hit.key) == (
            validated.content_hash,
            validated.source,
            validated.key,
        )
        for state in hit.states:  # the rebuilt index answers what the engine asks
            assert hit.triggers_from(state.id) == validated.triggers_from(state.id)
        for trigger in hit.triggers:
            assert hit.sources_of(trigger) == validated.sources_of(trigger)
            assert hit.clocks_started_by(trigger.id) == validated.clocks_started_by(trigger.id)


def test_the_registry_stores_on_a_miss_and_reads_without_validating_on_a_hit(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = _workflows(tmp_path, monkeypatch)
    first = _scan(path)
    assert _entry(folder, path.read_bytes()).is_file()
    _refuse_validation(monkeypatch)
    second = _scan(path)
    assert second == first and second.source == str(path)


def test_a_changed_file_is_a_miss(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = _workflows(tmp_path, monkeypatch)
    _scan(path)
    path.write_text(MINIMAL.replace("version = 1", "version = 2", 1))
    changed = _scan(path)
    assert changed.version == 2
    assert changed.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_entry_made_under_other_code_is_a_miss(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = _workflows(tmp_path, monkeypatch)
    definition = _validated(path)
    cache.store(definition)
    monkeypatch.setattr(cache, "code_key", lambda: "some other code")
    assert cache.load(definition.content_hash, str(path)) is None


def test_editing_a_validating_module_changes_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    copy = tmp_path / "code"
    copy.mkdir()
    for name in cache._KEYED_MODULES:
        shutil.copy(cache._defining_folder() / name, copy / name)
    shutil.copy(cache.__file__, copy / "cache.py")
    monkeypatch.setattr(cache, "_defining_folder", lambda: copy)
    monkeypatch.setattr(cache, "__file__", str(copy / "cache.py"))
    before = cache.code_key()
    os.utime(copy / "references.py", ns=(0, 1_000_000_000))
    assert cache.code_key() not in (before, None)
    (copy / "model.py").unlink()
    assert cache.code_key() is None  # cannot tell the code: nothing is cached


def test_an_entry_for_other_bytes_is_not_used(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = _workflows(tmp_path, monkeypatch)
    definition = _validated(path)
    cache.store(definition)
    other = hashlib.sha256(b"other bytes").hexdigest()
    assert cache.load(other, str(path)) is None
    # The same entry copied to the other file's name: its header names its own hash.
    key = cache.code_key()
    assert key is not None
    shutil.copy(cache._file(folder, definition.content_hash, key), cache._file(folder, other, key))
    assert cache.load(other, str(path)) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: b"",
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: raw[:-10] + bytes(b ^ 0xFF for b in raw[-10:]),  # payload changed
        lambda raw: b"not json\n" + raw.split(b"\n", 1)[1],
        lambda raw: b"[1, 2]\n" + raw.split(b"\n", 1)[1],
        lambda raw: raw.split(b"\n", 1)[0],  # no payload
    ],
    ids=["empty", "truncated", "flipped", "header-garbage", "header-not-a-table", "no-payload"],
)
def test_a_damaged_entry_is_a_miss_and_the_file_is_validated_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage
):
    path = _workflows(tmp_path, monkeypatch)
    first = _scan(path)
    entry = _entry(folder, path.read_bytes())
    entry.write_bytes(damage(entry.read_bytes()))
    assert cache.load(first.content_hash, str(path)) is None
    assert _scan(path) == first
    assert cache.load(first.content_hash, str(path)) == first  # rewritten whole


def _with_payload(entry: Path, payload: bytes) -> None:
    header = json.loads(entry.read_bytes().split(b"\n", 1)[0])
    header["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    entry.write_bytes(json.dumps(header).encode() + b"\n" + payload)


def test_a_payload_naming_anything_else_is_refused_not_run(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = _workflows(tmp_path, monkeypatch)
    definition = _validated(path)
    cache.store(definition)
    entry = _entry(folder, path.read_bytes())
    marker = tmp_path / "ran"
    # A well-formed entry (right key, right digest) whose pickle calls os.system.
    payload = pickle.dumps(_Call(f"touch {marker}"), protocol=2)
    _with_payload(entry, payload)
    assert cache.load(definition.content_hash, str(path)) is None
    assert not marker.exists()
    # A pickle of something that is not a definition (an allowed class) is a miss too.
    _with_payload(entry, pickle.dumps(definition.states[0], protocol=pickle.HIGHEST_PROTOCOL))
    assert cache.load(definition.content_hash, str(path)) is None


class _Call:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_an_invalid_file_is_never_stored(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = _workflows(tmp_path, monkeypatch, MINIMAL.replace("version = 1", 'version = "1"', 1))
    for _ in range(2):
        registry = Registry([path.parent], include_shipped=False)
        assert registry.list() == []
        assert any("version" in p for p in registry.problems())
    assert list(tmp_path.rglob("workflow-*.pickle")) == []


def test_an_unwritable_cache_folder_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    path = _workflows(tmp_path, monkeypatch)
    assert _scan(path) == _validated(path)
    assert _scan(path) == _validated(path)


def test_an_empty_setting_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(CACHE_ENV, "")
    path = _workflows(tmp_path, monkeypatch)
    definition = _validated(path)
    cache.store(definition)
    assert cache.load(definition.content_hash, str(path)) is None
    assert list(tmp_path.rglob("workflow-*")) == []


def test_writing_removes_entries_not_rewritten_for_a_month(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder.mkdir()
    old, recent = folder / "workflow-old-00000000.pickle", folder / "workflow-new-0.pickle"
    old.write_bytes(b"x")
    recent.write_bytes(b"x")
    month_ago = time.time() - (cache.PRUNE_AFTER_DAYS + 1) * 86400
    os.utime(old, (month_ago, month_ago))
    cache.store(_validated(_workflows(tmp_path, monkeypatch)))
    assert not old.exists() and recent.exists()


def test_a_command_that_hits_the_cache_imports_neither_loader_nor_validators(
    tmp_path: Path,
):
    folder = tmp_path / "cache"
    env = {**os.environ, CACHE_ENV: str(folder)}
    code = (
        "import sys\n"
        "from casereview.infra.workflows.registry import Registry\n"
        "Registry().get('england-lcspr')\n"
        "print(sorted(m for m in ('casereview.domain.workflow.loader', 'tomllib')"
        " if m in sys.modules))\n"
        "print(getattr(__import__('casereview.domain.workflow.model').domain.workflow.model"
        ".WorkflowDefinition.__pydantic_validator__, '__class__').__name__)\n"
    )
    run = [sys.executable, "-c", code]
    subprocess.run(run, env=env, check=True, capture_output=True)  # the miss: fills it
    out = subprocess.run(run, env=env, check=True, capture_output=True, text=True).stdout
    assert out.splitlines() == ["[]", "MockValSer"]


def test_an_entry_other_accounts_can_write_is_validated_instead(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = _workflows(tmp_path, monkeypatch)
    _scan(path)
    entry = _entry(folder, path.read_bytes())
    assert cache.load(hashlib.sha256(path.read_bytes()).hexdigest(), str(path)) is not None
    entry.chmod(0o666)
    assert cache.load(hashlib.sha256(path.read_bytes()).hexdigest(), str(path)) is None
    calls: list[object] = []
    real = loader.check_bytes
    monkeypatch.setattr(loader, "check_bytes", lambda *a, **k: calls.append(a) or real(*a, **k))
    _scan(path)
    assert len(calls) == 1  # validated from the file, not taken from the entry


# -- headers: what a file declares, read without the model ------------------------------


def test_an_entry_header_names_the_file_without_unpickling(folder: Path):
    for file in shipped_directory().iterdir():
        if not file.name.endswith(".toml"):
            continue
        validated = loader.load_bytes(file.read_bytes(), name=file.name, source=str(file))
        cache.store(validated)
        head = cache.load_header(validated.content_hash)
        assert head == cache.Header(
            validated.id, validated.version, validated.short_label, validated.content_hash
        )


def test_a_damaged_or_foreign_header_is_a_miss(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = _workflows(tmp_path, monkeypatch)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert cache.load_header(digest) is None  # nothing stored yet
    cache.store(_validated(path))
    assert cache.load_header(digest) is not None
    entry = _entry(folder, path.read_bytes())
    entry.write_bytes(b"{not json\n" + entry.read_bytes().split(b"\n", 1)[1])
    assert cache.load_header(digest) is None
    cache.store(_validated(path))
    monkeypatch.setattr(cache, "code_key", lambda: "some other code")
    assert cache.load_header(digest) is None


def test_short_labels_from_headers_equal_those_from_definitions(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    extra = tmp_path / "mine"
    extra.mkdir()
    (extra / "a.toml").write_text(MINIMAL.replace('id = "minimal"', 'id = "mine"', 1))
    cold = Registry([extra])
    from_definitions = cold.short_labels()  # no headers yet: read from the definitions
    assert from_definitions["england-lcspr"] == "LCSPR" and from_definitions["mine"] == "mine"
    _refuse_validation(monkeypatch)
    monkeypatch.setattr(cache, "load", lambda *a: pytest.fail("a definition was loaded"))
    assert Registry([extra]).short_labels() == from_definitions


def test_two_contents_for_one_version_give_no_label_from_headers(folder: Path, tmp_path: Path):
    one, two = tmp_path / "one", tmp_path / "two"
    for directory, label in ((one, "ONE"), (two, "TWO")):
        directory.mkdir()
        text = MINIMAL.replace('id = "minimal"', 'id = "twin"\nshort_label = "' + label + '"', 1)
        (directory / "twin.toml").write_text(text)
    full = Registry([one, two], include_shipped=False)
    assert full.list() == []  # refused as a conflict
    assert Registry([one, two], include_shipped=False).short_labels() == {}


def test_naming_workflows_imports_no_model_once_the_cache_is_warm(tmp_path: Path):
    env = {**os.environ, CACHE_ENV: str(tmp_path / "cache")}
    code = (
        "import sys\n"
        "from casereview.infra.workflows.registry import Registry\n"
        "print(Registry().short_labels()['england-sar'])\n"
        "print('pydantic' in sys.modules, 'casereview.domain.workflow.model' in sys.modules)\n"
    )
    run = [sys.executable, "-c", code]
    subprocess.run(run, env=env, check=True, capture_output=True)  # the miss: fills it
    out = subprocess.run(run, env=env, check=True, capture_output=True, text=True).stdout
    assert out.splitlines() == ["SAR", "False False"]
