"""`eln-msc doctor --eln elabftw`: each check against the fake, passing and failing with a fix to apply."""

from __future__ import annotations

from typing import Any

import pytest

from eln_msc_plugin.elabftw.plugin import doctor
from eln_msc_plugin.eln.spec import AdapterConfig, Check
from tests.support.elabftw import Lab, open_adapter
from tests.support.records import BASE


def checks(lab: Lab, key: str | None = None, **options: Any) -> dict[str, Check]:
    adapter = open_adapter(lab, key, **options)
    try:
        return {c.name: c for c in doctor(adapter, AdapterConfig(lab.url))}
    finally:
        adapter.close()


def test_a_good_install_passes_every_check(lab: Lab) -> None:
    lab.save(BASE)
    found = checks(lab)
    assert list(found) == ["reachable", "key", "team", "category", "read/write", "tags"]
    assert all(c.ok and not c.warning for c in found.values()), found
    assert "answers at" in found["reachable"].detail and "MSC QC bot" in found["key"].detail
    assert "Cell therapy (id 1)" in found["team"].detail and "categor" in found["category"].detail
    assert lab.fake.requests("PATCH") and lab.entry("experiments/1")["comments"] == []  # the probe changed nothing


def test_a_refused_key_fails_with_the_fix(lab: Lab) -> None:
    found = checks(lab, "wrong-key")
    assert found["reachable"].ok and not found["key"].ok and "HTTP 401" in found["key"].detail
    assert "without 'Bearer'" in found["key"].fix
    assert "wrong-key" not in found["key"].detail


def test_a_read_only_key_fails_the_write_check(lab: Lab) -> None:
    lab.save(BASE)
    found = checks(lab, lab.readonly_key)
    assert not found["read/write"].ok and "read-only key" in found["read/write"].detail
    assert "read/write API key" in found["read/write"].fix


def test_an_unknown_category_fails_and_skips_the_write_probe(lab: Lab) -> None:
    found = checks(lab, category="Flow cytometry")
    assert not found["category"].ok and "no such category" in found["category"].detail
    assert "read/write" not in found


def test_missing_qc_tags_fail_when_users_cannot_create_tags(lab: Lab) -> None:
    lab.fake.store.user_create_tag[1] = 0
    found = checks(lab)
    assert not found["tags"].ok and "qc-pass, qc-warn, qc-fail, qc-error" in found["tags"].detail
    for tag in ("qc-pass", "qc-warn", "qc-fail", "qc-error"):
        lab.fake.store.tags[lab.fake.store.next_id("tag")] = (1, tag)
    assert checks(lab)["tags"].ok


@pytest.mark.slow  # waits out Retry-After, timeouts or a rate window, as the protocol says
def test_an_unreachable_instance_fails_first(lab: Lab) -> None:
    from eln_msc_plugin.elabftw.adapter import ElabftwAdapter
    from eln_msc_plugin.eln.auth import Token

    adapter = ElabftwAdapter(AdapterConfig("http://127.0.0.1:9", Token("k"), {}, timeout=(1.0, 1.0)))
    [reachable] = list(doctor(adapter, AdapterConfig("http://127.0.0.1:9")))
    assert not reachable.ok and "cannot reach" in reachable.detail
