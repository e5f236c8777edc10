"""ELN adapters found by name through the `eln_msc_register_adapters` hook, each checked as it registers."""

from __future__ import annotations

from typing import Any

import pluggy
import pytest

from eln_msc_plugin.eln.registry import adapter_spec, adapter_specs, open_adapter
from eln_msc_plugin.eln.spec import AdapterConfig, AdapterOption, AdapterSpec
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.hookspecs import hookimpl


def _plugin(*specs: Any) -> Any:
    class Plugin:
        @hookimpl
        def eln_msc_register_adapters(self, register: Any) -> None:
            for spec in specs:
                register(spec)

    return Plugin()


def _spec(name: str = "toy", **kwargs: Any) -> AdapterSpec:
    return AdapterSpec(name, "Toy ELN", create=lambda config: ("opened", config.url), **kwargs)


def test_an_adapter_is_found_by_name_and_opened(pm: pluggy.PluginManager) -> None:
    pm.register(_plugin(_spec(options=(AdapterOption("--category", "only this category", filter=True),))))
    spec = adapter_spec("toy", pm)
    assert spec.title == "Toy ELN" and spec.options[0].dest == "category"
    assert open_adapter("toy", AdapterConfig("https://toy.example"), pm) == ("opened", "https://toy.example")
    assert spec.filters({"category": "MSC", "other": 1}) == {"category": "MSC"}
    assert spec.filters({"category": None}) == {}


def test_an_unknown_name_says_which_adapters_are_installed(pm: pluggy.PluginManager) -> None:
    pm.register(_plugin(_spec("toy"), _spec("other")))
    with pytest.raises(ConfigError, match=r"no ELN adapter named 'nope'.*installed: other, toy"):
        adapter_spec("nope", pm)


@pytest.mark.parametrize(
    ("specs", "message"),
    [((_spec("Toy"),), "not lower case"),
     ((_spec(), _spec()), "registered twice"),
     ((_spec(options=(AdapterOption("--url", "x"),)),), "shared options"),
     ((_spec(options=(AdapterOption("-t", "x"),)),), "long option"),
     ((_spec(options=(AdapterOption("--t", "x", commands=("serve",)),)),), "unknown commands"),
     (("kadi",), "takes an AdapterSpec")],
    ids=["upper-case-name", "duplicate", "reserved-flag", "short-flag", "unknown-command", "not-a-spec"])
def test_a_bad_spec_fails_at_registration(pm: pluggy.PluginManager, specs: tuple[Any, ...], message: str) -> None:
    pm.register(_plugin(*specs))
    with pytest.raises(ConfigError, match=message):
        adapter_specs(pm)


def test_a_config_never_shows_its_secret() -> None:
    from eln_msc_plugin.eln.auth import Token

    config = AdapterConfig("https://toy.example", Token("s3cret-value-123"), {"category": "MSC"})
    assert "s3cret" not in repr(config) and "***" in repr(config) and "MSC" in repr(config)
