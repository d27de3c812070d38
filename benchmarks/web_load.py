"""The web interface under load: `casereview serve` on a generated database, 20 simulated
people at once against 127.0.0.1, and the time of each page as they see it.

    .venv/bin/python -m benchmarks.web_load                  # 100k if generated, else 1k
    .venv/bin/python -m benchmarks.web_load --scale 10k      # another scale (generated once)
    .venv/bin/python -m benchmarks.web_load --quick          # CI smoke: 1k, 3 requests each
    .venv/bin/python -m benchmarks.web_load --render FILE.json  # redraw the doc's section

The server is a real `casereview serve` process on a copy of the database (writes never
touch the generated file), acting as the account that generated it, with the
generator's signing key. The script reads the one-time sign-in link from the server's
console, signs in once (local mode acts as one account; the simulated people share the
session, each with connections of its own), then runs `--users` people concurrently
(asyncio and httpx), each making `--requests` requests in turn: the due page (first
page), a case page, a timeline, and a write — a note (`add_note`) or a partner's
sign-off keyed in by the business unit (`sign_off`, each agency once per open round,
never twice) — each as a browser does: a GET, or a form POST answered by a redirect
(not followed). Each figure is the wall time of one request as the client saw it.
Any status other than the one expected, or a transport error, is counted as an error
(and fails the run); there are no timing assertions.

A run writes `benchmarks/out/web-<date>-<time>.json` and, unless `--quick` or
`--no-doc`, rewrites the `web:start`/`web:end` section of `docs/performance.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import queue
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import generate, run

DOC = run.DOC
START, END = "<!-- web:start -->", "<!-- web:end -->"
KINDS = ("due", "case", "timeline", "write")
ORDER = ("due", "case", "timeline", "due", "case", "timeline", "note", "sign_off")
"""Each person's requests, in turn (a person starting at a different place in it)."""

TARGETS = {  # milliseconds, on the 100k database: (median, 99th percentile)
    "due": (30.0, 150.0),
    "case": (30.0, 150.0),
    "timeline": (30.0, 150.0),
    "write": (None, 100.0),
}
AGENCIES = ("local_authority", "police", "icb")
SIGN_OFF_STATES = ("rapid_review_signoff", "final_signoff")


@dataclass
class Plan:
    """What the simulated people ask for, chosen from the database before the run."""

    cases: list[str]  # open cases, for case pages, timelines and notes
    sign_offs: list[tuple[str, str]]  # (case, agency) not yet signed in its open round
    today: str


@dataclass
class Tally:
    samples: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    failures: list[str] = field(default_factory=list)  # the first few, as method path: status
    sign_offs: int = 0
    notes: int = 0


def plan_requests(db: Path, seed: int = 7, cases: int = 500) -> Plan:
    """Open cases to read and write to, and the sign-offs that are still owed."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        refs = [str(r[0]) for r in conn.execute("SELECT ref FROM cases WHERE closed = 0")]
        owed: list[tuple[str, str]] = []
        # A sibling review's cases sign together (a lead's step is taken by the cases it
        # links): leave them out, so that no sign-off is asked for twice.
        linked: set[str] = set()
        columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(cases)")}
        if "links" in columns:
            for ref, links in conn.execute(
                "SELECT ref, links FROM cases WHERE COALESCE(links, '[]') != '[]'"
            ):
                linked |= {str(ref)} | {str(link["other"]) for link in json.loads(links)}
        marks = ",".join("?" * len(SIGN_OFF_STATES))
        for case_id, ref, state in conn.execute(
            f"SELECT id, ref, state FROM cases WHERE closed = 0 AND state IN ({marks})",
            SIGN_OFF_STATES,
        ).fetchall():
            signed: set[str] = set()
            # Newest first, back to the step that opened this round (entering the state,
            # or revising the decision, which clears the round's signatures).
            for trigger, before, after, fields in conn.execute(
                "SELECT trigger, from_state, to_state, fields FROM events "
                "WHERE case_id = ? ORDER BY seq DESC",
                (case_id,),
            ):
                if trigger == "sign_off":
                    signed.add(str(json.loads(fields).get("agency")))
                elif trigger in ("revise", "reconsider") or (after == state and before != state):
                    break
            if str(ref) not in linked:
                owed += [(str(ref), a) for a in AGENCIES if a not in signed]
        last = conn.execute("SELECT MAX(last_event_on) FROM cases").fetchone()
    finally:
        conn.close()
    rng = random.Random(seed)
    rng.shuffle(refs)
    rng.shuffle(owed)
    today = max(dt.date.today().isoformat(), str(last[0]))
    return Plan(refs[:cases], owed, today)


class Server:
    """`casereview serve` on `db` at a free port of 127.0.0.1; its console read in a
    thread of its own, so that each sign-in link it prints can be taken in turn."""

    def __init__(self, db: Path, key_dir: Path) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        env = {**os.environ, "CASEREVIEW_KEY_DIR": str(key_dir)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "casereview",
                "serve",
                "--port",
                str(self.port),
                "--db",
                str(db),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.links: queue.Queue[str] = queue.Queue()
        self.console: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("Sign in at: "):
                self.links.put(line.removeprefix("Sign in at: ").strip())
            else:
                self.console.append(line.rstrip())

    def link(self, timeout: float = 120.0) -> str:
        try:
            return self.links.get(timeout=timeout)
        except queue.Empty:
            raise SystemExit(
                "the server printed no sign-in link:\n" + "\n".join(self.console[-20:])
            ) from None

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def sign_in(base: str, link: str) -> tuple[str, str]:
    """The session cookie the link opens, and the session's CSRF token (from a form)."""
    import httpx

    path = link.split("/", 3)[3]
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        response = await client.get("/" + path)
        if response.status_code != 303:
            raise SystemExit(f"sign-in refused: {response.status_code}")
        cookie = response.headers["set-cookie"].split(";", 1)[0]
        page = await client.get("/", headers={"cookie": cookie})
        found = CSRF.search(page.text)
        if page.status_code != 200 or found is None:
            raise SystemExit(f"the due page after sign-in: {page.status_code}, no form")
        return cookie, found.group(1)


async def person(
    number: int,
    base: str,
    cookie: str,
    csrf: str,
    plan: Plan,
    requests: int,
    tally: Tally,
    rng: random.Random,
    think: float,
) -> None:
    import httpx

    headers = {"cookie": cookie}
    # Each request on a connection of its own: a kept-alive connection that the server
    # closes after its idle timeout just as the next request is sent would be an error
    # of the client's making (a browser retries it unseen).
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=base, timeout=60, headers=headers, limits=fresh
    ) as client:
        for i in range(requests):
            if think:
                # A person reads the page before the next click: from half to one and a
                # half times the mean, so that people do not click in step.
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            kind = ORDER[(number + i) % len(ORDER)]
            ref = rng.choice(plan.cases)
            method, path, form, expected = "GET", "/", None, 200
            if kind == "case":
                path = f"/cases/{ref}"
            elif kind == "timeline":
                path = f"/timeline/{ref}"
            elif kind in ("note", "sign_off"):
                method, expected = "POST", 303
                form = {"csrf_token": csrf, "trigger": "add_note", "field-note": "Load test."}
                if kind == "sign_off" and plan.sign_offs:
                    ref, agency = plan.sign_offs.pop()
                    partner = generate.PARTNERS[agency][number % 2]
                    form = {
                        "csrf_token": csrf,
                        "trigger": "sign_off",
                        "field-agency": agency,
                        "on_behalf_of": partner,
                    }
                    tally.sign_offs += 1
                else:
                    tally.notes += 1
                path = f"/cases/{ref}"
            bucket = "write" if method == "POST" else kind
            t0 = time.perf_counter()
            try:
                response = await client.request(method, path, data=form)
                status = response.status_code
                failed = status != expected
                detail = f"{method} {path}: {status}"
            except httpx.HTTPError as error:
                failed, detail = True, f"{method} {path}: {type(error).__name__}"
            elapsed = (time.perf_counter() - t0) * 1000
            if failed:
                tally.errors[bucket] += 1
                if len(tally.failures) < 5:
                    tally.failures.append(detail)
            else:
                tally.samples[bucket].append(elapsed)


def percentile(samples: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100), linear between ranks; None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def drive(base: str, link: str, plan: Plan, users: int, requests: int, think: float) -> Tally:
    cookie, csrf = await sign_in(base, link)
    tally = Tally()
    await asyncio.gather(
        *(
            person(n, base, cookie, csrf, plan, requests, tally, random.Random(n), think)
            for n in range(users)
        )
    )
    return tally


def database_for(scale: str | None, db: Path | None) -> tuple[Path, str]:
    """The database to serve: `--db` as given; else the runner's file for the scale
    (generated if missing); else the runner's 100k file if there is one, or 1k."""
    if db is not None:
        return db, "custom"
    if scale is None:
        scale = "100k" if (run.OUT / "100k.db").exists() else "1k"
    python, _ = run.executables()
    path, _stats = run.ensure_database(scale, python, regenerate=False)
    return path, scale


def measure(
    db: Path, scale: str, users: int, requests: int, warmup: int, think: float
) -> dict[str, Any]:
    plan = plan_requests(db)
    if not plan.cases:
        raise SystemExit(f"{db} has no open case")
    copy = db.with_name(f"{db.stem}.web.db")
    for suffix in ("", "-wal"):  # the server writes here; the generated file is never changed
        if Path(f"{db}{suffix}").exists():
            shutil.copyfile(f"{db}{suffix}", f"{copy}{suffix}")
    results: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": run.machine(),
        "scale": scale,
        "cases": _count(db, "cases"),
        "events": _count(db, "events"),
        "users": users,
        "requests_per_user": requests,
        "warmup_per_user": warmup,
        "think_seconds": think,
        "load_before": os.getloadavg(),
    }
    server = Server(copy, generate.key_dir(db))
    try:
        base = f"http://127.0.0.1:{server.port}"
        link = server.link()
        if warmup:
            # Untimed: the server's first requests import the pages and fill the cache.
            asyncio.run(drive(base, link, plan, users, warmup, think))
            link = server.link()
        t0 = time.perf_counter()
        tally = asyncio.run(drive(base, link, plan, users, requests, think))
        seconds = time.perf_counter() - t0
    finally:
        server.stop()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
    results["load_after"] = os.getloadavg()
    results["seconds"] = seconds
    results["throughput"] = sum(len(v) for v in tally.samples.values()) / seconds
    results["sign_offs"] = tally.sign_offs
    results["notes"] = tally.notes
    results["failures"] = tally.failures
    results["pages"] = [
        {
            "page": kind,
            "requests": len(tally.samples[kind]) + tally.errors[kind],
            "errors": tally.errors[kind],
            "median_ms": percentile(tally.samples[kind], 50),
            "p99_ms": percentile(tally.samples[kind], 99),
            "max_ms": max(tally.samples[kind], default=None),
        }
        for kind in KINDS
    ]
    return results


def _count(db: Path, table: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


LABELS = {
    "due": "What is due (first page)",
    "case": "A case page",
    "timeline": "A timeline",
    "write": "A write (a note or a sign-off)",
}


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def render(results: dict[str, Any]) -> str:
    """The generated section of docs/performance.md for one run."""
    m = results["machine"]
    scale = results["scale"]
    note = (
        ""
        if scale == "100k"
        else f" **These are {scale} figures**, not the 100k run the targets are set on."
    )
    think = results["think_seconds"]
    pause = (
        f"each waiting {think:g} s on average between requests"
        if think
        else "each sending its next request as soon as the last is answered"
    )
    before = ", ".join(f"{x:.2f}" for x in results["load_before"])
    after = ", ".join(f"{x:.2f}" for x in results["load_after"])
    lines = [
        START,
        "<!-- Generated by `python -m benchmarks.web_load`; "
        "edit the prose outside the markers. -->",
        "",
        f"Run of {results['date'][:16].replace('T', ' ')} on the {scale} database "
        f"({results['cases']:,} cases, {results['events']:,} events): {m['cpu']}, "
        f"{m['nproc']} CPUs, CPython {m['python']}, SQLite {m['sqlite']}. "
        f"{results['users']} simulated people at once, {results['requests_per_user']} "
        f"requests each after {results['warmup_per_user']} untimed, {pause}: "
        f"{results['throughput']:.1f} requests a second, {results['seconds']:.1f} s in "
        f"all; {results['sign_offs']} sign-offs and "
        f"{results['notes']} notes written. Load average {before} before and {after} "
        f"after.{note}",
        "",
        "| page | requests | errors | median (ms) | 99th percentile (ms) | max (ms) | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for page in results["pages"]:
        median_target, p99_target = TARGETS[page["page"]]
        target = (
            f"p99 ≤ {p99_target:.0f}"
            if median_target is None
            else f"median ≤ {median_target:.0f}, p99 ≤ {p99_target:.0f}"
        )
        lines.append(
            f"| {LABELS[page['page']]} | {page['requests']:,} | {page['errors']} | "
            f"{_ms(page['median_ms'])} | {_ms(page['p99_ms'])} | {_ms(page['max_ms'])} | "
            f"{target} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def write_doc(section: str, doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{doc} has no {START} … {END} section to rewrite")
    text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
    doc.write_text(text, encoding="utf-8")


def report(results: dict[str, Any]) -> str:
    """The run's table on the console."""
    lines = [
        f"{results['scale']}: {results['users']} people, think {results['think_seconds']:g} s, "
        f"{results['seconds']:.1f} s, {results['throughput']:.1f} requests/s"
    ]
    for page in results["pages"]:
        lines.append(
            f"  {page['page']:<9} {page['requests']:>6} requests  {page['errors']} errors  "
            f"median {_ms(page['median_ms'])} ms  p99 {_ms(page['p99_ms'])} ms  "
            f"max {_ms(page['max_ms'])} ms"
        )
    lines += [f"  error: {failure}" for failure in results["failures"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.web_load", description="The web interface under load."
    )
    parser.add_argument("--scale", help="1k, 10k or 100k (default: 100k if generated, else 1k)")
    parser.add_argument("--db", type=Path, help="serve this generated database instead")
    parser.add_argument("--users", type=int, default=20, help="people at once (default 20)")
    parser.add_argument("--requests", type=int, help="timed requests each (default 200)")
    parser.add_argument("--warmup", type=int, help="untimed requests each first (default 8)")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds a person waits between requests (default 1; 0: none)",
    )
    parser.add_argument("--quick", action="store_true", help="1k, 3 requests each, no doc")
    parser.add_argument("--out", type=Path, help="write the results JSON here")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite the doc")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only redraw the doc")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if args.render is not None:
        write_doc(render(json.loads(args.render.read_text())))
        print(f"rewrote the web section of {DOC}")
        return 0
    db, scale = database_for("1k" if args.quick and not args.scale else args.scale, args.db)
    requests = args.requests or (3 if args.quick else 200)
    warmup = args.warmup if args.warmup is not None else (0 if args.quick else 8)
    think = 0.0 if args.quick else args.think
    results = measure(db, scale, args.users, requests, warmup, think)
    results["quick"] = args.quick
    print(report(results))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.out or run.OUT / f"web-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {path}")
    if not args.quick and not args.no_doc and args.db is None:
        write_doc(render(results))
        print(f"rewrote the web section of {DOC}")
    if any(page["errors"] for page in results["pages"]):
        print("errors under load (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
