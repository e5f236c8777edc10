"""The backfill through a proxy that drops connections, answers 503 bursts and 429, and slows down."""

from __future__ import annotations

from pathlib import Path

import pytest

from eln_msc_plugin.backfill.runner import run_backfill
from tests.support.faults import FaultProxy, Schedule
from tests.support.historical import (
    create_historical,
    new_type,
    options,
    service_revisions,
    verdicts,
)
from tests.support.kadi import Stack

pytestmark = pytest.mark.kadi

FAULTS = Schedule(drop_before=13, drop_after=17, unavailable=23, burst=3, limited=29, retry_after=1,
                  slow=7, delay=0.1, until=600)


def test_faults_lose_nothing_and_double_nothing(stack: Stack, tmp_path: Path) -> None:
    record_type = new_type()
    expected = create_historical(stack, 48, record_type)
    with FaultProxy(stack.url, FAULTS) as proxy:
        summary, state = run_backfill(options(stack, record_type, tmp_path, url=proxy.url, workers=4,
                                              attempts=6))
        state.close()
    faults = proxy.faults()
    assert {"drop_before", "drop_after", "unavailable", "limited", "slow"} <= set(faults), faults
    assert any(e.action == "drop_after" and e.method in ("PATCH", "POST", "PUT") for e in proxy.log)
    assert not summary.failed and summary.statuses["annotated"] + summary.statuses["unchanged"] == 48
    assert verdicts(stack.service(), list(expected)) == expected
    assert set(service_revisions(stack, list(expected)).values()) == {1}
    writes = [e for e in proxy.writes_reaching_kadi(r"^/api/eln_msc/records/\d+/annotation$") if e.status == 200]
    assert len(writes) == 48  # one annotation written per record, even when its answer was lost
    assert not proxy.writes_reaching_kadi(r"^/api/records/\d+")  # never Kadi's own PATCH or upload: the plugin is
