"""`--jobs N`: the same output as one process, byte for byte; dead workers, Ctrl-C and progress."""

from __future__ import annotations

import io
import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin import cli, jobs, pipeline
from eln_msc_plugin.chunks import plan
from eln_msc_plugin.hookspecs import hookimpl
from eln_msc_plugin.plugins import get_plugin_manager
from eln_msc_plugin.rules import rule
from eln_msc_plugin.sources import scan
from tests.support.inputs import mixed_folder
from tests.support.records import as_json, record

DEADLINE_S = 120.0  # for a subprocess on a busy machine: polled, never slept


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mixed_folder(tmp_path_factory.mktemp("mixed") / "in")


def validate(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(["validate", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("chunk", [700, 3000, 20000], ids=["chunk-700", "chunk-3000", "chunk-20000"])
@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_jobs_2_writes_what_jobs_1_writes(folder: Path, fmt: str, chunk: int, capsys: Any) -> None:
    one = validate(["--format", fmt, "--jobs", "1", str(folder)], capsys)
    two = validate(["--format", fmt, "--jobs", "2", "--chunk-bytes", str(chunk), str(folder)], capsys)
    assert two == one
    assert one[0] == 1 and "error" in one[1] and "pass" in one[1]


def test_the_mixed_folder_is_cut_in_every_format(folder: Path) -> None:
    """The comparison above is not vacuous: JSON Lines, arrays and XML are cut into chunks for workers."""
    cut: dict[str, int] = {}
    for unit in plan(scan([str(folder)]), True, 3000, set()):
        if unit.remote and unit.file:
            cut[Path(unit.file).name] = cut.get(Path(unit.file).name, 0) + 1
    assert cut["lines.jsonl"] > 5 and cut["pretty.json"] > 5 and cut["per-line.json"] > 5
    assert cut["batch.xml"] > 5 and cut["batch-broken.xml"] > 5
    assert "compact.json" not in cut  # an array on one line is read whole


def test_a_chunk_cut_in_the_wrong_place_is_read_again_in_order(folder: Path, capsys: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    again: list[str] = []
    read_rest = jobs._Run._read_rest

    def spy(self: Any, task: Any) -> None:
        again.append(Path(task.source).name)
        read_rest(self, task)

    monkeypatch.setattr(jobs._Run, "_read_rest", spy)
    one = validate(["--format", "json", "--jobs", "1", str(folder)], capsys)
    two = validate(["--format", "json", "--jobs", "2", "--chunk-bytes", "3000", str(folder)], capsys)
    assert two == one
    assert sorted(again) == ["batch-broken.xml", "batch-comment.xml", "pretty-broken.json", "pretty-misleading.json"]


def test_standard_input_is_labelled_and_read_in_order(folder: Path, capsys: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    content = (folder / "lines.jsonl").read_bytes()
    outs = []
    for argv in (["--jobs", "1"], ["--jobs", "2", "--chunk-bytes", "700"]):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content)))
        outs.append(validate([*argv, str(folder / "batch.xml"), "-"], capsys))
    assert outs[0] == outs[1]
    assert "<stdin>#0 " in outs[0][1] and "-#0" not in outs[0][1]


def test_backfill_source_rows_are_the_same_with_jobs(folder: Path, tmp_path: Path) -> None:
    reports = []
    for n in ("1", "2"):
        status = cli.main(["backfill", "--source", str(folder), "--report", str(tmp_path / f"r{n}.html"),
                           "--jobs", n, "--chunk-bytes", "3000"])
        assert status == 1
        reports.append(json.loads((tmp_path / f"r{n}.json").read_text())["records"])
    assert reports[0] == reports[1] and len(reports[0]) > 200
    assert [row["id"] for row in reports[1]] == list(range(1, len(reports[1]) + 1))
    assert (tmp_path / "r1.csv").read_bytes() == (tmp_path / "r2.csv").read_bytes()


def test_jobs_must_be_at_least_one(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["validate", "--jobs", "0", "x.json"])
    assert exit_info.value.code == 2 and "1 or more" in capsys.readouterr().err


def killer_engine(monkeypatch: pytest.MonkeyPatch, victim: str, marker: Path | None) -> None:
    """Engines built from now on hold a rule that kills the worker process judging record `victim`: once if
    `marker` is given (it records the kill), else every time. The parent process is never killed."""
    parent = os.getpid()

    @rule("test.kill", summary="kills its worker", severities=("info",))
    def kill(ctx: Any) -> tuple[()]:
        once = marker is not None
        if ctx.data.get("record_id") == victim and os.getpid() != parent and not (once and marker.exists()):
            if once:
                marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return ()

    class Plugin:
        @hookimpl
        def eln_msc_register_rules(self, register: Any) -> None:
            register(kill)

    monkeypatch.setattr(pipeline, "get_plugin_manager", lambda **kw: get_plugin_manager(extra=(Plugin(),), **kw))


def test_a_killed_worker_is_reported_and_its_records_judged_again(folder: Path, tmp_path: Path, capsys: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    killer_engine(monkeypatch, "R-10", tmp_path / "killed-once")
    one = validate(["--format", "json", "--jobs", "1", str(folder / "lines.jsonl")], capsys)
    two = validate(["--format", "json", "--jobs", "2", "--chunk-bytes", "3000", str(folder / "lines.jsonl")], capsys)
    assert (tmp_path / "killed-once").exists()
    assert two[:2] == one[:2]  # every record judged, as by one process
    assert "worker process ended (killed by SIGKILL)" in two[2] and "judging them again" in two[2]


def test_a_worker_killed_twice_leaves_error_records(folder: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    killer_engine(monkeypatch, "R-10", None)
    status, out, err = validate(["--format", "json", "--jobs", "2", "--chunk-bytes", "3000",
                                 str(folder / "lines.jsonl")], capsys)
    records = json.loads(out)["records"]
    lost = [r for r in records if "not judged" in json.dumps(r["findings"])]
    assert status == 1 and len(lost) == 1 and lost[0]["verdict"] == "error"
    assert "killed by SIGKILL" in lost[0]["findings"][0]["message"]
    assert "ended again" in err and "reported as errors" in err
    assert len(records) > 20  # the other chunks were judged


def big_input(tmp_path: Path, n: int = 20000) -> Path:
    path = tmp_path / "big.jsonl"
    line = as_json(record()) + b"\n"
    path.write_bytes(line * n)
    return path


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def _interrupt_midway(tmp_path: Path, n: int) -> int | None:
    """Run `validate --jobs 2` on `n` records and press Ctrl-C once the first records are out; the exit status,
    or None when the run was already past half of its records (a busy machine let it run on before we looked)."""
    command = [sys.executable, "-m", "eln_msc_plugin.cli", "validate", "--jobs", "2", "--chunk-bytes", "100000",
               "--format", "json", str(big_input(tmp_path, n))]
    with open(tmp_path / "out", "wb") as out, open(tmp_path / "err", "wb") as err:
        # SIGINT as a terminal's foreground job has it: a shell starts background jobs with it ignored, and
        # a process started so (a CI run launched with `&`) would rightly never see Ctrl-C at all
        child = subprocess.Popen(command, stdout=out, stderr=err, start_new_session=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_for(lambda: (tmp_path / "out").stat().st_size > 100_000, "the first records")
        os.killpg(child.pid, signal.SIGSTOP)  # the whole group frozen: nothing finishes while we look
        try:
            # far from its end (its output is buffered, so the file lags behind what it has written)
            if child.poll() is not None or (tmp_path / "out").read_bytes().count(b'"record_id"') >= n // 2:
                return None
            os.killpg(child.pid, signal.SIGINT)  # what a terminal does: the whole process group
        finally:
            os.killpg(child.pid, signal.SIGCONT)  # the pending SIGINT arrives first
        return child.wait(DEADLINE_S)
    except ProcessLookupError:  # the group was gone before it could be frozen
        return None
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        wait_for(lambda: group_gone(child.pid), "every worker to end")


def test_ctrl_c_stops_every_process_without_a_traceback(tmp_path: Path) -> None:
    status, n = None, 20000
    while status is None:  # interrupted before its end, however fast or busy the machine
        assert n <= 320000, "the run always ended before it could be interrupted"
        status, n = _interrupt_midway(tmp_path, n), n * 2
    err_text = (tmp_path / "err").read_text()
    assert status == 130 and "eln-msc: interrupted" in err_text
    assert "Traceback" not in err_text and "KeyboardInterrupt" not in err_text


def read_all(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the other end closed
            return
        if not data:
            return
        into.append(data)


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    main, other = pty.openpty()
    try:
        yield main, other
    finally:
        os.close(main)


@pytest.mark.parametrize("jobs_n", ["1", "2"], ids=["jobs-1", "jobs-2"])
def test_progress_bar_on_a_terminal(tmp_path: Path, terminal: tuple[int, int], jobs_n: str) -> None:
    main, other = terminal
    shown: list[bytes] = []
    reader = threading.Thread(target=read_all, args=(main, shown))
    reader.start()
    with open(tmp_path / "out", "wb") as out:
        done = subprocess.run([sys.executable, "-m", "eln_msc_plugin.cli", "validate", "--jobs", jobs_n,
                               "--chunk-bytes", "100000", str(big_input(tmp_path, 2000))],
                              stdout=out, stderr=other, timeout=DEADLINE_S, check=False)
    os.close(other)
    reader.join(DEADLINE_S)
    text = b"".join(shown).decode()
    assert done.returncode == 0
    assert "\r[" in text and "rec/s" in text and "ETA" in text and "2000 " in text
    assert "2000 records: 2000 pass" in (tmp_path / "out").read_text()  # the bar stays off standard output


def test_no_progress_when_standard_error_is_not_a_terminal(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "eln_msc_plugin.cli", "validate", "--jobs", "2",
                           "--chunk-bytes", "100000", str(big_input(tmp_path, 2000))],
                          capture_output=True, text=True, timeout=DEADLINE_S, check=False)
    assert done.returncode == 0 and done.stderr == ""


def test_workers_started_by_spawn_write_the_same(folder: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where fork is not used (macOS, Windows), each worker builds its own engine: the same output."""
    import multiprocessing

    from eln_msc_plugin import parallel

    one = validate(["--format", "json", "--jobs", "1", str(folder / "pretty.json"), str(folder / "batch.xml")], capsys)
    asked: list[str] = []

    def spawn() -> Any:
        asked.append("spawn")
        return multiprocessing.get_context("spawn")

    monkeypatch.setattr(parallel, "context", spawn)
    monkeypatch.setattr(jobs, "context", spawn)
    two = validate(["--format", "json", "--jobs", "2", "--chunk-bytes", "20000", str(folder / "pretty.json"),
                    str(folder / "batch.xml")], capsys)
    assert two == one and len(asked) == 2  # the pool's context, and the choice not to pass the engine
