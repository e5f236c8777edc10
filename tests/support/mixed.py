"""Generated records of mixed quality: about half valid, the others bent in one to three places."""

from __future__ import annotations

import copy
import random
from typing import Any

from eln_msc_plugin.rules import USES
from tests.support.records import BASE

ODD: list[Any] = [None, True, 0, -1, 4.5, 1e16, "", "x", "4", "2026-13-01", [], {}, {"value": 2, "unit": "M cells"},
                  300, 0.7]


def _places(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found += _places(value, prefix + (key,))
    return found


PLACES = _places(BASE)


def _bend(data: dict[str, Any], rng: random.Random) -> None:
    place = rng.choice(PLACES)
    node: Any = data
    try:
        for part in place[:-1]:
            node = node[part]
        node[place[-1]]
    except (KeyError, IndexError, TypeError):
        return  # an earlier bend replaced or removed this place
    if not isinstance(node, (dict, list)):
        return  # a string: indexable, but not a place of the record
    action = rng.random()
    if action < 0.2:
        del node[place[-1]]
    elif action < 0.35 and isinstance(node, dict):
        node[rng.choice(["lab_note", "operator", "cells_seeded"])] = rng.choice(ODD)
    else:
        node[place[-1]] = copy.deepcopy(rng.choice(ODD))


def mixed(n: int, seed: int = 11) -> list[dict[str, Any]]:
    """`n` records: about half valid with moved numbers, the others bent in one to three places."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        data = copy.deepcopy(BASE)
        data["record_id"] = f"R-{i}"
        data["intended_use"] = rng.choice(USES)
        scale, drift = rng.choice((1.0, 1.0, 1.0, 0.3, 1.7, 40.0)), rng.choice((1.0, 1.0, 0.8, 1.6))
        for p in data["passages"]:
            p["cells_harvested"] = round(p["cells_harvested"] * scale)
            p["reported_cumulative_pdl"] = round(p["reported_cumulative_pdl"] * drift, 1)
        data["production_passage"] = rng.choice((1, 4, 4, 4, 4, 4, 5, 7, 9))
        data["senescence"]["beta_gal"]["percent_positive"] = rng.choice((2.0, 6.0, 6.0, 12.0, 25.0))
        if rng.random() < 0.2:
            data["cryo_events"] = [{"kind": "freeze", "at": "2026-01-13", "passage": 2, "cumulative_pdl": 4.4},
                                   {"kind": "thaw", "at": rng.choice(["2026-01-14", "2026-01-12"]), "passage": 2}]
        if rng.random() < 0.5:
            for _ in range(rng.randint(1, 3)):
                _bend(data, rng)
        out.append(data)
    return out
