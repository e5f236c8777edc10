"""The ELN adapter contract, run against the Kadi adapter and the real Kadi4Mat stack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from eln_msc_plugin.eln.auth import BearerAuth, Token
from eln_msc_plugin.eln.base import REPORT_PREFIX, ElnAdapter, RecordRef
from eln_msc_plugin.eln.http import ElnSession, make_retry
from eln_msc_plugin.kadi.adapter import KadiAdapter
from eln_msc_plugin.kadi.client import KadiClient
from eln_msc_plugin.testing.contract import AdapterContract
from tests.support.historical import new_type
from tests.support.kadi import Stack, batch_extras, extra, new_identifier

pytestmark = pytest.mark.kadi


class TestKadiContract(AdapterContract):
    max_reads = 1  # the plugin's view of the record
    max_writes = 1  # the plugin's endpoint: the report file, then tag and extra, in one request
    max_unchanged_requests = 1  # the plugin's view of the record

    @pytest.fixture
    def record_type(self) -> str:
        return new_type()  # a type no on-save check watches: the suite's writes are the only ones

    @pytest.fixture
    def adapter(self, stack: Stack) -> Iterator[ElnAdapter]:
        with KadiAdapter(stack.url, Token.from_file(stack.service_token_file)) as adapter:
            yield adapter

    @pytest.fixture
    def filters(self, record_type: str) -> dict[str, Any]:
        return {"type": record_type}

    @pytest.fixture
    def make_record(self, stack: Stack, record_type: str) -> Callable[[Any], RecordRef]:
        scientist = stack.scientist()

        def make(data: Any) -> RecordRef:
            extras = batch_extras(data) if data is not None else [extra("note", "no batch data")]
            created = scientist.create_record({"identifier": new_identifier("c"), "title": "contract",
                                               "type": record_type, "extras": extras})
            return RecordRef(str(created["id"]))

        return make

    @pytest.fixture
    def edit_record(self, stack: Stack) -> Callable[[RecordRef, Any], None]:
        scientist = stack.scientist()
        return lambda ref, data: scientist.patch_record(int(ref.id), {"extras": batch_extras(data)})

    @pytest.fixture
    def adapter_at(self) -> Callable[[str], ElnAdapter]:
        def at(url: str) -> ElnAdapter:
            token = Token("pat_contract-fault-0123456789")
            session = ElnSession(url, BearerAuth(token), timeout=(2.0, 5.0), retry=make_retry(total=2, backoff=0.01))
            return KadiAdapter(url, token, client=KadiClient(url, token, session=session))

        return at

    @pytest.fixture
    def report_files(self, stack: Stack) -> Callable[[RecordRef], dict[str, bytes]]:
        scientist = stack.scientist()

        def files(ref: RecordRef) -> dict[str, bytes]:
            found = [f for f in scientist.files(int(ref.id)) if f["name"].startswith(REPORT_PREFIX)]
            return {f["name"]: scientist.download(int(ref.id), f["id"]) for f in found}

        return files
