"""Shared fixtures: a fresh plugin manager and engine per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

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


@pytest.fixture
def fake_elabftw() -> Iterator[FakeElabftw]:
    """A fresh fake eLabFTW on loopback; the test fails if anything sent or answered broke the API description."""
    from tests.support.fake_elabftw import FakeElabftw

    with FakeElabftw() as fake:
        yield fake
    assert not fake.violations, "\n".join(fake.violations)


@pytest.fixture
def lab(fake_elabftw: FakeElabftw) -> Lab:
    """A team on the fake eLabFTW: a scientist, the plugin's service account (read/write and read-only keys)."""
    from tests.support.elabftw import make_lab

    return make_lab(fake_elabftw)


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The running Kadi4Mat test stack; a test that needs it fails (not skips) when it is not running."""
    from tests.support.kadi import load_stack

    found = load_stack()
    if found is None:
        pytest.fail("the Kadi4Mat test stack is not running: run the suite with scripts/test, which starts it "
                    "(or start it yourself with scripts/kadi-stack start)")
    return found


@pytest.fixture(scope="session")
def scientist_web(stack: Stack) -> requests.Session:
    """The scientist logged in to Kadi's web pages, once per run (Kadi allows five logins a minute)."""
    from tests.support.kadi import web_login

    return web_login(stack)


if TYPE_CHECKING:
    import requests

    from tests.support.elabftw import Lab
    from tests.support.fake_elabftw import FakeElabftw
    from tests.support.kadi import Stack
