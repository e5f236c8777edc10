"""eln-msc-plugin: validates MSC batch records and annotates them in an ELN."""

__version__ = "0.1.0"

from eln_msc_plugin.model import BatchRecord, Finding, Report, Unreadable  # noqa: E402
from eln_msc_plugin.pipeline import iter_reports, validate_document  # noqa: E402

__all__ = [
    "BatchRecord",
    "Finding",
    "Report",
    "Unreadable",
    "__version__",
    "iter_reports",
    "validate_document",
]
