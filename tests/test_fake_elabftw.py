"""The fake eLabFTW keeps to the API description and to what the eLabFTW source does where it is silent."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.elabftw import Lab, metadata_for
from tests.support.fake_elabftw import FakeElabftw, Fault
from tests.support.records import BASE


def test_a_request_the_description_forbids_is_refused_and_recorded(lab: Lab) -> None:
    ref = lab.save(BASE)
    answer = lab.call("POST", f"{ref}/comments", json={"text": "comment is the required member"})
    assert answer.status_code == 400 and "violates the eLabFTW API description" in answer.json()["message"]
    answer = lab.call("GET", "experiments", params={"limit": "all"})
    assert answer.status_code == 400
    assert len(lab.fake.violations) == 2 and "comment" in lab.fake.violations[0]
    assert not any(c["comment"] for c in lab.entry(ref)["comments"])
    lab.fake.violations.clear()


def test_an_answer_drifting_from_the_description_is_caught(lab: Lab) -> None:
    ref = lab.save(BASE)

    def drift(path: str, data: bytes) -> bytes:
        body = json.loads(data)
        if isinstance(body, dict) and "comments" in body:
            body["locked"] = "no"  # described as an integer
        return json.dumps(body).encode()

    lab.fake.drift = drift
    answer = lab.call("GET", ref)
    assert answer.status_code == 500 and "drifted" in answer.json()["message"]
    assert len(lab.fake.violations) == 1 and "locked" in lab.fake.violations[0]
    lab.fake.violations.clear()


def test_the_servers_known_departures_pass_as_described(lab: Lab) -> None:
    ref = lab.save(BASE)
    body = lab.entry(ref)
    assert isinstance(body["metadata"], str)  # JSON text, though described as an object
    assert body["metadata_decoded"] == json.loads(body["metadata"])  # added by the server, not described
    assert body["exclusive_edit_mode"] is None  # described as an object, sent as null
    assert lab.call("GET", "experiments/999").json()["code"] == 404  # an integer, described as a string


def test_the_key_is_the_raw_header_value(lab: Lab) -> None:
    url = f"{lab.url}/api/v2/users/me"
    assert requests.get(url, headers={"Authorization": lab.service_key}, timeout=10).json()["fullname"] == "MSC QC bot"
    bearer = requests.get(url, headers={"Authorization": f"Bearer {lab.service_key}"}, timeout=10)
    assert bearer.status_code == 401 and bearer.json()["description"] == "No corresponding API key found!"
    assert requests.get(url, timeout=10).status_code == 401


def test_a_read_only_key_reads_and_cannot_write(lab: Lab) -> None:
    ref = lab.save(BASE)
    headers = {"Authorization": lab.readonly_key}
    assert requests.get(f"{lab.url}/api/v2/{ref}", headers=headers, timeout=10).status_code == 200
    answer = requests.post(f"{lab.url}/api/v2/{ref}/comments", json={"comment": "x"}, headers=headers, timeout=10)
    assert answer.status_code == 400 and "read-only key" in answer.json()["message"]


def test_a_key_sees_its_own_team_only(fake_elabftw: FakeElabftw, lab: Lab) -> None:
    ref = lab.save(BASE)
    stranger = fake_elabftw.store.add_user("Other", "Team", team=2)
    headers = {"Authorization": fake_elabftw.store.add_key(stranger)}
    assert requests.get(f"{lab.url}/api/v2/{ref}", headers=headers, timeout=10).status_code == 403
    listed = requests.get(f"{lab.url}/api/v2/experiments", headers=headers, timeout=10).json()
    assert listed == []


def test_listing_is_newest_change_first_with_pins_on_top_and_no_total(fake_elabftw: FakeElabftw, lab: Lab) -> None:
    refs = [lab.save(BASE, title=f"lot {i}") for i in range(5)]
    fake_elabftw.store.clock_offset += __import__("datetime").timedelta(seconds=5)
    lab.set_field(refs[1], "lot_id", "MSC-BM-043")
    lab.call("PATCH", refs[3], json={"action": "pin"})
    params = {"order": "lastchange", "sort": "desc", "limit": 2, "offset": 0, "full": 1}
    first = lab.call("GET", "experiments", params=params)
    second = lab.call("GET", "experiments", params={**params, "offset": 2})
    ids = [f"experiments/{e['id']}" for e in first.json() + second.json()]
    assert ids == [refs[3], refs[1], refs[4], refs[2]]  # pinned, newest change, then by id, newest first
    assert "total" not in first.headers and isinstance(first.json(), list)
    assert isinstance(first.json()[0]["metadata"], str)


def test_what_moves_modified_at_and_lastchangeby(fake_elabftw: FakeElabftw, lab: Lab) -> None:
    ref = lab.save(BASE)
    store = fake_elabftw.store
    service = {"Authorization": lab.service_key}

    def stamp() -> tuple[str, int]:
        store.clock_offset += __import__("datetime").timedelta(seconds=2)
        body = lab.entry(ref)
        return body["modified_at"], body["lastchangeby"]

    before = stamp()
    requests.post(f"{lab.url}/api/v2/{ref}/comments", json={"comment": "hi"}, headers=service, timeout=10)
    requests.post(f"{lab.url}/api/v2/{ref}/tags", json={"tag": "qc-pass"}, headers=service, timeout=10)
    assert stamp() == before  # comments and tags touch nothing (Comments::create, Tags::create)
    requests.post(f"{lab.url}/api/v2/{ref}/uploads", files={"file": ("r.json", b"{}")}, headers=service, timeout=10)
    after_upload = stamp()
    assert after_upload[0] > before[0] and after_upload[1] == lab.service_user  # touch(): both
    lab.set_field(ref, "lot_id", "MSC-BM-099")
    after_field = stamp()
    assert after_field[0] > after_upload[0] and after_field[1] == lab.service_user  # JSON_SET: the stamp only
    merge = {"metadatamerge": {"extra_fields": {"msc_qc": {"type": "text", "value": "x"}}}}
    assert requests.patch(f"{lab.url}/api/v2/{ref}", json=merge, headers=service, timeout=10).status_code == 200
    after_merge = stamp()
    assert after_merge[0] > after_field[0] and after_merge[1] == lab.service_user


def test_metadatamerge_touches_nothing_else_and_updatemetadatafield_needs_the_field(lab: Lab) -> None:
    ref = lab.save(BASE, metadata={**metadata_for(BASE), "elabftw": {"extra_fields_groups": [{"id": 1,
                                                                                                "name": "Lot"}]}})
    before = json.loads(lab.entry(ref)["metadata"])
    merge = {"metadatamerge": {"extra_fields": {"msc_qc": {"type": "text", "value": "v1"},
                                                "lot_id": {"value": "MSC-BM-777"}}}}
    lab.call("PATCH", ref, json=merge)
    after = json.loads(lab.entry(ref)["metadata"])
    assert after["elabftw"] == before["elabftw"] and after["extra_fields"]["lot_id"]["type"] == "text"
    assert after["extra_fields"]["lot_id"]["value"] == "MSC-BM-777"
    assert {k: v for k, v in after["extra_fields"].items() if k not in ("msc_qc", "lot_id")} == \
        {k: v for k, v in before["extra_fields"].items() if k != "lot_id"}
    refused = lab.call("PATCH", ref, json={"action": "updatemetadatafield", "no_such_field": "1"})
    assert refused.status_code == 400 and "Invalid metadata field" in refused.json()["message"]


def test_a_locked_entry_refuses_changes_but_takes_comments(lab: Lab) -> None:
    ref = lab.save(BASE)
    assert lab.call("PATCH", ref, json={"action": "lock"}).status_code == 200
    service = {"Authorization": lab.service_key}
    patch = requests.patch(f"{lab.url}/api/v2/{ref}", json={"title": "x"}, headers=service, timeout=10)
    tag = requests.post(f"{lab.url}/api/v2/{ref}/tags", json={"tag": "qc-pass"}, headers=service, timeout=10)
    comment = requests.post(f"{lab.url}/api/v2/{ref}/comments", json={"comment": "ok"}, headers=service, timeout=10)
    assert (patch.status_code, tag.status_code, comment.status_code) == (403, 403, 201)


def test_the_exclusive_edit_lock_refuses_a_patch_only(fake_elabftw: FakeElabftw, lab: Lab) -> None:
    ref = lab.save(BASE)
    entity = fake_elabftw.store.entities[("experiments", int(ref.split("/")[1]))]
    entity.edit_mode = (lab.scientist_user, fake_elabftw.store.now())  # the scientist opened the edit page
    service = {"Authorization": lab.service_key}
    patch = requests.patch(f"{lab.url}/api/v2/{ref}", json={"title": "x"}, headers=service, timeout=10)
    assert patch.status_code == 400 and "being edited by Grace Hopper" in patch.json()["message"]
    tag = requests.post(f"{lab.url}/api/v2/{ref}/tags", json={"tag": "qc-pass"}, headers=service, timeout=10)
    assert tag.status_code == 201
    assert lab.entry(ref)["exclusive_edit_mode"]["locked_by"] == lab.scientist_user


@pytest.mark.parametrize("status", [429, 503], ids=["rate-limited", "unavailable"])
def test_injected_faults_answer_then_stop(lab: Lab, status: int) -> None:
    ref = lab.save(BASE)
    lab.fake.inject(Fault(status=status, retry_after=1, method="GET", times=1))
    first, second = lab.call("GET", ref), lab.call("GET", ref)
    assert first.status_code == status and first.headers["Retry-After"] == "1" and second.status_code == 200


def test_a_slow_answer_makes_a_client_time_out(lab: Lab) -> None:
    ref = lab.save(BASE)
    lab.fake.inject(Fault(delay=1.0, method="GET"))
    with pytest.raises(requests.exceptions.ReadTimeout):  # the answer is held 1 s; the client waits 0.2 s
        requests.get(f"{lab.url}/api/v2/{ref}", headers={"Authorization": lab.service_key}, timeout=(5, 0.2))
