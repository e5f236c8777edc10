"""The Kadi4Mat plugin against a real Kadi4Mat (PostgreSQL, Redis, uWSGI, Celery): save → verdict on the record."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from tests.support.kadi import (
    Stack,
    annotation,
    batch_extras,
    create_batch_record,
    extra,
    human_revision,
    judge_now,
    wait_annotation,
    wait_for,
)
from tests.support.records import record, set_path
from tests.support.xmlgen import to_xml

pytestmark = pytest.mark.kadi


def test_passing_record_gets_qc_pass_tag_extra_and_report(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record())
    revision = human_revision(scientist, created["id"])
    found = wait_annotation(scientist, created["id"], revision)
    assert found["verdict"] == "pass"
    assert found["_tags"] == ["qc-pass"]
    assert found["rule_pack"].startswith("msc-default ") and len(found["ruleset_sha256"]) == 64
    assert found["engine"].startswith("eln-msc-plugin ")
    assert re.match(r"\d{4}-\d\d-\d\dT", found["evaluated_at"])
    files = {f["name"]: f for f in scientist.files(created["id"])}
    assert found["report_file"].startswith(f"msc-qc-report-r{revision}-") and found["report_file"] in files
    body = json.loads(scientist.download(created["id"], files[found["report_file"]]["id"]))
    assert body["judged_revision"] == revision and body["report"]["verdict"] == "pass"
    assert body["content_hash"] == found["content_hash"] and len(found["content_hash"]) == 64
    assert body["ruleset"]["thresholds"]["pdl.limit"]["production"]["fail_above"] == 12
    assert body["report"]["metrics"]["passage_class"] == "optimal"


def test_failing_record_then_fixed_changes_the_verdict(stack: Stack) -> None:
    scientist = stack.scientist()
    bad = record(production_passage=6)
    bad["passages"].append(dict(bad["passages"][-1], number=5, seeded_at="2026-01-27", harvested_at="2026-02-02"))
    bad["passages"].append(dict(bad["passages"][-1], number=6, seeded_at="2026-02-03", harvested_at="2026-02-09"))
    created = create_batch_record(scientist, bad)
    first = wait_annotation(scientist, created["id"], human_revision(scientist, created["id"]))
    assert first["verdict"] == "fail" and first["_tags"] == ["qc-fail"]
    assert any("[passage.window]" in text and "P6" in text for text in first["findings"]), first["findings"]

    scientist.patch_record(created["id"], {"extras": batch_extras(record())})
    fixed_revision = human_revision(scientist, created["id"])
    second = wait_annotation(scientist, created["id"], fixed_revision)
    assert second["verdict"] == "pass" and second["_tags"] == ["qc-pass"]
    assert second["supersedes"].startswith("fail of revision ")
    names = {f["name"] for f in scientist.files(created["id"])}
    assert {first["report_file"], second["report_file"]} <= names  # superseded, not overwritten
    assert first["report_file"] in second["supersedes"]


def test_scientist_tags_and_extras_survive_annotation(stack: Stack) -> None:
    scientist = stack.scientist()
    created = scientist.create_record({"identifier": f"keep-{time.time_ns()}", "title": "kept", "type": "msc_batch",
                                       "tags": ["donor-017", "qc-fail"], "extras": batch_extras(record())
                                       + [extra("operator", "AB")]})
    found = wait_annotation(scientist, created["id"], human_revision(scientist, created["id"]))
    assert sorted(found["_tags"]) == ["donor-017", "qc-pass"]  # the stale qc-fail tag is replaced
    keys = [e["key"] for e in scientist.record(created["id"])["extras"]]
    assert "operator" in keys and keys.count("msc_qc") == 1


@pytest.mark.parametrize("fmt", ["xml", "json"], ids=["attached-xml", "attached-json"])
def test_attached_batch_record_file_is_judged(stack: Stack, fmt: str) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, None)
    bad = set_path(record(), "/senescence/beta_gal/percent_positive", 25.0)
    set_path(bad, "/senescence/beta_gal/positive_cells", 75)
    data = to_xml(bad) if fmt == "xml" else json.dumps(bad).encode()
    scientist.upload(created["id"], f"batch.{fmt}", data, "application/xml" if fmt == "xml" else "application/json")
    found = wait_for(lambda: (a := annotation(scientist, created["id"])) and a["verdict"] != "error" and a,
                     20, what="the verdict of the attached file")
    assert found["verdict"] == "fail" and found["_tags"] == ["qc-fail"]
    assert any("[beta-gal.limit]" in text for text in found["findings"]), found["findings"]
    assert f"batch.{fmt}@" in found["files_judged"]


def test_wrong_types_fail_and_the_save_still_succeeds(stack: Stack) -> None:
    scientist = stack.scientist()
    extras = batch_extras(record())
    extras = [extra("production_passage", "four") if e["key"] == "production_passage" else e for e in extras]
    extras = [e for e in extras if e["key"] != "lot_id"]
    created = create_batch_record(scientist, None, extras=extras)
    assert created["id"] > 0  # the save itself succeeded
    found = wait_annotation(scientist, created["id"])
    assert found["verdict"] == "fail" and found["_tags"] == ["qc-fail"]
    assert any("[schema]" in t and "production_passage" in t for t in found["findings"])
    assert any("[schema]" in t and "lot_id" in t for t in found["findings"])


def test_record_without_batch_data_is_qc_error(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, None, extras=[extra("note", "just a note")])
    found = wait_annotation(scientist, created["id"])
    assert found["verdict"] == "error" and found["_tags"] == ["qc-error"]
    assert any("No batch record found" in text for text in found["findings"])


def test_other_record_types_are_left_alone(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record(), record_type="buffer_prep")
    time.sleep(3)
    assert annotation(scientist, created["id"]) == {}
    assert len(scientist.revisions(created["id"])) == 1


def test_two_quick_saves_final_annotation_judges_final_revision(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record(production_passage=9))
    scientist.patch_record(created["id"], {"extras": batch_extras(record())})
    final = human_revision(scientist, created["id"])
    found = wait_annotation(scientist, created["id"], final)
    time.sleep(2)  # let any task for the first revision finish too
    settled = annotation(scientist, created["id"])
    assert settled["judged_revision"] == final and settled["verdict"] == "pass" == found["verdict"]


def test_no_annotation_loop_revisions_settle(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record())
    wait_annotation(scientist, created["id"], human_revision(scientist, created["id"]))
    count = len(scientist.revisions(created["id"], per_page=50))
    time.sleep(4)
    revisions = scientist.revisions(created["id"], per_page=50)
    assert len(revisions) == count == 2, [(r["id"], r["user"]["identity"]["username"]) for r in revisions]
    assert [r["user"]["identity"]["username"] for r in revisions] == ["mscqc", "scientist"]


def test_token_revoked_then_kadi_down_task_retries_and_save_unaffected(stack: Stack) -> None:
    """A refused token, then Kadi unreachable: each logged clearly, retried; the save itself never fails."""
    scientist = stack.scientist()
    token = stack.service_token_file.read_text()
    before = len(stack.log("celery.log"))
    try:
        stack.service_token_file.write_text("revoked-" + "x" * 40)
        created = create_batch_record(scientist, record())
        assert created["id"] > 0
        wait_for(lambda: "HTTP 401" in stack.log("celery.log")[before:], 20, what="a logged 401")
        assert annotation(scientist, created["id"]) == {}
        stack.script("stop-kadi")
        stack.service_token_file.write_text(token)
        mark = len(stack.log("celery.log"))
        wait_for(lambda: "cannot reach the ELN" in stack.log("celery.log")[mark:], 30, what="a logged connection error")
    finally:
        stack.service_token_file.write_text(token)
        stack.script("start-kadi")
    found = wait_annotation(scientist, created["id"], timeout=60)
    assert found["verdict"] == "pass"
    log = stack.log("celery.log")[before:]
    assert "retrying in" in log
    assert token.strip() not in log and token.strip() not in stack.log("uwsgi.log")


def _login(stack: Stack, username: str) -> requests.Session:
    web = requests.Session()
    page = web.get(f"{stack.url}/login/local", timeout=10)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    password = (stack.service_token_file.parent / f"{username}.password").read_text().strip()
    form = {"username": username, "password": password, "csrf_token": csrf.group(1) if csrf else ""}
    response = web.post(f"{stack.url}/login/local", data=form, timeout=10)
    assert response.ok and "logout" in response.text.lower(), "could not log in to the Kadi web pages"
    return web


def test_overview_page_shows_verdict_and_findings(stack: Stack) -> None:
    scientist = stack.scientist()
    warn = set_path(record(), "/senescence/beta_gal/percent_positive", 12.0)
    created = create_batch_record(scientist, set_path(warn, "/senescence/beta_gal/positive_cells", 36))
    found = wait_annotation(scientist, created["id"], human_revision(scientist, created["id"]))
    assert found["verdict"] == "warn"
    html = _login(stack, "scientist").get(f"{stack.url}/records/{created['id']}", timeout=10).text
    assert 'class="card mt-3 eln-msc-qc" data-verdict="warn"' in html
    assert "MSC batch QC: WARN" in html
    for text in found["findings"]:
        assert _html_escape(text) in html
    assert f"Judged revision {found['judged_revision']}" in html


def _html_escape(text: str) -> str:
    from html import escape

    return escape(text)


@pytest.mark.parametrize("write_via", ["plugin", "patch"], ids=["plugin-endpoint", "kadi-patch-then-check"])
def test_concurrent_scientist_edit_is_not_clobbered(stack: Stack, write_via: str) -> None:
    """A save landing between the read and the write is never lost, and is judged on its own."""
    scientist = stack.scientist()
    created = create_batch_record(scientist, record(), record_type="msc_batch_manual")
    edited = batch_extras(record()) + [extra("operator", "late edit")]
    outcome = judge_now(stack, created["id"], write_via=write_via,
                         before_write=lambda: scientist.patch_record(created["id"], {"extras": edited}))
    assert outcome.status == "stale"
    keys = [e["key"] for e in scientist.record(created["id"])["extras"]]
    assert "operator" in keys  # the scientist's edit survived our write
    again = judge_now(stack, created["id"], write_via=write_via)
    assert again.status == "annotated"
    if write_via == "plugin":  # the endpoint refused to write: the scientist's save is the one judged
        assert again.judged_revision == str(human_revision(scientist, created["id"]))
    else:  # Kadi's PATCH overwrote it and the check put it back: that restoring revision is judged
        assert int(again.judged_revision) > human_revision(scientist, created["id"])
    keys = [e["key"] for e in scientist.record(created["id"])["extras"]]
    assert "operator" in keys and "msc_qc" in keys


def test_newer_annotation_is_never_replaced_by_an_older_judgement(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record(production_passage=9), record_type="msc_batch_manual")
    old_revision = human_revision(scientist, created["id"])
    scientist.patch_record(created["id"], {"extras": batch_extras(record())})
    assert judge_now(stack, created["id"]).status == "annotated"
    stale = judge_now(stack, created["id"], revision=old_revision)
    assert stale.status == "stale"
    assert annotation(scientist, created["id"])["verdict"] == "pass"


def test_rejudging_an_unchanged_record_writes_nothing(stack: Stack) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record(), record_type="msc_batch_manual")
    assert judge_now(stack, created["id"]).status == "annotated"
    count = len(scientist.revisions(created["id"], per_page=50))
    again = judge_now(stack, created["id"])
    assert again.status == "unchanged" and again.writes == 0
    assert len(scientist.revisions(created["id"], per_page=50)) == count


def test_shipped_template_imports_and_records_made_from_it_are_judged(stack: Stack) -> None:
    from tests.support.kadi import TEMPLATE, fill_template, new_identifier

    scientist = stack.scientist()
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    template["identifier"] = new_identifier("tpl")
    response = scientist.session.request("POST", "api/templates", json=template)
    assert response.status_code == 201, response.text
    stored = response.json()["data"]
    assert stored["type"] == "msc_batch"
    extras = fill_template(stored["extras"], record())
    created = scientist.create_record({"identifier": new_identifier(), "title": "from template",
                                       "type": stored["type"], "extras": extras})
    found = wait_annotation(scientist, created["id"], human_revision(scientist, created["id"]))
    assert found["verdict"] == "pass", found["findings"]
