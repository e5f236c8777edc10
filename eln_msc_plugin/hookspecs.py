"""The hook set: the public contract between eln-msc-plugin and its plugins.

Built-in parsers, rules and ELN adapters implement these hooks exactly as a
third-party plugin would. Call hooks with keyword arguments only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from eln_msc_plugin.eln.spec import AdapterSpec
    from eln_msc_plugin.model import BatchRecord, Document, Finding, Report, Unreadable
    from eln_msc_plugin.rules import Rule, RuleSet

PROJECT = "eln_msc_plugin"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def eln_msc_parse_document(document: Document) -> Iterator[BatchRecord | Unreadable] | None:
    """Read a document into canonical batch records, one per record it holds.

    firstresult: the first parser that recognises the document wins. Return `None` for a document
    that is not in your format; otherwise return an iterator that yields a `BatchRecord` for every
    record read and an `Unreadable` for every record (or rest of the document) that could not be.

    :param document: the bytes (``document.stream``, first bytes in ``document.head``) or the
        decoded object (``document.payload``), with the media type when the caller knows it.
    """


@hookspec
def eln_msc_register_rules(register: Callable[[Rule], None]) -> None:
    """Contribute rules by calling ``register(rule)`` once per rule.

    Each rule is checked when it is registered: an id that is missing, malformed or already taken,
    or a threshold that is not a number, raises ``ConfigError`` at start-up. Returns nothing.

    :param register: the callback that checks and adds one `Rule`.
    """


@hookspec
def eln_msc_adjust_findings(record: BatchRecord, findings: list[Finding], ruleset: RuleSet) -> None:
    """Adjust a record's findings in place before its verdict is taken (waivers, severity overrides).

    Called only for records that have findings. Returns nothing: change ``findings`` in place.

    :param record: the record the findings are about.
    :param findings: the findings so far; edit, replace or remove items of this list.
    :param ruleset: the rule set in force (its policy, thresholds and rule objects).
    """


@hookspec
def eln_msc_report_finished(report: Report) -> None:
    """Observe a finished report (logging, metrics). Returns nothing; must not change the report.

    :param report: the finished report, verdict included.
    """


@hookspec
def eln_msc_register_adapters(register: Callable[[AdapterSpec], None]) -> None:
    """Contribute ELN adapters by calling ``register(spec)`` once per adapter.

    Each `AdapterSpec` is checked when it is registered: a malformed or duplicate name, or an option
    that is not a long option of its own, raises ``ConfigError`` at start-up. Registering must not
    import the ELN's SDK (``spec.create`` does, when an adapter is opened). Returns nothing.

    :param register: the callback that checks and adds one `AdapterSpec`.
    """
