# Two commands a new user needs (see README):  make demo   and   make test
# Each installs what it needs into the virtualenv .venv, and no more: the package alone for
# the demo; its test extras for test, lint and notebooks; micrograd for the benchmark. Also
# Graphviz's `dot` program (Debian package) when a target draws and it is missing, and for
# the tests Chromium and its WebDriver (Debian's chromium, chromium-driver) when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per set of packages, so that a target installs only what it runs.
BASE   := $(VENV)/.installed-base
TESTS  := $(VENV)/.installed-test
BENCH  := $(VENV)/.installed-bench
COMPILED_BENCH := $(VENV)/.installed-bench-compiled
# Recipes run the venv's programs first: `autograd-lite`, `python` and the tests' own
# subprocesses then never reach a global install of the same names.
IN_VENV := export PATH="$(abspath $(BIN)):$$PATH";

.PHONY: demo test lint bench bench-quick bench-compiled bench-explorer dot chromium install notebooks screenshots

$(VENV)/pyvenv.cfg:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(BASE): pyproject.toml $(VENV)/pyvenv.cfg
	$(BIN)/python -m pip install -q -e .
	touch $@

$(TESTS): $(BASE)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

$(BENCH): $(BASE)
	$(BIN)/python -m pip install -q -e '.[bench]'
	touch $@

# The compiled-graph benchmark also runs NumPy (the numpy backend and its batch reference).
$(COMPILED_BENCH): $(BENCH)
	$(BIN)/python -m pip install -q 'numpy>=1.26'
	touch $@

install: $(TESTS)

dot:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Installing Graphviz (dot) from Debian packages..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; }
	@dot -V

# The browser tests drive Debian's Chromium with Selenium (tests/conftest.py, `browser`).
chromium:
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || { \
	  echo "Installing Chromium and chromedriver from Debian packages..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@/usr/bin/chromium --version 2>/dev/null && /usr/bin/chromedriver --version

demo: $(BASE) dot
	$(IN_VENV) autograd-lite demo

lint: $(TESTS)
	$(IN_VENV) ruff check .
	$(IN_VENV) mypy

bench: $(BENCH)
	$(IN_VENV) python -m bench

bench-quick: $(BENCH)
	$(IN_VENV) python -m bench --quick

# Compiled graphs (issue 14) against the eager engines and hand-written Python and NumPy:
# writes bench/COMPILED.md. `make bench-compiled ARGS=--quick` for the short run.
bench-compiled: $(COMPILED_BENCH)
	$(IN_VENV) python -m bench.compiled $(ARGS)

# The explorer's pages: sizes, build time, first paint in headless Chromium (Selenium is in
# the test extra), printed beside their budgets.
bench-explorer: $(TESTS) dot chromium
	$(IN_VENV) python -m bench.explorer

notebooks: $(TESTS) dot
	$(IN_VENV) python notebooks/build_notebooks.py

test: $(TESTS) dot chromium lint
	$(IN_VENV) python -m pytest -n 2 -q

# The README's explorer screenshots, made by the browser test that drives the page.
screenshots: $(TESTS) dot chromium
	EXPLORER_SCREENSHOTS=docs/images $(IN_VENV) python -m pytest -q -p no:cacheprovider \
		tests/browser/test_explorer.py -k screenshots
