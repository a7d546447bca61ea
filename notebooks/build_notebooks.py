"""Write the five lecture notebooks from the cell sources below, execute them, save the outputs.

The notebooks in this folder are generated: edit the cells here, then run

    python notebooks/build_notebooks.py          # build and execute all five
    python notebooks/build_notebooks.py 03 04    # only the notebooks whose names start so

Each notebook is executed from a clean ``python3`` kernel with ``notebooks/`` as the working
directory (as ``tests/test_notebooks.py`` does) and saved *with* its outputs, so it reads well
on GitHub. The test suite checks that the saved notebooks still match these sources.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds for one cell; the slowest (training a net) takes a few

Cell = tuple[str, str]  # ("markdown" | "code", source)


def md(source: str) -> Cell:
    return ("markdown", textwrap.dedent(source).strip("\n"))


def code(source: str) -> Cell:
    return ("code", textwrap.dedent(source).strip("\n"))


# Every notebook starts the same way: small inline figures keep the saved notebooks light.
SETUP = code(r"""
    %matplotlib inline
    import math

    import matplotlib.pyplot as plt
    import numpy as np

    plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (7, 3.2), "axes.grid": True,
                         "grid.alpha": 0.3})
""")


# ============================================================================ notebook 1

KRAMER: list[Cell] = [
    md(r"""
    # 1 · The chain rule by hand and by graph

    *Mark Kramer, "Backpropagation": one path through a "simple" neural network, worked with
    numbers.*

    $$s_0 \xrightarrow{\;w_0\;} x_1 \xrightarrow{\;S\;} s_1 \xrightarrow{\;w_1\;} x_2
      \xrightarrow{\;S\;} s_2 \xrightarrow{\;w_2\;} \text{out}, \qquad
      S(x) = \frac{1}{1 + e^{-x}}$$

    The slides guess the weights $w_0 = 2$, $w_1 = 1$, $w_2 = 0.5$, run the network forward on
    $s_0 = 2$, work backwards from the output with the chain rule, and then use the
    derivatives to move the weights downhill on a cost. This notebook does each step with
    the engine and checks it against the slides.
    """),
    SETUP,
    md(r"""
    ## Forward propagation (slide "Forward propagation")

    $x_1 = w_0 s_0 = 4$, $s_1 = S(4) = 0.982$, $x_2 = w_1 s_1 = 0.982$,
    $s_2 = S(0.982) = 0.7275$, $\text{out} = w_2 s_2 = 0.3638$. Target: $0.7$. *Match? NO.*
    """),
    code(r"""
    from autograd_lite import Value, sigmoid


    def kramer_chain(s0=2.0, w0=2.0, w1=1.0, w2=0.5):
        # The slide's network, every node labelled as on the slide.
        s0, w0, w1, w2 = Value(s0, "s0"), Value(w0, "w0"), Value(w1, "w1"), Value(w2, "w2")
        x1 = w0 * s0
        s1 = sigmoid(x1)
        x2 = w1 * s1
        s2 = sigmoid(x2)
        out = w2 * s2
        for node, label in ((x1, "x1"), (s1, "s1"), (x2, "x2"), (s2, "s2"), (out, "out")):
            node.label = label
        return dict(s0=s0, w0=w0, w1=w1, w2=w2, x1=x1, s1=s1, x2=x2, s2=s2, out=out)


    n = kramer_chain()                        # the slide's s0 = 2, w0 = 2, w1 = 1, w2 = 0.5
    slide = {"x1": 4, "s1": 0.982, "x2": 0.982, "s2": 0.7275, "out": 0.3638}
    for name, printed in slide.items():
        digits = len(str(printed).partition(".")[2])      # as many decimals as the slide
        print(f"{name:>3} = {n[name].data:.6f}   slide: {printed}")
        assert round(n[name].data, digits) == printed, name
    """),
    md(r"""
    ## The sigmoid's derivative, three ways

    The slides spend four pages on $\frac{d}{dx}\frac{1}{1 + e^{-x}}$: the **quotient rule**
    gives $\frac{e^{-x}}{(1 + e^{-x})^2}$, and "with faith" this is $S(x)(1 - S(x))$, so
    $\frac{ds_2}{dx_2} = s_2(1 - s_2)$.

    1. **SymPy**, doing the slide's quotient rule step by step;
    2. **the engine**: the one rule the sigmoid has in the table of primitives
       (`autograd_lite/primitives.py`), read as a formula (over SymPy symbols) and as a number;
    3. **finite differences**: wiggle $x_2$ and watch $s_2$ — the slides' "idea: wiggle".
    """),
    code(r"""
    import sympy as sp

    from autograd_lite.primitives import FLOAT, SIGMOID
    from autograd_lite.symbolic import sympy_namespace

    x = sp.Symbol("x")
    numerator, denominator = sp.Integer(1), 1 + sp.exp(-x)
    # Quotient rule: (den * d(num) - num * d(den)) / den^2
    quotient_rule = (denominator * sp.diff(numerator, x)
                     - numerator * sp.diff(denominator, x)) / denominator**2
    print("quotient rule:", quotient_rule)                     # exp(-x)/(1 + exp(-x))**2
    S_x = numerator / denominator

    # The engine's rule, read from the table: inputs (x), the output (s2), a namespace.
    s2 = sp.Symbol("s2")
    table_formula = SIGMOID.derivatives[0](x, s2, sympy_namespace())
    print("the table's rule:", table_formula)                  # s2*(1 - s2)
    assert sp.simplify(table_formula.subs(s2, S_x) - quotient_rule) == 0

    # Numbers at the slide's x2 = 0.982: the table's rule, SymPy, and finite differences.
    x2 = n["x2"].data
    by_table = SIGMOID.derivatives[0](x2, n["s2"].data, FLOAT)
    by_sympy = float(quotient_rule.subs(x, x2))
    h = 1e-6
    by_wiggle = (sigmoid(Value(x2 + h)).data - sigmoid(Value(x2 - h)).data) / (2 * h)
    print(f"ds2/dx2 at x2 = {x2:.4f}: table {by_table:.10f}, SymPy {by_sympy:.10f}, "
          f"finite differences {by_wiggle:.10f}")
    assert math.isclose(by_table, by_sympy, rel_tol=1e-14)
    assert math.isclose(by_table, by_wiggle, rel_tol=1e-8)
    """),
    md(r"""
    ## The three chain-rule formulas (`explain`)

    The slides' summary:

    $$\frac{d\,\text{out}}{dw_2} = s_2, \qquad
      \frac{d\,\text{out}}{dw_1} = w_2\; s_2(1 - s_2)\; s_1, \qquad
      \frac{d\,\text{out}}{dw_0} = w_2\; s_2(1 - s_2)\; w_1\; s_1(1 - s_1)\; s_0 .$$

    `explain(out, w)` reads them off the graph: one factor per edge on the path from `w` to
    `out`, each the table's local derivative written in the labels of its neighbours.
    The slide's formulas are typed in below as SymPy expressions and compared.
    """),
    code(r"""
    from autograd_lite import explain

    out = n["out"]
    out.backward()
    w0, w1, w2, s0, s1 = sp.symbols("w0 w1 w2 s0 s1")
    slide_formulas = {
        "w2": s2,
        "w1": w2 * s2 * (1 - s2) * s1,
        "w0": w2 * s2 * (1 - s2) * w1 * s1 * (1 - s1) * s0,
    }
    values = {sp.Symbol(k): n[k].data for k in ("w0", "w1", "w2", "s0", "s1", "s2")}
    for name, formula in slide_formulas.items():
        explanation = explain(out, n[name])
        print(explanation)
        assert sp.simplify(explanation.expression - formula) == 0, name
        by_hand = float(formula.subs(values))             # the slide's formula, evaluated
        assert math.isclose(explanation.value, by_hand, rel_tol=1e-14)
        assert math.isclose(n[name].grad, by_hand, rel_tol=1e-14)   # and backward() agrees
    """),
    code(r"""
    explain(out, n["w0"])                     # in Jupyter: typeset
    """),
    md(r"""
    ## The graph, with the path to $w_0$

    `draw` shows every node's data and gradient; `show_derivatives=True` writes each edge's
    local derivative (formula and number); `highlight` colours the path the chain rule for
    $\frac{d\,\text{out}}{dw_0}$ walks. Multiply the numbers along the highlighted path and you
    get $w_0$'s grad.
    """),
    code(r"""
    from autograd_lite import draw

    draw(out, show_derivatives=True, highlight=n["w0"])
    """),
    md(r"""
    ## The backward pass, step by step

    `trace` records the pass in the order the engine runs it (reverse topological order,
    output first): which node, its upstream gradient, each input's local derivative, and the
    product added to the input's gradient. "Work *backwards* from output to weight, computing
    derivatives along the way."
    """),
    code(r"""
    from autograd_lite import trace

    backward_pass = trace(out, accumulate=False)      # leaves .grad as it is
    # The pass reaches w2 first, then w1, then w0: the order of the slides.
    reached = [c.name for step in backward_pass for c in step.contributions
               if c.name in ("w0", "w1", "w2")]
    assert reached == ["w2", "w1", "w0"]
    backward_pass
    """),
    md(r"""
    The same pass as frames, one per step (`save_frames` writes them as SVG files, e.g. for
    slides; here they are shown inline). The node being processed is filled, the edges carry
    the contributions it sends, and `·` marks gradients the pass has not reached yet.
    """),
    code(r"""
    import tempfile

    from IPython.display import SVG, display

    from autograd_lite import save_frames

    frames = save_frames(out, tempfile.mkdtemp(prefix="kramer-frames-"), format="svg")
    print(f"{len(frames)} frames:", ", ".join(path.name for path in frames))
    assert len(frames) == len(backward_pass) == 5   # out, s2, x2, s1, x1: one per operation
    for path in frames:
        display(SVG(filename=str(path)))
    """),
    md(r"""
    ## Moving downhill: the cost and gradient descent

    Cost $C = \frac12(\text{target} - \text{out})^2$, so $\frac{dC}{d\,\text{out}} =
    \text{out} - \text{target}$, and by the chain rule $\frac{dC}{dw} = (\text{out} -
    \text{target})\,\frac{d\,\text{out}}{dw}$. The slide's updates:

    $$\begin{aligned}
    w_2 &\leftarrow w_2 - \alpha(\text{out} - \text{target})\,s_2 \\
    w_1 &\leftarrow w_1 - \alpha(\text{out} - \text{target})\,w_2\, s_2(1 - s_2)\, s_1 \\
    w_0 &\leftarrow w_0 - \alpha(\text{out} - \text{target})\,w_2\, s_2(1 - s_2)\, w_1\,
          s_1(1 - s_1)\, s_0
    \end{aligned}$$

    With the engine the loop is four lines: forward, `backward()`, `w.data -= alpha * w.grad`,
    repeat. The first step is checked against the slide's formulas.
    """),
    code(r"""
    target, alpha, steps = 0.7, 0.2, 100          # change: the learning rate, the steps
    weights = {"w0": 2.0, "w1": 1.0, "w2": 0.5}   # "1. Choose random initial weights"
    costs, outs = [], []
    for step in range(steps):
        g = kramer_chain(2.0, **weights)          # "2. Fix input ... and calculate out"
        cost = 0.5 * (target - g["out"]) ** 2
        cost.backward()
        if step == 0:                             # the slide's update rules, by hand
            out_, s0_, s1_, s2_, w1_, w2_ = (g[k].data for k in ("out", "s0", "s1", "s2",
                                                                 "w1", "w2"))
            error = out_ - target
            by_slide = {"w2": error * s2_,
                        "w1": error * w2_ * s2_ * (1 - s2_) * s1_,
                        "w0": error * w2_ * s2_ * (1 - s2_) * w1_ * s1_ * (1 - s1_) * s0_}
            for name, dC in by_slide.items():
                assert math.isclose(g[name].grad, dC, rel_tol=1e-13), name
        for name in weights:                      # "3. Update the weights"
            weights[name] -= alpha * g[name].grad
        costs.append(cost.data)
        outs.append(g["out"].data)                # "4. Repeat ..."

    print(f"out: {outs[0]:.4f} -> {outs[-1]:.4f} (target {target}); weights now",
          {k: round(v, 4) for k, v in weights.items()})
    assert abs(outs[-1] - target) < 1e-3 and costs[-1] < costs[0] / 1000

    fig, (ax_c, ax_o) = plt.subplots(1, 2, figsize=(9, 3))
    ax_c.plot(costs)
    ax_c.set(yscale="log", xlabel="step", ylabel="C = ½(target − out)²", title="cost")
    ax_o.plot(outs)
    ax_o.axhline(target, color="gray", ls=":")
    ax_o.set(xlabel="step", ylabel="out", title="out approaches the target");
    """),
    md(r"""
    Notice that $w_0$ hardly moved while $w_2$ nearly doubled: $w_0$'s gradient carries both
    sigmoid slopes, and $s_1(1 - s_1) = 0.0177$ at $x_1 = 4$. The weights far from the output
    learn slowly — the *vanishing gradient* of notebook 4.
    """),
    code(r"""
    moved = {name: weights[name] - start for name, start in (("w0", 2.0), ("w1", 1.0),
                                                                ("w2", 0.5))}
    print({name: f"{change:+.4f}" for name, change in moved.items()})
    assert abs(moved["w0"]) < abs(moved["w1"]) < abs(moved["w2"])
    """),
    md(r"""
    ## "What weights ($w_0\ w_1\ w_2$) produced these data?"

    The slides end with a table of $(s_0, \text{out})$ rows and that question. Gradient
    descent on the total cost over the rows answers it. `nn` has the rows
    (`nn.data.kramer()`) and Kramer's network is an `MLP` one unit wide, sigmoid, linear
    output, no biases; `nn.fit` runs the loop above over all rows per step. Plain gradient
    descent crawls along a long flat valley of the cost; momentum ("keep moving in the
    direction of the previous update", Kauchak) gets there.
    """),
    code(r"""
    import nn
    from nn.optim import SGD

    rows = nn.data.kramer()                       # the six rows printed on the slides
    slide_rows = [(0.32625098, 0.71507894), (-0.65595776, 1.0065779), (-0.9664146, 1.09676408),
                  (1.53148642, 0.48558244), (-1.07312405, 1.12584863), (1.32680081, 0.51212226)]
    assert [(x[0], y) for x, y in zip(*rows)] == slide_rows


    def fit_kramer(optimizer, epochs):
        model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear",
                       bias=False)
        model.set_parameters([2.0, 1.0, 0.5])     # start from the slides' guess
        history = nn.fit(model, rows, loss="half_squared_error", optimizer=optimizer(model),
                         epochs=epochs, progress=False)
        return model, history


    plain, plain_history = fit_kramer(lambda m: SGD(m, lr=3.0), 3000)
    model, history = fit_kramer(lambda m: SGD(m, lr=0.3, momentum=0.98), 6000)
    found = [p.data for p in model.parameters()]
    print("plain gradient descent:", [round(p.data, 3) for p in plain.parameters()],
          f"cost {plain_history.loss[-1]:.1e}")
    print("with momentum 0.98:    ", [round(w, 3) for w in found], f"cost {history.loss[-1]:.1e}")
    """),
    md(r"""
    The answer looks like $(w_0, w_1, w_2) = (1, -2, 3)$. Check it independently, in NumPy:
    those weights reproduce every printed row to its 8 decimals — so gradient descent found
    the weights that produced the data.
    """),
    code(r"""
    s0_rows = np.array([r[0] for r in slide_rows])
    out_rows = np.array([r[1] for r in slide_rows])


    def S_np(x):
        return 1 / (1 + np.exp(-x))


    def network(w0, w1, w2, s0):
        return w2 * S_np(w1 * S_np(w0 * s0))


    assert np.abs(network(1, -2, 3, s0_rows) - out_rows).max() < 1e-8   # (1, -2, 3) is it
    assert np.allclose(found, [1, -2, 3], atol=0.05)                     # and the fit found it

    fig, (ax_l, ax_d) = plt.subplots(1, 2, figsize=(9, 3))
    ax_l.plot(plain_history.loss, label="plain, α = 3")
    ax_l.plot(history.loss, label="momentum 0.98, α = 0.3")
    ax_l.set(yscale="log", xlabel="epoch", ylabel="mean cost", title="fitting the six rows")
    ax_l.legend(fontsize=8)
    grid = np.linspace(-2.5, 2.5, 200)
    ax_d.plot(grid, network(*found, grid), label="fitted network")
    ax_d.plot(s0_rows, out_rows, "o", label="slide rows")
    ax_d.set(xlabel="s0", ylabel="out", title="out = w2·S(w1·S(w0·s0))")
    ax_d.legend(fontsize=8);
    """),
    md(r"""
    **Try:** start from other weights in `fit_kramer` (some starts end in a different valley —
    the cost is not convex); use `nn.data.kramer(n=100)` for more rows of the same kind;
    change `alpha` in the single-target loop and watch the cost curve.
    """),
]


# ============================================================================ notebook 2

KAUCHAK: list[Cell] = [
    md(r"""
    # 2 · Hidden layers and XOR

    *David Kauchak, CS159 "Backpropagation".* One hidden layer: $m$ inputs $x_j$, $d$ hidden
    units with weights $w_{kj}$ (first index the hidden node, second the feature) and outputs
    $h_k = f(w_k \cdot x)$, one output $\hat y = f(v \cdot h)$ with weights $v_k$, squared
    error $\text{loss} = \frac12 (y - \hat y)^2$, and $f$ the sigmoid.

    The slides derive, "mostly just calculus":

    $$\frac{d\,\text{loss}}{dv_k} = -(y - f(v\cdot h))\, f'(v\cdot h)\, h_k, \qquad
      \frac{d\,\text{loss}}{dw_{kj}} = -(y - f(v\cdot h))\, f'(v\cdot h)\, v_k\,
      f'(w_k\cdot x)\, x_j$$

    and the updates with learning rate $\eta$:

    $$v_k \leftarrow v_k + \eta\, h_k\, (y - f(v\cdot h))\, f'(v\cdot h), \qquad
      w_{kj} \leftarrow w_{kj} + \eta\, x_j\, f'(w_k\cdot x)\, v_k\, f'(v\cdot h)\,
      (y - f(v\cdot h)).$$
    """),
    SETUP,
    md(r"""
    ## The update rules, checked against the engine

    The slide's formulas in NumPy (with $f' = f(1 - f)$), next to an `nn.MLP` with the same
    weights: `MLP(m, [d, 1], activation="sigmoid", output_activation="sigmoid", bias=False)`
    is exactly the slide's network. Its `parameters()` come layer by layer, neuron by neuron:
    $w_{11} \dots w_{1m}, \dots, w_{d1} \dots w_{dm}, v_1 \dots v_d$.
    """),
    code(r"""
    import nn
    from nn.optim import SGD

    m, d = 3, 4                                   # change: features, hidden nodes
    rng = np.random.default_rng(159)
    W = rng.normal(size=(d, m))                   # W[k, j] = w_kj
    v = rng.normal(size=d)
    x = rng.normal(size=m)
    y = 1.0


    def f(z):
        return 1 / (1 + np.exp(-z))


    def f_prime(z):                               # the sigmoid's slope, by hand
        return f(z) * (1 - f(z))


    h = f(W @ x)                                  # h_k = f(w_k . x)
    y_hat = f(v @ h)
    error = y - y_hat                             # "how far from correct and which direction"
    dloss_dv = -error * f_prime(v @ h) * h
    dloss_dW = -error * f_prime(v @ h) * np.outer(v * f_prime(W @ x), x)

    model = nn.MLP(m, [d, 1], activation="sigmoid", output_activation="sigmoid", bias=False)
    model.set_parameters([*W.ravel(), *v])
    loss = nn.losses.half_squared_error(model(list(x)), y)
    loss.backward()
    grads = np.array([p.grad for p in model.parameters()])
    engine_dW, engine_dv = grads[:d * m].reshape(d, m), grads[d * m:]

    print(f"y_hat = {y_hat:.6f}, loss = {loss.data:.6f}")
    print("dloss/dv_k  slide: ", np.round(dloss_dv, 6))
    print("            engine:", np.round(engine_dv, 6))
    assert math.isclose(loss.data, 0.5 * error**2, rel_tol=1e-14)
    assert np.allclose(engine_dv, dloss_dv, rtol=1e-12, atol=1e-15)
    assert np.allclose(engine_dW, dloss_dW, rtol=1e-12, atol=1e-15)
    """),
    md(r"""
    One step of SGD on the engine's gradients is the slide's update, term by term. And the
    slide's intuition holds: the prediction is below the label, so $v_k$ grows wherever
    $h_k > 0$ — "bigger difference = bigger change".
    """),
    code(r"""
    eta = 0.5
    SGD(model, lr=eta).step()
    new = np.array([p.data for p in model.parameters()])
    slide_v = v + eta * h * error * f_prime(v @ h)
    slide_W = W + eta * np.outer(f_prime(W @ x) * v * f_prime(v @ h) * error, x)
    assert np.allclose(new[d * m:], slide_v, rtol=1e-12)
    assert np.allclose(new[:d * m].reshape(d, m), slide_W, rtol=1e-12)
    assert error > 0 and np.all(new[d * m:] > v)     # prediction < label: increase the weights
    print("after one step: v =", np.round(new[d * m:], 4))
    """),
    md(r"""
    ## A perceptron cannot learn XOR

    | $x_1$ | $x_2$ | $x_1$ xor $x_2$ |
    |---|---|---|
    | 0 | 0 | 0 |
    | 0 | 1 | 1 |
    | 1 | 0 | 1 |
    | 1 | 1 | 0 |

    The perceptron convergence procedure (as in Lecture 5): add a component 1 to each input
    (its weight is the bias); if the output is 0 but should be 1, add the input to the
    weights; if 1 but should be 0, subtract it. It "is guaranteed to find a set of weights
    that gets the right answer on the whole training set *if any such set exists*". For AND
    one exists. For XOR none does — no line separates $\{(0,1), (1,0)\}$ from $\{(0,0),
    (1,1)\}$ — so the perceptron keeps making mistakes, every epoch, forever.
    """),
    code(r"""
    xor_x, xor_y = nn.data.xor()
    and_y = [float(a and b) for a, b in xor_x]


    def perceptron_mistakes(xs, ys, epochs=50):
        w = np.zeros(3)
        mistakes = []
        for _ in range(epochs):
            wrong = 0
            for x, t in zip(xs, ys):
                features = np.array([*x, 1.0])
                output = float(w @ features > 0)
                if output != t:
                    w += features if t == 1 else -features
                    wrong += 1
            mistakes.append(wrong)
        return mistakes


    and_mistakes = perceptron_mistakes(xor_x, and_y)
    xor_mistakes = perceptron_mistakes(xor_x, xor_y)
    print("AND: mistakes per epoch", and_mistakes[:12], "...")
    print("XOR: mistakes per epoch", xor_mistakes[:12], "...")
    assert and_mistakes[-1] == 0
    assert min(xor_mistakes) >= 1                # never a clean epoch on XOR

    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.plot(and_mistakes, "o-", ms=3, label="AND")
    ax.plot(xor_mistakes, "o-", ms=3, label="XOR")
    ax.set(xlabel="epoch", ylabel="mistakes", title="perceptron convergence procedure")
    ax.legend();
    """),
    md(r"""
    ## A hidden layer learns it

    A 2-4-1 sigmoid network (with biases: a bias is a weight on a constant input 1, so the
    rules above apply to it unchanged), trained the way the slide "Backpropagation
    implementation" says: *for some number of iterations: randomly shuffle training data;
    for each example: compute all outputs going forward, backpropagate, update.* That is
    `nn.fit(..., batch_size=1, shuffle=True)`.
    """),
    code(r"""
    hidden, lr, epochs = 4, 2.0, 1000             # change: try hidden = 2 (and other seeds)
    net = nn.MLP(2, [hidden, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    history = nn.fit(net, (xor_x, xor_y), loss="half_squared_error",
                     optimizer=SGD(net, lr=lr), epochs=epochs, batch_size=1, shuffle=True,
                     seed=0, progress=False)
    outputs = nn.predict(net, xor_x)
    for x, t, o in zip(xor_x, xor_y, outputs):
        print(f"x = {x}  target {t:.0f}  network {o:.3f}")
    assert [round(o) for o in outputs] == xor_y
    print(f"{history.epochs} epochs, {history.steps} updates, final mean loss "
          f"{history.loss[-1]:.2e}")

    fig, (ax_l, ax_s) = plt.subplots(1, 2, figsize=(9, 3.2))
    history.plot(ax=ax_l)
    ax_l.set_title("online SGD on XOR")
    grid = np.linspace(-0.5, 1.5, 41)
    surface = np.array(nn.predict(net, [[a, b] for b in grid for a in grid])).reshape(41, 41)
    shown = ax_s.contourf(grid, grid, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
    for target, marker in ((0.0, "X"), (1.0, "o")):
        points = np.array([x for x, t in zip(xor_x, xor_y) if t == target])
        ax_s.scatter(*points.T, marker=marker, s=90, c="white", edgecolors="k",
                     label=f"target {target:.0f}")
    fig.colorbar(shown, ax=ax_s, label="ŷ")
    ax_s.legend(fontsize=8, loc="center left")
    ax_s.set(title="the network's output", xlabel="x1", ylabel="x2");
    """),
    md(r"""
    The hidden units are the features a perceptron was missing: each draws one line, and the
    output unit combines them.

    ## Momentum versus plain SGD

    "Momentum: include a factor in the weight update to keep moving in the direction of the
    previous update": $\Delta w \leftarrow \mu\, \Delta w - \eta\, \frac{d\,\text{loss}}{dw}$,
    $w \leftarrow w + \Delta w$. Same networks (three seeds), same learning rate; $\mu = 0.9$
    against $\mu = 0$.
    """),
    code(r"""
    def train_xor(seed, momentum=0.0, batch_size=1, epochs=800, lr=2.0):
        net = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
        history = nn.fit(net, (xor_x, xor_y), loss="half_squared_error",
                         optimizer=SGD(net, lr=lr, momentum=momentum), epochs=epochs,
                         batch_size=batch_size, seed=seed, progress=False)
        return net, history


    def epochs_to(history, level=0.01):
        # the first epoch whose mean loss is below `level` (None: never)
        return next((e + 1 for e, loss in enumerate(history.loss) if loss < level), None)


    fig, ax = plt.subplots()
    for seed, color in zip(range(3), ("C0", "C1", "C2")):
        _, plain_history = train_xor(seed)
        _, momentum_history = train_xor(seed, momentum=0.9)
        ax.plot(plain_history.loss, color=color, ls="--", label=f"seed {seed}, plain")
        ax.plot(momentum_history.loss, color=color, label=f"seed {seed}, momentum 0.9")
        plain_epochs, momentum_epochs = epochs_to(plain_history), epochs_to(momentum_history)
        print(f"seed {seed}: loss < 0.01 after {plain_epochs} epochs plain, "
              f"{momentum_epochs} with momentum")
        assert momentum_epochs is not None and (plain_epochs is None
                                                or momentum_epochs < plain_epochs)
    ax.set(yscale="log", xlabel="epoch", ylabel="mean ½(y − ŷ)²", title="XOR, 2-4-1, η = 2")
    ax.legend(fontsize=7, ncol=2);
    """),
    md(r"""
    ## Shuffled online, mini-batch, and full batch

    Online SGD updates after every example (in a fresh random order each epoch); full batch
    after the mean gradient of all four; a mini-batch of two is the slide's "compromise
    between online and batch: avoids noisiness of updates from online while making more
    educated weight updates". Per *epoch*, online makes the most updates and learns fastest;
    per *update*, the larger batches move more steadily. The loss of each update's batch
    shows the noise.
    """),
    code(r"""
    runs = {name: train_xor(0, batch_size=size, epochs=1500)
            for name, size in (("online (1)", 1), ("mini-batch (2)", 2), ("full batch (4)", 4))}

    fig, (ax_e, ax_s) = plt.subplots(1, 2, figsize=(9, 3.2))
    for name, (net, history) in runs.items():
        ax_e.plot(history.loss, label=name)
        ax_s.plot(history.step_loss[:200], lw=0.8, label=name)
        accuracy = nn.accuracy(net, xor_x, xor_y)
        wiggle = np.mean(np.abs(np.diff(history.step_loss[:200])))
        print(f"{name:>15}: {history.steps:>5} updates, final loss {history.loss[-1]:.4f}, "
              f"accuracy {accuracy:.0%}, mean |change of batch loss| per update {wiggle:.4f}")
        assert accuracy == 1.0, name
    ax_e.set(yscale="log", xlabel="epoch", ylabel="mean loss", title="per epoch")
    ax_s.set(xlabel="update", ylabel="loss of the update's batch", title="the first 200 updates")
    ax_e.legend(fontsize=8);
    """),
    code(r"""
    # Online updates jump from example to example; the full batch's loss moves smoothly.
    noise = {name: np.mean(np.abs(np.diff(h.step_loss[:200]))) for name, (_, h) in runs.items()}
    assert noise["online (1)"] > noise["mini-batch (2)"] > noise["full batch (4)"]
    """),
    md(r"""
    **Try:** `hidden = 2` with other seeds — some runs get stuck with one example wrong
    (the slides: "loss functions … are generally not convex"); a smaller `lr`; momentum 0.99.
    """),
]


# ============================================================================ notebook 3

DELTA_RECURSION: list[Cell] = [
    md(r"""
    # 3 · The δ recursion in matrix form

    *Haghtalab & Joachims, "Backpropagation in Networks" (Lecture 14), written with column
    matrices as on their slides.*

    The slides describe a network by weight matrices $W_0, W_1, \dots, W_{d-1}$; column $j$ of
    $W_\ell$ holds the weights going *into* node $j$ of layer $\ell+1$. The **forward pass**:

    $$\vec v_0 = (\vec x, 1), \qquad s_\ell = W_{\ell-1}^\top \vec v_{\ell-1}, \qquad
      \vec v_\ell = \sigma(s_\ell), \qquad L = \tfrac12 (v_d - y)^2 .$$

    The **backward pass** (slide "Back Propagation") runs one recursion from the output down:

    $$\delta_d = \frac{\partial L}{\partial v_d}\,\sigma'(s_d), \quad
      \frac{\partial L}{\partial v_d} = v_d - y, \qquad
      \delta_\ell = (W_\ell\, \delta_{\ell+1}) \odot \sigma'(s_\ell), \qquad
      \frac{\partial L}{\partial W_\ell} = \vec v_\ell\, \delta_{\ell+1}^\top .$$

    $\delta_\ell$ is $\partial L / \partial s_\ell$: how the loss changes with the weighted sums
    of layer $\ell$. Below, the recursion is written in NumPy exactly as on the slide, and the
    same network is built out of scalar `Value`s. The engine knows nothing about matrices or
    δ — it applies the chain rule node by node — and the two must agree to the last digits.
    """),
    SETUP,
    code(r"""
    from autograd_lite import Value, gradients

    # Change these: the layer sizes (the first counts the constant 1 appended to x), the seed.
    sizes = [3, 4, 3, 1]          # x has 2 entries; v_0 = (x, 1) has 3
    rng = np.random.default_rng(seed=14)

    x = rng.normal(size=(sizes[0] - 1, 1))          # a column
    y = 1.0
    W = [rng.normal(size=(sizes[l], sizes[l + 1])) for l in range(len(sizes) - 1)]
    v0 = np.vstack([x, [[1.0]]])                     # v_0 = (x, 1)
    print("shapes of W_0 ... W_d-1:", [w.shape for w in W])
    """),
    md(r"""
    ## The slide's algorithm in NumPy

    $\sigma'(s) = \sigma(s)(1 - \sigma(s))$ is written here from the slide's activation table,
    independently of the engine: this cell is the *independent* computation the engine is
    checked against.
    """),
    code(r"""
    def sigma(s):
        return 1.0 / (1.0 + np.exp(-s))


    def sigma_prime(s):                       # slide: sigma'(x) = sigma(x) (1 - sigma(x))
        return sigma(s) * (1.0 - sigma(s))


    def forward(W, v0):
        # s[l], v[l] for l = 0..d (s[0] is unused: the input has no weighted sum)
        s, v = [None], [v0]
        for W_l in W:
            s.append(W_l.T @ v[-1])
            v.append(sigma(s[-1]))
        return s, v


    def backward(W, s, v, y):
        d = len(W)
        delta = [None] * (d + 1)
        dW = [None] * d
        delta[d] = (v[d] - y) * sigma_prime(s[d])          # delta_d = dL/dv_d * sigma'(s_d)
        for l in range(d - 1, -1, -1):
            dW[l] = v[l] @ delta[l + 1].T                    # dL/dW_l = v_l delta_{l+1}^T
            if l > 0:
                delta[l] = (W[l] @ delta[l + 1]) * sigma_prime(s[l])
        return delta, dW


    s, v = forward(W, v0)
    delta, dW_numpy = backward(W, s, v, y)
    loss_numpy = 0.5 * (v[-1].item() - y) ** 2
    print(f"L = {loss_numpy:.6f}")
    for l, g in enumerate(dW_numpy):
        print(f"dL/dW_{l} =\n{np.array2string(g, precision=5)}")
    """),
    md(r"""
    ## The same network out of scalar `Value`s

    One `Value` per weight, labelled `W0[i,j]`; each weighted sum $s_{\ell,j} = \sum_i
    W_{\ell-1}[i,j]\, v_{\ell-1,i}$ is an ordinary Python sum.
    """),
    code(r"""
    W_values = [[[Value(W_l[i, j], f"W{l}[{i},{j}]") for j in range(W_l.shape[1])]
                 for i in range(W_l.shape[0])] for l, W_l in enumerate(W)]

    layer = [Value(float(t)) for t in v0.ravel()]
    sums = []                                   # the s_l nodes, layer by layer
    for W_l in W_values:
        s_l = [sum(W_l[i][j] * layer[i] for i in range(len(layer)))
               for j in range(len(W_l[0]))]
        sums.append(s_l)
        layer = [s.sigmoid() for s in s_l]
    (v_d,) = layer
    L = 0.5 * (v_d - y) ** 2
    L.backward()

    dW_engine = [np.array([[w.grad for w in row] for row in W_l]) for W_l in W_values]
    print(f"L = {L.data:.6f}  (NumPy: {loss_numpy:.6f})")
    for l, (a, b) in enumerate(zip(dW_engine, dW_numpy)):
        print(f"dL/dW_{l}: largest difference engine - NumPy = {np.abs(a - b).max():.1e}")
        assert np.allclose(a, b, rtol=1e-12, atol=1e-15), l
    assert math.isclose(L.data, loss_numpy, rel_tol=1e-14)
    """),
    md(r"""
    The δ's are the engine's gradients of the weighted-sum nodes: $\delta_\ell = \partial L /
    \partial s_\ell$. (`gradients` asks for them without touching any `.grad`.)
    """),
    code(r"""
    for l, s_l in enumerate(sums, start=1):
        engine_delta = np.array(gradients(L, s_l)).reshape(-1, 1)
        assert np.allclose(engine_delta, delta[l], rtol=1e-12, atol=1e-15), l
        print(f"delta_{l} = {np.array2string(delta[l].ravel(), precision=6)}  (engine agrees)")
    """),
    md(r"""
    A third, independent opinion: central finite differences of the NumPy loss,
    $\partial L / \partial W_\ell[i,j] \approx (L(W + h) - L(W - h)) / 2h$, for every weight.
    """),
    code(r"""
    def loss_at(W):
        _, v = forward(W, v0)
        return 0.5 * (v[-1].item() - y) ** 2


    h = 1e-6
    worst = 0.0
    for l in range(len(W)):
        for i, j in np.ndindex(W[l].shape):
            up = [w.copy() for w in W]
            down = [w.copy() for w in W]
            up[l][i, j] += h
            down[l][i, j] -= h
            numeric = (loss_at(up) - loss_at(down)) / (2 * h)
            worst = max(worst, abs(numeric - dW_engine[l][i, j]))
            assert math.isclose(numeric, dW_engine[l][i, j], rel_tol=1e-6, abs_tol=1e-9)
    print(f"largest |finite difference - engine| over all weights: {worst:.1e}")
    """),
    md(r"""
    ## One step of SGD

    The slide's update $W_\ell \leftarrow W_\ell - \eta\, \vec v_\ell\, \delta_{\ell+1}^\top$ in
    NumPy, and `p.data -= eta * p.grad` on every `Value`: the same new weights, and a smaller
    loss.
    """),
    code(r"""
    eta = 0.5
    W_after = [W_l - eta * g for W_l, g in zip(W, dW_numpy)]
    for W_l in W_values:
        for row in W_l:
            for w in row:
                w.data -= eta * w.grad
    for l in range(len(W)):
        assert np.allclose([[w.data for w in row] for row in W_values[l]], W_after[l],
                           rtol=1e-12, atol=1e-15)
    print(f"loss before {loss_numpy:.6f}, after one step {loss_at(W_after):.6f}")
    assert loss_at(W_after) < loss_numpy
    """),
    md(r"""
    ## Why the weights must not start at zero

    The slide "SGD on Non-Convex": *Don't start $W_0, W_1, \dots, W_{d-1} = 0$. Randomize your
    starting weights.* With every weight equal, every hidden unit of a layer computes the same
    $\sigma(\cdot)$ and receives the same $\delta$: entry $j$ of $W_\ell\,\delta_{\ell+1}$ is
    row $j$ of $W_\ell$ (unit $j$'s outgoing weights) times $\delta_{\ell+1}$, and all rows are
    equal. Their weights get identical updates and stay identical forever: a layer of $n$ units
    behaves like **one** unit. At exactly zero it is even worse for the first step:
    $W_\ell\, \delta_{\ell+1} = 0$, so the hidden weights do not move at all.

    First the engine's view, one gradient on the XOR input $(1, 0)$: every column of
    $\partial L / \partial W_0$ — one column per hidden unit — is the same.
    """),
    code(r"""
    def engine_gradients(W, x, y):
        # dL/dW_l from the engine, for a start W given as NumPy arrays
        W_v = [[[Value(float(W_l[i, j])) for j in range(W_l.shape[1])]
                for i in range(W_l.shape[0])] for W_l in W]
        layer = [Value(float(t)) for t in (*x, 1.0)]
        for W_l in W_v:
            layer = [sum(W_l[i][j] * layer[i] for i in range(len(layer))).sigmoid()
                     for j in range(len(W_l[0]))]
        (out,) = layer
        (0.5 * (out - y) ** 2).backward()
        return [np.array([[w.grad for w in row] for row in W_l]) for W_l in W_v]


    xor_sizes = [3, 4, 1]
    constant_start = [np.full((xor_sizes[l], xor_sizes[l + 1]), 0.3) for l in range(2)]
    g0 = engine_gradients(constant_start, (1.0, 0.0), 1.0)[0]
    print("dL/dW_0 from a constant start (one column per hidden unit):\n",
          np.array2string(g0, precision=6))
    assert np.allclose(g0, g0[:, :1]), "all hidden units get the same gradient"
    """),
    md(r"""
    Now train on XOR (four examples, stacked side by side as columns, so the recursion above
    works unchanged on a whole batch) from three starts: all zeros, all 0.3, random. Symmetric
    starts stay symmetric and cannot learn XOR; the random start does. (On XOR the all-zero
    start is even a stationary point: every output is $\sigma(0) = \frac12$, the four
    examples' gradients cancel exactly, and nothing ever moves.)
    """),
    code(r"""
    X = np.array([[0, 0, 1, 1],
                  [0, 1, 0, 1]], dtype=float)          # one example per column
    Y = np.array([[0, 1, 1, 0]], dtype=float)
    V0 = np.vstack([X, np.ones((1, X.shape[1]))])      # (x, 1) for every example


    def train(W, eta=2.0, epochs=2000):
        # Full-batch gradient descent with the slide's recursion; returns weights and losses.
        W = [w.copy() for w in W]
        losses = []
        for _ in range(epochs):
            s, v = forward(W, V0)
            losses.append(float(np.mean(0.5 * (v[-1] - Y) ** 2)))
            _, dW = backward(W, s, v, Y)
            W = [W_l - eta * g / X.shape[1] for W_l, g in zip(W, dW)]
        return W, losses


    starts = {
        "all zeros": [np.zeros((xor_sizes[l], xor_sizes[l + 1])) for l in range(2)],
        "all 0.3": constant_start,
        "random N(0, 1)": [np.random.default_rng(0).normal(size=(xor_sizes[l], xor_sizes[l + 1]))
                           for l in range(2)],
    }
    trained = {name: train(W_start) for name, W_start in starts.items()}

    fig, ax = plt.subplots()
    for name, (_, losses) in trained.items():
        ax.plot(losses, label=name, ls="--" if name == "all zeros" else "-")
    ax.set(xlabel="epoch", ylabel="mean ½(v_d − y)²", yscale="log", title="XOR, 2-4-1 sigmoid net")
    ax.legend();
    """),
    code(r"""
    for name, (W_end, losses) in trained.items():
        spread = np.ptp(W_end[0], axis=1).max()     # how different the hidden units became
        print(f"{name:>15}: final loss {losses[-1]:.4f}, "
              f"largest difference between hidden units' weights {spread:.2g}")

    # Symmetric starts: hidden units identical to the end, and the loss stuck where predicting
    # 1/2 for every example leaves it: mean of ½(½ − t)² = 1/8 (a zero start stays exactly there).
    for name in ("all zeros", "all 0.3"):
        W_end, losses = trained[name]
        assert np.allclose(W_end[0], W_end[0][:, :1]), name
        assert losses[-1] > 0.12, name
    assert trained["all zeros"][1][-1] == 0.125
    _, losses = trained["random N(0, 1)"]
    assert losses[-1] < 0.01
    """),
    md(r"""
    **Try:** change `xor_sizes` to `[3, 8, 1]` or add a layer (`[3, 4, 4, 1]`, and `range(3)` in
    the starts); change the constant 0.3; try another seed for the random start. The slide's
    second piece of advice — *run separate SGDs and take the best* — is the loop you would
    write around `train`.
    """),
]


# ============================================================================ notebook 4

ACTIVATIONS: list[Cell] = [
    md(r"""
    # 4 · Activations and vanishing gradients

    *"Backpropagation in Neural Nets": the punchline gradients of a three-weight-matrix net,
    $\sigma' \le 0.25$, the vanishing-gradient problem, and tanh, ReLU and leaky ReLU.*
    """),
    SETUP,
    md(r"""
    ## The punchline

    One unit per layer, so every $W$ is a number: $z^{(2)} = W_1 X$, $a^{(2)} = \sigma(z^{(2)})$,
    $z^{(3)} = W_2\, a^{(2)}$, $a^{(3)} = \sigma(z^{(3)})$, $\hat y = W_3\, a^{(3)}$,
    $J = \tfrac12(\hat y - y)^2$. The slide:

    $$\frac{\partial J}{\partial W^{(3)}} = (\hat y - y)\, a^{(3)}, \quad
      \frac{\partial J}{\partial W^{(2)}} = (\hat y - y)\, W_3\, \sigma'(z^{(3)})\, a^{(2)}, \quad
      \frac{\partial J}{\partial W^{(1)}} = (\hat y - y)\, W_3\, \sigma'(z^{(3)})\, W_2\,
      \sigma'(z^{(2)})\, X$$

    with $\sigma'(z) = \sigma(z)(1 - \sigma(z))$.
    """),
    code(r"""
    from autograd_lite import Value, grad

    # Change the numbers: an input, a target, three weights.
    X, y = 1.5, 0.2
    W1, W2, W3 = Value(0.8, "W1"), Value(-1.2, "W2"), Value(2.0, "W3")

    z2 = W1 * X
    a2 = z2.sigmoid()
    z3 = W2 * a2
    a3 = z3.sigmoid()
    y_hat = W3 * a3
    J = 0.5 * (y_hat - y) ** 2
    J.backward()


    def S(z):                                  # the slides' sigmoid, by hand
        return 1 / (1 + math.exp(-z))


    def S_prime(z):                            # slide: sigma'(z) = sigma(z) (1 - sigma(z))
        return S(z) * (1 - S(z))


    e = y_hat.data - y
    slide = {
        "W3": e * a3.data,
        "W2": e * W3.data * S_prime(z3.data) * a2.data,
        "W1": e * W3.data * S_prime(z3.data) * W2.data * S_prime(z2.data) * X,
    }
    for w in (W3, W2, W1):
        print(f"dJ/d{w.label} engine {w.grad:+.8f}   slide formula {slide[w.label]:+.8f}")
        assert math.isclose(w.grad, slide[w.label], rel_tol=1e-13)
    """),
    md(r"""
    ## The activation functions and their gradients

    The lecture's table, *Name | Function | Gradient*. The engine's derivative (`grad`, which
    reads the one table of primitives in `autograd_lite/primitives.py`) is plotted and checked
    against the lecture's gradient column, written out below in NumPy, and against finite
    differences:

    | name | function | gradient |
    |---|---|---|
    | sigmoid | $\sigma(z) = 1/(1 + e^{-z})$ | $\sigma(z)(1 - \sigma(z))$ |
    | tanh | $\tanh z$ | $1 - \tanh^2 z$ |
    | ReLU | $\max(0, z)$ | $1$ for $z \ge 0$, $0$ for $z < 0$ |
    | leaky ReLU | $\max(\alpha z, z)$, $\alpha < 1$ | $1$ for $z \ge 0$, $\alpha$ for $z < 0$ |

    (At exactly $z = 0$ the lecture's table says ReLU′ = 1; so does the engine.)
    """),
    code(r"""
    alpha = 0.1          # leaky ReLU's slope for z < 0 (0.01 is common; 0.1 is easier to see)


    def S_np(z):
        return 1 / (1 + np.exp(-z))


    activations = {      # name: (the engine's function of a Value, the lecture's gradient)
        "sigmoid": (lambda v: v.sigmoid(), lambda z: S_np(z) * (1 - S_np(z))),
        "tanh": (lambda v: v.tanh(), lambda z: 1 - np.tanh(z) ** 2),
        "ReLU": (lambda v: v.relu(), lambda z: np.where(z >= 0, 1.0, 0.0)),
        "leaky ReLU": (lambda v: v.leaky_relu(alpha), lambda z: np.where(z >= 0, 1.0, alpha)),
    }


    z = np.linspace(-5, 5, 201)                  # includes z = 0 exactly
    fig, (ax_f, ax_g) = plt.subplots(1, 2, figsize=(9, 3.2))
    for name, (function, lecture_gradient) in activations.items():
        values = np.array([function(Value(t)).data for t in z])
        slopes = np.array([grad(function)(t) for t in z])     # the engine's derivative
        assert np.allclose(slopes, lecture_gradient(z), rtol=1e-12, atol=1e-15), name
        # Finite differences, away from the kink at 0 of (leaky) ReLU.
        h = 1e-6
        away = np.abs(z) > 1e-3
        numeric = np.array([(function(Value(t + h)).data - function(Value(t - h)).data) / (2 * h)
                            for t in z[away]])
        assert np.allclose(slopes[away], numeric, atol=1e-8), name
        ax_f.plot(z, values, label=name)
        ax_g.plot(z, slopes, label=name)
    ax_f.set(title="activation f(z)", xlabel="z", ylim=(-1.5, 3))
    ax_g.set(title="gradient f′(z), from the engine", xlabel="z")
    ax_g.axhline(0.25, color="gray", ls=":", lw=1)
    ax_g.legend(fontsize=8);
    """),
    md(r"""
    ## $\sigma'(z) \le 0.25$

    SymPy, independently of the engine: $\sigma'(z) = e^{-z}/(1 + e^{-z})^2$ (the quotient rule)
    equals $\sigma(1 - \sigma)$, has its only critical point at $z = 0$, and is $1/4$ there. The
    engine's largest $\sigma'$ on a fine grid is the same $0.25$.
    """),
    code(r"""
    import sympy as sp

    zs = sp.symbols("z", real=True)
    sig = 1 / (1 + sp.exp(-zs))
    d_sig = sp.diff(sig, zs)
    assert sp.simplify(d_sig - sig * (1 - sig)) == 0
    critical = sp.solve(sp.diff(sp.simplify(d_sig), zs), zs)
    print("sigma'(z) =", sp.simplify(d_sig), "  critical points:", critical,
          "  sigma'(0) =", d_sig.subs(zs, 0))
    assert critical == [0] and d_sig.subs(zs, 0) == sp.Rational(1, 4)

    grid = np.linspace(-10, 10, 2001)
    engine_slopes = [grad(lambda v: v.sigmoid())(t) for t in grid]
    best = int(np.argmax(engine_slopes))
    print(f"largest sigma' on the grid: {engine_slopes[best]} at z = {grid[best]}")
    assert max(engine_slopes) == 0.25
    # tanh' = 1 - tanh^2 reaches 1 (at 0): four times sigmoid's best.
    assert grad(lambda v: v.tanh())(0.0) == 1.0
    """),
    md(r"""
    ## Vanishing gradients along a chain

    In $\partial J / \partial W^{(1)}$ every layer contributes a factor $W_k\, \sigma'(z^{(k)})$.
    For a chain one unit wide, $x \to$ (weight $w_1$) $\to f \to$ (weight $w_2$) $\to f \to \cdots$,
    the gradient at the **first** weight is

    $$\frac{\partial\, \text{out}}{\partial w_1} = x \prod_{k=1}^{L} f'(z_k) \prod_{k=2}^{L} w_k,
    \qquad |\cdot| \le |x| \prod_{k \ge 2} |w_k| \cdot 0.25^{L} \ \text{for the sigmoid.}$$

    The engine builds the chain and runs backward; NumPy multiplies the lecture's factors.
    """),
    code(r"""
    def chain(f, weights, x=1.0):
        # out of the one-unit-wide chain, and the first weight's Value
        w = [Value(wk, f"w{k + 1}") for k, wk in enumerate(weights)]
        a = Value(x, "x")
        for wk in w:
            a = f(wk * a)
        return a, w[0]


    def first_weight_gradient_by_formula(name, weights, x=1.0):
        # x * prod f'(z_k) * prod_{k>=2} w_k in NumPy: the forward pass recomputed by hand,
        # each f'(z_k) from the lecture's gradient column
        functions = {"sigmoid": S_np, "tanh": np.tanh, "ReLU": lambda z: np.maximum(z, 0),
                     "leaky ReLU": lambda z: np.where(z >= 0, z, alpha * z)}
        lecture_gradient = activations[name][1]
        a, product = x, x
        for k, wk in enumerate(weights):
            zk = wk * a
            a = functions[name](zk)
            product *= lecture_gradient(zk) * (wk if k > 0 else 1.0)
        return float(product)


    rng = np.random.default_rng(4)
    depth = 12
    weights = rng.uniform(0.5, 1.5, size=depth)      # change: depth, the weights' range
    for name, (f, _) in activations.items():
        out, w1 = chain(f, weights)
        out.backward()
        by_formula = first_weight_gradient_by_formula(name, weights)
        print(f"{name:>10}: d out/d w1 = {w1.grad:.3e}  (product of the lecture's factors "
              f"{by_formula:.3e})")
        assert math.isclose(w1.grad, by_formula, rel_tol=1e-12)
    bound = np.prod(weights[1:]) * 0.25 ** depth
    out, w1 = chain(activations["sigmoid"][0], weights)
    out.backward()
    assert abs(w1.grad) <= bound
    print(f"sigmoid bound prod|w_k| * 0.25^{depth} = {bound:.3e}")
    """),
    md(r"""
    ## How the first layer's gradient shrinks with depth

    Now real layers: `width` units each, fully connected, weights drawn at random with the
    usual scale ($1/\sqrt{\text{width}}$, times $\sqrt2$ for the ReLUs, so that activations keep
    their size from layer to layer). For each depth, the size (Euclidean norm) of the
    gradient of the sum of the last layer's outputs with respect to the *first* layer's weights;
    the median over a few random networks. Sigmoid loses a factor of about 4 or more per layer;
    tanh and the ReLUs keep their gradient within a couple of orders of magnitude.
    """),
    code(r"""
    from autograd_lite import gradients


    def first_layer_gradient_norm(f, gain, depth, width, seed):
        rng = np.random.default_rng(seed)
        scale = gain / math.sqrt(width)           # the weights' standard deviation
        layer = [Value(float(t)) for t in rng.normal(size=width)]
        first = None
        for _ in range(depth):
            W = [[Value(float(rng.normal(0, scale))) for _ in range(width)] for _ in range(width)]
            first = first or [w for row in W for w in row]
            layer = [f(sum(w * a for w, a in zip(row, layer))) for row in W]
        g = gradients(sum(layer), first)
        return float(np.linalg.norm(g))


    width, seeds = 8, range(9)                   # change: width, how many random networks
    depths = [1, 2, 4, 8, 12, 16, 24]
    gains = {"sigmoid": 1.0, "tanh": 1.0, "ReLU": math.sqrt(2), "leaky ReLU": math.sqrt(2)}
    norms = {}
    for name, (f, _) in activations.items():
        norms[name] = [np.median([first_layer_gradient_norm(f, gains[name], d, width, s)
                                  for s in seeds]) for d in depths]

    fig, ax = plt.subplots()
    for name, ys in norms.items():
        ax.plot(depths, ys, "o-", label=name)
    ax.plot(depths, [norms["sigmoid"][0] * 0.25 ** (d - 1) for d in depths], "k:",
            label="× 0.25 per layer")
    ax.set(yscale="log", xlabel="depth (layers)", ylabel="‖∂out/∂W_first‖ (median)",
           title=f"gradient at the first layer, width {width}")
    ax.legend(fontsize=8);
    """),
    code(r"""
    for name, ys in norms.items():
        print(f"{name:>10}: " + "  ".join(f"{g:.1e}" for g in ys))

    shrink = {name: ys[depths.index(16)] / ys[0] for name, ys in norms.items()}
    print({name: f"{r:.1e}" for name, r in shrink.items()})
    # The lecture's point, measured: from 1 to 16 layers the sigmoid's first-layer gradient
    # falls by many orders of magnitude (0.25^15 is 9e-10); the ReLUs' stays within 10^2.
    assert shrink["sigmoid"] < 1e-6
    assert shrink["ReLU"] > 1e-2 and shrink["leaky ReLU"] > 1e-2
    assert all(b < a for a, b in zip(norms["sigmoid"], norms["sigmoid"][1:]))
    """),
    md(r"""
    **Try:** larger weights for the sigmoid (`gains["sigmoid"] = 4.0`): to beat the factor
    0.25 a weight must exceed 4, and large weights push $z$ into the flat tails where
    $\sigma'$ is tiny — the gradient vanishes more slowly, but it still vanishes. Change
    `width`, `depths`, or the chain's `weights` above.
    """),
]


# ============================================================================ notebook 5

LOSSES: list[Cell] = [
    md(r"""
    # 5 · Loss functions and their natural pairs

    *"Lecture 5: Backpropagation".* An output unit and an error function belong together:
    the logistic unit with the cross-entropy, the softmax with the cross-entropy over
    classes. The lecture: "The steepness of E exactly balances the flatness of the softmax."
    Then a loss from the other side of the field, the hinge, training a small ReLU network
    on two moons.
    """),
    SETUP,
    md(r"""
    ## The logistic unit and its natural error function

    $z = \sum_i w_i x_i + b$, $y = \sigma(z)$. Minimising the negative log probability of the
    correct answer gives the cross-entropy

    $$E = -t \ln y - (1 - t) \ln(1 - y), \qquad
      \frac{\partial E}{\partial y} = -\frac{t}{y} + \frac{1 - t}{1 - y}, \qquad
      \frac{dy}{dz} = y(1 - y), \qquad \frac{\partial E}{\partial z} = y - t .$$

    The engine's gradients (`gradients` asks for $\partial E/\partial y$ and $\partial E /
    \partial z$ at the graph's own nodes) against the slide's formulas, for both targets.
    """),
    code(r"""
    import nn
    from autograd_lite import Value, gradients

    x = [1.5, -0.5]                               # change: inputs, weights, bias
    for t in (1.0, 0.0):
        w = [Value(0.8, "w1"), Value(-1.1, "w2")]
        b = Value(0.2, "b")
        z = w[0] * x[0] + w[1] * x[1] + b
        y = z.sigmoid()
        E = nn.losses.binary_cross_entropy(y, t)
        dE_dy, dE_dz, *dE_dw = gradients(E, [y, z, *w])
        Y = y.data
        slide_dE_dy = -t / Y + (1 - t) / (1 - Y)
        print(f"t = {t:.0f}: y = {Y:.4f}, E = {E.data:.4f}, dE/dy = {dE_dy:+.5f} "
              f"(slide {slide_dE_dy:+.5f}), dE/dz = {dE_dz:+.5f} (y - t = {Y - t:+.5f})")
        assert math.isclose(E.data, -t * math.log(Y) - (1 - t) * math.log(1 - Y), rel_tol=1e-14)
        assert math.isclose(dE_dy, slide_dE_dy, rel_tol=1e-13)
        assert math.isclose(dE_dz, Y - t, rel_tol=1e-13)
        # and on to the weights: dE/dw_i = (y - t) x_i
        assert np.allclose(dE_dw, [(Y - t) * xi for xi in x], rtol=1e-13)
    """),
    md(r"""
    SymPy, independently: differentiate $E$ in $y$, and $E(\sigma(z))$ in $z$.
    """),
    code(r"""
    import sympy as sp

    y_s, z_s, t_s = sp.symbols("y z t")
    E_of_y = -t_s * sp.log(y_s) - (1 - t_s) * sp.log(1 - y_s)
    assert sp.simplify(sp.diff(E_of_y, y_s) - (-t_s / y_s + (1 - t_s) / (1 - y_s))) == 0
    sigma_z = 1 / (1 + sp.exp(-z_s))
    dE_dz_sympy = sp.diff(E_of_y.subs(y_s, sigma_z), z_s)
    assert sp.simplify(dE_dz_sympy - (sigma_z - t_s)) == 0
    print("dE/dz =", sp.simplify(dE_dz_sympy), " which is sigma(z) - t")
    """),
    md(r"""
    ### Why it is the *natural* pair

    With the squared error $\frac12 (y - t)^2$ instead, $\frac{\partial E}{\partial z} =
    (y - t)\, y(1 - y)$: the sigmoid's slope multiplies the error. A unit that is confidently
    *wrong* ($t = 1$, $z \ll 0$) sits where the sigmoid is flat, and hardly learns. The
    cross-entropy's $-t/y$ grows exactly as fast as $y(1-y)$ shrinks, and $\partial E /
    \partial z = y - t$ stays near $-1$. Below: the engine's $\partial E / \partial z$ for both
    losses, target $t = 1$.
    """),
    code(r"""
    def dE_dz(loss, z0, t=1.0):
        z = Value(z0, "z")
        (g,) = gradients(loss(z.sigmoid(), t), [z])
        return g


    zs = np.linspace(-8, 8, 161)
    cross_entropy = np.array([dE_dz(nn.losses.binary_cross_entropy, z0) for z0 in zs])
    squared = np.array([dE_dz(nn.losses.half_squared_error, z0) for z0 in zs])
    Y = 1 / (1 + np.exp(-zs))
    assert np.allclose(cross_entropy, Y - 1, rtol=1e-12, atol=1e-15)
    assert np.allclose(squared, (Y - 1) * Y * (1 - Y), rtol=1e-12, atol=1e-15)
    print(f"at z = -8 (confidently wrong): cross-entropy dE/dz = {cross_entropy[0]:+.4f}, "
          f"squared error dE/dz = {squared[0]:+.6f}")
    assert cross_entropy[0] < -0.99 and abs(squared[0]) < 1e-3

    fig, ax = plt.subplots()
    ax.plot(zs, cross_entropy, label="cross-entropy: y − t")
    ax.plot(zs, squared, label="squared error: (y − t) y(1 − y)")
    ax.set(xlabel="z  (target t = 1)", ylabel="∂E/∂z",
           title="the error signal a logistic unit gets")
    ax.legend();
    """),
    md(r"""
    ## Softmax with cross-entropy

    $$y_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \qquad E = -\sum_j t_j \ln y_j, \qquad
      \frac{\partial E}{\partial z_i} = y_i - t_i .$$

    `nn.losses.softmax_cross_entropy(logits, k)` takes the logits and the index of the correct
    class ($t$ one-hot). The engine's gradient against NumPy's $y - t$, and against finite
    differences.
    """),
    code(r"""
    logits = [2.0, 1.0, -0.5, 0.3]                # change: the logits and the class
    k = 2
    z = [Value(v, f"z{i}") for i, v in enumerate(logits)]
    E = nn.losses.softmax_cross_entropy(z, k)
    engine = np.array(gradients(E, z))

    y_np = np.exp(logits) / np.exp(logits).sum()
    t_np = np.eye(len(logits))[k]
    print("dE/dz engine:", np.round(engine, 6))
    print("y - t       :", np.round(y_np - t_np, 6))
    assert math.isclose(E.data, -np.log(y_np[k]), rel_tol=1e-13)
    assert np.allclose(engine, y_np - t_np, rtol=1e-12, atol=1e-15)


    def E_at(values):
        return nn.losses.softmax_cross_entropy([Value(v) for v in values], k).data


    h = 1e-6
    numeric = [(E_at(np.add(logits, h * e)) - E_at(np.subtract(logits, h * e))) / (2 * h)
               for e in np.eye(len(logits))]
    assert np.allclose(engine, numeric, atol=1e-8)
    """),
    md(r"""
    **The steepness of E exactly balances the flatness of the softmax.** The softmax's slopes,
    $\partial y_i / \partial z_j = y_i(\delta_{ij} - y_j)$, carry a factor $y_i$: for the
    correct class $k$ they are small exactly when $y_k$ is small, when the network is
    confidently wrong. The error's steepness $\partial E / \partial y_k = -1 / y_k$ is large
    exactly then. Their product (the chain rule, summed over $i$) is $y_j - t_j$. The
    engine's Jacobian of the softmax, row by row:
    """),
    code(r"""
    ys = nn.losses.softmax(z)
    jacobian = np.array([gradients(y_i, z) for y_i in ys])       # J[i, j] = dy_i/dz_j
    assert np.allclose(jacobian, np.diag(y_np) - np.outer(y_np, y_np), rtol=1e-12, atol=1e-15)
    steepness = -t_np / y_np                                      # dE/dy_i
    balanced = jacobian.T @ steepness                             # sum_i dE/dy_i dy_i/dz_j
    print("J =\n", np.round(jacobian, 4))
    print("sum_i dE/dy_i * dy_i/dz_j =", np.round(balanced, 6))
    assert np.allclose(balanced, y_np - t_np, rtol=1e-12, atol=1e-15)

    # Large logits do not overflow: the softmax is computed with the largest logit subtracted.
    big = [Value(v) for v in (1000.0, 0.0, -1000.0)]
    assert np.allclose(gradients(nn.losses.softmax_cross_entropy(big, 1), big), [1, -1, 0])
    """),
    md(r"""
    ## Two moons with a hinge loss

    The hinge $\max(0,\ 1 - y\,s)$ for labels $y \in \{-1, +1\}$ and a score $s$: zero once an
    example is on the right side with a margin of 1, and gradient $-y$ until then. A 2-8-8-1
    ReLU network with a linear output scores each point; the decision boundary is $s = 0$.
    First the hinge's gradient from the engine against that rule:
    """),
    code(r"""
    for label in (-1.0, 1.0):
        for score in (-2.0, -0.3, 0.4, 2.5):
            s = Value(score)
            (g,) = gradients(nn.losses.hinge(s, label), [s])
            expected = -label if label * score < 1 else 0.0
            assert g == expected, (label, score)
    print("d hinge / d score = -y where y*s < 1, else 0: checked")
    """),
    code(r"""
    from nn.optim import Adam

    moons = nn.data.two_moons(n=100, noise=0.1, seed=0, labels=(-1.0, 1.0))
    net = nn.MLP(2, [8, 8, 1], activation="relu", output_activation="linear", seed=0)
    history = nn.fit(net, moons, loss="hinge", optimizer=Adam(net, lr=0.02), epochs=40,
                     batch_size=10, seed=0, progress=False)
    train_accuracy = nn.accuracy(net, *moons)
    print(f"{history.epochs} epochs, {history.steps} updates, final mean hinge loss "
          f"{history.loss[-1]:.3f}, training accuracy {train_accuracy:.0%}")
    assert train_accuracy >= 0.97

    xs = np.array(moons.xs)
    labels = np.array(moons.ys)
    grid_x = np.linspace(xs[:, 0].min() - 0.5, xs[:, 0].max() + 0.5, 50)
    grid_y = np.linspace(xs[:, 1].min() - 0.5, xs[:, 1].max() + 0.5, 40)
    scores = np.array(nn.predict(net, [[a, b] for b in grid_y for a in grid_x]))
    scores = scores.reshape(len(grid_y), len(grid_x))

    fig, (ax_l, ax_b) = plt.subplots(1, 2, figsize=(10, 3.6))
    history.plot(ax=ax_l, log=False)
    ax_l.set_title("mean hinge loss")
    ax_b.contourf(grid_x, grid_y, scores, levels=[-1e9, -1, 0, 1, 1e9],
                  colors=["#9ecae1", "#deebf7", "#fee0d2", "#fc9272"])
    ax_b.contour(grid_x, grid_y, scores, levels=[0], colors="k", linewidths=1.5)
    ax_b.scatter(*xs[labels < 0].T, s=18, c="C0", edgecolors="k", lw=0.5, label="y = −1")
    ax_b.scatter(*xs[labels > 0].T, s=18, c="C3", edgecolors="k", lw=0.5, label="y = +1")
    ax_b.set(title="decision boundary s = 0 (shaded: the margin |s| < 1)", xlabel="x1",
             ylabel="x2")
    ax_b.legend(fontsize=8, loc="lower left");
    """),
    md(r"""
    **Try:** more noise (`noise=0.2`), a smaller network (`[4, 1]`), `activation="tanh"`, or
    the logistic pair instead: labels `(0.0, 1.0)`, `output_activation="sigmoid"` and
    `loss="binary_cross_entropy"`.
    """),
]


NOTEBOOKS: dict[str, list[Cell]] = {
    "01_chain_rule_kramer.ipynb": KRAMER,
    "02_hidden_layers_xor_kauchak.ipynb": KAUCHAK,
    "03_delta_recursion_matrix.ipynb": DELTA_RECURSION,
    "04_activations_vanishing_gradients.ipynb": ACTIVATIONS,
    "05_losses_and_natural_pairs.ipynb": LOSSES,
}


def make_notebook(cells: list[Cell]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        cell = (nbformat.v4.new_markdown_cell(source) if kind == "markdown"
                else nbformat.v4.new_code_cell(source))
        cell.pop("id", None)  # ids change on every build; without them the diffs stay small
        nb.cells.append(cell)
    nb.nbformat, nb.nbformat_minor = 4, 4  # 4.4: cell ids are optional
    return nb


def execute(nb: nbformat.NotebookNode) -> float:
    """Run every cell in a fresh kernel, cwd = notebooks/; return the seconds it took."""
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
    for name, cells in NOTEBOOKS.items():
        if args.only and not any(name.startswith(prefix) for prefix in args.only):
            continue
        nb = make_notebook(cells)
        if not args.no_execute:
            seconds = execute(nb)
            print(f"{name}: executed in {seconds:.1f} s")
        nbformat.write(nb, HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
