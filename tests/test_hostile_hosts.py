"""doctor and backfill against a server that is not the ELN it claims to be, and against bad configuration:
each case is one clear line (doctor: exit status 2) or a failed record (backfill), never a traceback, and the
token never appears in what they print or store, even when the server repeats it.

The server is real (HTTP on loopback), playing a broken or hostile Kadi4Mat: a real Kadi cannot be made to
answer garbage or repeat a token on demand.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin.cli import main
from tests.test_hostile_http import Server

SECRET = "pat_hostilehost0123456789abcdef"
Answer = Callable[[str], tuple[int, dict[str, str], Any]]


@pytest.fixture
def eln() -> Iterator[Server]:
    server = Server()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(SECRET + "\n")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_exit_2(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2 and not out and err.count("\n") == 1 and "Traceback" not in err, (code, out, err)
    assert all(word in err for word in words), err
    assert SECRET not in out + err


KADI_INFO = {"version": "1.13.0"}
NOT_AN_ELN: dict[str, Answer] = {
    "garbage": lambda path: (200, {"Content-Type": "text/html"}, b"<html>It works!</html>"),
    "json-list": lambda path: (200, {}, [1, 2, 3]),
    "user-without-id": lambda path: (200, {}, KADI_INFO if path.startswith("/api/info") else
                                     {"identity": {"username": "svc"}, "_links": {}}),
}


WHY = {"garbage": "not JSON (text/html)", "json-list": "a JSON array where its API gives a JSON object",
       "user-without-id": "names no user id"}


@pytest.mark.parametrize("kind", NOT_AN_ELN, ids=NOT_AN_ELN.keys())
def test_doctor_against_a_server_that_is_not_the_eln_is_one_line_and_status_2(
        eln: Server, token_file: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    eln.answer = NOT_AN_ELN[kind]
    code, out, err = run(capsys, "doctor", "--kadi", eln.url, "--token-file", str(token_file))
    one_line_exit_2(code, out, err, eln.url, WHY[kind], "is this the address of Kadi4Mat?")


def test_doctor_against_a_server_whose_later_answers_break_is_one_line_and_status_2(
        eln: Server, token_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # who the token acts as reads well; Kadi's version, asked next, is garbage
    eln.answer = lambda path: ((200, {}, {"id": 7, "identity": {"username": "svc"}}) if path.startswith("/api/users")
                               else (200, {"Content-Type": "text/html"}, b"<html>maintenance</html>"))
    code, out, err = run(capsys, "doctor", "--kadi", eln.url, "--token-file", str(token_file))
    assert "Traceback" not in err and SECRET not in out + err
    assert (code == 1 and "FAIL" in out) or (code == 2 and err.count("\n") == 1), (code, out, err)


BAD_CONFIGURATION = [
    (["--kadi", "http://[::1"], {"KADI_TOKEN": SECRET}, ["not a valid URL"]),
    (["--kadi", f"http://svc:{SECRET}@127.0.0.1:9"], {"KADI_TOKEN": SECRET}, ["user name or password"]),
    (["--kadi", "http://127.0.0.1:9"], {"KADI_TOKEN": "tök€n-0123456789"}, ["KADI_TOKEN", "HTTP header"]),
]


@pytest.mark.parametrize(("argv", "env", "words"), BAD_CONFIGURATION,
                         ids=["url-unclosed-ipv6", "token-in-the-url", "token-not-latin-1"])
def test_doctor_with_bad_configuration_is_one_line_and_status_2(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str],
        words: list[str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    one_line_exit_2(*run(capsys, "doctor", *argv), *words)


@pytest.mark.parametrize(("argv", "env", "words"), BAD_CONFIGURATION,
                         ids=["url-unclosed-ipv6", "token-in-the-url", "token-not-latin-1"])
def test_backfill_with_bad_configuration_is_one_line_and_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str],
        env: dict[str, str], words: list[str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    one_line_exit_2(*run(capsys, "backfill", *argv, "--state", str(tmp_path / "state.sqlite")), *words)
    assert not (tmp_path / "state.sqlite").exists()  # refused before anything was started


def bad_token_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "token"
    if kind == "fifo":
        os.mkfifo(path)  # read, it would block for ever: refused before reading
    else:
        path.write_bytes(b"pat_\xff0123456789")
    return path


@pytest.mark.parametrize("command", ["doctor", "backfill"], ids=["doctor", "backfill"])
@pytest.mark.parametrize("kind", ["not-utf-8", "fifo"], ids=["not-utf-8", "fifo"])
def test_a_bad_token_file_is_one_line_and_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, command: str) -> None:
    path = bad_token_file(tmp_path, kind)
    one_line_exit_2(*run(capsys, command, "--kadi", "http://127.0.0.1:9", "--token-file", str(path)), str(path))


def test_doctor_does_not_print_a_token_the_server_repeats(eln: Server, token_file: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    eln.answer = lambda path: ((200, {}, KADI_INFO) if path.startswith("/api/info")
                               else (401, {}, {"description": f"token {SECRET} is not valid (Bearer {SECRET})"}))
    code, out, err = run(capsys, "doctor", "--kadi", eln.url, "--token-file", str(token_file))
    assert code == 1 and "FAIL  token" in out and "***" in out and SECRET not in out + err


def test_doctor_calls_a_redirect_to_another_site_an_error(eln: Server, token_file: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = Server()
    try:
        elsewhere.answer = lambda path: (200, {}, {"id": None, "version": "?", "identity": {}})
        eln.answer = lambda path: (302, {"Location": f"{elsewhere.url}{path}"}, {})
        code, out, err = run(capsys, "doctor", "--kadi", eln.url, "--token-file", str(token_file))
    finally:
        elsewhere.close()
    assert code == 1 and "redirect to another site" in out and "acts as" not in out and not elsewhere.seen


def listing(path: str) -> tuple[int, dict[str, str], Any]:
    """A Kadi that lists two records and says who the token acts as, and answers nothing else but an error that
    repeats the token (as a careless proxy or a debug page might)."""
    if path.startswith("/api/users/me"):
        return 200, {}, {"id": 7, "identity": {"username": "svc"}, "system_role": "admin"}
    if path.startswith("/api/eln_msc/token"):
        return 404, {}, {"code": 404, "description": "not found"}  # the plugin's endpoint: not installed here
    if path.startswith("/api/records?"):
        items = [{"id": i, "identifier": f"r{i}", "title": f"record {i}", "last_modified": "2026-01-02T03:04:05+00:00"}
                 for i in (1, 2)]
        return 200, {}, {"items": items, "_pagination": {"total_items": 2, "total_pages": 1}}
    if path.startswith("/api/records/2"):
        return 200, {"Content-Type": "text/html"}, f"<pre>debug: Authorization: Bearer {SECRET}</pre>".encode()
    return 400, {}, {"description": f"invalid request (Authorization: Bearer {SECRET})", "code": 400}


def test_backfill_records_the_server_breaks_are_failed_records_without_the_token(
        eln: Server, token_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eln.answer = listing
    state, report = tmp_path / "state.sqlite", tmp_path / "report"
    code, out, err = run(capsys, "backfill", "--kadi", eln.url, "--token-file", str(token_file), "--state", str(state),
                         "--report", str(report), "--attempts", "1", "--workers", "1")
    assert code == 1 and "2 failed" in out and "Traceback" not in err
    assert "failed: record 1" in err and "failed: record 2" in err
    stored = [report.with_suffix(s).read_text(encoding="utf-8") for s in (".html", ".csv", ".json")]
    with sqlite3.connect(state) as db:
        stored += [json.dumps(row) for row in db.execute("SELECT * FROM records").fetchall()]
    assert all(SECRET not in text for text in [out, err, *stored])
    assert "***" in err and any("***" in text for text in stored)


@pytest.mark.parametrize("kind", NOT_AN_ELN, ids=NOT_AN_ELN.keys())
def test_backfill_against_a_server_that_is_not_the_eln_is_one_line(
        eln: Server, token_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    eln.answer = NOT_AN_ELN[kind]
    code, out, err = run(capsys, "backfill", "--kadi", eln.url, "--token-file", str(token_file),
                         "--state", str(tmp_path / "state.sqlite"), "--attempts", "1")
    # nothing to back fill from a server that is not the ELN: the run fails in one line that says why
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err and SECRET not in out + err
    assert WHY[kind] in err, err


ELABFTW_NOT_AN_ELN: dict[str, tuple[Answer, str]] = {
    "garbage": (NOT_AN_ELN["garbage"], "not JSON (text/html)"),
    "json-list": (NOT_AN_ELN["json-list"], "eLabFTW answered a JSON array, not what was asked for"),
    "user-without-id": (lambda path: (200, {}, {"fullname": "svc", "team": 1}),
                        "eLabFTW answered an object without 'userid'"),
}


@pytest.mark.parametrize("command", ["doctor", "backfill"], ids=["doctor", "backfill"])
@pytest.mark.parametrize("kind", ELABFTW_NOT_AN_ELN, ids=ELABFTW_NOT_AN_ELN.keys())
def test_elabftw_commands_against_a_server_that_is_not_the_eln_are_one_line(
        eln: Server, token_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str,
        command: str) -> None:
    """The same for the second adapter: its answers are checked for shape, and a wrong shape says so."""
    eln.answer, why = ELABFTW_NOT_AN_ELN[kind]
    extra = ["--state", str(tmp_path / "state.sqlite"), "--attempts", "1"] if command == "backfill" else []
    code, out, err = run(capsys, command, "--eln", "elabftw", "--url", eln.url, "--token-file", str(token_file),
                         *extra)
    if command == "doctor":
        one_line_exit_2(code, out, err, eln.url, why, "is this the address of eLabFTW?")
    else:
        assert code == 1 and err.count("\n") == 1 and why in err and SECRET not in out + err, (code, out, err)
