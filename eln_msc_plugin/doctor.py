"""`eln-msc doctor --eln NAME --url URL`: check an installation against an ELN and say what to fix.

A thin host: the adapter's own checks (reachability, credentials, scopes, its installation) are printed
in order, each with the fix when it fails. See the adapter's options in `eln-msc doctor --help`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import Any

from eln_msc_plugin.eln.arguments import Chosen, add_eln_arguments, chosen_adapter, secret_from
from eln_msc_plugin.eln.spec import AdapterSpec, Check
from eln_msc_plugin.errors import ConfigError, ElnAnswerError, ElnError

DOCTOR_TIMEOUT = (5.0, 15.0)


def run_checks(args: argparse.Namespace) -> list[Check]:
    """The adapter's checks. A bad secret, token file or URL is a `ConfigError`, and so is a server whose answers
    are not the ELN's (status 2, one line): no list of checks that all fail for the same reason."""
    chosen = chosen_adapter(args, args.eln_specs)
    assert chosen is not None
    config = chosen.config(secret_from(args, chosen.spec), timeout=DOCTOR_TIMEOUT)
    adapter = chosen.spec.create(config)
    checks: list[Check] = []
    try:
        _answers_as_the_eln(adapter, chosen)
        if chosen.spec.doctor is None:
            return _generic(adapter)
        for check in chosen.spec.doctor(adapter, config):
            checks.append(check)
    except ElnAnswerError as error:
        raise _not_the_eln(chosen, str(error)) from None
    except ElnError as error:  # a check that could not finish is a failed check, not a traceback
        checks.append(Check("unfinished", False, str(error)))
    except ConfigError:
        raise
    except Exception as error:  # an answer the adapter's checks did not expect: not a traceback either
        raise _not_the_eln(chosen, f"its answers were not understood ({type(error).__name__})") from None
    finally:
        adapter.close()
    return checks


def _answers_as_the_eln(adapter: Any, chosen: Chosen) -> None:
    """Ask first who the credentials act as: a server that answers, but not as the ELN's API does (a wrong URL,
    a proxy's page, a JSON list, a user without an id), is not the ELN."""
    try:
        adapter.account()
    except ElnAnswerError as error:
        raise _not_the_eln(chosen, str(error)) from None
    except ElnError:
        pass  # refused, unreachable, redirected elsewhere: the adapter's own checks say what to fix


def _not_the_eln(chosen: Chosen, why: str) -> ConfigError:
    return ConfigError(f"{chosen.url}: {why}; is this the address of {chosen.spec.title}?")


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
