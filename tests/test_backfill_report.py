"""The backfill report: local --source mode, the self-contained HTML rendered in headless Chromium."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eln_msc_plugin.backfill.svg import nice_ticks
from eln_msc_plugin.pipeline import validate_document

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
ARTIFACTS = REPO / "test-artifacts"


def _local_report(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    report = tmp_path / "report.html"
    result = subprocess.run([sys.executable, "-m", "eln_msc_plugin.cli", "backfill", "--source", str(EXAMPLES),
                             "--report", str(report)], capture_output=True, text=True, timeout=120, check=False)
    return result, report


def _expected_verdicts() -> list[str]:
    found = []
    for path in sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".json", ".jsonl", ".xml")):
        found += [r.verdict for r in validate_document(path.read_bytes(), None, source=str(path))]
    return found


def test_local_source_mode_writes_html_csv_json_with_the_same_verdicts(tmp_path: Path) -> None:
    result, report = _local_report(tmp_path)
    expected = _expected_verdicts()
    assert result.returncode == (1 if {"fail", "error"} & set(expected) else 0), result.stderr
    rows = list(csv.DictReader(report.with_suffix(".csv").open()))
    assert sorted(r["verdict"] for r in rows) == sorted(expected)
    body = json.loads(report.with_suffix(".json").read_text())
    assert len(body["records"]) == len(expected) and body["meta"]["records"] == len(expected)


def test_html_is_self_contained(tmp_path: Path) -> None:
    _, report = _local_report(tmp_path)
    html = report.read_text()
    assert "<script" not in html and "@font-face" not in html and "<img" not in html and "<link" not in html
    assert not re.search(r"""(src|href)=['"]https?://""", html)
    assert html.count("<svg class=\"plot") == 3 and "PDL 12" in html


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: run scripts/kadi-stack install (it installs Debian's chromium)")
    return found


def _chromium_args(profile: Path) -> list[str]:
    return [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"]


@pytest.mark.browser
def test_report_renders_in_headless_chromium_with_its_plots(tmp_path: Path) -> None:
    _, report = _local_report(tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "backfill-report.png"
    shot.unlink(missing_ok=True)
    subprocess.run([*_chromium_args(tmp_path / "p1"), f"--screenshot={shot}", "--window-size=1400,2400",
                    report.as_uri()], capture_output=True, timeout=120, check=True)
    dom = subprocess.run([*_chromium_args(tmp_path / "p2"), "--dump-dom", report.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert len(re.findall(r'<svg class="plot', dom)) == 3
    assert len(re.findall(r"<polyline", dom)) >= 2 * len(_expected_verdicts()) - 4  # PDL and doubling-time lines
    assert re.search(r'<rect class="band"', dom) and re.search(r'<line class="limit"', dom)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a blank page compresses to a few kB


@pytest.mark.parametrize(("low", "high"), [(0, 1), (1, 6), (0, 13.7), (2.5, 80)],
                         ids=["unit", "passages", "pdl", "pdt"])
def test_ticks_cover_the_range(low: float, high: float) -> None:
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and len(ticks) <= 12
