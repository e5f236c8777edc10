"""`eln-msc doctor` against the real Kadi4Mat: what passes, and what it tells an admin to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from eln_msc_plugin import cli
from tests.support.kadi import Stack, create_batch_record, make_token

pytestmark = pytest.mark.kadi


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = cli.main(["doctor", *argv])
    return status, capsys.readouterr().out


def test_healthy_install_passes_every_check_and_the_probe(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    create_batch_record(stack.scientist(), None)  # a record to try the update scope on, whatever ran before
    status, out = doctor(capsys, "--kadi", stack.url, "--token-file", str(stack.service_token_file),
                         "--config", stack.env["KADI_CONFIG_FILE"], "--probe", "--wait", "30")
    assert status == 0, out
    for name in ("reachable", "token", "token expiry", "scope record.read", "scope record.update", "installed",
                 "enabled", "plugin config", "probe"):
        assert f"ok    {name}" in out
    assert "ok    token expiry         does not expire" in out
    assert "9 of 9 checks passed" in out
    assert stack.service_token_file.read_text().strip() not in out


def test_refused_token_says_what_to_fix(stack: Stack, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KADI_TOKEN", "pat_not-a-real-token-0123456789")
    status, out = doctor(capsys, "--kadi", stack.url)
    assert status == 1
    assert "FAIL  token" in out and "HTTP 401" in out and "→ create a personal access token" in out
    assert "pat_not-a-real-token" not in out


def test_unreachable_kadi(capsys: pytest.CaptureFixture[str], stack: Stack) -> None:
    status, out = doctor(capsys, "--kadi", "http://127.0.0.1:9", "--token-file", str(stack.service_token_file))
    assert status == 1 and "FAIL  reachable" in out and "Connection refused" in out


def test_plugin_missing_from_kadi_config(stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "kadi.py"
    original = Path(stack.env["KADI_CONFIG_FILE"]).read_text()
    config.write_text(original.replace('PLUGINS = ["eln_msc"]', "PLUGINS = []").replace('"token_file"', '"tokenfile"'))
    status, out = doctor(capsys, "--kadi", stack.url, "--token-file", str(stack.service_token_file),
                         "--config", str(config))
    assert status == 1
    assert "FAIL  enabled" in out and "add 'eln_msc' to PLUGINS, then restart uWSGI and the Celery worker" in out
    assert "FAIL  plugin config" in out and "tokenfile" in out


def test_kadi_config_enables_the_plugin(stack: Stack) -> None:
    import runpy

    config = runpy.run_path(stack.env["KADI_CONFIG_FILE"])
    assert "eln_msc" in config["PLUGINS"]


def test_a_token_expiring_within_two_weeks_is_a_warning(stack: Stack, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    token = make_token(stack, tmp_path / "soon.token", expires_in_days=5)
    status, out = doctor(capsys, "--kadi", stack.url, "--token-file", str(token))
    assert status == 0, out  # a warning, not a failure: verdicts are still written
    line = next(line for line in out.splitlines() if "token expiry" in line)
    assert line.startswith("warn  token expiry") and ("in 5.0 days" in line or "in 4.9 days" in line), line
    assert "→ create a new token and write it to the token file" in out
    assert token.read_text() not in out


def test_an_expired_token_fails_and_says_what_to_do(stack: Stack, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    token = make_token(stack, tmp_path / "old.token", expires_in_days=-1)
    status, out = doctor(capsys, "--kadi", stack.url, "--token-file", str(token))
    assert status == 1
    assert "FAIL  token" in out and "expired" in out
    assert "→ create a new token and write it to the token file" in out
    assert token.read_text() not in out


def test_no_visible_record_is_a_warning_not_a_failure() -> None:
    """A new instance has no record yet: the update scope cannot be tried, which is no fault of the install."""
    from eln_msc_plugin.kadi.doctor import check_record_access

    class Empty:  # the one read the check makes, answering as Kadi does for an account that sees nothing
        def records_page(self, page: int, per_page: int) -> dict[str, object]:
            return {"items": [], "_pagination": {"total_items": 0}}

    read, update = check_record_access(Empty())  # type: ignore[arg-type]
    assert read.ok and read.detail == "0 records visible"
    assert update.ok and update.warning and "no record is visible" in update.detail
    assert "admin system role" in update.fix
