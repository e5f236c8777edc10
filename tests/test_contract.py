"""The adapter contract suite, run against the toy ELN: a sound adapter passes it, and each deliberately
broken one fails it (the suite can fail), run in a separate pytest session."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from eln_msc_plugin.eln.base import ElnAdapter, RecordRef
from eln_msc_plugin.eln.http import make_retry
from eln_msc_plugin.testing.contract import AdapterContract
from tests.support.toy_broken import BROKEN
from tests.support.toy_eln import Notebook, ToyAdapter, ToyPerson, serve

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def toy_url() -> Iterator[str]:
    with serve(Notebook()) as server:
        yield server.url


class ToyFixtures:
    """The fixtures the contract asks for, for the toy ELN; `kind` is the adapter class under test."""

    kind: type[ToyAdapter] = ToyAdapter

    @pytest.fixture
    def tag(self) -> str:
        return uuid.uuid4().hex[:10]

    @pytest.fixture
    def adapter(self, toy_url: str) -> Iterator[ElnAdapter]:
        adapter = self.kind(toy_url)
        yield adapter
        adapter.close()

    @pytest.fixture
    def filters(self, tag: str) -> dict[str, Any]:
        return {"tag": tag}

    @pytest.fixture
    def make_record(self, toy_url: str, tag: str) -> Callable[[Any], RecordRef]:
        person = ToyPerson(toy_url)
        return lambda data: RecordRef(str(person.create(tag, data)))

    @pytest.fixture
    def edit_record(self, toy_url: str) -> Callable[[RecordRef, Any], None]:
        return lambda ref, data: ToyPerson(toy_url).edit(ref.id, data)

    @pytest.fixture
    def adapter_at(self) -> Callable[[str], ElnAdapter]:
        return lambda url: self.kind(url, retry=make_retry(total=2, backoff=0.01))

    @pytest.fixture
    def report_files(self, toy_url: str) -> Callable[[RecordRef], dict[str, bytes]]:
        return lambda ref: ToyPerson(toy_url).files(ref.id)


class TestToyContract(ToyFixtures, AdapterContract):
    """A sound adapter passes every point of the contract."""


BROKEN_MODULE = """
from tests.support.toy_broken import BROKEN
from tests.test_contract import ToyFixtures, toy_url  # noqa: F401 - the fixture
from eln_msc_plugin.testing.contract import AdapterContract


class TestBroken(ToyFixtures, AdapterContract):
    kind = BROKEN[{kind!r}]
"""

FAULTS = ("401", "403", "404", "429", "500", "drop", "empty", "not-json", "refused", "wrong-shape")
EXPECTED_FAILURES = {
    "rewrites-reports": ["test_annotating_again_supersedes_and_overwrites_nothing"],
    "never-unchanged": ["test_annotate_writes_a_verdict_that_reads_back",
                        "test_an_unchanged_record_costs_at_most_one_request_and_no_write"],
    "clobbers": ["test_a_save_during_the_write_is_never_lost"],
    # (a body of the wrong shape still fails its own checks on the way, and so is an ElnError)
    "leaks-errors": [f"test_every_http_failure_is_an_eln_error[{fault}-{op}]"
                     for op in ("account", "changes", "read") for fault in FAULTS
                     if (fault, op) not in {("wrong-shape", "account"), ("wrong-shape", "read")}],
    "blind-to-own-writes": ["test_the_plugins_own_write_is_recognised"],
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(BROKEN), ids=sorted(BROKEN))
def test_the_suite_fails_a_broken_adapter(pytester: pytest.Pytester, kind: str) -> None:
    """The contract's tests that a broken adapter must fail do fail (run in their own pytest session)."""
    pytester.makepyfile(test_broken=BROKEN_MODULE.format(kind=kind))
    names = sorted({name.split("[")[0] for name in EXPECTED_FAILURES[kind]})
    recorder = pytester.inline_run("-q", "-p", "no:cacheprovider", "-k", " or ".join(names))
    passed, skipped, failed = recorder.listoutcomes()
    assert sorted(report.nodeid.split("::")[-1] for report in failed) == sorted(EXPECTED_FAILURES[kind])
    assert not skipped and len(passed) == (2 if kind == "leaks-errors" else 0)
