"""The eLabFTW plugin, registered through the `eln_msc_plugin` entry-point group like any third-party one.

It contributes the extra-fields parser and the `elabftw` adapter: `eln-msc watch|backfill|doctor
--eln elabftw --url URL --category "MSC batch record"`, the key read from `$ELABFTW_KEY`,
`--token-env VAR` or `--token-file FILE`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from eln_msc_plugin.elabftw import VERDICT_TAGS
from eln_msc_plugin.elabftw.fields import eln_msc_parse_document
from eln_msc_plugin.eln.base import ElnAdapter
from eln_msc_plugin.eln.spec import AdapterConfig, AdapterOption, AdapterSpec, Check
from eln_msc_plugin.errors import ConfigError, ElnError
from eln_msc_plugin.hookspecs import hookimpl

OPTIONS = (
    AdapterOption("--category", "only entries of these categories: ids or titles, comma separated, looked up in "
                  "the experiments and resources categories of the key's team", metavar="CATEGORY", filter=True),
    AdapterOption("--entries", "which entries: experiments, items (resources) or both (default both)",
                  metavar="KIND", filter=True),
)


def _open(config: AdapterConfig) -> ElnAdapter:
    from eln_msc_plugin.elabftw.adapter import ElabftwAdapter

    return ElabftwAdapter(config)


def doctor(adapter: Any, config: AdapterConfig) -> Iterator[Check]:
    """Reachable, key valid, team, category found, read/write, and whether the qc tags can be set.

    Reachability and the key are one request (GET users/me): any answer means the server is there. (The
    instance's /info answer cannot be checked against the description: its `oneOf` matches any object twice.)
    """
    try:
        me, team = adapter.me(), adapter.team()
    except ElnError as error:
        if error.status is None:
            yield Check("reachable", False, str(error), "check --url (the address of the eLabFTW instance)")
            return
        yield Check("reachable", True, f"eLabFTW answers at {adapter.base_url}")
        yield Check("key", False, str(error), "create an API key in eLabFTW (User panel → API keys) and pass it in "
                    "$ELABFTW_KEY or --token-file; the key goes in as it is, without 'Bearer'")
        return
    yield Check("reachable", True, f"eLabFTW answers at {adapter.base_url}")
    yield Check("key", True, f"acts as {me.get('fullname')} (user {me.get('userid')})")
    yield Check("team", True, f"team {team.get('name')} (id {team.get('id')}): the key sees this team's entries")
    category = list(_category(adapter))
    yield from category
    if category[0].ok:
        yield from _write_probe(adapter)
    yield from _tags(adapter, team)


def _category(adapter: Any) -> Iterator[Check]:
    try:
        types = adapter.entry_types()
    except ConfigError as error:
        yield Check("category", False, str(error), "pass --category with a category title or id of the key's team "
                    "(Admin panel → Experiments/Resources categories)")
        return
    except ElnError as error:
        yield Check("category", False, str(error))
        return
    found = ", ".join(f"{kind} in categor{'ies' if c and ',' in c else 'y'} {c}" if c else f"all {kind}"
                      for kind, c in types.items())
    yield Check("category", True, f"watches {found}", warning=not any(types.values()),
                fix="" if any(types.values()) else "pass --category so only MSC batch records are judged")


def _write_probe(adapter: Any) -> Iterator[Check]:
    """A PATCH with `updatemetadatafield` and no field changes nothing (AbstractEntity::patch loops over no
    field), but passes the key's write check, the entry's write permission and the edit lock."""
    entry_type, category = next(iter(adapter.entry_types().items()), ("experiments", None))
    listed = adapter.client.page(entry_type, limit=1, offset=0, category=category)
    if not listed:
        account = adapter.account()
        yield Check("read/write", account.can_write is not False, "no entry to try a write on; the user's keys for "
                    f"this team are {'read/write' if account.can_write else 'read-only or mixed'}",
                    warning=account.can_write is not True, fix="use a read/write key")
        return
    ref = f"{entry_type}/{listed[0]['id']}"
    try:
        adapter.client.patch(ref, {"action": "updatemetadatafield"})
    except ElnError as error:
        read_only = "read-only" in str(error)
        yield Check("read/write", False, str(error), "create a read/write API key (Can write: yes)" if read_only
                    else f"give the key's user write access to the entries (tried {ref})",
                    warning="being edited" in str(error))
        return
    yield Check("read/write", True, f"the key may write (an update that changes nothing was accepted on {ref})")


def _tags(adapter: Any, team: dict[str, Any]) -> Iterator[Check]:
    if team.get("user_create_tag", 1):
        yield Check("tags", True, "users may create tags: the qc-* tags are created when first needed")
        return
    present = {t.get("tag") for t in adapter.client.team_tags(int(team.get("id") or 0))}
    missing = [t for t in VERDICT_TAGS if t not in present]
    yield Check("tags", not missing, f"users may not create tags; missing: {', '.join(missing) or 'none'}",
                "an admin creates the tags qc-pass, qc-warn, qc-fail, qc-error (Admin panel → Tags)")


@hookimpl
def eln_msc_register_adapters(register: Callable[[AdapterSpec], None]) -> None:
    register(AdapterSpec("elabftw", "eLabFTW", create=_open, options=OPTIONS, secret_env="ELABFTW_KEY",
                         secret_help="the eLabFTW API key (read/write)", doctor=doctor,
                         summary="eLabFTW experiments and resources, through its REST API v2"))


__all__ = ["eln_msc_parse_document", "eln_msc_register_adapters"]
