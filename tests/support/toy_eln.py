"""A toy ELN for the adapter contract tests: an in-memory notebook served on loopback, and its adapter.

The notebook keeps records (canonical batch data as JSON, a revision counter, who saved last), the
plugin's annotation on each, and files that can be added but never replaced. Its adapter implements the
protocol the way a real one must; the `Broken*` subclasses each break one rule of the contract, so the
suite can be shown to fail them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from urllib3.util.retry import Retry

from eln_msc_plugin.eln.base import (
    Account,
    Annotation,
    ChangeQuery,
    Content,
    RecordRef,
    Source,
    Tally,
    WriteOutcome,
    metadata_digest,
)
from eln_msc_plugin.eln.http import ElnSession, Token, check
from eln_msc_plugin.errors import ElnError
from eln_msc_plugin.testing.loopback import Loopback, reply

BOT = "qc-bot"


class Notebook:
    """The toy ELN's state, shared by its request handlers."""

    def __init__(self) -> None:
        self.records: dict[int, dict[str, Any]] = {}
        self.files: dict[int, dict[str, bytes]] = {}
        self.clock = 0
        self.lock = threading.Lock()

    def stamp(self) -> str:
        self.clock += 1
        return f"2026-01-01T00:00:{self.clock // 1_000_000:02d}.{self.clock % 1_000_000:06d}+00:00"

    def save(self, record_id: int, by: str, **changes: Any) -> dict[str, Any]:
        record = self.records[record_id]
        record.update(changes, revision=record["revision"] + 1, modified_by=by, modified_at=self.stamp())
        return record

    def listing(self, query: dict[str, list[str]]) -> dict[str, Any]:
        tag, page, per_page = query.get("tag", [""])[0], int(query["page"][0]), int(query["per_page"][0])
        found = sorted((r for r in self.records.values() if not tag or r["tag"] == tag),
                       key=lambda r: r["modified_at"], reverse=True)
        return {"items": found[(page - 1) * per_page:page * per_page], "pages": max(1, -(-len(found) // per_page))}


def serve(notebook: Notebook) -> Loopback:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            with notebook.lock:
                status, body = route(notebook, self.command, url.path, parse_qs(url.query), raw)
            if isinstance(body, bytes):
                reply(self, status, body, content_type="application/octet-stream")
            else:
                reply(self, status, json.dumps(body).encode())

        do_GET = do_POST = do_PUT = do_PATCH = handle_any

    return Loopback(Handler).start()


def route(nb: Notebook, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> tuple[int, Any]:
    if path == "/api/me":
        return 200, {"id": 7, "name": BOT}
    if path == "/api/records" and method == "GET":
        return 200, nb.listing(query)
    if path == "/api/records" and method == "POST":
        body = json.loads(raw)
        record_id = len(nb.records) + 1
        nb.records[record_id] = {"id": record_id, "tag": body["tag"], "data": body["data"], "annotation": None,
                                 "revision": 0, "modified_by": "scientist", "modified_at": ""}
        nb.files[record_id] = {}
        return 201, nb.save(record_id, "scientist")
    match = re.fullmatch(r"/api/records/(\d+)(?:/files/([\w.-]+))?", path)
    if match is None or int(match[1]) not in nb.records:
        return 404, {"error": "not found"}
    record_id, name = int(match[1]), match[2]
    if name is None:
        return _record(nb, record_id, method, raw)
    files = nb.files[record_id]
    if method == "GET":
        return (200, files[name]) if name in files else (404, {"error": "no such file"})
    if name in files and "replace" not in query:
        return 409, {"error": "a file of that name exists"}
    files[name] = raw
    nb.records[record_id]["modified_at"] = nb.stamp()  # a file is no new revision of the record
    return 201, {"name": name}


def _record(nb: Notebook, record_id: int, method: str, raw: bytes) -> tuple[int, Any]:
    record = nb.records[record_id]
    if method == "GET":
        return 200, {**record, "files": sorted(nb.files[record_id])}
    body = json.loads(raw)
    if body.get("if_revision") not in (None, record["revision"]):
        return 409, {"error": "changed since", "revision": record["revision"]}
    changes = {k: body[k] for k in ("data", "annotation") if k in body}
    return 200, nb.save(record_id, body.get("by", BOT), **changes)


class ToyAdapter:
    """The toy notebook as an ELN adapter (the protocol in eln_msc_plugin.eln.base)."""

    name = "toy"

    def __init__(self, base_url: str, token: Token | None = None, retry: Retry | None = None) -> None:
        self.tally = Tally()
        self.http = ElnSession(base_url, token or Token("toy-secret-0123456789"), tally=self.tally,
                               timeout=(2.0, 5.0), retry=retry)
        self.base_url = self.http.base_url.rstrip("/")

    def _get(self, path: str, what: str, **params: Any) -> Any:
        body = check(self.http.get(path, params=params or None), what)
        if not isinstance(body, dict):
            raise ElnError(f"{what}: not the answer the toy ELN gives")
        return body

    def ref(self, record_id: str) -> RecordRef:
        return RecordRef(str(record_id), f"{self.base_url}/records/{record_id}")

    def _ref(self, item: dict[str, Any]) -> RecordRef:
        return RecordRef(str(item["id"]), f"{self.base_url}/records/{item['id']}", item["modified_at"],
                         str(item["revision"]), item["modified_by"], listing=item)

    def account(self) -> Account:
        me = self._get("api/me", "who am I")
        if "id" not in me:
            raise ElnError("who am I: no id in the answer")
        return Account(str(me["id"]), str(me.get("name")))

    def changes(self, query: ChangeQuery) -> ToyChanges:
        return ToyChanges(self, query)

    def read(self, ref: RecordRef) -> Content:
        item = dict(ref.listing) if "data" in ref.listing else self._get(f"api/records/{ref.id}", "read")
        return self._content(ref, item)

    def _content(self, ref: RecordRef, item: dict[str, Any]) -> Content:
        try:
            data, stored, files = item["data"], item.get("annotation"), item.get("files")
        except (KeyError, TypeError):
            raise ElnError(f"read record {ref.id}: not a toy record") from None
        if files is None:
            files = self._get(f"api/records/{ref.id}", "read")["files"]
        sources = [Source("record", None, metadata_digest(data), load=lambda: data, native=True)] if data else []
        current = Annotation(**{k: v for k, v in stored.items() if k != "report"}) if stored else None
        complete = current is not None and current.report_file in files
        return Content(ref, str(item["revision"]), sources, current, complete,
                       state={"revision": item["revision"], "files": set(files)})

    def prepare(self, content: Content) -> Content:
        fresh = self._content(content.ref, self._get(f"api/records/{content.ref.id}", "read"))
        fresh.previous = fresh.current
        return fresh

    def annotate(self, content: Content, annotation: Annotation, *, dry_run: bool = False) -> WriteOutcome:
        name = annotation.report_file
        number = 1
        while name in content.state["files"]:
            number += 1
            name = annotation.report_file.replace(".json", f"-{number}.json")
        annotation.report_file = name
        if dry_run:
            return WriteOutcome("dry-run", would_write={"file": name, "verdict": annotation.verdict})
        check(self.http.put(f"api/records/{content.ref.id}/files/{name}", data=annotation.report), "upload")
        stored = {k: v for k, v in vars(annotation).items() if k != "report"}
        response = self.http.patch(f"api/records/{content.ref.id}",
                                   json={"annotation": stored, "if_revision": content.state["revision"]})
        if response.status_code == 409:
            return WriteOutcome("stale", detail="saved since it was read")
        return WriteOutcome("annotated", modified_at=check(response, "annotate")["modified_at"])

    def is_own_write(self, ref: RecordRef) -> bool:
        return ref.modified_by == BOT

    def close(self) -> None:
        self.http.close()


class ToyChanges:
    def __init__(self, adapter: ToyAdapter, query: ChangeQuery) -> None:
        self.adapter, self.query = adapter, query
        self.total: int | None = None
        self.cursor: str | None = None

    def __iter__(self) -> Iterator[RecordRef]:
        page = 1
        while True:
            body = self.adapter._get("api/records", "list", page=page, per_page=self.query.page_size,
                                     tag=self.query.filters.get("tag", ""))
            if not isinstance(body.get("items"), list):
                raise ElnError("list: not a toy listing")
            yield from (self.adapter._ref(item) for item in body["items"])
            if page >= body.get("pages", 1):
                return
            page += 1

    def unreached(self) -> int:
        return 0


class ToyPerson:
    """A scientist working in the toy notebook (records created and saved through its API)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def create(self, tag: str, data: Any) -> int:
        response = requests.post(f"{self.base_url}/api/records", json={"tag": tag, "data": data}, timeout=5)
        return int(response.json()["id"])

    def edit(self, record_id: str, data: Any) -> None:
        requests.patch(f"{self.base_url}/api/records/{record_id}", json={"data": data, "by": "scientist"}, timeout=5)

    def files(self, record_id: str) -> dict[str, bytes]:
        names = requests.get(f"{self.base_url}/api/records/{record_id}", timeout=5).json()["files"]
        return {n: requests.get(f"{self.base_url}/api/records/{record_id}/files/{n}", timeout=5).content
                for n in names}
