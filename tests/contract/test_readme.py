"""Every code block of README.md runs on its own and does what the README says it does.

What is run, and how:

- A ``python`` block runs standalone: in a fresh interpreter (the test's Python), in an
  empty temporary directory, knowing nothing of the blocks before it.
  A ``python`` block whose first line is ``# FILE — run with: COMMAND`` is a file for the
  reader to save: it is written to FILE in that directory and COMMAND is run there
  (``python`` meaning the test's interpreter); it must exit 0 and, for pytest, pass as many
  tests as the file defines.
- A ``sh`` block: its ``autograd-lite ...`` lines and its shell variable assignments
  (``G="..."``) run in order with bash, in an empty temporary directory, with the
  ``autograd-lite`` installed beside ``sys.executable`` first on PATH; each must exit 0.
  Lines that set up a machine (``make ...``, ``.venv/bin/pip install ...``,
  ``.venv/bin/jupyter ...``) are not run. Any other line fails the test, so that no command
  goes unrun unnoticed.
- A plain ```` ``` ```` block right after a ``python`` or ``sh`` block (nothing but blank lines
  between) is that block's output: what the python block prints, or what the sh block's
  last command prints, must equal it line for line (trailing whitespace ignored). A plain
  block after prose illustrates something and is not run.

Claims. A trailing comment on a line of a ``python`` block is a claim when its *claim
text* starts like a value: a digit (``0.982``, ``-1e-3``), ``True``/``False``, ``[`` or
``{``. The claim text is the whole comment or, when that does not start like a value, the
part after its last `` = `` (an equals sign between spaces, as in a formula:
``# dout/dw1 = w2·s2(1−s2)·s1 = 0.09734`` claims 0.09734; ``create_graph=True`` is code). The
claimed value is the longest start of the claim text that is a number, True/False, or a
list, tuple or dict of them; after it may come prose set off by ``,`` ``;`` ``:`` `` (`` or
`` —`` (``# 0.3638, as on the slide``).

A claim is about its line's statement: ``name = ...  # claim`` about ``name`` after the
line, ``print(x)  # claim`` about ``x``, a bare expression about its value. A ``Value``
stands for its ``.data``. A number holds when the actual one rounds to it at the digits it
shows (``0.982``: three decimals; ``48.0``: one); lists and tuples hold element by element
(same length), dicts key by key (same keys); True and False exactly.

A comment that starts like a value but is none, a claim on a line that does not end a
top-level statement, or a claim in a file block fails the test: every claim is checked.
So a comment that is not a claim must not start like one (``# s0 is 2``, not ``# s0 = 2``),
and a time is never a claim: the README says "the time taken", not a number of seconds.
"""

from __future__ import annotations

import ast
import io
import json
import numbers
import os
import re
import shlex
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"  # from tests/contract/
TIMEOUT = 300  # seconds for one block; the slowest (the Hypothesis file) takes ~10 s

# ---------------------------------------------------------------- reading the README


@dataclass(frozen=True)
class Block:
    """A fenced code block, with the plain block that shows its output, if one follows."""

    language: str  # "python" or "sh"
    code: str
    line: int  # README line of the block's first line of code
    output: str | None = None

    @property
    def name(self) -> str:
        return f"{self.language}-line-{self.line}"


def read_blocks(markdown: str) -> list[Block]:
    """The python and sh blocks of a markdown text, each with its output block attached."""
    blocks: list[Block] = []
    lines = markdown.split("\n")
    index = 0
    previous_end = -2  # the line index of the last code block's closing fence
    while index < len(lines):
        fence = re.match(r"^```(\S*)\s*$", lines[index])
        if not fence:
            index += 1
            continue
        language, start = fence.group(1), index + 1
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            raise ValueError(f"README line {index + 1}: a code block that is never closed")
        code = "\n".join(lines[start:end]) + "\n"
        if language in ("python", "sh"):
            blocks.append(Block(language, code, start + 1))
            previous_end = end
        elif language == "":
            between = lines[previous_end + 1:index]
            if blocks and previous_end >= 0 and all(not line.strip() for line in between):
                last = blocks[-1]
                blocks[-1] = Block(last.language, last.code, last.line, code)
        else:
            raise ValueError(f"README line {index + 1}: a ```{language} block; this test "
                             "knows python, sh and plain (output) blocks")
        index = end + 1
    return blocks


def same_output(shown: str, printed: str) -> bool:
    """Equal line for line, ignoring trailing whitespace and blank lines at the end."""

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.rstrip().split("\n")]

    return lines(shown) == lines(printed)


# ---------------------------------------------------------------- claims


class ClaimError(ValueError):
    """A comment that looks like a claim but cannot be checked as one."""


@dataclass(frozen=True)
class Claim:
    line: int  # 1-based line in the block
    text: str  # the claimed value as written, e.g. "0.982"
    expected: Any  # Decimal, bool, or a list/dict of them


_STARTS_LIKE_A_VALUE = re.compile(r"-?\.?\d|True\b|False\b|[\[{]")
_PROSE_AFTER_A_VALUE = re.compile(r"[,;:]|\s+\(|\s+—")


def claim_in(comment: str) -> tuple[str, Any] | None:
    """The value a comment claims, as written and as an expected value; None for prose."""
    text = comment.lstrip("#").strip()
    if not _STARTS_LIKE_A_VALUE.match(text):
        if " = " not in text:
            return None
        text = text.rsplit(" = ", 1)[1].strip()
        if not _STARTS_LIKE_A_VALUE.match(text):
            return None
    ends = {len(text)} | {m.start() for m in _PROSE_AFTER_A_VALUE.finditer(text)}
    for end in sorted(ends, reverse=True):
        piece = text[:end].strip()
        try:
            return piece, _expected(ast.parse(piece, mode="eval").body, piece)
        except (SyntaxError, ClaimError):
            continue
    raise ClaimError(f"the comment {comment!r} starts like a claim, but {text!r} does not "
                     "start with a number, True/False, list or dict: reword it")


def _expected(node: ast.AST, source: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    is_number = isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
    is_signed = (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
                 and isinstance(node.operand, ast.Constant)
                 and isinstance(node.operand.value, (int, float))
                 and not isinstance(node.operand.value, bool))
    if is_number or is_signed:
        return Decimal((ast.get_source_segment(source, node) or "").replace(" ", ""))
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_expected(element, source) for element in node.elts]
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value: _expected(v, source)
                for k, v in zip(node.keys, node.values)}
    raise ClaimError(f"{ast.get_source_segment(source, node)!r} is not a number, "
                     "True/False, list or dict")


def claims_in(code: str) -> list[Claim]:
    """Every claim made by a trailing comment in a block of Python."""
    claims = []
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type != tokenize.COMMENT:
            continue
        line, column = token.start
        if not token.line[:column].strip():
            continue  # a comment on a line of its own explains; it claims nothing
        found = claim_in(token.string)
        if found:
            claims.append(Claim(line, *found))
    return claims


def mismatches(expected: Any, actual: Any, where: str = "") -> list[str]:
    """How ``actual`` (a number, bool, list or dict) differs from a claim; [] if it holds."""
    shown = where or "the value"
    if isinstance(expected, bool):
        return [] if actual is expected else [f"{shown} is {actual!r}, not {expected}"]
    if isinstance(expected, Decimal):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return [f"{shown} is {actual!r}, not a number"]
        digits = Decimal(1).scaleb(expected.as_tuple().exponent)
        try:
            rounded = Decimal(actual).quantize(digits)
        except InvalidOperation:  # far too many digits: nowhere near the claim
            return [f"{shown} is {actual!r}, not {expected}"]
        if rounded != expected:
            return [f"{shown} is {actual!r}, which rounds to {rounded}, not {expected}"]
        return []
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{shown} is {actual!r}, not a list"]
        if len(actual) != len(expected):
            return [f"{shown} has {len(actual)} elements, not {len(expected)}"]
        return [problem for i, (e, a) in enumerate(zip(expected, actual))
                for problem in mismatches(e, a, f"{shown}[{i}]")]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{shown} is {actual!r}, not a dict"]
        if set(actual) != set(expected):
            return [f"{shown} has the keys {sorted(actual)}, not {sorted(expected)}"]
        return [problem for key in expected
                for problem in mismatches(expected[key], actual[key], f"{shown}[{key!r}]")]
    raise TypeError(f"not a claim: {expected!r}")  # pragma: no cover - claim_in makes these


def instrument(code: str, claim_lines: set[int]) -> ast.Module:
    """The block's syntax tree, with each claimed value stored in ``__claims__[line]``."""
    module = ast.parse(code)
    ends = {statement.end_lineno: statement for statement in module.body}
    for line in claim_lines:
        if line not in ends:
            raise ClaimError(f"block line {line}: a claim must end a top-level statement")
    body: list[ast.stmt] = []
    for statement in module.body:
        line = statement.end_lineno
        body += [statement] if line not in claim_lines else [
            ast.copy_location(added, statement) for added in _storing(statement, line)]
    module.body = body
    return ast.fix_missing_locations(module)


def _storing(statement: ast.stmt, line: int) -> list[ast.stmt]:
    """The statement, rewritten to also store the value its line claims."""
    claims = ast.Name("__claims__", ast.Load())
    store = ast.Subscript(claims, ast.Constant(line), ast.Store())
    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            raise ClaimError(f"block line {line}: a claim on an assignment needs one name on "
                             "the left")
        return [statement, ast.Assign([store], ast.Name(targets[0].id, ast.Load()))]
    if not isinstance(statement, ast.Expr):
        raise ClaimError(f"block line {line}: a claim must be on an assignment, a print(x) "
                         "or an expression")
    value = statement.value
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id == "print"):
        return [ast.Assign([store], value)]
    if len(value.args) != 1 or value.keywords:
        raise ClaimError(f"block line {line}: a claim on print() needs print(x)")
    # x is evaluated once, stored, then printed: the output is what the user would see.
    load = ast.Subscript(claims, ast.Constant(line), ast.Load())
    return [ast.Assign([store], value.args[0]),
            ast.Expr(ast.Call(ast.Name("print", ast.Load()), [load], []))]


# ---------------------------------------------------------------- running blocks


def _plain(value: Any) -> Any:
    """A claimed value as JSON: a Value is its .data; numbers, lists and dicts as they are."""
    from autograd_lite import Value

    if isinstance(value, Value):
        return value.data
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return f"<a {type(value).__name__}: {str(value)[:200]}>"


def _run_block_here(code_path: str, first_line: str, claim_lines: str, result_path: str) -> None:
    """In the subprocess: run one block, then write its claimed values as JSON."""
    code = Path(code_path).read_text(encoding="utf-8")
    lines = {int(n) for n in claim_lines.split(",") if n}
    module = instrument(code, lines)
    ast.increment_lineno(module, int(first_line) - 1)  # tracebacks name README lines
    namespace: dict[str, Any] = {"__name__": "__main__", "__claims__": {}}
    exec(compile(module, str(README), "exec"), namespace)
    claimed = {line: _plain(value) for line, value in namespace["__claims__"].items()}
    Path(result_path).write_text(json.dumps(claimed), encoding="utf-8")


@dataclass
class Run:
    stdout: str
    claimed: dict[int, Any]


def run_python(block: Block, where: Path) -> Run:
    """Run a python block in a fresh interpreter in ``where`` and collect its claimed values."""
    claims = claims_in(block.code)
    instrument(block.code, {c.line for c in claims})  # a misplaced claim fails here, clearly
    code_path, result_path = where / ".block.py", where / ".claimed.json"
    code_path.write_text(block.code, encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg"}  # plots render to nothing, no window
    done = subprocess.run(
        [sys.executable, __file__, str(code_path), str(block.line),
         ",".join(str(c.line) for c in claims), str(result_path)],
        cwd=where, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"README block at line {block.line} failed:\n{done.stderr}"
    claimed = json.loads(result_path.read_text(encoding="utf-8"))
    return Run(done.stdout, {int(line): value for line, value in claimed.items()})


def claim_failures(block: Block, run: Run) -> list[str]:
    failures = []
    for claim in claims_in(block.code):
        problems = mismatches(claim.expected, run.claimed[claim.line])
        failures += [f"README line {block.line + claim.line - 1} claims {claim.text}: {p}"
                     for p in problems]
    return failures


_FILE_BLOCK = re.compile(r"# (\S+) — run with: (.+)")


def run_file_block(block: Block, where: Path) -> subprocess.CompletedProcess:
    """Save a ``# FILE — run with: COMMAND`` block as FILE and run COMMAND beside it."""
    first = _FILE_BLOCK.fullmatch(block.code.split("\n", 1)[0])
    assert first, block.code.split("\n", 1)[0]
    (where / first.group(1)).write_text(block.code, encoding="utf-8")
    command = shlex.split(first.group(2))
    command = [sys.executable if word == "python" else word for word in command]
    return subprocess.run(command, cwd=where, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)


# Lines of sh blocks that set up a machine; the suite does not run them.
_SETUP_LINE = re.compile(r"(make|\.venv/bin/pip install|\.venv/bin/jupyter|source) ")
_RUN_LINE = re.compile(r"autograd-lite\s|[A-Za-z_][A-Za-z0-9_]*=")


def sh_commands(block: Block) -> list[str]:
    """The lines of an sh block to run; every other line must be a setup line."""
    commands = []
    for number, line in enumerate(block.code.splitlines(), start=block.line):
        if not line.strip() or line.lstrip().startswith("#") or _SETUP_LINE.match(line):
            continue
        assert _RUN_LINE.match(line), (f"README line {number}: {line!r} is neither an "
                                       "autograd-lite command nor a setup line: teach "
                                       "tests/contract/test_readme.py whether to run it")
        commands.append(line)
    return commands


def run_sh(commands: list[str], where: Path) -> tuple[subprocess.CompletedProcess, str]:
    """Run the commands with bash; return the run and the last command's stdout."""
    script = ["set -euo pipefail"]
    for index, command in enumerate(commands):
        # On lines of their own, so that the command's trailing comment stays a comment.
        script += ["{", command, f"}} > .stdout-{index}"]
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=where, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False, env={**os.environ,
                                                                       "PATH": path})
    last = where / f".stdout-{len(commands) - 1}"
    return done, last.read_text(encoding="utf-8") if last.exists() else ""


# ---------------------------------------------------------------- the README's blocks

BLOCKS = read_blocks(README.read_text(encoding="utf-8"))
PYTHON_BLOCKS = [b for b in BLOCKS if b.language == "python" and not _FILE_BLOCK.fullmatch(
    b.code.split("\n", 1)[0])]
FILE_BLOCKS = [b for b in BLOCKS if b.language == "python" and b not in PYTHON_BLOCKS]
SH_BLOCKS = [b for b in BLOCKS if b.language == "sh" and sh_commands(b)]


def test_the_readme_has_the_blocks_this_test_runs():
    # A parser that found nothing would make every test below pass vacuously.
    assert len(PYTHON_BLOCKS) >= 8 and FILE_BLOCKS and len(SH_BLOCKS) >= 2
    assert sum(len(claims_in(b.code)) for b in PYTHON_BLOCKS) >= 15
    assert sum(b.output is not None for b in BLOCKS) >= 2


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.name)
def test_python_block_runs_standalone_and_its_claims_hold(block, tmp_path):
    run = run_python(block, tmp_path)
    assert claim_failures(block, run) == []
    if block.output is not None:
        assert same_output(block.output, run.stdout), run.stdout


@pytest.mark.slow  # ~3 s: runs pytest and Hypothesis
@pytest.mark.parametrize("block", FILE_BLOCKS, ids=lambda b: b.name)
def test_file_block_runs_with_its_own_command(block, tmp_path):
    assert claims_in(block.code) == [], "a file block's comments are not checked as claims"
    done = run_file_block(block, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    if "pytest" in block.code.split("\n", 1)[0]:
        defined = len(re.findall(r"^def test_", block.code, re.MULTILINE))
        assert re.search(rf"\b{defined} passed\b", done.stdout), done.stdout


@pytest.mark.parametrize("block", SH_BLOCKS, ids=lambda b: b.name)
def test_sh_block_commands_succeed_and_print_what_is_shown(block, tmp_path):
    done, last_stdout = run_sh(sh_commands(block), tmp_path)
    assert done.returncode == 0, done.stderr
    if block.output is not None:
        assert same_output(block.output, last_stdout), last_stdout


# ---------------------------------------------------------------- the checker itself


def test_a_wrong_claim_fails(tmp_path):
    block = Block("python", "x = 0.5 + 0.25  # 0.76\nprint(x * 2)  # 1.5\n", 1)
    failures = claim_failures(block, run_python(block, tmp_path))
    assert failures == ["README line 1 claims 0.76: the value is 0.75, which rounds to 0.75, "
                        "not 0.76"]


def test_claims_are_read_as_the_docstring_says():
    code = ("from autograd_lite import Value\n"
            "a = Value(0.98201)          # 0.982\n"
            "print(a.data)               # d a/d a = 1 · a = 0.982, as computed\n"
            "b = [1.25, 2.0]             # [1.2, 2.0]: rounded\n"
            "c = {'w': -0.0011769}       # {'w': -0.001177} (rounded)\n"
            "d = 3 > 2                   # True, or else\n"
            "e = 48.0                    # 48.0 — exact\n"
            "f = 1                       # C = ½(target − out)², prose\n"
            "g = 2                       # s0 is 2, prose\n"
            "h = 3                       # via create_graph=True\n")
    claims = {c.line: c.text for c in claims_in(code)}
    assert claims == {2: "0.982", 3: "0.982", 4: "[1.2, 2.0]", 5: "{'w': -0.001177}",
                      6: "True", 7: "48.0"}


def test_the_digits_shown_decide_the_tolerance():
    assert mismatches(Decimal("0.982"), 0.98249) == []
    assert mismatches(Decimal("0.982"), 0.9825001) != []
    assert mismatches(Decimal("1.0"), 1.04) == []
    assert mismatches(Decimal("1.0"), 0.94) != []
    assert mismatches(Decimal("4"), 4.4) == []
    assert mismatches(Decimal("0.000321"), 0.00032149) == []
    assert mismatches(Decimal("0.000321"), 0.0003216) != []


def test_lists_dicts_and_booleans_are_compared_element_by_element():
    assert mismatches([Decimal("0.5"), Decimal("2")], [0.5, 2.0]) == []
    assert mismatches([Decimal("0.5")], [0.5, 2.0]) == ["the value has 2 elements, not 1"]
    assert mismatches({"a": Decimal("1.0")}, {"a": 1.3}) == [
        "the value['a'] is 1.3, which rounds to 1.3, not 1.0"]
    assert mismatches({"a": Decimal("1.0")}, {"b": 1.0}) != []
    assert mismatches(True, True) == [] and mismatches(True, 1) != []
    assert mismatches(Decimal("1"), "<a History: 300 epochs>") != []


@pytest.mark.parametrize("comment", ["# 300 epochs, 300 steps in 0.1 s", "# [y·e^xy, x·e^xy]",
                                     "# dz/dw = 0.5 · s2"])
def test_a_comment_that_starts_like_a_claim_but_is_none_is_an_error(comment):
    with pytest.raises(ClaimError, match="starts like a claim"):
        claim_in(comment)


def test_a_claim_on_a_line_that_ends_no_statement_is_an_error():
    code = "x = max(1,      # 1\n        2)\n"
    with pytest.raises(ClaimError, match="must end a top-level statement"):
        instrument(code, {c.line for c in claims_in(code)})


def test_output_blocks_belong_to_the_block_right_before_them():
    markdown = ("```python\nprint(1)\n```\n\n```\n1\n```\n\nprose\n\n"
                "```sh\nautograd-lite demo\n```\nprose\n\n```\nnot output\n```\n")
    python, sh = read_blocks(markdown)
    assert (python.line, python.output, sh.output) == (2, "1\n", None)
    assert same_output("1  \n\n", "1\n") and not same_output("1\n", "2\n")


def test_an_sh_line_the_test_does_not_know_fails():
    block = Block("sh", "make demo\nautograd-lite demo\npython3 other.py\n", 10)
    with pytest.raises(AssertionError, match="README line 12: 'python3 other.py'"):
        sh_commands(block)


if __name__ == "__main__":
    _run_block_here(*sys.argv[1:])
