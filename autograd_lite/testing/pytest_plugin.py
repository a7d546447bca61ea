"""The pytest plugin (entry point ``autograd_lite``, in ``pyproject.toml``): the
``gradient_check`` fixture runs autograd_lite's checks of gradient code in a test, with the
Hypothesis settings the ini file gives.

    def test_my_softplus(gradient_check):
        gradient_check.gradient(softplus, dsoftplus, {"x": (-5, 5)})

    def test_my_backprop(gradient_check):
        gradient_check.backprop(backprop, sizes=[2, 3, 1])

Ini options (``pytest.ini``, ``[tool.pytest.ini_options]``, ``setup.cfg``, ``tox.ini``):

- ``gradient_check_max_examples``: points (or networks) each check draws; default: the
  loaded Hypothesis profile's ``max_examples``;
- ``gradient_check_profile``: a Hypothesis profile (registered, e.g. in ``conftest.py``)
  the checks take their settings from; default: the loaded one.

Loading the plugin imports pytest and autograd_lite's engine only: the checks (and
Hypothesis, SymPy, nn) are imported when a test asks for the fixture. Turn it off with
``-p no:autograd_lite``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

__all__ = ["GradientCheck", "gradient_check", "pytest_addoption"]

MAX_EXAMPLES_INI = "gradient_check_max_examples"
PROFILE_INI = "gradient_check_profile"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(MAX_EXAMPLES_INI, "autograd_lite's gradient_check fixture: points (or "
                  "networks) each check draws (default: the Hypothesis profile's)", default="")
    parser.addini(PROFILE_INI, "autograd_lite's gradient_check fixture: the Hypothesis "
                  "profile its checks take their settings from (default: the loaded one)",
                  default="")


class GradientCheck:
    """The checks of ``autograd_lite.testing`` with this test run's Hypothesis settings.

    ``.settings`` is the ``hypothesis.settings`` every check runs with (``max_examples``
    from the ini file, over the profile's).
    """

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    @property
    def max_examples(self) -> int:
        return int(self.settings.max_examples)

    def gradient(self, f: Callable[..., Any], grad_f: Callable[..., Any],
                 domain: Mapping[Any, Any], *, reference: str = "engine",
                 **options: Any) -> None:
        """``assert_gradient_matches(f, grad_f, domain, reference=...)``."""
        from . import assert_gradient_matches

        assert_gradient_matches(f, grad_f, domain, reference=reference,
                                settings=self.settings, **options)

    __call__ = gradient

    def custom_backward(self, custom: Any, f: Callable[..., Any], domain: Mapping[Any, Any],
                        **options: Any) -> None:
        """``assert_custom_backward_matches(custom, f, domain, ...)``."""
        from . import assert_custom_backward_matches

        assert_custom_backward_matches(custom, f, domain, settings=self.settings, **options)

    def backprop(self, backprop: Callable[..., Any], Ws: Any = None, x: Any = None,
                 t: Any = None, **options: Any) -> Any:
        """``check_backprop(backprop, Ws, x, t, ...)`` or ``check_backprop(backprop,
        sizes=[...])``; raises on a mismatch and returns the report."""
        from .backprop_check import check_backprop

        return check_backprop(backprop, Ws, x, t, settings=self.settings, **options)

    def __repr__(self) -> str:
        return f"<GradientCheck max_examples={self.max_examples}>"


def _settings(config: pytest.Config) -> Any:
    from hypothesis import settings

    from .gradient_code import check_settings

    profile = str(config.getini(PROFILE_INI) or "").strip()
    base = None
    if profile:
        try:
            base = settings.get_profile(profile)
        except Exception as error:  # InvalidArgument: no such profile
            raise pytest.UsageError(f"{PROFILE_INI} = {profile}: {error}") from None
    text = str(config.getini(MAX_EXAMPLES_INI) or "").strip()
    max_examples = None
    if text:
        try:
            max_examples = int(text)
        except ValueError:
            max_examples = 0
        if max_examples < 1:
            raise pytest.UsageError(f"{MAX_EXAMPLES_INI} must be a positive whole number, "
                                    f"not {text!r}")
    return check_settings(base, max_examples)


@pytest.fixture
def gradient_check(pytestconfig: pytest.Config) -> GradientCheck:
    """autograd_lite's checks of gradient code, with the ini file's Hypothesis settings:
    ``.gradient(f, grad_f, domain)``, ``.backprop(backprop, Ws, x, t)`` (or ``sizes=``),
    ``.custom_backward(custom, f, domain)``."""
    return GradientCheck(_settings(pytestconfig))
