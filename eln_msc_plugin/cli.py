"""The `eln-msc` command line: validate files, list rules (and, with an ELN, more subcommands)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from eln_msc_plugin import __version__
from eln_msc_plugin.errors import ConfigError, ElnMscError
from eln_msc_plugin.formats.common import EXTENSIONS
from eln_msc_plugin.model import Report
from eln_msc_plugin.output import WRITERS
from eln_msc_plugin.pipeline import Engine, build_engine

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _files(paths: Sequence[str]) -> list[str]:
    """The files named, folders expanded to their batch-record files (sorted); '-' is standard input."""
    found: list[str] = []
    for name in paths:
        path = Path(name)
        if name == "-" or path.is_file():
            found.append(name)
        elif path.is_dir():
            found += sorted(str(p) for p in path.rglob("*") if p.suffix in EXTENSIONS and p.is_file())
        else:
            raise ConfigError(f"{name}: no such file or folder")
    return found


def _reports(engine: Engine, files: list[str]) -> Iterator[Report]:
    for name in files:
        if name == "-":
            yield from engine.reports_for(sys.stdin.buffer, None, "-")
            continue
        try:
            stream = open(name, "rb")  # noqa: SIM115 - closed below, after the reports are read
        except OSError as error:
            yield engine.unreadable_report(name, f"cannot open the file: {error.strerror}")
            continue
        with stream:
            yield from engine.reports_for(stream, EXTENSIONS.get(Path(name).suffix.lower()), name)


def cmd_validate(args: argparse.Namespace) -> int:
    engine = build_engine(args.policy)
    files = _files(args.paths)
    if not files:
        raise ConfigError(f"no *.json, *.jsonl or *.xml files under {', '.join(args.paths)}")
    writer = WRITERS[args.format](sys.stdout, engine.ruleset)
    counts = writer.write_all(_reports(engine, files))
    return EXIT_FAILED if counts["fail"] or counts["error"] else EXIT_OK


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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="eln-msc", description="Check MSC batch records (JSON/XML) against QC rules.")
    top.add_argument("--version", action="version", version=f"eln-msc {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="validate batch-record files and print verdicts")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - for standard input")
    validate.add_argument("--format", choices=sorted(WRITERS), default="text", help="output format (default text)")
    validate.add_argument("--policy", metavar="FILE", help="site policy (TOML) overriding the default rule pack")
    validate.set_defaults(run=cmd_validate)
    rules = sub.add_parser("rules", help="list every rule with its severities and thresholds in force")
    rules.add_argument("--policy", metavar="FILE", help="show the thresholds this policy puts in force")
    rules.set_defaults(run=cmd_rules)
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module).add_parser(sub)
    return top


# Subcommands that talk to an ELN live in their own modules, each with `add_parser(subparsers)`.
SUBCOMMAND_MODULES: tuple[str, ...] = ("eln_msc_plugin.doctor", "eln_msc_plugin.backfill.command")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as error:
        print(f"eln-msc: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ElnMscError as error:
        print(f"eln-msc: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("eln-msc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
