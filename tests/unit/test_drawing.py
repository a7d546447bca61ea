"""draw() and save_frames(), rendered by the real Graphviz `dot`, the SVG read back as XML.

The graph is the chain of Kramer, "Backpropagation", slide "Forward propagation":
s0 = 2, w0 = 2, w1 = 1, w2 = 0.5; x1 = 4, s1 = 0.982, x2 = 0.982, s2 = 0.7275, out = 0.3638.
Slide numbers below are the lecture's own: 16 dout/ds2 = w2, 21 ds2/dx2 = s2(1 − s2),
22 dx2/dw1 = s1 (slides "How does a change in weight w1 impact output?"), 29 the path of
dout/dw0 ("How does a change in weight w0 impact output?").
"""

import math
import runpy
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest
from dot_processes import HAS_PROC, mark_children, processes_with

from autograd_lite import Value, draw, save_frames, sigmoid, trace
from autograd_lite.drawing import (
    DONE_FILL,
    HIGHLIGHT_COLOR,
    ROLES,
    STEP_FILL,
    GraphvizNotFound,
    RenderError,
    RenderMemoryError,
    RenderTimeoutError,
    neuron_groups,
)
from autograd_lite.lectures import kramer_chain

SVG = "{http://www.w3.org/2000/svg}"
REPO = Path(__file__).resolve().parents[2]  # tests/unit/this file -> the repository



def test_the_real_dot_program_is_installed():
    # The tests below render with Graphviz's `dot`; `make test` (and CI) install it.
    assert shutil.which("dot") is not None, "install Graphviz: sudo apt-get install graphviz"




def hand_sigmoid(x):
    return 1 / (1 + math.exp(-x))


def svg_of(graph):
    return ET.fromstring(graph.pipe(format="svg"))


def parse(root):
    """Nodes {dot id: (stroke, [texts])} and edges [(tail id, head id, stroke, [texts])]."""
    nodes, edges = {}, []
    for g in root.iter(f"{SVG}g"):
        kind = g.get("class")
        if kind not in ("node", "edge"):
            continue
        title = g.find(f"{SVG}title").text
        if title == "legend":  # the roles' legend: a table, not a node of the graph
            continue
        # A plaintext node (a number written into the expression) has no outline: stroke None.
        shape = next((child for child in g if child.tag in (
            f"{SVG}polygon", f"{SVG}ellipse", f"{SVG}path")), None)
        stroke = None if shape is None else shape.get("stroke")
        texts = [t.text for t in g.iter(f"{SVG}text")]
        if kind == "node":
            nodes[title] = (stroke, texts)
        else:
            tail, head = title.split("->")
            edges.append((tail, head, stroke, texts))
    return nodes, edges


def names_of(nodes):
    """dot id -> the name drawn on a value node; an operation node is 'op of <name>'."""
    value_names = {node_id: texts[0] for node_id, (_, texts) in nodes.items()
                   if len(texts) == 3 and texts[1].startswith("data ")}
    named = dict(value_names)
    for node_id in nodes:
        if node_id.endswith("_op"):
            named[node_id] = "op of " + value_names[node_id[:-3]]
    return named


def test_svg_shows_every_label_with_data_and_grad_to_four_significant_digits():
    n = kramer_chain()
    trace(n["out"])  # runs the backward pass, so the drawing has gradients
    nodes, _ = parse(svg_of(draw(n["out"])))
    drawn = {texts[0]: texts[1:] for _, texts in nodes.values() if len(texts) == 3}
    assert set(drawn) == {"s0", "w0", "w1", "w2", "x1", "s1", "x2", "s2", "out"}
    # The slide's numbers, to 4 significant digits (exact ones as they are: x1 = 4).
    assert drawn["s1"][0] == "data 0.9820" and drawn["s2"][0] == "data 0.7275"
    assert drawn["out"] == ["data 0.3638", "grad 1"]
    assert drawn["x1"][0] == "data 4"
    # dout/dw2 = s2 = 0.7275 and dout/dw0 = w2·s2(1 − s2)·w1·s1(1 − s1)·s0 = 0.003501, by hand.
    s1, s2 = hand_sigmoid(4.0), hand_sigmoid(hand_sigmoid(4.0))
    assert drawn["w2"][1] == f"grad {s2:.4g}" == "grad 0.7275"
    assert drawn["w0"][1] == f"grad {0.5 * s2 * (1 - s2) * s1 * (1 - s1) * 2:.4g}" == (
        "grad 0.003501")
    ops = sorted(texts[0] for node_id, (_, texts) in nodes.items() if node_id.endswith("_op"))
    assert ops == ["*", "*", "*", "sigmoid", "sigmoid"]


def test_a_vanishing_gradient_is_drawn_as_its_number_not_as_zero():
    # Ten sigmoids deep: d out/d x = Π σ'(·) ≤ 0.25^10 ≈ 9.5e-07; with 4 fixed decimals the
    # node said "grad 0.0000", hiding exactly what the vanishing-gradient lecture shows.
    x = Value(0.5, "x")
    y = x
    for _ in range(10):
        y = y.sigmoid()
    y.label = "y"
    y.backward()
    by_hand = 1.0
    value = 0.5
    for _ in range(10):
        value = hand_sigmoid(value)
        by_hand *= value * (1 - value)
    nodes, _ = parse(svg_of(draw(y)))
    drawn = {texts[0]: texts[1:] for _, texts in nodes.values() if len(texts) == 3}
    assert drawn["x"][1] == f"grad {by_hand:.4g}"
    assert "e-0" in drawn["x"][1] and "0.0000" not in drawn["x"][1]


def test_a_long_chain_goes_top_to_bottom_by_default_and_left_to_right_when_asked():
    # Kramer's chain left to right was 2973×205 px (14.5:1): on a 16:9 slide its text shrank
    # to about 7 pt. "auto" takes the direction closer to 16:9, top to bottom for a chain.
    n = kramer_chain()
    assert "rankdir=TB" in draw(n["out"]).source
    graph = draw(n["out"], rankdir="LR")
    assert isinstance(graph, graphviz.Digraph)
    assert "rankdir=LR" in graph.source
    # In the laid-out SVG, the input s0 is left of the output.
    root = svg_of(graph)
    x = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            texts = [t for t in g.iter(f"{SVG}text")]
            x[texts[0].text] = float(texts[0].get("x"))
    assert x["s0"] < x["x1"] < x["s1"] < x["x2"] < x["s2"] < x["out"]


def test_highlight_colours_exactly_the_path_from_w0_to_the_output():
    # dout/dw0 = dout/ds2 · ds2/dx2 · dx2/ds1 · ds1/dx1 · dx1/dw0 (slide 29): that path.
    n = kramer_chain()
    nodes, edges = parse(svg_of(draw(n["out"], highlight=n["w0"])))
    named = names_of(nodes)
    red_nodes = {named[i] for i, (stroke, _) in nodes.items() if stroke == HIGHLIGHT_COLOR}
    assert red_nodes == {"w0", "x1", "s1", "x2", "s2", "out",
                         "op of x1", "op of s1", "op of x2", "op of s2", "op of out"}
    red_edges = {(named[t], named[h]) for t, h, stroke, _ in edges if stroke == HIGHLIGHT_COLOR}
    assert red_edges == {
        ("w0", "op of x1"), ("op of x1", "x1"), ("x1", "op of s1"), ("op of s1", "s1"),
        ("s1", "op of x2"), ("op of x2", "x2"), ("x2", "op of s2"), ("op of s2", "s2"),
        ("s2", "op of out"), ("op of out", "out")}
    assert len(edges) == 13  # and the other three edges (s0, w1, w2 in) stay black
    assert all(stroke == "black" for t, h, stroke, _ in edges
               if (named[t], named[h]) not in red_edges)


def test_highlight_by_name_from_an_intermediate_node_starts_at_that_node():
    n = kramer_chain()
    nodes, edges = parse(svg_of(draw(n["out"], highlight="x2")))
    named = names_of(nodes)
    red_nodes = {named[i] for i, (stroke, _) in nodes.items() if stroke == HIGHLIGHT_COLOR}
    # x2 itself is on the path; the operation that produced it is not (the path starts there).
    assert red_nodes == {"x2", "s2", "out", "op of s2", "op of out"}
    red_edges = {(named[t], named[h]) for t, h, stroke, _ in edges if stroke == HIGHLIGHT_COLOR}
    assert red_edges == {("x2", "op of s2"), ("op of s2", "s2"), ("s2", "op of out"),
                         ("op of out", "out")}


def test_highlight_of_a_reused_node_covers_both_paths():
    x = Value(0.5, "x")
    h = sigmoid(x)
    h.label = "h"
    a, b = h * 2.0, h * 3.0
    a.label, b.label = "a", "b"
    out = a + b
    out.label = "out"
    nodes, _ = parse(svg_of(draw(out, highlight=h)))
    named = names_of(nodes)
    red = {named[i] for i, (stroke, _) in nodes.items() if stroke == HIGHLIGHT_COLOR}
    assert red == {"h", "a", "b", "out", "op of a", "op of b", "op of out"}


def test_bad_highlight_says_what_is_wrong():
    n = kramer_chain()
    with pytest.raises(ValueError, match="'w9' names no node of the graph of out"):
        draw(n["out"], highlight="w9")
    with pytest.raises(ValueError, match="is not in the graph of out"):
        draw(n["out"], highlight=Value(1.0, "elsewhere"))
    with pytest.raises(TypeError, match="draw\\(\\) needs a Value, not list"):
        draw([n["out"]])


def test_edges_show_the_tables_local_derivatives():
    n = kramer_chain()
    _, edges = parse(svg_of(draw(n["out"], show_derivatives=True)))
    labels = [" ".join(texts) for _, _, _, texts in edges if texts]
    # ds2/dx2 = s2(1 − s2) with s2 = 0.7275: 0.7275 · 0.2725 = 0.1982 (slide 21, by hand)
    assert "ds2/dx2 = s2·(1 − s2) = 0.1982" in labels
    assert "dout/ds2 = w2 = 0.5" in labels  # slide 16
    assert "dx2/dw1 = s1 = 0.9820" in labels  # slide 22: s1 = 0.982, rounded
    assert len(labels) == 8  # one per non-constant input


def test_a_step_of_the_trace_shows_the_node_and_the_contributions_it_sends():
    n = kramer_chain()
    t = trace(n["out"], accumulate=False)
    step = t.step_of("x2")
    nodes, edges = parse(svg_of(draw(n["out"], step=step)))
    named = names_of(nodes)
    s1, s2 = hand_sigmoid(4.0), hand_sigmoid(hand_sigmoid(4.0))
    upstream = 0.5 * s2 * (1 - s2)  # dout/dx2, complete when x2 is processed
    sent = {named[t_]: texts for t_, h, _, texts in edges if named[h] == "op of x2"}
    assert sent == {"w1": [f"+{upstream * s1:.4g}"], "s1": [f"+{upstream * 1.0:.4g}"]}
    drawn = {texts[0]: texts for _, texts in nodes.values() if len(texts) == 3}
    # After step 3, x1, w0 and s0 have not been reached: their gradients are still open.
    assert drawn["x1"][2] == drawn["w0"][2] == drawn["s0"][2] == "grad ·"
    assert drawn["s1"][2] == f"grad {upstream:.4g}"
    assert drawn["w1"][2] == f"grad {upstream * s1:.4g}"
    assert n["w1"].grad == 0.0  # the drawing shows the pass, not .grad
    title = next(t_.text for t_ in svg_of(draw(n["out"], step=step)).iter(f"{SVG}text"))
    assert title.startswith("step 3 of 5: x2 = w1 * s1")


def test_step_must_come_from_a_trace_of_the_same_output():
    n, other = kramer_chain(), kramer_chain()
    step = trace(other["out"], accumulate=False)[0]
    with pytest.raises(ValueError, match="the step belongs to the trace of out"):
        draw(n["out"], step=step)


def test_save_frames_writes_one_svg_per_backward_step(tmp_path):
    n = kramer_chain()
    paths = save_frames(n["out"], tmp_path / "frames")
    assert len(paths) == len(trace(n["out"], accumulate=False)) == 5
    assert [p.name for p in paths] == ["step-1-out.svg", "step-2-s2.svg", "step-3-x2.svg",
                                       "step-4-s1.svg", "step-5-x1.svg"]
    for k, path in enumerate(paths, start=1):
        root = ET.parse(path).getroot()
        caption = next(root.iter(f"{SVG}text")).text
        assert caption.startswith(f"step {k} of 5")
    assert n["w0"].grad == 0.0  # a Value is traced without touching .grad


def test_save_frames_png_and_bad_format(tmp_path):
    n = kramer_chain()
    t = trace(n["out"])
    paths = save_frames(t, tmp_path, format="png", show_derivatives=True)
    assert len(paths) == 5
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    with pytest.raises(ValueError, match="unknown image format 'svgz2'"):
        save_frames(t, tmp_path, format="svgz2")


def test_numbers_in_the_expression_are_drawn_at_each_use():
    # The constant 2.0 is one shared node in the engine; the drawing shows it twice.
    x = Value(1.5, "x")
    y = x * 2.0 + (x + 2.0)
    source = draw(y).source
    assert source.count('label=2 fontsize=9 shape=plaintext') == 2


def test_size_guard_refuses_with_a_clear_message_or_summarises():
    x = Value(0.5, "x")
    y = x
    for _ in range(299):
        y = y.tanh()
    with pytest.raises(ValueError, match="has 300 value nodes, more than max_nodes=250"):
        draw(y)
    summary = draw(y, max_nodes=20, summarise=True)
    nodes, _ = parse(svg_of(summary))
    value_nodes = [i for i, (_, texts) in nodes.items() if len(texts) == 3]
    assert len(value_nodes) == 20
    assert "… 280 more nodes" in " ".join(t for _, texts in nodes.values() for t in texts)
    assert len(draw(y, max_nodes=None).source) > 0


def test_missing_dot_program_explains_how_to_install_it(monkeypatch, tmp_path):
    n = kramer_chain()
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` anywhere
    graph = draw(n["out"])
    assert "out | data 0.3638" in graph.source  # the DOT text needs no Graphviz
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz") as caught:
        graph.pipe(format="svg")
    assert isinstance(caught.value, graphviz.ExecutableNotFound)
    assert ".source" in str(caught.value)
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        graph.render(tmp_path / "graph")
    with pytest.raises(GraphvizNotFound):
        graph._repr_mimebundle_()  # what Jupyter calls to show it inline


def test_jupyter_shows_the_drawing_inline_as_svg():
    n = kramer_chain()
    bundle = draw(n["out"])._repr_mimebundle_()
    assert ET.fromstring(bundle["image/svg+xml"]).tag == f"{SVG}svg"


def hand_labelled_network():
    """Two sigmoid neurons in layer 1, one in layer 2, labelled as nn labels them."""
    x = [2.0, -1.0]
    hidden = []
    for k, (ws, bias) in enumerate((((0.5, -0.3), 0.1), ((-0.2, 0.8), 0.0))):
        w = [Value(v, f"L1.N{k}.w{j}") for j, v in enumerate(ws)]
        b = Value(bias, f"L1.N{k}.b")
        z = w[0] * x[0] + w[1] * x[1] + b
        z.label = f"L1.N{k}.z"
        a = sigmoid(z)
        a.label = f"L1.N{k}.a"
        hidden.append(a)
    v = [Value(0.7, "L2.N0.w0"), Value(-1.1, "L2.N0.w1")]
    out = v[0] * hidden[0] + v[1] * hidden[1]
    out.label = "L2.N0.a"
    loss = (out - 0.7) ** 2
    loss.label = "loss"
    return loss, out, hidden


def test_neuron_groups_follow_the_labels_and_keep_the_loss_outside():
    loss, out, hidden = hand_labelled_network()
    groups = neuron_groups(loss)
    # The product w0·x0 of neuron L1.N0 is unlabelled: it sits between L1.N0.w0 and L1.N0.z.
    z0 = hidden[0].parents[0]
    product = z0.parents[0].parents[0]
    assert product.label == "" and groups[product] == "L1.N0"
    # Neuron L2.N0's products take L1 outputs and L2 weights: they belong to L2.N0.
    for product in out.parents:
        assert groups[product] == "L2.N0"
    # The loss and its (out − 0.7) are computed from the model, not inside it.
    assert loss not in groups and loss.parents[0] not in groups
    labelled = {node.label: g for node, g in groups.items() if node.label}
    assert labelled["L1.N1.b"] == "L1.N1" and labelled["L2.N0.a"] == "L2.N0"


def block(source, opening):
    """The DOT text of one subgraph, from its opening line to its matching brace."""
    start = source.index(opening)
    depth = 0
    for end in range(start, len(source)):
        depth += {"{": 1, "}": -1}.get(source[end], 0)
        if depth == 0 and source[end] == "}":
            return source[start:end + 1]
    raise AssertionError(f"unbalanced braces after {opening!r}")


def test_clusters_nest_neurons_inside_layers():
    loss, _, _ = hand_labelled_network()
    source = draw(loss).source
    assert "subgraph cluster_L1 {" in source and "subgraph cluster_L2 {" in source
    layer1 = block(source, "subgraph cluster_L1 {")
    assert 'subgraph "cluster_L1.N0" {' in layer1 and 'subgraph "cluster_L1.N1" {' in layer1
    assert "cluster_L2" not in layer1
    neuron = block(source, 'subgraph "cluster_L1.N0" {')
    assert "L1.N0.w0 |" in neuron and "L1.N0.a |" in neuron and "L1.N1" not in neuron
    root = svg_of(draw(loss))
    clusters = {g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g")
                if g.get("class") == "cluster"}
    # the layers and neurons, the loss (labelled "loss": its box after the layers), and the
    # legend of the node roles
    assert clusters == {"cluster_L1", "cluster_L1.N0", "cluster_L1.N1", "cluster_L2",
                        "cluster_L2.N0", "cluster_loss", "cluster_legend"}
    assert "subgraph" not in draw(loss, clusters=False, legend=False).source
    by_function = draw(loss, clusters=lambda node: "mine" if node.label == "loss" else None)
    assert "subgraph cluster_mine {" in by_function.source


def test_clusters_for_an_nn_mlp():
    import nn  # the project's own package (layout in SPEC.md)

    model = nn.MLP(2, [3, 1], seed=0)
    loss = (model([1.0, -2.0]) - 0.5) ** 2
    groups = neuron_groups(loss)
    for parameter in model.parameters():
        prefix = parameter.label.rsplit(".", 1)[0]
        assert groups[parameter] == prefix
    assert sorted(set(groups.values())) == ["L1.N0", "L1.N1", "L1.N2", "L2.N0"]
    assert loss not in groups
    root = svg_of(draw(loss))
    clusters = {g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g")
                if g.get("class") == "cluster"}
    assert {"cluster_L1", "cluster_L2", "cluster_L1.N2"} <= clusters


def test_a_neurons_parameters_stand_in_order_w0_w1_then_b():
    # The lecture draws a neuron's inputs in order, w0 x0 + w1 x1 + b; dot put L2.N0's
    # parameters as w1, w0, b, w2 (crossing fewest edges). Read the drawn positions back.
    import nn

    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    loss = nn.losses.half_squared_error(model([1.0, 2.0]), 0.5)
    loss.backward()
    root = svg_of(draw(loss))
    height = {t.text: float(t.get("y")) for t in root.iter(f"{SVG}text")}
    for neuron, inputs in (("L1.N0", 2), ("L1.N1", 2), ("L1.N2", 2), ("L2.N0", 3)):
        names = [f"{neuron}.w{i}" for i in range(inputs)] + [f"{neuron}.b"]
        ys = [height[name] for name in names]
        assert ys == sorted(ys) and len(set(ys)) == len(ys), (neuron, ys)
    # each parameter's edge leaves its own row and still reaches its neuron's operation
    _, edges = parse(root)
    tails = {tail for tail, *_ in edges}
    assert {p.label for p in model.parameters()} <= {
        text for t in root.iter(f"{SVG}text") if (text := t.text) and text in height}
    assert any(":" in tail for tail in tails)


def test_docs_images_are_made_by_the_project(tmp_path):
    made = runpy.run_path(str(REPO / "docs" / "make_images.py"))["main"](tmp_path)
    names = sorted(str(p.relative_to(tmp_path)) for p in made)
    assert "kramer-chain.svg" in names and "kramer-chain.png" in names
    assert len([n for n in names if n.startswith("kramer-frames/")]) == 5
    svg = (tmp_path / "kramer-chain.svg").read_text()
    assert "grad 0.0035" in svg and HIGHLIGHT_COLOR in svg
    # the committed images exist (regenerate with: python docs/make_images.py)
    assert (REPO / "docs" / "images" / "kramer-chain.svg").exists()


def test_labels_with_graphviz_syntax_characters_are_drawn_literally():
    # Record labels treat { } | < > as structure and DOT treats \ as an escape.
    a, b = Value(1.0, "{a|b}"), Value(2.0, '<x> "q" \\')
    c = a * b
    c.label = "c&d"
    nodes, edges = parse(svg_of(draw(c, show_derivatives=True)))
    names = {texts[0] for _, texts in nodes.values() if len(texts) == 3}
    assert names == {"{a|b}", '<x> "q" \\', "c&d"}
    labels = {" ".join(texts) for *_, texts in edges if texts}
    assert 'dc&d/d{a|b} = <x> "q" \\ = 2' in labels  # d(a·b)/da = b = 2


# ---------------------------------------------------------------- bounds on dot (issue 10)


def shared_weight_chain(layers):
    """h1 = tanh(w·x), h_k = tanh(w·h_k-1): one weight used by every layer (2·layers + 2
    value nodes). dot's default layout of 60 layers ran for over 120 s on this machine."""
    w, x = Value(0.5, "w"), Value(0.3, "x")
    h = x
    for k in range(1, layers + 1):
        h = (w * h).tanh()
        h.label = f"h{k}"
    return h


@pytest.mark.skipif(not HAS_PROC, reason="needs Linux /proc")
def test_a_layout_past_the_time_bound_stops_dot_fast_and_says_what_to_do(monkeypatch):
    import time

    marked_dot = mark_children(monkeypatch)
    out = shared_weight_chain(124)  # 250 value nodes: the default max_nodes; dot needs > 5 s
    drawing = draw(out, render_timeout=0.5)
    start = time.monotonic()
    with pytest.raises(RenderTimeoutError) as caught:
        drawing.pipe(format="svg")
    assert time.monotonic() - start < 3
    message = str(caught.value)
    assert "within 0.5 s" in message and "250 value nodes" in message
    assert "summarise=True" in message and "render_timeout" in message
    assert isinstance(caught.value, RenderError)
    assert caught.value.nodes == 250 and caught.value.limit == 0.5
    assert processes_with(marked_dot) == []  # killed and reaped, not left running


@pytest.mark.skipif(not HAS_PROC, reason="needs Linux /proc")
def test_every_rendering_path_is_bounded(monkeypatch, tmp_path):
    marked_dot = mark_children(monkeypatch)
    out = shared_weight_chain(124)
    drawing = draw(out)
    drawing.render_timeout = 0.3  # an attribute, as the docstring says
    with pytest.raises(RenderTimeoutError):
        drawing.render(tmp_path / "graph", format="svg")
    assert not (tmp_path / "graph.svg").exists()
    with pytest.raises(RenderTimeoutError):
        drawing._repr_mimebundle_()  # Jupyter's inline display
    with pytest.raises(RenderTimeoutError):
        drawing.copy().pipe()
    with pytest.raises(RenderTimeoutError):
        save_frames(out, tmp_path / "frames", render_timeout=0.3)
    assert processes_with(marked_dot) == []


def test_a_layout_past_the_memory_bound_says_what_to_do():
    # Measured (RLIMIT_DATA): dot lays out the Kramer chain with 20 MiB (not with 10); a
    # chain of 6001 nodes fails with 50 MiB within 0.3 s (and runs on past 10 s with 100).
    # The limit counts address space reserved, not used: a malloc arena of a second thread
    # reserves 64 MiB at once, and one CI run (Python 3.10, loaded machine) needed it, so the
    # small drawing gets room for it.
    small = draw(kramer_chain()["out"], render_memory=100 * 2**20)
    assert ET.fromstring(small.pipe(format="svg")).tag == f"{SVG}svg"
    x = Value(0.5, "x")
    y = x
    for _ in range(3000):
        y = y * 1.0001 + x
    with pytest.raises(RenderMemoryError, match="ran out of memory .*40 MiB.*6001 value "
                                               "nodes.*summarise=True.*render_memory"):
        draw(y, max_nodes=None, render_memory=40 * 2**20).pipe(format="svg")


def test_a_weight_shared_by_sixty_layers_lays_out_well_within_the_bound():
    out = shared_weight_chain(60)
    out.backward()
    nodes, _ = parse(svg_of(draw(out, render_timeout=15)))
    drawn = sorted(texts[0] for texts in (t for _, t in nodes.values()) if len(texts) == 3)
    assert len(drawn) == 122 and {"w", "x", "h1", "h60"} <= set(drawn)


def test_render_bounds_are_checked():
    out = kramer_chain()["out"]
    with pytest.raises(ValueError, match="draw: render_timeout must be a positive number"):
        draw(out, render_timeout=0)
    with pytest.raises(TypeError, match="draw: render_memory must be a positive whole"):
        draw(out, render_memory="2G")
    unbounded = draw(out, render_timeout=None, render_memory=None)
    assert ET.fromstring(unbounded.pipe(format="svg")).tag == f"{SVG}svg"


@pytest.mark.parametrize(("options", "error", "message"), [
    # decimals=-1 failed inside a format string: "Format specifier missing precision".
    ({"decimals": -1}, ValueError, "draw: decimals must be from 1 to 17, got -1"),
    ({"decimals": "2"}, TypeError, "draw: decimals must be a whole number, not '2' \\(str\\)"),
    ({"decimals": 2.0}, TypeError, "draw: decimals must be a whole number, not 2.0"),
    # dot ignored an unknown rankdir and drew top to bottom.
    ({"rankdir": "XY"}, ValueError,
     "draw: rankdir must be one of 'auto', 'wrap', 'LR', 'RL', 'TB', 'BT'"),
    ({"max_nodes": True}, TypeError, "draw: max_nodes must be a positive whole number or "
                                     "None, not True"),
    ({"max_nodes": 0}, ValueError, "draw: max_nodes must be a positive whole number"),
    ({"show_derivatives": "no"}, TypeError, "draw: show_derivatives must be True or False"),
    ({"summarise": 1}, TypeError, "draw: summarise must be True or False, not 1 \\(int\\)"),
    ({"title": 5}, TypeError, "draw: title must be text or None, not int"),
])
def test_draw_options_say_which_option_is_wrong(options, error, message):
    with pytest.raises(error, match=message):
        draw(kramer_chain()["out"], **options)


def test_good_draw_options_still_draw():
    import numpy as np

    out = kramer_chain()["out"]
    assert "data 0.36 " in draw(out, decimals=2).source  # out = 0.3638 (slide), 2 decimals
    assert "rankdir=TB" in draw(out, rankdir="TB", summarise=np.bool_(False)).source


def test_save_frames_directory_must_be_a_path():
    with pytest.raises(TypeError, match="save_frames: directory must be a path"):
        save_frames(kramer_chain()["out"], 5)


def test_roles_are_coloured_and_the_legend_names_them():
    # Kramer: s0 is the input, w0 w1 w2 the weights, out the output; a cost labelled C the
    # loss (torchviz colours leaves and outputs too).
    n = kramer_chain()
    source = draw(n["out"]).source
    fill = {role: colours[0] for role, colours in ROLES.items()}
    assert f'fillcolor="{fill["input"]}"' in block_of(source, "{ s0 |")
    for weight in ("w0", "w1", "w2"):
        assert f'fillcolor="{fill["parameter"]}"' in block_of(source, f"{{ {weight} |")
    assert f'fillcolor="{fill["output"]}"' in block_of(source, "{ out |")
    legend = block_of(source, "legend [")
    assert ">input<" in legend and ">parameter (weight, bias)<" in legend
    cost = 0.5 * (n["out"] - 0.7) ** 2
    cost.label = "C"
    assert f'fillcolor="{fill["loss"]}"' in block_of(draw(cost).source, "{ C |")
    assert "legend" not in draw(n["out"], roles=False).source


def test_a_frame_draws_the_flow_backward_and_marks_what_is_done():
    # Step 3 of 5 (x2 = w1·s1): out and s2 are done, x2 is processed, w1 and s1 receive;
    # x1, w0 and s0 are not reached. The gradient flows against the forward arrows.
    n = kramer_chain()
    recorded = trace(n["out"], accumulate=False)
    source = draw(n["out"], step=recorded[2]).source
    for done in ("out", "s2", "w2"):
        assert f'fillcolor="{DONE_FILL}"' in block_of(source, f"{{ {done} |"), done
    assert f'fillcolor="{STEP_FILL}"' in block_of(source, "{ x2 |")
    for pending in ("x1", "w0", "s0"):
        assert "style=dashed" in block_of(source, f"{{ {pending} |"), pending
    flow = [line for line in source.splitlines() if "dir=back" in line]
    assert len(flow) == 3  # x2's operation to x2, and to each of its two inputs
    legend = block_of(source, "legend [")
    assert ">gradient complete<" in legend and ">not reached yet (·)<" in legend


def block_of(source, start):
    """The DOT statement of the node whose record label starts with ``start``."""
    line = next(line for line in source.splitlines() if start in line)
    return line


def _svg_size(root):
    return tuple(float(root.get(side).removesuffix("pt")) for side in ("width", "height"))


def test_wrap_lays_the_kramer_chain_out_in_rows_near_16_to_9():
    # The chain left to right was 14.5:1 (about 7 pt text on a 16:9 slide). Wrapped: rows,
    # left to right, one under the other, the whole close to 16:9 (between 4:3 and 2:1).
    n = kramer_chain()
    n["out"].backward()
    root = svg_of(draw(n["out"], rankdir="wrap", show_derivatives=True))
    width, height = _svg_size(root)
    assert 4 / 3 <= width / height <= 2, (width, height)
    y = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node" and g.find(f"{SVG}title").text != "legend":
            texts = [t for t in g.iter(f"{SVG}text")]
            if len(texts) == 3:
                y[texts[0].text] = float(texts[0].get("y"))
    rows = sorted({round(v) for v in y.values()})
    assert len(rows) == 3  # s0 → x1, then s1 → x2, then s2 → out
    assert y["s0"] < y["s1"] < y["s2"] and y["x1"] < y["x2"] < y["out"]
    # the values are those of the slide, in the tables' cells
    nodes, _ = parse(root)
    drawn = {texts[0]: texts[1:] for _, texts in nodes.values() if len(texts) == 3}
    assert drawn["s2"] == ["data 0.7275", "grad 0.5"] and drawn["out"][1] == "grad 1"


def test_a_network_is_not_wrapped_but_drawn_across():
    loss, _, _ = hand_labelled_network()
    assert "rankdir=LR" in draw(loss, rankdir="wrap").source
