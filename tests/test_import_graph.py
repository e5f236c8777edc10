"""The adapter boundary, proved on the import graph: nothing outside an ELN's package imports it.

Every module of the package is parsed (AST, nothing is imported) and each import statement, including
imports inside functions, is checked: `kadi` (Kadi4Mat itself) and `eln_msc_plugin.kadi` only from inside
`eln_msc_plugin/kadi/`, and likewise for every other adapter package. The hosts find adapters by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "eln_msc_plugin"
ADAPTERS = {"kadi": ("kadi", "eln_msc_plugin.kadi"),
            "elabftw": ("eln_msc_plugin.elabftw",),
            "benchling": ("benchling_sdk", "benchling_api_client", "eln_msc_plugin.benchling")}


def imports(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """Every module `path` imports, absolute (relative imports resolved against the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _inside(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(adapter: str, root: Path = PACKAGE) -> list[str]:
    own = root / adapter
    found = []
    for path in sorted(root.rglob("*.py")):
        if own in path.parents:
            continue
        for line, module in imports(path, root):
            if any(_inside(module, prefix) for prefix in ADAPTERS[adapter]):
                found.append(f"{path.relative_to(root.parent)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("adapter", sorted(ADAPTERS), ids=sorted(ADAPTERS))
def test_nothing_outside_an_adapter_package_imports_it(adapter: str) -> None:
    assert violations(adapter) == []


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    """The checker itself can fail: a host module that imports Kadi in a function is caught."""
    root = tmp_path / "eln_msc_plugin"
    (root / "eln").mkdir(parents=True)
    (root / "kadi").mkdir()
    (root / "kadi" / "adapter.py").write_text("import kadi\n", encoding="utf-8")  # inside: allowed
    (root / "eln" / "probe.py").write_text("def f():\n    from ..kadi import adapter\n    import kadi.ext\n",
                                          encoding="utf-8")
    assert violations("kadi", root) == ["eln_msc_plugin/eln/probe.py:2 imports eln_msc_plugin.kadi",
                                        "eln_msc_plugin/eln/probe.py:2 imports eln_msc_plugin.kadi.adapter",
                                        "eln_msc_plugin/eln/probe.py:3 imports kadi.ext"]


def _module_path(module: str, root: Path = PACKAGE) -> Path | None:
    parts = module.split(".")
    if parts[0] != root.name:
        return None
    base = root.parent.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def reachable(start: list[str], root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package that importing `start` imports, directly or not (by the AST)."""
    seen: dict[str, Path] = {}
    todo = list(start)
    while todo:
        module = todo.pop()
        path = _module_path(module, root)
        if path is None or module in seen:
            continue
        seen[module] = path
        todo += [name for _, name in imports(path, root)]
    return seen


def test_the_kadi_adapter_side_imports_neither_kadi_nor_the_on_save_host() -> None:
    """What the adapter and its registration import runs anywhere: no Kadi, no Kadi plugin (the on-save host)."""
    side = reachable(["eln_msc_plugin.kadi.eln", "eln_msc_plugin.kadi.adapter"])
    assert "eln_msc_plugin.kadi.write" in side and "eln_msc_plugin.eln.judge" not in side
    for module, path in side.items():
        for line, imported in imports(path):
            assert not _inside(imported, "eln_msc_plugin.kadi.plugin"), f"{module}:{line} imports the on-save host"
            assert not _inside(imported, "kadi"), f"{module}:{line} imports Kadi4Mat"
