"""Helpers for tests against the real Kadi4Mat stack started by scripts/kadi-stack (see scripts/test)."""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.kadi.annotation import annotation_of
from eln_msc_plugin.kadi.client import KadiClient

REPO = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("ELN_MSC_STACK_DIR", REPO / ".stack"))


@dataclass
class Stack:
    url: str
    scientist_token_file: Path
    service_token_file: Path
    env: dict[str, str]

    def scientist(self) -> KadiClient:
        return KadiClient(self.url, Token.from_file(self.scientist_token_file))

    def service(self) -> KadiClient:
        return KadiClient(self.url, Token.from_file(self.service_token_file))

    def script(self, *args: str) -> None:
        subprocess.run([str(REPO / "scripts" / "kadi-stack"), *args], check=True, capture_output=True)

    def log(self, name: str) -> str:
        return (STACK_DIR / name).read_text(encoding="utf-8", errors="replace")

    def password(self, username: str) -> str:
        """The web login password of one of the stack's users (scientist, mscqc)."""
        files = {self.env.get("KADI_SCIENTIST_USERNAME"): self.env.get("KADI_SCIENTIST_PASSWORD_FILE"),
                 self.env.get("KADI_SERVICE_USERNAME"): self.env.get("KADI_SERVICE_PASSWORD_FILE")}
        return Path(files[username] or "").read_text().strip()


def load_stack() -> Stack | None:
    env_file = STACK_DIR / "stack.env"
    if not env_file.exists():
        return None
    env: dict[str, str] = {}
    for line in env_file.read_text().splitlines():
        match = re.match(r"^(?:export\s+)?([A-Z_][A-Z0-9_]*)=['\"]?(.*?)['\"]?$", line.strip())
        if match:
            env[match.group(1)] = match.group(2)
    try:
        requests.get(env["KADI_URL"] + "/api/info", timeout=3)
    except (requests.RequestException, KeyError):
        return None
    return Stack(env["KADI_URL"], Path(env["KADI_SCIENTIST_TOKEN_FILE"]), Path(env["KADI_SERVICE_TOKEN_FILE"]), env)


def extra(key: str | None, value: Any, unit: str | None = None) -> dict[str, Any]:
    """A Kadi extra for a Python value (dicts and lists become nested extras)."""
    e: dict[str, Any] = {} if key is None else {"key": key}
    if isinstance(value, bool):
        e.update(type="bool", value=value)
    elif isinstance(value, int):
        e.update(type="int", value=value)
    elif isinstance(value, float):
        e.update(type="float", value=value)
    elif isinstance(value, dict):
        e.update(type="dict", value=[extra(k, v) for k, v in value.items()])
    elif isinstance(value, list):
        e.update(type="list", value=[extra(None, v) for v in value])
    else:
        e.update(type="str", value=value)
    if unit:
        e["unit"] = unit
    return e


def batch_extras(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Kadi extras for a canonical record (the members the Kadi record itself provides are left out)."""
    skip = {"format", "format_version", "record_id", "revision"}
    return [extra(k, v) for k, v in data.items() if k not in skip]


def new_identifier(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create_batch_record(client: KadiClient, data: dict[str, Any] | None, *, record_type: str = "msc_batch",
                        extras: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"identifier": new_identifier(), "title": "MSC batch record", "type": record_type}
    body["extras"] = extras if extras is not None else (batch_extras(data) if data is not None else [])
    return client.create_record(body)


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.2, what: str = "") -> Any:
    """Poll until `predicate()` is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
        time.sleep(interval)


def annotation(client: KadiClient, record_id: int) -> dict[str, Any]:
    record = client.record(record_id)
    found = annotation_of(record.get("extras") or [])
    if found:
        found["_tags"] = record.get("tags") or []
    return found


def wait_annotation(client: KadiClient, record_id: int, judged_revision: int | None = None,
                    timeout: float = 60.0) -> dict[str, Any]:
    """The record's annotation once it is whole (its `msc_qc` extra, the verdict tag and the report file the
    extra names, all there) and judges `judged_revision` (or any, when None)."""
    def ready() -> dict[str, Any] | None:
        found = annotation(client, record_id)
        if not found or (judged_revision is not None and found.get("judged_revision") != judged_revision):
            return None
        if f"qc-{found.get('verdict')}" not in found["_tags"]:
            return None
        if found.get("report_file") not in {f["name"] for f in client.files(record_id)}:
            return None
        return found

    return wait_for(ready, timeout, what=f"the whole annotation of record {record_id} (revision {judged_revision})")


def human_revision(client: KadiClient, record_id: int, username: str = "scientist") -> int:
    """The newest revision of the record made by `username`."""
    for revision in client.revisions(record_id, per_page=50):
        if revision["user"]["identity"]["username"] == username:
            return int(revision["id"])
    raise AssertionError(f"record {record_id} has no revision by {username}")


TEMPLATE = REPO / "schemas" / "kadi-template-msc-batch-record.json"


def fill_template(template_extras: list[dict[str, Any]], data: dict[str, Any]) -> list[dict[str, Any]]:
    """The template's extras with values taken from a canonical record (as a scientist fills the form)."""
    filled = []
    for slot in template_extras:
        key = slot.get("key")
        if key not in data:
            continue
        filled.append(_fill(slot, data[key]))
    return filled


def _fill(slot: dict[str, Any], value: Any) -> dict[str, Any]:
    out = {k: v for k, v in slot.items() if k != "description"}
    if slot["type"] == "dict":
        out["value"] = fill_template(slot["value"], value)
    elif slot["type"] == "list":
        item = slot["value"][0] if slot["value"] else None
        out["value"] = [_fill(item, v) if item else extra(None, v) for v in value]
    elif slot["type"] == "date":
        out["value"] = value if "T" in value else value + "T00:00:00+00:00"
    elif slot["type"] == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        out["value"] = float(value)
    else:
        out["value"] = value
    return out


def web_login(stack: Stack, username: str = "scientist") -> requests.Session:
    """A requests session logged in through Kadi's login form (for the web pages, not the API).

    Kadi allows five logins a minute from one address: a refused one waits as Kadi says, then tries again.
    """
    password = stack.password(username)
    deadline = time.monotonic() + 150
    while True:
        web = requests.Session()
        page = web.get(f"{stack.url}/login/local", timeout=10)
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        form = {"username": username, "password": password, "csrf_token": csrf.group(1) if csrf else ""}
        response = web.post(f"{stack.url}/login/local", data=form, timeout=10)
        if response.status_code != 429 or time.monotonic() > deadline:
            break
        time.sleep(float(response.headers.get("Retry-After") or 10))
    assert response.ok and "logout" in response.text.lower(), f"could not log in to the Kadi web pages as {username}"
    return web


def judge_now(stack: Stack, record_id: int, *, before_write: Any = None, revision: int | None = None,
              write_via: str = "auto") -> Any:
    """Judge and annotate a record at once as the service account (for record types not checked on save),
    through the Kadi adapter and the judge flow every host uses; `before_write` runs just before the PATCH."""
    from eln_msc_plugin.eln.judge import judge_and_annotate
    from eln_msc_plugin.kadi.adapter import KadiAdapter
    from eln_msc_plugin.pipeline import Engine

    with KadiAdapter(stack.url, Token.from_file(stack.service_token_file), write_via=write_via) as adapter:
        adapter.before_write = before_write
        ref = adapter.ref(str(record_id), str(revision) if revision is not None else None)
        return judge_and_annotate(adapter, Engine(), ref)


def make_token(stack: Stack, path: Path, *, username: str = "mscqc", expires_in_days: float | None = None,
               scope: str = "record.read record.update user.read") -> Path:
    """A real personal access token made in Kadi's shell (as an admin can), with an expiry (negative: already
    expired) or none; written to `path` (mode 600), never printed."""
    expires = "None" if expires_in_days is None else f"utcnow() + timedelta(days={expires_in_days!r})"
    code = f"""
import os
from datetime import timedelta
from kadi.ext.db import db
from kadi.lib.api.models import PersonalToken
from kadi.lib.utils import utcnow
from kadi.modules.accounts.models import LocalIdentity
user = LocalIdentity.query.filter_by(username={username!r}).one().user
value = PersonalToken.new_token()
PersonalToken.create(user=user, name="test token", scope={scope!r}, expires_at={expires}, token=value)
db.session.commit()
fd = os.open({str(path)!r}, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, value.encode())
os.close(fd)
"""
    env = dict(os.environ, KADI_CONFIG_FILE=stack.env["KADI_CONFIG_FILE"])
    done = subprocess.run([stack.env["KADI_VENV"] + "/bin/kadi", "shell"], input=code, env=env, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0 and path.exists(), done.stderr[-2000:]
    return path
