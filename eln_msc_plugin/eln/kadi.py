"""Kadi4Mat REST API client (the first ELN adapter). Only HTTP; no Kadi import, so it runs anywhere."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from eln_msc_plugin.eln.http import DEFAULT_TIMEOUT, ElnSession, Token, check
from eln_msc_plugin.errors import ElnError

MAX_FILE_BYTES = 64 * 1024 * 1024
PER_PAGE = 100


class KadiClient:
    """Reads records, revisions and files, and writes record metadata and files, through Kadi's API."""

    name = "kadi"

    def __init__(self, base_url: str, token: Token | None, *, timeout: Any = DEFAULT_TIMEOUT,
                 session: ElnSession | None = None) -> None:
        self.session = session or ElnSession(base_url, token, timeout=timeout)
        self.base_url = self.session.base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"KadiClient({self.base_url!r}, token=***)"

    def close(self) -> None:
        """Close pooled connections (a server thread may otherwise wait on an idle keep-alive socket)."""
        self.session.close()

    def __enter__(self) -> KadiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record_url(self, record_id: int) -> str:
        """Where a person views the record."""
        return f"{self.base_url}/records/{record_id}"

    def _json(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        return check(self.session.request(method, path, **kwargs), what)

    def me(self) -> dict[str, Any]:
        return self._json("GET", "api/users/me", "read the token's user")

    def info(self) -> dict[str, Any]:
        return self._json("GET", "api/info", "read the Kadi version")

    def record(self, record_id: int) -> dict[str, Any]:
        return self._json("GET", f"api/records/{record_id}", f"read record {record_id}")

    def patch_record(self, record_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("PATCH", f"api/records/{record_id}", f"update record {record_id}", json=body)

    def create_record(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "api/records", "create a record", json=body)

    def records_page(self, page: int, per_page: int = PER_PAGE, **filters: Any) -> dict[str, Any]:
        """One page of records, newest modification first."""
        params = {"page": page, "per_page": per_page, "sort": "-last_modified", **filters}
        return self._json("GET", "api/records", f"list records (page {page})", params=params)

    def collection_records_page(self, collection_id: int, page: int, per_page: int = PER_PAGE) -> dict[str, Any]:
        params = {"page": page, "per_page": per_page, "sort": "-last_modified"}
        return self._json("GET", f"api/collections/{collection_id}/records",
                          f"list records of collection {collection_id}", params=params)

    def revisions(self, record_id: int, per_page: int = 10, page: int = 1) -> list[dict[str, Any]]:
        """The record's revisions, newest first."""
        body = self._json("GET", f"api/records/{record_id}/revisions", f"list revisions of record {record_id}",
                          params={"page": page, "per_page": per_page})
        return list(body.get("items", [])) if isinstance(body, dict) else []

    def revision(self, record_id: int, revision_id: int) -> dict[str, Any]:
        return self._json("GET", f"api/records/{record_id}/revisions/{revision_id}",
                          f"read revision {revision_id} of record {record_id}")

    def files(self, record_id: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._json("GET", f"api/records/{record_id}/files", f"list files of record {record_id}",
                              params={"page": page, "per_page": PER_PAGE})
            items += body.get("items", [])
            if page >= int(body.get("_pagination", {}).get("total_pages", 1) or 1):
                return items
            page += 1

    def download(self, record_id: int, file_id: str, limit: int = MAX_FILE_BYTES) -> bytes:
        """A file's bytes; refused past `limit` (a batch record is never that large)."""
        path = f"api/records/{record_id}/files/{file_id}/download"
        with self.session.request("GET", path, stream=True) as response:
            if response.status_code >= 400:
                check(response, f"download file {file_id} of record {record_id}")
            chunks, size = [], 0
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise ElnError(f"file {file_id} of record {record_id} is larger than {limit} bytes")
                chunks.append(chunk)
        return b"".join(chunks)

    def upload(self, record_id: int, name: str, data: bytes, mimetype: str = "application/json") -> dict[str, Any]:
        """Attach `data` as a new file `name`; replaces the content when a file of that name exists."""
        what = f"upload {name} to record {record_id}"
        response = self.session.request("POST", f"api/records/{record_id}/uploads",
                                        json={"name": name, "size": len(data), "mimetype": mimetype})
        if response.status_code == 409:
            existing = response.json().get("file", {})
            target = existing.get("_actions", {}).get("edit_data") or f"api/records/{record_id}/files/{existing['id']}"
            upload = check(self.session.request("PUT", target, json={"size": len(data)}), what)
        else:
            upload = check(response, what)
        upload_url = upload["_actions"]["upload_data"]
        response = self.session.request("PUT", upload_url, data=data,
                                        headers={"Content-Type": "application/octet-stream"})
        if response.status_code == 404:  # a retried PUT whose first try landed: the upload is already consumed
            landed = self._landed(record_id, name, data)
            if landed is not None:
                return landed
        return check(response, what)

    def _landed(self, record_id: int, name: str, data: bytes) -> dict[str, Any] | None:
        """The file `name` when it already holds exactly `data`, else None."""
        response = self.session.request("GET", f"api/records/{record_id}/files/name/{name}")
        if response.status_code != 200:
            return None
        found: dict[str, Any] = response.json()
        return found if found.get("checksum") == hashlib.md5(data).hexdigest() else None  # Kadi's checksum

    def iter_records(self, per_page: int = PER_PAGE, collection: int | None = None,
                     **filters: Any) -> Iterator[dict[str, Any]]:
        """Every record, newest modification first, page by page."""
        page = 1
        while True:
            body = (self.collection_records_page(collection, page, per_page) if collection is not None
                    else self.records_page(page, per_page, **filters))
            yield from body.get("items", [])
            total_pages = int(body.get("_pagination", {}).get("total_pages", 1) or 1)
            if page >= total_pages:
                return
            page += 1
