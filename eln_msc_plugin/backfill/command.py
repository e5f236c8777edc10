"""`eln-msc backfill`: judge and annotate historical records in an ELN (or local files) and write a report."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eln_msc_plugin.backfill.local import local_rows
from eln_msc_plugin.backfill.options import Options, parse_shard, parse_since
from eln_msc_plugin.backfill.report import write_report
from eln_msc_plugin.backfill.runner import Summary, run_backfill
from eln_msc_plugin.eln.arguments import Chosen, add_eln_arguments, chosen_adapter, secret_from
from eln_msc_plugin.eln.spec import AdapterSpec
from eln_msc_plugin.errors import ConfigError
from eln_msc_plugin.jobs import add_jobs_option, usable_cpus
from eln_msc_plugin.pipeline import build_engine

EXIT_OK, EXIT_FAILED = 0, 1


def add_parser(subparsers: Any, specs: Mapping[str, AdapterSpec]) -> None:
    p = subparsers.add_parser("backfill", help="judge and annotate historical records; resumable; with a report",
                              description="Validate historical MSC batch records in an ELN (newest first) and "
                              "write the same annotation as on save. See docs/backfill.md.")
    add_eln_arguments(p, "backfill", specs, required=False)
    p.add_argument("--source", metavar="DIR", type=Path, help="judge local batch-record files instead (no ELN)")
    p.add_argument("--since", type=parse_since, metavar="DATE", help="only records modified at or after DATE (UTC)")
    p.add_argument("--workers", type=int, default=4, metavar="N", help="worker threads (default 4)")
    p.add_argument("--rate", type=float, metavar="R", help="at most R requests per second (default: no limit)")
    p.add_argument("--dry-run", action="store_true", help="write nothing to the ELN; report what would be written")
    p.add_argument("--shard", type=parse_shard, metavar="K/N", help="only records with id %% N == K-1 (K from 1)")
    p.add_argument("--state", type=Path, default=Path("backfill-state.sqlite"), metavar="FILE",
                   help="progress file to resume from (default backfill-state.sqlite; one per shard)")
    p.add_argument("--report", type=Path, metavar="PATH", help="write PATH.html, PATH.csv and PATH.json")
    p.add_argument("--policy", metavar="FILE", help="site policy (TOML) overriding the default rule pack")
    p.add_argument("--attempts", type=int, default=3, metavar="N", help="tries per record before it counts "
                   "as failed (default 3)")
    add_jobs_option(p, "local files (--source)")
    p.add_argument("--page-size", type=int, default=100, help=argparse.SUPPRESS)
    p.add_argument("--max-pages", type=int, default=100, help=argparse.SUPPRESS)
    p.set_defaults(run=cmd_backfill)


def options_from(args: argparse.Namespace, chosen: Chosen) -> Options:
    if args.workers < 1 or (args.rate is not None and args.rate <= 0):
        raise ConfigError("--workers must be at least 1 and --rate above 0")
    return Options(chosen.spec.name, chosen.url, secret_from(args, chosen.spec), chosen.options,
                   chosen.spec.filters(chosen.options), args.since, args.workers, args.rate, args.dry_run,
                   args.shard or parse_shard("1/1"), args.state, args.report, args.policy, args.attempts,
                   per_page=args.page_size, max_pages=args.max_pages)


def cmd_backfill(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="eln-msc backfill: %(message)s")
    chosen = chosen_adapter(args, args.eln_specs)
    if (args.source is None) == (chosen is None):
        raise ConfigError("backfill needs one of --eln NAME --url URL (or --kadi URL) and --source DIR")
    if chosen is None:
        return _local(args)
    options = options_from(args, chosen)
    summary, state = run_backfill(options, spec=chosen.spec)
    try:
        if options.report_path:
            meta = {"ELN": f"{chosen.spec.title} at {options.url}", "scope": options.scope(),
                    "dry run": options.dry_run, **_meta(summary.as_dict())}
            paths = write_report(options.report_path, state.rows(summary.seen), meta)
            print(f"report: {paths['html']} (+ .csv, .json)", file=sys.stderr)
    finally:
        state.close()
    print(_summary_line(summary, options.dry_run))
    for record_id, error in sorted(summary.failed.items())[:20]:
        print(f"  failed: record {record_id}: {error}", file=sys.stderr)
    return EXIT_FAILED if summary.failed or summary.unreached else EXIT_OK


def _meta(values: dict[str, Any]) -> dict[str, Any]:
    return {"generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **values}


def _summary_line(summary: Summary, dry_run: bool) -> str:
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(summary.statuses.items()))
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(summary.verdicts.items()))
    extra = f"; {summary.unreached} records beyond the listing cap not reached" if summary.unreached else ""
    return (f"backfill{' (dry run)' if dry_run else ''}: {summary.records} records ({statuses or 'none'}); "
            f"verdicts: {verdicts or 'none'}; {len(summary.failed)} failed; {summary.requests} requests, "
            f"{summary.writes} writes in {summary.seconds:.1f} s{extra}")


def _local(args: argparse.Namespace) -> int:
    if args.report is None:
        raise ConfigError("--source needs --report PATH")
    engine = build_engine(args.policy)
    rows = local_rows(engine, args.source, args.jobs or usable_cpus(), args.policy, args.chunk_bytes)
    counts = Counter(r["verdict"] for r in rows)
    meta = _meta({"source": str(args.source), "records": len(rows), "verdicts": dict(counts),
                  "rule pack": f"{engine.ruleset.name} {engine.ruleset.version}"})
    paths = write_report(args.report, rows, meta)
    print(f"backfill (local): {len(rows)} records; " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
          + f"; report: {paths['html']}")
    return EXIT_FAILED if counts["fail"] or counts["error"] else EXIT_OK
