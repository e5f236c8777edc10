"""Builders of canonical batch records for tests: a valid production record and ways to bend it."""

from __future__ import annotations

import copy
import json
from typing import Any

BASE: dict[str, Any] = {
    "format": "msc-batch-record",
    "format_version": "1.0",
    "record_id": "EXP-2026-0142",
    "revision": "7",
    "lot_id": "MSC-BM-042",
    "product_type": "msc_ev",
    "intended_use": "production",
    "donor_id": "D-017",
    "tissue_source": "bone_marrow",
    "bank": {"tier": "WCB", "bank_id": "WCB-07", "parent_bank_id": "MCB-02"},
    "passages": [
        {"number": 1, "seeded_at": "2026-01-02", "harvested_at": "2026-01-07", "vessel_area_cm2": 175,
         "cells_seeded": 875000, "cells_harvested": 4100000, "viability_percent": 95.1,
         "reported_cumulative_pdl": 2.2},
        {"number": 2, "seeded_at": "2026-01-08", "harvested_at": "2026-01-13", "vessel_area_cm2": 175,
         "cells_seeded": 875000, "cells_harvested": 3900000, "viability_percent": 94.0,
         "reported_cumulative_pdl": 4.4},
        {"number": 3, "seeded_at": "2026-01-14", "harvested_at": "2026-01-19", "vessel_area_cm2": 175,
         "cells_seeded": 875000, "cells_harvested": 3800000, "viability_percent": 93.2,
         "reported_cumulative_pdl": 6.5},
        {"number": 4, "seeded_at": "2026-01-20", "harvested_at": "2026-01-26", "vessel_area_cm2": 175,
         "cells_seeded": 875000, "cells_harvested": 3600000, "viability_percent": 92.5,
         "reported_cumulative_pdl": 8.6},
    ],
    "production_passage": 4,
    "reported_cumulative_pdl": 8.6,
    "senescence": {
        "beta_gal": {"percent_positive": 6.0, "cells_counted": 300, "positive_cells": 18, "sample_passage": 4,
                     "tested_at": "2026-01-27", "method": "xgal_ph6"},
        "p16": {"fold_change": 1.3, "calibrator": "P2, same donor", "reference_genes": ["PPIA", "YWHAZ"],
                "method": "qpcr_ddct", "sample_passage": 4, "tested_at": "2026-01-27"},
        "p21": {"fold_change": 1.2, "calibrator": "P2, same donor", "reference_genes": ["PPIA", "YWHAZ"],
                "method": "qpcr_ddct", "sample_passage": 4, "tested_at": "2026-01-27"},
    },
    "ev_harvest": {"collected_at": "2026-01-28", "producing_passage": 4},
    "released_at": "2026-03-05",
}


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
