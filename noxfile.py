"""The test suite on the oldest and the newest Python the project supports (`nox`).

`make test` runs the suite on the machine's default Python; these sessions run it again on
the ends of the supported range, each in a fresh venv with the package and its test extras.
A Python that is not installed is skipped, not an error, even where the CI variable is set
(nox's default there is to fail), and nox never downloads one: CI machines reach only the
package registries, and a run must test the interpreters the machine has.
"""

from __future__ import annotations

import nox

# requires-python in pyproject.toml is the oldest; 3.13 the newest release we test on.
PYTHONS = ["3.10", "3.13"]

nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"
nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """pytest on two cores, as `make test` runs it (ruff runs once, in `make test`)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-n", "2", "-q", *session.posargs)
