"""How an adapter registers: its name, how to open it, its command-line options and its doctor checks.

A plugin contributes `AdapterSpec`s through the `eln_msc_register_adapters` hook; the command line finds
them by name (`eln-msc backfill --eln kadi ...`). Opening an adapter (`create`) is where an ELN's SDK may
be imported, so registering one costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eln_msc_plugin.errors import ConfigError

if TYPE_CHECKING:
    from eln_msc_plugin.eln.base import ElnAdapter
    from eln_msc_plugin.eln.http import Token

COMMANDS = ("backfill", "doctor", "watch")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_FLAG = re.compile(r"^--[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class AdapterOption:
    """One command-line option an adapter adds (shown in `--help` under the adapter's title).

    `filter=True` marks an option that selects records: its value goes into `ChangeQuery.filters` and
    into a backfill's scope. `commands` says which subcommands offer it.
    """

    flag: str
    help: str
    type: Callable[[str], Any] | None = str
    metavar: str | None = None
    default: Any = None
    switch: bool = False  # a flag without a value (store_true)
    filter: bool = False
    commands: tuple[str, ...] = COMMANDS

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class AdapterConfig:
    """What a host gives an adapter to open it: URL, the secret (from env or a file, never argv), the
    adapter's own option values, the timeouts, and a `meter` called with each request's method before it
    is sent (a backfill's rate limit and counters)."""

    url: str
    secret: Token | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    timeout: tuple[float, float] = (5.0, 30.0)
    meter: Callable[[str], None] | None = None

    def __repr__(self) -> str:
        return f"AdapterConfig({self.url!r}, secret=***, options={dict(self.options)!r})"


@dataclass(frozen=True)
class Check:
    """One doctor check: passed or not, what was found, and how to fix it; `warning` passes with a note."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False


@dataclass(frozen=True)
class AdapterSpec:
    """A registered adapter: `create(config)` opens one; `doctor(adapter, config)` yields its checks
    (reachability, credentials, scopes, its own installation), each a `Check`."""

    name: str
    title: str
    create: Callable[[AdapterConfig], ElnAdapter]
    options: tuple[AdapterOption, ...] = ()
    secret_env: str = ""  # the environment variable read when neither --token-env nor --token-file is given
    secret_help: str = "the access token"
    doctor: Callable[[ElnAdapter, AdapterConfig], Iterable[Check]] | None = None
    summary: str = ""
    # For an ELN that pushes events (webhooks): `serve(config, settings)` runs its receiver until stopped
    # (`eln-msc serve NAME`); settings are the host's: host, port, workers, policy, queue. Returns an exit code.
    serve: Callable[[AdapterConfig, Mapping[str, Any]], int] | None = None

    def filters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The record-selecting option values that were given, by option name."""
        return {o.dest: values[o.dest] for o in self.options if o.filter and values.get(o.dest) is not None}


def check_spec(spec: object, known: Mapping[str, AdapterSpec]) -> AdapterSpec:
    """The spec, or a `ConfigError` saying what is wrong with it (raised at start-up)."""
    if not isinstance(spec, AdapterSpec):
        raise ConfigError(f"eln_msc_register_adapters: register() takes an AdapterSpec, not {type(spec).__name__}")
    if not _NAME.match(spec.name):
        raise ConfigError(f"ELN adapter name {spec.name!r} is not lower case letters, digits and _")
    if spec.name in known:
        raise ConfigError(f"ELN adapter {spec.name!r} is registered twice")
    if not callable(spec.create):
        raise ConfigError(f"ELN adapter {spec.name!r}: create is not callable")
    for option in spec.options:
        if not _FLAG.match(option.flag) or option.flag in RESERVED_FLAGS:
            raise ConfigError(f"ELN adapter {spec.name!r}: option {option.flag!r} is not a long option "
                              "of its own (--name, not one of the shared options)")
        if set(option.commands) - set(COMMANDS):
            raise ConfigError(f"ELN adapter {spec.name!r}: option {option.flag} names unknown commands")
    return spec


# Options every ELN command has; an adapter cannot redefine them.
RESERVED_FLAGS = frozenset({"--eln", "--url", "--token-env", "--token-file", "--help", "--policy", "--state",
                            "--report", "--workers", "--rate", "--dry-run", "--shard", "--since", "--attempts",
                            "--source", "--interval"})
