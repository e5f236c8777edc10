"""Builders of canonical batch records for tests: a valid production record and ways to bend it."""

from __future__ import annotations

import copy
import json
from typing import Any

from eln_msc_plugin.testing import records as _shipped

BASE: dict[str, Any] = _shipped.BASE  # the valid production record (shipped for adapter contract tests)


def record(**overrides: Any) -> dict[str, Any]:
    """A deep copy of the valid production record, with top-level members replaced (None removes)."""
    data = copy.deepcopy(BASE)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def set_path(data: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    """Set (or, with value None, remove) the member at a JSON Pointer such as '/passages/2/cells_seeded'."""
    parts = pointer.strip("/").split("/")
    node: Any = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return data


def as_json(data: Any) -> bytes:
    return json.dumps(data).encode("utf-8")
