"""Build the lecture notebooks from their sources in notebooks/src/, executed, with outputs.

Each notebook is written as a jupytext "percent" script, ``src/<name>.py`` (markdown cells
as ``# %% [markdown]`` comment blocks, code cells after ``# %%``): that file is what is
edited, linted and reviewed. This script builds ``<name>.ipynb`` from it:

    python notebooks/build_notebooks.py          # build and execute all five
    python notebooks/build_notebooks.py 03 04    # only the notebooks whose names start so

Each notebook is executed from a clean ``python3`` kernel with ``notebooks/`` as the working
directory (as ``tests/test_notebooks.py`` does) and saved *with* its outputs, so it reads well
on GitHub. ``jupytext.toml`` pairs each notebook with its source, so an edit saved in Jupyter
(with jupytext installed) or synced with ``jupytext --sync`` goes back to the source. The
test suite checks that every saved notebook holds its source's cells.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds for one cell; the slowest (training a net) takes a few


def sources() -> list[Path]:
    """Every notebook's source, in the order of the lectures (names start with a number)."""
    return sorted(SOURCES.glob("*.py"))


def notebook_path(source: Path) -> Path:
    """Where the notebook built from ``source`` is saved: ``notebooks/<name>.ipynb``."""
    return HERE / source.with_suffix(".ipynb").name


def read_source(source: Path) -> nbformat.NotebookNode:
    """The notebook that ``source`` holds, not executed yet."""
    nb = jupytext.read(source, fmt="py:percent")
    # Only the kernel: jupytext's metadata records how this file was read, which changes
    # nothing in the notebook (the pairing is in jupytext.toml).
    nb.metadata = nbformat.from_dict({
        "kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    for cell in nb.cells:
        cell.pop("id", None)  # ids change on every build; without them the diffs stay small
    nb.nbformat, nb.nbformat_minor = 4, 4  # 4.4: cell ids are optional
    return nb


def execute(nb: nbformat.NotebookNode) -> float:
    """Run every cell in a fresh kernel, cwd = notebooks/; return the seconds it took.

    Raises nbclient's CellExecutionError at the first failing cell (a false assert included).
    """
    start = time.perf_counter()
    # record_timing=False: no timestamps in the saved cells, so a rebuild diffs cleanly.
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name=KERNEL, record_timing=False,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
            for output in cell.outputs:
                plain = output.get("data", {}).get("text/plain")
                if isinstance(plain, str):  # "<Drawing at 0x7f...>": the address is noise
                    output.data["text/plain"] = re.sub(r" at 0x[0-9a-f]+>", ">", plain)
    return seconds


def coalesce_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks: where the kernel splits them is timing."""
    joined: list = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            joined.append(output)
    return joined


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="name prefixes, e.g. 03 04 (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="write without outputs")
    args = parser.parse_args(argv)
    chosen = [source for source in sources()
              if not args.only or any(source.stem.startswith(prefix) for prefix in args.only)]
    if not chosen:
        wanted = f" whose name starts with {' or '.join(args.only)}" if args.only else ""
        parser.error(f"no notebook source{wanted} in {SOURCES}")
    for source in chosen:
        nb = read_source(source)
        if not args.no_execute:
            seconds = execute(nb)
            print(f"{notebook_path(source).name}: executed in {seconds:.1f} s")
        nbformat.write(nb, notebook_path(source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
