"""The side-by-side benchmark's arithmetic and table: ratio of medians, failures shown."""

from benchmarks.compare import Paired, render


def test_ratio_is_of_medians_here_over_other():
    row = Paired("casereview due", here_ms=[10.0, 30.0, 20.0], other_ms=[40.0, 5.0, 10.0]).row()
    assert row["here_median_ms"] == 20.0
    assert row["other_median_ms"] == 10.0
    assert row["ratio"] == 2.0


def test_table_has_a_row_per_command_and_marks_failures():
    ok = Paired("casereview due", here_ms=[100.0], other_ms=[80.0]).row()
    failed = Paired("casereview case advance", failed="too few cases for every run").row()
    results = {
        "here": "abc",
        "other": "def",
        "runs": 1,
        "scales": [
            {
                "scale": "1k",
                "generation_seconds": {"here": 2.0, "other": 4.0},
                "commands": [ok, failed],
            }
        ],
    }
    lines = render(results).splitlines()
    assert "| 1k | generation (whole process, one run) | 2.0 s | 4.0 s | 0.50 |" in lines
    assert "| 1k | `casereview due` | 100 (100–100) | 80 (80–80) | 1.25 |" in lines
    assert "| 1k | `casereview case advance` | failed | | |" in lines
