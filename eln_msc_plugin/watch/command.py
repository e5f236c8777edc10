"""`eln-msc watch --eln NAME --url URL ...`: the poller as a long-lived service (see docs/watch.md).

Runs until SIGTERM or Ctrl-C, finishing the record in hand; one log line per judged record on standard
error. Exit status 0 after a clean stop, 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from eln_msc_plugin.backfill.options import parse_since
from eln_msc_plugin.eln.arguments import add_eln_arguments, chosen_adapter, secret_from
from eln_msc_plugin.eln.spec import AdapterSpec
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.pipeline import build_engine
from eln_msc_plugin.watch.loop import Watcher, WatchOptions
from eln_msc_plugin.watch.state import WatchState

EXIT_OK = 0
MIN_INTERVAL = 1.0


def add_parser(subparsers: Any, specs: Mapping[str, AdapterSpec]) -> None:
    p = subparsers.add_parser(
        "watch", help="poll an ELN for changed records and judge each one (for ELNs without webhooks)",
        description="Poll the ELN every --interval seconds for records changed since the last poll, judge each "
        "changed record once per content and write the annotation, as the on-save plugin does. Keeps its place "
        "in --state; stop it with SIGTERM or Ctrl-C. See docs/watch.md.")
    add_eln_arguments(p, "watch", specs)
    p.add_argument("--interval", type=float, default=30.0, metavar="SECONDS",
                   help="seconds between polls (default 30)")
    p.add_argument("--quiet", type=float, default=10.0, metavar="SECONDS",
                   help="judge a change once it has stayed unchanged this long (default 10), so a form filled "
                   "in field by field gets one verdict")
    p.add_argument("--state", type=Path, default=Path("watch-state.sqlite"), metavar="FILE",
                   help="where the watch keeps its place (default watch-state.sqlite; one per ELN and filter set)")
    p.add_argument("--since", type=parse_since, metavar="DATE",
                   help="where the first poll starts (default: every record); later polls go on from the state")
    p.add_argument("--policy", metavar="FILE", help="site policy (TOML) overriding the default rule pack")
    p.add_argument("--dry-run", action="store_true", help="write nothing to the ELN; log what would be written")
    p.add_argument("--polls", type=int, default=None, help=argparse.SUPPRESS)  # tests and benchmarks
    p.add_argument("--page-size", type=int, default=100, help=argparse.SUPPRESS)
    p.set_defaults(run=cmd_watch)


def cmd_watch(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s eln-msc watch: %(message)s", datefmt="%Y-%m-%dT%H:%M:%S%z")
    if args.interval < MIN_INTERVAL or args.quiet < MIN_INTERVAL:
        raise ConfigError(f"--interval and --quiet must be at least {MIN_INTERVAL:g} s (stamps are whole seconds)")
    chosen = chosen_adapter(args, args.eln_specs)
    assert chosen is not None  # --eln is required for watch
    engine = build_engine(args.policy)
    adapter = chosen.spec.create(chosen.config(secret_from(args, chosen.spec)))
    state = WatchState(args.state)
    options = WatchOptions(args.interval, args.quiet, page_size=args.page_size, dry_run=args.dry_run,
                           since=args.since, filters=chosen.spec.filters(chosen.options))
    try:
        state.bind({"eln": chosen.spec.name, **options.filters})
        watcher = Watcher(adapter, engine, state, options)
        _stop_on_signals(watcher)
        account = adapter.account()
        logging.getLogger("eln_msc_plugin.watch").info(
            "watching %s at %s as %s, every %g s%s", chosen.spec.title, adapter.base_url, account.name,
            options.interval, " (dry run)" if options.dry_run else "")
        watcher.run(args.polls)
    finally:
        state.close()
        adapter.close()
    logging.getLogger("eln_msc_plugin.watch").info("stopped; records by status: %s", state_summary(args.state))
    return EXIT_OK


def _stop_on_signals(watcher: Watcher) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        watcher.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def state_summary(path: Path) -> str:
    state = WatchState(path)
    try:
        counts = state.counts()
    finally:
        state.close()
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
