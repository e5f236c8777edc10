"""The `eln-msc` command line: verdict lines, the JSON contract, JUnit, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from eln_msc_plugin import cli
from tests.support.records import as_json, record


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.json"
    good.write_bytes(as_json(record()))
    bad = tmp_path / "sub" / "bad.jsonl"
    bad.parent.mkdir()
    bad.write_bytes(as_json(record(record_id="R-2", production_passage="four")) + b"\n{broken\n"
                    + as_json(record(record_id="R-4")) + b"\n")
    (tmp_path / "notes.txt").write_text("ignored: not a batch-record extension")
    return {"good": good, "bad": bad, "dir": tmp_path}


def test_passing_file_exits_0_with_a_verdict_line(files: dict[str, Path], capsys: Any) -> None:
    status, out, _ = run(["validate", str(files["good"])], capsys)
    assert status == 0
    assert out.splitlines()[0].startswith("PASS  ") and "EXP-2026-0142 rev 7" in out
    assert out.splitlines()[-1].startswith("1 record: 1 pass, 0 warn, 0 fail, 0 error")


def test_folder_recurses_and_failures_exit_1(files: dict[str, Path], capsys: Any) -> None:
    status, out, _ = run(["validate", str(files["dir"])], capsys)
    assert status == 1
    assert "4 records: 2 pass, 0 warn, 1 fail, 1 error" in out
    assert "malformed JSON at line 2" in out
    assert "notes.txt" not in out


def test_json_output_contract(files: dict[str, Path], capsys: Any) -> None:
    status, out, _ = run(["validate", "--format", "json", str(files["good"]), str(files["bad"])], capsys)
    doc = json.loads(out)
    assert status == 1
    assert set(doc) == {"tool", "ruleset", "records", "summary"}
    assert doc["tool"]["name"] == "eln-msc-plugin" and doc["tool"]["version"]
    assert set(doc["ruleset"]) == {"name", "version", "sha256"} and len(doc["ruleset"]["sha256"]) == 64
    assert [(r["source"], r["index"], r["verdict"]) for r in doc["records"]] == [
        (str(files["good"]), 0, "pass"), (str(files["bad"]), 0, "fail"),
        (str(files["bad"]), 1, "error"), (str(files["bad"]), 2, "pass")]
    for rec in doc["records"]:
        assert set(rec) == {"source", "index", "record_id", "revision", "verdict", "metrics", "findings"}
        for finding in rec["findings"]:
            assert set(finding) == {"rule", "severity", "path", "line", "message", "observed", "expected"}
    failing = doc["records"][1]["findings"][0]
    assert failing["rule"] == "schema" and failing["path"] == "/production_passage"
    assert failing["observed"] == "four" and failing["line"] == 1
    assert doc["summary"] == {"pass": 2, "warn": 0, "fail": 1, "error": 1}


def test_standard_input(files: dict[str, Path], capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(as_json(record())))
    monkeypatch.setattr(sys, "stdin", stdin)
    status, out, _ = run(["validate", "--format", "json", "-"], capsys)
    assert status == 0 and json.loads(out)["records"][0]["source"] == "<stdin>"


def test_junit_output(files: dict[str, Path], capsys: Any) -> None:
    status, out, _ = run(["validate", "--format", "junit", str(files["bad"])], capsys)
    suite = etree.fromstring(out.encode())
    assert status == 1
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("errors") == "1"
    assert len(suite.findall("testcase/failure")) == 1 and len(suite.findall("testcase/error")) == 1


@pytest.mark.parametrize(
    "argv",
    [["validate"], ["validate", "--format", "yaml", "x.json"], ["frobnicate"]],
    ids=["no-path", "unknown-format", "unknown-command"],
)
def test_usage_errors_exit_2(argv: list[str], capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2


def test_missing_path_exits_2_and_says_so_plainly(tmp_path: Path, capsys: Any) -> None:
    missing = tmp_path / "nope.json"
    status, out, err = run(["validate", str(missing)], capsys)
    assert status == 2 and out == ""
    assert err == f"eln-msc: {missing}: no such file or folder\n"  # not a "configuration error"


def test_standard_input_is_labelled_stdin_in_text(capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(as_json(record()))))
    status, out, _ = run(["validate", "-"], capsys)
    assert status == 0 and out.startswith("PASS  <stdin>#0  EXP-2026-0142")


def test_empty_folder_exits_2(tmp_path: Path, capsys: Any) -> None:
    status, _, err = run(["validate", str(tmp_path)], capsys)
    assert status == 2 and "no *.json" in err


def test_rules_lists_every_rule_with_thresholds(capsys: Any) -> None:
    status, out, _ = run(["rules"], capsys)
    assert status == 0
    assert out.startswith("rule pack msc-default")
    assert "\nschema  [fail/info]" in out


RULES_HEADERS = [
    ([], "rule pack msc-default 1.1.0 (thresholds sha256 "),
    (["--policy", "examples/policies/gmp-strict.toml"],
     'rule pack msc-default 1.1.0 with "Acme Cell Therapy GMP" version 2026.1 from '
     'examples/policies/gmp-strict.toml (thresholds sha256 '),
]


@pytest.mark.parametrize(("argv", "header"), RULES_HEADERS, ids=["default", "with-a-policy"])
def test_rules_header_names_the_pack_and_the_policy(argv: list[str], header: str, capsys: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    status, out, _ = run(["rules", *argv], capsys)
    assert status == 0 and out.startswith(header)


def test_rules_prints_off_for_a_line_not_drawn(capsys: Any) -> None:
    _, out, _ = run(["rules"], capsys)
    assert "None" not in out
    assert "    research   warn_above=12, fail_above=off\n" in out
    assert "    production warn_below=2, warn_from=off, fail_from=5\n" in out


def test_console_script_is_installed(files: dict[str, Path]) -> None:
    done = subprocess.run([sys.executable, "-m", "eln_msc_plugin.cli", "validate", str(files["good"])],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("PASS")
