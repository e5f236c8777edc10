"""The `eln-msc` command line: validate files, list rules (and, with an ELN, more subcommands)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections import Counter
from collections.abc import Sequence

from eln_msc_plugin import __version__
from eln_msc_plugin.display import printable
from eln_msc_plugin.eln.registry import adapter_specs
from eln_msc_plugin.errors import ConfigError, ElnMscError
from eln_msc_plugin.jobs import Settings, add_jobs_option, judge_inputs, usable_cpus
from eln_msc_plugin.output import WRITERS, Blocks, Writer
from eln_msc_plugin.pipeline import build_engine
from eln_msc_plugin.progress import Progress
from eln_msc_plugin.sources import Input, MissingInput, scan

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def cmd_validate(args: argparse.Namespace) -> int:
    engine = build_engine(args.policy)
    inputs = scan(args.paths)
    writer = WRITERS[args.format](sys.stdout, engine.ruleset)
    progress = _progress(inputs)
    sink = _Uncovered(writer, progress) if progress is not None and sys.stdout.isatty() else writer
    writer.open()
    judge_inputs(inputs, engine, (Blocks, (args.format, writer.colour)), sink,
                 Settings(args.jobs or usable_cpus(), args.policy, args.chunk_bytes), progress)
    if progress is not None:
        progress.close()
    writer.close()
    return EXIT_FAILED if writer.counts["fail"] or writer.counts["error"] else EXIT_OK


def _progress(inputs: list[Input]) -> Progress | None:
    """A progress bar on standard error when it is a terminal (nothing otherwise), against the input's bytes."""
    if not sys.stderr.isatty():
        return None
    progress = Progress(sys.stderr, tty=True, label="validate")
    progress.total_bytes = sum(item.size or 0 for item in inputs) or None
    return progress


class _Uncovered:
    """The writer, taking the progress bar off the terminal they share before it writes."""

    def __init__(self, writer: Writer, progress: Progress) -> None:
        self.writer, self.progress = writer, progress

    def add(self, payload: str, counts: Counter[str], reports: int) -> None:
        self.progress.clear()
        self.writer.add(payload, counts, reports)
        self.writer.out.flush()


def cmd_rules(args: argparse.Namespace) -> int:
    engine = build_engine(args.policy)
    rs = engine.ruleset
    print(f"rule pack {rs.name} {rs.version}{_policy_named(rs.policy, args.policy)} "
          f"(thresholds sha256 {rs.sha256})")
    for rule in rs.rules:
        state = "  (disabled by policy)" if rule.id in rs.disabled else ""
        print(f"\n{rule.id}  [{'/'.join(rule.severities)}]{state}\n  {rule.summary}")
        for use, values in rs.thresholds.get(rule.id, {}).items():
            shown = ", ".join(f"{k}={threshold_text(v)}" for k, v in values.items()) or "no thresholds"
            print(f"    {use:<10} {shown}")
    return EXIT_OK


def threshold_text(value: object) -> str:
    """A threshold as the docs and policies write it: a line that is not drawn is `off`."""
    return "off" if value is None else str(value)


def _policy_named(policy: dict[str, object], path: str | None) -> str:
    if not path:
        return ""
    name, version = policy.get("name"), policy.get("version")
    named = f'"{name}"' + (f" version {version}" if version else "") if name else "a policy"
    return f" with {named} from {path}"


def parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line; installed ELN adapters' options are loaded only for an ELN subcommand."""
    top = argparse.ArgumentParser(prog="eln-msc", description="Check MSC batch records (JSON/XML) against QC rules.")
    top.add_argument("--version", action="version", version=f"eln-msc {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="validate batch-record files and print verdicts")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - for standard input")
    validate.add_argument("--format", choices=sorted(WRITERS), default="text", help="output format (default text)")
    validate.add_argument("--policy", metavar="FILE", help="site policy (TOML) overriding the default rule pack")
    add_jobs_option(validate, "the records")
    validate.set_defaults(run=cmd_validate)
    rules = sub.add_parser("rules", help="list every rule with its severities and thresholds in force")
    rules.add_argument("--policy", metavar="FILE", help="show the thresholds this policy puts in force")
    rules.set_defaults(run=cmd_rules)
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    specs = adapter_specs() if words and words[0] in ELN_COMMANDS else {}
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module).add_parser(sub, specs)
    return top


# Subcommands that talk to an ELN live in their own modules, each with `add_parser(subparsers, specs)`
# (`specs`: the installed ELN adapters by name, empty unless that subcommand was asked for).
SUBCOMMAND_MODULES: tuple[str, ...] = ("eln_msc_plugin.doctor", "eln_msc_plugin.backfill.command",
                                       "eln_msc_plugin.watch.command", "eln_msc_plugin.serve")
ELN_COMMANDS = frozenset({"doctor", "backfill", "watch", "serve"})


def _tolerant_output() -> None:
    """A character the terminal's encoding lacks is written as an escape, never a crash mid-report."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_output()
    try:
        args = parser(argv).parse_args(argv)
    except ConfigError as error:  # an installed plugin that does not load, or a bad adapter spec
        print(f"eln-msc: configuration error: {printable(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.run(args))
    except ConfigError as error:
        print(f"eln-msc: configuration error: {printable(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except MissingInput as error:
        print(f"eln-msc: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ElnMscError as error:
        print(f"eln-msc: {printable(str(error))}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("eln-msc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
