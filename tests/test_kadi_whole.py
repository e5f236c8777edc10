"""The annotation on the real Kadi4Mat is written whole and cannot be quietly overwritten.

- Whole: at every moment a client looks, a record whose `msc_qc` extra names a report file has that file
  (the report is uploaded first, then the tag and extra in one write).
- Never overwritten: a new check of a record after only an attached file changed keeps the earlier report.
- Tamper-evident: a person who sets the verdict tag or extra by hand triggers a new check; the plugin puts
  the true verdict back and records who altered it, in which revision.
"""

from __future__ import annotations

import json
import time

import pytest

from eln_msc_plugin.kadi.client import KadiClient
from tests.support.kadi import (
    Stack,
    annotation,
    batch_extras,
    create_batch_record,
    human_revision,
    wait_annotation,
    wait_for,
)
from tests.support.records import record, set_path

pytestmark = pytest.mark.kadi


def _check_whole(client: object, record_id: int) -> dict[str, object]:
    """The annotation as a client sees it now; fails if it names a report file that is not attached."""
    found = annotation(client, record_id)  # type: ignore[arg-type]
    if found.get("report_file"):
        names = {f["name"] for f in client.files(record_id)}  # type: ignore[attr-defined]
        assert found["report_file"] in names, f"msc_qc names {found['report_file']}, attached: {sorted(names)}"
    return found


def test_a_report_file_named_by_the_annotation_is_always_attached(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record())
    looks = 0
    for passage in (7, 4, 7):
        scientist.patch_record(created["id"], {"extras": batch_extras(record(production_passage=passage))})
        revision = human_revision(scientist, created["id"])
        deadline = time.monotonic() + 60
        while True:  # look as often as a client can while the check runs, until it judges this revision
            found = _check_whole(scientist, created["id"])
            looks += 1
            if found.get("judged_revision") == revision:
                break
            assert time.monotonic() < deadline, f"no annotation of revision {revision} within 60 s"
    assert looks > 3


def _replace_file(client: KadiClient, record_id: int, name: str, data: bytes) -> None:
    """Replace an attached file's content, as a scientist does in Kadi (a new file revision, same name)."""
    file = next(f for f in client.files(record_id) if f["name"] == name)
    upload = client.session.request("PUT", f"api/records/{record_id}/files/{file['id']}", json={"size": len(data)})
    assert upload.status_code == 201, upload.text
    done = client.session.request("PUT", upload.json()["_actions"]["upload_data"], data=data,
                                  headers={"Content-Type": "application/octet-stream"})
    assert done.status_code == 201, done.text


def test_a_file_only_change_keeps_the_earlier_report(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, None)
    scientist.upload(created["id"], "batch.json", json.dumps(record()).encode())
    first = wait_for(lambda: (a := annotation(scientist, created["id"])) and "batch.json@" in str(
        a.get("files_judged")) and a, 60, what="the verdict of the attached file")
    assert first["verdict"] == "pass"
    before = {f["name"]: f for f in scientist.files(created["id"])}
    bad = set_path(record(), "/senescence/beta_gal/percent_positive", 25.0)
    _replace_file(scientist, created["id"], "batch.json",
                  json.dumps(set_path(bad, "/senescence/beta_gal/positive_cells", 75)).encode())
    second = wait_for(lambda: (a := annotation(scientist, created["id"])) and a.get("verdict") == "fail" and a,
                      60, what="the verdict of the changed file")
    after = {f["name"]: f for f in scientist.files(created["id"])}
    assert second["report_file"] != first["report_file"]
    assert {first["report_file"], second["report_file"]} <= set(after)
    earlier = before[first["report_file"]]
    assert after[first["report_file"]]["checksum"] == earlier["checksum"]  # the earlier report is untouched
    assert json.loads(scientist.download(created["id"], earlier["id"]))["report"]["verdict"] == "pass"


def test_a_verdict_set_by_hand_is_restored_with_the_alteration_recorded(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record(production_passage=7))
    first = wait_annotation(scientist, created["id"], human_revision(scientist, created["id"]), timeout=60)
    assert first["verdict"] == "fail"
    current = scientist.record(created["id"])
    forged = next(e for e in current["extras"] if e["key"] == "msc_qc")
    forged["value"] = [dict(m, value="pass") if m["key"] == "verdict" else m for m in forged["value"]]
    extras = [e for e in current["extras"] if e["key"] != "msc_qc"] + [forged]
    scientist.patch_record(created["id"], {"extras": extras, "tags": ["qc-pass"]})
    tampered = human_revision(scientist, created["id"])
    restored = wait_for(lambda: (a := annotation(scientist, created["id"])) and a.get("verdict") == "fail"
                        and a.get("judged_revision") == tampered and a, 60, what="the true verdict back")
    assert restored["_tags"] == ["qc-fail"]
    assert restored["altered"] == f"changed by MSC Scientist (scientist) in revision {tampered}"
    assert restored["findings"] == first["findings"]
