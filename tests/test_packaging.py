"""The wheel installs into a fresh virtual environment, ships the schemas, and its command line runs."""

from __future__ import annotations

import configparser
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


def _setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    return config


def test_metadata_is_in_setup_cfg_alone_with_valid_classifiers() -> None:
    config = _setup_cfg()
    classifiers = [c.strip() for c in config["metadata"]["classifiers"].splitlines() if c.strip()]
    assert "Framework :: Pluggy" not in classifiers  # not a Trove classifier: an upload would be refused
    known = ("Programming Language :: ", "Topic :: ", "License :: ", "Typing :: ")
    assert all(c.startswith(known) for c in classifiers)
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert "[project]" not in pyproject  # setup.cfg is the one place of the package's metadata


def test_typed_package_and_one_extra_per_eln() -> None:
    config = _setup_cfg()
    assert (REPO / "eln_msc_plugin" / "py.typed").is_file()
    assert "py.typed" in config["options.package_data"]["eln_msc_plugin"]
    extras = config["options.extras_require"]
    assert "kadi" in extras
    entry_points = config["options.entry_points"]["eln_msc_plugin"]
    assert "kadi = eln_msc_plugin.kadi.eln" in entry_points  # built in, registered like a third-party adapter
