"""The rule reference in docs/ is the generated one, and names every registered rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from eln_msc_plugin.docgen import builtin_rules_markdown, main, rule_section
from eln_msc_plugin.plugins import default_ruleset, get_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
RULES_MD = ROOT / "docs" / "rules.md"
REGENERATE = "python -m eln_msc_plugin.docgen rules > docs/rules.md"


def test_rules_md_is_the_generated_text() -> None:
    assert RULES_MD.read_text(encoding="utf-8") == builtin_rules_markdown(), f"docs/rules.md is stale: run {REGENERATE}"


def test_every_rule_has_a_section_with_its_thresholds() -> None:
    text = RULES_MD.read_text(encoding="utf-8")
    ruleset = default_ruleset(get_plugin_manager(load_entry_points=False))
    for rule in ruleset.rules:
        assert f"## `{rule.id}`" in text, f"{rule.id} is missing from docs/rules.md"
        for values in rule.thresholds.values():
            for name in values:
                assert f"| `{name}` |" in text


def test_threshold_table_shows_off_and_not_applying() -> None:
    ruleset = default_ruleset(get_plugin_manager(load_entry_points=False))
    rules = {r.id: r for r in ruleset.rules}
    pdl = "\n".join(rule_section(rules["pdl.limit"]))
    assert "| `fail_above` | 12 | 12 | off |" in pdl
    required = "\n".join(rule_section(rules["assay.required"]))
    assert "| `missing` | `fail` | `warn` | — |" in required


def test_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "eln_msc_plugin.docgen", "rules"], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout == builtin_rules_markdown()
    assert main(["nonsense"]) == 2


def test_policies_md_names_every_key() -> None:
    text = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    for needle in ("[policy]", "enabled", "[severity.", "[[waivers]]", "expires", "approved_by", '"off"',
                   "ruleset_with_policy", "load_policy"):
        assert needle in text, needle
