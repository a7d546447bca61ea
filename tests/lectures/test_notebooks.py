"""The lecture notebooks (issue 6) run from a clean kernel, every cell and every assert.

Each notebook checks its lecture's numbers with ``assert``s against independent computations
(the slides, hand formulas, NumPy, SymPy, finite differences); executing it is the test.
A notebook's source is ``notebooks/src/<name>.py`` (jupytext's percent format, issue 11);
``notebooks/build_notebooks.py`` executes it and saves ``notebooks/<name>.ipynb`` with its
outputs. So the saved copies are checked too: executed, error-free, holding exactly their
source's cells, and paired so that an edit made in Jupyter is saved back to the source.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import jupytext
import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
SOURCES_DIR = NOTEBOOKS_DIR / "src"
LECTURE_NOTEBOOKS = [
    "01_chain_rule_kramer.ipynb",
    "02_hidden_layers_xor_kauchak.ipynb",
    "03_delta_recursion_matrix.ipynb",
    "04_activations_vanishing_gradients.ipynb",
    "05_losses_and_natural_pairs.ipynb",
    "06_forward_and_reverse.ipynb",
    "07_exercises.ipynb",
]
SOURCES = [Path(name).with_suffix(".py").name for name in LECTURE_NOTEBOOKS]
# Notebook idioms that pyproject.toml lets the sources use, because ruff lints a .py as one
# module: an import at the top of a cell, a `;` hiding a cell's value, a bare name showing it.
# Ruff linting a notebook applies these rules cell by cell, so each idiom is still refused
# anywhere Jupyter gives it no meaning (an import or a `;` in the middle of a cell).
CELL_RULES = ("E402", "E703", "B018")

Cells = list[tuple[str, str]]  # (cell type, source) per cell: what a notebook's author wrote


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", NOTEBOOKS_DIR / "build_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = load_builder()


def parsed_cells(nb: nbformat.NotebookNode) -> Cells:
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def cells_as_text(cells: Cells) -> Iterator[str]:
    for number, (kind, source) in enumerate(cells, start=1):
        yield f"=== cell {number} ({kind})\n"
        yield from (source + "\n").splitlines(keepends=True)


def assert_same_cells(notebook: Path, source: Path) -> None:
    """The saved notebook holds exactly the cells (type and text) of its source."""
    expected = parsed_cells(jupytext.read(source))
    saved = parsed_cells(nbformat.read(notebook, as_version=4))
    if saved != expected:
        diff = difflib.unified_diff(list(cells_as_text(expected)), list(cells_as_text(saved)),
                                    fromfile=str(source), tofile=str(notebook))
        raise AssertionError(
            f"{notebook.name} does not hold the cells of {source.name}. If the source is "
            f"right, build the notebook: python notebooks/build_notebooks.py "
            f"{notebook.name[:2]}; if the notebook was edited in Jupyter, save the edit back: "
            f"jupytext --sync notebooks/{notebook.name}\n" + "".join(diff))


def percent_round_trip(nb: nbformat.NotebookNode) -> Cells:
    """nb's cells after writing nb as a percent-format script and reading that back."""
    return parsed_cells(jupytext.reads(jupytext.writes(nb, fmt="py:percent"), fmt="py:percent"))


def ruff_cell_findings(nb: nbformat.NotebookNode) -> list[str]:
    """Ruff's findings for CELL_RULES in nb, linted as an .ipynb (so per cell)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", ",".join(CELL_RULES),
         "--output-format", "concise", "--stdin-filename", "notebook.ipynb", "-"],
        input=nbformat.writes(nb), capture_output=True, text=True, check=False)
    assert result.returncode in (0, 1), f"ruff failed:\n{result.stderr}"
    return [line for line in result.stdout.splitlines() if line.startswith("notebook.ipynb:")]


def test_the_seven_notebooks_and_their_sources_are_there():
    found = sorted(path.name for path in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert found == LECTURE_NOTEBOOKS, (
        "notebooks/ should hold exactly the seven notebooks (each one is executed "
        f"here): found {found}")
    sources = builder.sources()
    assert [path.name for path in sources] == SOURCES, f"notebooks/src holds {sources}"
    assert [builder.notebook_path(path) for path in sources] == [
        NOTEBOOKS_DIR / name for name in LECTURE_NOTEBOOKS]


def test_a_failing_assert_in_a_notebook_fails_the_run():
    # The runner must be able to fail: a notebook whose assert is false. It is the builder's,
    # so such a notebook is never saved either.
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 0.7275"),
                nbformat.v4.new_code_cell("assert round(x, 3) == 0.982, 'not the slide number'")]
    with pytest.raises(CellExecutionError, match="not the slide number"):
        builder.execute(nb)


@pytest.mark.slow  # 2-6 s per notebook
@pytest.mark.parametrize("name", SOURCES)
def test_notebook_runs_from_a_clean_kernel(name: str):
    nb = builder.read_source(SOURCES_DIR / name)
    try:
        builder.execute(nb)
    except CellExecutionError as error:
        pytest.fail(f"notebooks/src/{name} failed:\n{error}", pytrace=False)


@pytest.mark.parametrize("name", LECTURE_NOTEBOOKS)
def test_saved_notebook_shows_its_outputs(name: str):
    # Committed executed, top to bottom, without errors, so that it reads well on GitHub.
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code_cells]
    assert counts == list(range(1, len(code_cells) + 1)), (
        f"{name} is not saved executed in order (execution counts {counts}); "
        "run: python notebooks/build_notebooks.py")
    errors = [output.get("ename") for cell in code_cells for output in cell.outputs
              if output.output_type == "error"]
    assert not errors, f"{name} was saved with errors: {errors}"
    assert any(output.get("data", {}).get("image/png") for cell in code_cells
               for output in cell.outputs), f"{name} has no plot"


@pytest.mark.parametrize("name", LECTURE_NOTEBOOKS)
def test_saved_notebook_holds_the_cells_of_its_source(name: str):
    assert_same_cells(NOTEBOOKS_DIR / name, SOURCES_DIR / SOURCES[LECTURE_NOTEBOOKS.index(name)])


def _edit_code(text: str) -> str:
    return text.replace("w1=1.0, w2=0.5", "w1=1.0, w2=0.6", 1)


def _edit_markdown(text: str) -> str:
    return text.replace("# # 1 · The chain rule by hand", "# # 1 · The chain rule by heart", 1)


def _markdown_to_code(text: str) -> str:
    heading = "# ## Forward propagation"
    return text.replace(f"# %% [markdown]\n{heading}", f"# %%\n{heading}", 1)


def _split_a_cell(text: str) -> str:
    return text.replace("\n\nn = kramer_chain()", "\n\n# %%\nn = kramer_chain()", 1)


def _drop_the_last_cell(text: str) -> str:
    return text[:text.rindex("\n# %%")] + "\n"


@pytest.mark.parametrize("edit", [
    _edit_code, _edit_markdown, _markdown_to_code, _split_a_cell, _drop_the_last_cell])
def test_the_cell_check_fails_when_a_source_and_its_notebook_differ(
        tmp_path: Path, edit: Callable[[str], str]):
    notebook = NOTEBOOKS_DIR / LECTURE_NOTEBOOKS[0]
    text = (SOURCES_DIR / SOURCES[0]).read_text(encoding="utf-8")
    source = tmp_path / SOURCES[0]
    source.write_text(text, encoding="utf-8")
    assert_same_cells(notebook, source)  # the copy itself is in step: the edit is what fails
    edited = edit(text)
    assert edited != text, "the edit no longer applies to the source; pick another line"
    source.write_text(edited, encoding="utf-8")
    with pytest.raises(AssertionError, match="does not hold the cells of"):
        assert_same_cells(notebook, source)


@pytest.mark.parametrize("name", LECTURE_NOTEBOOKS)
def test_saved_notebook_round_trips_through_the_percent_format(name: str):
    # ipynb -> py:percent -> cells: nothing in a cell is lost or moved by writing it as a
    # source, so an edit made in Jupyter can always be saved back.
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    assert percent_round_trip(nb) == parsed_cells(nb)


def test_the_round_trip_check_sees_a_cell_the_percent_format_would_split():
    # A code cell holding a line "# %%" comes back as two cells: the check must say so.
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Setup"),
                nbformat.v4.new_code_cell("x = 1\n# %%\ny = 2")]
    assert percent_round_trip(nb) != parsed_cells(nb)


@pytest.mark.parametrize("name", LECTURE_NOTEBOOKS)
def test_jupytext_sync_saves_an_edit_made_in_jupyter_back_to_the_source(
        tmp_path: Path, name: str):
    # notebooks/ in miniature: the pairing (jupytext.toml), the notebook, its source.
    source_name = SOURCES[LECTURE_NOTEBOOKS.index(name)]
    shutil.copy(NOTEBOOKS_DIR / "jupytext.toml", tmp_path)
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / source_name
    original = (SOURCES_DIR / source_name).read_text(encoding="utf-8")
    source.write_text(original, encoding="utf-8")
    # What Jupyter saves: the notebook, newer than its source, with one line added to a cell.
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    last_code = max(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    nb.cells[last_code].source += "\nprint('edited in Jupyter')"
    notebook = tmp_path / name
    nbformat.write(nb, notebook)
    an_hour_ago = notebook.stat().st_mtime - 3600
    os.utime(source, (an_hour_ago, an_hour_ago))

    result = subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(notebook)],
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr

    synced = source.read_text(encoding="utf-8")
    assert parsed_cells(jupytext.read(source)) == parsed_cells(nb)
    # Only the edit: the committed source is exactly what jupytext writes for its notebook.
    diff = list(difflib.unified_diff(original.splitlines(), synced.splitlines(), lineterm="", n=0))
    changes = [line for line in diff[2:] if not line.startswith("@@")]  # [2:]: no file names
    assert changes == ["+print('edited in Jupyter')"], (
        f"saving from Jupyter rewrites more of notebooks/src/{source_name} than the edit: the "
        "file is not in the form jupytext writes. Build the notebook, then let jupytext "
        f"rewrite the source: jupytext --sync notebooks/{name}\n" + "\n".join(changes))


def test_every_notebook_starts_with_the_same_setup_cell():
    # One setup cell, copied into each source: they must not drift apart.
    setups = {name: next(source for kind, source in parsed_cells(jupytext.read(SOURCES_DIR / name))
                         if kind == "code") for name in SOURCES}
    assert setups[SOURCES[0]].startswith("%matplotlib inline\n")
    different = [name for name, setup in setups.items() if setup != setups[SOURCES[0]]]
    assert not different, f"the first code cell differs from {SOURCES[0]}'s in {different}"


@pytest.mark.parametrize("name", SOURCES)
def test_source_uses_notebook_idioms_only_where_a_cell_gives_them_a_meaning(name: str):
    findings = ruff_cell_findings(jupytext.read(SOURCES_DIR / name))
    assert not findings, f"notebooks/src/{name}, cell by cell:\n" + "\n".join(findings)


def test_the_per_cell_check_refuses_the_idioms_in_the_middle_of_a_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import math\nx = math.pi\nimport sys",   # an import after code
        "y = 1;\nx",                              # a `;` that hides nothing
        "x\ny = 2",                               # a bare name that shows nothing
        "import math\nx = math.e\nx;",            # all three where a cell allows them
    )]
    codes = [finding.split(": ", 1)[1].split()[0] for finding in ruff_cell_findings(nb)]
    assert codes == ["E402", "E703", "B018"]
