"""`eln-msc doctor --eln benchling`: the app's credentials and installation, the mapping against the tenant's
real schemas, and the webhook receiver's reachability as far as it can be seen from here.

The mapping check reads each mapped schema and names every field the mapping expects that the schema
lacks (or holds in a type the app cannot use): those would otherwise turn every batch's verdict into
`error`. Reachability from the outside cannot be proved from inside: the check says what it saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from eln_msc_plugin.benchling.adapter import BenchlingAdapter
from eln_msc_plugin.benchling.mapping import Mapping
from eln_msc_plugin.eln.base import ElnAdapter
from eln_msc_plugin.eln.spec import AdapterConfig, Check
from eln_msc_plugin.errors import ElnError

# Field types the app can write each of its fields into.
WRITABLE = {"verdict_field": {"text", "dropdown", "long_text"}, "findings_field": {"long_text", "text"},
            "record_field": {"long_text", "json", "text"}, "report_field": {"blob_link"},
            "entry_link_field": {"entry_link"}}


def checks(adapter: ElnAdapter, config: AdapterConfig) -> Iterator[Check]:
    assert isinstance(adapter, BenchlingAdapter)
    mapping = adapter.mapping
    try:
        account = adapter.account()
    except ElnError as error:
        fix = ("check BENCHLING_CLIENT_ID and the client secret (developer console → the app → credentials)"
               if error.status == 401 else "install the app on the tenant and check [app] app_id in the mapping")
        yield Check("app", False, str(error), fix)
        return
    definition = account.details.get("app definition", "")
    same = definition.startswith(mapping.app_definition_id)
    yield Check("app", same, f"signed in as the app {account.name} ({account.id}), definition {definition}",
                "" if same else f"[app] app_definition_id is {mapping.app_definition_id}: set it to the app's")
    yield from schema_checks(adapter, mapping)
    yield reachability(mapping)


def schema_checks(adapter: BenchlingAdapter, mapping: Mapping) -> Iterator[Check]:
    wanted: list[tuple[str, str, dict[str, str]]] = [(mapping.kind, mapping.schema_id, mapping.batch_fields())]
    for key, results in (("passages", mapping.passages), ("senescence", mapping.senescence)):
        if results is not None:
            roles = {f"{key}.fields.{m}": n for m, n in results.fields.items()} | {f"{key}.batch_field":
                                                                                   results.batch_field}
            if results.assay_field:
                roles[f"{key}.assay_field"] = results.assay_field
            wanted.append(("assay_result", results.schema_id, roles))
    for kind, schema_id, roles in wanted:
        try:
            schema = adapter.client.schema(kind, schema_id)
        except ElnError as error:
            yield Check(f"schema {schema_id}", False, str(error),
                        "check the schema id in the mapping and grant the app access to the schema's project")
            continue
        yield _fields_check(schema, roles)


def _fields_check(schema: dict[str, Any], roles: dict[str, str]) -> Check:
    types = {f.get("name"): f.get("type") for f in schema.get("fieldDefinitions") or []}
    problems = [f"{name!r} ({role}) is not a field" for role, name in roles.items() if name not in types]
    for role, name in roles.items():
        allowed = WRITABLE.get(role.rpartition(".")[2])
        if name in types and allowed and types[name] not in allowed:
            problems.append(f"{name!r} ({role}) is {types[name]}, not {' or '.join(sorted(allowed))}")
    label = f"schema {schema.get('name')} ({schema.get('id')})"
    if problems:
        return Check(label, False, "; ".join(problems), "add the fields to the schema or fix the mapping file")
    return Check(label, True, f"all {len(roles)} mapped fields present")


def reachability(mapping: Mapping) -> Check:
    """Whether the receiver answers at its public URL (as seen from here; Benchling's side may differ)."""
    url = str(mapping.receiver.get("public_url") or "")
    if not url:
        return Check("webhook URL", True, "no [receiver] public_url in the mapping: not checked", warning=True)
    parts = urlsplit(url)
    health = f"{parts.scheme}://{parts.netloc}/health"
    try:
        answer = httpx.get(health, timeout=10.0)
    except httpx.HTTPError as error:
        return Check("webhook URL", False, f"{health} cannot be reached from here ({type(error).__name__})",
                     "start `eln-msc serve benchling` behind the public URL; Benchling must reach it over HTTPS")
    secure = parts.scheme == "https"
    ok = answer.status_code == 200
    detail = f"{health} answered {answer.status_code}" + ("" if secure else "; a public webhook URL should be https")
    return Check("webhook URL", ok, detail, "" if ok else "the receiver answers but is not healthy: see its log",
                 warning=ok and not secure)
