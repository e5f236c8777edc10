"""A small client of eLabFTW's REST API v2 over the shared HTTP policy (`ElnSession`).

The key goes raw into `Authorization` (no `Bearer`: eLabFTW hashes the whole header value). Entries are
named `experiments/42` or `items/7`. Every failure is an `ElnError` saying what was asked and what
eLabFTW answered ("You are using a read-only key to execute a write action.", "This entry is being
edited by …"); the key never appears in one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from urllib3.util.retry import Retry

from eln_msc_plugin.elabftw import ENTITY_TYPES
from eln_msc_plugin.eln.auth import KeyAuth, Token
from eln_msc_plugin.eln.base import Tally
from eln_msc_plugin.eln.http import DEFAULT_TIMEOUT, ElnSession, check
from eln_msc_plugin.errors import ConfigError, ElnAnswerError, ElnError

MAX_DOWNLOAD = 64 * 1024 * 1024
_REF = re.compile(r"^(experiments|items)/([1-9][0-9]*)$")


def split_ref(ref: str) -> tuple[str, int]:
    """`experiments/42` → ("experiments", 42); a clear error for anything else."""
    match = _REF.match(ref)
    if match is None:
        raise ElnError(f"{ref!r} is not an eLabFTW entry (expected experiments/ID or items/ID)")
    return match[1], int(match[2])


def site_of(url: str) -> str:
    """The instance's address without a trailing `/api/v2` (either form is accepted on the command line)."""
    site = url.strip().rstrip("/")
    site = re.sub(r"/api/v2$", "", site)
    if not site.startswith(("http://", "https://")):
        raise ConfigError(f"eLabFTW URL {url!r} must start with http:// or https://")
    return site


class ElabftwClient:
    """One instance, one key; thread-safe as far as `requests.Session` is (one client per worker)."""

    def __init__(self, url: str, key: Token, *, timeout: Any = DEFAULT_TIMEOUT,
                 meter: Callable[[str], None] | None = None, tally: Tally | None = None, pool: int = 10,
                 retry: Retry | None = None) -> None:
        self.site = site_of(url)
        self.session = ElnSession(f"{self.site}/api/v2", KeyAuth(key), timeout=timeout, meter=meter, tally=tally,
                                  pool=pool, retry=retry)

    def close(self) -> None:
        self.session.close()

    def entry_url(self, ref: str) -> str:
        """The page a person opens (EntityType::toPage: experiments.php, database.php for resources)."""
        entity_type, entity_id = split_ref(ref)
        page = "experiments.php" if entity_type == "experiments" else "database.php"
        return f"{self.site}/{page}?mode=view&id={entity_id}"

    def _get(self, path: str, what: str, **params: Any) -> Any:
        return check(self.session.request("GET", path, params=params or None), what)

    def _object(self, path: str, what: str, key: str, **params: Any) -> dict[str, Any]:
        """A JSON object holding `key`, or an `ElnAnswerError` (a proxy's page, an empty or foreign answer: the
        server answers, but not as eLabFTW does)."""
        found = self._get(path, what, **params)
        if not isinstance(found, dict) or found.get(key) is None:
            shape = f"an object without {key!r}" if isinstance(found, dict) else f"a JSON {_kind(found)}"
            raise ElnAnswerError(f"{what}: eLabFTW answered {shape}, not what was asked for")
        return found

    def _objects(self, path: str, what: str, key: str = "id", **params: Any) -> list[dict[str, Any]]:
        """A JSON list of objects each holding `key`, or an `ElnAnswerError`."""
        found = self._get(path, what, **params)
        if not isinstance(found, list) or not all(isinstance(i, dict) and i.get(key) is not None for i in found):
            shape = f"a list of items without {key!r}" if isinstance(found, list) else f"a JSON {_kind(found)}"
            raise ElnAnswerError(f"{what}: eLabFTW answered {shape}, not the list asked for")
        return found

    # --- who and where -----------------------------------------------------------------------------------
    def me(self) -> dict[str, Any]:
        return self._object("users/me", "read the key's user", "userid")

    def team(self) -> dict[str, Any]:
        return self._object("teams/current", "read the key's team", "id")

    def categories(self, entity_type: str, team_id: int) -> list[dict[str, Any]]:
        kind = "experiments_categories" if entity_type == "experiments" else "resources_categories"
        return self._objects(f"teams/{team_id}/{kind}", f"list the team's {kind.replace('_', ' ')}")

    def team_tags(self, team_id: int) -> list[dict[str, Any]]:
        return self._objects(f"teams/{team_id}/tags", "list the team's tags", "tag")

    def api_keys(self) -> list[dict[str, Any]]:
        return self._objects("apikeys", "list the user's API keys")

    # --- entries -------------------------------------------------------------------------------------------
    def page(self, entity_type: str, *, limit: int, offset: int, category: str | None = None) -> list[dict[str, Any]]:
        """One page of entries, last change first, every column (`metadata` included) with `full=1`."""
        if entity_type not in ENTITY_TYPES:
            raise ConfigError(f"unknown eLabFTW entry type {entity_type!r}")
        params: dict[str, Any] = {"order": "lastchange", "sort": "desc", "limit": limit, "offset": offset,
                                  "full": 1, "scope": 2}
        if category:
            params["category"] = category
        return self._objects(entity_type, f"list {entity_type} (offset {offset})", **params)

    def entry(self, ref: str) -> dict[str, Any]:
        split_ref(ref)
        return self._object(ref, f"read {ref}", "id")

    def download(self, ref: str, upload_id: int, limit: int = MAX_DOWNLOAD) -> bytes:
        """An attached file's bytes (`format=binary`), refused past `limit` bytes."""
        what = f"download file {upload_id} of {ref}"
        response = self.session.request("GET", f"{ref}/uploads/{upload_id}", params={"format": "binary"}, stream=True)
        try:
            if response.status_code >= 400:
                check(response, what)
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > limit:
                    raise ElnError(f"{what}: the file is larger than {limit} bytes")
            return bytes(data)
        except OSError as error:
            raise ElnError(f"{what}: the download broke off ({type(error).__name__})", retryable=True) from None
        finally:
            response.close()

    # --- writes --------------------------------------------------------------------------------------------
    def comment(self, ref: str, text: str) -> int:
        return self._created(self.session.request("POST", f"{ref}/comments", json={"comment": text}),
                             f"comment on {ref}")

    def add_tag(self, ref: str, tag: str) -> int:
        return self._created(self.session.request("POST", f"{ref}/tags", json={"tag": tag}), f"tag {ref} {tag}")

    def remove_tag(self, ref: str, tag_id: int) -> None:
        check(self.session.request("PATCH", f"{ref}/tags/{tag_id}", json={"action": "unreference"}),
              f"remove tag {tag_id} from {ref}")

    def upload(self, ref: str, name: str, data: bytes, comment: str = "") -> int:
        files = {"file": (name, data, "application/json")}
        response = self.session.request("POST", f"{ref}/uploads", files=files, data={"comment": comment})
        return self._created(response, f"attach {name} to {ref}")

    def patch(self, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH the entry; eLabFTW answers with the entry as it now is."""
        found = check(self.session.request("PATCH", ref, json=body), f"update {ref}")
        return found if isinstance(found, dict) else {}

    def create(self, entity_type: str, body: dict[str, Any]) -> str:
        entity_id = self._created(self.session.request("POST", entity_type, json=body), f"create in {entity_type}")
        return f"{entity_type}/{entity_id}"

    @staticmethod
    def _created(response: Any, what: str) -> int:
        """The id at the end of the `Location` eLabFTW answers a creation with (0 when it names none)."""
        check(response, what)
        location = str(response.headers.get("Location") or "")
        tail = location.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else 0


def _kind(value: Any) -> str:
    """The JSON kind of a decoded value, in words (the value itself is not shown: it may repeat a secret)."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
