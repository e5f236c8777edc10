"""Toy adapters that each break one rule of the adapter contract, so the suite can be shown to fail them."""

from __future__ import annotations

from typing import Any

import requests

from eln_msc_plugin.eln.base import Annotation, Content, RecordRef, WriteOutcome
from eln_msc_plugin.eln.http import check
from tests.support.toy_eln import ToyAdapter


class BrokenRewritesReports(ToyAdapter):
    """Puts every report under one name, replacing the last one (an audit artefact lost)."""

    def annotate(self, content: Content, annotation: Annotation, *, dry_run: bool = False) -> WriteOutcome:
        annotation.report_file = "msc-qc-report.json"
        content.state["files"] = set()
        self.http.put(f"api/records/{content.ref.id}/files/msc-qc-report.json?replace=1", data=annotation.report)
        stored = {k: v for k, v in vars(annotation).items() if k != "report"}
        check(self.http.patch(f"api/records/{content.ref.id}", json={"annotation": stored}), "annotate")
        return WriteOutcome("annotated")


class BrokenNeverUnchanged(ToyAdapter):
    """Never sees that its annotation is in place, so it writes again and again."""

    def _content(self, ref: RecordRef, item: dict[str, Any]) -> Content:
        content = super()._content(ref, item)
        content.complete = False
        return content


class BrokenClobbers(ToyAdapter):
    """Writes the data it read back with the annotation: a save made meanwhile is lost."""

    def annotate(self, content: Content, annotation: Annotation, *, dry_run: bool = False) -> WriteOutcome:
        data = content.sources[0].load() if content.sources else None
        self.http.patch(f"api/records/{content.ref.id}", json={"data": data})
        return super().annotate(self.prepare(content), annotation, dry_run=dry_run)


class BrokenLeaksErrors(ToyAdapter):
    """Lets `requests` and JSON errors escape instead of raising `ElnError`."""

    def _get(self, path: str, what: str, **params: Any) -> Any:
        response = requests.get(f"{self.base_url}/{path}", params=params or None, timeout=2)
        response.raise_for_status()
        return response.json()


class BrokenBlindToOwnWrites(ToyAdapter):
    """Does not recognise its own annotation writes (a watcher would judge them again, for ever)."""

    def is_own_write(self, ref: RecordRef) -> bool:
        return False


BROKEN = {"rewrites-reports": BrokenRewritesReports, "never-unchanged": BrokenNeverUnchanged,
          "clobbers": BrokenClobbers, "leaks-errors": BrokenLeaksErrors, "blind-to-own-writes": BrokenBlindToOwnWrites}
