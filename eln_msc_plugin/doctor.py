"""`eln-msc doctor`: check an installation against Kadi4Mat and say what to fix.

Checks, in order: Kadi answers; the token is accepted; it has the scopes the plugin needs
(`user.read`, `record.read`, `record.update`, probed without changing anything); the account may update
records; and, given Kadi's config file, that the plugin is enabled and configured. `--probe` also saves a
test record and waits for its verdict, the whole path end to end.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import runpy
import sys
import time
from dataclasses import dataclass
from typing import Any

from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.eln.kadi import KadiClient
from eln_msc_plugin.errors import ConfigError, ElnError
from eln_msc_plugin.kadi.settings import Settings
from eln_msc_plugin.kadi.sink import annotation_of

PLUGIN = "eln_msc"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def token_from(args: argparse.Namespace) -> Token:
    if args.token_file:
        return Token.from_file(args.token_file)
    return Token.from_env(args.token_env)


def check_api(client: KadiClient) -> list[Check]:
    checks: list[Check] = []
    try:
        response = client.session.request("GET", "api/info")
    except ElnError as error:
        return [Check("reachable", False, str(error), "check the URL, the network path and that uWSGI runs")]
    version = response.json().get("version", "?") if response.status_code == 200 else "?"
    checks.append(Check("reachable", True, f"Kadi {version} answers at {client.base_url}"))
    try:
        me = client.me()
        name = (me.get("identity") or {}).get("username", me.get("id"))
        checks.append(Check("token", True, f"accepted; acts as user {name!r} (id {me.get('id')})"))
    except ElnError as error:
        fix = ("create a personal access token for the service account (scopes user.read, record.read, record.update)"
               if error.status == 401 else "")
        return checks + [Check("token", False, str(error), fix)]
    checks += check_record_access(client)
    return checks


def check_record_access(client: KadiClient) -> list[Check]:
    try:
        page = client.records_page(1, per_page=1)
    except ElnError as error:
        return [Check("scope record.read", False, str(error), "add the scope record.read to the token")]
    checks = [Check("scope record.read", True,
                    f"{page.get('_pagination', {}).get('total_items', '?')} records visible")]
    items = page.get("items") or []
    if not items:
        return checks + [Check("scope record.update", False, "no record is visible to probe with",
                               "give the service account the admin system role so it sees every record")]
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


def cmd_doctor(args: argparse.Namespace) -> int:
    checks: list[Check] = []
    try:
        client = KadiClient(args.kadi, token_from(args), timeout=(5.0, 15.0))
        checks += check_api(client)
    except ConfigError as error:
        checks.append(Check("token", False, str(error), "set the variable or pass --token-file"))
    config = args.config or os.environ.get("KADI_CONFIG_FILE")
    if config:
        checks += check_config(config)
    if args.probe and all(c.ok for c in checks):
        checks.append(probe(client, args.probe_type, args.wait))
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name:<20} {check.detail}")
        if not check.ok and check.fix:
            print(f"      → {check.fix}")
    failed = sum(not c.ok for c in checks)
    print(f"\n{len(checks) - failed} of {len(checks)} checks passed" + ("" if config else
          "  (pass --config or set KADI_CONFIG_FILE to check the plugin's Kadi configuration too)"))
    return 1 if failed else 0


def add_parser(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="check the Kadi4Mat installation and say what to fix")
    doctor.add_argument("--kadi", required=True, metavar="URL", help="Kadi4Mat base URL, e.g. https://kadi.example.org")
    doctor.add_argument("--token-env", default="KADI_TOKEN", metavar="VAR",
                        help="environment variable holding the service account's token (default KADI_TOKEN)")
    doctor.add_argument("--token-file", metavar="FILE", help="file holding the token (instead of --token-env)")
    doctor.add_argument("--config", metavar="FILE", help="Kadi's config file (default: $KADI_CONFIG_FILE)")
    doctor.add_argument("--probe", action="store_true", help="also save a test record and wait for its verdict")
    doctor.add_argument("--probe-type", default="msc_batch", metavar="TYPE", help="record type of the probe")
    doctor.add_argument("--wait", type=float, default=30.0, metavar="SECONDS", help="how long --probe waits")
    doctor.set_defaults(run=cmd_doctor)


if __name__ == "__main__":
    sys.exit(cmd_doctor(argparse.Namespace()))
