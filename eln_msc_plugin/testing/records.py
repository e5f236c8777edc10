"""Canonical batch records for adapter tests: one that passes every rule, and one that fails.

Shipped with the package so an adapter's contract tests (eln_msc_plugin.testing.contract) can create
records without the project's own test helpers.
"""

from __future__ import annotations

import copy
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


def passing_record(lot_id: str = "MSC-BM-042") -> dict[str, Any]:
    """A production record within every specification (verdict `pass`)."""
    data = copy.deepcopy(BASE)
    data["lot_id"] = lot_id
    return data


def failing_record(lot_id: str = "MSC-BM-043") -> dict[str, Any]:
    """The same record with a senescent SA-β-gal count (25 % positive: verdict `fail`)."""
    data = passing_record(lot_id)
    data["senescence"]["beta_gal"].update(percent_positive=25.0, positive_cells=75)
    return data
