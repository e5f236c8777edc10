"""The Benchling API as the adapter uses it: benchling-sdk calls behind the app's own HTTP policy.

The app authenticates with OAuth client credentials (client id and secret from the environment or a
file, never the command line). Every call goes through `PoliteTransport` (rate limit, retries,
counting); every failure becomes an `ElnError` whose message never holds the secret or the access
token. Results come back as the API's JSON (dicts), so nothing past this module sees SDK types.
This module imports benchling-sdk: import it only once the adapter is opened.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from benchling_api_client.v2.types import UNSET
from benchling_sdk.auth.client_credentials_oauth2 import ClientCredentialsOAuth2
from benchling_sdk.benchling import Benchling
from benchling_sdk.errors import BenchlingError
from benchling_sdk.helpers.retry_helpers import RetryStrategy
from benchling_sdk.helpers.serialization_helpers import fields as sdk_fields
from benchling_sdk.models import (
    AppCanvasCreate,
    AppCanvasUpdate,
    AppSessionCreate,
    AppSessionMessageCreate,
    AppSessionMessageStyle,
    BlobCreate,
    BlobCreateType,
    CustomEntityUpdate,
    EntryUpdate,
    MarkdownUiBlockCreate,
    MarkdownUiBlockType,
    MarkdownUiBlockUpdate,
)

from eln_msc_plugin.benchling.transport import PoliteTransport, RateLimiter
from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.errors import ElnError

PAGE = 100  # the most Benchling returns in one page
MAX_ENTITY_IDS = 20  # `GET /assay-results?entityIds=`: "comma-separated list ..., maximum of 20" (description)


class BenchlingClient:
    """One app's authenticated connection to one tenant."""

    def __init__(self, url: str, client_id: str, secret: Token, *, limiter: RateLimiter | None = None,
                 meter: Callable[[str], None] | None = None, timeout: float = 30.0, backoff: float = 0.5) -> None:
        self.url = url.rstrip("/")
        self.limiter = limiter or RateLimiter()
        self.transport = PoliteTransport(self.limiter, meter, backoff=backoff)
        self._http = httpx.Client(transport=self.transport, timeout=timeout)
        self._auth = ClientCredentialsOAuth2(client_id, secret.reveal(), httpx_client=self._http)
        self._secret = secret
        # what a server might repeat back: the secret, and the Basic credential the token request carries
        self._basic = base64.b64encode(f"{client_id}:{secret.reveal()}".encode()).decode()
        self.sdk = Benchling(self.url, self._auth, retry_strategy=RetryStrategy.no_retries(), httpx_client=self._http)

    def __repr__(self) -> str:
        return f"BenchlingClient({self.url!r}, secret=***)"

    def close(self) -> None:
        self._http.close()

    @contextlib.contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """Turn SDK and transport failures into an `ElnError` that says what failed, without secrets."""
        try:
            yield
        except BenchlingError as error:
            status = error.status_code
            raise ElnError(self._scrub(f"{what}: Benchling answered {status}{_hint(status)}: {_detail(error)}"),
                           status=status, retryable=status in (429, 502, 503, 504)) from None
        except httpx.TimeoutException:
            raise ElnError(f"{what}: Benchling did not answer in time", retryable=True) from None
        except httpx.TransportError as error:
            raise ElnError(self._scrub(f"{what}: cannot reach Benchling ({type(error).__name__})"),
                           retryable=True) from None
        except ElnError:
            raise
        except Exception as error:  # the SDK refusing an answer it cannot model (a missing member, a bad type)
            raise ElnError(self._scrub(f"{what}: Benchling's answer was not understood ({type(error).__name__})"))\
                from None

    def _scrub(self, text: str) -> str:
        token = getattr(getattr(self._auth, "_token", None), "access_token", None)
        for secret in (self._basic, self._secret.reveal(), token):
            if secret:
                text = text.replace(secret, "***")
        return text

    # ------------------------------------------------------------ reads
    def entity(self, entity_id: str) -> dict[str, Any]:
        with self.errors(f"GET custom entity {entity_id}"):
            return self.sdk.custom_entities.get_by_id(entity_id).to_dict()

    def entry(self, entry_id: str) -> dict[str, Any]:
        with self.errors(f"GET entry {entry_id}"):
            return self.sdk.entries.get_entry_by_id(entry_id).to_dict()

    def pages(self, kind: str, schema_id: str, modified_after: str | None = None,
              size: int = PAGE) -> Iterator[list[dict[str, Any]]]:
        """Pages of the schema's entities or entries, newest modification first."""
        query: dict[str, Any] = {"schema_id": schema_id, "sort": "modifiedAt:desc", "page_size": size}
        if modified_after:
            query["modified_at"] = f"> {modified_after}"
        with self.errors(f"list {kind} of schema {schema_id}"):
            listing = (self.sdk.custom_entities.list(**query) if kind == "custom_entity"
                       else self.sdk.entries.list_entries(**query))
            for page in listing:
                yield [item.to_dict() for item in page]

    def linked_entities(self, schema_id: str, link_field: str, target_id: str) -> list[dict[str, Any]]:
        """Entities of `schema_id` whose field `link_field` names `target_id` (e.g. the batch of an entry)."""
        with self.errors(f"find batches of schema {schema_id} linked to {target_id}"):
            pages = self.sdk.custom_entities.list(schema_id=schema_id, schema_fields={link_field: target_id},
                                                  page_size=PAGE)
            return [item.to_dict() for page in pages for item in page]

    def results(self, schema_id: str, entity_ids: list[str]) -> list[dict[str, Any]]:
        """Every result row of `schema_id` linked to any of `entity_ids` (at most `MAX_ENTITY_IDS`), oldest
        first."""
        what = entity_ids[0] if len(entity_ids) == 1 else f"{len(entity_ids)} batches"
        with self.errors(f"list results of schema {schema_id} for {what}"):
            pages = self.sdk.assay_results.list(schema_id=schema_id, entity_ids=entity_ids, page_size=PAGE)
            return [row.to_dict() for page in pages for row in page]

    def entries(self, entry_ids: list[str]) -> list[dict[str, Any]]:
        """The entries `entry_ids` names (at most a page of them), in one listing."""
        with self.errors(f"list {len(entry_ids)} entries"):
            pages = self.sdk.entries.list_entries(ids=entry_ids, page_size=PAGE)
            return [item.to_dict() for page in pages for item in page]

    def results_in_entry(self, schema_id: str, entry_id: str, since: str) -> list[dict[str, Any]]:
        """Every result row of `schema_id` in the entry `entry_id` (rows created since the entry was)."""
        with self.errors(f"list results of schema {schema_id} in {entry_id}"):
            pages = self.sdk.assay_results.list(schema_id=schema_id, created_atgte=since or None, page_size=PAGE)
            return [row.to_dict() for page in pages for row in page if row.entry_id == entry_id]

    def external_file(self, entry_id: str, file_id: str, limit: int) -> bytes:
        with self.errors(f"GET external file {file_id} of {entry_id}"):
            meta = self.sdk.entries.get_external_file(entry_id, file_id)
            if isinstance(meta.size, int) and meta.size > limit:
                raise ElnError(f"file {file_id} of {entry_id} is {meta.size} bytes, over the {limit}-byte limit")
            response = self._http.get(str(meta.download_url))
            if response.status_code >= 400:
                raise ElnError(f"download of file {file_id}: the storage answered {response.status_code}")
            if len(response.content) > limit:
                raise ElnError(f"file {file_id} of {entry_id} is over the {limit}-byte limit")
            return response.content

    def schema(self, kind: str, schema_id: str) -> dict[str, Any]:
        schemas = self.sdk.schemas
        with self.errors(f"GET {kind.replace('_', ' ')} schema {schema_id}"):
            if kind == "custom_entity":
                return schemas.get_entity_schema_by_id(schema_id).to_dict()
            if kind == "entry":
                return schemas.get_entry_schema_by_id(schema_id).to_dict()
            return schemas.get_assay_result_schema_by_id(schema_id).to_dict()

    def app(self, app_id: str) -> dict[str, Any]:
        with self.errors(f"GET app {app_id}"):
            return self.sdk.apps.get_by_id(app_id).to_dict()

    # ------------------------------------------------------------ writes
    def set_fields(self, kind: str, resource_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """PATCH schema fields (`{name: value}`); the resource as it is after the write."""
        fields = sdk_fields({name: {"value": value} for name, value in values.items()})
        with self.errors(f"PATCH {kind.replace('_', ' ')} {resource_id}"):
            if kind == "custom_entity":
                return self.sdk.custom_entities.update(resource_id, CustomEntityUpdate(fields=fields)).to_dict()
            return self.sdk.entries.update_entry(resource_id, EntryUpdate(fields=fields)).to_dict()

    def upload(self, name: str, data: bytes, mime_type: str = "application/json") -> str:
        """A blob holding `data` (single-part: reports are small); its id."""
        blob = BlobCreate(name=name, type=BlobCreateType.RAW_FILE, mime_type=mime_type,
                          data64=base64.b64encode(data).decode(), md5=hashlib.md5(data).hexdigest())
        with self.errors(f"POST blob {name}"):
            return str(self.sdk.blobs.create(blob).id)

    def canvas(self, canvas_id: str | None, app_id: str, feature_id: str, entry_id: str, markdown: str,
               session_id: str | None = None) -> str:
        """Create the app's canvas on the entry, or replace the blocks of the one it made before; its id."""
        session = session_id or UNSET
        with self.errors(f"write canvas on entry {entry_id}"):
            if canvas_id:
                updated = [MarkdownUiBlockUpdate(type=MarkdownUiBlockType.MARKDOWN, value=markdown, id="qc")]
                update = AppCanvasUpdate(blocks=updated, feature_id=feature_id, resource_id=entry_id,  # type: ignore[arg-type]
                                         session_id=session)
                return str(self.sdk.apps.update_canvas(canvas_id, update).id)
            created = [MarkdownUiBlockCreate(type=MarkdownUiBlockType.MARKDOWN, value=markdown, id="qc")]
            create = AppCanvasCreate(app_id=app_id, blocks=created, feature_id=feature_id,  # type: ignore[arg-type]
                                     resource_id=entry_id, session_id=session)
            return str(self.sdk.apps.create_canvas(create).id)

    def session(self, app_id: str, name: str, timeout: int, messages: list[tuple[str, str]]) -> str:
        """An app session carrying `messages` ((style, text) pairs, text ≤ 200 characters); its id."""
        created = [AppSessionMessageCreate(content=text, style=AppSessionMessageStyle(style))
                   for style, text in messages]
        with self.errors(f"create app session {name!r}"):
            session = AppSessionCreate(app_id=app_id, name=name, timeout_seconds=timeout, messages=created)
            return str(self.sdk.apps.create_session(session).id)


def _detail(error: BenchlingError) -> str:
    body: Any = error.json if isinstance(error.json, dict) else {}
    inner: Any = body.get("error")
    message = inner.get("message") if isinstance(inner, dict) else None
    return str(message or error.message or "")[:300]


def _hint(status: int) -> str:
    return {401: " (the app's client id or secret was refused)",
            403: " (the app lacks access: grant it the project or schema)",
            404: " (no such item, or the app cannot see it)",
            429: " (rate limited)"}.get(status, "")
