"""The built-in MSC rule pack: each module is an ordinary plugin that registers its rules.

Besides its rules, the pack tells the pipeline what only it knows: which specification applies to a
document (`triage`) and what every report states about the record (`report_metrics`, in `metrics.py`).
"""

from __future__ import annotations

from typing import Any

from eln_msc_plugin.formats.common import FORMAT
from eln_msc_plugin.rules import USES

NAME = "msc-default"
VERSION = "1.1.0"
# A record whose intended use is missing or unknown is held to the strictest specification.
DEFAULT_USE = "production"


def is_batch_record(data: Any) -> bool:
    """A document is an MSC batch record when it is an object whose `format` is `msc-batch-record`."""
    return type(data) is dict and data.get("format") == FORMAT


def triage(data: Any) -> tuple[str, bool]:
    """(intended use whose specification applies, whether the document is an MSC batch record at all)."""
    if type(data) is not dict or data.get("format") != FORMAT:
        return DEFAULT_USE, False
    use = data.get("intended_use")
    return (use if use in USES else DEFAULT_USE), True


# How rule pack 1.1 reads the cases the rule table left open: (title, reading, the rules it concerns).
# The rule reference (docs/rules.md) prints them; each rule's own description says the same in its words.
CLARIFICATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Start of the count", "A record whose first passage event is P1 (or P0) and that does not begin with a thaw "
     "starts at PDL 0. A record that begins with a thaw starts at that thaw's `cumulative_pdl` (the thaw that "
     "begins the record is the latest thaw dated at or before the first passage's seeding, or, failing that, a "
     "first passage flagged `thawed`). A record that starts at P2 or later with neither has an unknown start: the "
     "recomputed cumulative PDL is `null`, and `pdl.consistency` warns once that the start is unknown.",
     ("pdl.consistency", "pdl.limit")),
    ("A mislabelled thaw does not rewind the count", "Cumulative PDL is always the start plus the sum of PD over "
     "the passage events in order; a thaw whose passage number does not match a freeze is a `passage.sequence` "
     "finding, never a reason to drop or re-count doublings.", ("pdl.consistency", "passage.sequence")),
    ("Loss of cells", "A passage with `cells_harvested` < `cells_seeded` contributes 0 to the cumulative PDL "
     "(cells do not un-double; `counts.plausible` already warns), so a correctly reported PDL never decreases. A "
     "harvest of 0 cells has PD 0 for the sum and warns under `growth.doubling-time` (PD < 1).",
     ("pdl.consistency", "growth.doubling-time", "counts.plausible")),
    ("Reported values", "`pdl.consistency` compares every reported value (the record-level one, each passage's, "
     "and the `cumulative_pdl` of each freeze and thaw) against the recomputed value at that point. "
     "`pdl.monotonic` reads them in order: passages and freeze/thaw events by date, the record-level value last; "
     "a record-level value below the last passage's is a decrease.", ("pdl.consistency", "pdl.monotonic")),
    ("A lot with no PDL at all", "No counts and no reported value: `pdl.limit` warns that the limit cannot be "
     "checked, for production and banking lots; nothing for research lots.", ("pdl.limit",)),
    ("Passage class", "`passage.class` is an `info` finding only when the class is not optimal; the "
     "`passage_class` metric is on every record. P0 (the primary isolate) is optimal.", ("passage.class",)),
    ("Boundaries", "Seeding densities of 100 and 100,000 cells/cm² are inside; a β-gal disagreement of exactly "
     "1 point agrees. \"Seeded before harvested\" is strict; every other \"before\" in `chronology` means \"not "
     "after\". A date without a zone is the UTC day; offsets are converted to UTC before comparing.",
     ("counts.plausible", "beta-gal.count", "chronology")),
    ("A repeated passage number", "P3 followed by P3 is a `passage.sequence` failure, like a reset or a gap.",
     ("passage.sequence",)),
    ("Not a batch record", "A document whose `format` member is missing or is not `msc-batch-record` is reported "
     "with the schema finding first and without rule findings (assay, PDL, ...) that would only repeat that it "
     "is not a record.", ("schema",)),
)
