"""`casereview workflow diff`: ids, `id@version` and files; text for people, JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml"


def _second_version(tmp_path: Path) -> Path:
    text = MINIMAL.read_text().replace("version = 1", "version = 2", 1)
    done = '[[states]]\nid = "done"'
    text = text.replace(done, '[[states]]\nid = "parked"\nlabel = "Parked"\n\n' + done)
    finish = 'from = ["signoff"]\nto = "done"'
    text = text.replace(finish, 'from = ["signoff", "parked"]\nto = "done"')
    path = tmp_path / "minimal-2.toml"
    path.write_text(text)
    return path


def test_an_installed_version_against_itself_has_no_differences(cli):
    result = cli("workflow", "diff", "england-lcspr", "england-lcspr@2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "england-lcspr v2 → england-lcspr v2: no differences"


def test_text_lists_each_section_with_marks(cli, tmp_path):
    result = cli("workflow", "diff", str(MINIMAL), str(_second_version(tmp_path)))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "minimal v1 → minimal v2: 1 added, 0 removed, 1 changed"
    assert lines[1:] == [
        "states",
        "  + parked  Parked",
        "triggers",
        "  ~ finish",
        "      from: + parked",
    ]


def test_json_has_stable_keys(cli, tmp_path):
    result = cli("workflow", "diff", str(MINIMAL), str(_second_version(tmp_path)), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["before"], data["after"]) == ("minimal v1", "minimal v2")
    assert data["changes"] == [
        {
            "section": "states",
            "item": "parked",
            "change": "added",
            "label": "Parked",
            "attributes": [],
        },
        {
            "section": "triggers",
            "item": "finish",
            "change": "changed",
            "label": None,
            "attributes": [{"name": "from", "before": ["signoff"], "after": ["signoff", "parked"]}],
        },
    ]


def test_a_version_that_is_no_number_is_one_error_line(cli):
    result = cli("workflow", "diff", "england-lcspr@one", "england-lcspr")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: england-lcspr@one is not a workflow version: write the id, '@' and a "
        "version number (e.g. england-lcspr@1)"
    ]


def test_a_version_not_installed_is_not_found(cli):
    result = cli("workflow", "diff", "england-lcspr@9", "england-lcspr")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: no file of workflow england-lcspr v9 was found")
    assert "Traceback" not in result.stderr
