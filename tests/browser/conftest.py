"""The browser tests' world: one suite on SQLite (as tests/e2e runs it), a contact seeded
through the HTTP API with something in every tab, and a headless Chromium driven by
Selenium through Debian's chromedriver.

Selenium, not Playwright: the tests run eventlet-monkey-patched (tests/conftest.py), and
Playwright's asyncio driver hangs under that; Selenium's plain HTTP to chromedriver works."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.browser import seed
from tests.e2e.conftest import ROOT, running_suite

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# axe-core, the accessibility checker the tests run in the page: fetched from npm into
# artifacts/ for the test run only (the page never ships it, nor loads anything from a CDN).
AXE_VERSION = "4.14.1"
AXE_DIR = ROOT / "artifacts" / "axe-core"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


def _missing(what: str) -> None:
    # `make test` installs Chromium (scripts/system-packages.sh): in CI a missing browser
    # is a broken install, not a reason to skip.
    message = f"{what} not found: apt-get install chromium chromium-driver (make system-packages)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def axe_script() -> str:
    """The text of axe.min.js at AXE_VERSION, installed by npm once."""
    installed = AXE_DIR / "node_modules" / "axe-core" / "package.json"
    if not installed.exists() or f'"version": "{AXE_VERSION}"' not in installed.read_text():
        npm = shutil.which("npm")
        if not npm:
            _missing("npm (for axe-core)")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(AXE_DIR),
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE_SCRIPT.read_text()


@pytest.fixture(scope="module")
def suite(amqp_uri, tmp_path_factory):
    yield from running_suite(amqp_uri, tmp_path_factory.mktemp("suite-browser"))


@pytest.fixture(scope="module")
def seeded(suite) -> seed.Seeded:
    return seed.seed(suite.http(), suite.url)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        _missing("chromium" if not chromium else "chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1360,1000",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.implicitly_wait(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
