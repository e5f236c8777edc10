"""The Benchling plugin: registered through the `eln_msc_plugin` entry-point group like any third-party one.

It contributes the parser for Benchling batches and the `benchling` ELN adapter (with its doctor checks
and its webhook receiver, `eln-msc serve benchling`). Importing it does not import benchling-sdk: the
adapter's modules are imported when an adapter is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from eln_msc_plugin.benchling import require_sdk
from eln_msc_plugin.benchling.native import eln_msc_parse_document
from eln_msc_plugin.eln.spec import AdapterConfig, AdapterOption, AdapterSpec, Check
from eln_msc_plugin.hookspecs import hookimpl

if TYPE_CHECKING:
    from eln_msc_plugin.eln.base import ElnAdapter

__all__ = ["eln_msc_parse_document", "eln_msc_register_adapters"]


def _create(config: AdapterConfig) -> ElnAdapter:
    require_sdk()
    from eln_msc_plugin.benchling.adapter import BenchlingAdapter

    return BenchlingAdapter.open(config)


def _doctor(adapter: ElnAdapter, config: AdapterConfig) -> Iterable[Check]:
    from eln_msc_plugin.benchling.doctor import checks

    return checks(adapter, config)


def _serve(config: AdapterConfig, settings: Mapping[str, Any]) -> int:
    require_sdk()
    from eln_msc_plugin.benchling.serve import serve

    return serve(config, settings)


OPTIONS = (
    AdapterOption("--mapping", "the tenant mapping (TOML): which schemas and fields hold the batch record, "
                  "the app's ids, the receiver's settings (see examples/benchling/mapping.toml)", metavar="FILE"),
)


@hookimpl
def eln_msc_register_adapters(register: Callable[[AdapterSpec], None]) -> None:
    register(AdapterSpec(
        name="benchling", title="Benchling (as an installed Benchling App)", create=_create, options=OPTIONS,
        secret_env="BENCHLING_CLIENT_SECRET",
        secret_help="the app's client secret (its client id from BENCHLING_CLIENT_ID, or the secret file "
                    "written as client_id:client_secret)",
        doctor=_doctor, serve=_serve,
        summary="custom entities or entries of a mapped schema; verdict fields, a canvas, app-session messages"))
