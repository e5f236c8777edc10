"""The ELN adapter contract: a pytest suite every adapter must pass (as fsspec ships its abstract tests).

An adapter's test module subclasses `AdapterContract` and provides the fixtures below; pytest then runs
every `test_*` method against that adapter. See docs/writing-an-adapter.md.

- `adapter`: a fresh, open adapter (close it after the test).
- `make_record`: `make_record(data)` creates a record holding the canonical batch record `data` (or no
  batch data when `data` is None) the way a person would, and returns its `RecordRef`.
- `edit_record`: `edit_record(ref, data)` saves new batch data into the record, as a person would.
- `filters`: the `ChangeQuery` filters that list only the records this test made.
- `adapter_at`: `adapter_at(url)` opens the same kind of adapter against another base URL (the suite's
  fault server), with any credentials.
- `report_files`: `report_files(ref)` returns the record's report files by name with their bytes (or
  None for an ELN that keeps no report files).

Class attributes set the request budget: `max_reads` and `max_writes` for a changed record,
`max_unchanged_requests` for an unchanged one (judged from a listing reference).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from eln_msc_plugin.eln.base import ChangeQuery, ElnAdapter, RecordRef
from eln_msc_plugin.eln.judge import Outcome, judge_and_annotate
from eln_msc_plugin.eln.verdict import build_annotation, evaluate
from eln_msc_plugin.errors import ElnError
from eln_msc_plugin.pipeline import Engine, build_engine
from eln_msc_plugin.testing.faults import FAULTS, FaultServer
from eln_msc_plugin.testing.records import failing_record, passing_record


class AdapterContract:
    """Subclass in a test module named `Test...`, providing the fixtures named in the module docstring."""

    max_reads = 2
    max_writes = 3
    max_unchanged_requests = 1
    fault_record_id = "1"

    @pytest.fixture
    def contract_engine(self) -> Engine:
        return build_engine()

    def listed(self, adapter: ElnAdapter, filters: dict[str, Any], record: RecordRef) -> RecordRef:
        """The record as `changes` lists it now (the reference a backfill or a poller judges)."""
        for ref in adapter.changes(ChangeQuery(filters)):
            if ref.id == record.id:
                return ref
        raise AssertionError(f"record {record.id} is not in changes() with filters {filters}")

    def judge(self, adapter: ElnAdapter, engine: Engine, ref: RecordRef, **kwargs: Any) -> Outcome:
        return judge_and_annotate(adapter, engine, ref, **kwargs)

    def test_account_names_who_the_credentials_act_as(self, adapter: ElnAdapter) -> None:
        account = adapter.account()
        assert account.id and account.name

    def test_a_new_record_is_listed_and_read_with_its_sources(
            self, adapter: ElnAdapter, make_record: Callable[..., RecordRef], filters: dict[str, Any]) -> None:
        made = make_record(passing_record())
        ref = self.listed(adapter, filters, made)
        assert ref.url and ref.id == made.id
        content = adapter.read(ref)
        assert content.status == "judge" and content.current is None
        assert content.sources and all(source.digest for source in content.sources)
        assert len(content.content_hash) == 64

    def test_annotate_writes_a_verdict_that_reads_back(
            self, adapter: ElnAdapter, make_record: Callable[..., RecordRef], filters: dict[str, Any],
            contract_engine: Engine, report_files: Callable[[RecordRef], dict[str, bytes] | None]) -> None:
        made = make_record(failing_record())
        outcome = self.judge(adapter, contract_engine, self.listed(adapter, filters, made))
        assert (outcome.status, outcome.verdict) == ("annotated", "fail")
        assert outcome.reads <= self.max_reads and 0 < outcome.writes <= self.max_writes, (outcome.reads,
                                                                                             outcome.writes)
        back = adapter.read(self.listed(adapter, filters, made))
        assert back.current is not None and back.complete
        written = outcome.annotation
        assert written is not None and back.current.verdict == "fail"
        assert back.current.content_hash == written.content_hash == back.content_hash
        assert back.current.judged_revision == outcome.judged_revision and outcome.judged_revision
        assert (back.current.ruleset_sha256, back.current.engine) == (written.ruleset_sha256, written.engine)
        files = report_files(made)
        if files is not None:
            assert back.current.report_file in files and b'"verdict": "fail"' in files[back.current.report_file]

    def test_an_unchanged_record_costs_at_most_one_request_and_no_write(
            self, adapter: ElnAdapter, make_record: Callable[..., RecordRef], filters: dict[str, Any],
            contract_engine: Engine) -> None:
        made = make_record(passing_record())
        assert self.judge(adapter, contract_engine, self.listed(adapter, filters, made)).status == "annotated"
        again = self.judge(adapter, contract_engine, self.listed(adapter, filters, made))
        assert again.status == "unchanged" and again.verdict == "pass"
        assert again.writes == 0 and again.reads + again.writes <= self.max_unchanged_requests

    def test_annotating_again_supersedes_and_overwrites_nothing(
            self, adapter: ElnAdapter, make_record: Callable[..., RecordRef], filters: dict[str, Any],
            edit_record: Callable[[RecordRef, Any], None], contract_engine: Engine,
            report_files: Callable[[RecordRef], dict[str, bytes] | None]) -> None:
        made = make_record(passing_record())
        first = self.judge(adapter, contract_engine, self.listed(adapter, filters, made))
        before = report_files(made)
        edit_record(made, failing_record())
        second = self.judge(adapter, contract_engine, self.listed(adapter, filters, made))
        assert (first.verdict, second.status, second.verdict) == ("pass", "annotated", "fail")
        assert first.annotation is not None and second.annotation is not None
        assert second.annotation.supersedes.startswith(f"pass of revision {first.judged_revision}")
        after = report_files(made)
        if before is not None and after is not None:
            assert all(after.get(name) == data for name, data in before.items())  # nothing overwritten
            assert second.annotation.report_file in after and len(after) == len(before) + 1

    def test_the_plugins_own_write_is_recognised(
            self, adapter: ElnAdapter, make_record: Callable[..., RecordRef], filters: dict[str, Any],
            edit_record: Callable[[RecordRef, Any], None], contract_engine: Engine) -> None:
        made = make_record(passing_record())
        assert not adapter.is_own_write(self.listed(adapter, filters, made))  # a person made it
        self.judge(adapter, contract_engine, self.listed(adapter, filters, made))
        assert adapter.is_own_write(self.listed(adapter, filters, made))
        edit_record(made, failing_record())
        assert not adapter.is_own_write(self.listed(adapter, filters, made))

    def test_a_save_during_the_write_is_never_lost(
            self, adapter: ElnAdapter, make_record: Callable[..., RecordRef], filters: dict[str, Any],
            edit_record: Callable[[RecordRef, Any], None], contract_engine: Engine) -> None:
        made = make_record(passing_record())
        content = adapter.prepare(adapter.read(self.listed(adapter, filters, made)))
        annotation = build_annotation(evaluate(contract_engine, content), content, contract_engine.ruleset)
        edit_record(made, failing_record())  # a person saves after the read, before the write
        written = adapter.annotate(content, annotation)
        assert written.status in ("stale", "annotated")
        final = self.judge(adapter, contract_engine, self.listed(adapter, filters, made))
        assert final.verdict == "fail"  # the person's failing data is what stands, and is judged

    def test_a_dry_run_writes_nothing(
            self, adapter: ElnAdapter, make_record: Callable[..., RecordRef], filters: dict[str, Any],
            contract_engine: Engine) -> None:
        made = make_record(passing_record())
        outcome = self.judge(adapter, contract_engine, self.listed(adapter, filters, made), dry_run=True)
        assert outcome.status == "dry-run" and outcome.writes == 0 and outcome.would_write
        assert adapter.read(self.listed(adapter, filters, made)).current is None

    def test_a_record_without_batch_data_is_an_error_verdict(
            self, adapter: ElnAdapter, make_record: Callable[..., RecordRef], filters: dict[str, Any],
            contract_engine: Engine) -> None:
        made = make_record(None)
        outcome = self.judge(adapter, contract_engine, self.listed(adapter, filters, made))
        assert (outcome.status, outcome.verdict) == ("annotated", "error")

    def test_changes_pages_through_every_record_newest_first(
            self, adapter: ElnAdapter, make_record: Callable[..., RecordRef], filters: dict[str, Any]) -> None:
        made = [make_record(passing_record(f"MSC-PAGE-{i}")) for i in range(5)]
        listed = list(adapter.changes(ChangeQuery(filters, page_size=2)))
        ids = [ref.id for ref in listed]
        assert sorted(ids) == sorted(ref.id for ref in made) and len(set(ids)) == len(ids)
        stamps = [ref.modified_at for ref in listed if ref.modified_at]
        assert stamps == sorted(stamps, reverse=True)

    @pytest.fixture(params=sorted(FAULTS), ids=sorted(FAULTS))
    def fault_server(self, request: pytest.FixtureRequest) -> Iterator[FaultServer]:
        with FaultServer(request.param) as server:
            yield server

    @pytest.mark.parametrize("operation", ["account", "changes", "read"], ids=["account", "changes", "read"])
    def test_every_http_failure_is_an_eln_error(
            self, fault_server: FaultServer, adapter_at: Callable[[str], ElnAdapter], operation: str) -> None:
        adapter = adapter_at(fault_server.url)
        try:
            with pytest.raises(ElnError) as raised:
                if operation == "account":
                    adapter.account()
                elif operation == "changes":
                    list(adapter.changes(ChangeQuery({})))
                else:
                    adapter.prepare(adapter.read(adapter.ref(self.fault_record_id)))
            assert fault_server.secret not in str(raised.value)
        finally:
            adapter.close()
