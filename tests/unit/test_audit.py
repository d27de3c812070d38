"""Canonical encoding, the hash chain and checkpoints (pure, no database)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casereview.domain import chain

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_round_trips_and_is_stable(value):
    text = chain.canonical_json(value)
    assert json.loads(text) == value
    assert chain.canonical_json(json.loads(text)) == text


@given(st.dictionaries(st.text(), st.integers(), min_size=2))
def test_canonical_json_ignores_insertion_order(mapping):
    reordered = dict(reversed(list(mapping.items())))
    assert chain.canonical_json(mapping) == chain.canonical_json(reordered)


def test_canonical_json_refuses_floats_and_non_string_keys():
    with pytest.raises(chain.CanonicalEncodingError, match="floats"):
        chain.canonical_json({"a": [1, 2.5]})
    with pytest.raises(chain.CanonicalEncodingError, match="keys must be strings"):
        chain.canonical_json({1: "x"})


# Column values as they reach `seal`: mostly text, ints and None, but anything a caller
# could pass (bools, floats, subclasses, tuples) must come out as canonical_json says.
column_values = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.tuples(st.integers()),
    json_values,
)


@given(
    st.fixed_dictionaries({name: column_values for name in chain.HASHED_COLUMNS}),
    st.booleans(),
)
def test_event_payload_is_canonical_json_of_the_record(record, fields_given):
    try:
        expected = chain.canonical_json({name: record[name] for name in chain.HASHED_COLUMNS})
    except chain.CanonicalEncodingError:
        with pytest.raises(chain.CanonicalEncodingError):
            chain.event_payload(record)
        return
    fields_text = chain.canonical_json(record["fields"]) if fields_given else None
    assert chain.event_payload(record, fields_text) == expected
    assert json.loads(expected) == json.loads(chain.event_payload(record))


def test_event_payload_lays_out_a_real_event_exactly():
    record = _chain(1)[0]
    record["fields"] = {"note": "x", "due": "2026-01-20", "rounds": [1, None, True]}
    expected = chain.canonical_json({name: record[name] for name in chain.HASHED_COLUMNS})
    assert chain.event_payload(record) == expected
    assert chain.event_payload(record, chain.canonical_json(record["fields"])) == expected
    assert expected.startswith('{"actor":"alice","algorithm":"sha256","case_ref":"2026-001"')


def test_format_instant_is_fixed_width_utc():
    bst = dt.datetime(2026, 6, 1, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert chain.format_instant(bst) == "2026-06-01T12:00:00.000000Z"
    with pytest.raises(chain.CanonicalEncodingError):
        chain.format_instant(dt.datetime(2026, 6, 1))


def _chain(n: int) -> list[dict]:
    rows = []
    prev = chain.GENESIS_HASH
    for seq in range(1, n + 1):
        record = {
            "seq": seq,
            "kind": "case",
            "case_ref": "2026-001",
            "trigger": "add_note",
            "from_state": "screening",
            "to_state": "screening",
            "occurred_on": "2026-01-05",
            "recorded_at": "2026-01-05T10:00:00.000000Z",
            "actor": "alice",
            "on_behalf_of": None,
            "role": "business_unit",
            "rationale": f"note {seq} – café",
            "fields": {"note": "x"},
            "workflow_id": "england-lcspr",
            "workflow_version": 1,
            "definition_hash": "ab" * 32,
            "algorithm": chain.ALGORITHM,
            "prev_hash": prev,
        }
        sealed = chain.seal(record)
        row = dict(record, fields=json.dumps(record["fields"]), payload=sealed.payload)
        row["entry_hash"] = sealed.entry_hash
        rows.append(row)
        prev = sealed.entry_hash
    return rows


def test_intact_chain_verifies():
    rows = _chain(5)
    findings, count, last = chain.verify_chain(rows, (5, rows[-1]["entry_hash"]))
    assert findings == []
    assert count == 5
    assert last == rows[-1]["entry_hash"]


def test_edited_column_is_named():
    rows = _chain(3)
    rows[1]["rationale"] = "something else"
    findings, _, _ = chain.verify_chain(rows, (3, rows[-1]["entry_hash"]))
    assert [f.check for f in findings] == ["payload"]
    assert findings[0].seq == 2
    assert "rationale" in findings[0].message


def test_deleted_middle_event_breaks_sequence_and_link():
    rows = _chain(4)
    del rows[1]
    findings, _, _ = chain.verify_chain(rows, (4, rows[-1]["entry_hash"]))
    checks = {f.check for f in findings}
    assert {"sequence", "link", "head"} <= checks


def test_swapped_events_are_detected():
    rows = _chain(4)
    rows[1], rows[2] = rows[2], rows[1]
    findings, _, _ = chain.verify_chain(rows, (4, rows[-1]["entry_hash"]))
    assert any(f.check == "link" for f in findings)
    assert any(f.check == "sequence" for f in findings)


def test_truncated_tail_needs_the_head_or_a_checkpoint():
    rows = _chain(5)
    truncated = rows[:3]
    # With the head moved back too, the chain alone is consistent…
    findings, count, _ = chain.verify_chain(truncated, (3, truncated[-1]["entry_hash"]))
    assert findings == []
    # …but a checkpoint taken earlier catches it.
    checkpoint = chain.Checkpoint(5, rows[-1]["entry_hash"], "2026-01-06T00:00:00Z")
    found = chain.check_against_checkpoint(
        checkpoint, {r["seq"]: r["entry_hash"] for r in truncated}, count
    )
    assert found and found[0].check == "checkpoint"


def test_rewritten_history_is_caught_by_checkpoint():
    rows = _chain(4)
    checkpoint = chain.Checkpoint(3, rows[2]["entry_hash"], "t")
    rewritten = _chain(4)
    rewritten[0]["rationale"] = "forged"
    # recompute the whole chain from the forged record
    prev = chain.GENESIS_HASH
    for row in rewritten:
        record = dict(row, fields=json.loads(row["fields"]), prev_hash=prev)
        sealed = chain.seal(record)
        row.update(prev_hash=prev, payload=sealed.payload, entry_hash=sealed.entry_hash)
        prev = sealed.entry_hash
    findings, count, _ = chain.verify_chain(rewritten, (4, prev))
    assert findings == []
    found = chain.check_against_checkpoint(
        checkpoint, {r["seq"]: r["entry_hash"] for r in rewritten}, count
    )
    assert [f.check for f in found] == ["checkpoint"]


def test_checkpoint_json_round_trip_and_rejects_other_files():
    checkpoint = chain.Checkpoint(12, "f" * 64, "2026-11-23T10:00:00.000000Z")
    assert chain.Checkpoint.from_json(checkpoint.to_json()) == checkpoint
    with pytest.raises(ValueError, match="not a casereview checkpoint"):
        chain.Checkpoint.from_json('{"event_count": 3}')
