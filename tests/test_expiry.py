"""The service token's expiry in plain words (the same for eln-msc doctor and the on-save task)."""

from __future__ import annotations

import datetime as dt

import pytest

from eln_msc_plugin.eln.expiry import WARN_DAYS, parse_expiry, token_expiry

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("expires_at", "level", "says"), [
    (None, "ok", "does not expire"),
    (NOW + dt.timedelta(days=WARN_DAYS + 1), "ok", "expires at 2026-03-16 12:00 UTC"),
    (NOW + dt.timedelta(days=WARN_DAYS), "warn", "in 14.0 days"),
    (NOW + dt.timedelta(hours=6), "warn", "in 0.2 days: create a new token"),
    (NOW, "fail", "expired at 2026-03-01 12:00 UTC"),
    (NOW - dt.timedelta(days=3), "fail", "no verdicts are written until it is replaced"),
    (dt.datetime(2026, 3, 5, 12, 0), "warn", "2026-03-05 12:00 UTC"),  # naive: taken as UTC
], ids=["none", "in-15-days", "in-14-days", "in-6-hours", "now", "3-days-ago", "naive-utc"])
def test_token_expiry_levels(expires_at: dt.datetime | None, level: str, says: str) -> None:
    found_level, text = token_expiry(expires_at, NOW)
    assert found_level == level and says in text


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-05T12:00:00+00:00", dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC)),
    ("2026-03-05T12:00:00Z", dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC)),
    (None, None), ("", None), ("soon", None), (17, None),
], ids=["offset", "zulu", "none", "empty", "not-a-time", "number"])
def test_parse_expiry(text: object, expected: dt.datetime | None) -> None:
    assert parse_expiry(text) == expected
