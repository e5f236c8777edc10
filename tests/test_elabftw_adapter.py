"""The eLabFTW adapter against the fake: reading, annotating in place, idempotence, locks, keys and faults."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from eln_msc_plugin.backfill.runner import restored
from eln_msc_plugin.eln.base import ChangeQuery
from eln_msc_plugin.eln.judge import Outcome, judge_and_annotate
from eln_msc_plugin.errors import ElnError
from eln_msc_plugin.pipeline import Engine
from tests.support.elabftw import TEMPLATE, Lab, elabftw_engine, metadata_for, open_adapter, writes_to
from tests.support.fake_elabftw import Fault
from tests.support.records import BASE, record
from tests.support.xmlgen import to_xml

FAILING = record(production_passage=6, passages=BASE["passages"])


@pytest.fixture(scope="module")
def engine() -> Engine:
    return elabftw_engine()


def judge(lab: Lab, engine: Engine, ref: str, **options: Any) -> Outcome:
    adapter = open_adapter(lab, **options)  # options: the adapter's (category, entries) and timeout
    adapter.me()  # the service account is looked up once per adapter, not per entry
    try:
        return judge_and_annotate(adapter, engine, adapter.ref(ref))
    finally:
        adapter.close()


def later(lab: Lab, seconds: int = 2) -> None:
    """Let the fake's clock (whole seconds, like MySQL) move on, so two changes get two stamps."""
    lab.fake.store.clock_offset += dt.timedelta(seconds=seconds)


def test_a_new_entry_gets_comment_tag_field_and_report_in_four_writes(lab: Lab, engine: Engine) -> None:
    ref = lab.save(FAILING)
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.verdict, outcome.reads, outcome.writes) == ("annotated", "fail", 1, 4)
    entry = lab.entry(ref)
    [comment] = entry["comments"]
    assert comment["userid"] == lab.service_user and comment["comment"].startswith("MSC QC verdict: FAIL")
    assert "Production passage P6" in comment["comment"] and "[passage.window]" in comment["comment"]
    assert entry["tags"] == "qc-fail"
    annotation = lab.annotation(ref)
    assert annotation is not None and annotation["verdict"] == "fail"
    assert annotation["judged_revision"] == outcome.judged_revision and len(annotation["content_sha256"]) == 64
    assert annotation["rule_pack"].startswith("msc-default ") and len(annotation["ruleset_sha256"]) == 64
    assert annotation["engine"].startswith("eln-msc-plugin ") and annotation["evaluated_at"].endswith("+00:00")
    [upload] = entry["uploads"]
    assert upload["real_name"] == annotation["report_file"] and annotation["report_file"] in comment["comment"]
    report = json.loads(lab.call("GET", f"{ref}/uploads/{upload['id']}", params={"format": "binary"}).content)
    assert report["report"]["verdict"] == "fail" and report["content_hash"] == annotation["content_sha256"]


def test_the_annotation_touches_no_other_metadata(lab: Lab, engine: Engine) -> None:
    metadata = {**metadata_for(BASE), "elabftw": {"extra_fields_groups": [{"id": 1, "name": "Lot"}]},
                "lab_notes": {"incubator": "B2"}}
    ref = lab.save(BASE, metadata=metadata)
    before = json.loads(lab.entry(ref)["metadata"])
    judge(lab, engine, ref)
    after = json.loads(lab.entry(ref)["metadata"])
    assert after["elabftw"] == before["elabftw"] and after["lab_notes"] == before["lab_notes"]
    assert {k: v for k, v in after["extra_fields"].items() if k != "msc_qc"} == before["extra_fields"]
    assert after["extra_fields"]["msc_qc"]["readonly"] is True


def test_an_unchanged_entry_costs_one_read_and_no_write(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    judge(lab, engine, ref)
    later(lab)
    lab.call("PATCH", ref, json={"action": "pin"})  # not content: the pin moves nothing the rules read
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.reads, outcome.writes) == ("unchanged", 1, 0)


@pytest.mark.parametrize("tags_touch", [False, True], ids=["tags-as-in-the-source", "tags-move-modified_at"])
def test_a_new_verdict_supersedes_and_deletes_nothing(lab: Lab, engine: Engine, tags_touch: bool) -> None:
    lab.fake.store.tags_touch = tags_touch
    ref = lab.save(BASE)
    first = judge(lab, engine, ref)
    later(lab)
    lab.set_field(ref, "production_passage", "6")
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.verdict, outcome.reads, outcome.writes) == ("annotated", "fail", 1, 5)
    entry = lab.entry(ref)
    assert entry["tags"] == "qc-fail"
    assert len(entry["comments"]) == 2 and len(entry["uploads"]) == 2  # the first verdict's are kept
    annotation = lab.annotation(ref)
    assert annotation is not None and annotation["supersedes"].startswith(f"pass of revision {first.judged_revision}")
    assert "Supersedes: pass" in entry["comments"][1]["comment"]


def test_same_verdict_again_keeps_the_tag_in_three_writes(lab: Lab, engine: Engine) -> None:
    ref = lab.save(FAILING)
    judge(lab, engine, ref)
    later(lab)
    lab.set_field(ref, "donor_id", "D-018")
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.verdict, outcome.writes) == ("annotated", "fail", 3)
    assert writes_to(lab.fake, ref)[-3:] == ["POST comments", "POST uploads", "PATCH"]


def test_attached_batch_record_files_are_judged_with_the_fields(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    lab.attach(ref, "lot-42.xml", to_xml(FAILING))
    lab.attach(ref, "photo.png", b"\x89PNG not a batch record")
    outcome = judge(lab, engine, ref)
    assert outcome.verdict == "fail" and outcome.reads == 2  # the entry, then the XML file (not the picture)
    assert any("[lot-42.xml (file" in text for text in outcome.annotation.findings)
    assert "lot-42.xml" in lab.annotation(ref)["sources"]


def test_a_report_file_is_not_read_as_a_batch_record(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    judge(lab, engine, ref)
    content = open_adapter(lab).read(open_adapter(lab).ref(ref))
    assert [s.name for s in content.sources] == ["extra fields"]


def test_an_entry_of_the_category_without_batch_fields_gets_the_error_verdict(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE, metadata={"extra_fields": {"Incubator": {"type": "text", "value": "B2"}}})
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.verdict) == ("annotated", "error")
    assert "No batch record found" in lab.entry(ref)["comments"][0]["comment"]
    unwatched = judge(lab, engine, ref, category=None)  # watching every entry: entries of the lab's are left alone
    assert (unwatched.status, unwatched.writes) == ("skipped", 0) and "not in a watched category" in unwatched.detail


def test_an_entry_made_from_the_template_waits_until_something_is_filled_in(lab: Lab, engine: Engine) -> None:
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    ref = lab.save(BASE, metadata=template["metadata"])
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.writes) == ("skipped", 0) and "not filled in yet" in outcome.detail
    lab.set_field(ref, "lot_id", "MSC-BM-050")
    assert judge(lab, engine, ref).verdict == "fail"  # judged, and far from complete


def test_a_locked_entry_gets_the_comment_only_and_says_so(lab: Lab, engine: Engine) -> None:
    ref = lab.save(FAILING)
    lab.call("PATCH", ref, json={"action": "lock"})
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.writes) == ("partial", 1) and "locked" in outcome.detail
    entry = lab.entry(ref)
    assert entry["tags"] is None and entry["uploads"] == [] and lab.annotation(ref) is None
    assert "This entry is locked: only this comment was written" in entry["comments"][0]["comment"]
    again = judge(lab, engine, ref)
    assert (again.status, again.writes) == ("partial", 0)  # the comment is there: not written twice


def test_the_exclusive_edit_lock_defers_the_whole_annotation(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    entity = lab.fake.store.entities[("experiments", int(ref.split("/")[1]))]
    entity.edit_mode = (lab.scientist_user, lab.fake.store.now())
    with pytest.raises(ElnError, match="Grace Hopper is editing the entry") as caught:
        judge(lab, engine, ref)
    assert caught.value.retryable and writes_to(lab.fake, ref) == []
    entity.edit_mode = None
    assert judge(lab, engine, ref).status == "annotated"


def test_a_read_only_key_writes_nothing_and_says_why(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    adapter = open_adapter(lab, lab.readonly_key)
    with pytest.raises(ElnError, match="read-only key"):
        judge_and_annotate(adapter, engine, adapter.ref(ref))
    assert lab.entry(ref)["comments"] == []


def test_malformed_metadata_gives_an_error_verdict_without_the_field(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    lab.fake.store.entities[("experiments", int(ref.split("/")[1]))].metadata = '{"extra_fields": {"lot_id": '
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.verdict, outcome.writes) == ("partial", "error", 3)
    assert "not valid JSON" in outcome.detail and lab.entry(ref)["tags"] == "qc-error"
    assert "not valid JSON" in lab.entry(ref)["comments"][0]["comment"]
    assert (judge(lab, engine, ref).writes) == 0


def test_a_crash_before_the_field_is_finished_without_writing_anything_twice(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    later(lab)  # the report upload moves modified_at, so the judgement comes back with another stamp
    lab.fake.inject(Fault(status=500, method="PATCH", path=f"/{ref}$"))
    with pytest.raises(ElnError):
        judge(lab, engine, ref)
    assert writes_to(lab.fake, ref) == ["POST comments", "POST uploads", "POST tags"]
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.writes) == ("annotated", 1)
    assert outcome.judged_revision != lab.entry(ref)["created_at"]
    entry = lab.entry(ref)
    assert writes_to(lab.fake, ref)[-1] == "PATCH" and len(entry["comments"]) == len(entry["uploads"]) == 1
    assert lab.annotation(ref)["report_file"] == entry["uploads"][0]["real_name"]


def test_a_comment_whose_answer_was_lost_is_not_written_again(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    lab.fake.inject(Fault(status=502, method="POST", path="/comments$", after=True))
    with pytest.raises(ElnError):
        judge(lab, engine, ref)
    assert judge(lab, engine, ref).status == "annotated"
    assert len(lab.entry(ref)["comments"]) == 1 and len(lab.fake.requests("POST", "/comments$")) == 1


@pytest.mark.slow  # waits out Retry-After, timeouts or a rate window, as the protocol says
@pytest.mark.parametrize("status", [429, 503], ids=["rate-limited", "unavailable"])
def test_retry_after_is_honoured_and_the_entry_annotated(lab: Lab, engine: Engine, status: int) -> None:
    ref = lab.save(BASE)
    lab.fake.inject(Fault(status=status, retry_after=1, method="GET", path=f"/{ref}$", times=2))
    lab.fake.inject(Fault(status=status, retry_after=0, method="POST", path="/comments$"))
    outcome = judge(lab, engine, ref)
    assert outcome.status == "annotated" and len(lab.entry(ref)["comments"]) == 1
    assert len([e for e in lab.fake.requests() if e.fault]) == 3


@pytest.mark.slow  # waits out Retry-After, timeouts or a rate window, as the protocol says
def test_a_server_too_slow_is_a_clear_retryable_error(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    lab.fake.inject(Fault(delay=1.0, method="GET", path=f"/{ref}$", times=3))
    with pytest.raises(ElnError, match="did not answer in time") as caught:
        judge(lab, engine, ref, timeout=(5.0, 0.3))
    assert caught.value.retryable and lab.service_key not in str(caught.value)


def test_own_write_is_recognised_from_the_listing_and_a_scientists_edit_is_not(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    judge(lab, engine, ref)
    adapter = open_adapter(lab)
    [listed] = list(adapter.changes(ChangeQuery()))
    assert adapter.is_own_write(listed)
    lab.set_field(ref, "donor_id", "D-099")  # same second as the plugin's write, lastchangeby unchanged
    [listed] = list(adapter.changes(ChangeQuery()))
    assert listed.modified_by == str(lab.service_user) and not adapter.is_own_write(listed)
    judge(lab, engine, ref)
    lab.attach(ref, "extra.json", json.dumps(BASE).encode())
    [listed] = list(adapter.changes(ChangeQuery()))
    assert not adapter.is_own_write(listed)


def test_changes_lists_both_kinds_of_the_category_newest_first(lab: Lab) -> None:
    experiment = lab.save(BASE)
    later(lab)
    item = lab.save(BASE, entity_type="items")
    lab.save(BASE, category=lab.fake.store.add_category("experiments", "Western blot 2"))
    adapter = open_adapter(lab, category="MSC batch record,MSC lot")
    assert [r.id for r in adapter.changes(ChangeQuery(page_size=2))] == [experiment, item]
    only_items = open_adapter(lab, category=str(lab.item_category), entries="items")
    assert [r.id for r in only_items.changes(ChangeQuery())] == [item]
    with pytest.raises(Exception, match="no such category"):
        list(open_adapter(lab, category="Flow cytometry").changes(ChangeQuery()))


def test_changes_stop_at_since_and_list_pinned_entries_whatever_their_date(lab: Lab) -> None:
    old = [lab.save(BASE, title=f"old {i}") for i in range(3)]
    lab.call("PATCH", old[0], json={"action": "pin"})
    later(lab, 60)
    bound = lab.fake.store.now().replace(tzinfo=dt.UTC)
    new = [lab.save(BASE, title=f"new {i}") for i in range(2)]
    adapter = open_adapter(lab)
    listed = [r.id for r in adapter.changes(ChangeQuery(since=bound - dt.timedelta(seconds=1), page_size=2))]
    assert listed == [old[0], new[1], new[0]]  # pinned first (DisplayParams::getSql), then back to the bound


def test_a_listing_that_moves_up_under_the_walk_is_reported(lab: Lab) -> None:
    refs = [lab.save(BASE, title=f"lot {i}") for i in range(6)]
    adapter = open_adapter(lab)
    changes = adapter.changes(ChangeQuery(page_size=3))
    walk = iter(changes)
    first = [next(walk) for _ in range(3)]
    lab.call("DELETE", refs[5])  # the newest, already listed: the rest shift up by one
    rest = list(walk)
    assert changes.unreached() == 1 and {r.id for r in first + rest} >= set(refs[:4])


def test_account_names_the_user_and_team(lab: Lab) -> None:
    account = open_adapter(lab).account()
    assert account.name == "MSC QC bot" and account.id == str(lab.service_user)
    assert account.details["team"] == "Cell therapy (id 1)" and account.can_write is None  # one rw, one ro key


def test_a_save_slipping_in_while_writing_makes_the_write_stale(lab: Lab, engine: Engine) -> None:
    ref = lab.save(BASE)
    adapter = open_adapter(lab)
    prepare = adapter.prepare

    def scientist_saves_meanwhile(content: Any) -> Any:
        lab.attach(ref, "lot.xml", to_xml(FAILING))
        return prepare(content)

    adapter.prepare = scientist_saves_meanwhile
    outcome = judge_and_annotate(adapter, engine, adapter.ref(ref))
    assert outcome.status == "stale" and "changed while the annotation was written" in outcome.detail
    adapter.prepare = prepare
    again = judge_and_annotate(adapter, engine, adapter.ref(ref))
    assert (again.status, again.verdict) == ("annotated", "fail") and "lot.xml" in lab.annotation(ref)["sources"]


def test_a_verdict_edited_by_hand_does_not_pass_for_the_plugins_and_is_put_right(lab: Lab, engine: Engine) -> None:
    ref = lab.save(FAILING)
    judge(lab, engine, ref)
    field = json.loads(json.loads(lab.entry(ref)["metadata"])["extra_fields"]["msc_qc"]["value"])
    lab.set_field(ref, "msc_qc", json.dumps({**field, "verdict": "pass"}))  # someone "passes" the lot by hand
    adapter = open_adapter(lab)
    [listed] = list(adapter.changes(ChangeQuery()))
    assert not adapter.is_own_write(listed)
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.verdict, outcome.writes) == ("annotated", "fail", 1)  # the field, put back
    assert lab.annotation(ref)["verdict"] == "fail" and lab.entry(ref)["tags"] == "qc-fail"
    assert "changed by hand to pass" in lab.annotation(ref)["altered"]


def test_a_verdict_set_by_hand_in_field_and_tag_is_put_back_and_the_alteration_recorded(lab: Lab,
                                                                                         engine: Engine) -> None:
    """Field and tag agree with each other, the content did not change: only the plugin's own comment for that
    judgement tells the verdict is not the one it wrote (no request beyond the entry read)."""
    ref = lab.save(FAILING)
    judge(lab, engine, ref)
    field = json.loads(json.loads(lab.entry(ref)["metadata"])["extra_fields"]["msc_qc"]["value"])
    lab.set_field(ref, "msc_qc", json.dumps({**field, "verdict": "pass"}))
    tag_id = lab.entry(ref)["tags_id"]
    assert lab.call("PATCH", f"{ref}/tags/{tag_id}", json={"action": "unreference"}).status_code < 300
    assert lab.call("POST", f"{ref}/tags", json={"tag": "qc-pass"}).status_code == 201
    comments = lab.entry(ref)["comments"]
    outcome = judge(lab, engine, ref)
    assert (outcome.status, outcome.verdict, outcome.reads, outcome.writes) == ("annotated", "fail", 1, 3)
    assert restored(outcome) == "restored"  # how the backfill counts it
    found = lab.annotation(ref)
    assert found is not None and found["verdict"] == "fail" and lab.entry(ref)["tags"] == "qc-fail"
    assert found["altered"].startswith("the msc_qc field's verdict was changed by hand to pass (the QC check "
                                       "wrote fail")
    assert lab.entry(ref)["comments"] == comments  # the comment of that judgement stands: it says fail
    again = judge(lab, engine, ref)
    assert (again.status, again.reads, again.writes) == ("unchanged", 1, 0)
