"""The benchmark's inputs, made here so that every engine starts from the same numbers.

Two moons is generated like scikit-learn's ``make_moons`` (micrograd's demo uses it), but
with the standard library only, so the benchmark needs neither NumPy nor scikit-learn.
"""

from __future__ import annotations

import itertools
import math
import random

# micrograd's demo network: 2 inputs, two hidden ReLU layers of 16, one linear output.
MLP_SIZES = (2, 16, 16, 1)
N_POINTS = 100  # the demo's full batch
L2_ALPHA = 1e-4  # the demo's regularisation strength
LEARNING_RATE = 0.05


def two_moons(n_samples: int = N_POINTS, noise: float = 0.1,
              seed: int = 1337) -> tuple[list[list[float]], list[float]]:
    """Points on two interleaved half circles, with labels -1 and +1 (for the hinge loss)."""
    rng = random.Random(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    points: list[list[float]] = []
    labels: list[float] = []
    for i in range(n_outer):
        angle = math.pi * i / max(n_outer - 1, 1)
        points.append([math.cos(angle), math.sin(angle)])
        labels.append(-1.0)
    for i in range(n_inner):
        angle = math.pi * i / max(n_inner - 1, 1)
        points.append([1.0 - math.cos(angle), 0.5 - math.sin(angle)])
        labels.append(1.0)
    for point in points:
        point[0] += rng.gauss(0.0, noise)
        point[1] += rng.gauss(0.0, noise)
    return points, labels


Layer = tuple[list[list[float]], list[float]]  # (weights[neuron][input], biases[neuron])


def mlp_parameters(sizes: tuple[int, ...] = MLP_SIZES, seed: int = 42) -> list[Layer]:
    """Initial weights as micrograd draws them: uniform(-1, 1), biases 0."""
    rng = random.Random(seed)
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        weights = [[rng.uniform(-1.0, 1.0) for _ in range(n_in)] for _ in range(n_out)]
        layers.append((weights, [0.0] * n_out))
    return layers


def flatten(layers: list[Layer]) -> list[float]:
    """Parameters in micrograd's order: layer by layer, neuron by neuron, weights then bias."""
    return [p for weights, biases in layers
            for row, bias in zip(weights, biases) for p in (*row, bias)]
