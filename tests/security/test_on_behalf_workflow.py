"""The `on_behalf` rules in a workflow file: validated with the file and trigger named,
linted for a rule that would let one agency sign for another, and declared by both
shipped workflows so that a partner signs only for their own agency."""

from __future__ import annotations

from pathlib import Path

import pytest

from casereview.domain.workflow.loader import load_path

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml"
SHIPPED = sorted((ROOT / "workflows").glob("*.toml"))
CHILDREN = ("england-lcspr.toml", "scr-transitional.toml")  # the partners' sign-off rounds


def with_rules(tmp_path: Path, trigger: str, rules: str, name: str = "wf.toml") -> Path:
    text = MINIMAL.read_text()
    head = f'[[triggers]]\nid = "{trigger}"\n'
    assert head in text
    path = tmp_path / name
    path.write_text(text.replace(head, head + f"on_behalf = [{rules}]\n"))
    return path


@pytest.mark.parametrize(
    ("trigger", "rules", "problem"),
    [
        (
            "decide",
            '{ by = ["clark"] }',
            "trigger 'decide': on_behalf rule 1: 'by' names an unknown role 'clark' "
            "(did you mean 'clerk'?)",
        ),
        (
            "decide",
            '{ by = ["clerk"], for = ["clerk"] }',
            "trigger 'decide': on_behalf rule 1: 'for' names 'clerk', which is not one of "
            "the trigger's roles (decider)",
        ),
        (
            "decide",
            '{ by = ["clerk"], same_agency = true }',
            "trigger 'decide': on_behalf rule 1: same_agency = true, but 'by' role 'clerk' "
            "acts for no agency",
        ),
        (
            "decide",
            "{ by = [] }",
            "trigger 'decide': on_behalf rule 1: key 'by': must not be empty",
        ),
        (
            "decide",
            '{ by = ["clerk"], who = ["x"] }',
            "trigger 'decide': on_behalf rule 1: unknown key 'who' (allowed: by, for, same_agency)",
        ),
    ],
)
def test_bad_rules_are_refused_naming_file_and_trigger(tmp_path, cli, trigger, rules, problem):
    path = with_rules(tmp_path, trigger, rules)
    result = cli("workflow", "validate", str(path))
    assert result.exit_code == 5, result.stdout + result.stderr
    out = " ".join((result.stdout + result.stderr).split())
    assert "Traceback" not in out
    assert f"{path}: {problem}" in out


def test_the_retired_role_flag_says_what_replaced_it(tmp_path, cli):
    text = MINIMAL.read_text().replace(
        'id = "clerk"\nlabel = "Clerk"\n',
        'id = "clerk"\nlabel = "Clerk"\nrecords_on_behalf = true\n',
    )
    path = tmp_path / "old.toml"
    path.write_text(text)
    result = cli("workflow", "validate", str(path))
    assert result.exit_code == 5
    out = " ".join((result.stdout + result.stderr).split())
    assert "role 'clerk': unknown key 'records_on_behalf'" in out
    assert "replaced by each trigger's on_behalf rules" in out


def test_lint_finds_a_rule_that_lets_one_agency_sign_for_another(tmp_path, cli):
    path = with_rules(tmp_path, "sign", '{ by = ["signer"] }')
    assert cli("workflow", "validate", str(path)).exit_code == 0
    result = cli("workflow", "lint", str(path))
    assert result.exit_code != 0
    assert (
        "trigger 'sign': on_behalf rule 1 lets a 'signer' record the sign-off of a 'signer' "
        "of another agency, so one agency could sign for the others; add same_agency = true"
    ) in " ".join(result.stdout.split())
    fixed = with_rules(tmp_path, "sign", '{ by = ["signer"], same_agency = true }', "ok.toml")
    assert cli("workflow", "lint", str(fixed)).exit_code == 0


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_workflows_keep_each_partner_to_their_own_agency(path, cli):
    definition = load_path(path)
    if path.name in CHILDREN:
        sign_off = definition.trigger("sign_off")
        rules = {
            (rule.by, rule.for_roles(sign_off), rule.same_agency) for rule in sign_off.on_behalf
        }
        assert rules == {
            (("business_unit",), ("partner",), False),
            (("partner",), ("partner",), True),
        }
    # No rule lets someone who acts for an agency sign for another agency.
    for trigger in definition.triggers:
        for rule in trigger.on_behalf if trigger.signs else ():
            by_agency = [r for r in rule.by if definition.role(r).has_agency]
            if by_agency and not rule.same_agency:
                assert not [r for r in rule.for_roles(trigger) if definition.role(r).has_agency], (
                    trigger.id
                )
    # Every trigger says who may record it for someone else; the chair's may be keyed by
    # the business unit.
    for trigger in definition.triggers:
        assert trigger.on_behalf, trigger.id
        if trigger.roles == ("chair",):
            assert any("business_unit" in rule.by for rule in trigger.on_behalf), trigger.id
    assert cli("workflow", "lint", str(path)).exit_code == 0
