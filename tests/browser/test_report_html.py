"""The HTML report in a real browser: headless Chromium renders it to a PNG (decoded here
with the standard library), dumps its DOM, and prints it to PDF.

Needs the Debian package `chromium` (/usr/bin/chromium). Without it the test is skipped
on a developer's machine but fails in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from casereview.formats.report import as_html as html
from casereview.infra.now import FixedClock
from casereview.services import cases, demo
from casereview.services.context import ServiceContext
from casereview.services.report import build_report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
TODAY = dt.date(2026, 2, 16)
SCRIPT = "<script>document.title='pwned'</script>"
ON_TIME_GREEN = (0x1B, 0x7F, 0x5B)
LATE_ORANGE = (0xC2, 0x41, 0x0C)


def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    message = f"{CHROMIUM} is missing: install the Debian package 'chromium'"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI must run the browser tests)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """The demonstration cases plus one pseudonym that is an HTML script, as a report."""
    browser = chromium()
    assert browser.exists()
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'demo.db'}"
    demo.seed(url, "demo", TODAY)
    ctx = ServiceContext(url, "demo", FixedClock(TODAY))
    cases.open_case(ctx, "2026-099", aware_on=TODAY, pseudonym=SCRIPT)
    report = build_report(ctx, year=2025)
    ctx.close()
    target = folder / "report.html"
    target.write_text(html.render(report, detail=False), encoding="utf-8")
    return target


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    command = [
        str(chromium()),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    env = {**os.environ, "HOME": str(tmp_path)}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=180, env=env, check=False
    )


def decode_png(data: bytes) -> tuple[int, int, set[tuple[int, ...]]]:
    """Width, height and the set of distinct pixel colours of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
    assert header is not None
    width, height, depth, colour_type, _, _, interlace = header
    assert (depth, interlace) == (8, 0) and colour_type in (2, 6), header
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    previous = bytearray(stride)
    colours: set[tuple[int, ...]] = set()
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:
            row = bytearray((a + b) & 0xFF for a, b in zip(row, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
                row[i] = (row[i] + predictor) & 0xFF
        colours.update(tuple(row[i : i + 3]) for i in range(0, stride, bpp))
        previous = row
    return width, height, colours


def test_page_renders_with_charts(page, tmp_path):
    shot = tmp_path / "report.png"
    result = run_chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()
    )
    assert shot.exists(), result.stderr[-2000:]
    width, height, colours = decode_png(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    # A blank page has one colour; text, cards and charts give hundreds.
    assert len(colours) > 100, f"only {len(colours)} colours: the page looks blank"
    # The rapid review chart's bars are drawn in exactly these colours.
    assert ON_TIME_GREEN in colours
    assert LATE_ORANGE in colours


def test_dom_holds_the_svg_charts_and_no_script(page, tmp_path):
    result = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert dom.count('<svg class="chart chart-quarters"') == 1
    assert dom.count('<svg class="chart chart-timeline"') >= 1
    assert "<rect" in dom
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<title>Child safeguarding practice reviews: figures for 2025-26</title>" in dom
    # Every case open in the period is drawn, the escaped one included.
    for pseudonym in ("Child A", "Child M", "&lt;script&gt;"):
        assert re.search(rf'<g class="case"><text[^>]*>{re.escape(pseudonym)}', dom), pseudonym


def test_prints_to_a4_pdf(page, tmp_path):
    pdf = tmp_path / "report.pdf"
    result = run_chromium(
        tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()
    )
    assert pdf.exists(), result.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = {
        tuple(round(float(n)) for n in box.split()[2:])
        for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)
        for box in [box.decode()]
    }
    assert boxes == {(595, 842)}  # A4 portrait, in points, from the page's @page rule
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert pages >= 2
