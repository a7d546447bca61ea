# %% [markdown]
# # 1 · The chain rule by hand and by graph
#
# *Mark Kramer, "Backpropagation": one path through a "simple" neural network, worked with
# numbers.*
#
# $$s_0 \xrightarrow{\;w_0\;} x_1 \xrightarrow{\;S\;} s_1 \xrightarrow{\;w_1\;} x_2
#   \xrightarrow{\;S\;} s_2 \xrightarrow{\;w_2\;} \text{out}, \qquad
#   S(x) = \frac{1}{1 + e^{-x}}$$
#
# The slides guess the weights $w_0 = 2$, $w_1 = 1$, $w_2 = 0.5$, run the network forward on
# $s_0 = 2$, work backwards from the output with the chain rule, and then use the
# derivatives to move the weights downhill on a cost. This notebook does each step with
# the engine and checks it against the slides.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (7, 3.2), "axes.grid": True,
                     "grid.alpha": 0.3})

# %% [markdown]
# ## Forward propagation (slide "Forward propagation")
#
# $x_1 = w_0 s_0 = 4$, $s_1 = S(4) = 0.982$, $x_2 = w_1 s_1 = 0.982$,
# $s_2 = S(0.982) = 0.7275$, $\text{out} = w_2 s_2 = 0.3638$. Target: $0.7$. *Match? NO.*

# %%
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

# %% [markdown]
# ## The sigmoid's derivative, three ways
#
# The slides spend four pages on $\frac{d}{dx}\frac{1}{1 + e^{-x}}$: the **quotient rule**
# gives $\frac{e^{-x}}{(1 + e^{-x})^2}$, and "with faith" this is $S(x)(1 - S(x))$, so
# $\frac{ds_2}{dx_2} = s_2(1 - s_2)$.
#
# 1. **SymPy**, doing the slide's quotient rule step by step;
# 2. **the engine**: the sigmoid's entry in the table of primitives
#    (`autograd_lite/primitives.py`), read as a formula (over SymPy symbols) and as a number.
#    The entry holds the derivative twice, proven equal: the lecture's $s(1 - s)$, which
#    `trace` and `explain` print, and $s \cdot S(-x)$, which computes with every digit even
#    where $s$ rounds to 1 (at $x = 37$, $1 - s$ is 0 in floats, while $S(-37) = 8.5 \cdot
#    10^{-17}$);
# 3. **finite differences**: wiggle $x_2$ and watch $s_2$ — the slides' "idea: wiggle".

# %%
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
lecture_form = SIGMOID.shown_derivative(0, (x,), s2, sympy_namespace())
computed_form = SIGMOID.derivatives[0](x, s2, sympy_namespace())
print("the table's rule, as printed:", lecture_form)       # s2*(1 - s2)
print("the table's rule, as computed:", computed_form)     # s2/(exp(x) + 1), i.e. s2·S(−x)
assert sp.simplify(lecture_form.subs(s2, S_x) - quotient_rule) == 0
assert sp.simplify(computed_form.subs(s2, S_x) - quotient_rule) == 0

# Why two forms: at x = 37 the sigmoid rounds to 1.0, and 1 − s loses every digit.
s_37 = FLOAT.sigmoid(37.0)
print(f"at x = 37: s(1 - s) = {s_37 * (1 - s_37)}, "
      f"s·S(-x) = {SIGMOID.derivatives[0](37.0, s_37, FLOAT):.4g}")
assert s_37 * (1 - s_37) == 0.0
assert math.isclose(SIGMOID.derivatives[0](37.0, s_37, FLOAT),
                    float(quotient_rule.subs(x, 37).evalf(30)), rel_tol=1e-12)

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

# %% [markdown]
# ## The three chain-rule formulas (`explain`)
#
# The slides' summary:
#
# $$\frac{d\,\text{out}}{dw_2} = s_2, \qquad
#   \frac{d\,\text{out}}{dw_1} = w_2\; s_2(1 - s_2)\; s_1, \qquad
#   \frac{d\,\text{out}}{dw_0} = w_2\; s_2(1 - s_2)\; w_1\; s_1(1 - s_1)\; s_0 .$$
#
# `explain(out, w)` reads them off the graph: one factor per edge on the path from `w` to
# `out`, each the table's local derivative written in the labels of its neighbours.
# The slide's formulas are typed in below as SymPy expressions and compared.

# %%
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

# %%
explain(out, n["w0"])                     # in Jupyter: typeset

# %% [markdown]
# ## The graph, with the path to $w_0$
#
# `draw` shows every node's data and gradient; `show_derivatives=True` writes each edge's
# local derivative (formula and number); `highlight` colours the path the chain rule for
# $\frac{d\,\text{out}}{dw_0}$ walks. Multiply the numbers along the highlighted path and you
# get $w_0$'s grad.

# %%
from autograd_lite import draw

draw(out, show_derivatives=True, highlight=n["w0"])

# %% [markdown]
# ## The backward pass, step by step
#
# `trace` records the pass in the order the engine runs it (reverse topological order,
# output first): which node, its upstream gradient, each input's local derivative, and the
# product added to the input's gradient. "Work *backwards* from output to weight, computing
# derivatives along the way."

# %%
from autograd_lite import trace

backward_pass = trace(out, accumulate=False)      # leaves .grad as it is
# The pass reaches w2 first, then w1, then w0: the order of the slides.
reached = [c.name for step in backward_pass for c in step.contributions
           if c.name in ("w0", "w1", "w2")]
assert reached == ["w2", "w1", "w0"]
backward_pass

# %% [markdown]
# The same pass as frames, one per step (`save_frames` writes them as SVG files, e.g. for
# slides; here they are shown inline). The node being processed is filled, the edges carry
# the contributions it sends, and `·` marks gradients the pass has not reached yet.

# %%
import tempfile

from IPython.display import SVG, display

from autograd_lite import save_frames

frames = save_frames(out, tempfile.mkdtemp(prefix="kramer-frames-"), format="svg")
print(f"{len(frames)} frames:", ", ".join(path.name for path in frames))
assert len(frames) == len(backward_pass) == 5   # out, s2, x2, s1, x1: one per operation
for path in frames:
    display(SVG(filename=str(path)))

# %% [markdown]
# ### Step through it yourself
#
# `explore` puts the same pass on one interactive page: **next ›** (or the → key) processes
# one node, the edges show what it sends, the panel writes the step's chain rule; click
# `w1` for its formula summed over paths; change `w1` in the inputs and every number
# follows. `.save("kramer.html")` writes the page to open in any browser.

# %%
from autograd_lite import explore

page = explore(out, title="Kramer's chain, explored")
assert page.steps == len(backward_pass) == 5
page

# %% [markdown]
# ## The cost, plotted (slides "Create a cost function")
#
# "Define the cost function $C = \frac12(\text{target} - \text{out})^2$. Plot it. **Q:** Where
# is the cost zero? **A:** When $\text{out} = \text{target}$." Its slope $\frac{dC}{d\,\text{out}}
# = \text{out} - \text{target}$ is negative left of the target and positive right of it ("Does
# this derivative make sense?"). `kramer_cost()` is the slide's chain with `C` on top: at the
# first guess, $\text{out} = 0.3638$, so $C = 0.0565$ and the slope is $-0.3362$. The curve is
# the engine's $C$ and $\frac{dC}{d\,\text{out}}$ over a grid of $\text{out}$, checked against
# the formulas by hand.

# %%
import itertools

from autograd_lite.lectures import KRAMER_TARGET, kramer_cost, kramer_descent

out_grid = np.linspace(-0.3, 1.7, 201)        # out = 0.7 is on the grid (index 100)
C_of_out, dC_dout = [], []
for out_value in out_grid:
    o = Value(out_value, "out")
    C = 0.5 * (KRAMER_TARGET - o) ** 2
    C.backward()
    C_of_out.append(C.data)
    dC_dout.append(o.grad)
assert np.allclose(C_of_out, 0.5 * (KRAMER_TARGET - out_grid) ** 2, rtol=1e-14, atol=0)
assert np.allclose(dC_dout, out_grid - KRAMER_TARGET, rtol=1e-14, atol=1e-16)
lowest = int(np.argmin(C_of_out))
assert math.isclose(out_grid[lowest], KRAMER_TARGET) and C_of_out[lowest] < 1e-30
assert all(g < 0 for g in dC_dout[:lowest]) and all(g > 0 for g in dC_dout[lowest + 1:])

first = kramer_cost()                          # the slide's first guess, target 0.7
first["C"].backward()
print(f"first guess: out = {first['out'].data:.4f}, C = {first['C'].data:.4f}, "
      f"dC/dout = {first['out'].grad:.4f}")
assert round(first["C"].data, 4) == 0.0565 and round(first["out"].grad, 4) == -0.3362

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(out_grid, C_of_out, label="C = ½(target − out)²")
o0, C0, g0 = first["out"].data, first["C"].data, first["out"].grad
ax.plot([o0 - 0.25, o0 + 0.25], [C0 - 0.25 * g0, C0 + 0.25 * g0], "C1--",
        label=f"slope dC/dout = out − target = {g0:.3f}")
ax.plot(o0, C0, "C1o")
ax.axvline(KRAMER_TARGET, color="gray", ls=":", lw=1)
ax.annotate("C = 0 at out = target", (KRAMER_TARGET, 0), (0.9, 0.25),
            arrowprops={"arrowstyle": "->", "color": "gray"}, fontsize=8)
ax.set(xlabel="out", ylabel="C", title="the cost against out (target 0.7)", ylim=(-0.02, 0.6))
ax.legend(fontsize=8, loc="upper left");

# %% [markdown]
# "If *out* depends on weights, so does the cost. Plot cost $C$ versus $w_1$ and $w_2$": with
# $s_0 = 2$ and $w_0 = 2$ fixed, $s_1 = 0.982$ and $\text{out} = w_2\, S(w_1 \cdot 0.982)$.
# "Our initial, randomly chosen weights" are $(w_1, w_2) = (1, 0.5)$; "move *downhill*". The
# path is gradient descent on $w_1$ and $w_2$, derived in the next section
# (`kramer_descent(steps, alpha, wrt=("w1", "w2"))`, $\alpha = 0.5$): its first step is the
# lecture's $w_1 \leftarrow 1.0164$, $w_2 \leftarrow 0.6223$. The surface has no single lowest
# point: $C = 0$ all along the valley $w_2 = 0.7 / S(0.982\, w_1)$ (dotted), and the marble
# rolls to the nearest part of it.

# %%
def S_by_hand(x):
    return 1 / (1 + np.exp(-x))


w1_grid = np.linspace(-3, 5, 81)
w2_grid = np.linspace(-0.5, 2.0, 51)
surface = np.array([[kramer_cost(w1=a, w2=b)["C"].data for a in w1_grid] for b in w2_grid])
s1_fixed = S_by_hand(2.0 * 2.0)                           # s1 = S(w0·s0) = 0.982
W1, W2 = np.meshgrid(w1_grid, w2_grid)
assert np.allclose(surface, 0.5 * (0.7 - W2 * S_by_hand(W1 * s1_fixed)) ** 2, rtol=1e-13)

path = kramer_descent(40, 0.5, wrt=("w1", "w2"))          # 41 points, the first guess first
path_C = [p["C"] for p in path]
assert round(path[1]["w1"], 4) == 1.0164 and round(path[1]["w2"], 4) == 0.6223
assert all(b < a for a, b in itertools.pairwise(path_C))         # always downhill
assert path_C[-1] < 1e-6 and all(p["w0"] == 2.0 for p in path)             # w0 stays
end = path[-1]
assert math.isclose(end["w2"] * S_by_hand(end["w1"] * s1_fixed), 0.7, rel_tol=1e-3)  # valley
print(f"C: {path_C[0]:.4f} at (w1, w2) = (1, 0.5) -> {path_C[-1]:.1e} at "
      f"({end['w1']:.4f}, {end['w2']:.4f}) after {len(path) - 1} steps")

fig = plt.figure(figsize=(10, 3.8))
ax_3d = fig.add_subplot(1, 2, 1, projection="3d")
ax_3d.plot_surface(W1, W2, surface, cmap="viridis", alpha=0.7, linewidth=0)
ax_3d.plot([p["w1"] for p in path], [p["w2"] for p in path], path_C, "r.-", ms=3, zorder=5)
ax_3d.set(xlabel="w1", ylabel="w2", zlabel="C", title="C(w1, w2), w0 = 2")
ax_c = fig.add_subplot(1, 2, 2)
shown = ax_c.contourf(W1, W2, surface, levels=20, cmap="viridis")
fig.colorbar(shown, ax=ax_c, label="C")
ax_c.plot(w1_grid, 0.7 / S_by_hand(w1_grid * s1_fixed), "w:", label="valley: C = 0")
ax_c.plot([p["w1"] for p in path], [p["w2"] for p in path], "r.-", ms=4,
          label="gradient descent, α = 0.5")
ax_c.plot(1.0, 0.5, "ro")
ax_c.set(xlabel="w1", ylabel="w2", ylim=(-0.5, 2.0), title="downhill from the first guess")
ax_c.legend(fontsize=8, loc="upper right");

# %% [markdown]
# ## Moving downhill: the cost and gradient descent
#
# Cost $C = \frac12(\text{target} - \text{out})^2$, so $\frac{dC}{d\,\text{out}} =
# \text{out} - \text{target}$, and by the chain rule $\frac{dC}{dw} = (\text{out} -
# \text{target})\,\frac{d\,\text{out}}{dw}$. The slide's updates:
#
# $$\begin{aligned}
# w_2 &\leftarrow w_2 - \alpha(\text{out} - \text{target})\,s_2 \\
# w_1 &\leftarrow w_1 - \alpha(\text{out} - \text{target})\,w_2\, s_2(1 - s_2)\, s_1 \\
# w_0 &\leftarrow w_0 - \alpha(\text{out} - \text{target})\,w_2\, s_2(1 - s_2)\, w_1\,
#       s_1(1 - s_1)\, s_0
# \end{aligned}$$
#
# With the engine the loop is four lines: forward, `backward()`, `w.data -= alpha * w.grad`,
# repeat. The first step is checked against the slide's formulas.

# %%
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

# %% [markdown]
# Notice that $w_0$ hardly moved while $w_2$ nearly doubled: $w_0$'s gradient carries both
# sigmoid slopes, and $s_1(1 - s_1) = 0.0177$ at $x_1 = 4$. The weights far from the output
# learn slowly — the *vanishing gradient* of notebook 4.

# %%
moved = {name: weights[name] - start for name, start in (("w0", 2.0), ("w1", 1.0),
                                                            ("w2", 0.5))}
print({name: f"{change:+.4f}" for name, change in moved.items()})
assert abs(moved["w0"]) < abs(moved["w1"]) < abs(moved["w2"])

# %% [markdown]
# ## "What weights ($w_0\ w_1\ w_2$) produced these data?"
#
# The slides end with a table of $(s_0, \text{out})$ rows and that question. Gradient
# descent on the total cost over the rows answers it. `nn` has the rows
# (`nn.data.kramer()`) and Kramer's network is an `MLP` one unit wide, sigmoid, linear
# output, no biases; `nn.fit` runs the loop above over all rows per step. Plain gradient
# descent crawls along a long flat valley of the cost; momentum ("keep moving in the
# direction of the previous update", Kauchak) gets there.

# %%
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

# %% [markdown]
# The answer looks like $(w_0, w_1, w_2) = (1, -2, 3)$. Check it independently, in NumPy:
# those weights reproduce every printed row to its 8 decimals — so gradient descent found
# the weights that produced the data.

# %%
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

# %% [markdown]
# **Try:** start from other weights in `fit_kramer` (some starts end in a different valley —
# the cost is not convex); use `nn.data.kramer(n=100)` for more rows of the same kind;
# change `alpha` in the single-target loop and watch the cost curve.
