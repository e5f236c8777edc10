"""Kadi4Mat as an eln-msc-plugin plugin (entry point `kadi` in group `eln_msc_plugin`): the adapter,
its command-line options and doctor checks, and the parser of Kadi's typed extras.

Registered exactly like a third-party adapter; nothing outside `eln_msc_plugin.kadi` imports it.
"""

from __future__ import annotations

from typing import Any

from eln_msc_plugin.eln.base import ElnAdapter
from eln_msc_plugin.eln.spec import AdapterConfig, AdapterOption, AdapterSpec
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.kadi.extras import eln_msc_parse_document  # noqa: F401 - registered with this module

FILTERS = (
    AdapterOption("--type", "only records of this type", metavar="TYPE", filter=True,
                  commands=("backfill", "watch")),
    AdapterOption("--tag", "only records with this tag", metavar="TAG", filter=True, commands=("backfill", "watch")),
    AdapterOption("--collection", "only records in this collection", type=int, metavar="ID", filter=True,
                  commands=("backfill", "watch")),
)

DOCTOR = (
    AdapterOption("--config", "Kadi's config file, to check the plugin's settings (default: $KADI_CONFIG_FILE)",
                  metavar="FILE", commands=("doctor",)),
    AdapterOption("--probe", "also save a test record and wait for its verdict", switch=True, type=None,
                  default=False, commands=("doctor",)),
    AdapterOption("--probe-type", "record type of the probe (default msc_batch)", metavar="TYPE",
                  default="msc_batch", commands=("doctor",)),
    AdapterOption("--wait", "how long --probe waits (seconds, default 30)", type=float, metavar="SECONDS",
                  default=30.0, commands=("doctor",)),
)


def open_adapter(config: AdapterConfig) -> ElnAdapter:
    from eln_msc_plugin.kadi.adapter import KadiAdapter

    return KadiAdapter(config.url, config.secret, timeout=config.timeout, meter=config.meter)


def _doctor(adapter: ElnAdapter, config: AdapterConfig) -> Any:
    from eln_msc_plugin.kadi.doctor import doctor

    return doctor(adapter, config)


def spec() -> AdapterSpec:
    return AdapterSpec(
        "kadi", "Kadi4Mat", create=open_adapter, options=FILTERS + DOCTOR, secret_env="KADI_TOKEN",
        secret_help="a personal access token of the service account (scopes user.read, record.read, "
                    "record.update)", doctor=_doctor,
        summary="records and their attached batch files; annotations as a qc-* tag, an msc_qc extra and a "
                "report file")


@hookimpl
def eln_msc_register_adapters(register: Any) -> None:
    register(spec())
