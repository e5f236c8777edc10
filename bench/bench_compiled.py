"""What compiled code would give: the engine and the rule pack built with mypyc, then timed by bench_core.

Not a test, and not how the plugin ships (pure Python, installed into the ELN's own environment). Run
from the repository root with the dev extra installed (mypy brings mypyc) and a C compiler:

    python3 bench/bench_compiled.py --records 50000 --skip-memory --breakdown

Copies the working tree to a temporary directory and compiles the modules in COMPILED there. pluggy
marks a hook implementation by setting an attribute on the function, which a compiled function does
not take, so each compiled module's hooks move into a small uncompiled module beside it. The
`schema` rule's fast check, which the plugin generates at start-up with `exec`, is written out as a
module (`_fast_schema.py`) and compiled too. The arguments are handed to bench/bench_core.py, run in
the copy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPILED = ("rules", "model", "pipeline", "formats/common", "formats/json_format", "rulepack/numbers",
            "rulepack/dates", "rulepack/lineage", "rulepack/metrics",
            "rulepack/passage", "rulepack/pdl", "rulepack/growth", "rulepack/chronology", "rulepack/senescence",
            "rulepack/assays", "rulepack/schema_rule", "formats/xml_format", "formats/xml_convert",
            "formats/json_stream")
# a hook implementation of one parameter (every hook of the built-in plugins takes one)
HOOK = re.compile(r"^@hookimpl(?:\((?P<opts>[^)]*)\))?\ndef (?P<name>eln_msc_\w+)\((?P<param>\w+):", re.MULTILINE)


def move_hooks(package: Path, module: str) -> str | None:
    """Rename the module's hook implementations and write `<module>_hooks.py` that calls them; its name."""
    path = package / f"{module}.py"
    text = path.read_text(encoding="utf-8")
    hooks = list(HOOK.finditer(text))
    if not hooks:
        return None
    dotted = "eln_msc_plugin." + module.replace("/", ".")
    lines = ["from eln_msc_plugin.hookspecs import hookimpl", f"import {dotted} as compiled", ""]
    for hook in hooks:
        opts = f"({hook['opts']})" if hook["opts"] else ""
        lines += [f"@hookimpl{opts}", f"def {hook['name']}({hook['param']}):",
                  f"    return compiled._compiled_{hook['name']}({hook['param']})", ""]
    path.write_text(HOOK.sub(lambda m: f"def _compiled_{m['name']}({m['param']}:", text), encoding="utf-8")
    (package / f"{module}_hooks.py").write_text("\n".join(lines), encoding="utf-8")
    return dotted


def write_fast_schema(package: Path) -> None:
    """The compiled schema check as a module of its own, and `schema.fast_check` returning it."""
    sys.path.insert(0, str(package.parent))
    from eln_msc_plugin import schema

    compiler = schema._Compiler(schema.load_schema())
    entry = compiler.function(compiler.root)
    matchers = {matches: shape for shape, (_, matches) in compiler.patterns.items()}
    lines = ["import re", "from typing import Any", "", "from eln_msc_plugin.schema import FORMATS, _matcher", ""]
    for name, value in compiler.consts.items():
        if name in matchers:
            pattern, form = matchers[name]
            lines.append(f"{name} = _matcher(re.compile({pattern!r}), FORMATS.get({form or ''!r}))")
        elif isinstance(value, set) and not value:
            lines.append(f"{name}: set[str] = set()")  # a matcher's memory of matching texts
        else:
            lines.append(f"{name} = {value!r}")
    functions = [re.sub(r"^def (f\d+)\(v, unk\):$", r"def \1(v: Any, unk: list[Any]) -> bool:", line)
                 for line in compiler.lines]
    (package / "_fast_schema.py").write_text("\n".join([*lines, "", *functions, f"ENTRY = {entry}", ""]),
                                             encoding="utf-8")
    path = package / "schema.py"
    text = path.read_text(encoding="utf-8")
    generated = "    return _Compiler(load_schema()).compile()\n"
    assert generated in text, "schema.fast_check changed: update bench_compiled.py"
    path.write_text(text.replace(generated, "    from eln_msc_plugin._fast_schema import ENTRY\n\n    return ENTRY\n"),
                    encoding="utf-8")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "tree"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", ".stack", "out", "build",
                                                                  "__pycache__", "*.so"))
        package = copy / "eln_msc_plugin"
        shutil.copytree(copy / "schemas", package / "schemas", dirs_exist_ok=True)  # as the wheel maps it
        plugins = package / "plugins.py"
        text = plugins.read_text(encoding="utf-8")
        for module in COMPILED:
            dotted = move_hooks(package, module)
            if dotted is not None:
                text = text.replace(f'"{dotted}",', f'"{dotted}_hooks",')
        plugins.write_text(text, encoding="utf-8")
        write_fast_schema(package)
        sources = [str(package / f"{module}.py") for module in (*COMPILED, "_fast_schema")]
        built = subprocess.run([sys.executable, "-m", "mypyc", *sources], cwd=copy, capture_output=True, text=True)
        if built.returncode != 0:
            print(built.stdout[-4000:], built.stderr[-4000:], sep="\n")
            return built.returncode
        print(f"compiled with mypyc: {', '.join(COMPILED)}, _fast_schema", flush=True)
        code = subprocess.run([sys.executable, "bench/bench_core.py", *sys.argv[1:]], cwd=copy).returncode
        (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
        for result in (copy / "bench" / "out").glob("*.json"):
            shutil.copy(result, ROOT / "bench" / "out" / f"compiled-{result.name}")
        return code


if __name__ == "__main__":
    sys.exit(main())
