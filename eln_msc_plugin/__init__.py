"""eln-msc-plugin: validates MSC batch records and annotates them in an ELN."""

__version__ = "0.1.0"

from eln_msc_plugin.model import BatchRecord, Finding, Report, Unreadable
from eln_msc_plugin.pipeline import iter_reports, validate_document

__all__ = [
    "BatchRecord",
    "Finding",
    "Report",
    "Unreadable",
    "__version__",
    "iter_reports",
    "validate_document",
]
