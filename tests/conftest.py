"""Shared test setup: Hypothesis profiles (the suite's settings, not only a local choice)."""

import os

from hypothesis import HealthCheck, settings

# "ci" is the default everywhere (CI and `make test`): enough examples that the property
# suite checks well over a thousand generated expressions against SymPy.
settings.register_profile(
    "ci", max_examples=200, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
