"""What compiled code would give: the engine and the rule pack built with mypyc, then timed by bench_core.

Not a test, and not how the plugin ships (pure Python, installed into the ELN's own environment). Run
from the repository root with the dev extra installed (mypy brings mypyc) and a C compiler:

    python3 bench/bench_compiled.py --records 50000 --skip-memory --breakdown

Copies the working tree to a temporary directory and compiles the modules in COMPILED there. pluggy
marks a hook implementation by setting an attribute on the function, which a compiled function does
not take, so each compiled module's hooks move into a small uncompiled module beside it. The
`schema` rule's fast check is generated at start-up with `exec` and stays interpreted. The arguments
are handed to bench/bench_core.py, run in the copy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPILED = ("rules", "model", "pipeline", "formats/common", "formats/json_format", "rulepack/derived",
            "rulepack/passage", "rulepack/pdl", "rulepack/growth", "rulepack/chronology", "rulepack/senescence",
            "rulepack/assays", "rulepack/schema_rule", "formats/xml_format")
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
        sources = [str(package / f"{module}.py") for module in COMPILED]
        built = subprocess.run([sys.executable, "-m", "mypyc", *sources], cwd=copy, capture_output=True, text=True)
        if built.returncode != 0:
            print(built.stdout[-4000:], built.stderr[-4000:], sep="\n")
            return built.returncode
        print(f"compiled with mypyc: {', '.join(COMPILED)}", flush=True)
        code = subprocess.run([sys.executable, "bench/bench_core.py", *sys.argv[1:]], cwd=copy).returncode
        (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
        for result in (copy / "bench" / "out").glob("*.json"):
            shutil.copy(result, ROOT / "bench" / "out" / f"compiled-{result.name}")
        return code


if __name__ == "__main__":
    sys.exit(main())
