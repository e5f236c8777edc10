"""The wheel installs into a fresh virtual environment, ships the schemas, and its command line runs."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_finds_its_schemas_and_validates(tmp_path: Path) -> None:
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                tmp_path / "dist", REPO, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    [wheel] = list((tmp_path / "dist").glob("eln_msc_plugin-*.whl"))
    with zipfile.ZipFile(wheel) as archive:  # the Kadi record page's live script ships in the wheel
        assert "eln_msc_plugin/kadi/static/eln-msc-live.js" in archive.namelist()
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    probe = run(python, "-c", "import eln_msc_plugin.schema as s, pathlib, json;"
                "print(pathlib.Path(s.__file__).parent);"
                "print(json.loads(s.schema_text())['$id']);"
                "print(len(s.schema_text('batch-record-v1.xsd')) > 1000);"
                "print('kadi-template' in "
                "' '.join(p.name for p in s.resources.files('eln_msc_plugin.schemas').iterdir()))",
                cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    where, schema_id, has_xsd, has_template = probe.stdout.split()
    assert "site-packages" in where and str(REPO) not in where
    assert schema_id == "urn:eln-msc:batch-record:1" and has_xsd == "True" and has_template == "True"

    validated = run(env_dir / "bin" / "eln-msc", "validate", REPO / "examples" / "production-p4-pass.xml",
                    REPO / "examples" / "unit-slip.json", cwd=tmp_path)
    assert validated.returncode == 1, validated.stderr
    assert validated.stdout.startswith("PASS ") and "FAIL " in validated.stdout
    assert "2 records: 1 pass, 0 warn, 1 fail, 0 error" in validated.stdout
