"""A verdict the plugin did not write never stands, in the backfill too (against the real Kadi4Mat).

A person who sets the `qc-*` tag or the `msc_qc` extra by hand while no check runs (the plugin off, the
record not of a type checked on save, a check's task lost) leaves a record whose content did not change.
The backfill judges it again anyway, puts the true verdict back, records who altered it, and counts it
"restored"; an untouched record still costs one read and no write (none at all when its state says so).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin.backfill.runner import run_backfill
from eln_msc_plugin.kadi.client import KadiClient
from tests.support.faults import FaultProxy, Schedule
from tests.support.historical import create_historical, new_type, options, verdicts
from tests.support.kadi import Stack, annotation, human_revision

pytestmark = pytest.mark.kadi
START = 3  # who am I, the token's expiry, one listing page


def forge(client: KadiClient, record_id: int, *, extra: bool) -> int:
    """Set the verdict to pass by hand: the tag, and with `extra` the `msc_qc` verdict too; the revision made."""
    current = client.record(record_id)
    body: dict[str, Any] = {"tags": ["qc-pass"]}
    if extra:
        forged = next(e for e in current["extras"] if e["key"] == "msc_qc")
        forged["value"] = [dict(m, value="pass") if m["key"] == "verdict" else m for m in forged["value"]]
        body["extras"] = [e for e in current["extras"] if e["key"] != "msc_qc"] + [forged]
    client.patch_record(record_id, body)
    return human_revision(client, record_id)


def assert_restored(client: KadiClient, record_id: int, verdict: str, revision: int) -> None:
    found = annotation(client, record_id)
    assert (found["verdict"], found["_tags"]) == (verdict, [f"qc-{verdict}"])
    assert found["judged_revision"] == revision
    assert found["altered"] == f"changed by MSC Scientist (scientist) in revision {revision}"


def reads_of(proxy: FaultProxy, record_id: int) -> list[str]:
    return [e.method for e in proxy.log if re.match(rf"^/api/(eln_msc/)?records/{record_id}(/|$|\?)", e.path)]


def test_a_verdict_set_by_hand_is_restored_on_a_rerun_and_on_a_first_run(stack: Stack, tmp_path: Path) -> None:
    record_type = new_type()
    expected = create_historical(stack, 12, record_type)
    summary, state = run_backfill(options(stack, record_type, tmp_path))
    state.close()
    assert summary.statuses == {"annotated": 12}
    failing = sorted(i for i, v in expected.items() if v != "pass")
    scientist = stack.scientist()
    by_hand = {failing[0]: forge(scientist, failing[0], extra=True), failing[1]: forge(scientist, failing[1],
                                                                                        extra=False)}

    # Re-run from the state file: the untouched records cost nothing, each forged one a read and a write.
    with FaultProxy(stack.url) as proxy:
        again, state = run_backfill(options(stack, record_type, tmp_path, url=proxy.url))
        rows = {r["id"]: r for r in state.rows(again.seen)}
        state.close()
    assert again.statuses == {"unchanged": 10, "restored": 2} and again.writes == 2
    assert len(proxy.log) == START + 2 * 2
    for record_id, revision in by_hand.items():
        assert_restored(scientist, record_id, expected[record_id], revision)
        assert rows[str(record_id)]["status"] == "restored"
        assert rows[str(record_id)]["altered"].endswith(f"in revision {revision}")
    assert verdicts(stack.service(), list(expected)) == expected

    # A first run (a fresh state file) finds a forged verdict among records that all look unchanged.
    third = forge(scientist, failing[2], extra=True)
    with FaultProxy(stack.url) as proxy:
        first, state = run_backfill(options(stack, record_type, tmp_path / "fresh", url=proxy.url))
        state.close()
    assert first.statuses == {"unchanged": 11, "restored": 1} and first.writes == 1
    assert [e.path for e in proxy.writes_reaching_kadi()] == [f"/api/eln_msc/records/{failing[2]}/annotation"]
    untouched = [i for i in expected if i != failing[2]]
    assert all(reads_of(proxy, i) == ["GET"] for i in untouched)  # 1 read and no write each
    assert len(proxy.log) == START + 12 + 1
    assert_restored(scientist, failing[2], expected[failing[2]], third)

    # The restored verdicts are the plugin's own: nothing more to put back.
    settled, state = run_backfill(options(stack, record_type, tmp_path / "settled"))
    state.close()
    assert settled.statuses == {"unchanged": 12} and settled.writes == 0


def test_without_the_plugin_a_forged_verdict_is_found_in_the_revisions(stack: Stack, tmp_path: Path) -> None:
    """Kadi's record API only: a record holding a verdict costs one more read (its newest revisions)."""
    record_type = new_type()
    expected = create_historical(stack, 6, record_type)
    without = Schedule(missing_path=r"^/api/eln_msc/")
    with FaultProxy(stack.url, without) as proxy:
        summary, state = run_backfill(options(stack, record_type, tmp_path, url=proxy.url, workers=1))
        state.close()
    assert summary.statuses == {"annotated": 6}
    forged_id = next(i for i, v in expected.items() if v != "pass")
    revision = forge(stack.scientist(), forged_id, extra=True)

    with FaultProxy(stack.url, without) as proxy:
        again, state = run_backfill(options(stack, record_type, tmp_path / "fresh", url=proxy.url, workers=1))
        state.close()
    assert again.statuses == {"unchanged": 5, "restored": 1} and not again.failed
    assert_restored(stack.scientist(), forged_id, expected[forged_id], revision)
    for record_id in (i for i in expected if i != forged_id):
        asked = [e for e in proxy.log if re.match(rf"^/api/records/{record_id}/", e.path)]
        assert sorted(e.path.split("?")[0].rsplit("/", 1)[1] for e in asked) == ["files", "revisions"]
        assert all(e.method == "GET" for e in asked)
    patches = [e.path for e in proxy.writes_reaching_kadi(r"^/api/records/\d+$")]
    assert patches == [f"/api/records/{forged_id}"]
