"""The explorer page in a real browser (headless Chromium): driven as a user drives it.

Expected numbers come from the engine (backward, trace, explain) and from hand calculations
(the Kramer slides, dy/dx of x·x + x); the page computes its own with the primitives table
printed as JavaScript, so every test here is also a test of that generated code.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from browser_support import console_errors, network_requests, open_file
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from autograd_lite import Value, explain, explore, trace
from autograd_lite.lectures import kramer_chain
from autograd_lite.notation import number as format_number


def open_page(browser, output, path, **options):
    page = explore(output, **options)
    open_file(browser, page.save(path))
    assert console_errors(browser) == []
    return page


def click(browser, action):
    browser.find_element(By.CSS_SELECTOR, f'button[data-action="{action}"]').click()


def nodes(browser):
    """{label: gradient shown so far (None: not reached)} and the current node's label."""
    shown = browser.execute_script(
        "return [...document.querySelectorAll('[data-label]')].map("
        "g => [g.dataset.label, g.dataset.grad, g.classList.contains('current')])")
    grads = {label: (float(grad) if grad else None) for label, grad, _ in shown}
    current = [label for label, _, is_current in shown if is_current]
    return grads, current


def text(browser, role):
    return browser.find_element(By.CSS_SELECTOR, f'[data-role="{role}"]').text


def close(a, b):
    return a is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def test_next_walks_the_kramer_chain_in_the_slides_order_with_the_engines_gradients(
        browser, tmp_path):
    n = kramer_chain()
    out = n["out"]
    recorded = trace(out)
    open_page(browser, out, tmp_path / "kramer.html")
    assert text(browser, "step") == "0 of 5"
    grads, current = nodes(browser)
    assert current == [] and set(grads.values()) == {None}  # step 0: the forward state
    order = []
    for k in range(1, 6):
        click(browser, "next")
        assert text(browser, "step") == f"{k} of 5"
        grads, current = nodes(browser)
        order += current
        expected = {recorded.names[node]: g for node, g in recorded.grads_after(k).items()}
        for label, grad in grads.items():
            if label in expected:
                assert close(grad, expected[label]), (k, label, grad, expected[label])
            else:
                assert grad is None, (k, label)
    assert order == ["out", "s2", "x2", "s1", "x1"]
    # the last step leaves the slide's gradients: dout/dw0 = 0.003501, dout/dw1 = 0.09734
    assert format_number(grads["w0"]) == "0.003501" and format_number(grads["w1"]) == "0.09734"
    formula = text(browser, "formula")
    assert "dout/dw0 += dout/dx1 · dx1/dw0" in formula
    assert "= 0.001751 · s0 = 0.001751 · 2 = 0.003501" in formula
    click(browser, "next")  # past the end: stays
    assert text(browser, "step") == "5 of 5"
    click(browser, "first")
    assert text(browser, "step") == "0 of 5" and "x1 = w0 * s0 = 4" in text(browser, "formula")
    click(browser, "last")
    assert text(browser, "step") == "5 of 5"


def test_step_three_shows_the_slides_chain_rule_for_w1(browser, tmp_path):
    n = kramer_chain()
    open_page(browser, n["out"], tmp_path / "kramer.html")
    for _ in range(3):
        click(browser, "next")
    formula = text(browser, "formula")
    assert "x2 = w1 * s1 = 0.9820" in formula and "upstream dout/dx2 = 0.09912" in formula
    assert "= 0.09912 · s1 = 0.09912 · 0.9820 = 0.09734" in formula
    # the number is drawn on the edge the gradient flows back along
    labels = browser.execute_script(
        "return [...document.querySelectorAll('text.contribution')].map(t => t.textContent)")
    assert sorted(labels) == ["+0.09734", "+0.09912"]


def test_a_reused_node_visibly_accumulates_1_4_7(browser, tmp_path):
    x = Value(3.0, label="x")
    y = x * x + x
    y.label = "y"
    open_page(browser, y, tmp_path / "reuse.html")
    seen = []
    for _ in range(2):
        click(browser, "next")
        seen.append(nodes(browser)[0]["x"])
    assert seen == [1.0, 7.0]  # dy/dx = 2x + 1 = 7 at x = 3, by hand
    formula = text(browser, "formula")
    assert "dy/dx so far: 1 → 4" in formula and "dy/dx so far: 4 → 7" in formula


def test_clicking_a_node_shows_its_explanation_and_highlights_its_path(browser, tmp_path):
    n = kramer_chain()
    out = n["out"]
    open_page(browser, out, tmp_path / "kramer.html")
    browser.find_element(By.CSS_SELECTOR, '[data-label="w1"]').click()
    shown = text(browser, "explain")
    # the slide: dout/dw1 = w2 · s2(1 − s2) · s1, and explain()'s own text, to the character
    assert shown == str(explain(out, n["w1"]))
    assert shown.startswith("dout/dw1 = w2 · s2·(1 − s2) · s1 = 0.5 · 0.1982 · 0.9820")
    on_path = browser.execute_script(
        "return [...document.querySelectorAll('g.node.on-path')].map(g => g.dataset.label)")
    assert sorted(on_path) == ["out", "s2", "w1", "x2"]
    browser.find_element(By.CSS_SELECTOR, '[data-label="w0"]').click()
    assert text(browser, "explain") == str(explain(out, n["w0"]))


def test_arrow_keys_step(browser, tmp_path):
    n = kramer_chain()
    open_page(browser, n["out"], tmp_path / "kramer.html")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert text(browser, "step") == "2 of 5"
    assert nodes(browser)[1] == ["s2"]
    body.send_keys(Keys.ARROW_LEFT)
    assert text(browser, "step") == "1 of 5" and nodes(browser)[1] == ["out"]
    body.send_keys(Keys.END)
    assert text(browser, "step") == "5 of 5"


def set_leaf(browser, label, value):
    """Select the field's text and type over it, as a user does (each key an input event)."""
    field = browser.find_element(By.CSS_SELECTOR, f'input[data-leaf="{label}"]')
    field.send_keys(Keys.CONTROL + "a", Keys.BACKSPACE)
    if str(value):
        field.send_keys(str(value))


def test_a_changed_input_recomputes_every_value_and_gradient_as_the_engine_does(
        browser, tmp_path):
    n = kramer_chain()
    open_page(browser, n["out"], tmp_path / "kramer.html")
    set_leaf(browser, "w1", -1.5)
    click(browser, "last")
    # the same graph at the new point, in the engine
    moved = kramer_chain()
    moved["w1"].data = -1.5
    moved["out"] = moved["w2"] * ((moved["w1"] * (moved["w0"] * moved["s0"]).sigmoid())
                                  .sigmoid())
    moved["out"].backward()
    engine = {"w0": moved["w0"].grad, "w1": moved["w1"].grad, "w2": moved["w2"].grad,
              "s0": moved["s0"].grad, "out": 1.0}
    grads, _ = nodes(browser)
    for label, grad in engine.items():
        assert close(grads[label], grad), (label, grads[label], grad)
    data = browser.execute_script(
        "return document.querySelector('[data-label=out]').textContent")
    assert f"data {format_number(moved['out'].data)}" in data
    # and the explanation at the new point is explain()'s at that point
    browser.find_element(By.CSS_SELECTOR, '[data-label="w1"]').click()
    assert text(browser, "explain").split(" = ")[-1] == format_number(moved["w1"].grad)


def test_an_input_outside_the_domain_is_named_not_silently_nan(browser, tmp_path):
    x = Value(2.0, label="x")
    y = (x - 1).log()
    y.label = "y"
    open_page(browser, y, tmp_path / "log.html")
    set_leaf(browser, "x", 0.5)
    error = text(browser, "error")
    assert "y = log(u1)" in error and "nan" in error and "domain" in error
    set_leaf(browser, "x", "")
    assert "not a number" in text(browser, "error")
    set_leaf(browser, "x", 3)
    assert text(browser, "error") == ""


def test_the_page_requests_nothing_from_the_network(browser, tmp_path):
    n = kramer_chain()
    path = tmp_path / "kramer.html"
    open_page(browser, n["out"], path)
    click(browser, "next")
    browser.find_element(By.CSS_SELECTOR, '[data-label="w1"]').click()
    assert network_requests(browser) == [path.resolve().as_uri()]


def test_numbers_are_formatted_by_the_same_rule_as_in_python(browser, tmp_path):
    n = kramer_chain()
    open_page(browser, n["out"], tmp_path / "kramer.html")
    rng = random.Random(12)
    values = [0.0, 1.0, -1.0, 2.0, 0.5, 0.25, 4.0, 0.1, 1e-7, 5.5e-06, 123456.0, 1e21,
              -0.003501, 0.9820137900379085, 0.09912014289893883, 1 / 3, 2 / 3, 1e300,
              5e-324, 99999.5, 0.000123456, 12345678.9, math.inf, -math.inf]
    values += [rng.choice((-1, 1)) * 10 ** rng.uniform(-12, 12) for _ in range(300)]
    cases = [(v, d) for v in values for d in (1, 3, 4, 6)]
    shown = browser.execute_script(
        "return arguments[0].map(([v, d]) => window.explorer.fmt("
        "v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v, d))",
        [["inf" if v == math.inf else "-inf" if v == -math.inf else v, d] for v, d in cases])
    wrong = [(v, d, js, format_number(v, digits=d)) for (v, d), js in zip(cases, shown)
             if js != format_number(v, digits=d)]
    assert wrong == []


def every_primitive_graph(x0=0.7, y0=1.3):
    """One expression that uses every registered primitive (the test below fails when a new
    one is missing here), on both sides of each kink."""
    from autograd_lite import PRIMITIVES, linear

    x, y = Value(x0, label="x"), Value(y0, label="y")
    terms = []
    for name, prim in PRIMITIVES.items():
        if prim.internal:
            continue
        if prim.arity is None:
            terms.append(linear([x, y], [y, x], bias=x))
        elif name == "leaky_relu":
            terms += [prim(x, 0.2), prim(x - y, 0.2)]
        elif prim.arity == 1:
            terms.append(prim(x))
            if "kink" in prim.smooth:
                terms.append(prim(x - y))  # the other side of the kink
        else:
            terms.append(prim(x, y))
    out = terms[0]
    for k, term in enumerate(terms[1:], start=2):
        out = out + term * (0.1 * k)
    out.label = "out"
    return x, y, out


def test_the_generated_code_agrees_with_the_engine_on_every_primitive(browser, tmp_path):
    from autograd_lite import PRIMITIVES
    from autograd_lite.graph import as_graph

    _, _, out = every_primitive_graph()
    used = {node.primitive.name for node in as_graph(out).order if node.primitive is not None}
    assert used == {n for n, p in PRIMITIVES.items() if not p.internal}
    open_page(browser, out, tmp_path / "every.html")
    for x0, y0 in ((0.7, 1.3), (0.4, 2.5), (1.9, 0.6)):
        set_leaf(browser, "x", x0)
        set_leaf(browser, "y", y0)
        x, y, expected = every_primitive_graph(x0, y0)  # the engine, at the same point
        expected.backward()
        click(browser, "last")
        grads, _ = nodes(browser)
        assert close(grads["x"], x.grad) and close(grads["y"], y.grad), ((x0, y0), grads)
        shown = browser.execute_script(
            "return document.querySelector('[data-label=out]').textContent")
        assert f"data {format_number(expected.data)}" in shown


def test_a_primitive_added_with_defprimitive_works_in_the_page(browser, tmp_path):
    from autograd_lite.extend import defprimitive, undefine

    softplus = defprimitive("softplus_page", lambda x, f: f.log(1 + f.exp(x)),
                            [lambda x, out, f: f.sigmoid(x)])
    try:
        x = Value(0.3, label="x")
        out = softplus(x * 2)
        out.label = "out"
        open_page(browser, out, tmp_path / "softplus.html")
        set_leaf(browser, "x", -1.2)
        click(browser, "last")
        # d/dx softplus(2x) = 2·sigmoid(2x), by hand
        assert close(nodes(browser)[0]["x"], 2 / (1 + math.exp(2.4)))
    finally:
        undefine("softplus_page")


def test_a_training_run_replays_epoch_by_epoch(browser, tmp_path):
    import nn

    data = nn.data.xor()
    xs, ys = data
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=1)
    history = nn.fit(model, data, epochs=300, lr=2.0, loss="mse", record=True, progress=False)
    sample = 1
    loss = nn.losses.mse(model(xs[sample]), ys[sample])
    open_page(browser, loss, tmp_path / "xor.html", history=history, data=data)

    def at_weights(snapshot):
        fresh = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=1)
        for name, parameter in fresh.named_parameters():
            parameter.data = snapshot[name]
        return fresh

    def accuracy(snapshot):  # the model's own predictions, in Python, at those weights
        fresh = at_weights(snapshot)
        return sum((fresh(x).data > 0.5) == (y > 0.5) for x, y in zip(xs, ys)) / len(xs)

    def page_state():
        return browser.execute_script(
            "const c = document.querySelector('[data-role=boundary]');"
            "return [document.querySelector('[data-role=epoch-label]').textContent,"
            " Number(c.dataset.accuracy),"
            " Object.fromEntries([...document.querySelectorAll('rect[data-layer]')]"
            "   .map(r => [r.dataset.layer, Number(r.dataset.size)]))]")

    label, page_accuracy, sizes = page_state()
    assert label == f"epoch 300 of 300: mean loss {format_number(history.loss[-1])}"
    assert page_accuracy == accuracy(history.snapshots[-1]) == 1.0  # XOR learnt
    assert sizes == pytest.approx(history.grad_sizes[-1], rel=1e-12)

    epoch = browser.find_element(By.CSS_SELECTOR, '[data-role="epoch"]')
    epoch.send_keys(Keys.HOME)  # the keyboard moves a slider as a user does
    label, page_accuracy, sizes = page_state()
    assert label == "epoch 0 of 300 (before training)"
    assert page_accuracy == accuracy(history.snapshots[0])
    field = browser.find_element(By.CSS_SELECTOR, 'input[data-leaf="L1.N0.w0"]')
    assert float(field.get_attribute("value")) == history.snapshots[0]["L1.N0.w0"]
    # the graph shows the backward pass at epoch 0's weights: the engine's, at those weights
    fresh = at_weights(history.snapshots[0])
    fresh_loss = nn.losses.mse(fresh(xs[sample]), ys[sample])
    fresh_loss.backward()
    click(browser, "last")
    grads, _ = nodes(browser)
    for name, parameter in fresh.named_parameters():
        assert close(grads[name], parameter.grad), name


def test_the_readmes_screenshots_come_from_the_page(browser, tmp_path):
    """Made by this test: `make screenshots` runs it with EXPLORER_SCREENSHOTS=docs/images."""
    import os
    import struct

    import nn

    where = Path(os.environ.get("EXPLORER_SCREENSHOTS") or tmp_path)
    n = kramer_chain()
    open_page(browser, n["out"], tmp_path / "kramer.html", title="Kramer's chain, explored")
    for _ in range(3):
        click(browser, "next")
    browser.find_element(By.CSS_SELECTOR, '[data-label="w1"]').click()
    browser.set_window_size(1400, 900)
    shots = [where / "explorer-kramer.png"]
    browser.save_screenshot(str(shots[0]))

    data = nn.data.xor()
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=1)
    history = nn.fit(model, data, epochs=300, lr=2.0, loss="mse", record=True, progress=False)
    loss = nn.losses.mse(model(data.xs[1]), data.ys[1])
    open_page(browser, loss, tmp_path / "xor.html", history=history, data=data,
              title="XOR: nn.MLP(2, [4, 1]) after 300 epochs")
    browser.set_window_size(1400, 1500)
    shots.append(where / "explorer-replay.png")
    browser.find_element(By.CSS_SELECTOR, '[data-role="replay"]').screenshot(str(shots[1]))
    browser.set_window_size(1400, 1000)
    for shot in shots:
        header = shot.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", header[16:24])
        assert width >= 1000 and height >= 300, (shot, width, height)


def test_dragging_an_inputs_slider_recomputes_as_the_engine_does(browser, tmp_path):
    n = kramer_chain()
    open_page(browser, n["out"], tmp_path / "kramer.html")
    slider = browser.find_element(By.CSS_SELECTOR, 'input[data-leaf-range="w2"]')
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # three steps up
    moved = float(browser.find_element(By.CSS_SELECTOR, 'input[data-leaf="w2"]')
                  .get_attribute("value"))
    assert moved > 0.5  # the field follows the slider
    click(browser, "last")
    grads, _ = nodes(browser)
    m = kramer_chain(w2=moved)
    m["out"].backward()
    for name in ("w0", "w1", "w2", "s0"):
        assert close(grads[name], m[name].grad), name
    # dout/dw2 = s2 whatever w2 is, and dout/dw1 = w2·s2(1 − s2)·s1 grows with w2 (the slide)
    s1, s2 = m["s1"].data, m["s2"].data
    assert close(grads["w2"], s2)
    assert math.isclose(grads["w1"], moved * s2 * (1 - s2) * s1, rel_tol=1e-12)
