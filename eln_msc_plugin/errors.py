"""The project's own exception types. Data problems are `Finding`s; these are for work that cannot go on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eln_msc_plugin.model import Finding


class ElnMscError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(ElnMscError):
    """A plugin, rule or policy is not usable; raised at start-up, not in the middle of a run."""


class DocumentError(ElnMscError):
    """A document cannot be read at all; carries the findings that say why."""

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class ElnError(ElnMscError):
    """Talking to an ELN failed (network, authentication, refusal). Never carries a token."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
