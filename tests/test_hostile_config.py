"""Hostile configuration: a policy cannot weaken the specification without a word, every threshold that
reaches the rules is a finite number, a waiver says why, and an error names the file as it was given."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from eln_msc_plugin.cli import main
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.plugins import default_ruleset, get_plugin_manager
from eln_msc_plugin.policy import load_policy, ruleset_with_policy
from eln_msc_plugin.rules import RuleSet
from tests.support.records import as_json, record

PM = get_plugin_manager(load_entry_points=False)
BASE_RULES = default_ruleset(PM)
HEAD = '[policy]\nname = "hostile"\nversion = "1"\n\n'


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(HEAD + text, encoding="utf-8")
    return path


def failing_only_on_pdl() -> dict:
    """A production lot at P4 whose counts give a cumulative PDL of about 13.7: it fails the PDL limit of 12."""
    data = record(reported_cumulative_pdl=None)
    for p in data["passages"]:
        p["cells_harvested"] = round(p["cells_seeded"] * 2 ** 3.42)
        p.pop("reported_cumulative_pdl")
    return data


@pytest.mark.parametrize("value", ["nan", "inf", "+inf", "-inf", "1e400"], ids=["nan", "inf", "plus-inf", "minus-inf",
                                                                                 "overflow"])
def test_a_non_finite_threshold_is_a_configuration_error_naming_the_key(tmp_path: Path, value: str) -> None:
    path = policy_file(tmp_path, f'[rules."pdl.limit".production]\nfail_above = {value}\n')
    with pytest.raises(ConfigError) as caught:
        load_policy(path, PM)
    assert str(caught.value).startswith(f'{path}: rules."pdl.limit".production.fail_above: ')
    assert "not a finite number" in str(caught.value)


def test_a_nan_threshold_cannot_turn_a_failing_lot_into_a_pass(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    lot = tmp_path / "lot.json"
    lot.write_bytes(as_json(failing_only_on_pdl()))
    assert main(["validate", str(lot)]) == 1
    assert "[pdl.limit]" in capsys.readouterr().out  # the line the policy below would have turned off unseen
    path = policy_file(tmp_path, '[rules."pdl.limit".production]\nfail_above = nan\n')
    assert main(["validate", "--policy", str(path), str(lot)]) == 2
    out, err = capsys.readouterr()
    assert not out and 'fail_above: nan is not a finite number' in err and err.count("\n") == 1


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 10**400], ids=["nan", "inf", "minus-inf", "huge-int"])
def test_a_non_finite_threshold_in_code_is_refused_wherever_it_enters(value: float) -> None:
    policy = {"policy": {"name": "x", "version": "1"}, "rules": {"pdl.limit": {"production": {"fail_above": value}}}}
    with pytest.raises(ConfigError, match='rules."pdl.limit".production.fail_above: .* not a finite number'):
        ruleset_with_policy(BASE_RULES, policy, PM)
    thresholds = {**BASE_RULES.thresholds, "pdl.limit": {"production": {"fail_above": value}}}
    with pytest.raises(ConfigError, match="pdl.limit: threshold production.fail_above = .* not a finite number"):
        RuleSet(BASE_RULES.name, BASE_RULES.version, BASE_RULES.rules, thresholds)


@pytest.mark.parametrize("reason", [" ", "\\t\\n", "   \\u00a0", "\\u200b\\ufeff"],
                         ids=["space", "tab-newline", "no-break-space", "zero-width"])
def test_a_blank_waiver_reason_is_refused(tmp_path: Path, reason: str) -> None:
    path = policy_file(tmp_path, f'[[waivers]]\nrule = "pdl.limit"\nlot = "L-1"\nreason = "{reason}"\n')
    with pytest.raises(ConfigError, match=r"waivers\[0\]\.reason: is blank"):
        load_policy(path, PM)


def test_a_blank_waiver_lot_is_refused(tmp_path: Path) -> None:
    path = policy_file(tmp_path, '[[waivers]]\nrule = "pdl.limit"\nlot = " "\nreason = "deviation DEV-1"\n')
    with pytest.raises(ConfigError, match=r"waivers\[0\]\.lot: is blank"):
        load_policy(path, PM)


def test_the_policy_path_is_shown_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sites" / "a").mkdir(parents=True)
    (tmp_path / "sites" / "b").mkdir()
    for site in ("a", "b"):
        (tmp_path / "sites" / site / "policy.toml").write_text(HEAD + '[rules."pdl.limt".production]\n')
    monkeypatch.chdir(tmp_path)
    given = os.path.join("sites", "b", "policy.toml")
    with pytest.raises(ConfigError) as caught:
        load_policy(given, PM)
    assert str(caught.value).startswith(f"{given}: ")  # which of two policy.toml files is at fault


def test_a_policy_that_is_not_utf8_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_bytes(HEAD.encode() + b'# caf\xe9\n')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_policy(path, PM)
