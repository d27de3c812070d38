"""Rebuild the vendored GOV.UK Frontend under src/casereview/web/static/.

    python scripts/vendor_govuk_frontend.py

Needs `npm` (Node.js 18 or later) and the npm registry. In a temporary folder it installs
govuk-frontend (the version govuk-frontend-jinja's macros are written for) and the Dart
Sass compiler, compiles govuk-frontend's Sass with the partnership's fonts (Arial, no
@font-face: the GDS Transport typeface is for GOV.UK only) and with no image (the only
image the styles name is the Royal crest of the footer's Crown-copyright logo, which is
for GOV.UK only and which the layout does not show: the build fails if any other image
is asked for), and writes:

    govuk-frontend.min.css   the compiled styles
    govuk-frontend.min.js    govuk-frontend's own ES module, without its source-map line

The licence (LICENCE) and README beside them are written by hand; the README names the
versions below and this command. Nothing from node_modules is kept.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

GOVUK_FRONTEND = "6.3.0"  # govuk-frontend-jinja 4.1.0 is written for GOV.UK Frontend 6.3.0
SASS = "1.108.2"
STATIC = Path(__file__).resolve().parent.parent / "src" / "casereview" / "web" / "static"

# A module of its own, because Sass allows no function before the `@use ... with`.
NO_IMAGES = """\
@use "sass:string";

// The footer's copyright logo is the only rule that names an image (the Royal crest);
// casereview never shows that logo, so it gets none. Any other image fails the build.
@function image-url($filename) {
  @if $filename != "govuk-crest.svg" {
    @error "GOV.UK Frontend asked for the image #{$filename}: vendor it or leave it out";
  }
  @return none;
}
"""

ENTRY = """\
@use "sass:meta";
@use "no-images";
@use "govuk-frontend/dist/govuk" with (
  $govuk-font-family: (arial, sans-serif),
  $govuk-include-default-font-face: false,
  $govuk-image-url-function: meta.get-function("image-url", $module: "no-images")
);
"""


def run(*command: str, cwd: Path) -> None:
    print("+", " ".join(command), file=sys.stderr)
    subprocess.run(command, cwd=cwd, check=True)


def build(work: Path) -> tuple[str, str]:
    """The compiled CSS and the module JS, built in `work`."""
    (work / "package.json").write_text(json.dumps({"private": True}), encoding="utf-8")
    run(
        "npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact",
        f"govuk-frontend@{GOVUK_FRONTEND}", f"sass@{SASS}",
        cwd=work,
    )  # fmt: skip
    (work / "_no-images.scss").write_text(NO_IMAGES, encoding="utf-8")
    (work / "casereview.scss").write_text(ENTRY, encoding="utf-8")
    run(
        str(work / "node_modules" / ".bin" / "sass"),
        "--style=compressed", "--no-source-map", "--quiet-deps",
        "--load-path=node_modules", "casereview.scss", "out.css",
        cwd=work,
    )  # fmt: skip
    css = (work / "out.css").read_text(encoding="utf-8")
    dist = work / "node_modules" / "govuk-frontend" / "dist" / "govuk"
    js = (dist / "govuk-frontend.min.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S*\s*$", "", js).rstrip() + "\n"
    check(css, js)
    return css, js


def check(css: str, js: str) -> None:
    """What the README promises of the built files."""
    for banned in ("GDS Transport", "@font-face", "govuk-crest", "/assets/"):
        if banned in css:
            raise SystemExit(f"the built CSS still names {banned!r}")
    if "arial" not in css:
        raise SystemExit("the built CSS does not use Arial")
    if f'version="{GOVUK_FRONTEND}"' not in js or "initAll" not in js:
        raise SystemExit("govuk-frontend.min.js is not the expected ES module")


def main() -> None:
    if shutil.which("npm") is None:
        raise SystemExit("npm is missing: install Node.js (Debian: apt-get install npm)")
    with tempfile.TemporaryDirectory(prefix="govuk-frontend-") as folder:
        css, js = build(Path(folder))
    STATIC.mkdir(parents=True, exist_ok=True)
    (STATIC / "govuk-frontend.min.css").write_text(css, encoding="utf-8")
    (STATIC / "govuk-frontend.min.js").write_text(js, encoding="utf-8")
    print(f"wrote govuk-frontend {GOVUK_FRONTEND} to {STATIC}", file=sys.stderr)


if __name__ == "__main__":
    main()
