"""The ``browser`` fixture (conftest.py) and its helpers (browser_support.py) work: a real
headless Chromium opens a local page, runs its JavaScript, and reports what it requested."""

import pytest
from browser_support import (
    console_errors,
    find_chromium,
    network_errors,
    network_requests,
    open_file,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>fixture check</title></head>
<body>
  <p id="text">before</p>
  <button id="change" onclick="document.getElementById('text').textContent = 'after'">
    change</button>
</body></html>
"""


def test_the_browser_runs_a_local_pages_javascript_and_lists_its_requests(browser, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    url = open_file(browser, page)
    assert url.startswith("file://") and browser.title == "fixture check"
    assert browser.find_element(By.ID, "text").text == "before"
    browser.find_element(By.ID, "change").click()
    assert browser.find_element(By.ID, "text").text == "after"
    assert network_requests(browser) == [url]
    assert network_requests(browser) == [url]  # asking again gives the same answer
    assert network_errors(browser) == []
    assert console_errors(browser) == []


def test_requests_and_errors_of_a_page_that_loads_what_is_missing(browser, tmp_path):
    # A page that asks for a script that is not there, throws, and fetches from the network
    # after loading (port 9, which Chromium refuses to connect to: nothing leaves the
    # machine, the request is still made and fails at once): all of it is reported, and
    # nothing of the previous test's page is.
    page = tmp_path / "broken.html"
    page.write_text('<!doctype html><script src="missing.js"></script>'
                    '<script>throw new Error("boom")</script>'
                    '<script>addEventListener("load", () => '
                    'fetch("http://127.0.0.1:9/data.json").catch(() => {}))</script>',
                    encoding="utf-8")
    url = open_file(browser, page)
    missing = (tmp_path / "missing.js").as_uri()
    WebDriverWait(browser, 10).until(lambda driver: len(network_errors(driver)) == 2)
    assert network_requests(browser) == [url, missing, "http://127.0.0.1:9/data.json"]
    assert network_errors(browser) == [f"{missing}: net::ERR_FILE_NOT_FOUND",
                                       "http://127.0.0.1:9/data.json: net::ERR_UNSAFE_PORT"]
    errors = console_errors(browser)
    assert any("Uncaught Error: boom" in message for message in errors), errors
    assert any("missing.js - Failed to load resource" in message for message in errors), errors


def test_without_chromium_the_browser_tests_fail_and_say_how_to_install_it(tmp_path):
    nowhere = str(tmp_path / "nothing")
    with pytest.raises(pytest.fail.Exception,
                       match=r"Chromium and chromedriver not found .* `sudo apt-get install "
                             r"-y chromium chromium-driver`"):
        find_chromium(nowhere, nowhere, path=str(tmp_path))
    browser = tmp_path / "chromium"  # a browser on PATH, but no driver
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    with pytest.raises(pytest.fail.Exception, match="; chromedriver not found"):
        find_chromium(nowhere, nowhere, path=str(tmp_path))
