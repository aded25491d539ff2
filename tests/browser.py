"""Debian's Chromium driven by Selenium for the console's browser tests, and ``make console-screenshot``.

The browser is ``/usr/bin/chromium`` with ``/usr/bin/chromedriver`` (Debian's ``chromium`` and
``chromium-driver`` packages, always the same version), headless and with a profile of its own per
start, so no earlier run, update check or sync leaks into a test. Without them a browser test skips on
a developer machine and fails under ``CI=true`` (``.ci/run`` installs both).

``python -m tests.browser screenshot docs/console.png`` runs the console's screenshot test (the system
in-process, some orders, a held order and a parked message, signed in through the form) and writes the
overview's PNG there.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT_ENV = "DROPSHIP_CONSOLE_SCREENSHOT"
"""Where the screenshot test also writes the overview's PNG (``make console-screenshot``)."""
SCREENSHOT_TEST = "tests/integration/console/test_browser.py::test_the_overview_is_captured_as_a_screenshot"
ROOT = Path(__file__).resolve().parent.parent
WINDOW = (1280, 1000)
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # containers and CI run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # a container's small /dev/shm makes tabs crash
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--password-store=basic",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
)


def missing() -> str | None:
    """Why no browser test can run here, or ``None``."""
    absent = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    return f"{' and '.join(absent)} not installed (Debian's chromium and chromium-driver)" if absent else None


def require_chromium() -> None:
    """Skip (fail under ``CI=true``) when Debian's Chromium or its driver is not installed."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests need Chromium under CI: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile, quit (and its profile removed) afterwards."""
    profile = tempfile.mkdtemp(prefix="dropship-chromium-")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)


def screenshot(target: Path) -> int:
    """Run the screenshot test with ``target`` as where its PNG also goes; answers pytest's exit code."""
    os.environ[SCREENSHOT_ENV] = str(target.resolve())
    # CI=true: a missing browser is a failure here, never a silent skip that leaves the old picture.
    os.environ["CI"] = "true"
    os.chdir(ROOT)
    return int(pytest.main([SCREENSHOT_TEST, "-q", "-p", "no:cacheprovider"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.browser", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    shot = commands.add_parser("screenshot", help="write the console overview's PNG")
    shot.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    code = screenshot(args.path)
    if code == 0 and args.path.is_file():
        sys.stdout.write(f"{args.path}: {args.path.stat().st_size} bytes\n")
    raise SystemExit(code)


if __name__ == "__main__":
    main()
