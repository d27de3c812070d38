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


def test_both_sides_generate_alike_databases(tmp_path):
    """A checkout from before version 2 cases has no --v2-share: the other side is then
    asked for version 1 cases only, so the two databases hold the same cases."""
    from pathlib import Path

    from benchmarks.compare import Side, alike

    def side(name: str, knows: bool) -> Side:
        root = tmp_path / name
        (root / "benchmarks").mkdir(parents=True)
        text = 'parser.add_argument("--v2-share")' if knows else "no share option"
        (root / "benchmarks" / "generate.py").write_text(text, encoding="utf-8")
        return Side(name, root, Path("python"), Path("casereview"))

    new, newer, old = side("new", True), side("newer", True), side("old", False)
    assert alike(new, old) == [["--v2-share", "0"], []]
    assert alike(old, new) == [[], ["--v2-share", "0"]]
    assert alike(new, newer) == [[], []]
    here = Path(__file__).resolve().parents[2]
    assert alike(Side("here", here, Path("python"), Path("casereview")), old)[0]


def test_the_runner_says_how_many_cases_are_on_england_version_2():
    """The generated doc section counts the version 2 cases when the figures have them
    (results from before they were generated render as they did)."""
    import json
    from pathlib import Path

    from benchmarks import run

    root = Path(__file__).resolve().parents[2]
    results = json.loads((root / "benchmarks/results/20261204-185900.json").read_text())
    before = run.render(results)
    assert "England version 2" not in before
    results["scales"][0]["generation"].update(v2_cases=374, v2_linked=92)
    after = run.render(results)
    assert "Cases on England version 2" in after
    assert f"{results['scales'][0]['scale']}: 374, of which 92 in sibling reviews." in after
