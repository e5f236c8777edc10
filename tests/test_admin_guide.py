"""docs/admin-install.md, followed on the real Kadi4Mat: the commands it gives and the menu paths it names.

The Kadi commands run as the guide writes them; the web steps are clicked through in headless Chromium as an
admin would, with screenshots kept in test-artifacts/admin-*.png (tokens blanked out).
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.kadi.client import KadiClient
from tests.support.browser import browser_page, screenshot
from tests.support.kadi import REPO, TEMPLATE, Stack, create_batch_record
from tests.support.records import record

pytestmark = [pytest.mark.kadi, pytest.mark.browser]
GUIDE = (REPO / "docs" / "admin-install.md").read_text(encoding="utf-8")


@dataclass
class Account:
    id: int
    username: str
    password: str


def kadi(stack: Stack, *args: str, answer: str | None = None) -> subprocess.CompletedProcess[str]:
    """Kadi's own command line, as the guide runs it (KADI_CONFIG_FILE set; `answer` typed at its prompt)."""
    env = dict(os.environ, KADI_CONFIG_FILE=stack.env["KADI_CONFIG_FILE"])
    return subprocess.run([stack.env["KADI_VENV"] + "/bin/kadi", *args], env=env, capture_output=True, text=True,
                          input=answer, stdin=None if answer is not None else subprocess.DEVNULL, timeout=300)


def create_user(stack: Stack, prefix: str) -> Account:
    username = f"{prefix}{uuid.uuid4().hex[:6]}"
    done = kadi(stack, "users", "create", "-u", username, "-d", f"{prefix} account", "-e", f"{username}@example.org",
                "-y")
    assert done.returncode == 0, done.stderr
    created = re.search(r"User with ID (\d+) created successfully\.", done.stdout)
    password = re.search(r"Initial user password: (\S+)", done.stdout)
    assert created and password, done.stdout
    return Account(int(created.group(1)), username, password.group(1))


def test_users_create_without_yes_creates_nobody(stack: Stack) -> None:
    """The guide's warning: without -y, and no terminal to answer, `kadi users create` stops."""
    username = f"noyes{uuid.uuid4().hex[:6]}"
    done = kadi(stack, "users", "create", "-u", username, "-d", "no", "-e", f"{username}@example.org")
    assert done.returncode != 0 and "Aborted!" in done.stderr and "created successfully" not in done.stdout
    found = stack.service().session.request("GET", "api/users", params={"filter": username}).json()
    assert found["items"] == []
    assert "-y" in GUIDE and "Aborted!" in GUIDE and "Initial user password" in GUIDE


def _sign_in(page: Any, stack: Stack, account: Account) -> None:
    page.goto(f"{stack.url}/login?tab=local")
    page.fill("#username_local", account.username)
    page.fill("#password_local", account.password)
    with page.expect_navigation():
        page.press("#password_local", "Enter")
    assert "/login" not in page.url, f"{account.username} could not log in with the initial password"


def _menu(page: Any, item: str) -> None:
    """Open the account menu (the initials at the top right) and choose `item`."""
    page.click("a.navbar-profile")
    page.click(f".dropdown-menu.show a:has-text('{item}')")
    page.wait_for_load_state()


def _give_admin_role(page: Any, stack: Stack, sysadmin: Account, service: Account) -> None:
    """Sysadmin → User management → Manage users → the service account's System role: Admin."""
    _sign_in(page, stack, sysadmin)
    _menu(page, "Sysadmin")
    page.click("a:has-text('User management')")
    assert page.url.endswith("/sysadmin/users")
    page.click("text=Manage users")
    row = page.locator("div.card.mb-3", has_text=f"@{service.username}")
    row.locator("select").select_option("admin")
    page.wait_for_load_state("networkidle")
    screenshot(page, "admin-1-sysadmin-user-management")


def _create_token(page: Any, stack: Stack, service: Account) -> str:
    """Settings → Access tokens → Create token, with the three scopes the guide names and the default expiry."""
    _sign_in(page, stack, service)
    _menu(page, "Settings")
    page.click("a:has-text('Access tokens')")
    assert page.url.endswith("/settings/personal-tokens")
    page.wait_for_selector("text=The default expiration date is 4 weeks.")
    page.fill("#name", "eln-msc service")
    for scope in ("record.read", "record.update", "user.read"):
        page.check(f"input[id^='scope-{scope}-']")
    page.click("button:has-text('Create token'), input[value='Create token']")
    page.wait_for_load_state()
    token_input = page.locator("input[value^='pat_'], input.form-control[readonly]").first
    token = token_input.input_value()
    assert token.startswith("pat_"), "no token shown after creating it"
    token_input.evaluate("e => { e.value = 'pat_***'; }")  # keep the token out of the screenshot
    screenshot(page, "admin-2-settings-access-tokens")
    return token


def test_admin_guide_service_account_and_token_on_a_fresh_stack(stack: Stack) -> None:
    """The guide's steps 2.1–2.3: the users, the sysadmin, the Admin role, the token; each as written."""
    sysadmin = create_user(stack, "qcadmin")
    done = kadi(stack, "users", "sysadmin", str(sysadmin.id), answer="y\n")
    assert "User updated successfully." in done.stdout, done.stdout + done.stderr
    service = create_user(stack, "qcsvc")
    for text in ("Sysadmin → User management → Manage users", "Settings → Access tokens",
                 "kadi users sysadmin", "record.read", "record.update", "user.read"):
        assert text in GUIDE, f"the guide no longer says {text!r}"
    with browser_page() as page:
        _give_admin_role(page, stack, sysadmin, service)
    with browser_page() as page:
        token = _create_token(page, stack, service)
    scientist_record = create_batch_record(stack.scientist(), record(), record_type="buffer_prep")
    api = KadiClient(stack.url, Token(token)).session
    me = api.request("GET", "api/users/me").json()
    assert me["identity"]["username"] == service.username
    # the Admin role lets the account read (and update) a scientist's private record
    assert api.request("GET", f"api/records/{scientist_record['id']}").status_code == 200
    # ... and the token cannot create templates: the guide imports the template with the admin's own token
    assert api.request("POST", "api/templates", json={}).status_code == 401


def test_admin_guide_template_import_in_the_web_interface(stack: Stack, tmp_path: Path) -> None:
    """Templates → Create new template → Record → Import from file → JSON: public; a scientist then finds it."""
    sysadmin = create_user(stack, "qcadmin")
    identifier = f"msc-batch-record-{uuid.uuid4().hex[:6]}"  # the shipped file, under an identifier of its own
    shipped = tmp_path / TEMPLATE.name
    shipped.write_text(TEMPLATE.read_text(encoding="utf-8").replace('"msc-batch-record"', f'"{identifier}"', 1))
    with browser_page() as page:
        _sign_in(page, stack, sysadmin)
        page.click("nav a:has-text('Templates')")
        page.click("button:has-text('Create new template')")
        page.click(".dropdown-menu.show a:has-text('Record')")
        page.wait_for_load_state()
        page.click("text=Import from file")
        with page.expect_file_chooser() as chooser:
            page.click(".dropdown-menu.show >> text=JSON")
        chooser.value.set_files(str(shipped))
        page.wait_for_function("id => document.querySelector('#identifier')?.value === id", arg=identifier)
        assert page.locator("#visibility, select[name=visibility]").first.input_value() == "public"
        screenshot(page, "admin-3-template-import")
        page.click("button:has-text('Create template'), input[value='Create template']")
        page.wait_for_load_state()
    found = stack.scientist().session.request("GET", "api/templates", params={"filter": identifier}).json()
    [mine] = [t for t in found["items"] if t["identifier"] == identifier]
    assert mine["visibility"] == "public"
    assert "Templates → Create new template → Record → Import from file → JSON" in GUIDE


def test_admin_guide_token_without_expiry_from_kadi_shell(stack: Stack, tmp_path: Path) -> None:
    """The guide's `kadi shell` block, run as written (its user and file swapped for the test's)."""
    block = re.search(r"kadi shell <<'EOF'\n(.*?)\n   EOF\n", GUIDE, re.S)
    assert block, "the guide has no kadi shell block"
    service = create_user(stack, "qcsvc")
    token_file = tmp_path / "eln-msc.token"
    code = "\n".join(line[3:] for line in block.group(1).splitlines())
    code = code.replace('"mscqc"', f'"{service.username}"').replace("/opt/kadi/config/eln-msc.token", str(token_file))
    done = kadi(stack, "shell", answer=code + "\n")
    assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    api = KadiClient(stack.url, Token.from_file(str(token_file))).session
    assert api.request("GET", "api/users/me").json()["identity"]["username"] == service.username
