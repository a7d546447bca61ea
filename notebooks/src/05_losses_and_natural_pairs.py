# %% [markdown]
# # 5 · Loss functions and their natural pairs
#
# *"Lecture 5: Backpropagation".* An output unit and an error function belong together:
# the logistic unit with the cross-entropy, the softmax with the cross-entropy over
# classes. The lecture: "The steepness of E exactly balances the flatness of the softmax."
# Then a loss from the other side of the field, the hinge, training a small ReLU network
# on two moons.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (7, 3.2), "axes.grid": True,
                     "grid.alpha": 0.3})

# %% [markdown]
# ## The logistic unit and its natural error function
#
# $z = \sum_i w_i x_i + b$, $y = \sigma(z)$. Minimising the negative log probability of the
# correct answer gives the cross-entropy
#
# $$E = -t \ln y - (1 - t) \ln(1 - y), \qquad
#   \frac{\partial E}{\partial y} = -\frac{t}{y} + \frac{1 - t}{1 - y}, \qquad
#   \frac{dy}{dz} = y(1 - y), \qquad \frac{\partial E}{\partial z} = y - t .$$
#
# The engine's gradients (`gradients` asks for $\partial E/\partial y$ and $\partial E /
# \partial z$ at the graph's own nodes) against the slide's formulas, for both targets.

# %%
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

# %% [markdown]
# SymPy, independently: differentiate $E$ in $y$, and $E(\sigma(z))$ in $z$.

# %%
import sympy as sp

y_s, z_s, t_s = sp.symbols("y z t")
E_of_y = -t_s * sp.log(y_s) - (1 - t_s) * sp.log(1 - y_s)
assert sp.simplify(sp.diff(E_of_y, y_s) - (-t_s / y_s + (1 - t_s) / (1 - y_s))) == 0
sigma_z = 1 / (1 + sp.exp(-z_s))
dE_dz_sympy = sp.diff(E_of_y.subs(y_s, sigma_z), z_s)
assert sp.simplify(dE_dz_sympy - (sigma_z - t_s)) == 0
print("dE/dz =", sp.simplify(dE_dz_sympy), " which is sigma(z) - t")


# %% [markdown]
# ### Why it is the *natural* pair
#
# With the squared error $\frac12 (y - t)^2$ instead, $\frac{\partial E}{\partial z} =
# (y - t)\, y(1 - y)$: the sigmoid's slope multiplies the error. A unit that is confidently
# *wrong* ($t = 1$, $z \ll 0$) sits where the sigmoid is flat, and hardly learns. The
# cross-entropy's $-t/y$ grows exactly as fast as $y(1-y)$ shrinks, and $\partial E /
# \partial z = y - t$ stays near $-1$. Below: the engine's $\partial E / \partial z$ for both
# losses, target $t = 1$.

# %%
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

# %% [markdown]
# ## Softmax with cross-entropy
#
# $$y_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \qquad E = -\sum_j t_j \ln y_j, \qquad
#   \frac{\partial E}{\partial z_i} = y_i - t_i .$$
#
# `nn.losses.softmax_cross_entropy(logits, k)` takes the logits and the index of the correct
# class ($t$ one-hot). The engine's gradient against NumPy's $y - t$, and against finite
# differences.

# %%
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

# %% [markdown]
# `explain` adds up the chain rule over every path from $z_0$ to $E$ (through the shift by
# the largest logit, each exponential and the log of their sum) and gets the lecture's
# $y_0 - t_0$; `to_latex()` gives the same sum for notes.

# %%
from autograd_lite import explain

e0 = explain(E, z[0])
print(f"paths: {len(e0.paths)}; dE/dz0 = {e0.value:.6f}, y0 - t0 = {y_np[0] - t_np[0]:.6f}")
assert math.isclose(e0.value, y_np[0] - t_np[0], rel_tol=1e-12)
assert math.isclose(e0.path_sum, e0.value, rel_tol=1e-12)

# %% [markdown]
# **The steepness of E exactly balances the flatness of the softmax.** The softmax's slopes,
# $\partial y_i / \partial z_j = y_i(\delta_{ij} - y_j)$, carry a factor $y_i$: for the
# correct class $k$ they are small exactly when $y_k$ is small, when the network is
# confidently wrong. The error's steepness $\partial E / \partial y_k = -1 / y_k$ is large
# exactly then. Their product (the chain rule, summed over $i$) is $y_j - t_j$. The
# engine's Jacobian of the softmax, row by row:

# %%
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

# %% [markdown]
# ## Two moons with a hinge loss
#
# The hinge $\max(0,\ 1 - y\,s)$ for labels $y \in \{-1, +1\}$ and a score $s$: zero once an
# example is on the right side with a margin of 1, and gradient $-y$ until then. A 2-8-8-1
# ReLU network with a linear output scores each point; the decision boundary is $s = 0$.
# First the hinge's gradient from the engine against that rule:

# %%
for label in (-1.0, 1.0):
    for score in (-2.0, -0.3, 0.4, 2.5):
        s = Value(score)
        (g,) = gradients(nn.losses.hinge(s, label), [s])
        expected = -label if label * score < 1 else 0.0
        assert g == expected, (label, score)
print("d hinge / d score = -y where y*s < 1, else 0: checked")

# %%
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

# %% [markdown]
# **Try:** more noise (`noise=0.2`), a smaller network (`[4, 1]`), `activation="tanh"`, or
# the logistic pair instead: labels `(0.0, 1.0)`, `output_activation="sigmoid"` and
# `loss="binary_cross_entropy"`.
