"""The Kadi adapter's doctor checks (`eln-msc doctor --eln kadi`): what to fix, in order.

Kadi answers; the token is accepted; it has the scopes the plugin needs (`user.read`, `record.read`,
`record.update`, probed without changing anything); the account may update records; and, given Kadi's
config file (`--config`), that the plugin is installed, enabled and configured. `--probe` also saves a test
record and waits for its verdict, the whole on-save path end to end.
"""

from __future__ import annotations

import importlib.metadata
import os
import runpy
import time
from collections.abc import Iterator

from eln_msc_plugin.eln.base import ElnAdapter
from eln_msc_plugin.eln.expiry import parse_expiry, token_expiry
from eln_msc_plugin.eln.http import check
from eln_msc_plugin.eln.spec import AdapterConfig, Check
from eln_msc_plugin.errors import ConfigError, ElnError
from eln_msc_plugin.kadi.annotation import annotation_of
from eln_msc_plugin.kadi.client import KadiClient
from eln_msc_plugin.kadi.settings import Settings

PLUGIN = "eln_msc"
def doctor(adapter: ElnAdapter, config: AdapterConfig) -> Iterator[Check]:
    """Every check, in order; the probe only when everything before it passed."""
    client: KadiClient = getattr(adapter, "client")  # noqa: B009 - the Kadi adapter's own client
    checks = check_api(client)
    path = config.options.get("config") or os.environ.get("KADI_CONFIG_FILE")
    if path:
        checks += check_config(str(path))
    else:
        checks.append(Check("plugin config", True, "not checked: pass --config or set KADI_CONFIG_FILE to check "
                            "the plugin's Kadi configuration too", warning=True))
    yield from checks
    if config.options.get("probe") and all(c.ok for c in checks):
        yield probe(client, str(config.options.get("probe_type") or "msc_batch"),
                    float(config.options.get("wait") or 30.0))


def check_api(client: KadiClient) -> list[Check]:
    checks: list[Check] = []
    try:
        response = client.session.request("GET", "api/info")
    except ElnError as error:
        return [Check("reachable", False, str(error), "check the URL, the network path and that uWSGI runs")]
    # through the shared check: an answer that is not Kadi's is an ElnAnswerError, which the doctor host reports
    version = check(response, "read the Kadi version", expect=dict).get("version", "?") \
        if response.status_code == 200 else "?"
    checks.append(Check("reachable", True, f"Kadi {version} answers at {client.base_url}"))
    try:
        me = client.me()
        name = (me.get("identity") or {}).get("username", me.get("id"))
        checks.append(Check("token", True, f"accepted; acts as user {name!r} (id {me.get('id')})"))
    except ElnError as error:
        fix = ("create a personal access token for the service account (scopes user.read, record.read, record.update)"
               if error.status == 401 else "")
        if "Access token has expired" in str(error):  # Kadi's own words for an expired token
            fix = "create a new token and write it to the token file (docs/admin-install.md, step 2.4)"
        return checks + [Check("token", False, str(error), fix)]
    checks.append(check_expiry(client))
    checks += check_record_access(client)
    return checks


def check_expiry(client: KadiClient) -> Check:
    """When the token expires (the plugin's endpoint says): a warning 14 days ahead, a failure once expired."""
    try:
        token = client.token_info()
    except ElnError as error:
        return Check("token expiry", False, str(error))
    if token is None:
        return Check("token expiry", True, "not known: the plugin is not enabled in this Kadi (its endpoint tells "
                     "the expiry)", "enable the plugin (docs/admin-install.md, step 3)", warning=True)
    level, text = token_expiry(parse_expiry(token.get("expires_at")))
    fix = "" if level == "ok" else "create a new token and write it to the token file (docs/admin-install.md, step 2.4)"
    return Check("token expiry", level != "fail", text, fix, warning=level == "warn")


def check_record_access(client: KadiClient) -> list[Check]:
    try:
        page = client.records_page(1, per_page=1)
    except ElnError as error:
        return [Check("scope record.read", False, str(error), "add the scope record.read to the token")]
    checks = [Check("scope record.read", True,
                    f"{page.get('_pagination', {}).get('total_items', '?')} records visible")]
    items = page.get("items") or []
    if not items:
        # A new instance has no record yet; an account without the admin system role sees only its own. Either
        # way nothing is wrong that the doctor can see, and --probe then proves the plugin writes.
        return checks + [Check("scope record.update", True, "not checked: no record is visible to try it on",
                               "give the service account the admin system role so it sees every record, "
                               "then run the doctor again (with --probe to see a verdict written)", warning=True)]
    record_id = items[0]["id"]
    # An empty upload request is refused by validation (400) only after the permission and scope checks.
    response = client.session.request("POST", f"api/records/{record_id}/uploads", json={})
    if response.status_code == 400:
        checks.append(Check("scope record.update", True, "granted, and the account may update records"))
    elif response.status_code == 401:
        checks.append(Check("scope record.update", False, "the token lacks record.update",
                            "create a token with the scopes user.read, record.read, record.update"))
    elif response.status_code == 403:
        checks.append(Check("scope record.update", False, f"the account may not update record {record_id}",
                            "give the service account the admin system role (or share the records with its group)"))
    else:
        checks.append(Check("scope record.update", False, f"unexpected HTTP {response.status_code} while probing", ""))
    return checks


def check_config(path: str) -> list[Check]:
    """What Kadi's own config file says about the plugin (run where Kadi runs)."""
    checks: list[Check] = []
    installed = any(e.name == PLUGIN for e in importlib.metadata.entry_points(group="kadi_plugins"))
    checks.append(Check("installed", installed,
                        "entry point kadi_plugins:eln_msc " + ("found" if installed else "missing"),
                        "" if installed else "pip install eln-msc-plugin into Kadi's virtual environment"))
    try:
        config = runpy.run_path(path)
    except Exception as error:  # any failure to read the file is the finding
        return checks + [Check("config", False, f"cannot read {path}: {type(error).__name__}", "")]
    enabled = PLUGIN in (config.get("PLUGINS") or [])
    checks.append(Check("enabled", enabled, f"PLUGINS {'includes' if enabled else 'lacks'} {PLUGIN!r}",
                        "" if enabled else f"add {PLUGIN!r} to PLUGINS, then restart uWSGI and the Celery worker"))
    try:
        settings = Settings.from_config((config.get("PLUGIN_CONFIG") or {}).get(PLUGIN, {}))
        settings.token()
        checks.append(Check("plugin config", True, f"kadi_url {settings.kadi_url}, record types "
                            f"{list(settings.record_types) or 'all'}, token readable"))
    except ConfigError as error:
        checks.append(Check("plugin config", False, str(error), "see docs/admin-install.md, step 3"))
    return checks


def probe(client: KadiClient, record_type: str, wait: float) -> Check:
    """Save a small test record and wait for the plugin's verdict on it."""
    identifier = f"eln-msc-doctor-{int(time.time())}"
    body = {"identifier": identifier, "title": "eln-msc doctor probe (safe to delete)", "type": record_type,
            "extras": [{"type": "str", "key": "lot_id", "value": "DOCTOR-PROBE"}]}
    try:
        created = client.create_record(body)
    except ElnError as error:
        return Check("probe", False, f"could not create a probe record: {error}",
                     "the token needs record.create for --probe")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = annotation_of(client.record(created["id"]).get("extras") or [])
        if found:
            return Check("probe", True, f"record {created['id']} got verdict {found.get('verdict')!r} "
                         f"in under {wait:.0f} s (delete it when you like)")
        time.sleep(0.5)
    return Check("probe", False, f"record {created['id']} got no verdict within {wait:.0f} s",
                 "check that the Celery worker runs and was restarted after installing; see its log")
