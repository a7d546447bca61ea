"""Regenerate the README's images with the project itself: ``python docs/make_images.py``.

Writes into ``docs/images/`` (or the directory given as the first argument):

* ``kramer-chain.svg`` / ``.png``: the Kramer lecture's chain after the backward pass, local
  derivatives on the edges, the path from w0 to the output highlighted;
* ``kramer-step-3.svg`` / ``.png``: step 3 of the trace (x2 passes its gradient to w1, s1);
* ``kramer-frames/step-*.svg``: the whole backward pass as a flip-book, one frame per step;
* ``mlp-network.svg`` / ``.png``: an ``nn.MLP(2, [3, 1])`` and its half squared error, as the
  network view draws it (shared inputs, one box per layer and neuron, the loss after them).
"""

from __future__ import annotations

import sys
from pathlib import Path

import graphviz

from autograd_lite import draw, save_frames, trace
from autograd_lite.lectures import kramer_chain

HERE = Path(__file__).resolve().parent




def write(graph: graphviz.Digraph, stem: Path) -> list[Path]:
    written = []
    for image_format in ("svg", "png"):
        path = stem.with_suffix(f".{image_format}")
        path.write_bytes(graph.pipe(format=image_format))
        written.append(path)
    return written


def main(directory: Path = HERE / "images") -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    n = kramer_chain()
    out = n["out"]
    steps = trace(out)  # runs the backward pass: the drawing shows the gradients
    # rankdir="wrap": the chain in rows, about 16:9, so that its text is slide size
    written = write(draw(out, show_derivatives=True, highlight=n["w0"], rankdir="wrap",
                         title="Kramer chain: dout/dw0 flows along the red path"),
                    directory / "kramer-chain")
    written += write(draw(out, step=steps[2], rankdir="wrap"), directory / "kramer-step-3")
    written += save_frames(steps, directory / "kramer-frames")
    import nn

    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    loss = nn.losses.half_squared_error(model([1.0, 2.0]), 0.5)
    loss.backward()
    written += write(draw(loss, title="nn.MLP(2, [3, 1]) and its loss ½(y − 0.5)²"),
                     directory / "mlp-network")
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "images"):
        print(path)
