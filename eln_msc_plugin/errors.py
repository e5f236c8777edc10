"""The project's own exception types. Data problems are `Finding`s; these are for work that cannot go on.

The values of the secrets this process holds (every `Token`) are registered here, and every error of this
package masks them in its message: a server that repeats a token in its answer cannot get it printed, logged
or stored through an error, whichever adapter passed the answer on. `mask` does the same for other text
from a server that is shown or stored.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from eln_msc_plugin.model import Finding

MASK = "***"
MIN_SECRET = 6  # a shorter "secret" would mask ordinary words; no ELN issues tokens that short
_secrets: tuple[str, ...] = ()  # longest first; replaced whole, so a reader never sees it change
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Mask `value` (and its URL-encoded form) in every error and `mask`ed text from now on."""
    global _secrets
    if len(value) < MIN_SECRET:
        return
    with _lock:
        _secrets = tuple(sorted({*_secrets, value, quote(value, safe="")}, key=len, reverse=True))


def mask(text: str) -> str:
    """`text` with the value of every registered secret replaced by `***`."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class ElnMscError(Exception):
    """Base of every error this package raises on purpose; its text never holds a registered secret."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(mask(a) if isinstance(a, str) else a for a in args))


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


class ElnAnswerError(ElnError):
    """The server answered, but not as the ELN's API does (a body that is not JSON, another shape, a member
    missing): the URL is most likely not the ELN's, or something in front of it answers instead."""
