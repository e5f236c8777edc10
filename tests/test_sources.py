"""The one folder scanner of `validate` and `backfill --source`: what it reads, in what order, and what it
reports instead of skipping."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin import cli
from eln_msc_plugin.sources import STDIN, MissingInput, scan
from tests.support.inputs import long_path_folder
from tests.support.records import as_json, record


def test_extensions_in_any_case_sorted_by_path(tmp_path: Path) -> None:
    for name in ("b.JSON", "a/c.Jsonl", "a.XML", "d.NDJSON", "e.txt", "f.json.bak"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"{}")
    found = scan([str(tmp_path)])
    assert [Path(i.source).relative_to(tmp_path).as_posix() for i in found] == ["a.XML", "a/c.Jsonl", "b.JSON",
                                                                               "d.NDJSON"]
    assert [i.media_type for i in found] == ["application/xml", "application/x-ndjson", "application/json",
                                             "application/x-ndjson"]


def test_validate_and_backfill_read_the_same_files(tmp_path: Path, capsys: Any) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "X.JSON").write_bytes(as_json(record(record_id="R-upper")))
    (data / "y.jsonl").write_bytes(as_json(record(record_id="R-lines")) + b"\n")
    assert cli.main(["validate", "--format", "json", "--jobs", "1", str(data)]) == 0
    validated = [r["record_id"] for r in json.loads(capsys.readouterr().out)["records"]]
    assert cli.main(["backfill", "--source", str(data), "--report", str(tmp_path / "r.html"), "--jobs", "1"]) == 0
    backfilled = [r["identifier"] for r in json.loads((tmp_path / "r.json").read_text())["records"]]
    assert validated == backfilled == ["R-upper", "R-lines"]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda d: os.symlink("loop.json", d / "loop.json"), "Too many levels of symbolic links"),
        (lambda d: os.symlink("sub", d / "sub"), "Too many levels of symbolic links"),
        (lambda d: os.symlink("gone.json", d / "dangling.json"), "a link to nothing"),
        (lambda d: os.mkfifo(d / "pipe.json"), "not a regular file"),
    ],
    ids=["link-loop-named-json", "link-loop-subfolder", "dangling-link-named-json", "fifo-named-json"],
)
def test_what_cannot_be_read_is_an_input_with_a_problem(tmp_path: Path, make: Any, problem: str) -> None:
    (tmp_path / "good.json").write_bytes(as_json(record()))
    make(tmp_path)
    good, bad = sorted(scan([str(tmp_path)]), key=lambda i: i.problem is not None)
    assert good.source == str(tmp_path / "good.json") and good.problem is None
    assert bad.source != good.source and problem in (bad.problem or "")


def test_unlisted_and_ignored_entries(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "r.json").write_bytes(b"{}")
    os.symlink("real", tmp_path / "alias")  # a link to a folder: not followed, so not read twice
    os.symlink("real/r.json", tmp_path / "link.json")  # a link to a file: read
    os.symlink("nowhere", tmp_path / ".#editor-lock")  # a dangling link of another kind: not ours
    assert [Path(i.source).name for i in scan([str(tmp_path)])] == ["link.json", "r.json"]


def test_a_folder_that_cannot_be_listed_is_a_problem(tmp_path: Path) -> None:
    deep = long_path_folder(tmp_path)
    found = scan([str(tmp_path)])
    assert len(found) == 1 and found[0].source == str(deep) and "File name too long" in (found[0].problem or "")


def test_names_that_do_not_exist_or_hold_nothing(tmp_path: Path) -> None:
    with pytest.raises(MissingInput, match="nope.json: no such file or folder"):
        scan([str(tmp_path / "nope.json")])
    with pytest.raises(MissingInput, match=r"no \*.json, \*.jsonl or \*.xml files under"):
        scan([str(tmp_path)])
    assert scan(["-"])[0].source == STDIN and scan(["-"])[0].path is None
