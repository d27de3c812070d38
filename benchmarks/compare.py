"""This checkout against another, side by side: is any command slower after a change?

    .venv/bin/python -m benchmarks.compare --other ../before               # 1k and 10k
    .venv/bin/python -m benchmarks.compare --other ../before --scales 1k --runs 3

`--other` is a second checkout of casereview (for example `git worktree add ../before
<commit>`) with its own virtual environment in `.venv` (`make` there, or
`python -m venv .venv && .venv/bin/pip install -e .`). Each checkout generates its own
database at each scale with the same seed and the same `--today` (a database is pinned
to the workflow files of the code that wrote it, so one database cannot serve both;
when one checkout predates the version 2 cases, `--v2-share 0` asks the other for
version 1 cases only, `alike`), then every command of `benchmarks.run` is timed on
both, alternating this checkout and the other run by run, so a host that speeds up or
slows down in the middle affects both sides alike. Generation itself is timed once per
side and scale.

The table gives each side's median wall time (min–max) and the ratio of medians
(this / other): above 1 is slower here. Nothing is asserted; `--json FILE` keeps the
figures. Databases go under `benchmarks/out/compare/` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import generate
from benchmarks.run import OUT, SEED, Command, command_list, pick_refs, precompile, run_once


@dataclass
class Side:
    """One checkout: its folder, interpreter and console script."""

    name: str
    root: Path
    python: Path
    casereview: Path

    @classmethod
    def of(cls, name: str, root: Path) -> Side:
        python = root / ".venv" / "bin" / "python"
        casereview = python.parent / "casereview"
        if not casereview.exists():
            raise SystemExit(f"no {casereview}; create {root}/.venv and pip install -e . there")
        return cls(name, root.resolve(), python, casereview)


@dataclass
class Paired:
    name: str
    here_ms: list[float] = field(default_factory=list)
    other_ms: list[float] = field(default_factory=list)
    failed: str | None = None

    def row(self) -> dict[str, Any]:
        here = statistics.median(self.here_ms) if self.here_ms else None
        other = statistics.median(self.other_ms) if self.other_ms else None
        return {
            "command": self.name,
            "here_ms": self.here_ms,
            "other_ms": self.other_ms,
            "here_median_ms": here,
            "other_median_ms": other,
            "ratio": here / other if here and other else None,
            "failed": self.failed,
        }


def _generate(
    side: Side, scale: str, folder: Path, today: str, v2_share: Sequence[str] = ()
) -> tuple[Path, float]:
    """The side's database at `scale` (made afresh) and the seconds it took; `v2_share`:
    extra arguments for the generator (`alike`)."""
    db = folder / f"{side.name}-{scale}.db"
    db.unlink(missing_ok=True)
    argv = [str(side.python), "-m", "benchmarks.generate", "--cases", scale, "--out", str(db)]
    argv += ["--seed", str(SEED), "--today", today, "--quiet", *v2_share]
    started = dt.datetime.now()
    done = subprocess.run(argv, cwd=side.root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side.name}: generating {scale} failed:\n{done.stderr}")
    return db, (dt.datetime.now() - started).total_seconds()


def alike(*sides: Side) -> list[list[str]]:
    """Each side's generator arguments that make their databases alike: a checkout from
    before version 2 cases were generated has no `--v2-share` and makes version 1 cases
    only, so then the other is asked for those only too (`--v2-share 0`)."""
    knows = [
        "--v2-share" in (side.root / "benchmarks" / "generate.py").read_text("utf-8")
        for side in sides
    ]
    if all(knows):
        return [[] for _ in sides]
    return [["--v2-share", "0"] if known else [] for known in knows]


def _precompile(side: Side) -> None:
    code = "import benchmarks.run as r; r.precompile()"
    subprocess.run([str(side.python), "-c", code], cwd=side.root, check=True)


def _commands(side: Side, db: Path, runs: int) -> dict[str, Command]:
    advance = db.with_name(db.stem + "-advance.db")
    shutil.copyfile(db, advance)
    refs = pick_refs(db, runs)
    listed = command_list(db, advance, refs, side.python, side.casereview, runs)
    return {c.name: c for c in listed}


def compare_scale(here: Side, other: Side, scale: str, runs: int, today: str) -> dict[str, Any]:
    folder = OUT / "compare"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{scale}: generating with both checkouts", flush=True)
    here_args, other_args = alike(here, other)
    here_db, here_gen = _generate(here, scale, folder, today, here_args)
    other_db, other_gen = _generate(other, scale, folder, today, other_args)
    mine, theirs = _commands(here, here_db, runs), _commands(other, other_db, runs)
    rows = []
    for name, command in mine.items():
        paired = Paired(name)
        counterpart = theirs.get(name)
        if counterpart is None:
            paired.failed = "not in the other checkout's list"
            rows.append(paired.row())
            continue
        plans = [command.varying or [command.argv] * (runs + 1)]
        plans.append(counterpart.varying or [counterpart.argv] * (runs + 1))
        for index in range(runs + 1):  # run 0 is each side's untimed warm-up
            for side_plan, samples in ((plans[0], paired.here_ms), (plans[1], paired.other_ms)):
                if index >= len(side_plan):
                    paired.failed = "too few cases for every run"
                    break
                seconds, code, _peak, stderr = run_once(side_plan[index])
                if code != 0:
                    paired.failed = f"exit {code}: {stderr.strip().splitlines()[-1:]}"
                    break
                if index:
                    samples.append(seconds * 1000)
            if paired.failed:
                break
        print(f"  {name}: {_cell(paired.row())}", flush=True)
        rows.append(paired.row())
    return {
        "scale": scale,
        "cases": generate.parse_scale(scale),
        "generation_seconds": {"here": here_gen, "other": other_gen},
        "commands": rows,
    }


def _cell(row: dict[str, Any]) -> str:
    if row["failed"]:
        return f"failed: {row['failed']}"
    return (
        f"{row['here_median_ms']:.1f} ms here, {row['other_median_ms']:.1f} ms other, "
        f"ratio {row['ratio']:.3f}"
    )


def render(results: dict[str, Any]) -> str:
    """The comparison as a Markdown table, one row per command and scale."""
    lines = [
        f"This checkout ({results['here']}) against {results['other']}, "
        f"{results['runs']} alternating runs per command after a warm-up each; "
        "median ms (min–max); ratio = here / other.",
        "",
        "| scale | command | here | other | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for scale in results["scales"]:
        gen = scale["generation_seconds"]
        lines.append(
            f"| {scale['scale']} | generation (whole process, one run) | {gen['here']:.1f} s "
            f"| {gen['other']:.1f} s | {gen['here'] / gen['other']:.2f} |"
        )
        for row in scale["commands"]:
            if row["failed"]:
                lines.append(f"| {scale['scale']} | `{row['command']}` | failed | | |")
                continue
            lines.append(
                f"| {scale['scale']} | `{row['command']}` | {_spread(row['here_ms'])} "
                f"| {_spread(row['other_ms'])} | {row['ratio']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def _spread(samples: Sequence[float]) -> str:
    return f"{statistics.median(samples):,.0f} ({min(samples):,.0f}–{max(samples):,.0f})"


def _revision(root: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or str(root)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    parser.add_argument("--other", type=Path, required=True, help="the other checkout")
    parser.add_argument("--scales", default="1k,10k", help="comma-separated, e.g. 1k,10k")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command and side")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    here = Side.of("here", Path(__file__).resolve().parent.parent)
    other = Side.of("other", args.other)
    precompile()
    _precompile(other)
    today = dt.date.today().isoformat()
    scales = [
        compare_scale(here, other, s.strip(), args.runs, today) for s in args.scales.split(",")
    ]
    results = {
        "here": _revision(here.root),
        "other": _revision(other.root),
        "runs": args.runs,
        "today": today,
        "scales": scales,
    }
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    sys.stdout.write(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
