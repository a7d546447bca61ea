# %% [markdown]
# # 2 · Hidden layers and XOR
#
# *David Kauchak, CS159 "Backpropagation".* One hidden layer: $m$ inputs $x_j$, $d$ hidden
# units with weights $w_{kj}$ (first index the hidden node, second the feature) and outputs
# $h_k = f(w_k \cdot x)$, one output $\hat y = f(v \cdot h)$ with weights $v_k$, squared
# error $\text{loss} = \frac12 (y - \hat y)^2$, and $f$ the sigmoid.
#
# The slides derive, "mostly just calculus":
#
# $$\frac{d\,\text{loss}}{dv_k} = -(y - f(v\cdot h))\, f'(v\cdot h)\, h_k, \qquad
#   \frac{d\,\text{loss}}{dw_{kj}} = -(y - f(v\cdot h))\, f'(v\cdot h)\, v_k\,
#   f'(w_k\cdot x)\, x_j$$
#
# and the updates with learning rate $\eta$:
#
# $$v_k \leftarrow v_k + \eta\, h_k\, (y - f(v\cdot h))\, f'(v\cdot h), \qquad
#   w_{kj} \leftarrow w_{kj} + \eta\, x_j\, f'(w_k\cdot x)\, v_k\, f'(v\cdot h)\,
#   (y - f(v\cdot h)).$$

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (7, 3.2), "axes.grid": True,
                     "grid.alpha": 0.3})

# %% [markdown]
# ## The update rules, checked against the engine
#
# The slide's formulas in NumPy (with $f' = f(1 - f)$), next to an `nn.MLP` with the same
# weights: `MLP(m, [d, 1], activation="sigmoid", output_activation="sigmoid", bias=False)`
# is exactly the slide's network. Its `parameters()` come layer by layer, neuron by neuron:
# $w_{11} \dots w_{1m}, \dots, w_{d1} \dots w_{dm}, v_1 \dots v_d$.

# %%
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

# %% [markdown]
# One step of SGD on the engine's gradients is the slide's update, term by term. And the
# slide's intuition holds: the prediction is below the label, so $v_k$ grows wherever
# $h_k > 0$ — "bigger difference = bigger change".

# %%
eta = 0.5
SGD(model, lr=eta).step()
new = np.array([p.data for p in model.parameters()])
slide_v = v + eta * h * error * f_prime(v @ h)
slide_W = W + eta * np.outer(f_prime(W @ x) * v * f_prime(v @ h) * error, x)
assert np.allclose(new[d * m:], slide_v, rtol=1e-12)
assert np.allclose(new[:d * m].reshape(d, m), slide_W, rtol=1e-12)
assert error > 0 and np.all(new[d * m:] > v)     # prediction < label: increase the weights
print("after one step: v =", np.round(new[d * m:], 4))

# %% [markdown]
# ## A perceptron cannot learn XOR
#
# | $x_1$ | $x_2$ | $x_1$ xor $x_2$ |
# |---|---|---|
# | 0 | 0 | 0 |
# | 0 | 1 | 1 |
# | 1 | 0 | 1 |
# | 1 | 1 | 0 |
#
# The perceptron convergence procedure (as in Lecture 5): add a component 1 to each input
# (its weight is the bias); if the output is 0 but should be 1, add the input to the
# weights; if 1 but should be 0, subtract it. It "is guaranteed to find a set of weights
# that gets the right answer on the whole training set *if any such set exists*". For AND
# one exists. For XOR none does — no line separates $\{(0,1), (1,0)\}$ from $\{(0,0),
# (1,1)\}$ — so the perceptron keeps making mistakes, every epoch, forever.

# %%
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

# %% [markdown]
# ## A hidden layer learns it
#
# A 2-4-1 sigmoid network (with biases: a bias is a weight on a constant input 1, so the
# rules above apply to it unchanged), trained the way the slide "Backpropagation
# implementation" says: *for some number of iterations: randomly shuffle training data;
# for each example: compute all outputs going forward, backpropagate, update.* That is
# `nn.fit(..., batch_size=1, shuffle=True)`.

# %%
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

# %% [markdown]
# The trained network's graph for one example, as an instructor draws it: the inputs once,
# a box per layer and neuron, the loss after them. `explain` gives a hidden weight's
# gradient as the chain rule over its one path through the output unit.

# %%
from autograd_lite import draw, explain

net.zero_grad()  # fit leaves its last step's gradients in .grad
loss = nn.losses.half_squared_error(net(xor_x[1]), xor_y[1])
loss.backward()
hidden_weight = net.layers[0].neurons[0].w[1]  # its input x1 is 1 here (x0 = 0: gradient 0)
e = explain(loss, hidden_weight)
print(e)
assert math.isclose(e.value, hidden_weight.grad, rel_tol=1e-12)
draw(loss, title=f"2-{hidden}-1 network, x = {xor_x[1]}")


# %% [markdown]
# The hidden units are the features a perceptron was missing: each draws one line, and the
# output unit combines them.
#
# ## Momentum versus plain SGD
#
# "Momentum: include a factor in the weight update to keep moving in the direction of the
# previous update": $\Delta w \leftarrow \mu\, \Delta w - \eta\, \frac{d\,\text{loss}}{dw}$,
# $w \leftarrow w + \Delta w$. Same networks (three seeds), same learning rate; $\mu = 0.9$
# against $\mu = 0$.

# %%
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

# %% [markdown]
# ## Shuffled online, mini-batch, and full batch
#
# Online SGD updates after every example (in a fresh random order each epoch); full batch
# after the mean gradient of all four; a mini-batch of two is the slide's "compromise
# between online and batch: avoids noisiness of updates from online while making more
# educated weight updates". Per *epoch*, online makes the most updates and learns fastest;
# per *update*, the larger batches move more steadily. The loss of each update's batch
# shows the noise.

# %%
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

# %%
# Online updates jump from example to example; the full batch's loss moves smoothly.
noise = {name: np.mean(np.abs(np.diff(h.step_loss[:200]))) for name, (_, h) in runs.items()}
assert noise["online (1)"] > noise["mini-batch (2)"] > noise["full batch (4)"]

# %% [markdown]
# **Try:** `hidden = 2` with other seeds — some runs get stuck with one example wrong
# (the slides: "loss functions … are generally not convex"); a smaller `lr`; momentum 0.99.
