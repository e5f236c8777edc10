"""Kadi4Mat REST API client: the adapter's low-level calls. Only HTTP; no Kadi import, so it runs anywhere."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import requests

from eln_msc_plugin.eln.auth import BearerAuth
from eln_msc_plugin.eln.http import DEFAULT_TIMEOUT, ElnSession, Token, check
from eln_msc_plugin.errors import ElnAnswerError, ElnError

MAX_FILE_BYTES = 64 * 1024 * 1024
PER_PAGE = 100


class KadiClient:
    """Reads records, revisions and files, and writes record metadata and files, through Kadi's API."""

    name = "kadi"

    def __init__(self, base_url: str, token: Token | None, *, timeout: Any = DEFAULT_TIMEOUT,
                 session: ElnSession | None = None, meter: Callable[[str], None] | None = None) -> None:
        auth = BearerAuth(token) if token is not None else None
        self.session = session or ElnSession(base_url, auth, timeout=timeout, meter=meter)
        self.base_url = self.session.base_url.rstrip("/")
        self.plugin_endpoint: bool | None = None  # False once this Kadi answered that it has no eln-msc plugin

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

    def _json(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """The JSON object Kadi answers with; an `ElnError` for an error or any other shape of answer."""
        body: dict[str, Any] = check(self.session.request(method, path, **kwargs), what, expect=dict)
        return body

    def _items(self, path: str, what: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """The items of one page of a Kadi listing, and how many pages there are."""
        body = self._json("GET", path, what, params=params)
        items, pagination = body.get("items"), body.get("_pagination")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ElnAnswerError(f"{what}: the answer is not a Kadi listing")
        pages = pagination.get("total_pages", 1) if isinstance(pagination, dict) else 1
        return items, pages if isinstance(pages, int) else 1

    def me(self) -> dict[str, Any]:
        return self._json("GET", "api/users/me", "read the token's user")

    def info(self) -> dict[str, Any]:
        return self._json("GET", "api/info", "read the Kadi version")

    def token_info(self) -> dict[str, Any] | None:
        """The token's name, scopes and expiry, from the plugin's endpoint (kadi/token_api.py); None where the
        plugin is not installed (Kadi's own API does not say when a token expires)."""
        response = self.session.request("GET", "api/eln_msc/token")
        if response.status_code == 404:
            return None
        body = check(response, "read the token's expiry")
        found = body.get("token") if isinstance(body, dict) and body.get("eln_msc") else None
        return found if isinstance(found, dict) else None

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

    def revisions(self, record_id: int, per_page: int = 10, page: int = 1) -> list[dict[str, Any]]:
        """The record's revisions, newest first."""
        items, _ = self._items(f"api/records/{record_id}/revisions", f"list revisions of record {record_id}",
                               {"page": page, "per_page": per_page})
        return items

    def revision(self, record_id: int, revision_id: int) -> dict[str, Any]:
        return self._json("GET", f"api/records/{record_id}/revisions/{revision_id}",
                          f"read revision {revision_id} of record {record_id}")

    def files(self, record_id: int) -> list[dict[str, Any]]:
        """Every file attached to the record (one request for up to 100 files)."""
        found: list[dict[str, Any]] = []
        for page in range(1, 101):
            items, pages = self._items(f"api/records/{record_id}/files", f"list files of record {record_id}",
                                       {"page": page, "per_page": PER_PAGE})
            found += [i for i in items if "id" in i and "name" in i]
            if page >= pages:
                break
        return found

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

    def upload(self, record_id: int, name: str, data: bytes, mimetype: str = "application/json", *,
               replace: bool = False) -> dict[str, Any]:
        """Attach `data` as a new file `name` (2 requests). A file of that name is an `ElnError` with status
        409, unless `replace` (a person replacing their batch file; the plugin never replaces a report)."""
        what = f"upload {name} to record {record_id}"
        response = self.session.request("POST", f"api/records/{record_id}/uploads",
                                        json={"name": name, "size": len(data), "mimetype": mimetype})
        if response.status_code == 409 and replace:
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


def json_object(response: requests.Response) -> dict[str, Any]:
    """The JSON object an answer holds; {} for any other body (the status then says what happened)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
