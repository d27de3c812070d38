"""`log export --actor/--trigger`, and people's names in the decision log.

The filters select the records shown, never the events replayed, so each record's clocks
are those of the whole history; the filter is in the export's metadata, which its
digest covers, and `verify-export` regenerates the export with it. Names are the
display names the log gave each login at the export's chain head, in the metadata (and,
in Markdown, beside each login); the recorded `actor` stays as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from casereview.formats.decision_log import as_json as json_format
from casereview.infra.now import FixedClock
from casereview.services import demo, users
from casereview.services.context import ServiceContext

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path}"
    # The demo's keys in a folder of this module's (each test has its own key folder).
    demo.seed(url, "demo", TODAY, _keys(path))
    admin = ServiceContext(url=url, account="demo", clock=FixedClock(TODAY), key_dir=_keys(path))
    try:  # the account the CLI runs as, to read
        me = ServiceContext.from_options(url).account
        users.add_user(admin, me, f"{me} (runs the tests)", ["chair"], None)
    finally:
        admin.close()
    return str(path)


def _keys(db: Path) -> Path:
    return db.with_name("keys")


def export(cli, db: str, tmp_path: Path, fmt: str, *extra: str) -> Path:
    path = tmp_path / f"log-{len(list(tmp_path.iterdir()))}.{fmt}"
    result = cli("log", "export", "--db", db, "--format", fmt, "-o", str(path), *extra)
    assert result.exit_code == 0, result.stderr
    return path


def events_of(path: Path) -> list[dict]:
    return json.loads(path.read_text())["events"]


def test_actor_selects_what_one_person_recorded_or_had_recorded_for_them(cli, demo_db, tmp_path):
    everything = events_of(export(cli, demo_db, tmp_path, "json"))
    path = export(cli, demo_db, tmp_path, "json", "--actor", "demo-police")
    doc = json.loads(path.read_text())
    picked = doc["events"]
    expected = [e["seq"] for e in everything if "demo-police" in (e["actor"], e["on_behalf_of"])]
    assert [e["seq"] for e in picked] == expected and expected
    assert doc["meta"]["filter"]["actor"] == "demo-police"
    assert doc["meta"]["event_count"] == len(expected)
    # Each record's clocks are those of the whole history, as in the full export.
    full = {e["seq"]: e for e in everything}
    assert all(e == full[e["seq"]] for e in picked)
    checked = cli("log", "verify-export", str(path), "--db", demo_db)
    assert checked.exit_code == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_trigger_and_case_filters_verify_in_every_format(cli, demo_db, tmp_path, fmt):
    path = export(cli, demo_db, tmp_path, fmt, "--trigger", "sign_off", "--case", "2026-001")
    checked = cli("log", "verify-export", str(path), "--db", demo_db)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
        meta = {r[1]: r[2] for r in rows if r[0] == "meta"}
        assert meta["filter_trigger"] == "sign_off" and meta["filter_case"] == "2026-001"
        triggers = {r[6] for r in rows if r[0] == "event"}
        assert triggers == {"sign_off"}
    elif fmt == "md":
        assert "| Steps | sign\\_off |" in path.read_text()


def test_a_filter_changed_in_the_file_does_not_verify(cli, demo_db, tmp_path):
    path = export(cli, demo_db, tmp_path, "json", "--actor", "demo-police")
    doc = json.loads(path.read_text())
    # Changed by hand: the digest no longer matches.
    doc["meta"]["filter"]["actor"] = "demo-la"
    edited = tmp_path / "edited.json"
    edited.write_bytes(json_format.render(doc["meta"], doc["events"], doc["digest"]))
    assert cli("log", "verify-export", str(edited)).exit_code == 7
    # Changed with the digest recomputed (the algorithm is published): the file alone
    # passes, but the log gives other events for that filter.
    digest = json_format.content_digest(doc["meta"], doc["events"])
    forged = tmp_path / "forged.json"
    forged.write_bytes(json_format.render(doc["meta"], doc["events"], digest))
    alone = cli("log", "verify-export", str(forged), env={"CASEREVIEW_DB": None})
    assert alone.exit_code == 0, alone.stdout
    checked = cli("log", "verify-export", str(forged), "--db", demo_db)
    assert checked.exit_code == 7
    assert "missing from the file" in checked.stdout or "no such event" in checked.stdout


def test_a_mistyped_filter_is_an_error_not_an_empty_export(cli, demo_db):
    step = cli("log", "export", "--db", demo_db, "--trigger", "sign_of")
    assert step.exit_code == 2
    assert step.stderr == "Error: unknown trigger 'sign_of' (did you mean 'sign_off'?)\n"
    person = cli("log", "export", "--db", demo_db, "--actor", "nobody")
    assert person.exit_code == 3
    assert person.stderr.startswith("Error: no user 'nobody'")


def test_names_are_shown_beside_logins_and_the_actor_is_kept(cli, demo_db, tmp_path):
    doc = json.loads(export(cli, demo_db, tmp_path, "json", "--case", "2026-001").read_text())
    assert doc["meta"]["people"]["demo-police"] == "Police partner (demo)"
    assert {e["actor"] for e in doc["events"]} <= set(doc["meta"]["people"])
    md = export(cli, demo_db, tmp_path, "md", "--case", "2026-001").read_text()
    assert "- **Decided by:** Police partner (demo) (demo-police) as partner" in md
    assert "- **Recorded by:** Demo business unit officer and chair (demo) at " in md


def test_a_rename_after_the_export_does_not_change_what_it_verifies_against(cli, demo_db, tmp_path):
    import shutil

    copy = tmp_path / "copy.db"
    shutil.copy(demo_db, copy)
    path = export(cli, str(copy), tmp_path, "md", "--actor", "demo-la")
    from casereview.services import keys

    ctx = ServiceContext(
        url=f"sqlite:///{copy}",
        account="demo",
        clock=FixedClock(TODAY),
        key_dir=_keys(Path(demo_db)),
    )
    try:
        # A rename is a user_change event: what the log says from then on.
        from casereview.services.users import admin_event
        from casereview.store import event_log

        with ctx.db().unit_of_work() as uow:
            fields = {
                "username": "demo-la",
                "display_name": "Lee Ray",
                "roles": ["partner"],
                "agency": "local_authority",
            }
            event = admin_event(ctx, "user_change", fields)
            event_log.append_event(uow.conn, event, None, keys.write_signer(ctx, uow.conn))
            uow.commit()
        assert users.get_user(ctx, "demo-la").display_name != "Lee Ray"  # row not rebuilt here
    finally:
        ctx.close()
    checked = cli("log", "verify-export", str(path), "--db", str(copy))
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    later = export(cli, str(copy), tmp_path, "json", "--actor", "demo-la")
    assert json.loads(later.read_text())["meta"]["people"]["demo-la"] == "Lee Ray"


def test_an_export_made_before_names_were_shown_still_verifies(cli, demo_db, tmp_path):
    """A file without `people` (as every export was before) is regenerated without them."""
    doc = json.loads(export(cli, demo_db, tmp_path, "json").read_text())
    meta = {k: v for k, v in doc["meta"].items() if k != "people"}
    digest = json_format.content_digest(meta, doc["events"])
    older = tmp_path / "older.json"
    older.write_bytes(json_format.render(meta, doc["events"], digest))
    checked = cli("log", "verify-export", str(older), "--db", demo_db)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
