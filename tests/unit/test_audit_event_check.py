"""`chain.check_event`'s quick payload check gives exactly the findings of the full
re-encoding it stands in for, whatever the stored columns hold.

The reference below is the payload and hash check `verify_chain` made on every row
before the quick path existed: encode the columns canonically, compare with the payload.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from casereview.domain import chain

TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=12)
# What a tampered SQLite column can come back as, besides the usual text and NULL.
ODD = st.one_of(
    st.integers(-5, 5), st.floats(allow_nan=False), st.binary(max_size=3), st.booleans()
)


def reference(row: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    columns = {name: row.get(name) for name in chain.HASHED_COLUMNS}
    try:
        columns["fields"] = json.loads(str(row["fields"]))
        recomputed = chain.canonical_json(columns)
    except (ValueError, chain.CanonicalEncodingError):
        found.append(("payload", "stored columns cannot be encoded"))
        recomputed = None
    if recomputed is not None and recomputed != row["payload"]:
        differing = chain._differing_columns(str(row["payload"]), columns)
        message = "stored columns differ from the hashed payload"
        found.append(("payload", message + (f" ({', '.join(differing)})" if differing else "")))
    try:
        hashed = chain.chain_hash(str(row["prev_hash"]), str(row["payload"]), row["algorithm"])
    except chain.CanonicalEncodingError as exc:
        found.append(("hash", str(exc)))
    else:
        if hashed != row["entry_hash"]:
            found.append(("hash", "entry_hash does not match the hash of its payload"))
    return found


def checked(row: dict[str, Any]) -> list[tuple[str, str]]:
    values = tuple(row.get(name) for name in chain.PAYLOAD_ORDER)
    findings, _fields = chain.check_event(values, row["payload"], row["entry_hash"])
    assert all(f.seq == row["seq"] for f in findings)
    return [(f.check, f.message) for f in findings]


def sealed_row(columns: dict[str, Any], fields: Any) -> dict[str, Any]:
    record = dict(columns, fields=fields)
    done = chain.seal(record)
    return dict(
        columns,
        fields=chain.canonical_json(fields),
        payload=done.payload,
        entry_hash=done.entry_hash,
    )


def note_columns(**values: Any) -> dict[str, Any]:
    """The hashed columns of a plain first note event, with `values` changed."""
    columns: dict[str, Any] = {name: None for name in chain.HASHED_COLUMNS}
    columns.update(
        seq=1,
        kind="case",
        trigger="add_note",
        occurred_on="2026-01-05",
        recorded_at="t",
        actor="alice",
        algorithm="sha256",
        prev_hash=chain.GENESIS_HASH,
    )
    columns.update(values)
    return columns


NULLABLE = (
    "case_ref",
    "from_state",
    "to_state",
    "on_behalf_of",
    "role",
    "rationale",
    "workflow_id",
    "definition_hash",
)


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "seq": draw(st.integers(1, 10**6)),
        "kind": "case",
        "trigger": draw(TEXT),
        "occurred_on": "2026-01-05",
        "recorded_at": draw(TEXT),
        "actor": draw(TEXT),
        "algorithm": "sha256",
        "prev_hash": chain.GENESIS_HASH,
        "workflow_version": draw(st.none() | st.integers(0, 3)),
    }
    for name in NULLABLE:
        columns[name] = draw(st.none() | TEXT)
    fields = draw(
        st.dictionaries(TEXT, st.none() | st.integers() | TEXT | st.lists(TEXT), max_size=3)
    )
    row = sealed_row(columns, fields)
    # Then tamper, or not: a column's value or type, the payload, the fields text.
    how = draw(st.sampled_from(["none", "column", "odd", "payload", "fields", "both"]))
    # `seq` is the primary key: always an integer (verify_chain always relied on that).
    name = draw(st.sampled_from([n for n in chain.HASHED_COLUMNS if n != "seq"]))
    if how == "column":
        row[name] = draw(st.none() | TEXT)
    elif how == "odd" and name != "fields":
        row[name] = draw(ODD)
    elif how == "payload":
        text = row["payload"]
        at = draw(st.integers(0, len(text)))
        row["payload"] = (
            text[:at]
            + draw(st.sampled_from(['"', "\\", "\n", " ", "x", ""]))
            + text[at + draw(st.integers(0, 1)) :]
        )
    elif how == "fields":
        row["fields"] = draw(
            st.sampled_from(
                [
                    json.dumps(fields),
                    json.dumps(fields, sort_keys=True, indent=1),
                    "{broken",
                    '{"a":1.5}',
                    '{"a":NaN}',
                    "[1]",
                    '"text"',
                    "\ufeff{}",
                ]
            )
        )
    elif how == "both":
        # A value needing escaping, laid into the payload unescaped, hash recomputed:
        # only a full encoding tells that this payload is not canonical.
        row[name if name in NULLABLE else "rationale"] = draw(
            st.sampled_from(['say "no"', "back\\slash", "line\nbreak", "bell\x07"])
        )
        columns = {n: row[n] for n in chain.HASHED_COLUMNS if n != "fields"}
        laid = (
            "{"
            + ",".join(
                f'"{n}":'
                + (
                    row["fields"]
                    if n == "fields"
                    else "null"
                    if row[n] is None
                    else str(row[n])
                    if isinstance(row[n], int)
                    else f'"{row[n]}"'
                )
                for n in chain.PAYLOAD_ORDER
            )
            + "}"
        )
        row["payload"] = laid
        row["entry_hash"] = chain.chain_hash(row["prev_hash"], laid)
        del columns
    return row


@settings(max_examples=600, deadline=None)
@given(rows())
def test_check_event_finds_what_full_encoding_finds(row):
    assert checked(row) == reference(row)


def test_unescaped_quote_in_a_recomputed_payload_is_still_a_payload_finding():
    columns = note_columns(seq=7, recorded_at="2026-01-05T10:00:00.000000Z", rationale='a "b" c')
    row = sealed_row(columns, {})
    assert checked(row) == []
    # The same text laid in raw, and the hash recomputed to match it.
    row["payload"] = row["payload"].replace('\\"b\\"', '"b"')
    row["entry_hash"] = chain.chain_hash(chain.GENESIS_HASH, row["payload"])
    assert [check for check, _ in checked(row)] == ["payload"]


def test_whitespace_in_the_stored_fields_text_is_not_a_finding():
    """Only the decoded fields are hashed: a stored text with spaces in it verifies, as
    it always has (the write path never stores one)."""
    columns = note_columns()
    row = sealed_row(columns, {"note": "x", "a": [1, 2]})
    row["fields"] = json.dumps({"note": "x", "a": [1, 2]}, indent=2)
    assert checked(row) == reference(row) == []
    values = tuple(row.get(name) for name in chain.PAYLOAD_ORDER)
    assert chain.check_event(values, row["payload"], row["entry_hash"])[1] == {
        "note": "x",
        "a": [1, 2],
    }


def test_check_links_reports_gaps_links_and_head():
    rows = [(1, chain.GENESIS_HASH, "a" * 64), (2, "a" * 64, "b" * 64), (4, "x" * 64, "c" * 64)]
    findings, count, last = chain.check_links(rows, (4, "c" * 64))
    assert [(f.check, f.seq) for f in findings] == [("sequence", 4), ("link", 4), ("head", None)]
    assert (count, last) == (3, "c" * 64)


def test_merge_findings_puts_each_events_findings_in_check_order():
    merged = chain.merge_findings(
        [
            chain.Finding("head", "h"),
            chain.Finding("hash", "x", 3),
            chain.Finding("payload", "p", 3),
            chain.Finding("link", "l", 3),
            chain.Finding("sequence", "s", 5),
        ]
    )
    assert [(f.check, f.seq) for f in merged] == [
        ("link", 3),
        ("payload", 3),
        ("hash", 3),
        ("sequence", 5),
        ("head", None),
    ]


def test_a_prev_hash_that_is_not_hex_is_a_hash_finding_not_a_crash():
    """Found by CI (the property above): a tampered prev_hash holding non-ASCII text
    made `chain_hash` raise UnicodeEncodeError. It must hash, and mismatch."""
    columns = note_columns()
    row = sealed_row(columns, {})
    for odd in ("\x80", "é" * 64, "\ud800"):
        row["prev_hash"] = odd
        found = checked(row)
        assert found == reference(row)
        assert ("hash", "entry_hash does not match the hash of its payload") in found
        assert "payload" in {check for check, _ in found}
