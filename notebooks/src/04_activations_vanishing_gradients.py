# %% [markdown]
# # 4 · Activations and vanishing gradients
#
# *"Backpropagation in Neural Nets": the punchline gradients of a three-weight-matrix net,
# $\sigma' \le 0.25$, the vanishing-gradient problem, and tanh, ReLU and leaky ReLU.*

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (7, 3.2), "axes.grid": True,
                     "grid.alpha": 0.3})

# %% [markdown]
# ## The punchline
#
# One unit per layer, so every $W$ is a number: $z^{(2)} = W_1 X$, $a^{(2)} = \sigma(z^{(2)})$,
# $z^{(3)} = W_2\, a^{(2)}$, $a^{(3)} = \sigma(z^{(3)})$, $\hat y = W_3\, a^{(3)}$,
# $J = \tfrac12(\hat y - y)^2$. The slide:
#
# $$\frac{\partial J}{\partial W^{(3)}} = (\hat y - y)\, a^{(3)}, \quad
#   \frac{\partial J}{\partial W^{(2)}} = (\hat y - y)\, W_3\, \sigma'(z^{(3)})\, a^{(2)}, \quad
#   \frac{\partial J}{\partial W^{(1)}} = (\hat y - y)\, W_3\, \sigma'(z^{(3)})\, W_2\,
#   \sigma'(z^{(2)})\, X$$
#
# with $\sigma'(z) = \sigma(z)(1 - \sigma(z))$.

# %%
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

# %% [markdown]
# ## The activation functions and their gradients
#
# The lecture's table, *Name | Function | Gradient*. The engine's derivative (`grad`, which
# reads the one table of primitives in `autograd_lite/primitives.py`) is plotted and checked
# against the lecture's gradient column, written out below in NumPy, and against finite
# differences:
#
# | name | function | gradient |
# |---|---|---|
# | sigmoid | $\sigma(z) = 1/(1 + e^{-z})$ | $\sigma(z)(1 - \sigma(z))$ |
# | tanh | $\tanh z$ | $1 - \tanh^2 z$ |
# | ReLU | $\max(0, z)$ | $1$ for $z \ge 0$, $0$ for $z < 0$ |
# | leaky ReLU | $\max(\alpha z, z)$, $\alpha < 1$ | $1$ for $z \ge 0$, $\alpha$ for $z < 0$ |
#
# (At exactly $z = 0$ the lecture's table says ReLU′ = 1; so does the engine.)

# %%
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

# %% [markdown]
# ## $\sigma'(z) \le 0.25$
#
# SymPy, independently of the engine: $\sigma'(z) = e^{-z}/(1 + e^{-z})^2$ (the quotient rule)
# equals $\sigma(1 - \sigma)$, has its only critical point at $z = 0$, and is $1/4$ there. The
# engine's largest $\sigma'$ on a fine grid is the same $0.25$.

# %%
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


# %% [markdown]
# ## Vanishing gradients along a chain
#
# In $\partial J / \partial W^{(1)}$ every layer contributes a factor $W_k\, \sigma'(z^{(k)})$.
# For a chain one unit wide, $x \to$ (weight $w_1$) $\to f \to$ (weight $w_2$) $\to f \to \cdots$,
# the gradient at the **first** weight is
#
# $$\frac{\partial\, \text{out}}{\partial w_1} = x \prod_{k=1}^{L} f'(z_k) \prod_{k=2}^{L} w_k,
# \qquad |\cdot| \le |x| \prod_{k \ge 2} |w_k| \cdot 0.25^{L} \ \text{for the sigmoid.}$$
#
# The engine builds the chain and runs backward; NumPy multiplies the lecture's factors.

# %%
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

# %% [markdown]
# The same chain drawn, four sigmoids deep: the gradients shrink layer by layer towards the
# first weight, and the drawing shows each of them to four significant digits (never as
# `0.0000`). Then `explain` writes the lecture's product for the first weight.

# %%
from autograd_lite import draw, explain

out, w1 = chain(activations["sigmoid"][0], weights[:4])
out.label = "out"
out.backward()
drawing = draw(out, rankdir="LR", title="four sigmoids: the gradient shrinks towards w1")
svg = drawing.pipe(format="svg").decode()
assert f"grad {w1.grad:.4g}" in svg and "0.0000" not in svg
print(explain(out, w1))
drawing

# %% [markdown]
# ## How the first layer's gradient shrinks with depth
#
# Now real layers: `width` units each, fully connected, weights drawn at random with the
# usual scale ($1/\sqrt{\text{width}}$, times $\sqrt2$ for the ReLUs, so that activations keep
# their size from layer to layer). For each depth, the size (Euclidean norm) of the
# gradient of the sum of the last layer's outputs with respect to the *first* layer's weights;
# the median over a few random networks. Sigmoid loses a factor of about 4 or more per layer;
# tanh and the ReLUs keep their gradient within a couple of orders of magnitude.

# %%
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

# %%
for name, ys in norms.items():
    print(f"{name:>10}: " + "  ".join(f"{g:.1e}" for g in ys))

shrink = {name: ys[depths.index(16)] / ys[0] for name, ys in norms.items()}
print({name: f"{r:.1e}" for name, r in shrink.items()})
# The lecture's point, measured: from 1 to 16 layers the sigmoid's first-layer gradient
# falls by many orders of magnitude (0.25^15 is 9e-10); the ReLUs' stays within 10^2.
assert shrink["sigmoid"] < 1e-6
assert shrink["ReLU"] > 1e-2 and shrink["leaky ReLU"] > 1e-2
assert all(b < a for a, b in zip(norms["sigmoid"], norms["sigmoid"][1:]))

# %% [markdown]
# **Try:** larger weights for the sigmoid (`gains["sigmoid"] = 4.0`): to beat the factor
# 0.25 a weight must exceed 4, and large weights push $z$ into the flat tails where
# $\sigma'$ is tiny — the gradient vanishes more slowly, but it still vanishes. Change
# `width`, `depths`, or the chain's `weights` above.
