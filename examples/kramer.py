"""The Kramer lecture's one-path sigmoid chain, forward and backward, with the slide's numbers.

    s0 -> (w0) -> x1 -> S -> s1 -> (w1) -> x2 -> S -> s2 -> (w2) -> out
"""

from autograd_lite.lectures import KRAMER_TARGET, kramer_chain

n = kramer_chain()  # the slide's first guess: s0 = 2, w0 = 2, w1 = 1, w2 = 0.5
s0, w0, w1, w2 = n["s0"], n["w0"], n["w1"], n["w2"]
x1, s1, x2, s2, out = n["x1"], n["s1"], n["x2"], n["s2"], n["out"]
target = KRAMER_TARGET
cost = 0.5 * (target - out) ** 2
cost.label = "C"

print("Forward propagation (slide: s1 = 0.982, s2 = 0.7275, out = 0.3638)")
for node in (x1, s1, x2, s2, out, cost):
    print(f"  {node.label:>3} = {node.data:.4f}")

out.backward()
print("\nBackpropagation of out, and the lecture's formulas")
formulas = {
    "w2": ("s2", s2.data),
    "w1": ("w2 · s2(1 − s2) · s1", w2.data * s2.data * (1 - s2.data) * s1.data),
    "w0": ("w2 · s2(1 − s2) · w1 · s1(1 − s1) · s0",
           w2.data * s2.data * (1 - s2.data) * w1.data * s1.data * (1 - s1.data) * s0.data),
}
for weight in (w2, w1, w0):
    text, by_hand = formulas[weight.label]
    print(f"  dout/d{weight.label} = {weight.grad:.6f}   ({text} = {by_hand:.6f})")

for p in (s0, w0, w1, w2):
    p.grad = 0.0
cost.backward()
print(f"\nCost C = ½(target − out)² = {cost.data:.4f} with target = {target}")
for weight in (w2, w1, w0):
    print(f"  dC/d{weight.label} = (out − target) · dout/d{weight.label} = {weight.grad:.6f}")
