# %% [markdown]
# # 6 · Forward mode and reverse mode: one table, two directions
#
# *The chain rule multiplies local derivatives along a path. It does not say in which order
# to multiply them. Backpropagation starts at the output (reverse mode); forward mode starts
# at an input. Both read the same local derivatives off the one table of primitives.*
#
# **Forward mode** gives every input a *tangent*, how fast it moves: 1 for the input we
# differentiate with respect to, 0 for the others. Then, inputs first, every operation gets
#
# $$\dot v \;=\; \sum_{\text{inputs } u \text{ of } v} \frac{\partial v}{\partial u}\,\dot u ,$$
#
# so when the pass reaches the output, $\dot{\text{out}} = d\,\text{out}/dw$ for the one
# input $w$ that was seeded. **Reverse mode** hands $\bar v = d\,\text{out}/dv$ down from the
# output: $\bar u \mathrel{+}= \bar v \cdot \partial v/\partial u$, and when it reaches the
# inputs it has $d\,\text{out}/dw$ for *every* input $w$ at once.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (7, 3.2), "axes.grid": True,
                     "grid.alpha": 0.3})

# %% [markdown]
# ## The Kramer chain by forward mode
#
# `jvp(f, primals, tangents)` (as in JAX) runs `f` on `Value`s and pushes the tangents
# through the graph it builds: it returns the value and the directional derivative
# $\sum_i \frac{\partial f}{\partial x_i}\,\text{tangent}_i$. With the tangent 1 at $w_0$
# and 0 elsewhere, that is the slide's
# $\frac{d\,\text{out}}{dw_0} = w_2\,s_2(1 - s_2)\,w_1\,s_1(1 - s_1)\,s_0 = 0.003501$.
# Each input takes one forward pass; one backward pass gives all four.

# %%
from autograd_lite import Value, gradients, jvp
from autograd_lite.notation import number


def kramer(s0, w0, w1, w2):
    # out = w2 · S(w1 · S(w0 · s0)), the slide's one-path network
    return w2 * (w1 * (w0 * s0).sigmoid()).sigmoid()


point = [2.0, 2.0, 1.0, 0.5]                    # s0, w0, w1, w2: the slide's first guess
names = ["s0", "w0", "w1", "w2"]

forward = {}
for k, name in enumerate(names):                # one forward pass per input
    basis = [1.0 if i == k else 0.0 for i in range(4)]
    value, forward[name] = jvp(kramer, point, basis)

leaves = [Value(x, name) for x, name in zip(point, names)]
reverse = dict(zip(names, gradients(kramer(*leaves), leaves)))   # one backward pass

for name in names:
    print(f"dout/d{name}: forward {forward[name]:.10f}   reverse {reverse[name]:.10f}")
    assert math.isclose(forward[name], reverse[name], rel_tol=1e-14)
assert number(value) == "0.3638"                 # out, slide "Forward propagation"
assert number(forward["w0"]) == "0.003501"       # the slide's dout/dw0
assert number(forward["w1"]) == "0.09734"        # w2·s2(1 − s2)·s1
assert number(forward["w2"]) == "0.7275"         # s2

# %% [markdown]
# ## Both directions on one graph
#
# `forward_trace(out, w0)` records the forward pass step by step, as `trace(out)` records
# the backward one: for each operation, inputs first, its tangent $d\,\text{node}/dw_0$ and,
# for each input carrying a tangent, the local derivative (the table's formula and its
# number) times that input's tangent. The formulas are the very ones the backward trace
# prints, read from the same rules: only the direction of the products differs.

# %%
from autograd_lite import forward_trace, trace
from autograd_lite.lectures import kramer_chain

n = kramer_chain()
along_w0 = forward_trace(n["out"], n["w0"])
print(along_w0)

# %%
backward = trace(n["out"], accumulate=False)
print(backward)

# %% [markdown]
# Forward mode ends with $d\,\text{out}/dw_0$ for one input, having computed
# $d\,\text{node}/dw_0$ for every node; reverse mode ends with $d\,\text{out}/d\,\text{node}$
# for every node. On a chain with a single path every node cuts the path in two, so for
# each node $v$ on it the two halves multiply to the same number:
# $\frac{d\,\text{out}}{dv}\cdot\frac{dv}{dw_0} = \frac{d\,\text{out}}{dw_0}$.

# %%
dout_dw0 = along_w0.tangent
assert math.isclose(dout_dw0, backward.gradients[n["w0"]], rel_tol=1e-14)
assert number(dout_dw0) == "0.003501"
print(f"{'v':>4}  {'dv/dw0 (forward)':>17}  {'dout/dv (reverse)':>18}  product")
for name in ("w0", "x1", "s1", "x2", "s2", "out"):
    v = n[name]
    forward_half = along_w0.tangent_of(v)
    reverse_half = backward.gradients[v] if v is not n["out"] else 1.0
    print(f"{name:>4}  {forward_half:17.10f}  {reverse_half:18.10f}  "
          f"{forward_half * reverse_half:.10f}")
    assert math.isclose(forward_half * reverse_half, dout_dw0, rel_tol=1e-13)

# %% [markdown]
# The forward trace's numbers are `jvp`'s (the same pass), and each step's tangent is the
# sum of its contributions:

# %%
assert along_w0.tangent == jvp(kramer, point, [0.0, 1.0, 0.0, 0.0])[1]
for step in along_w0:
    assert step.tangent == sum(c.product for c in step.contributions)
along_w0

# %% [markdown]
# ## Why reverse mode wins for one loss and many weights
#
# A loss of $n$ weights has $n$ partial derivatives. Forward mode gives one per pass (one
# basis tangent each): **$n$ passes**, each through the whole graph, so its work grows like
# $n \times$ (size of the graph). Reverse mode gives all $n$ from **one forward and one
# backward pass**. Below, a neuron's squared-error loss
# $L = (\tanh(\sum_{i=1}^n w_i x_i) - y)^2$, built from `*` and `+`, so its graph has about
# $2n$ operations; for $n$ from 1 to 64 we measure
#
# - the time for the whole gradient: $n$ calls of `jvp` versus one `gradients` (each
#   including the forward pass that builds the graph);
# - the number of passes and of products (local derivative × tangent, or upstream × local
#   derivative) each mode computes, counted by `forward_trace` and `trace`.

# %%
import time

from autograd_lite import tanh


def make_loss(n):
    xs = [math.sin(1.0 + i) for i in range(n)]     # a fixed input and target
    y = 0.3

    def loss(*w):
        total = w[0] * xs[0]
        for wi, xi in zip(w[1:], xs[1:]):
            total = total + wi * xi
        return (tanh(total) - y) ** 2

    return loss


def best_time(work, *args, repeats=7):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def gradient_by_forward_mode(loss, w):
    return [jvp(loss, w, [1.0 if i == k else 0.0 for i in range(len(w))])[1]
            for k in range(len(w))]


def gradient_by_reverse_mode(loss, w):
    leaves = [Value(x) for x in w]
    return gradients(loss(*leaves), leaves)


sizes = [1, 2, 4, 8, 12, 16, 24, 32, 40, 48, 56, 64]
time_forward, time_reverse = [], []
for size in sizes:
    loss = make_loss(size)
    w = [0.1 * math.cos(i) for i in range(size)]
    g_forward = gradient_by_forward_mode(loss, w)
    g_reverse = gradient_by_reverse_mode(loss, w)
    assert np.allclose(g_forward, g_reverse, rtol=1e-12, atol=1e-15), size
    time_forward.append(best_time(gradient_by_forward_mode, loss, w))
    time_reverse.append(best_time(gradient_by_reverse_mode, loss, w))

ratio = time_forward[-1] / time_reverse[-1]
print(f"n = 64: forward mode (64 jvp passes) takes {ratio:.0f}x the time of one backward pass")
assert ratio > 3  # the work is ~30x; a loaded machine must not hide it

# %% [markdown]
# Counting instead of timing: passes, and the products each mode multiplies out. A basis
# tangent at $w_i$ only moves the nodes downstream of $w_i$ (its product and the sums after
# it), and `jvp` skips the rest, yet the sum over $i$ still grows like $n^2/2$, while the
# backward pass multiplies once per edge of the graph.

# %%
counted = [1, 2, 4, 8, 16, 32, 64]
products_forward, products_reverse = [], []
print(f"{'n':>3} {'operations':>10} {'forward passes':>15} {'products':>9}   "
      f"{'backward passes':>15} {'products':>9}")
for size in counted:
    loss = make_loss(size)
    leaves = [Value(0.1 * math.cos(i), f"w{i + 1}") for i in range(size)]
    out = loss(*leaves)
    per_weight = [forward_trace(out, leaf) for leaf in leaves]    # n forward passes
    one_backward = trace(out, accumulate=False)                   # 1 backward pass
    operations = len(one_backward)
    products_forward.append(sum(len(s.contributions) for t in per_weight for s in t))
    products_reverse.append(sum(len(s.contributions) for s in one_backward))
    assert len(per_weight) == size and all(len(t) == operations for t in per_weight)
    for t, leaf in zip(per_weight, leaves):
        assert math.isclose(t.tangent, one_backward.gradients[leaf], rel_tol=1e-12,
                            abs_tol=1e-15)
    print(f"{size:>3} {operations:>10} {size:>15} {products_forward[-1]:>9}   "
          f"{1:>15} {products_reverse[-1]:>9}")

# By hand for this graph: reverse, one product per edge from a non-constant input: n for the
# w·x, 2 for each of the n − 1 sums, 3 for tanh, − y and ²: 3n + 1. Forward, along w1:
# w1·x1, the n − 1 sums, then 3; along w_i (i >= 2): w_i·x_i, the n − i + 1 sums from the
# i-th on, then 3. Together (n² + 9n − 2)/2.
assert products_reverse == [3 * m + 1 for m in counted]
assert products_forward == [(m * m + 9 * m - 2) // 2 for m in counted]

# %%
fig, (ax_time, ax_count) = plt.subplots(1, 2, figsize=(10, 3.4))
ax_time.plot(sizes, 1e3 * np.array(time_forward), "o-", label="forward: n jvp passes")
ax_time.plot(sizes, 1e3 * np.array(time_reverse), "s-", label="reverse: 1 backward pass")
ax_time.set(title="time for the whole gradient", xlabel="n (weights)", ylabel="ms")
ax_time.legend(fontsize=8)
ax_count.plot(counted, products_forward, "o-", label="forward mode")
ax_count.plot(counted, products_reverse, "s-", label="reverse mode")
ax_count.set(title="local derivative × tangent products", xlabel="n (weights)")
ax_count.legend(fontsize=8);

# %% [markdown]
# ## And where forward mode wins
#
# The other way round: one input and many outputs. One forward pass along $w_0$ has the
# derivative of *every* node with respect to $w_0$ (a column of the Jacobian); reverse mode
# would need one backward pass per node (a row each).

# %%
chain = ["x1", "s1", "x2", "s2", "out"]
one_forward = {name: along_w0.tangent_of(name) for name in chain}   # 1 pass
per_node = {name: gradients(n[name], [n["w0"]])[0] for name in chain}  # 5 backward passes
for name in chain:
    print(f"d{name}/dw0 = {number(one_forward[name]):>9}   (one forward pass)   "
          f"{number(per_node[name]):>9}   (a backward pass of its own)")
    assert math.isclose(one_forward[name], per_node[name], rel_tol=1e-14)
