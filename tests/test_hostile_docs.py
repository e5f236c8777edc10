"""docs/security.md says what the code does: its table of limits is the one the code generates, and every
limit of the code is in it, so the two cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from eln_msc_plugin import limits

ROOT = Path(__file__).resolve().parent.parent
SECURITY_MD = ROOT / "docs" / "security.md"
SECTION = re.compile(r"<!-- limits: generated[^\n]*-->\n(.*?)<!-- limits: end -->", re.DOTALL)


def test_the_limits_table_of_security_md_is_the_generated_one() -> None:
    found = SECTION.search(SECURITY_MD.read_text(encoding="utf-8"))
    assert found is not None, "docs/security.md lost its generated limits section"
    assert found.group(1) == limits.limits_markdown(), (
        "docs/security.md is stale: paste the output of python -c 'from eln_msc_plugin.limits import "
        "limits_markdown; print(limits_markdown(), end=\"\")' between its limits markers")


def test_every_limit_of_the_code_is_in_the_table_with_its_value() -> None:
    constants = {name: value for name, value in vars(limits).items()
                 if re.fullmatch(r"(MAX|FOLD)_[A-Z_]+", name) and isinstance(value, int)}
    assert {name: value for name, value, _ in limits.TABLE} == constants


def test_every_limit_named_in_security_md_exists() -> None:
    named = set(re.findall(r"`((?:MAX|FOLD)_[A-Z_]+)`", SECURITY_MD.read_text(encoding="utf-8")))
    assert named and named <= {name for name, _, _ in limits.TABLE}


def test_the_readme_points_to_security_md() -> None:
    assert "docs/security.md" in (ROOT / "README.md").read_text(encoding="utf-8")
