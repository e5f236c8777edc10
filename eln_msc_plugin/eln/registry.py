"""ELN adapters by name: collected through the `eln_msc_register_adapters` hook, each checked as it registers."""

from __future__ import annotations

import pluggy

from eln_msc_plugin.eln.base import ElnAdapter
from eln_msc_plugin.eln.spec import AdapterConfig, AdapterSpec, check_spec
from eln_msc_plugin.errors import ConfigError


def adapter_specs(pm: pluggy.PluginManager | None = None) -> dict[str, AdapterSpec]:
    """Every registered adapter, by name (built-in adapters come from entry points like any other)."""
    if pm is None:
        from eln_msc_plugin.plugins import get_plugin_manager

        pm = get_plugin_manager()
    specs: dict[str, AdapterSpec] = {}

    def register(spec: AdapterSpec) -> None:
        checked = check_spec(spec, specs)
        specs[checked.name] = checked

    pm.hook.eln_msc_register_adapters(register=register)
    return specs


def adapter_spec(name: str, pm: pluggy.PluginManager | None = None) -> AdapterSpec:
    """The adapter registered as `name`, or a `ConfigError` naming the ones installed."""
    specs = adapter_specs(pm)
    if name not in specs:
        installed = ", ".join(sorted(specs)) or "none"
        raise ConfigError(f"no ELN adapter named {name!r} is installed (installed: {installed}); "
                          f"install its extra, e.g. pip install 'eln-msc-plugin[{name}]'")
    return specs[name]


def open_adapter(name: str, config: AdapterConfig, pm: pluggy.PluginManager | None = None) -> ElnAdapter:
    """An open adapter for the ELN `name`; close it when done."""
    return adapter_spec(name, pm).create(config)
