"""The one vocabulary of severities and verdicts: their order, the worst of several, counts, what is shown."""

from __future__ import annotations

import pytest

from eln_msc_plugin.model import (
    SEVERITIES,
    SEVERITY_RANK,
    VERDICT_RANK,
    VERDICTS,
    Finding,
    Report,
    severity_counts,
    shown_findings,
    sort_findings,
    verdict_counts,
    verdict_of,
    worst_severity,
    worst_verdict,
)


def _finding(severity: str, rule: str = "r") -> Finding:
    return Finding(rule, severity, "", f"{severity} of {rule}")


def _report(verdict: str, *severities: str) -> Report:
    return Report("s", 0, None, None, verdict, {}, [_finding(s) for s in severities], "pack", "1", "sha")


def test_orders_agree_with_the_ranks() -> None:
    assert sorted(SEVERITIES, key=SEVERITY_RANK.__getitem__, reverse=True) == list(SEVERITIES)
    assert sorted(VERDICTS, key=VERDICT_RANK.__getitem__) == list(VERDICTS)
    # a verdict from findings shares its name and order with the severity it comes from
    assert all(VERDICT_RANK[s] == SEVERITY_RANK[s] for s in ("warn", "fail"))


WORST = [((), "pass"), (("pass",), "pass"), (("warn", "pass"), "warn"), (("pass", "fail", "warn"), "fail"),
         (("fail", "error", "pass"), "error")]


@pytest.mark.parametrize(("verdicts", "worst"), WORST, ids=["none", "pass", "warn", "fail", "error-beats-fail"])
def test_worst_verdict(verdicts: tuple[str, ...], worst: str) -> None:
    assert worst_verdict(verdicts) == worst
    assert worst_verdict(iter(verdicts)) == worst


SEVERE = [((), None), (("info",), "info"), (("info", "warn"), "warn"), (("warn", "fail", "info"), "fail")]


@pytest.mark.parametrize(("severities", "worst"), SEVERE, ids=["none", "info", "warn", "fail"])
def test_worst_severity_and_verdict_of(severities: tuple[str, ...], worst: str | None) -> None:
    assert worst_severity(severities) == worst
    assert verdict_of([_finding(s) for s in severities]) == (worst if worst in ("warn", "fail") else "pass")


def test_counts_name_every_severity_and_verdict() -> None:
    counts = severity_counts([_finding("warn"), _finding("info"), _finding("warn")])
    assert counts == {"fail": 0, "warn": 2, "info": 1} and list(counts) == list(SEVERITIES)
    assert verdict_counts(["fail", "pass", "fail"]) == {"pass": 1, "warn": 0, "fail": 2, "error": 0}


def test_sort_puts_the_most_severe_first_and_keeps_record_order() -> None:
    found = [_finding("info", "a"), _finding("warn", "b"), _finding("fail", "c"), _finding("warn", "d")]
    assert [f.rule for f in sort_findings(found)] == ["c", "b", "d", "a"]


SHOWN = [("pass", ("info",), []), ("warn", ("warn", "info"), ["warn"]), ("fail", ("fail", "warn", "info"),
                                                                        ["fail", "warn"]),
         ("error", ("fail",), ["fail"]), ("error", ("info",), ["info"])]


@pytest.mark.parametrize(("verdict", "severities", "shown"), SHOWN,
                         ids=["pass-shows-no-info", "warn", "fail", "error", "error-shows-why-even-info"])
def test_shown_findings(verdict: str, severities: tuple[str, ...], shown: list[str]) -> None:
    assert [f.severity for f in shown_findings(_report(verdict, *severities))] == shown
