"""Kadi4Mat on-save cost (not a test): what the plugin adds to a save, and how soon the verdict is on screen.

Needs the test stack: `scripts/kadi-stack start` (this script restarts Kadi's web server and worker to
switch the plugin off and on, and leaves it on). Usage:

    .venv/bin/python bench/bench_kadi.py [--saves 150] [--rounds 2] [--delays 60] [--web 30]

Arms, alternating plugin-on and plugin-off rounds in the same run so drift hits both alike:
- API save latency: the wall time of `POST /api/records` with a full batch record in extras, from one
  client. "paced" saves wait for the previous save's background check to finish (a person saving: the
  latency the plugin adds to a save); "back to back" saves overlap with the checks of earlier saves,
  which share the machine's two cores with the web server (a load test, not a person).
- Web save latency: in headless Chromium (Debian's chromium), from the click on "Save changes and quit" in
  Kadi's record edit form to the record page's DOMContentLoaded (the page the scientist lands on; with the
  plugin on it carries the QC card and the live script).
- On screen (plugin on): from that click to the moment the record page shows the card of the new verdict,
  without a reload (the page script polls while the check runs).
- API delay: from the API save's response to the first moment the verdict is readable through the API.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.browser import browser_page  # noqa: E402
from tests.support.kadi import annotation, batch_extras, load_stack, new_identifier, web_login  # noqa: E402
from tests.support.records import record  # noqa: E402

PAUSE = 0.5


def restart(plugins: str) -> None:
    env = dict(os.environ, KADI_PLUGINS=plugins)
    subprocess.run([str(REPO / "scripts" / "kadi-stack"), "restart-kadi"], env=env, check=True, capture_output=True)


def saves(n: int, record_type: str, settle: bool | None) -> list[float]:
    """Latency of n saves; with `settle`, each save waits for the previous one's background check first
    (as when a person saves), else back to back (the background checks compete with the saves)."""
    stack = load_stack()
    assert stack is not None, "start the stack first: scripts/kadi-stack start"
    client = stack.scientist()
    extras = batch_extras(record())
    for _ in range(10):  # warm-up: connections, caches
        client.create_record({"identifier": new_identifier("w"), "title": "warm", "type": record_type,
                              "extras": extras})
    latencies = []
    for _ in range(n):
        body = {"identifier": new_identifier("b"), "title": "bench", "type": record_type, "extras": extras}
        start = time.perf_counter()
        created = client.create_record(body)
        latencies.append(time.perf_counter() - start)
        if settle is not None:
            wait_quiet(client, created["id"], settle)
    return latencies


def wait_quiet(client: Any, record_id: int, plugin_on: bool) -> None:
    """Until the record has its verdict (plugin on), then a fixed pause in both arms (the check's last
    requests finish during it)."""
    deadline = time.perf_counter() + 10
    while plugin_on and time.perf_counter() < deadline and not annotation(client, record_id):
        time.sleep(0.02)
    time.sleep(PAUSE)


def verdict_delays(n: int) -> list[float]:
    stack = load_stack()
    assert stack is not None
    client = stack.scientist()
    delays = []
    for _ in range(n):
        body = {"identifier": new_identifier("d"), "title": "delay", "type": "msc_batch",
                "extras": batch_extras(record())}
        created = client.create_record(body)
        saved = time.perf_counter()
        while not annotation(client, created["id"]):
            if time.perf_counter() - saved > 30:
                raise SystemExit(f"record {created['id']} got no verdict in 30 s")
            time.sleep(0.02)
        delays.append(time.perf_counter() - saved)
    return delays


def _edit_value(page: Any, key: str, value: str) -> None:
    suffix = page.evaluate("""(key) => {
        const input = [...document.querySelectorAll('input[class*="key-input-"]')].find(i => i.value === key);
        return [...input.classList].find(c => c.startsWith('key-input-')).slice('key-input-'.length);
    }""", key)
    page.fill(f".value-input-{suffix}", value)


def web_saves(page: Any, url: str, n: int, plugin_on: bool) -> tuple[list[float], list[float]]:
    """n saves through Kadi's edit form: (click → record page loaded, click → new verdict card on screen)."""
    stack = load_stack()
    assert stack is not None
    client = stack.scientist()
    created = client.create_record({"identifier": new_identifier("web"), "title": "web bench", "type": "msc_batch",
                                    "extras": batch_extras(record())})
    loaded, on_screen = [], []
    for i in range(n):
        if plugin_on:  # the previous check is done: each save starts from a quiet record, as a person's would
            wait_quiet(client, created["id"], True)
        page.goto(f"{url}/records/{created['id']}/edit")
        passage, verdict = ("7", "fail") if i % 2 == 0 else ("4", "pass")  # every save flips the verdict
        _edit_value(page, "production_passage", passage)
        start = time.perf_counter()
        with page.expect_navigation(wait_until="domcontentloaded"):
            page.click("input[name=submit_quit] >> nth=0")
        loaded.append(time.perf_counter() - start)
        if plugin_on:
            page.wait_for_selector(f".eln-msc-qc-live[data-state=current] .eln-msc-qc[data-verdict={verdict}]",
                                   timeout=60_000)
            on_screen.append(time.perf_counter() - start)
    return loaded, on_screen


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": 1000 * statistics.median(values), "p95_ms": 1000 * pct(values, 0.95), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--delays", type=int, default=60)
    parser.add_argument("--web", type=int, default=30, help="web-form saves per round and arm (0: none)")
    args = parser.parse_args()
    stack = load_stack()
    assert stack is not None, "start the stack first: scripts/kadi-stack start"
    arms: dict[str, list[float]] = {k: [] for k in ("on_paced", "off_paced", "on_back_to_back", "off_back_to_back",
                                                    "on_web", "off_web", "on_screen")}
    with browser_page(web_login(stack), stack.url) as page:
        for _ in range(args.rounds):
            restart("eln_msc")
            arms["on_paced"] += saves(args.saves, "msc_batch", True)
            arms["on_back_to_back"] += saves(args.saves, "msc_batch", None)
            if args.web:
                loaded, on_screen = web_saves(page, stack.url, args.web, True)
                arms["on_web"] += loaded
                arms["on_screen"] += on_screen
            restart("")
            arms["off_paced"] += saves(args.saves, "msc_batch", False)
            arms["off_back_to_back"] += saves(args.saves, "msc_batch", None)
            if args.web:
                arms["off_web"] += web_saves(page, stack.url, args.web, False)[0]
    restart("eln_msc")
    delays = verdict_delays(args.delays)
    ratio = lambda on, off: statistics.median(arms[on]) / statistics.median(arms[off])  # noqa: E731
    result: dict[str, Any] = {
        "save_latency": {arm: summary(v) for arm, v in arms.items() if v and arm != "on_screen"},
        "added_latency_ratio_paced": ratio("on_paced", "off_paced"),
        "added_latency_ratio_back_to_back": ratio("on_back_to_back", "off_back_to_back"),
        "verdict_delay_api_s": {"median": statistics.median(delays), "p95": pct(delays, 0.95), "max": max(delays),
                                "n": len(delays)},
    }
    if arms["on_screen"]:
        result["added_latency_ratio_web"] = ratio("on_web", "off_web")
        screen = arms["on_screen"]
        result["verdict_on_screen_s"] = {"median": statistics.median(screen), "p95": pct(screen, 0.95),
                                         "max": max(screen), "n": len(screen)}
    print(json.dumps(result, indent=2))
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_kadi.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
