"""Export honesty: `verify-export --db` holds every visible part of a real export file
against the log, not only its rows. Each test changes one part of a Markdown export and
recomputes the digest, so the file alone still verifies (a digest has no key) and only
the comparison with the database can tell; and a `created_at` that the log contradicts
fails in every format. What is covered: docs/audit.md ("What `verify-export` checks")."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest

from casereview.infra.now import FixedClock
from casereview.services import exports
from casereview.services.context import ServiceContext
from tests.conftest import Cli
from tests.security.conftest import TODAY, Seeded

DIGEST_LINE = re.compile(rb"\*\*Digest:\*\* `sha256:([0-9a-f]{64})`")


def export(cli: Cli, seeded: Seeded, fmt: str) -> Path:
    path = seeded.tmp / f"log.{fmt}"
    result = cli("log", "export", *seeded.cli_args(), "--format", fmt, "--output", str(path))
    assert result.exit_code == 0, result.stderr
    return path


def verify(cli: Cli, seeded: Seeded, path: Path) -> dict[str, object]:
    result = cli("log", "verify-export", str(path), *seeded.cli_args(), "--json")
    report: dict[str, object] = json.loads(result.stdout)
    assert (result.exit_code == 0) == bool(report["ok"]), result.stderr
    return report


def resealed(text: str) -> bytes:
    """A Markdown export's text with its digest line recomputed, as anyone can."""
    data = text.encode("utf-8")
    found = DIGEST_LINE.search(data)
    assert found is not None
    content = data[: found.start()]
    digest = hashlib.sha256(content).hexdigest().encode("ascii")
    return content + data[found.start() :].replace(found.group(1), digest)


def test_an_untouched_markdown_export_verifies(cli: Cli, seeded: Seeded) -> None:
    report = verify(cli, seeded, export(cli, seeded, "md"))
    assert report["ok"] is True, report["findings"]
    assert report["database_checked"] is True


# Each alteration keeps the file well-formed: only what the page says is changed.
ALTERATIONS = {
    "case heading reference": ("\n## S-002 · ", "\n## S-020 · "),
    "case heading pseudonym": ("\n## S-001 · Child A", "\n## S-001 · Child Z"),
    "case heading event count": ("2 events.\n", "5 events.\n"),
    "metadata table: events and cases": (" events in 3 cases |", " events in 2 cases |"),
    "metadata table: cases": ("| Cases | all cases |", "| Cases | case S-001 |"),
    "metadata table: event dates": (
        "| Event dates | all dates |",
        "| Event dates | from 2020-01-01 |",
    ),
    "metadata table: personal data": (
        "| Personal data | left out",
        "| Personal data | **included**",
    ),
    "metadata table: log position": ("| Log position | event ", "| Log position | event 1"),
    "metadata table: produced by": ("| Produced by | casereview ", "| Produced by | casereview 9"),
    "metadata table: workflows": ("england-lcspr v", "england-lcspr-2 v"),
    "title": ("# Decision log\n", "# Decision log (complete)\n"),
    "preamble": ("Pseudonyms only.", "Pseudonyms only; approved by the Panel."),
    "hidden metadata comment": ('"personal_fields": ["child_name"]', '"personal_fields": []'),
    "an event block": ("- **Decided by:** ", "- **Decided by:** the Panel, "),
}


@pytest.mark.parametrize("part", sorted(ALTERATIONS))
def test_each_visible_part_of_a_markdown_export_is_checked(
    cli: Cli, seeded: Seeded, part: str
) -> None:
    path = export(cli, seeded, "md")
    old, new = ALTERATIONS[part]
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"the export has no {old!r}"
    path.write_bytes(resealed(text.replace(old, new, 1)))
    alone = cli("log", "verify-export", str(path))  # no database: the digest is fine
    assert alone.exit_code == 0, alone.stdout
    report = verify(cli, seeded, path)
    assert report["ok"] is False
    findings = report["findings"]
    assert isinstance(findings, list)
    assert any(f["check"] in ("database", "row") for f in findings), findings
    assert not any(f["check"] == "digest" for f in findings), findings


def _export_made_at(seeded: Seeded, when: dt.datetime, fmt: str) -> Path:
    """A real export, made through casereview by a clock set to `when`."""
    ctx = ServiceContext(url=seeded.url, account=seeded.account, clock=FixedClock(when))
    path = seeded.tmp / f"at.{fmt}"
    try:
        with path.open("wb") as sink:
            exports.export_log(ctx, exports.LogExportRequest(format=fmt), sink, jobs=1)
    finally:
        ctx.close()
    return path


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_created_at_before_the_log_position_it_names_fails(
    cli: Cli, seeded: Seeded, fmt: str
) -> None:
    # The seeded events were recorded today; an export claiming to be made at the
    # latest of them two days ago cannot be.
    path = _export_made_at(seeded, _noon(TODAY - dt.timedelta(days=2)), fmt)
    assert cli("log", "verify-export", str(path)).exit_code == 0  # intact as a file
    report = verify(cli, seeded, path)
    assert report["ok"] is False
    messages = [str(f["message"]) for f in report["findings"]]  # type: ignore[attr-defined]
    assert any("created_at" in m and "was recorded" in m for m in messages), messages


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_created_at_in_the_future_fails(cli: Cli, seeded: Seeded, fmt: str) -> None:
    path = _export_made_at(seeded, _noon(TODAY + dt.timedelta(days=30)), fmt)
    report = verify(cli, seeded, path)
    assert report["ok"] is False
    messages = [str(f["message"]) for f in report["findings"]]  # type: ignore[attr-defined]
    assert any("created_at" in m and "future" in m for m in messages), messages


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_created_at_between_the_log_position_and_now_verifies(
    cli: Cli, seeded: Seeded, fmt: str
) -> None:
    """What docs/audit.md says is not covered: the log cannot tell this instant from
    another one in the window."""
    report = verify(cli, seeded, export(cli, seeded, fmt))
    assert report["ok"] is True, report["findings"]


def test_an_export_with_personal_fields_must_be_the_one_the_log_recorded(
    cli: Cli, seeded: Seeded
) -> None:
    """An export holding personal fields is recorded in the log with the instant it was
    made: a copy whose `created_at` was moved, even by a minute, names no such export."""
    path = seeded.tmp / "personal.md"
    args = ("log", "export", *seeded.cli_args(), "--format", "md", "--include-personal")
    assert cli(*args, "--output", str(path)).exit_code == 0
    assert verify(cli, seeded, path)["ok"] is True
    text = path.read_text(encoding="utf-8")
    made = re.search(r'"created_at": "([^"]+)"', text)
    assert made is not None
    instant = dt.datetime.fromisoformat(made.group(1)) + dt.timedelta(minutes=1)
    moved = instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    path.write_bytes(resealed(text.replace(made.group(1), moved)))
    assert cli("log", "verify-export", str(path)).exit_code == 0  # intact as a file
    report = verify(cli, seeded, path)
    assert report["ok"] is False
    messages = [str(f["message"]) for f in report["findings"]]  # type: ignore[attr-defined]
    assert any("records no such export made at" in m for m in messages), messages
