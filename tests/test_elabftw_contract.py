"""The ELN adapter contract (eln_msc_plugin.testing.contract), run against the eLabFTW adapter and the fake."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from eln_msc_plugin.elabftw import REPORT_PREFIX
from eln_msc_plugin.elabftw.adapter import ElabftwAdapter
from eln_msc_plugin.eln.auth import Token
from eln_msc_plugin.eln.base import ElnAdapter, RecordRef
from eln_msc_plugin.eln.http import make_retry
from eln_msc_plugin.eln.spec import AdapterConfig
from eln_msc_plugin.testing.contract import AdapterContract
from tests.support.elabftw import Lab, fields_from_record, metadata_for, open_adapter


class TestElabftwContract(AdapterContract):
    max_reads = 2  # the entry (fields, files, tags, comments at once), and the service account on first use
    max_writes = 4  # a first verdict: comment, report file, tag, msc_qc field
    max_unchanged_requests = 1  # the entry
    fault_record_id = "experiments/1"

    @pytest.fixture
    def category(self, lab: Lab) -> str:
        return str(lab.fake.store.add_category("experiments", "MSC contract"))  # a fresh category per test

    @pytest.fixture
    def adapter(self, lab: Lab, category: str) -> Iterator[ElnAdapter]:
        adapter = open_adapter(lab, category=category)
        yield adapter
        adapter.close()

    @pytest.fixture
    def filters(self, category: str) -> dict[str, Any]:
        return {"category": category, "entries": "experiments"}

    @pytest.fixture
    def make_record(self, lab: Lab, category: str) -> Callable[[Any], RecordRef]:
        def make(data: Any) -> RecordRef:
            metadata = metadata_for(data) if data is not None else {
                "extra_fields": {"Incubator": {"type": "text", "value": "B2"}}}
            return RecordRef(lab.save(data or {}, metadata=metadata, category=int(category)))

        return make

    @pytest.fixture
    def edit_record(self, lab: Lab) -> Callable[[RecordRef, Any], None]:
        def edit(ref: RecordRef, data: Any) -> None:  # the scientist's script sends the new values at once
            values = {name: {"value": field["value"]} for name, field in fields_from_record(data).items()}
            answer = lab.call("PATCH", ref.id, json={"metadatamerge": {"extra_fields": values}})
            assert answer.status_code == 200, answer.text

        return edit

    @pytest.fixture
    def adapter_at(self) -> Callable[[str], ElnAdapter]:
        def at(url: str) -> ElnAdapter:
            config = AdapterConfig(url, Token("contract-fault-key-0123456789"), {}, timeout=(2.0, 5.0))
            return ElabftwAdapter(config, retry=make_retry(total=2, backoff=0.01))

        return at

    @pytest.fixture
    def report_files(self, lab: Lab) -> Callable[[RecordRef], dict[str, bytes]]:
        def files(ref: RecordRef) -> dict[str, bytes]:
            uploads = [u for u in lab.entry(ref.id)["uploads"] if u["real_name"].startswith(REPORT_PREFIX)]
            return {u["real_name"]: lab.call("GET", f"{ref.id}/uploads/{u['id']}", params={"format": "binary"}).content
                    for u in uploads}

        return files
