"""The floor: each workload in plain Python floats, with its gradients coded by hand.

No graph, no objects per operation: a forward pass that keeps what the backward pass needs,
then the chain rule written out for this one network. Any pure-Python engine pays for its
generality on top of this, so ``engine time / reference time`` is the engine's overhead.
Each ``run`` returns the gradients the engines' are compared with.
"""

from __future__ import annotations

import math

from .data import L2_ALPHA, LEARNING_RATE, Layer


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def kramer_chain() -> list[float]:
    """W1, the Kramer lecture's one-path network: out = w2·σ(w1·σ(w0·s0)).

    Returns [dout/dw0, dout/dw1, dout/dw2, dout/ds0] from the slide's formulas.
    """
    s0, w0, w1, w2 = 2.0, 2.0, 1.0, 0.5
    s1 = _sigmoid(w0 * s0)
    s2 = _sigmoid(w1 * s1)
    # out = w2 * s2 (its value is not needed by the backward pass)
    d_x2 = w2 * s2 * (1.0 - s2)          # dout/dx2 = w2 · s2(1 − s2)
    d_x1 = d_x2 * w1 * s1 * (1.0 - s1)   # dout/dx1 = dout/dx2 · w1 · s1(1 − s1)
    return [d_x1 * s0, d_x2 * s1, s2, d_x1 * w0]


def mlp_step(layers: list[Layer], points: list[list[float]], labels: list[float]) -> list[float]:
    """W2, one full-batch step of micrograd's demo: relu MLP, hinge loss + L2, SGD update.

    Returns the step's gradients (micrograd's parameter order) and updates ``layers`` in place.
    """
    n_layers = len(layers)
    weight_grads = [[[0.0] * len(row) for row in weights] for weights, _ in layers]
    bias_grads = [[0.0] * len(biases) for _, biases in layers]
    scale = 1.0 / len(points)  # data loss = mean of the hinge losses
    for x, y in zip(points, labels):
        # forward, keeping each layer's input and pre-activation
        inputs: list[list[float]] = []
        pre: list[list[float]] = []
        a = x
        for index, (weights, biases) in enumerate(layers):
            z = []
            for row, bias in zip(weights, biases):
                total = bias
                for w, xi in zip(row, a):  # the order micrograd adds in: b + w0·x0 + w1·x1 ...
                    total += w * xi
                z.append(total)
            inputs.append(a)
            pre.append(z)
            a = z if index == n_layers - 1 else [t if t > 0 else 0.0 for t in z]
        score = a[0]
        # hinge: loss = relu(1 − y·score); d loss/d score = −y where the margin is violated
        if 1.0 - y * score <= 0:
            continue
        dz = [-y * scale]
        for index in range(n_layers - 1, -1, -1):
            weights, _ = layers[index]
            a_in = inputs[index]
            w_grads = weight_grads[index]
            b_grads = bias_grads[index]
            d_in = [0.0] * len(a_in)
            for j, dzj in enumerate(dz):
                if dzj == 0.0:
                    continue
                b_grads[j] += dzj
                row_grad = w_grads[j]
                row = weights[j]
                for i, ai in enumerate(a_in):
                    row_grad[i] += dzj * ai
                    d_in[i] += dzj * row[i]
            if index:  # through the previous layer's relu: relu'(z) = 1 for z > 0
                dz = [d if z > 0 else 0.0 for d, z in zip(d_in, pre[index - 1])]
    # L2: d/dp (alpha · Σ p²) = 2·alpha·p ; then the SGD update
    grads = []
    for (weights, biases), w_grads, b_grads in zip(layers, weight_grads, bias_grads):
        for j, (row, row_grad) in enumerate(zip(weights, w_grads)):
            for i, w in enumerate(row):
                g = row_grad[i] + 2.0 * L2_ALPHA * w
                grads.append(g)
                row[i] = w - LEARNING_RATE * g
            g = b_grads[j] + 2.0 * L2_ALPHA * biases[j]
            grads.append(g)
            biases[j] -= LEARNING_RATE * g
    return grads


def deep_chain(n: int) -> list[float]:
    """W3, y = y·0.999 + 0.001 repeated n times from x = 0.5: dy/dx = 0.999ⁿ, step by step."""
    y = 0.5
    for _ in range(n):
        y = y * 0.999 + 0.001
    slope = 1.0
    for _ in range(n):
        slope *= 0.999
    return [slope]


def sum_of_products(xs: list[float], ws: list[float]) -> list[float]:
    """W4, s = Σ xᵢ·wᵢ: ds/dxᵢ = wᵢ and ds/dwᵢ = xᵢ. Returns the x gradients, then the w's."""
    total = 0.0
    for x, w in zip(xs, ws):
        total += x * w
    return [*ws, *xs]
