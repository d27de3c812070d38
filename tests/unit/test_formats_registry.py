"""The one list of decision-log formats: what the CLI offers, what the export writes and
what verification recognises all come from `formats.registry`."""

from __future__ import annotations

import io

import pytest

from casereview.cli.log import LogFormat
from casereview.formats import registry


def test_the_formats_in_order_the_default_first():
    assert registry.NAMES == ("csv", "json", "md")
    assert [f.suffix for f in registry.DECISION_LOG_FORMATS] == [".csv", ".json", ".md"]
    assert [f.media_type for f in registry.DECISION_LOG_FORMATS] == [
        "text/csv",
        "application/json",
        "text/markdown",
    ]


def test_the_command_line_offers_the_registry_s_formats():
    assert [f.value for f in LogFormat] == list(registry.NAMES)


@pytest.mark.parametrize("fmt", registry.DECISION_LOG_FORMATS, ids=lambda f: f.name)
def test_a_file_written_in_a_format_is_recognised_and_read_as_that_format(fmt):
    from casereview.formats.decision_log.records import ExportMeta

    codec = fmt.codec()
    assert (codec.lines is not None) == fmt.lines
    sink = io.BytesIO()
    writer = codec.writer(sink)
    meta = ExportMeta(
        format=fmt.name,
        generator="casereview 0.1.0",
        created_at="2026-11-23T12:00:00.000000Z",
        chain_head_seq=0,
        chain_head_hash="ab" * 32,
        case=None,
        date_from=None,
        date_to=None,
        include_personal=False,
        personal_fields=(),
        event_count=0,
        case_count=0,
        workflows=(),
    )
    writer.begin(meta)
    writer.finish()
    data = sink.getvalue()
    assert data.startswith(codec.starts_with)
    assert registry.detect(data) is fmt
    assert codec.reader(data).format == fmt.name


def test_only_line_formats_lay_out_events_as_lines():
    assert registry.event_text("csv") is registry.DECISION_LOG_FORMATS[0].codec().lines.event_text
    with pytest.raises(KeyError):
        registry.event_text("md")
    with pytest.raises(KeyError):
        registry.event_text("xlsx")
    assert registry.decision_log_format("xlsx") is None
    assert registry.detect(b"hello") is None
