"""``detect_anomaly()``: errors that name the line of *your* code where the failing node was made.

A domain error in the forward pass already happens on the line that computes it; one in the
backward pass (sqrt′(0), an overflowing gradient) happens far from there, in ``backward()``.
Inside ``with detect_anomaly():`` every operation records the file and line that created it
(the first frame outside autograd_lite and nn), and an error raised in the block, forward or
backward, says where its node was made, as PyTorch's ``torch.autograd.detect_anomaly``
does. Outside the block it costs nothing: the engine makes its nodes with ``object.__new__``
and the block swaps in a recording version for its duration.

The recording is process-wide while a block is open (like PyTorch's), and is dropped when
the last block closes: run the forward and the backward pass inside the block.
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from . import engine
from .engine import Value

__all__ = ["detect_anomaly", "where_created"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_NN = os.path.join(os.path.dirname(_HERE), "nn")
_lock = threading.Lock()
_open = 0
_sites: dict[int, tuple[Value, str, int]] = {}  # id(node) -> (node, file, line)
_plain_new = engine._new


def _ours(filename: str) -> bool:
    path = os.path.abspath(filename)
    return path.startswith(_HERE + os.sep) or path.startswith(_NN + os.sep)


def _user_frame(frame: FrameType | None) -> tuple[str, int] | None:
    """The first frame outside autograd_lite and nn: the user's line."""
    while frame is not None:
        if not _ours(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def _recording_new(cls: type) -> Any:
    node: Any = object.__new__(cls)
    site = _user_frame(sys._getframe(1))
    if site is not None:
        _sites[id(node)] = (node, *site)  # the node is kept, so its id is not reused
    return node


def where_created(node: Value) -> tuple[str, int] | None:
    """(file, line) where ``node`` was made inside an open ``detect_anomaly()`` block."""
    entry = _sites.get(id(node))
    return (entry[1], entry[2]) if entry is not None and entry[0] is node else None


def _described(site: tuple[str, int]) -> str:
    filename, line = site
    code = linecache.getline(filename, line).strip()
    return f"{filename}:{line}" + (f": {code}" if code else "")


def _site_note(node: Value | None) -> str:
    """The line the engine adds to an error inside a block: where the failing node was made
    (the one being made now, for a forward error: the user's current line)."""
    site = where_created(node) if node is not None else _user_frame(sys._getframe(1))
    if site is None:
        return ""
    if node is None:
        return f"\n  detect_anomaly: the operation is at {_described(site)}"
    return (f"\n  detect_anomaly: the node {engine.describe(node)} was created at "
            f"{_described(site)}")


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Record where each node is made; an error about a node names that line.

    ``with detect_anomaly(): loss = model(x); loss.backward()`` — a domain error, an
    overflow or a failed backward raised in the block ends its message with
    ``detect_anomaly: the node … was created at FILE:LINE: CODE`` (a forward error: ``the
    operation is at FILE:LINE``), wherever it is caught.
    """
    global _open
    with _lock:
        _open += 1
        engine._new = _recording_new
        engine.anomaly_site = _site_note
    try:
        yield
    finally:
        with _lock:
            _open -= 1
            if _open == 0:
                engine._new = _plain_new
                engine.anomaly_site = None
                _sites.clear()
