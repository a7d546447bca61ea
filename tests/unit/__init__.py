"""A package, so that pytest names these modules ``unit.test_*``: tests/unit/test_explorer.py
and tests/browser/test_explorer.py may then share a basename (pytest's default import mode
refuses two top-level modules of one name in a run). tests/ itself stays on sys.path (its
conftest.py), so ``browser_support`` and ``dot_processes`` import as before."""
