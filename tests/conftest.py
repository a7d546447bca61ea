"""Shared test setup: Hypothesis profiles (the suite's settings, not only a local choice),
and the installed ``autograd-lite`` command."""

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# "ci" is the default everywhere (CI and `make test`): enough examples that the property
# suite checks well over a thousand generated expressions against SymPy.
settings.register_profile(
    "ci", max_examples=200, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def console_script() -> Path:
    """The ``autograd-lite`` that pip installed beside the interpreter running the tests.

    Not the one on PATH: a global install (or a pyenv shim) may be found first there, or
    nothing at all when the venv is not activated, and then the tests would run other code.
    """
    script = Path(sys.executable).parent / "autograd-lite"
    if not script.is_file():
        pytest.fail(f"the autograd-lite command is not installed beside {sys.executable}; "
                    "install the package into this environment (make install, or "
                    "pip install -e .)")
    return script


KATEX_VERSION = "0.16"
_REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def katex() -> Any:
    """A function latex -> None that typesets with KaTeX (a real LaTeX renderer, from the npm
    registry) and raises AssertionError with KaTeX's message if the LaTeX is not valid.

    KaTeX is installed on first use into ``.katex/`` of the repository (node and npm are on
    every machine the project runs on; without them the test fails, saying so).
    """
    import json
    import shutil
    import subprocess

    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("the LaTeX tests typeset with KaTeX: they need node and npm on PATH")
    prefix = _REPO / ".katex"
    module = prefix / "node_modules" / "katex"
    if not module.is_dir():
        subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                        "--silent", f"katex@{KATEX_VERSION}"], check=True, timeout=300,
                       capture_output=True)
    script = ("const katex = require(process.argv[1]); let failed = [];"
              "for (const tex of JSON.parse(require('fs').readFileSync(0, 'utf8'))) {"
              "  try { katex.renderToString(tex, {throwOnError: true, displayMode: true}); }"
              "  catch (e) { failed.push(tex + ' -> ' + e.message); } }"
              "process.stdout.write(JSON.stringify(failed));")

    def check(*texts: str) -> None:
        done = subprocess.run([node, "-e", script, str(module)], input=json.dumps(texts),
                              capture_output=True, text=True, timeout=120, check=True)
        failed = json.loads(done.stdout)
        assert not failed, "KaTeX cannot typeset:\n" + "\n".join(failed)

    return check


# ---------------------------------------------------------------- a real browser


@pytest.fixture(scope="session")
def browser() -> Any:
    """A headless Chromium driven by Selenium, started once per session (so once per xdist
    worker, and only by a worker that runs a test asking for it) and quit at the end.

    Its console and its network requests are logged: read them with ``browser_support``
    (``open_file``, ``network_requests``, ``network_errors``, ``console_errors``). Without
    Chromium or its driver the test fails, saying how to install them: a browser test is
    never skipped.
    """
    import time

    from browser_support import BROWSER_ARGUMENTS, CHROMIUM_INSTALL, find_chromium
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = find_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in BROWSER_ARGUMENTS:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # An explicit driver path: Selenium Manager, which may download a driver, never runs.
    started = time.perf_counter()
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    except WebDriverException as exc:
        pytest.fail(f"Chromium ({chromium}) did not start under {chromedriver}: {exc.msg}. "
                    f"Installing both from the same release may help: `{CHROMIUM_INSTALL}`",
                    pytrace=False)
    driver.start_seconds = time.perf_counter() - started  # ~0.5 s
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
