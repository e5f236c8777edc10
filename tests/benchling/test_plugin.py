"""The Benchling plugin registers like a third-party one, costs nothing until used, and says what is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from eln_msc_plugin.cli import main
from eln_msc_plugin.eln.registry import adapter_spec
from eln_msc_plugin.eln.spec import AdapterConfig
from eln_msc_plugin.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_registering_imports_no_sdk() -> None:
    out = _python("import sys; from eln_msc_plugin.eln.registry import adapter_specs; "
                  "print('benchling' in adapter_specs(), 'benchling_sdk' in sys.modules, 'waitress' in sys.modules)")
    assert out == "True False False"


def test_opening_without_the_sdk_says_which_extra() -> None:
    out = _python("import sys; sys.modules['benchling_sdk'] = None\n"
                  "from eln_msc_plugin.eln.registry import adapter_spec\n"
                  "from eln_msc_plugin.eln.spec import AdapterConfig\n"
                  "try:\n    adapter_spec('benchling').create(AdapterConfig('https://t.benchling.com'))\n"
                  "except Exception as error:\n    print(type(error).__name__, error)")
    assert out.startswith("ConfigError benchling-sdk is not installed") and "[benchling]" in out


def test_opening_without_a_mapping() -> None:
    with pytest.raises(ConfigError, match="--mapping FILE"):
        adapter_spec("benchling").create(AdapterConfig("https://t.benchling.com"))


@pytest.mark.parametrize(("argv", "message"), [
    (["serve", "nosuch", "--port", "1", "--config", "x.toml"], "no ELN adapter named 'nosuch'"),
    (["serve", "benchling", "--port", "1", "--config", "missing.toml"], "missing.toml: cannot be read"),
], ids=["unknown-eln", "missing-config"])
def test_serve_refuses_clearly(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHLING_CLIENT_SECRET", "cid:secret")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "secret" not in err.replace("client secret", "")


def test_serve_without_a_secret(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCHLING_CLIENT_SECRET", raising=False)
    assert main(["serve", "benchling", "--port", "1", "--config", "x.toml"]) == 2
    assert "BENCHLING_CLIENT_SECRET" in capsys.readouterr().err
