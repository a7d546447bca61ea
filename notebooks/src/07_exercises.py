# %% [markdown]
# # 7 · Exercises: derive it yourself, the checker grades it
#
# Each exercise asks for a derivative from one of the lectures. Write your answer in the
# cell marked **your answer** (a formula as text, in the names of the graph's nodes, or a
# Python function for a local derivative) and run it: `autograd_lite.exercises` grades it
# against the chain rule the graph gives (`explain`), with SymPy and at random points,
# and when it is wrong says where (a point, both numbers) and what the mistake looks
# like: a missing path, $s(1 - s)$ of the wrong node, a missing factor, the sign of
# $dC/d\text{out}$, ...
#
# The formula is read with the graph language's whitelist (names, numbers, `+ - * / **`,
# the table's functions such as `sigmoid(x2)`), never evaluated as Python. Write products
# with `*`: `s2*(1 - s2)`, not `s2(1 - s2)`. The lecture's `·` and `−` are accepted.
#
# A solution follows each exercise in a **collapsed cell** (tagged `solution`; click it to
# open). Building this notebook runs every solution and asserts that the checker grades it
# correct.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np

plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (7, 3.2), "axes.grid": True,
                     "grid.alpha": 0.3})

# %%
from autograd_lite.exercises import check_derivative, check_formula
from autograd_lite.graph_language import evaluate_graph
from autograd_lite.lectures import KRAMER_FIRST_GUESS, KRAMER_GRAPH, kramer_chain

n = kramer_chain()  # Kramer's chain with the slide's numbers: s0 = 2, w0 = 2, w1 = 1, w2 = 0.5
print(KRAMER_GRAPH)

# %% [markdown]
# ## Exercise 1 · Kramer: $d\text{out}/dw_2$
#
# $s_0 \xrightarrow{w_0} x_1 \xrightarrow{S} s_1 \xrightarrow{w_1} x_2 \xrightarrow{S} s_2
# \xrightarrow{w_2} \text{out}$. How does a change in $w_2$ change the output?

# %%
# your answer: a formula in the node names s0 w0 x1 s1 w1 x2 s2 w2 out
answer_1 = ""
check_formula(n["out"], n["w2"], answer_1)

# %% jupyter={"source_hidden": true} tags=["solution", "hide-input"]
solution_1 = "s2"
verdict = check_formula(n["out"], n["w2"], solution_1)
assert verdict.correct, verdict.message
verdict

# %% [markdown]
# ## Exercise 2 · Kramer: $d\text{out}/dw_1$
#
# One step further down the chain. The sigmoid's slope is written in its own output:
# $S'(x) = S(x)(1 - S(x))$.

# %%
# your answer
answer_2 = ""
check_formula(n["out"], n["w1"], answer_2)

# %% jupyter={"source_hidden": true} tags=["solution", "hide-input"]
solution_2 = "w2*s2*(1 - s2)*s1"
verdict = check_formula(n["out"], n["w1"], solution_2)
assert verdict.correct, verdict.message
# Equivalent forms are accepted too: the lecture's notation, the sigmoid written out.
for same in ["dout/dw1 = w2 · s2·(1 − s2) · s1", "w2*sigmoid(x2)*(1 - sigmoid(x2))*s1"]:
    assert check_formula(n["out"], n["w1"], same).correct, same
verdict

# %% [markdown]
# What the checker says to three typical mistakes (they are not solutions):

# %%
for wrong in ["w2*s1*(1 - s1)*s1", "w2*s2*(1 - s2)", "w2*s2*s1"]:
    verdict = check_formula(n["out"], n["w1"], wrong)
    assert not verdict.correct
    print(f"{wrong}:\n  {verdict.mistake}: {verdict.message}\n")

# %% [markdown]
# ## Exercise 3 · Kramer: $d\text{out}/dw_0$
#
# All the way down to the first weight.

# %%
# your answer
answer_3 = ""
check_formula(n["out"], n["w0"], answer_3)

# %% jupyter={"source_hidden": true} tags=["solution", "hide-input"]
solution_3 = "w2*s2*(1 - s2)*w1*s1*(1 - s1)*s0"
verdict = check_formula(n["out"], n["w0"], solution_3)
assert verdict.correct, verdict.message
verdict

# %% [markdown]
# ## Exercise 4 · Kramer: the cost, $dC/dw_1$
#
# The slides define the cost $C = \frac12(\text{target} - \text{out})^2$ with
# target $= 0.7$, and ask for $dC/dw_1$: what does the cost add in front of
# $d\text{out}/dw_1$? Mind the sign.

# %%
cost = evaluate_graph(KRAMER_GRAPH + "; C = (target - out)**2 / 2",
                      {**KRAMER_FIRST_GUESS, "target": 0.7})
C, c = cost.output, cost.nodes

# your answer
answer_4 = ""
check_formula(C, c["w1"], answer_4)

# %% jupyter={"source_hidden": true} tags=["solution", "hide-input"]
solution_4 = "(out - target)*w2*s2*(1 - s2)*s1"
verdict = check_formula(C, c["w1"], solution_4)
assert verdict.correct, verdict.message
assert check_formula(C, c["w1"], "-(target - out)*w2*s2*(1 - s2)*s1").correct
verdict

# %% [markdown]
# The sign of $dC/d\text{out}$ is the classic slip:

# %%
wrong = check_formula(C, c["w1"], "(target - out)*w2*s2*(1 - s2)*s1")
print(wrong.message)
print("the counterexample:", wrong.counterexample)
assert wrong.mistake == "sign" and math.isclose(wrong.answer_value, -wrong.expected_value)

# %% [markdown]
# ## Exercise 5 · Kauchak: a hidden layer, two paths
#
# *David Kauchak, CS159.* Two inputs, two sigmoid hidden units $h_k = f(w_k \cdot x)$, a
# sigmoid output $\hat y = f(v \cdot h)$ and the loss $\frac12 (y - \hat y)^2$. The slides'
# answers: $\frac{d\,\text{loss}}{dv_k} = -(y - \hat y)\, f'(v \cdot h)\, h_k$ and
# $\frac{d\,\text{loss}}{dw_{kj}} = -(y - \hat y)\, f'(v\cdot h)\, v_k\, f'(w_k\cdot x)\,
# x_j$. Here: $d\,\text{loss}/dv_1$, $d\,\text{loss}/dw_{11}$, and the derivative with
# respect to the input $x_1$, which reaches the loss along **two** paths (through $h_1$
# and through $h_2$).

# %%
hidden = evaluate_graph(
    "a1 = w11*x1 + w12*x2; h1 = sigmoid(a1); a2 = w21*x1 + w22*x2; h2 = sigmoid(a2); "
    "z = v1*h1 + v2*h2; yhat = sigmoid(z); loss = (y - yhat)**2 / 2",
    {"x1": 1.0, "x2": 0.5, "w11": 0.5, "w12": -0.3, "w21": 0.2, "w22": 0.8,
     "v1": 1.5, "v2": -1.0, "y": 1.0})
loss, k = hidden.output, hidden.nodes

# your answers
answer_5a = ""  # d loss / d v1
answer_5b = ""  # d loss / d w11
answer_5c = ""  # d loss / d x1
for wrt, answer in (("v1", answer_5a), ("w11", answer_5b), ("x1", answer_5c)):
    print(f"d loss/d {wrt}:", check_formula(loss, k[wrt], answer).message)

# %% jupyter={"source_hidden": true} tags=["solution", "hide-input"]
solution_5a = "-(y - yhat)*yhat*(1 - yhat)*h1"
solution_5b = "-(y - yhat)*yhat*(1 - yhat)*v1*h1*(1 - h1)*x1"
solution_5c = "(yhat - y)*yhat*(1 - yhat)*(v1*h1*(1 - h1)*w11 + v2*h2*(1 - h2)*w21)"
for wrt, solution in (("v1", solution_5a), ("w11", solution_5b), ("x1", solution_5c)):
    verdict = check_formula(loss, k[wrt], solution)
    assert verdict.correct, verdict.message
    print(verdict.message)

# %% [markdown]
# Only one of the two paths:

# %%
print(check_formula(loss, k["x1"], "(yhat - y)*yhat*(1 - yhat)*v1*h1*(1 - h1)*w11").message)

# %% [markdown]
# ## Exercise 6 · Local derivatives: the table's "Gradient" column
#
# A local derivative is written over the primitive's input (`x`) and its output (`out`),
# as a formula or as a function `rule(x, out, f)` over a namespace `f` (`f.exp`,
# `f.where(condition, a, b)`, ...), the way the library's table writes its own. Give the
# slopes of the sigmoid, tanh and ReLU.

# %%
# your answers
answer_6a = ""  # sigmoid, a formula in x and out


def answer_6b(x, out, f):  # tanh
    return 0.0


def answer_6c(x, out, f):  # relu
    return 0.0


for name, answer in (("sigmoid", answer_6a), ("tanh", answer_6b), ("relu", answer_6c)):
    print(f"{name}:", check_derivative(name, answer).message)

# %% jupyter={"source_hidden": true} tags=["solution", "hide-input"]
solution_6a = "out*(1 - out)"


def solution_6b(x, out, f):
    return 1 - out**2


def solution_6c(x, out, f):
    return f.where(x >= 0, 1, 0)  # the lecture: ReLU' = 1 (z >= 0), 0 (z < 0)


for name, solution in (("sigmoid", solution_6a), ("tanh", solution_6b),
                       ("relu", solution_6c)):
    verdict = check_derivative(name, solution)
    assert verdict.correct, verdict.message
    print(verdict.message)

# %% [markdown]
# ReLU'(0) is a convention: the lecture (and this library's table) takes 1, PyTorch and
# micrograd take 0. A rule that uses 0 there is right everywhere else, and the checker
# says so:

# %%
verdict = check_derivative("relu", lambda x, out, f: 1.0 if x > 0 else 0.0)
print(verdict.mistake, "·", verdict.message)

xs = np.linspace(-2, 2, 401)
table = [1.0 if x >= 0 else 0.0 for x in xs]
torch_style = [1.0 if x > 0 else 0.0 for x in xs]
fig, ax = plt.subplots()
ax.plot(xs, table, lw=3, alpha=0.5, label="the table (lecture): ReLU'(0) = 1")
ax.plot(xs, torch_style, "--", label="PyTorch, micrograd: ReLU'(0) = 0")
ax.plot([0], [1], "o", color="C0")
ax.plot([0], [0], "o", mfc="white", color="C1")
ax.set(xlabel="x", ylabel="ReLU'(x)", title="The only point where they differ: x = 0")
ax.legend(loc="upper left");
