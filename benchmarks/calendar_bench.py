"""Benchmark of the working-day calendar against workalendar and numpy, in one run.

    .venv/bin/python -m benchmarks.calendar_bench           # full run (about a minute)
    .venv/bin/python -m benchmarks.calendar_bench --quick   # smoke run (seconds)

What is timed:

* `add_working_days` calls per second: casereview (a built calendar's method, and the
  module-level function), `workalendar.europe.UnitedKingdom.add_working_days` and
  `numpy.busday_offset` one call at a time, each given the same holidays: numpy gets
  casereview's whole list as a `busdaycalendar`; workalendar keeps its own UK rules and
  is given the days where they differ from casereview's (`extra_holidays`). numpy is
  also timed on the whole batch in one vectorised call, for scale. Each figure is the
  median of several timed runs after an untimed warm-up, with the min and max beside it.
* Building the calendar: in a fresh interpreter (includes importing `holidays`), again
  in-process (library expansion cached), and the index alone from a holiday list.
* For context, the wall time of `casereview --help` and `casereview workdays add`.

Before timing, every implementation's answers are compared with casereview's on the
same inputs; disagreements are reported, not hidden. workalendar and numpy come from the
`bench` extra (`pip install -e '.[bench]'`); a missing one is reported and skipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from casereview.domain.calendar.workdays import WorkingDayCalendar
from casereview.infra.bank_holidays import add_working_days, default_calendar, england_calendar

Pair = tuple[dt.date, int]


@dataclass
class Timing:
    name: str
    samples: list[float]  # calls per second, one per timed run
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def make_pairs(count: int, seed: int = 20261210) -> list[Pair]:
    """Anchors across 2019-2028 (weekends and holidays included) and counts 1-30.

    n=0 is left out: numpy's roll rules cannot express "0 working days after a Saturday
    is that Saturday", and 0 is not a count any clock uses.
    """
    rng = random.Random(seed)
    start = dt.date(2019, 1, 1).toordinal()
    span = dt.date(2028, 12, 31).toordinal() - start - 60
    return [
        (dt.date.fromordinal(start + rng.randrange(span)), rng.randint(1, 30)) for _ in range(count)
    ]


def time_calls(fn: Callable[[dt.date, int], Any], pairs: Sequence[Pair], runs: int) -> list[float]:
    for day, n in pairs:  # untimed warm-up: lazy imports, per-year caches
        fn(day, n)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for day, n in pairs:
            fn(day, n)
        samples.append(len(pairs) / (time.perf_counter() - t0))
    return samples


def disagreements(
    fn: Callable[[dt.date, int], dt.date], pairs: Sequence[Pair], cal: WorkingDayCalendar
) -> int:
    return sum(1 for day, n in pairs if fn(day, n) != cal.add_working_days(day, n))


def bench_ours(cal: WorkingDayCalendar, pairs: Sequence[Pair], runs: int) -> list[Timing]:
    default_calendar()  # build it outside the timing
    return [
        Timing(
            "casereview WorkingDayCalendar.add_working_days",
            time_calls(cal.add_working_days, pairs, runs),
        ),
        Timing(
            "casereview bank_holidays.add_working_days",
            time_calls(add_working_days, pairs, runs),
        ),
    ]


def bench_workalendar(cal: WorkingDayCalendar, pairs: Sequence[Pair], runs: int) -> list[Timing]:
    try:
        from workalendar.europe import UnitedKingdom
    except Exception as exc:  # an import failure is a result worth recording
        return [Timing("workalendar UnitedKingdom.add_working_days", [], f"unavailable: {exc!r}")]
    uk = UnitedKingdom()
    # Give workalendar only the differences from its own rules, as its API intends:
    # it re-cleans the extra lists on every day it examines, so passing our whole
    # holiday list would time that copying rather than the calendar.
    years = range(2019, 2031)
    ours = {h.date for h in cal.holidays(dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31))}
    theirs = {d for y in years for d, _ in uk.holidays(y) if d.weekday() < 5}
    extra_holidays = tuple(sorted(ours - theirs)) or None
    extra_working = tuple(sorted(theirs - ours)) or None

    def add(day: dt.date, n: int) -> dt.date:
        result: dt.date = uk.add_working_days(
            day, n, extra_working_days=extra_working, extra_holidays=extra_holidays
        )
        return result

    wrong = disagreements(add, pairs, cal)
    shown = ", ".join(d.isoformat() for d in extra_holidays or ())
    return [
        Timing(
            "workalendar UnitedKingdom.add_working_days",
            time_calls(add, pairs, runs),
            f"{wrong} of {len(pairs)} answers differ; extra_holidays=({shown})",
        )
    ]


def bench_numpy(cal: WorkingDayCalendar, pairs: Sequence[Pair], runs: int) -> list[Timing]:
    try:
        import numpy as np
    except Exception as exc:
        return [Timing("numpy.busday_offset", [], f"unavailable: {exc!r}")]
    holidays = np.array([h.date.isoformat() for h in cal.holidays()], dtype="datetime64[D]")
    bdc = np.busdaycalendar(weekmask="1111100", holidays=holidays)

    # roll="backward" then +n gives "the Nth working day after D" for a non-working D
    # too (rolling back to the previous working day skips no working day).
    def add(day: dt.date, n: int) -> dt.date:
        result: dt.date = np.busday_offset(
            np.datetime64(day, "D"), n, roll="backward", busdaycal=bdc
        ).item()
        return result

    wrong = disagreements(add, pairs, cal)
    timings = [
        Timing(
            "numpy.busday_offset, one call per date",
            time_calls(add, pairs, runs),
            f"{wrong} of {len(pairs)} answers differ from casereview",
        )
    ]

    days = np.array([d.isoformat() for d, _ in pairs], dtype="datetime64[D]")
    offsets = np.array([n for _, n in pairs])
    np.busday_offset(days, offsets, roll="backward", busdaycal=bdc)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        np.busday_offset(days, offsets, roll="backward", busdaycal=bdc)
        samples.append(len(pairs) / (time.perf_counter() - t0))
    timings.append(
        Timing(
            "numpy.busday_offset, whole batch vectorised", samples, "per element; arrays prebuilt"
        )
    )
    return timings


COLD_BUILD = (
    "import time; t0 = time.perf_counter(); "
    "from casereview.infra.bank_holidays import england_calendar; "
    "england_calendar(environ={}); "
    "print(time.perf_counter() - t0)"
)
COLD_IMPORT = (
    "import time; t0 = time.perf_counter(); import holidays; print(time.perf_counter() - t0)"
)


def cold_seconds(code: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        out.append(float(done.stdout.strip()))
    return out


def command_seconds(args: Sequence[str], runs: int) -> list[float]:
    """Wall time of a whole `casereview …` process, start-up included."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "casereview", *args], capture_output=True, check=True)
        out.append(time.perf_counter() - t0)
    return out


def warm_seconds(fn: Callable[[], object], runs: int) -> list[float]:
    fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    python = f"Python {platform.python_version()} ({platform.python_implementation()})"
    return f"{model}; {os.cpu_count()} CPUs (nproc); {python}; {platform.system()}"


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for package in ("casereview", "holidays", "workalendar", "numpy"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} not installed")
    return ", ".join(parts)


def ms(values: list[float]) -> str:
    low, mid, high = min(values) * 1e3, statistics.median(values) * 1e3, max(values) * 1e3
    return f"median {mid:6.1f} ms (min {low:.1f}, max {high:.1f}, n={len(values)})"


def rate(t: Timing) -> str:
    if not t.samples:
        return f"  {t.name:48} {t.note}"
    low, high = min(t.samples), max(t.samples)
    line = f"  {t.name:48} median {t.median:>11,.0f} (min {low:,.0f}, max {high:,.0f})"
    return line + (f"\n  {'':48} {t.note}" if t.note else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.calendar_bench", description="Working-day calendar benchmark."
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: few calls, few runs")
    parser.add_argument("--runs", type=int, help="timed runs per figure (default 7; --quick 5)")
    parser.add_argument("--calls", type=int, help="calls per run (default 200000; --quick 2000)")
    args = parser.parse_args(argv)
    runs = args.runs or (5 if args.quick else 7)
    calls = args.calls or (2_000 if args.quick else 200_000)
    # workalendar walks day by day and is ~100x slower, so it gets fewer calls per run;
    # calls per second is per call either way.
    slow_calls = max(200, calls // 20)
    build_runs = 3 if args.quick else 7

    print(f"Machine: {machine()}")
    print(f"Versions: {versions()}")
    print(f"Timed runs per figure: {runs}, each after one untimed warm-up.")
    print(f"Calls per run: {calls} (workalendar {slow_calls}).")
    print()

    cal = england_calendar(environ={})
    pairs = make_pairs(calls)
    timings = (
        bench_ours(cal, pairs, runs)
        + bench_numpy(cal, pairs, runs)
        + bench_workalendar(cal, pairs[:slow_calls], runs)
    )
    print("add_working_days, calls per second (higher is better)")
    for timing in timings:
        print(rate(timing))
    print()

    holidays = cal.holidays()
    builds = [
        ("fresh interpreter: import + build", cold_seconds(COLD_BUILD, build_runs)),
        ("fresh interpreter: import holidays only", cold_seconds(COLD_IMPORT, build_runs)),
        (
            "in process: england_calendar()",
            warm_seconds(lambda: england_calendar(environ={}), build_runs),
        ),
        (
            "in process: index only, WorkingDayCalendar(...)",
            warm_seconds(lambda: WorkingDayCalendar(holidays, known_through=2028), build_runs),
        ),
    ]
    print("Calendar build time (lower is better)")
    for label, seconds in builds:
        print(f"  {label:48} {ms(seconds)}")
    print()

    commands = [
        ("casereview --help", command_seconds(["--help"], build_runs)),
        (
            "casereview workdays add 2026-12-10 15",
            command_seconds(["workdays", "add", "2026-12-10", "15"], build_runs),
        ),
    ]
    print("Whole command, wall time including interpreter start-up")
    for label, seconds in commands:
        print(f"  {label:48} {ms(seconds)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
