"""The shipped workflows folder holds every version of a workflow side by side: the
newest as `ID.toml`, each older one as `ID@N.toml`, so a version's bytes (and hash) never
change once cases are recorded on it."""

from __future__ import annotations

from collections import defaultdict

from casereview.infra.workflows.registry import Registry, shipped_directory


def test_each_shipped_file_is_named_for_its_id_and_version():
    files = sorted(f.name for f in shipped_directory().iterdir() if f.name.endswith(".toml"))
    registry = Registry()
    entries = registry.list()
    assert registry.problems() == []
    by_name = {e.file.rsplit("/", 1)[-1]: e.definition for e in entries}
    assert sorted(by_name) == files
    versions: dict[str, list[int]] = defaultdict(list)
    for d in by_name.values():
        versions[d.id].append(d.version)
    for name, d in by_name.items():
        newest = max(versions[d.id])
        expected = f"{d.id}.toml" if d.version == newest else f"{d.id}@{d.version}.toml"
        assert name == expected, (name, d.id, d.version)
