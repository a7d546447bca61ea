"""Neural networks built from autograd_lite Values: the lectures' networks, trainable.

    import nn
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    history = nn.fit(model, nn.data.xor(), loss="binary_cross_entropy",
                     optimizer=nn.optim.Adam(model, lr=0.1), epochs=200)

    perceptron = nn.Perceptron(2, seed=0)         # Kauchak's threshold unit, its own rule
    mistakes = perceptron.train(nn.data.xor(), epochs=20)   # never 0: XOR is not separable
"""

from . import data, losses, optim
from .module import ACTIVATIONS, MLP, Layer, Module, Neuron
from .perceptron import Perceptron
from .train import CompileFallbackWarning, History, accuracy, fit, gradient_sizes, predict

__all__ = [
    "ACTIVATIONS", "MLP", "CompileFallbackWarning", "History", "Layer", "Module", "Neuron",
    "Perceptron", "accuracy", "data", "fit", "gradient_sizes", "losses", "optim", "predict",
]
