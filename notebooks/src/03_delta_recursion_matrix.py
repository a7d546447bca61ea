# %% [markdown]
# # 3 · The δ recursion in matrix form
#
# *Haghtalab & Joachims, "Backpropagation in Networks" (Lecture 14), written with column
# matrices as on their slides.*
#
# The slides describe a network by weight matrices $W_0, W_1, \dots, W_{d-1}$; column $j$ of
# $W_\ell$ holds the weights going *into* node $j$ of layer $\ell+1$. The **forward pass**:
#
# $$\vec v_0 = (\vec x, 1), \qquad s_\ell = W_{\ell-1}^\top \vec v_{\ell-1}, \qquad
#   \vec v_\ell = \sigma(s_\ell), \qquad L = \tfrac12 (v_d - y)^2 .$$
#
# The **backward pass** (slide "Back Propagation") runs one recursion from the output down:
#
# $$\delta_d = \frac{\partial L}{\partial v_d}\,\sigma'(s_d), \quad
#   \frac{\partial L}{\partial v_d} = v_d - y, \qquad
#   \delta_\ell = (W_\ell\, \delta_{\ell+1}) \odot \sigma'(s_\ell), \qquad
#   \frac{\partial L}{\partial W_\ell} = \vec v_\ell\, \delta_{\ell+1}^\top .$$
#
# $\delta_\ell$ is $\partial L / \partial s_\ell$: how the loss changes with the weighted sums
# of layer $\ell$. Below, the recursion is written in NumPy exactly as on the slide, and the
# same network is built out of scalar `Value`s. The engine knows nothing about matrices or
# δ — it applies the chain rule node by node — and the two must agree to the last digits.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (7, 3.2), "axes.grid": True,
                     "grid.alpha": 0.3})

# %%
from autograd_lite import Value, gradients

# Change these: the layer sizes (the first counts the constant 1 appended to x), the seed.
sizes = [3, 4, 3, 1]          # x has 2 entries; v_0 = (x, 1) has 3
rng = np.random.default_rng(seed=14)

x = rng.normal(size=(sizes[0] - 1, 1))          # a column
y = 1.0
W = [rng.normal(size=(sizes[ell], sizes[ell + 1])) for ell in range(len(sizes) - 1)]
v0 = np.vstack([x, [[1.0]]])                     # v_0 = (x, 1)
print("shapes of W_0 ... W_d-1:", [w.shape for w in W])


# %% [markdown]
# ## The slide's algorithm in NumPy
#
# $\sigma'(s) = \sigma(s)(1 - \sigma(s))$ is written here from the slide's activation table,
# independently of the engine: this cell is the *independent* computation the engine is
# checked against.

# %%
def sigma(s):
    return 1.0 / (1.0 + np.exp(-s))


def sigma_prime(s):                       # slide: sigma'(x) = sigma(x) (1 - sigma(x))
    return sigma(s) * (1.0 - sigma(s))


def forward(W, v0):
    # s[ell], v[ell] for ell = 0..d (s[0] is unused: the input has no weighted sum)
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
    for ell in range(d - 1, -1, -1):
        dW[ell] = v[ell] @ delta[ell + 1].T              # dL/dW_l = v_l delta_{l+1}^T
        if ell > 0:
            delta[ell] = (W[ell] @ delta[ell + 1]) * sigma_prime(s[ell])
    return delta, dW


s, v = forward(W, v0)
delta, dW_numpy = backward(W, s, v, y)
loss_numpy = 0.5 * (v[-1].item() - y) ** 2
print(f"L = {loss_numpy:.6f}")
for ell, g in enumerate(dW_numpy):
    print(f"dL/dW_{ell} =\n{np.array2string(g, precision=5)}")

# %% [markdown]
# ## The same network out of scalar `Value`s
#
# One `Value` per weight, labelled `W0[i,j]`; each weighted sum $s_{\ell,j} = \sum_i
# W_{\ell-1}[i,j]\, v_{\ell-1,i}$ is an ordinary Python sum.

# %%
W_values = [[[Value(W_l[i, j], f"W{ell}[{i},{j}]") for j in range(W_l.shape[1])]
             for i in range(W_l.shape[0])] for ell, W_l in enumerate(W)]

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
for ell, (a, b) in enumerate(zip(dW_engine, dW_numpy)):
    print(f"dL/dW_{ell}: largest difference engine - NumPy = {np.abs(a - b).max():.1e}")
    assert np.allclose(a, b, rtol=1e-12, atol=1e-15), ell
assert math.isclose(L.data, loss_numpy, rel_tol=1e-14)

# %% [markdown]
# The δ's are the engine's gradients of the weighted-sum nodes: $\delta_\ell = \partial L /
# \partial s_\ell$. (`gradients` asks for them without touching any `.grad`.)

# %%
for ell, s_l in enumerate(sums, start=1):
    engine_delta = np.array(gradients(L, s_l)).reshape(-1, 1)
    assert np.allclose(engine_delta, delta[ell], rtol=1e-12, atol=1e-15), ell
    print(f"delta_{ell} = {np.array2string(delta[ell].ravel(), precision=6)}  (engine agrees)")


# %% [markdown]
# ### The recursion layer by layer, beside the scalar graph
#
# `delta_network(W, v0, y)` builds the same network out of scalar `Value`s with every node
# named as on the slides (`W0[i,j]`, `s1[j]`, `v1[j]`, `L`), and `.layers()` reads the
# slide's loop off that graph, ℓ = d − 1 down to 0: $\delta_{\ell+1} = \partial L/\partial
# s_{\ell+1}$ (the gradients at the weighted-sum nodes), $\partial L/\partial W_\ell$ (the
# gradients at the weights, which are $\vec v_\ell\, \delta_{\ell+1}^\top$), and
# $(W_\ell\,\delta_{\ell+1}) \odot \sigma'(s_\ell)$ next to the graph's own $\delta_\ell$.
# Every number must be the NumPy recursion's above.

# %%
from IPython.display import Markdown, display

from autograd_lite import draw
from autograd_lite.lectures import delta_network

net = delta_network(W, v0.ravel(), y)
for layer in net.layers():
    ell = layer.index
    assert np.allclose(np.reshape(layer.delta_next, (-1, 1)), delta[ell + 1], rtol=1e-12,
                       atol=1e-15), ell
    assert np.allclose(layer.grad_weights, dW_numpy[ell], rtol=1e-12, atol=1e-15), ell
    if layer.recursion is not None:
        assert np.allclose(layer.recursion, np.ravel(delta[ell]), rtol=1e-12, atol=1e-15), ell
print(net)

# %% [markdown]
# The same view for a network small enough to draw: the first two hidden nodes of $W_0$ and
# one output. Red is every path from a weighted sum $s_\ell$ to $L$; each `s` node's grad is
# its δ, the number in the table's δ column.

# %%
small = delta_network([W[0][:, :2], W[1][:2, :1]], v0.ravel(), y)
small.loss.backward()
display(Markdown(small._repr_markdown_()))
for layer in small.layers():
    assert np.allclose(layer.delta_next, [s.grad for s in small.s[layer.index + 1]],
                       rtol=1e-14, atol=0)
draw(small.loss, highlight=[s for layer in small.s for s in layer], rankdir="TB")


# %% [markdown]
# The slide's table of activation functions (Name | Function | Gradient) is the engine's own
# table of primitives, printed in the lecture's notation: σ′ = σ(1 − σ) appears as
# `out·(1 − out)`, in the function's output, as the recursion uses it.

# %%
from autograd_lite.symbolic import derivative_table

table = derivative_table()
for row in str(table).splitlines():
    if row.startswith(("| Name", "| sigmoid", "| tanh", "| relu")):
        print(row)
assert "| sigmoid | out = 1/(1 + exp(−x)) | d/dx = out·(1 − out) |" in table


# %% [markdown]
# A third, independent opinion: central finite differences of the NumPy loss,
# $\partial L / \partial W_\ell[i,j] \approx (L(W + h) - L(W - h)) / 2h$, for every weight.

# %%
def loss_at(W):
    _, v = forward(W, v0)
    return 0.5 * (v[-1].item() - y) ** 2


h = 1e-6
worst = 0.0
for ell in range(len(W)):
    for i, j in np.ndindex(W[ell].shape):
        up = [w.copy() for w in W]
        down = [w.copy() for w in W]
        up[ell][i, j] += h
        down[ell][i, j] -= h
        numeric = (loss_at(up) - loss_at(down)) / (2 * h)
        worst = max(worst, abs(numeric - dW_engine[ell][i, j]))
        assert math.isclose(numeric, dW_engine[ell][i, j], rel_tol=1e-6, abs_tol=1e-9)
print(f"largest |finite difference - engine| over all weights: {worst:.1e}")

# %% [markdown]
# ## One step of SGD
#
# The slide's update $W_\ell \leftarrow W_\ell - \eta\, \vec v_\ell\, \delta_{\ell+1}^\top$ in
# NumPy, and `p.data -= eta * p.grad` on every `Value`: the same new weights, and a smaller
# loss.

# %%
eta = 0.5
W_after = [W_l - eta * g for W_l, g in zip(W, dW_numpy)]
for W_l in W_values:
    for row in W_l:
        for w in row:
            w.data -= eta * w.grad
for ell in range(len(W)):
    assert np.allclose([[w.data for w in row] for row in W_values[ell]], W_after[ell],
                       rtol=1e-12, atol=1e-15)
print(f"loss before {loss_numpy:.6f}, after one step {loss_at(W_after):.6f}")
assert loss_at(W_after) < loss_numpy


# %% [markdown]
# ## Why the weights must not start at zero
#
# The slide "SGD on Non-Convex": *Don't start $W_0, W_1, \dots, W_{d-1} = 0$. Randomize your
# starting weights.* With every weight equal, every hidden unit of a layer computes the same
# $\sigma(\cdot)$ and receives the same $\delta$: entry $j$ of $W_\ell\,\delta_{\ell+1}$ is
# row $j$ of $W_\ell$ (unit $j$'s outgoing weights) times $\delta_{\ell+1}$, and all rows are
# equal. Their weights get identical updates and stay identical forever: a layer of $n$ units
# behaves like **one** unit. At exactly zero it is even worse for the first step:
# $W_\ell\, \delta_{\ell+1} = 0$, so the hidden weights do not move at all.
#
# First the engine's view, one gradient on the XOR input $(1, 0)$: every column of
# $\partial L / \partial W_0$ — one column per hidden unit — is the same.

# %%
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
constant_start = [np.full((xor_sizes[ell], xor_sizes[ell + 1]), 0.3) for ell in range(2)]
g0 = engine_gradients(constant_start, (1.0, 0.0), 1.0)[0]
print("dL/dW_0 from a constant start (one column per hidden unit):\n",
      np.array2string(g0, precision=6))
assert np.allclose(g0, g0[:, :1]), "all hidden units get the same gradient"

# %% [markdown]
# Now train on XOR (four examples, stacked side by side as columns, so the recursion above
# works unchanged on a whole batch) from three starts: all zeros, all 0.3, random. Symmetric
# starts stay symmetric and cannot learn XOR; the random start does. (On XOR the all-zero
# start is even a stationary point: every output is $\sigma(0) = \frac12$, the four
# examples' gradients cancel exactly, and nothing ever moves.)

# %%
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
    "all zeros": [np.zeros((xor_sizes[ell], xor_sizes[ell + 1])) for ell in range(2)],
    "all 0.3": constant_start,
    "random N(0, 1)": [np.random.default_rng(0).normal(size=(xor_sizes[ell], xor_sizes[ell + 1]))
                       for ell in range(2)],
}
trained = {name: train(W_start) for name, W_start in starts.items()}

fig, ax = plt.subplots()
for name, (_, losses) in trained.items():
    ax.plot(losses, label=name, ls="--" if name == "all zeros" else "-")
ax.set(xlabel="epoch", ylabel="mean ½(v_d − y)²", yscale="log", title="XOR, 2-4-1 sigmoid net")
ax.legend();

# %%
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

# %% [markdown]
# **Try:** change `xor_sizes` to `[3, 8, 1]` or add a layer (`[3, 4, 4, 1]`, and `range(3)` in
# the starts); change the constant 0.3; try another seed for the random start. The slide's
# second piece of advice — *run separate SGDs and take the best* — is the loop you would
# write around `train`.

# %% [markdown]
# ## Checking the recursion with `check_backprop`
#
# What this notebook did by hand — the same network out of `Value`s, every weight's gradient
# compared — `autograd_lite.testing.check_backprop` does for any NumPy backprop. The student's
# code is wrapped as one function `backprop(Ws, x, t) -> grads`: the weight matrices in the
# column convention above, the input and the target; one gradient per matrix, shaped like it.
# The checker reads the layers off the shapes ($W_0$ has one row more than $x$ has entries:
# the bias, from the 1 in $\vec v_0 = (\vec x, 1)$; $W_1$, $W_2$ have none), builds the same
# network with `nn`, and compares all 27 entries.

# %%
from autograd_lite.testing import check_backprop


def backprop(W, x, y):
    s, v = forward(W, np.vstack([x, [[1.0]]]))
    _, dW = backward(W, s, v, y)
    return dW


report = check_backprop(backprop, W, x, y)
print(report)
assert report.ok and report.compared == 27

# %% [markdown]
# It can also draw the networks itself: Hypothesis picks seeds, each gives random weights, an
# input and a target for a network of these sizes (here with the bias on the input only).

# %%
print(check_backprop(backprop, sizes=[2, 4, 3, 1], bias=[True, False, False], max_examples=25))

# %% [markdown]
# ### A deliberately broken version
#
# The classic slip: `sigma_prime` applied to the layer's *values* $\vec v_\ell = \sigma(s_\ell)$
# instead of its weighted sums $s_\ell$ — one character, `v` for `s`, in the recursion's line.
# Nothing crashes, the loss still goes down a little, and the numbers are wrong.

# %%
def backward_broken(W, s, v, y):
    d = len(W)
    delta = [None] * (d + 1)
    dW = [None] * d
    delta[d] = (v[d] - y) * sigma_prime(s[d])
    for ell in range(d - 1, -1, -1):
        dW[ell] = v[ell] @ delta[ell + 1].T
        if ell > 0:
            delta[ell] = (W[ell] @ delta[ell + 1]) * sigma_prime(v[ell])   # v: should be s
    return delta, dW


def backprop_broken(W, x, y):
    s, v = forward(W, np.vstack([x, [[1.0]]]))
    _, dW = backward_broken(W, s, v, y)
    return dW


report = check_backprop(backprop_broken, W, x, y, raise_on_mismatch=False)
print(report)

# %% [markdown]
# What the checker says: the **first wrong entry** by its place (`W0[0, 0]`: the weight into
# neuron 0 of layer 1 from input 0, which is `L1.N0.w0` in the `nn` network), **both numbers**,
# the **engine's chain rule** for that weight written in the network's own names (each
# sigmoid's slope as $v(1 - v)$, at the right layer), and a **hint**: the student's numbers are
# exactly what a backprop gives that takes σ′ at $v_\ell$ instead of $s_\ell$ — it replays each
# typical mistake and names the one that fits. The output layer's $W_2$ is right (its δ does
# not use the hidden σ′), which is why only $W_0$ and $W_1$ are listed as wrong. In a test,
# `check_backprop` raises this message as an `AssertionError` (`raise_on_mismatch=False`
# returns it, as here).

# %%
first = report.first
assert not report.ok and first.name == "W0[0, 0]" and first.nn_label == "L1.N0.w0"
assert math.isclose(first.engine, dW_numpy[0][0, 0], rel_tol=1e-12)   # the correct recursion
assert first.yours == backprop_broken(W, x, y)[0][0, 0]
assert "in the hidden layers σ′ is taken at the values v_ℓ" in report.hint
assert {w.matrix for w in report.wrong} == {0, 1}   # W_2 is right
