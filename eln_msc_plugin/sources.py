"""The inputs of `eln-msc validate` and `eln-msc backfill --source`: one scanner for files and folders.

A folder stands for its batch-record files at any depth (`*.json`, `*.jsonl`, `*.ndjson`, `*.xml`, in any
case), in the order of their paths. Nothing under a folder is skipped without a word: a subfolder that cannot
be listed, a link that cannot be followed or a batch-record name that is not a regular file becomes an input
with a `problem`, which the run reports as an `error` record. Links to folders are not followed (a folder
reached twice would be judged twice); links to files are.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eln_msc_plugin.errors import ElnMscError
from eln_msc_plugin.formats.common import EXTENSIONS

STDIN = "<stdin>"  # how records read from standard input are labelled
KINDS = "*.json, *.jsonl or *.xml"


class MissingInput(ElnMscError):
    """A file or folder named on the command line does not exist, or a folder holds no batch-record file."""


@dataclass(frozen=True)
class Input:
    """One thing to read: a file (`path`), standard input (`path` None), or what could not be read (`problem`)."""

    source: str  # the name records are reported under
    path: str | None
    media_type: str | None = None
    size: int | None = None  # bytes, for a regular file
    problem: str | None = None

    @property
    def regular(self) -> bool:
        return self.size is not None


def media_type_of(name: str) -> str | None:
    """The media type a file name's extension stands for (in any case), or None."""
    return EXTENSIONS.get(os.path.splitext(name)[1].lower())


def scan(names: Sequence[str]) -> list[Input]:
    """Every input named, in order: `-` is standard input, a folder its batch-record files, a file itself.

    Raises MissingInput, before anything is read, for a name that does not exist or a folder without files."""
    found: list[Input] = []
    for name in names:
        if name == "-":
            found.append(Input(STDIN, None))
            continue
        try:
            info = os.stat(name)
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ENOTDIR):
                raise MissingInput(f"{name}: no such file or folder") from None
            found.append(Input(name, name, media_type_of(name), problem=f"cannot be read: {error.strerror}"))
            continue
        if stat.S_ISDIR(info.st_mode):
            inside = walk(Path(name))
            if not inside:
                raise MissingInput(f"no {KINDS} files under {name}")
            found += inside
        else:
            size = info.st_size if stat.S_ISREG(info.st_mode) else None
            found.append(Input(name, name, media_type_of(name), size))
    return found


def walk(folder: Path) -> list[Input]:
    """The batch-record files under `folder` and what could not be read there, sorted by path."""
    found: list[Input] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as error:
            found.append(Input(str(current), str(current), problem=f"the folder cannot be listed: {error.strerror}"))
            continue
        for entry in entries:
            path = current / entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                    continue
            except OSError as error:
                found.append(_unreadable(path, error))
                continue
            item = _entry(entry, path)
            if item is not None:
                found.append(item)
    return sorted(found, key=lambda item: item.source)


def _entry(entry: os.DirEntry[str], path: Path) -> Input | None:
    """A file found in a folder: an input, a problem worth reporting, or None (not a batch record)."""
    media_type = media_type_of(entry.name)
    try:
        info = entry.stat()  # follows a link to its target
    except OSError as error:
        if error.errno == errno.ENOENT and media_type is None:
            return None  # a dangling link with another name: not one of ours
        return _unreadable(path, error)
    if stat.S_ISDIR(info.st_mode) or media_type is None:
        return None  # a link to a folder (not followed), or a file of another kind
    if not stat.S_ISREG(info.st_mode):
        return Input(str(path), str(path), media_type, problem="not a regular file, so it was not read")
    return Input(str(path), str(path), media_type, info.st_size)


def _unreadable(path: Path, error: OSError) -> Input:
    reason = "a link to nothing" if error.errno == errno.ENOENT else error.strerror
    return Input(str(path), str(path), media_type_of(path.name), problem=f"cannot be read: {reason}")
