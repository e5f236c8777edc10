"""`eln-msc doctor --eln NAME --url URL`: check an installation against an ELN and say what to fix.

A thin host: the adapter's own checks (reachability, credentials, scopes, its installation) are printed
in order, each with the fix when it fails. See the adapter's options in `eln-msc doctor --help`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import Any

from eln_msc_plugin.eln.arguments import add_eln_arguments, chosen_adapter, secret_from
from eln_msc_plugin.eln.spec import AdapterSpec, Check
from eln_msc_plugin.errors import ConfigError, ElnError

DOCTOR_TIMEOUT = (5.0, 15.0)


def run_checks(args: argparse.Namespace) -> list[Check]:
    chosen = chosen_adapter(args, args.eln_specs)
    assert chosen is not None
    try:
        secret = secret_from(args, chosen.spec)
    except ConfigError as error:
        return [Check("token", False, str(error), "set the variable or pass --token-file")]
    config = chosen.config(secret, timeout=DOCTOR_TIMEOUT)
    adapter = chosen.spec.create(config)
    checks: list[Check] = []
    try:
        if chosen.spec.doctor is None:
            return _generic(adapter)
        for check in chosen.spec.doctor(adapter, config):
            checks.append(check)
    except ElnError as error:  # a check that could not finish is a failed check, not a traceback
        checks.append(Check("unfinished", False, str(error)))
    finally:
        adapter.close()
    return checks


def _generic(adapter: Any) -> list[Check]:
    """Who the credentials act as: for an adapter without checks of its own."""
    try:
        account = adapter.account()
    except ElnError as error:
        return [Check("token", False, str(error))]
    return [Check("token", True, f"accepted; acts as {account.name!r} (id {account.id})")]


def show(checks: Iterable[Check]) -> int:
    """Print the checks; the exit status is 1 when any failed."""
    checks = list(checks)
    for check in checks:
        mark = "FAIL" if not check.ok else ("warn" if check.warning else "ok  ")
        print(f"{mark}  {check.name:<20} {check.detail}")
        if (not check.ok or check.warning) and check.fix:
            print(f"      → {check.fix}")
    failed = sum(not c.ok for c in checks)
    print(f"\n{len(checks) - failed} of {len(checks)} checks passed")
    return 1 if failed else 0


def cmd_doctor(args: argparse.Namespace) -> int:
    return show(run_checks(args))


def add_parser(sub: Any, specs: Mapping[str, AdapterSpec]) -> None:
    doctor = sub.add_parser("doctor", help="check the installation against an ELN and say what to fix",
                            description="Check an installation against an ELN (reachability, credentials, "
                            "scopes, the plugin's own settings) and say what to fix.")
    add_eln_arguments(doctor, "doctor", specs)
    doctor.set_defaults(run=cmd_doctor)
