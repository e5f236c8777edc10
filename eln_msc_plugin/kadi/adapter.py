"""The Kadi4Mat adapter: the ELN adapter protocol over Kadi's REST API (no Kadi import; runs anywhere).

Requests per annotation (counted in tests/test_kadi_requests.py), where the eln-msc plugin is installed in
Kadi: an unchanged record costs one read (the plugin's view of the record) and no write; a changed record
that read and one write (the plugin's endpoint: the report file, then tag and extra). Against a Kadi
without the plugin: an unchanged record one read (the file list; the extras come with the listing), two when
it holds a verdict (the newest revisions say whether the plugin's account set it), a changed one three reads
(files, newest revisions, a check after writing) and three writes (Kadi's two-step upload, then its PATCH);
the plugin's account is asked once per adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eln_msc_plugin.eln.base import (
    Account,
    Annotation,
    ChangeQuery,
    Changes,
    Content,
    RecordRef,
    Tally,
    WriteOutcome,
)
from eln_msc_plugin.eln.expiry import parse_expiry
from eln_msc_plugin.eln.http import DEFAULT_TIMEOUT, Token
from eln_msc_plugin.errors import ElnAnswerError
from eln_msc_plugin.kadi import content as kadi_content
from eln_msc_plugin.kadi import write
from eln_msc_plugin.kadi.client import KadiClient
from eln_msc_plugin.kadi.listing import Listing
from eln_msc_plugin.kadi.revisions import is_own_revision

NAME = "kadi"


class KadiAdapter:
    """One Kadi4Mat instance, as the token's account sees it. Not shared between threads."""

    name = NAME

    def __init__(self, base_url: str, token: Token | None, *, timeout: Any = DEFAULT_TIMEOUT,
                 meter: Callable[[str], None] | None = None, client: KadiClient | None = None,
                 write_via: str = "auto", me: str | None = None) -> None:
        self.client = client or KadiClient(base_url, token, timeout=timeout, meter=meter)
        self.base_url = self.client.base_url
        self.tally: Tally = self.client.session.tally
        self.write_via = write_via  # auto | plugin | patch (see kadi/write.py)
        self.before_write: Callable[[], None] | None = None  # lets a test make a concurrent save
        self._account: Account | None = None
        self._me = me  # the account's user id, when the host knows it without asking (the on-save task)

    def __repr__(self) -> str:
        return f"KadiAdapter({self.base_url!r}, token=***)"

    def ref(self, record_id: str, revision: str | None = None, held: dict[str, Any] | None = None) -> RecordRef:
        return RecordRef(str(record_id), self.client.record_url(int(record_id)), revision=revision,
                         listing=held or {})

    def ref_from_listing(self, item: dict[str, Any]) -> RecordRef:
        record_id = int(item["id"])
        return RecordRef(str(record_id), self.client.record_url(record_id), modified_at=item.get("last_modified"),
                         label=str(item.get("identifier") or record_id), title=str(item.get("title") or ""),
                         listing=item)

    def account(self) -> Account:
        if self._account is None:
            me = self.client.me()
            found = me.get("identity")
            identity: dict[str, Any] = found if isinstance(found, dict) else {}
            if not isinstance(me.get("id"), int):
                raise ElnAnswerError("read the token's user: the answer names no user id")
            token = self.client.token_info() or {}
            self._account = Account(str(me["id"]), str(identity.get("username") or me.get("displayname") or me["id"]),
                                    scopes=tuple(str(s) for s in token.get("scopes") or ()),
                                    expires_at=parse_expiry(token.get("expires_at")),
                                    details={"system role": str(me.get("system_role") or "")})
        return self._account

    def changes(self, query: ChangeQuery) -> Changes:
        return Listing(self.client, query, self.ref_from_listing)

    def read(self, ref: RecordRef) -> Content:
        return kadi_content.read(self.client, ref, self._me or (self._account.id if self._account else None),
                                 plugin=self.write_via != "patch", whoami=lambda: self.account().id)

    def prepare(self, content: Content) -> Content:
        return kadi_content.prepare(self.client, content)

    def annotate(self, content: Content, annotation: Annotation, *, dry_run: bool = False) -> WriteOutcome:
        annotation.altered = getattr(content.state, "altered", "") or annotation.altered
        return write.annotate(self.client, content, annotation, dry_run=dry_run, via=self.write_via,
                              before_write=self.before_write, me=lambda: self.account().id)

    def is_own_write(self, ref: RecordRef) -> bool:
        """A revision (from the revisions API, or the newest one read now) that only the plugin's account
        wrote, changing only `msc_qc` and the `qc-*` tags."""
        revision = dict(ref.listing) if "diff" in ref.listing else None
        if revision is None:
            newest = self.client.revisions(int(ref.id), per_page=1)
            revision = newest[0] if newest else {}
        return is_own_revision(revision, self.account().id)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> KadiAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
