"""`GET /api/eln_msc/token`: what the calling access token is, and when it expires.

Kadi's own API does not tell a token its expiry (the web form defaults it to four weeks, after which every
check fails with "Access token has expired."), so the plugin adds this small endpoint to Kadi's API
blueprint; `eln-msc doctor` and the on-save task read it to warn in time. Imported by the plugin's
`kadi_get_blueprints` hook, before Kadi registers its API blueprint. The token's value never leaves Kadi.
"""

from __future__ import annotations

from typing import Any

from flask_login import login_required
from kadi.lib.api.blueprint import bp
from kadi.lib.api.core import get_access_token, json_response

PATH = "/eln_msc/token"


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
