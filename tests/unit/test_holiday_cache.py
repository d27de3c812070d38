"""The disk cache of the `holidays` expansion: used when it matches, ignored otherwise."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest

from casereview.domain.calendar import workdays
from casereview.infra import bank_holidays, holiday_cache

FIRST, LAST = workdays.MIN_DATE.year, workdays.MAX_DATE.year


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder, and no per-process copy of the expansion."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(holiday_cache.CACHE_ENV, str(folder))
    bank_holidays._library_holidays.cache_clear()
    yield folder
    bank_holidays._library_holidays.cache_clear()


def _entry_file(folder: Path, key: str | None = None) -> Path:
    key = key or holiday_cache.package_key()
    assert key is not None
    return holiday_cache._file(folder, FIRST, LAST, key)


def test_first_build_writes_the_entry_and_the_second_reads_it_back_equal(cache: Path) -> None:
    cold = bank_holidays._library_holidays(FIRST, LAST)
    assert _entry_file(cache).is_file()
    bank_holidays._library_holidays.cache_clear()
    warm = bank_holidays._library_holidays(FIRST, LAST)
    assert warm == cold
    assert any(h.name == "Christmas Day" for h in warm)


def test_a_matching_entry_is_what_the_calendar_uses(cache: Path) -> None:
    key = holiday_cache.package_key()
    assert key is not None
    # A doctored entry under the right key (the real days, less one, plus one): if the
    # calendar shows the change, the cache was read.
    real = [(h.date, h.name) for h in bank_holidays._library_holidays(FIRST, LAST)]
    doctored = [e for e in real if e[0] != dt.date(2031, 12, 25)] + [(dt.date(2031, 3, 5), "T")]
    bank_holidays._library_holidays.cache_clear()
    holiday_cache.store(FIRST, LAST, key, "9.9.9", sorted(doctored))
    calendar = bank_holidays.england_calendar(environ={})
    assert calendar.holiday(dt.date(2031, 3, 5)) is not None
    assert calendar.holiday(dt.date(2031, 3, 5)).source == "holidays 9.9.9 (GB, subdivision ENG)"
    assert calendar.is_working_day(dt.date(2031, 12, 25))  # the library's days are not there


def test_an_entry_under_another_key_is_ignored(cache: Path) -> None:
    holiday_cache.store(FIRST, LAST, "another install", "9.9.9", [(dt.date(2031, 3, 5), "X")])
    calendar = bank_holidays.england_calendar(environ={})
    assert calendar.is_working_day(dt.date(2031, 3, 5))
    assert not calendar.is_working_day(dt.date(2031, 12, 25))
    # ...and is replaced by a fresh expansion under the current key.
    assert json.loads(_entry_file(cache).read_text())["key"] == holiday_cache.package_key()


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"[]", b'{"format": 1}', b"\xff\xfe", b'{"format": 99, "key": "k"}'],
)
def test_a_damaged_entry_is_ignored(cache: Path, content: bytes) -> None:
    cache.mkdir(parents=True)
    _entry_file(cache).write_bytes(content)
    holidays = bank_holidays._library_holidays(FIRST, LAST)
    assert dt.date(2026, 12, 25) in {h.date for h in holidays}


def test_entries_with_wrong_types_are_ignored(cache: Path) -> None:
    key = holiday_cache.package_key()
    cache.mkdir(parents=True)
    payload = {"format": 1, "key": key, "version": 7, "holidays": [["2031-03-05", "X"]]}
    _entry_file(cache).write_text(json.dumps(payload))
    assert holiday_cache.load(FIRST, LAST, str(key)) is None


def test_an_unwritable_cache_folder_costs_nothing_but_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(holiday_cache.CACHE_ENV, str(blocker / "cache"))
    bank_holidays._library_holidays.cache_clear()
    try:
        holidays = bank_holidays._library_holidays(FIRST, LAST)
    finally:
        bank_holidays._library_holidays.cache_clear()
    assert dt.date(2026, 12, 25) in {h.date for h in holidays}
    assert blocker.read_text() == "not a folder"


def test_an_empty_setting_turns_the_cache_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(holiday_cache.CACHE_ENV, "")
    assert holiday_cache.cache_dir() is None
    holiday_cache.store(FIRST, LAST, "k", "1", [(dt.date(2031, 3, 5), "X")])
    assert holiday_cache.load(FIRST, LAST, "k") is None


def test_the_key_changes_when_the_rules_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "holidays"
    (package / "countries").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    rules = package / "countries" / "united_kingdom.py"
    rules.write_text("# rules\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "holidays", raising=False)
    before = holiday_cache.package_key()
    rules.write_text("# rules, changed\n")
    after = holiday_cache.package_key()
    assert before is not None and after is not None
    assert before.startswith(str(package))
    assert before != after


def test_two_installations_keep_their_own_entries(cache: Path, tmp_path: Path) -> None:
    """A second environment sharing the cache folder must not evict the first's entry
    (each run of either was a cache miss before)."""
    other_root = tmp_path / "other-venv" / "holidays"
    other_root.mkdir(parents=True)
    other = f"{other_root}|__init__.py:1:2|countries/united_kingdom.py:3:4"
    mine = holiday_cache.package_key()
    assert mine is not None
    holiday_cache.store(FIRST, LAST, mine, "1.0", [(dt.date(2031, 3, 5), "Mine")])
    holiday_cache.store(FIRST, LAST, other, "2.0", [(dt.date(2031, 3, 6), "Other")])
    assert _entry_file(cache, mine) != _entry_file(cache, other)
    assert holiday_cache.load(FIRST, LAST, mine) == ("1.0", [(dt.date(2031, 3, 5), "Mine")])
    assert holiday_cache.load(FIRST, LAST, other) == ("2.0", [(dt.date(2031, 3, 6), "Other")])
    # An upgrade in the same folder (same root, new sizes) replaces that folder's entry.
    upgraded = f"{other_root}|__init__.py:9:9|countries/united_kingdom.py:9:9"
    holiday_cache.store(FIRST, LAST, upgraded, "3.0", [(dt.date(2031, 3, 7), "New")])
    assert _entry_file(cache, upgraded) == _entry_file(cache, other)
    assert holiday_cache.load(FIRST, LAST, other) is None
    assert len(list(cache.glob("holidays-eng-*.json"))) == 2


def test_an_entry_for_a_removed_installation_is_pruned(cache: Path, tmp_path: Path) -> None:
    gone_root = tmp_path / "deleted-venv" / "holidays"
    gone = f"{gone_root}|__init__.py:1:2|countries/united_kingdom.py:3:4"
    holiday_cache.store(FIRST, LAST, gone, "1.0", [(dt.date(2031, 3, 5), "Gone")])
    assert _entry_file(cache, gone).is_file()
    mine = holiday_cache.package_key()
    assert mine is not None
    # Recent: perhaps another machine's, sharing this folder; kept.
    holiday_cache.store(FIRST, LAST, mine, "1.0", [(dt.date(2031, 3, 5), "Mine")])
    assert _entry_file(cache, gone).is_file()
    # Untouched for longer than the limit: removed at the next write.
    old = time.time() - (holiday_cache.PRUNE_AFTER_DAYS + 1) * 86400
    os.utime(_entry_file(cache, gone), (old, old))
    holiday_cache.store(FIRST, LAST, mine, "1.0", [(dt.date(2031, 3, 5), "Mine")])
    assert not _entry_file(cache, gone).exists()
    assert [p.name for p in cache.glob("holidays-eng-*.json")] == [_entry_file(cache).name]


def test_a_folder_name_with_a_bar_is_kept_whole() -> None:
    key = "/opt/a|b/holidays|__init__.py:1:2|countries/united_kingdom.py:3:4"
    assert holiday_cache._install_root(key) == "/opt/a|b/holidays"


def test_an_entry_other_accounts_can_write_is_not_read(cache: Path) -> None:
    """A planted holiday would move every deadline: a group- or world-writable entry
    is ignored and the library's days are used."""
    key = holiday_cache.package_key()
    assert key is not None
    holiday_cache.store(FIRST, LAST, key, "9.9.9", [(dt.date(2031, 3, 5), "Planted")])
    entry = _entry_file(cache)
    assert holiday_cache.load(FIRST, LAST, key) is not None
    for mode in (0o664, 0o646):
        entry.chmod(mode)
        assert holiday_cache.load(FIRST, LAST, key) is None
    entry.chmod(0o600)
    assert holiday_cache.load(FIRST, LAST, key) is not None
    bank_holidays._library_holidays.cache_clear()
    entry.chmod(0o666)
    calendar = bank_holidays.england_calendar(environ={})
    assert calendar.is_working_day(dt.date(2031, 3, 5))
