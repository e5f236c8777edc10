"""The ELN adapter contract, run against the Benchling adapter and the fake Benchling tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin.benchling.adapter import BenchlingAdapter
from eln_msc_plugin.benchling.mapping import load_mapping
from eln_msc_plugin.eln.base import ElnAdapter, RecordRef
from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.testing.contract import AdapterContract
from tests.benchling.conftest import QUIET
from tests.support.benchling_world import add_batch, edit_batch
from tests.support.fake_benchling import FakeBenchling

pytestmark = [*QUIET, pytest.mark.slow]  # 40 cases, each with a tenant of its own


class TestBenchlingContract(AdapterContract):
    # A batch judged from a listing item: the first judged of its page reads the page's two result listings
    # (passages, senescence; 20 batches a request) and one listing of the page's entries (for attached
    # files): 3 reads with one batch on the page, 0.12 a batch on a page of 100. Result rows change without
    # touching the batch's modification stamp, so an unchanged batch costs these reads as well; no write.
    max_reads = 3
    max_writes = 4  # the report blob, the app session, the canvas, one PATCH of the QC fields
    max_unchanged_requests = 3
    fault_record_id = "bfi_contract"

    @pytest.fixture
    def adapter(self, fake: FakeBenchling, mapping_file: Path) -> Iterator[ElnAdapter]:
        client_id, secret = fake.add_client()
        adapter = BenchlingAdapter(fake.url, load_mapping(mapping_file), client_id, Token(secret))
        try:
            yield adapter
        finally:
            adapter.close()

    @pytest.fixture
    def filters(self) -> dict[str, Any]:
        return {}  # each test has a tenant of its own: the batch schema holds only its records

    @pytest.fixture
    def make_record(self, fake: FakeBenchling) -> Callable[[Any], RecordRef]:
        def make(data: Any) -> RecordRef:
            return RecordRef(add_batch(fake, data if data is not None else {"lot_id": None})[0])

        return make

    @pytest.fixture
    def edit_record(self, fake: FakeBenchling) -> Callable[[RecordRef, Any], None]:
        return lambda ref, data: edit_batch(fake, ref.id, data)

    @pytest.fixture
    def adapter_at(self, mapping_file: Path) -> Callable[[str], ElnAdapter]:
        def at(url: str) -> ElnAdapter:
            return BenchlingAdapter(url, load_mapping(mapping_file), "cid_contract",
                                    Token("secret-contract-0123456789"), backoff=0.01)

        return at

    @pytest.fixture
    def report_files(self, fake: FakeBenchling) -> Callable[[RecordRef], dict[str, bytes]]:
        def files(ref: RecordRef) -> dict[str, bytes]:
            blob = fake.tenant.entities[ref.id]["fields"]["QC report"]["value"]
            named = {b["name"]: b["data"] for b in fake.tenant.blobs.values()}
            assert blob is None or blob in fake.tenant.blobs  # the link names a blob that exists
            return named

        return files
