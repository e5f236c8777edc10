"""The Benchling plugin: registered through the `eln_msc_plugin` entry-point group like any third-party one.

It contributes the parser for Benchling batches. Importing it does not import benchling-sdk.
"""

from eln_msc_plugin.benchling.native import eln_msc_parse_document

__all__ = ["eln_msc_parse_document"]
