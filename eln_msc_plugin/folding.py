"""What a report lists of its findings: alike findings folded, and a bound on the rest, so no record makes a
report (or an annotation written onto an ELN record) grow without end. The verdict is taken before, from all.
"""

from __future__ import annotations

from eln_msc_plugin import limits
from eln_msc_plugin.model import SEVERITY_RANK, Finding


def fold_findings(findings: list[Finding]) -> list[Finding]:
    """The findings a report lists (sorted, most severe first): of findings alike but for their place (same rule,
    severity and message) the first FOLD_AFTER, the last of them counting the rest in `folded`; at most
    MAX_FINDINGS in all, each rule that spoke among them, the rest summed up in a last `report` finding."""
    if len(findings) <= limits.FOLD_AFTER:
        return findings
    per_rule: dict[tuple[str, str], int] = {}
    for finding in findings:
        key2 = (finding.rule, finding.severity)
        per_rule[key2] = per_rule.get(key2, 0) + 1
    if len(findings) <= limits.MAX_FINDINGS and max(per_rule.values()) <= limits.FOLD_AFTER:
        return findings  # the usual list: a few findings of different rules, nothing to fold
    kept: list[Finding] = []
    last: dict[tuple[str, str, str], Finding] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for finding in findings:
        key = (finding.rule, finding.severity,
               finding.message.replace(finding.path, "\0") if finding.path else finding.message)
        count = seen[key] = seen.get(key, 0) + 1
        if count <= limits.FOLD_AFTER:
            kept.append(finding)
            last[key] = finding
        else:
            last[key].folded += 1
    return kept if len(kept) <= limits.MAX_FINDINGS else _capped(kept)


def _capped(findings: list[Finding]) -> list[Finding]:
    """MAX_FINDINGS - 1 of `findings`, in order, the first of each rule and severity first chosen, then a summary
    of the rest as severe as the worst of them (the verdict was taken from all of them)."""
    room = limits.MAX_FINDINGS - 1
    chosen: set[int] = set()
    firsts: set[tuple[str, str]] = set()
    for i, finding in enumerate(findings):
        if (finding.rule, finding.severity) not in firsts and len(chosen) < room:
            firsts.add((finding.rule, finding.severity))
            chosen.add(i)
    for i in range(len(findings)):
        if len(chosen) >= room:
            break
        chosen.add(i)
    rest = [f for i, f in enumerate(findings) if i not in chosen]
    hidden = sum(1 + f.folded for f in rest)
    worst = max(rest, key=lambda f: SEVERITY_RANK.get(f.severity, 0)).severity
    summary = Finding("report", worst, "", f"{hidden:,} more findings are not listed (a report lists at most "
                      f"{limits.MAX_FINDINGS:,}: MAX_FINDINGS); the verdict counts them all")
    return [f for i, f in enumerate(findings) if i in chosen] + [summary]
