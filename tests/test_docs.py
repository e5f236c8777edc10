"""The prose docs hold together: every relative link resolves, every page under docs/ is linked from somewhere,
and the files the examples' README names are in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", ROOT / "examples" / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _links(page: Path) -> list[str]:
    return [target for target in LINK.findall(page.read_text(encoding="utf-8"))
            if not re.match(r"^[a-z]+:|^#", target)]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    broken = [t for t in _links(page) if not (page.parent / t.split("#")[0]).exists()]
    assert broken == [], f"{page.relative_to(ROOT)} links to missing files"


DOCS = sorted((ROOT / "docs").rglob("*.md"))


@pytest.mark.parametrize("doc", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_doc_is_linked_from_another_page(doc: Path) -> None:
    linked_from = [p for p in PAGES if p != doc
                   and any((p.parent / t.split("#")[0]).resolve() == doc.resolve() for t in _links(p))]
    assert linked_from, f"{doc.relative_to(ROOT)} is linked from no page: a reader cannot find it"


def test_the_examples_readme_names_files_that_exist() -> None:
    text = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    named = re.findall(r"`([^`\s]+\.(?:json|jsonl|xml|xsd|md|toml))`", text)
    assert len(named) >= 8
    missing = [n for n in named if not (ROOT / "examples" / n).exists() and not (ROOT / n).exists()]
    assert missing == [], "examples/README.md names files that are not in the repository"
