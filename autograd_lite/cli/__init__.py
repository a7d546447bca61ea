"""The command line `autograd-lite demo | trace | explain | draw` (or `python -m autograd_lite`).

    autograd-lite trace "x1 = w0*s0; s1 = sigmoid(x1); out = w1*s1" --at s0=2,w0=2,w1=1

Exit status: 0 on success; 2 on a usage or input error (a bad graph, a missing value, a
domain error such as log of 0, an overflow), with a one-line message on stderr and no
traceback; 1 on an internal error (a bug: please report it). Set the environment variable
``AUTOGRAD_LITE_TRACEBACK=1`` to see the traceback of an internal error.

The graph text is parsed by ``graph_language`` (Python's ``ast`` and a whitelist); nothing
the user writes is evaluated as Python.
"""

from __future__ import annotations

from ..lectures import KRAMER_FIRST_GUESS, KRAMER_GRAPH
from .app import build_parser, main

__all__ = ["KRAMER_GRAPH", "KRAMER_VALUES", "build_parser", "main"]

KRAMER_VALUES = dict(KRAMER_FIRST_GUESS)  # the slide's first guess, as the demo uses it
