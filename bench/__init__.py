"""The speed benchmark: autograd_lite against micrograd and a hand-written reference.

Run it with ``python -m bench`` (or ``--quick``); it writes ``bench/RESULTS.md``.
"""
