"""explore() without a browser: the page's size, that it reaches no network, its embedded
data (against trace), argument checks, and labels that look like HTML.

The page in a real browser: tests/browser/test_explorer.py and test_explorer_pages.py.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from autograd_lite import Value, explore, trace
from autograd_lite.explorer import Explorer
from autograd_lite.lectures import kramer_chain

KRAMER_BUDGET = 300 * 1024  # bytes
# The only URLs a page may hold: XML namespace names, which are identifiers, never fetched.
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
# An HTML tokenizer ends a <script> element at "</script" followed by whitespace, / or >,
# in any case (outside the "escaped" states that "<!--" enters).
_DATA = re.compile(r'<script type="application/json" id="explorer-data">(.*?)</script[\s/>]',
                   re.S | re.I)


def page_data(page: Explorer) -> tuple[str, dict]:
    """The text of the page's data element as an HTML parser cuts it out, and its JSON."""
    found = _DATA.search(page.html)
    assert found is not None, "no <script id=explorer-data> element"
    return found.group(1), json.loads(found.group(1))


@pytest.fixture(scope="module")
def kramer() -> Explorer:
    return explore(kramer_chain()["out"])


def test_the_kramer_page_is_within_300_kb(kramer):
    page = kramer
    size = len(page.html.encode("utf-8"))
    assert size <= KRAMER_BUDGET, f"{size / 1024:.0f} KB"


def test_the_kramer_page_names_no_url_but_the_svg_namespaces(kramer):
    page = kramer
    urls = set(re.findall(r"""https?://[^\s"'<>)]*""", page.html, re.I))
    assert urls <= NAMESPACES, urls - NAMESPACES
    # and each one only where a namespace is declared or named for createElementNS
    for url in urls:
        for hit in re.finditer(re.escape(url), page.html):
            before = page.html[max(0, hit.start() - 40):hit.start()]
            assert re.search(r"""(xmlns(:\w+)?=|SVG_NS = )["']$""", before), before


def test_the_page_data_parses_and_its_steps_are_traces_order(kramer):
    page = kramer
    _, data = page_data(page)
    recorded = trace(kramer_chain()["out"])
    names = [node["name"] for node in data["nodes"]]
    assert [names[step["node"]] for step in data["steps"]] == [s.name for s in recorded]
    assert [names[step["node"]] for step in data["steps"]] == ["out", "s2", "x2", "s1", "x1"]
    for shown, step in zip(data["steps"], recorded):
        assert [(names[c["parent"]], c["position"]) for c in shown["contributions"]] == [
            (c.name, c.position) for c in step.contributions]
    assert data == json.loads(json.dumps(page.data))  # the page holds what .data says
    assert names[data["output"]] == "out" and len(data["steps"]) == page.steps == 5


def test_save_writes_an_html_file_and_refuses_another_suffix(kramer, tmp_path):
    page = kramer
    written = page.save(tmp_path / "kramer.html")
    assert written == tmp_path / "kramer.html"
    assert written.read_text(encoding="utf-8") == page.html
    for name in ("kramer.txt", "kramer.svg", "kramer", "kramer.html.bak"):
        with pytest.raises(ValueError, match=r"\.html"):
            page.save(tmp_path / name)
        assert not (tmp_path / name).exists()


def test_explore_needs_a_value():
    with pytest.raises(TypeError, match="Value"):
        explore(3.0)


def test_explore_checks_decimals():
    x = Value(2.0, label="x")
    with pytest.raises(ValueError, match="decimals"):
        explore(x * x, decimals=0)


def test_the_jupyter_display_is_an_iframe_holding_the_whole_page(kramer):
    page = kramer
    shown = page._repr_html_()
    found = re.fullmatch(r'<iframe srcdoc="([^"]*)" [^>]*sandbox="allow-scripts"></iframe>',
                         shown)
    assert found is not None
    assert html.unescape(found.group(1)) == page.html


@pytest.mark.parametrize("label", ["</script>", "</script><b>x", "</SCRIPT >x", "x</script",
                                   '"quoted" & <b>'])
def test_a_label_that_looks_like_html_leaves_the_page_whole(label):
    x = Value(1.5, label=label)
    y = x * 2
    y.label = label + "y"
    page = explore(y)
    _, data = page_data(page)  # the element ends where it should, and parses
    assert [node["name"] for node in data["nodes"]] == [label, label + "y"]
    assert data["title"] == f"Backward pass of {label}y = 3"
    assert len(re.findall(r"</script[\s/>]", page.html, re.I)) == 2  # the data, the code
    assert html.escape(label + "y") in page.html  # the heading, escaped


def test_a_label_with_a_comment_opener_cannot_change_how_the_data_element_ends():
    x = Value(1.5, label="<!--<script>x")
    y = x * 2
    y.label = "y"
    text, _ = page_data(explore(y))
    assert not re.search(r"<!--|<script|</script", text, re.I)


def test_building_a_page_leaves_every_grad_alone():
    n = kramer_chain()
    explore(n["out"])
    assert [n[name].grad for name in ("s0", "w0", "w1", "w2", "out")] == [0.0] * 5
