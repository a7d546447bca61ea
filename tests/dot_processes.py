"""Finding the Graphviz processes a test started: is any left running after an error?"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

HAS_PROC = Path("/proc/self/environ").exists()  # Linux


def processes_with(marker: str) -> list[int]:
    """pids of running processes whose environment holds ``marker`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


def mark_children(monkeypatch: pytest.MonkeyPatch) -> str:
    """Put a marker in the environment, which every dot the test starts inherits."""
    name, value = "AUTOGRAD_LITE_TEST_DOT", uuid.uuid4().hex
    monkeypatch.setenv(name, value)
    return f"{name}={value}"
