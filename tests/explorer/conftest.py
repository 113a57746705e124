"""The browser of the explorer tests: headless Chromium (Debian ``chromium`` + ``chromium-driver``,
installed by ``.ci/run``) driven by Selenium with the system driver; skipped without one unless
``S2T_REQUIRE_BROWSER=1`` (CI sets it), where a missing browser fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REQUIRED = os.environ.get("S2T_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing = "selenium is not installed"
    else:
        missing = "" if Path(CHROMIUM).exists() and Path(DRIVER).exists() else f"no {CHROMIUM} or {DRIVER}"
    if missing:
        if REQUIRED:
            pytest.fail(f"S2T_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(f"no browser: {missing}")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()
