"""Explorer pages as users get them, opened in headless Chromium: a big graph (2,000 value
nodes, drawn in part), an nn model's loss, the page inside Jupyter's iframe, and the page
the command line writes.

Expected gradients come from the engine (``backward``); the page computes its own with the
primitives table printed as JavaScript, so these agree only if both are right.
"""

from __future__ import annotations

import math
import random
import re
import subprocess

import pytest
from browser_support import console_errors, open_file
from selenium.webdriver.common.by import By

import nn
from autograd_lite import TooManyNodes, Value, explore
from autograd_lite.drawing import DEFAULT_MAX_NODES
from autograd_lite.graph import as_graph
from autograd_lite.lectures import KRAMER_GRAPH

BIG = 2_000  # value nodes: h0, 399 links w_k, b_k, ·, +, tanh, then v, u, ·, +


def tanh_chain(links: int = 399, seed: int = 0) -> tuple[Value, list[Value]]:
    """out = v·h + u after h_k = tanh(w_k·h_(k-1) + b_k); returns out and its leaves."""
    rng = random.Random(seed)
    h = Value(0.5, label="h0")
    leaves = [h]
    for k in range(1, links + 1):
        w = Value(rng.uniform(-1.5, 1.5), label=f"w{k}")
        b = Value(rng.uniform(-0.5, 0.5), label=f"b{k}")
        leaves += [w, b]
        h = (w * h + b).tanh()
        h.label = f"h{k}"
    v, u = Value(2.0, label="v"), Value(0.1, label="u")
    leaves += [v, u]
    out = h * v + u
    out.label = "out"
    return out, leaves


def click(browser, action):
    browser.find_element(By.CSS_SELECTOR, f'button[data-action="{action}"]').click()


def text(browser, role):
    return browser.find_element(By.CSS_SELECTOR, f'[data-role="{role}"]').text


def drawn_grads(browser):
    """{data-label: data-grad as a float (None: empty)} of every value node drawn."""
    shown = browser.execute_script(
        "return [...document.querySelectorAll('[data-label]')].map("
        "g => [g.dataset.label, g.dataset.grad])")
    return {label: (float(grad) if grad else None) for label, grad in shown}


def close(a, b):
    return a is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


# ---------------------------------------------------------------- a 2,000-node graph


def test_the_tanh_chain_has_2000_value_nodes():
    out, leaves = tanh_chain()
    order = as_graph(out).reading_order
    assert len(order) == BIG and len(leaves) == 801
    assert {n for n in order if not n.parents} == set(leaves)


def test_a_2000_node_page_draws_the_nearest_nodes_and_steps_through_all(browser, tmp_path):
    out, leaves = tanh_chain()
    page = explore(out)
    open_file(browser, page.save(tmp_path / "big.html"))
    assert console_errors(browser) == []
    drawn = drawn_grads(browser)
    assert len(drawn) == DEFAULT_MAX_NODES < BIG  # the drawing's limit, not the page's
    note = text(browser, "note")
    assert f"The drawing shows the {DEFAULT_MAX_NODES} nodes nearest out, of {BIG}" in note
    steps = page.steps
    assert steps == 3 * 399 + 2  # every operation: ·, +, tanh per link, then · and +
    assert text(browser, "step") == f"0 of {steps}"
    assert set(drawn.values()) == {None}

    click(browser, "last")
    assert text(browser, "step") == f"{steps} of {steps}"
    assert console_errors(browser) == []
    # the engine: backward() on the same graph built again (explore's own pass has added
    # its gradients into this one's .grad, as trace() does)
    engine_out, engine_leaves = tanh_chain()
    engine_out.backward()
    assert [leaf.data for leaf in engine_leaves] == [leaf.data for leaf in leaves]
    by_label = {leaf.label: leaf for leaf in engine_leaves}
    drawn = drawn_grads(browser)
    drawn_leaves = [label for label in drawn if label in by_label]
    assert drawn_leaves and "v" in drawn_leaves and "u" in drawn_leaves
    for label in drawn_leaves:
        assert close(drawn[label], by_label[label].grad), (label, drawn[label])
    # the leaves not drawn: the page's own backward pass, read from its script
    page_grads = browser.execute_script(
        "const e = window.explorer, g = e.backward(arguments[0]).grads;"
        "return Object.fromEntries(e.nodes.map((n, i) => [n.name, g[i]]))", steps)
    undrawn = [label for label in by_label if label not in drawn]
    assert len(undrawn) > 700 and "h0" in undrawn and "w1" in undrawn
    wrong = [(label, page_grads[label], by_label[label].grad) for label in undrawn
             if not close(page_grads[label], by_label[label].grad)]
    assert wrong == []
    assert by_label["h0"].grad != 0  # the chain does not vanish to nothing


def test_a_page_over_max_nodes_is_refused_naming_the_count_and_the_limit():
    out, _ = tanh_chain()
    with pytest.raises(TooManyNodes) as caught:
        explore(out, max_nodes=1000)
    message = str(caught.value)
    assert "2000" in message and "max_nodes=1000" in message
    assert caught.value.count == BIG and caught.value.limit == 1000


# ---------------------------------------------------------------- an nn model


def test_an_nn_models_page_shows_every_parameter_with_the_engines_gradients(
        browser, tmp_path):
    model = nn.MLP(2, [3, 1], seed=0)
    loss = nn.losses.half_squared_error(model([1.0, 2.0]), 0.5)
    open_file(browser, explore(loss).save(tmp_path / "mlp.html"))
    assert console_errors(browser) == []
    labels = [name for name, _ in model.named_parameters()]
    assert len(labels) == 13
    assert set(labels) <= set(drawn_grads(browser))
    click(browser, "last")
    shown = drawn_grads(browser)
    # the engine's gradients: the same model (same seed), the same loss, backward()
    engine = nn.MLP(2, [3, 1], seed=0)
    engine_loss = nn.losses.half_squared_error(engine([1.0, 2.0]), 0.5)
    engine_loss.backward()
    assert engine_loss.data == loss.data
    for name, parameter in engine.named_parameters():
        assert parameter.grad != 0, name
        assert close(shown[name], parameter.grad), (name, shown[name], parameter.grad)


# ---------------------------------------------------------------- in Jupyter


def test_the_page_works_inside_jupyters_iframe(browser, tmp_path):
    x = Value(3.0, label="x")
    y = x * x + x
    y.label = "y"
    page = explore(y)
    shown = page._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in shown
    notebook = tmp_path / "notebook.html"
    notebook.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                        f"<p>Out[1]:</p>{shown}</body></html>", encoding="utf-8")
    open_file(browser, notebook)
    frame = browser.find_element(By.TAG_NAME, "iframe")
    browser.switch_to.frame(frame)
    try:
        assert text(browser, "step") == f"0 of {page.steps}"
        click(browser, "next")
        assert text(browser, "step") == f"1 of {page.steps}"
        grads = drawn_grads(browser)
        assert grads["y"] == 1.0 and [g for g in grads.values() if g is not None]
    finally:
        browser.switch_to.default_content()
    assert browser.find_element(By.TAG_NAME, "p").text == "Out[1]:"
    assert console_errors(browser) == []


# ---------------------------------------------------------------- the command line

AT = "s0=2,w0=2,w1=1,w2=0.5"


def explore_command(console_script, *argv, cwd):
    return subprocess.run([str(console_script), "explore", KRAMER_GRAPH, *argv],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def test_the_command_line_writes_a_page_that_opens(browser, console_script, tmp_path):
    done = explore_command(console_script, "--at", AT, "-o", "page.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "page.html" in done.stdout and "5 backward steps" in done.stdout
    open_file(browser, tmp_path / "page.html")
    assert console_errors(browser) == []
    assert text(browser, "step") == "0 of 5"
    click(browser, "last")
    assert text(browser, "step") == "5 of 5"
    assert drawn_grads(browser)["out"] == 1.0


def test_the_command_line_wants_an_html_file_name(console_script, tmp_path):
    done = explore_command(console_script, "--at", AT, "-o", "page.txt", cwd=tmp_path)
    assert done.returncode == 2
    assert ".html" in done.stderr and "page.txt" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_names_an_input_the_graph_does_not_have(console_script, tmp_path):
    done = explore_command(console_script, "--at", AT + ",zz=3", "-o", "page.html",
                           cwd=tmp_path)
    assert done.returncode == 2  # the CLI's status for usage and input errors
    assert re.search(r"\bzz\b", done.stderr) and "does not use" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- labels that look like HTML


@pytest.mark.parametrize("label", ["</script><b>x", "</SCRIPT >x", "<!-- x -->", "a & b"])
def test_a_label_that_looks_like_html_does_not_break_the_page(browser, tmp_path, label):
    x = Value(1.5, label=label)
    y = x * 2
    y.label = label + "y"
    open_file(browser, explore(y).save(tmp_path / "label.html"))
    assert console_errors(browser) == []
    assert browser.execute_script("return typeof window.explorer") == "object"
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith(
        f"Backward pass of {label}y")
    click(browser, "last")
    assert drawn_grads(browser)[label] == 2.0
    assert browser.title == f"Backward pass of {label}y = 3"


def test_a_label_with_a_comment_opener_and_a_script_tag_does_not_break_the_page(
        browser, tmp_path):
    x = Value(1.5, label="<!--<script>x")
    y = x * 2
    y.label = "y"
    open_file(browser, explore(y).save(tmp_path / "label.html"))
    assert browser.execute_script("return typeof window.explorer") == "object"
