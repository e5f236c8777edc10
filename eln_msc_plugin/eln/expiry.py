"""When the service token expires, in plain words: `eln-msc doctor` and the on-save task say the same.

A token that expires stops every verdict without a sound (Kadi's token form defaults to four weeks), so
both warn two weeks ahead and fail once it has expired.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

WARN_DAYS = 14
Level = Literal["ok", "warn", "fail"]


def token_expiry(expires_at: dt.datetime | None, now: dt.datetime | None = None) -> tuple[Level, str]:
    """How a token's expiry stands: ok, warn (within WARN_DAYS) or fail (expired), and what to say."""
    if expires_at is None:
        return "ok", "does not expire"
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    when = expires_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    left = expires_at - now
    if left <= dt.timedelta(0):
        return "fail", f"expired at {when}: no verdicts are written until it is replaced"
    if left <= dt.timedelta(days=WARN_DAYS):
        days = left.total_seconds() / 86400
        return "warn", (f"expires at {when}, in {days:.1f} days: create a new token and write it to the token "
                        "file before then")
    return "ok", f"expires at {when}"


def parse_expiry(text: object) -> dt.datetime | None:
    """An ISO 8601 expiry as an ELN gives it (None for none or a text that is not a time)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
