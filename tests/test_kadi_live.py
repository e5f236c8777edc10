"""The record page's QC card and its endpoint, on the real Kadi4Mat: it shows only the plugin's own verdict.

(The page script that keeps the card current is driven in a real browser in test_kadi_browser.py.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from tests.support.kadi import (
    Stack,
    create_batch_record,
    human_revision,
    judge_now,
    wait_annotation,
    wait_for,
)
from tests.support.records import record

pytestmark = pytest.mark.kadi
MANUAL = "msc_batch_manual"  # a type the test stack does not check on save: the test decides when to judge


def _qc(web: requests.Session, stack: Stack, record_id: int) -> dict[str, Any]:
    response = web.get(f"{stack.url}/eln-msc/records/{record_id}/qc", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


def test_endpoint_reports_the_verdict_of_the_newest_revision(stack: Stack, scientist_web: requests.Session) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record())
    revision = human_revision(scientist, created["id"])
    web = scientist_web
    state = wait_for(lambda: (s := _qc(web, stack, created["id"]))["state"] == "current" and s, 30,
                     what="the card to judge the newest revision")
    assert state["verdict"] == "pass" and state["judged_revision"] == revision and state["altered"] == ""
    assert 'class="card mt-3 eln-msc-qc" data-verdict="pass"' in state["html"]
    assert f"Judged revision {revision}" in state["html"]


def test_card_never_shows_a_verdict_the_plugin_did_not_write(stack: Stack, scientist_web: requests.Session) -> None:
    """A person sets qc-pass and msc_qc.verdict=pass on a failing record: the card keeps the plugin's fail."""
    scientist = stack.scientist()
    created = create_batch_record(scientist, record(production_passage=7), record_type=MANUAL)
    assert judge_now(stack, created["id"]).verdict == "fail"
    current = scientist.record(created["id"])
    extras = [e for e in current["extras"] if e["key"] != "msc_qc"]
    forged = next(e for e in current["extras"] if e["key"] == "msc_qc")
    forged["value"] = [dict(m, value="pass") if m["key"] == "verdict" else m for m in forged["value"]]
    scientist.patch_record(created["id"], {"extras": [*extras, forged], "tags": ["qc-pass"]})
    tampered = human_revision(scientist, created["id"])
    web = scientist_web
    state = _qc(web, stack, created["id"])
    assert state["verdict"] == "fail"
    assert state["altered"] == f"changed by MSC Scientist (scientist) in revision {tampered}"
    assert state["state"] == "stale"  # this type is not checked on save, so no check is on its way
    page = web.get(f"{stack.url}/records/{created['id']}", timeout=10).text
    assert 'data-verdict="fail"' in page and "MSC batch QC: FAIL" in page and "MSC batch QC: PASS" not in page
    assert f"changed by MSC Scientist (scientist) in revision {tampered}, not by the QC check" in page


def test_record_pages_only_get_the_script(stack: Stack, scientist_web: requests.Session) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record())
    wait_annotation(scientist, created["id"])
    web = scientist_web
    page = web.get(f"{stack.url}/records/{created['id']}", timeout=10).text
    script = re.search(r'<script src="([^"]*eln-msc-live\.js)"', page)
    assert script, "the record page does not load the live script"
    assert web.get(script.group(1), timeout=10).status_code == 200  # Kadi writes absolute URLs
    assert 'class="eln-msc-qc-live" v-pre' in page
    for other in ("/records", f"/records/{created['id']}/edit", "/records/new", "/"):
        assert "eln-msc-live.js" not in web.get(stack.url + other, timeout=10).text, other
    for form in (f"/records/{created['id']}/edit", "/records/new"):  # the record forms get the form check
        assert "eln-msc-form.js" in web.get(stack.url + form, timeout=10).text, form
    assert "eln-msc-form.js" not in page


def test_records_the_plugin_does_not_check_get_no_card(stack: Stack, scientist_web: requests.Session) -> None:
    scientist = stack.scientist()
    created = create_batch_record(scientist, record(), record_type="buffer_prep")
    page = scientist_web.get(f"{stack.url}/records/{created['id']}", timeout=10).text
    assert "eln-msc-qc" not in page


def test_endpoints_need_a_login(stack: Stack) -> None:
    created = create_batch_record(stack.scientist(), record())
    response = requests.get(f"{stack.url}/eln-msc/records/{created['id']}/qc", timeout=10, allow_redirects=False)
    assert response.status_code in (302, 401) and "verdict" not in response.text
    response = requests.post(f"{stack.url}/eln-msc/check", json={"extras": []}, timeout=10, allow_redirects=False)
    assert response.status_code in (302, 400, 401) and "verdict" not in response.text


def test_form_check_refuses_a_request_without_the_forms_csrf_token(stack: Stack,
                                                                   scientist_web: requests.Session) -> None:
    response = scientist_web.post(f"{stack.url}/eln-msc/check", json={"extras": []}, timeout=10)
    assert response.status_code == 400 and "verdict" not in response.text
