"""`eln-msc serve NAME`: run the webhook receiver of an ELN that pushes its changes (Benchling).

The host only adapts the command line: it finds the adapter by name, reads the secret from the
environment or a file (never the command line), and hands the adapter's `serve` the configuration file
and the server settings. ELNs that do not push events are watched with `eln-msc watch` instead.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from typing import Any

from eln_msc_plugin.eln.auth import Token
from eln_msc_plugin.eln.registry import adapter_spec
from eln_msc_plugin.eln.spec import AdapterConfig, AdapterSpec
from eln_msc_plugin.errors import ConfigError


def add_parser(sub: Any, specs: Mapping[str, AdapterSpec]) -> None:
    pushing = ", ".join(sorted(name for name, spec in specs.items() if spec.serve)) or "benchling"
    parser = sub.add_parser("serve", help="receive an ELN's signed webhooks and judge each change (benchling)",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eln", metavar="ELN", help=f"the ELN whose webhooks to receive ({pushing})")
    parser.add_argument("--port", type=int, required=True, help="the port to listen on")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1; a reverse proxy terminates TLS)")
    parser.add_argument("--config", metavar="FILE", required=True,
                        help="the adapter's configuration (benchling: the tenant mapping TOML)")
    parser.add_argument("--url", metavar="URL", help="the ELN's base URL (default: from the configuration)")
    token = parser.add_mutually_exclusive_group()
    token.add_argument("--token-env", metavar="VAR", help="variable holding the secret (default: the adapter's, "
                       "BENCHLING_CLIENT_SECRET for benchling)")
    token.add_argument("--token-file", metavar="FILE", help="file holding the secret")
    parser.add_argument("--workers", type=int, help="events judged at once (default: the configuration's, or 2)")
    parser.add_argument("--queue", metavar="FILE", help="the SQLite event queue (default: the configuration's)")
    parser.add_argument("--policy", metavar="FILE", help="site policy (TOML) for the rule pack")
    parser.set_defaults(run=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    spec = adapter_spec(args.eln)
    if spec.serve is None:
        raise ConfigError(f"{spec.name} does not push its changes: use `eln-msc watch --eln {spec.name}`")
    if args.port is not None and not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is not a port number")
    if args.token_file:
        secret: Token | None = Token.from_file(args.token_file)
    else:
        variable = args.token_env or spec.secret_env
        secret = Token.from_env(variable) if variable else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = AdapterConfig(args.url or "", secret, {"mapping": args.config})
    settings = {"host": args.host, "port": args.port, "workers": args.workers, "queue": args.queue,
                "policy": args.policy}
    return spec.serve(config, settings)
