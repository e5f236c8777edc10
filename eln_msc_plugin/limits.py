"""The resource limits in force, in one place, and the one way a small configuration file is read.

Each limit is far above what a real batch record, policy or token reaches, and below what would let one
input take the memory or time of a whole run. docs/security.md lists them; `tests/test_hostile_docs.py`
fails when that table differs from `limits_markdown()`.
"""

from __future__ import annotations

import os
import stat

from eln_msc_plugin.errors import ConfigError

# One record: the largest schema-valid record (200 passages, every member filled) is about 70 kB of XML.
MAX_RECORD_BYTES = 2 * 1024 * 1024
MAX_PASSAGES = 1_000  # the schema allows 200: between the two, a located `schema` failure
MAX_CRYO_EVENTS = 1_000  # likewise
MAX_MEMBERS = 10_000  # members of one object, children of one element (the schema allows 10,000 vial ids)
# What one report holds: every finding counts for the verdict, but the list shown is bounded.
MAX_FINDINGS = 100
FOLD_AFTER = 3  # findings alike but for their place: this many are listed, the rest counted in `folded`
MAX_MESSAGE_CHARS = 1_000
MAX_QUOTED_CHARS = 200  # a value quoted inside a message or shown as `observed`
MAX_SCHEMA_ERRORS = 1_000  # schema violations looked for in one record (a million bad list items are not listed)
# Files named on the command line that are read whole.
MAX_POLICY_BYTES = 1024 * 1024
MAX_TOKEN_BYTES = 64 * 1024

# name, value, what it bounds; the table of docs/security.md
TABLE: tuple[tuple[str, int, str], ...] = (
    ("MAX_RECORD_BYTES", MAX_RECORD_BYTES, "bytes of one record (a JSON Lines line, a JSON array element, an XML "
                                           "`batch_record`); past it the record is an `error`"),
    ("MAX_PASSAGES", MAX_PASSAGES, "passages in one record; past it the record is an `error`"),
    ("MAX_CRYO_EVENTS", MAX_CRYO_EVENTS, "cryo events in one record; past it the record is an `error`"),
    ("MAX_MEMBERS", MAX_MEMBERS, "members of one JSON object, children of one XML element; past it the record "
                                 "is an `error`"),
    ("MAX_FINDINGS", MAX_FINDINGS, "findings listed in one report (the verdict counts them all; the rest are "
                                   "summed up in one `report` finding)"),
    ("FOLD_AFTER", FOLD_AFTER, "findings of one rule with the same message at different places listed before "
                               "the rest are folded into the last one's `folded` count"),
    ("MAX_MESSAGE_CHARS", MAX_MESSAGE_CHARS, "characters of one finding's message"),
    ("MAX_QUOTED_CHARS", MAX_QUOTED_CHARS, "characters of a value quoted in a message or shown as `observed`"),
    ("MAX_SCHEMA_ERRORS", MAX_SCHEMA_ERRORS, "schema violations (and unknown members) looked for in one record"),
    ("MAX_POLICY_BYTES", MAX_POLICY_BYTES, "bytes of a policy file (`--policy`)"),
    ("MAX_TOKEN_BYTES", MAX_TOKEN_BYTES, "bytes of a token file (`--token-file`, `token_file`)"),
)


def limits_markdown() -> str:
    """The table of limits for docs/security.md."""
    lines = ["| limit | value | what it bounds |", "|---|---|---|"]
    lines += [f"| `{name}` | {value:,} | {meaning} |" for name, value, meaning in TABLE]
    return "\n".join(lines) + "\n"


def read_small_file(path: str | os.PathLike[str], limit: int, what: str) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `limit` bytes; `ConfigError` otherwise.

    Checked on the open file before anything is read: a FIFO would block for ever, a device or a huge file
    would be read without end. The file is opened without blocking so that even a FIFO answers at once.
    """
    shown = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise ConfigError(f"cannot read the {what} {shown}: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise ConfigError(f"{what} {shown}: is {kind}; give the path of a file")
        if info.st_size > limit:
            raise ConfigError(f"{what} {shown}: is {info.st_size:,} bytes; a {what} is at most {limit:,} bytes")
        data = _read_at_most(fd, limit + 1)
    except OSError as error:
        raise ConfigError(f"cannot read the {what} {shown}: {error.strerror or error}") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew after the check
        raise ConfigError(f"{what} {shown}: is more than {limit:,} bytes; a {what} is at most {limit:,} bytes")
    return data


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0 and (chunk := os.read(fd, min(size, 1 << 16))):
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_small_text(path: str | os.PathLike[str], limit: int, what: str) -> str:
    """`read_small_file` decoded as UTF-8 (a byte-order mark is skipped); `ConfigError` when it is not UTF-8."""
    data = read_small_file(path, limit, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{what} {os.fspath(path)}: is not UTF-8 text (from byte {error.start:,} on)") from None

