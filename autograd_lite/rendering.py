"""Rendering a drawing with Graphviz's ``dot``, bounded in time and memory.

``Drawing`` is a ``graphviz.Digraph`` whose every rendering path (``pipe``, ``render``,
Jupyter's inline display, ``copy()``) runs ``dot`` through ``run_layout``: the DOT text on
its stdin, a wall-time bound and a memory bound, and the process killed and waited for on
timeout, Ctrl-C or any error. A drawing that would lay out for minutes or grow to gigabytes
ends with ``RenderTimeoutError`` or ``RenderMemoryError``, each saying what to do; a missing
``dot`` with ``GraphvizNotFound``, saying how to install it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphviz
from graphviz.backend import dot_command, rendering

# Bounds on one run of `dot`. A readable drawing (the lectures', an nn model's) lays out in
# well under a second; 20 s is far past that yet short enough to wait for. dot needs about
# 40 MB for 250 nodes; with max_nodes=None and a million nodes it grew past 24 GB.
DEFAULT_RENDER_TIMEOUT = 20.0  # seconds of wall time
# RLIMIT_DATA (heap and private memory) rather than RLIMIT_AS: dot's font threads reserve
# address space they never use, which made an address-space cap fail small drawings.
DEFAULT_RENDER_MEMORY = 2 * 1024**3  # bytes of data (RLIMIT_DATA; Linux only)


INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH, so the graph cannot be rendered. "
    "Install Graphviz: `sudo apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), `conda install -c conda-forge graphviz`, or see "
    "https://graphviz.org/download/. The drawing itself is fine: its DOT text is in "
    "`.source` (paste it into any Graphviz viewer).")


class RenderError(RuntimeError):
    """Graphviz's ``dot`` was stopped: the drawing is too big to lay out within the bounds.

    ``nodes`` is how many value nodes the drawing has (None when unknown), ``limit`` the
    bound that was hit (seconds for ``RenderTimeoutError``, bytes for ``RenderMemoryError``).
    """

    def __init__(self, message: str, *, nodes: int | None = None,
                 limit: float | None = None) -> None:
        super().__init__(message)
        self.nodes = nodes
        self.limit = limit


class RenderTimeoutError(RenderError):
    """``dot`` ran longer than ``Drawing.render_timeout`` seconds and was killed."""


class RenderMemoryError(RenderError):
    """``dot`` ran out of the memory ``Drawing.render_memory`` allows it."""


class GraphvizNotFound(graphviz.ExecutableNotFound, RenderError):  # noqa: N818 - public name
    """Rendering needs Graphviz's ``dot``; this says how to install it.

    A subclass of ``graphviz.ExecutableNotFound``, so code catching that still works.
    """

    def __init__(self, detail: str = "") -> None:
        RuntimeError.__init__(self, INSTALL_HINT + (f" ({detail})" if detail else ""))
        self.nodes = None
        self.limit = None


_FEWER_NODES = ("Draw fewer nodes: draw(..., summarise=True, max_nodes=50) keeps the 50 "
                "nearest the output, or draw a smaller "
                "part of the graph")


def _size(nodes: int | None) -> str:
    return f" ({nodes} value nodes)" if nodes is not None else ""


def _gib(size: float) -> str:
    return f"{size / 1024**3:.3g} GiB" if size >= 1024**3 else f"{size / 1024**2:.3g} MiB"


def _memory_exhausted(returncode: int, stderr: bytes) -> bool:
    """Did dot die for want of memory? Under RLIMIT_DATA a failed allocation aborts it
    (GLib: 'Cannot allocate memory. Aborting.') or it reports 'out of memory'."""
    text = stderr.decode("utf-8", "replace").lower()
    return returncode < 0 or any(sign in text for sign in (
        "out of memory", "cannot allocate", "failed to allocate", "memory allocation"))


def _limit_memory(pid: int, limit: int) -> None:
    """Cap a child's data size (Linux prlimit). The DOT text is written to dot's stdin
    only after this, so dot cannot start laying out before its cap is in place."""
    try:
        import resource
    except ImportError:  # Windows: the time bound still holds
        return
    if not hasattr(resource, "prlimit"):  # macOS: no prlimit; the time bound still holds
        return
    try:
        _, hard = resource.prlimit(pid, resource.RLIMIT_DATA)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.prlimit(pid, resource.RLIMIT_DATA, (cap, hard))
    except (OSError, ValueError):  # dot already exited, or not ours to limit
        pass


def run_layout(command: list[str], source: bytes, *, timeout: float | None,
               memory: int | None, nodes: int | None = None, quiet: bool = False,
               cwd: str | os.PathLike[str] | None = None) -> bytes:
    """Run a Graphviz command on DOT ``source`` within the bounds; return its stdout.

    Past ``timeout`` seconds dot is killed (and reaped: no process is left behind) and
    ``RenderTimeoutError`` is raised; out of ``memory`` bytes, ``RenderMemoryError``. Other
    failures raise ``graphviz.CalledProcessError`` as the graphviz package does.
    """
    try:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, cwd=cwd)
    except FileNotFoundError as exc:
        raise GraphvizNotFound(str(exc)) from None
    try:
        if memory is not None:
            _limit_memory(process.pid, memory)
        try:
            stdout, stderr = process.communicate(source, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RenderTimeoutError(
                f"Graphviz's dot did not finish laying out the drawing{_size(nodes)} within "
                f"{timeout:g} s and was stopped. {_FEWER_NODES}; or allow more time with "
                f"draw(..., render_timeout=seconds).",
                nodes=nodes, limit=timeout) from None
    finally:
        # On a timeout, Ctrl-C or any error: never leave a dot running behind us.
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    if process.returncode != 0:
        if memory is not None and _memory_exhausted(process.returncode, stderr):
            raise RenderMemoryError(
                f"Graphviz's dot ran out of memory (its limit is {_gib(memory)}) laying out "
                f"the drawing{_size(nodes)}. {_FEWER_NODES}; or allow more with "
                f"draw(..., render_memory=bytes).", nodes=nodes, limit=memory)
        if stderr and not quiet:
            sys.stderr.write(stderr.decode("utf-8", "replace"))
        raise graphviz.CalledProcessError(process.returncode, command, output=stdout,
                                          stderr=stderr)
    if stderr and not quiet:  # dot's warnings, as the graphviz package shows them
        sys.stderr.write(stderr.decode("utf-8", "replace"))
    return stdout


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose every run of ``dot`` is bounded (and explains a missing one).

    ``render_timeout`` (seconds) and ``render_memory`` (bytes) bound each run of ``dot``:
    ``.pipe()``, ``.render()`` and Jupyter's inline display; None lifts a bound. ``nodes``
    is the number of value nodes drawn, for messages.
    """

    render_timeout: float | None = DEFAULT_RENDER_TIMEOUT
    render_memory: int | None = DEFAULT_RENDER_MEMORY
    nodes: int | None = None
    # The DOT id of each value node drawn (its SVG group's <title>); its operation is
    # id + "_op". The explorer finds the nodes in the SVG by these.
    node_ids: dict[Any, str] = {}  # noqa: RUF012 - set per drawing by draw()

    def _bounded(self, command: list[str], source: bytes, quiet: bool,
                 cwd: str | os.PathLike[str] | None = None) -> bytes:
        return run_layout(command, source, timeout=self.render_timeout,
                          memory=self.render_memory, nodes=self.nodes, quiet=quiet, cwd=cwd)

    # graphviz's Pipe and Render mixins run dot through these three hooks (the package
    # exposes them for mocking): every rendering path of a Digraph comes through here.
    def _pipe_lines(self, engine: str, format: str, input_lines: Iterator[str], *,
                    input_encoding: str, renderer: str | None = None,
                    formatter: str | None = None, neato_no_op: bool | int | None = None,
                    quiet: bool = False) -> bytes:
        command = dot_command.command(engine, format, renderer=renderer, formatter=formatter,
                                      neato_no_op=neato_no_op)
        return self._bounded(command, "".join(input_lines).encode(input_encoding), quiet)

    def _pipe_lines_string(self, engine: str, format: str, input_lines: Iterator[str], *,
                           encoding: str, renderer: str | None = None,
                           formatter: str | None = None,
                           neato_no_op: bool | int | None = None, quiet: bool = False) -> str:
        command = dot_command.command(engine, format, renderer=renderer, formatter=formatter,
                                      neato_no_op=neato_no_op)
        return self._bounded(command, "".join(input_lines).encode(encoding),
                             quiet).decode(encoding)

    def _render(self, engine: str, format: str, filepath: str | os.PathLike[str], *,
                renderer: str | None = None, formatter: str | None = None,
                neato_no_op: bool | int | None = None, quiet: bool = False,
                outfile: str | os.PathLike[str] | None = None,
                raise_if_result_exists: bool = False, overwrite_filepath: bool = False) -> str:
        # As graphviz.render(), but the saved source goes to dot's stdin (so its memory cap
        # is set before it reads anything) and the image to -o.
        source_path = Path(filepath)
        if outfile is None:
            target = Path(rendering.get_outfile(source_path, format=format,
                                                renderer=renderer, formatter=formatter))
        else:
            target = Path(outfile)
            if not overwrite_filepath and target.resolve() == source_path.resolve():
                raise ValueError(f"outfile {target.name!r} must be different from input file "
                                 f"{source_path.name!r} (pass overwrite_source=True to "
                                 "override)")
        if raise_if_result_exists and target.exists():
            raise graphviz.FileExistsError(f"output file exists: {os.fspath(target)!r}")
        command = dot_command.command(engine, format, renderer=renderer, formatter=formatter,
                                      neato_no_op=neato_no_op)
        command += ["-o", os.fspath(target.resolve())]
        cwd = source_path.parent if source_path.parent.parts else None
        self._bounded(command, source_path.read_bytes(), quiet, cwd=cwd)
        return os.fspath(target)

    def _repr_image_svg_xml(self) -> str:
        """Jupyter's inline SVG, scaled down to the cell's width (never wider, never
        scrolled or clipped in an HTML export; a small drawing keeps its size)."""
        svg = self.pipe(format="svg", encoding="utf-8")
        return fit_to_width(svg)

    def copy(self) -> Drawing:
        duplicate = super().copy()
        duplicate.render_timeout = self.render_timeout
        duplicate.render_memory = self.render_memory
        duplicate.nodes = self.nodes
        return duplicate


_SVG_ROOT = re.compile(r"<svg\b([^>]*)>")


def fit_to_width(svg: str) -> str:
    """The root ``<svg>`` made to shrink with its container: ``max-width: 100%`` and a height
    that follows (its viewBox keeps the aspect); the drawing is never drawn larger."""
    match = _SVG_ROOT.search(svg)
    if match is None:
        return svg
    attributes = match.group(1)
    if "style=" in attributes:
        return svg
    styled = f'<svg{attributes} style="max-width: 100%; height: auto;">'
    return svg[:match.start()] + styled + svg[match.end():]
