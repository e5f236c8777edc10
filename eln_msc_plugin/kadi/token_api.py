"""`GET /api/eln_msc/token`: what the calling access token is, and when it expires.

Kadi's own API does not tell a token its expiry (the web form defaults it to four weeks, after which every
check fails with "Access token has expired."), so the plugin adds this small endpoint to Kadi's API
blueprint; `eln-msc doctor` and the on-save task read it to warn in time. Imported by the plugin's
`kadi_get_blueprints` hook, before Kadi registers its API blueprint. The token's value never leaves Kadi.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from flask_login import login_required
from kadi.lib.api.blueprint import bp
from kadi.lib.api.core import get_access_token, json_response

from eln_msc_plugin.eln.expiry import token_expiry

PATH = "/eln_msc/token"
SAY_EVERY = 3600.0  # seconds between two log lines about the same token's expiry, per worker process
log = logging.getLogger("eln_msc_plugin.kadi")
_said: dict[str, float] = {}


@bp.get(PATH)
@login_required
def eln_msc_token() -> Any:
    """The access token of this request: its name, scopes and expiry (`token: null` for a browser session)."""
    token = get_access_token()
    if token is None:
        return json_response(200, {"eln_msc": 1, "token": None})
    expires_at = getattr(token, "expires_at", None)
    return json_response(200, {"eln_msc": 1, "token": {
        "name": getattr(token, "name", None),
        "scopes": sorted(str(token.scope or "").split()),
        "expires_at": expires_at.isoformat() if expires_at is not None else None,
        "is_expired": bool(token.is_expired),
    }})


def say_token_expiry(secret: str) -> None:
    """Log (at most once an hour per token and process) that the service token expires soon or has expired:
    a warning within 14 days, an error once expired. Never raises: a log line must not stop a check."""
    key = hashlib.sha256(secret.encode()).hexdigest()
    now = time.monotonic()
    if now - _said.get(key, -SAY_EVERY) < SAY_EVERY:
        return
    _said[key] = now
    try:
        from kadi.lib.api.models import PersonalToken

        token = PersonalToken.get_by_token(secret)
        level, text = token_expiry(token.expires_at if token is not None else None)
    except Exception as error:  # the database may be away; the check itself will say so
        log.debug("eln-msc: could not read the service token's expiry: %s", type(error).__name__)
        return
    if level == "fail":
        log.error("eln-msc: the service token %s (docs/admin-install.md, step 2.4)", text)
    elif level == "warn":
        log.warning("eln-msc: the service token %s (docs/admin-install.md, step 2.4)", text)
