"""Headless Chromium for the tests that look at HTML as a person would (the workbench, the reports):
Debian's chromium + chromium-driver driven by Selenium. The ``browser`` fixture in ``tests/conftest.py``
opens one per test; :func:`shot` saves a full-page screenshot to be looked at.

Skips, with the reason, only where chromium or chromedriver cannot be found.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROME_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
)


def chromium() -> tuple[str, str]:
    binary = next((p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None)
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if os.access(p, os.X_OK)), None
    )
    if binary is None or driver is None:
        missing = " and ".join(n for n, p in (("chromium", binary), ("chromedriver", driver)) if p is None)
        pytest.skip(f"browser tests need {missing} (Debian: apt-get install chromium chromium-driver); not found")
    return binary, driver


@contextmanager
def headless_chromium(profile: Path) -> Iterator[WebDriver]:
    """A fresh browser with its own profile folder; quit however the test ends."""
    binary, driver_path = chromium()
    options = Options()
    options.binary_location = binary
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: WebDriver, tmp_path: Path, name: str) -> Path:
    """A screenshot of the whole page, beyond the 1280 x 900 window (Chromium's DevTools capture)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": max(1280, size["width"]), "height": min(size["height"], 6000), "scale": 1}
    png = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    folder = tmp_path / "shots"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    path.write_bytes(base64.b64decode(png["data"]))
    return path
