"""Shared fixtures: a fresh plugin manager and engine per test."""

from __future__ import annotations

from collections.abc import Iterator

import pluggy
import pytest

from eln_msc_plugin.pipeline import Engine
from eln_msc_plugin.plugins import get_plugin_manager


@pytest.fixture
def pm() -> Iterator[pluggy.PluginManager]:
    """A fresh plugin manager with the built-in plugins only (no installed third-party plugins)."""
    yield get_plugin_manager(load_entry_points=False)


@pytest.fixture
def engine(pm: pluggy.PluginManager) -> Engine:
    return Engine(pm)
