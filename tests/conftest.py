"""Shared test setup: Hypothesis profiles (the suite's settings, not only a local choice),
and the installed ``autograd-lite`` command."""

import os
import sys
from pathlib import Path

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
