"""Helpers for tests that drive a real browser (the ``browser`` fixture of ``conftest.py``).

    from browser_support import console_errors, network_requests, open_file

    def test_page(browser, tmp_path):
        open_file(browser, tmp_path / "page.html")
        browser.find_element("css selector", "button").click()
        assert network_requests(browser) == [(tmp_path / "page.html").as_uri()]
        assert console_errors(browser) == []

The fixture's Chromium keeps two logs (the ``goog:loggingPrefs`` capability): the console
("browser") and the DevTools events ("performance"), which list every request the page
makes. Reading a log from ChromeDriver empties it, so the entries read here are kept per
driver until the next ``open_file``: every helper answers for the page opened last, however
often it is called, and a test never sees an earlier test's page (the browser is shared by
the whole session).
"""

from __future__ import annotations

import json
import os
import shutil
import weakref
from pathlib import Path
from typing import Any

import pytest

# Debian's packages (make test installs them): the browser, and the WebDriver that drives it.
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_INSTALL = "sudo apt-get install -y chromium chromium-driver"
BROWSER_ARGUMENTS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000",
                     "--disable-dev-shm-usage")  # /dev/shm is small in containers


def find_chromium(chromium: str = CHROMIUM, chromedriver: str = CHROMEDRIVER,
                  path: str | None = None) -> tuple[str, str]:
    """(browser, driver): Debian's programs where they are, else the first ``chromium``
    (``chromium-browser``) and ``chromedriver`` on ``path`` (default PATH). When either is
    missing the calling test fails (never skips), saying how to install them."""
    def program(where: str, *names: str) -> str | None:
        if os.access(where, os.X_OK):
            return where
        return next((found for name in names if (found := shutil.which(name, path=path))),
                    None)

    browser = program(chromium, "chromium", "chromium-browser")
    driver = program(chromedriver, "chromedriver")
    if browser is None or driver is None:
        missing = " and ".join(name for name, found in [("Chromium", browser),
                                                        ("chromedriver", driver)]
                               if found is None)
        pytest.fail(f"the browser tests need Chromium and its driver; {missing} not found "
                    f"(looked at {chromium}, {chromedriver} and PATH). Install them with "
                    f"`{CHROMIUM_INSTALL}` (make test does it)", pytrace=False)
    return browser, driver

# What each driver logged since its last open_file: {"browser": [...], "performance": [...]}.
_seen: weakref.WeakKeyDictionary[Any, dict[str, list[dict[str, Any]]]] = (
    weakref.WeakKeyDictionary())


def _entries(driver: Any, log: str) -> list[dict[str, Any]]:
    kept = _seen.setdefault(driver, {"browser": [], "performance": []})
    kept[log].extend(driver.get_log(log))
    return kept[log]


def open_file(driver: Any, path: str | Path) -> str:
    """Load a local file in the browser (as a ``file://`` URL, which it returns) and forget
    what the logs held before, so that the helpers below report this page only.

    ``driver.get`` returns once the page's ``load`` event has fired, so its scripts have run.
    """
    url = Path(path).resolve().as_uri()
    driver.get("about:blank")  # leave the previous page: its late requests are logged now
    for log in ("browser", "performance"):
        driver.get_log(log)
    _seen[driver] = {"browser": [], "performance": []}
    driver.get(url)
    return url


def _events(driver: Any, method: str) -> list[dict[str, Any]]:
    events = []
    for entry in _entries(driver, "performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == method:
            events.append(message.get("params", {}))
    return events


def network_requests(driver: Any) -> list[str]:
    """Every URL the page opened last requested, in order, itself first (``file://…``).

    Taken from the DevTools ``Network.requestWillBeSent`` events of the performance log: a
    script, style sheet, font, image or fetch the page asks for is listed whether or not it
    loads. ``data:`` URLs are listed too (the browser reports them as requests); they reach
    no network. A redirect lists both URLs. A request a script makes after the ``load``
    event is listed once it is sent: wait for it (``WebDriverWait(browser, 10).until(lambda
    d: len(network_requests(d)) == 3)``).
    """
    return [event["request"]["url"] for event in _events(driver, "Network.requestWillBeSent")]


def network_errors(driver: Any) -> list[str]:
    """The requests of the page opened last that failed, as ``"URL: error"`` (for example
    ``"file:///…/missing.js: net::ERR_FILE_NOT_FOUND"``)."""
    urls = {event["requestId"]: event["request"]["url"]
            for event in _events(driver, "Network.requestWillBeSent")}
    return [f"{urls.get(event['requestId'], '?')}: {event.get('errorText', '')}"
            for event in _events(driver, "Network.loadingFailed")]


def console_messages(driver: Any) -> list[tuple[str, str]]:
    """(level, message) for each console entry of the page opened last: ``console.log`` is
    INFO, ``console.warn`` WARNING; ``console.error``, an uncaught exception and a resource
    that failed to load are SEVERE."""
    return [(entry["level"], entry["message"]) for entry in _entries(driver, "browser")]


def console_errors(driver: Any) -> list[str]:
    """The SEVERE console messages of the page opened last (errors, uncaught exceptions,
    failed loads): a page that works has none."""
    return [message for level, message in console_messages(driver) if level == "SEVERE"]
