"""The import benchmark runs (on a few rows): its generated tracker imports cleanly."""

from __future__ import annotations

from benchmarks import import_bench


def test_the_import_benchmark_runs_on_a_small_tracker(tmp_path, monkeypatch):
    monkeypatch.setattr(import_bench, "OUT", tmp_path)
    result = import_bench.run(60)
    assert result["cases"] == 60
    assert result["events"] > 60
    assert (tmp_path / "import-60.xlsx").exists()
    assert set(result["read_seconds"]) >= {"calamine"}
    assert result["cpu_seconds"] > 0
    assert result["sealer_cpu_seconds"] == 0  # below `bulk.SEAL_APART_FROM` cases
