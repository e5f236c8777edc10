"""Kadi4Mat: the ELN adapter (`adapter.py`, over the REST API), its extras parser, and the Kadi plugin.

Only the modules that run inside Kadi4Mat import Kadi: the plugin (`plugin.py`, the on-save host), its
annotation endpoint (`endpoint.py`) and the live record page (`live.py`). The adapter runs anywhere.
"""

from collections.abc import Collection, Mapping
from typing import Any

KADI_RECORD = "application/vnd.kadi.record+json"
ANNOTATION_KEY = "msc_qc"
TAG_PREFIX = "qc-"
VERDICT_TAGS = ("qc-pass", "qc-warn", "qc-fail", "qc-error")


def _without_annotation(extras: object) -> list[object]:
    return [e for e in extras or [] if not (isinstance(e, dict) and e.get("key") == ANNOTATION_KEY)]  # type: ignore[attr-defined]


def _without_verdict_tags(tags: object) -> list[str]:
    names = [t.get("name") if isinstance(t, dict) else t for t in tags or []]  # type: ignore[attr-defined]
    return sorted(str(n) for n in names if n not in VERDICT_TAGS)


def annotation_only(changed: Collection[str], new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """True when a change touched nothing but the `msc_qc` extra and the qc-* tags: an annotation write.

    `changed` names the fields that changed; `new` and `old` hold their values after and before.
    """
    if not changed or set(changed) - {"extras", "tags"}:
        return False
    if "extras" in changed and _without_annotation(new.get("extras")) != _without_annotation(old.get("extras")):
        return False
    return not ("tags" in changed and _without_verdict_tags(new.get("tags")) != _without_verdict_tags(old.get("tags")))
