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
    assert (
        "<title>Child safeguarding practice reviews: figures for 2025-26 "
        "(1 April 2025 to 31 March 2026)</title>" in dom
    )
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


# -- layout at any period length, labels and the printed pages -------------------------

PARTNERSHIP = "Northshire <Safeguarding> & Children's Partnership"
PERIODS = {
    "1 month": (dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
    "12 months": (dt.date(2025, 4, 1), dt.date(2026, 3, 31)),
    "36 months": (dt.date(2023, 4, 1), dt.date(2026, 3, 31)),
}
MEASURE = """
<script>
addEventListener('load', () => {
  const found = [];
  let labels = 0;
  for (const svg of document.querySelectorAll('svg.chart')) {
    const frame = svg.getBoundingClientRect();
    const boxes = [...svg.querySelectorAll('text.tick')].map(
      t => [t.textContent, t.getBoundingClientRect()]);
    labels += boxes.length;
    boxes.forEach(([text, b], i) => {
      if (b.left < frame.left - 0.5 || b.right > frame.right + 0.5) {
        found.push(`${text} leaves the chart`);
      }
      boxes.slice(i + 1).forEach(([other, c]) => {
        const w = Math.min(b.right, c.right) - Math.max(b.left, c.left);
        const h = Math.min(b.bottom, c.bottom) - Math.max(b.top, c.top);
        if (w > 1 && h > 1) found.push(`${text} overlaps ${other}`);
      });
    });
  }
  document.body.dataset.overlaps = JSON.stringify(found);
  document.body.dataset.labels = String(labels);
});
</script>
"""


@pytest.fixture(scope="module")
def named_world(tmp_path_factory):
    """The demonstration cases in a partnership whose name needs escaping everywhere."""
    chromium()
    from casereview.services import partnership

    folder = tmp_path_factory.mktemp("named")
    url = f"sqlite:///{folder / 'demo.db'}"
    demo.seed(url, "demo", TODAY)
    ctx = ServiceContext(url, "demo", FixedClock(TODAY))
    partnership.set_name(ctx, PARTNERSHIP)
    yield ctx, folder
    ctx.close()


def _page_for(named_world, length: str, *, detail: bool = False, measure: bool = False) -> Path:
    ctx, folder = named_world
    start, end = PERIODS[length]
    page = html.render(build_report(ctx, start=start, end=end), detail=detail)
    if measure:
        page = page.replace("</body>", MEASURE + "</body>")
    target = folder / f"{length.replace(' ', '-')}{'-detail' if detail else ''}.html"
    target.write_text(page, encoding="utf-8")
    return target


@pytest.mark.parametrize("length", list(PERIODS))
@pytest.mark.parametrize("window", ["1280,2000", "720,2000"])
def test_no_axis_label_overlaps_another_at_any_period_length(named_world, tmp_path, length, window):
    page = _page_for(named_world, length, measure=True)
    result = run_chromium(
        tmp_path, "--dump-dom", "--virtual-time-budget=5000", f"--window-size={window}",
        page.as_uri(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    labels = re.search(r'data-labels="(\d+)"', result.stdout)
    overlaps = re.search(r'data-overlaps="([^"]*)"', result.stdout)
    assert labels and overlaps, "the measuring script did not run"
    assert int(labels.group(1)) >= 3  # month axis (and quarters) labelled
    assert html_unescape(overlaps.group(1)) == "[]"


def html_unescape(text: str) -> str:
    import html as stdlib_html

    return stdlib_html.unescape(text)


@pytest.mark.parametrize("length", list(PERIODS))
def test_the_page_shows_labels_not_internal_ids(named_world, length):
    ctx, _ = named_world
    page = _page_for(named_world, length, detail=True).read_text(encoding="utf-8")
    body = page.split("<body>", 1)[1]
    visible_text = html_unescape(re.sub(r"<[^>]+>", " ", body))
    report = build_report(ctx, start=PERIODS[length][0], end=PERIODS[length][1])
    for figure in report.figures:
        assert figure.id not in visible_text, figure.id
    for state_id in report.state_labels:
        if "_" in state_id:
            assert state_id not in visible_text, state_id
    # Each open case's heading names its state by the workflow's label.
    for case in report.timeline:
        if case.closed_on is None:
            assert f"{case.pseudonym} · {report.state_labels[case.state_at_end]}" in visible_text
    # The partnership and the period head the page, escaped.
    assert "<title>Northshire &lt;Safeguarding&gt; &amp; Children&#x27;s Partnership · " in page
    start = PERIODS[length][0]
    assert f"{start.day} {html.MONTHS[start.month - 1]} {start.year} to " in page


def _pdf_pages_text(data: bytes) -> list[str]:
    """The text drawn on each page of a PDF that headless Chromium printed: each page's
    content stream, its glyph codes read through the ToUnicode map of the font each
    `Tf` selects (from the page's font resources)."""
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}

    def stream(number: int) -> bytes:
        head, _, rest = objects[number].partition(b"stream")
        raw = rest.lstrip(b"\r\n").rsplit(b"endstream", 1)[0]
        return zlib.decompress(raw) if b"FlateDecode" in head else raw

    def unicode_map(number: int) -> dict[str, str]:
        text, found = stream(number).decode("latin-1"), {}
        for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
            for code, uni in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                found[code.upper()] = bytes.fromhex(uni).decode("utf-16-be")
        for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
            for lo, hi, uni in re.findall(
                r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
            ):
                first = int.from_bytes(bytes.fromhex(uni), "big")
                for offset in range(int(hi, 16) - int(lo, 16) + 1):
                    code = f"{int(lo, 16) + offset:0{len(lo)}X}"
                    found[code] = chr(first + offset)
        return found

    fonts: dict[int, dict[str, str]] = {}
    pages = []
    for body in objects.values():
        if not re.search(rb"/Type\s*/Page\b", body):
            continue
        contents = re.search(rb"/Contents\s+(\d+)\s+0\s+R", body)
        assert contents, "a page without its content stream"
        names = {
            name.decode(): int(ref) for name, ref in re.findall(rb"/(F\d+)\s+(\d+)\s+0\s+R", body)
        }
        current: dict[str, str] = {}
        text = []
        drawn = stream(int(contents.group(1))).decode("latin-1")
        for font, hexes in re.findall(r"/(F\d+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]+)>\s*Tj", drawn):
            if font:
                ref = names[font]
                if ref not in fonts:
                    to_unicode = re.search(rb"/ToUnicode\s+(\d+)\s+0\s+R", objects[ref])
                    fonts[ref] = unicode_map(int(to_unicode.group(1))) if to_unicode else {}
                current = fonts[ref]
                continue
            codes = hexes.upper()
            text.append(
                "".join(current.get(codes[i : i + 4], "?") for i in range(0, len(codes), 4))
            )
        pages.append("".join(text))
    return pages


def test_every_printed_page_names_the_partnership_and_the_period(named_world, tmp_path):
    page = _page_for(named_world, "36 months", detail=True)
    pdf = tmp_path / "report.pdf"
    result = run_chromium(
        tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()
    )
    assert pdf.exists(), result.stderr[-2000:]
    pages = _pdf_pages_text(pdf.read_bytes())
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        flat = text.replace(" ", "")
        assert PARTNERSHIP.replace(" ", "") in flat, (number, text[:200])
        assert "1April2023to31March2026" in flat, (number, text[:200])
        assert f"Page{number}of{len(pages)}" in flat, (number, text[-200:])
