"""The command-line arguments every ELN command shares (`backfill`, `doctor`, `watch`, …).

`--eln NAME --url URL` picks an adapter by name (`--kadi URL` is shorthand for `--eln kadi --url URL`);
the secret comes from `--token-env VAR` (default: the adapter's own variable) or `--token-file FILE`,
never from the command line; each installed adapter adds its own options, shown in `--help` under its
title, and a value given to another adapter's option is refused.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eln_msc_plugin.eln.auth import Token
from eln_msc_plugin.eln.spec import AdapterConfig, AdapterOption, AdapterSpec
from eln_msc_plugin.errors import ConfigError

PREFIX = "eln_option_"  # argparse dest of an adapter's option, apart from the host's own


@dataclass(frozen=True)
class Chosen:
    """The adapter named on the command line, its URL and its option values (the secret comes apart)."""

    spec: AdapterSpec
    url: str
    options: dict[str, Any]

    def config(self, secret: Token | None, **kwargs: Any) -> AdapterConfig:
        return AdapterConfig(self.url, secret, self.options, **kwargs)


def add_eln_arguments(parser: argparse.ArgumentParser, command: str, specs: Mapping[str, AdapterSpec],
                      *, required: bool = True) -> None:
    """`--eln`, `--url`, `--kadi`, the token options and every adapter's options for `command`."""
    names = ", ".join(sorted(specs)) or "none installed"
    parser.add_argument("--eln", metavar="NAME", help=f"the ELN adapter to use ({names})")
    parser.add_argument("--url", metavar="URL", help="the ELN's base URL, e.g. https://kadi.example.org")
    parser.add_argument("--kadi", metavar="URL", help="shorthand for --eln kadi --url URL")
    token = parser.add_mutually_exclusive_group()
    envs = ", ".join(f"{s.secret_env} for {s.name}" for s in specs.values() if s.secret_env)
    token.add_argument("--token-env", metavar="VAR", help=f"variable holding the secret (default: {envs or 'none'})")
    token.add_argument("--token-file", metavar="FILE", help="file holding the secret (never pass it on the "
                       "command line)")
    parser.set_defaults(eln_required=required, eln_command=command, eln_specs=specs)
    added: set[str] = set()
    for spec in specs.values():
        options = [o for o in spec.options if command in o.commands and o.flag not in added]
        if not options:
            continue
        group = parser.add_argument_group(f"{spec.title} (--eln {spec.name})", spec.summary or None)
        for option in options:
            _add(group, option)
            added.add(option.flag)


def _add(group: Any, option: AdapterOption) -> None:
    if option.switch:
        group.add_argument(option.flag, dest=PREFIX + option.dest, action="store_true", help=option.help)
        return
    group.add_argument(option.flag, dest=PREFIX + option.dest, type=option.type, metavar=option.metavar,
                       default=option.default, help=option.help)


def chosen_adapter(args: argparse.Namespace, specs: Mapping[str, AdapterSpec]) -> Chosen | None:
    """The adapter the arguments name (None when no ELN is named and none is required)."""
    name, url = args.eln, args.url
    if args.kadi:
        if name not in (None, "kadi") or url:
            raise ConfigError("--kadi URL is shorthand for --eln kadi --url URL: give one or the other")
        name, url = "kadi", args.kadi
    if name is None:
        if getattr(args, "eln_required", True):
            raise ConfigError("name the ELN: --eln NAME --url URL (or --kadi URL)")
        return None
    if name not in specs:
        installed = ", ".join(sorted(specs)) or "none"
        raise ConfigError(f"no ELN adapter named {name!r} is installed (installed: {installed})")
    if not url:
        raise ConfigError(f"--eln {name} needs --url URL")
    from eln_msc_plugin.eln.http import checked_origin  # requests is imported only by the ELN commands

    checked_origin(url)  # before anything stores or shows it: a token in its user part never reaches a state file
    spec = specs[name]
    own = {o.dest for o in spec.options if args.eln_command in o.commands}
    for other in specs.values():
        for option in other.options:
            value = getattr(args, PREFIX + option.dest, None)
            if option.dest not in own and value not in (None, False, option.default):
                raise ConfigError(f"{option.flag} is an option of {other.name}, not of {name}")
    options = {dest: getattr(args, PREFIX + dest) for dest in own}
    return Chosen(spec, url, options)


def secret_from(args: argparse.Namespace, spec: AdapterSpec) -> Token:
    """The secret from --token-file, --token-env or the adapter's own variable."""
    if args.token_file:
        return Token.from_file(args.token_file)
    variable = args.token_env or spec.secret_env
    if not variable:
        raise ConfigError(f"{spec.name} needs a secret: pass --token-env VAR or --token-file FILE")
    return Token.from_env(variable)
