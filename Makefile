# Two commands a new user needs (see README):  make demo   and   make test
# Each installs what it needs: a virtualenv in .venv with this package and its extras,
# and Graphviz's `dot` program (Debian package) when it is missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench bench-quick dot install notebooks

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

dot:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Installing Graphviz (dot) from Debian packages..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; }
	@dot -V

demo: $(STAMP) dot
	$(BIN)/autograd-lite demo

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

notebooks: $(STAMP) dot
	$(BIN)/python notebooks/build_notebooks.py

test: $(STAMP) dot lint
	$(BIN)/python -m pytest -n 2 -q
