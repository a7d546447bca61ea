"""Checking gradient code that is not written with Values (issue 16): a hand-derived
derivative (``assert_gradient_matches``), a NumPy backprop (``check_backprop``), a custom
torch/JAX backward (``assert_custom_backward_matches``) and the ``gradient_check`` fixture of
the pytest plugin.

Every checker accepts correct code and rejects each wrong variant with a message that names
the input or weight, gives both numbers and the correct formula. The numbers the messages
must show are computed here independently: derivatives by hand with the math module,
backprop gradients by central differences of a NumPy forward pass.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from autograd_lite import cos, exp, log, sigmoid, sin, tanh
from autograd_lite.testing import (
    BackpropError,
    BackpropReport,
    assert_custom_backward_matches,
    assert_gradient_matches,
    check_backprop,
)

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


def number(x: float) -> str:
    """How the checkers write a number: 10 significant digits."""
    return f"{x:.10g}"


def point_of(message: str) -> dict[str, float]:
    """The point a failure names: "... at x = 1.5, y = -0.25"."""
    head = message.splitlines()[0]
    return {name: float(value) for name, value in
            re.findall(r"(\w+) = (-?[0-9.e+-]+|-?inf|nan)", head.split(" at ", 1)[1])}


# ================================================================ assert_gradient_matches


def softplus(x):
    return log(1 + exp(x))


def dsoftplus(x):  # the student's derivative: σ(x)
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize("reference", ["engine", "sympy", "finite_differences"])
def test_a_correct_derivative_passes_against_every_reference(reference):
    assert_gradient_matches(softplus, dsoftplus, {"x": (-6, 6)}, reference=reference)
    # Two inputs, domain by position and by name; grad_f may use autograd_lite's functions
    # on floats (they return Values, read as numbers).
    assert_gradient_matches(lambda x, y: x * tanh(y) + x**2,
                            lambda x, y: (tanh(y) + 2 * x, x * (1 - tanh(y) ** 2)),
                            {0: (-2, 2), "y": (-1.5, 1.5)}, reference=reference)


# Typical mistakes in hand-derived derivatives: (f, wrong derivative, the true one by hand,
# domain, the input that is wrong, a piece of the correct formula the message must show).
HAND_DERIVED = {
    "chain rule without the inner derivative": (
        lambda x: sin(x * x), lambda x: math.cos(x * x),
        lambda x: (2 * x * math.cos(x * x),), {"x": (0.5, 2)}, "x", "cos(u1)"),
    "the wrong sign": (
        lambda x: cos(x), lambda x: math.sin(x), lambda x: (-math.sin(x),),
        {"x": (0.2, 3)}, "x", "sin(x)"),
    "sigmoid's slope taken at the input": (
        lambda x: sigmoid(x), lambda x: x * (1 - x),
        lambda x: (math.exp(-x) / (1 + math.exp(-x)) ** 2,), {"x": (-3, 3)}, "x",
        "(1 − f)"),
    "a product rule with one term": (
        lambda x, y: x * exp(x * y), lambda x, y: (math.exp(x * y), x * x * math.exp(x * y)),
        lambda x, y: ((1 + x * y) * math.exp(x * y), x * x * math.exp(x * y)),
        {"x": (0.5, 1.5), "y": (0.1, 1)}, "x", "exp(u1)"),
    "a quotient rule upside down": (
        lambda x: x / (1 + x * x), lambda x: (1 - x * x) / (1 + x * x),
        lambda x: ((1 - x * x) / (1 + x * x) ** 2,), {"x": (0.5, 3)}, "x", "x"),
}


@pytest.mark.parametrize("reference", ["engine", "sympy", "finite_differences"])
@pytest.mark.parametrize("mistake", list(HAND_DERIVED))
def test_each_typical_hand_derived_mistake_is_rejected_with_point_numbers_and_formula(
        mistake, reference):
    f, wrong, truth, domain, name, piece = HAND_DERIVED[mistake]
    with pytest.raises(AssertionError) as caught:
        assert_gradient_matches(f, wrong, domain, reference=reference)
    message = str(caught.value)
    at = point_of(message)
    names = list(at)
    values = [at[n] for n in names]
    for low_high, v in zip(domain.values(), values):
        assert low_high[0] < v < low_high[1]  # a point of the domain
    yours = wrong(*values)
    yours = yours if isinstance(yours, tuple) else (yours,)
    position = names.index(name)
    line = next(line for line in message.splitlines() if line.startswith(f"  df/d{name}:"))
    assert "WRONG" in line
    assert number(yours[position]) in line  # the student's number
    right = truth(*values)[position]
    shown = float(re.search(r"(?:engine|diff|differences) (-?[0-9.e+-]+)", line).group(1))
    assert shown == pytest.approx(right, rel=1e-6, abs=1e-9)  # the reference's number
    if reference == "engine":
        assert f"the correct derivative: df/d{name} = " in message
        assert piece in message  # the chain rule (explain), in the nodes' names
    elif reference == "sympy":
        assert f"the correct derivative (SymPy): df/d{name} = " in message
    else:
        assert "central difference" in message


def test_the_engine_reference_shows_explain_formula_and_the_formula_in_the_inputs():
    def dsoftplus_wrong(x):  # exp(x)/(1 + exp(x)) written with the wrong sign in exp
        return math.exp(x) / (1 + math.exp(-x))

    with pytest.raises(AssertionError) as caught:
        assert_gradient_matches(softplus, dsoftplus_wrong, {"x": (-5, 5)})
    message = str(caught.value)
    assert message.startswith("dsoftplus_wrong disagrees with the engine's gradient of "
                              "softplus at x = ")
    assert "the correct derivative: df/dx = 1/u2 · u1 = " in message
    assert "where u1 = exp(x), u2 = 1 + u1" in message
    assert "in the inputs alone: df/dx = 1/(1 + exp(x)) · exp(x)" in message


def test_a_derivative_wrong_on_part_of_the_domain_is_found_there():
    # |x|' is the sign of x; this one forgets the negative side.
    with pytest.raises(AssertionError) as caught:
        assert_gradient_matches(lambda x: abs(x) * x, lambda x: 2 * x, {"x": (-3, 3)})
    at = point_of(str(caught.value))
    assert at["x"] < 0
    assert number(-2 * at["x"]) in str(caught.value)  # the engine's d(x·|x|)/dx = 2|x|


def test_each_input_gets_its_two_numbers_the_right_ones_marked_agree():
    with pytest.raises(AssertionError) as caught:
        assert_gradient_matches(lambda x, y: x * y + y, lambda x, y: (y, x),
                                {"x": (-1, 1), "y": (-1, 1)})
    lines = str(caught.value).splitlines()
    assert lines[1].startswith("  df/dx: ") and lines[1].endswith("(agree)")
    assert lines[2].startswith("  df/dy: ") and "WRONG" in lines[2]
    assert lines[3].startswith("    the correct derivative: df/dy = x + 1 = ")


def test_the_points_come_from_hypothesis_with_the_given_settings():
    calls = []

    def counted(x):
        calls.append(x)
        return 2 * x

    assert_gradient_matches(lambda x: x * x, counted, {"x": (-1, 1)}, max_examples=7)
    assert 1 <= len(calls) <= 7
    assert all(-1 < x < 1 for x in calls)
    calls.clear()
    assert_gradient_matches(lambda x: x * x, counted, {"x": (-1, 1)},
                            settings=settings(max_examples=3))
    assert 1 <= len(calls) <= 3
    calls.clear()
    assert_gradient_matches(lambda x: x * x, counted, {"x": (-1, 1)})  # the profile's
    assert len(calls) > 7


def test_bad_input_says_what_is_wrong():
    import math as m

    with pytest.raises(TypeError, match=r"turned a Value that depends on x into a float.*"
                                        r"from autograd_lite import exp"):
        assert_gradient_matches(lambda x: m.exp(x), lambda x: m.exp(x), {"x": (0, 1)})
    with pytest.raises(ValueError, match=r"no interval for argument 1 \(y\)"):
        assert_gradient_matches(lambda x, y: x * y, lambda x, y: (y, x), {"x": (0, 1)})
    with pytest.raises(KeyError, match="'z', which is not an argument of f"):
        assert_gradient_matches(lambda x: x, lambda x: 1.0, {"z": (0, 1)})
    with pytest.raises(ValueError, match="low must be below high"):
        assert_gradient_matches(lambda x: x, lambda x: 1.0, {"x": (1, 0)})
    with pytest.raises(ValueError, match="reference must be one of"):
        assert_gradient_matches(lambda x: x, lambda x: 1.0, {"x": (0, 1)}, reference="torch")
    with pytest.raises(AssertionError, match=r"returned 1 number\(s\) for 2 input\(s\)"):
        assert_gradient_matches(lambda x, y: x * y, lambda x, y: [y], {0: (0, 1), 1: (0, 1)})


def test_sympy_takes_f_itself_when_it_can_and_the_table_otherwise():
    # Plain arithmetic: SymPy's own calculus on f; branches: the table's twin at the point.
    assert_gradient_matches(lambda x: x**3 - 2 * x, lambda x: 3 * x * x - 2, {"x": (-2, 2)},
                            reference="sympy")
    assert_gradient_matches(lambda x: x * x if x > 0 else -x, lambda x: 2 * x if x > 0 else -1,
                            {"x": (-2, 2)}, reference="sympy")


# ================================================================ custom backward

TORCH_IN_TEST_EXTRA = sys.version_info[:2] == (3, 11)  # pyproject.toml: torch on 3.11 only


def _in_test_extra(name: str) -> bool:
    """Does pyproject.toml's test extra install ``name`` on this Python?"""
    from packaging.requirements import Requirement  # pytest's own dependency

    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^test\s*=\s*\[(.*?)^\]", text, re.S | re.M)
    for line in re.findall(r'"([^"]+)"', re.sub(r"#.*", "", block.group(1) if block else "")):
        requirement = Requirement(line)
        if requirement.name.lower() == name and (
                requirement.marker is None or requirement.marker.evaluate({"extra": "test"})):
            return True
    return False


def _library(name: str):
    # Where the test extra installs it, a missing library fails the test; else it skips.
    try:
        return importlib.import_module(name)
    except ImportError as error:
        if _in_test_extra(name):
            pytest.fail(f"{name} is in pyproject.toml's test extra but does not import "
                        f"({error}): install the test extras (make install)", pytrace=False)
        pytest.skip(f"{name} is not installed, and not in the test extra here")


def test_the_extras_rule_reads_pyproject():
    assert _in_test_extra("jax")
    assert _in_test_extra("torch") == TORCH_IN_TEST_EXTRA
    assert not _in_test_extra("tensorflow")


@pytest.fixture(scope="module")
def torch():
    return _library("torch")


@pytest.fixture(scope="module")
def jax():
    return _library("jax")


def _torch_functions(torch):
    class Softplus(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.log1p(torch.exp(x))

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * torch.sigmoid(x)

    class SoftplusExpBackward(Softplus):  # d/dx taken as exp(x)
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * torch.exp(x)

    class SoftplusWrongForward(Softplus):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.exp(x)

    class Mul(torch.autograd.Function):  # x·y with d/dy taken as y
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            _, y = ctx.saved_tensors
            return grad * y, grad * y

    return Softplus, SoftplusExpBackward, SoftplusWrongForward, Mul


def test_a_torch_autograd_function_against_the_engine(torch):
    Softplus, ExpBackward, WrongForward, Mul = _torch_functions(torch)
    assert_custom_backward_matches(Softplus, softplus, {"x": (-5, 5)})
    assert_custom_backward_matches(Softplus, softplus, {"x": (-5, 5)}, reference="sympy")

    with pytest.raises(AssertionError) as caught:
        assert_custom_backward_matches(ExpBackward, softplus, {"x": (-5, 5)})
    message = str(caught.value)
    assert message.startswith("SoftplusExpBackward's backward disagrees with the engine's "
                              "gradient of softplus at x = ")
    x = point_of(message)["x"]
    assert number(math.exp(x)) in message  # the custom backward's number
    assert number(1 / (1 + math.exp(-x))) in message  # σ(x), the engine's
    assert "the correct derivative: df/dx = 1/u2 · u1" in message

    with pytest.raises(AssertionError, match="SoftplusWrongForward's forward disagrees with "
                                             "softplus at x = .*, softplus gives "):
        assert_custom_backward_matches(WrongForward, softplus, {"x": (-5, 5)})

    with pytest.raises(AssertionError) as caught:
        assert_custom_backward_matches(Mul, lambda x, y: x * y, {"x": (-2, 2), "y": (-2, 2)})
    lines = str(caught.value).splitlines()
    assert lines[1].endswith("(agree)") and "WRONG" in lines[2]
    assert "the correct derivative: df/dy = x = " in lines[3]


def test_a_jax_custom_vjp_against_the_engine(jax):
    import jax.numpy as jnp

    @jax.custom_vjp
    def jax_softplus(x):
        return jnp.log1p(jnp.exp(x))

    jax_softplus.defvjp(lambda x: (jax_softplus(x), x),
                        lambda x, g: (g * jax.nn.sigmoid(x),))

    @jax.custom_vjp
    def sigmoid_flipped(x):  # the backward takes σ(−x) where σ(x) belongs
        return jnp.log1p(jnp.exp(x))

    sigmoid_flipped.defvjp(lambda x: (sigmoid_flipped(x), x),
                           lambda x, g: (g * jax.nn.sigmoid(-x),))

    assert_custom_backward_matches(jax_softplus, softplus, {"x": (-5, 5)})
    with pytest.raises(AssertionError) as caught:
        assert_custom_backward_matches(sigmoid_flipped, softplus, {"x": (-5, 5)})
    message = str(caught.value)
    x = point_of(message)["x"]
    assert x != 0  # σ(−0) = σ(0): only away from 0 is it wrong
    assert number(1 / (1 + math.exp(x))) in message and number(1 / (1 + math.exp(-x))) in message
    assert "the correct derivative: df/dx = " in message
    with pytest.raises(TypeError, match="torch.autograd.Function subclass or a function made "
                                        "with jax.custom_vjp"):
        assert_custom_backward_matches(lambda x: x, softplus, {"x": (-5, 5)})


# ================================================================ check_backprop


def sigma(s):
    return 1.0 / (1.0 + np.exp(-s))


def sigma_prime(s):
    return sigma(s) * (1.0 - sigma(s))


def hj_backprop(Ws, x, t, mistake=""):
    """Haghtalab & Joachims' δ recursion, column convention: s_ℓ = W_{ℓ−1}ᵀ v_{ℓ−1},
    v_ℓ = σ(s_ℓ), a layer's bias the last row of its W (the 1 appended to v), L = ½(v_d − t)².
    ``mistake`` switches on one typical mistake."""
    d = len(Ws)

    def with_one(v, W):  # v with the 1 appended when W has the bias row
        return np.vstack([v, [[1.0]]]) if W.shape[0] == v.shape[0] + 1 else v

    Ws_forward = [W.copy() for W in Ws]
    if mistake == "bias dropped in the forward pass":
        for W, v_rows in zip(Ws_forward, [x.shape[0]] + [W.shape[1] for W in Ws[:-1]]):
            if W.shape[0] == v_rows + 1:
                W[-1] = 0.0
    s, v = [None], [x]
    for W in Ws_forward:
        s.append(W.T @ with_one(v[-1], W))
        v.append(sigma(s[-1]))
    error = v[d] - t
    if mistake == "the wrong sign of the error":
        error = t - v[d]
    if mistake == "2(v - t): the 1/2 forgotten":
        error = 2 * (v[d] - t)
    delta = error * (1.0 if mistake == "no sigma' at the output" else sigma_prime(s[d]))
    grads = [None] * d
    for ell in range(d - 1, -1, -1):
        inputs = with_one(v[ell] if mistake != "s instead of v in dW" or ell == 0 else s[ell],
                          Ws[ell])
        if mistake == "transposed delta in dW":
            grads[ell] = delta @ inputs.T
        else:
            grads[ell] = inputs @ delta.T
        if mistake == "bias gradient left at 0" and Ws[ell].shape[0] == v[ell].shape[0] + 1:
            grads[ell][-1] = 0.0
        if mistake == "bias row missing" and Ws[ell].shape[0] == v[ell].shape[0] + 1:
            grads[ell] = grads[ell][:-1]
        if ell == 0:
            continue
        W = Ws[ell][: v[ell].shape[0]]  # without the bias row
        if mistake == "transposed W in the recursion":
            W = W.T
        slope = sigma_prime(s[ell])
        if mistake == "sigma' at v instead of s":
            slope = sigma_prime(v[ell])
        if mistake == "sigma' of the layer above":
            slope = sigma_prime(s[ell + 1])
        if mistake == "no sigma' in the hidden layers":
            slope = 1.0
        delta = (W @ delta) * slope
    return grads


def hj_loss(Ws, x, t):
    """½(v_d − t)² by the NumPy forward pass alone (for central differences)."""
    v = x
    for W in Ws:
        if W.shape[0] == v.shape[0] + 1:
            v = np.vstack([v, [[1.0]]])
        v = sigma(W.T @ v)
    return 0.5 * float(np.sum((v - t) ** 2))


def numeric_gradient(loss, Ws, x, t, k, index, h=1e-6):
    up = [W.copy() for W in Ws]
    down = [W.copy() for W in Ws]
    up[k][index] += h
    down[k][index] -= h
    return (loss(up, x, t) - loss(down, x, t)) / (2 * h)


def hj_network(sizes=(2, 3, 3, 1), seed=16):
    """Column-convention weights with a bias row in every layer; x, t as columns."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(sizes[k] + 1, sizes[k + 1])) for k in range(len(sizes) - 1)]
    x = rng.normal(size=(sizes[0], 1))
    t = rng.uniform(size=(sizes[-1], 1))
    return Ws, x, t


def test_a_correct_hj_recursion_passes():
    Ws, x, t = hj_network()
    report = check_backprop(hj_backprop, Ws, x, t)
    assert isinstance(report, BackpropReport) and report.ok and bool(report)
    assert report.compared == 9 + 12 + 4
    assert report.message.startswith("check_backprop: all 25 gradient entries of W0, W1, W2 "
                                     "agree with the engine's")
    # Notebook 3's network: the bias only on the input (v_0 = (x, 1)), read off the shapes.
    rng = np.random.default_rng(14)
    Ws = [rng.normal(size=(3, 4)), rng.normal(size=(4, 3)), rng.normal(size=(3, 1))]
    assert check_backprop(hj_backprop, Ws, rng.normal(size=(2, 1)), 1.0).ok
    # Several outputs; drawn networks (Hypothesis: seeds of random networks).
    Ws, x, t = hj_network(sizes=(3, 4, 2))
    assert check_backprop(hj_backprop, Ws, x, t).ok
    drawn = check_backprop(hj_backprop, sizes=[2, 3, 2], max_examples=15)
    assert drawn.ok and drawn.message.startswith(
        "check_backprop: on 15 networks drawn (2-3-2), all 17 gradient entries of W0, W1 agree")


def kauchak_backprop(Ws, x, y, mistake=""):
    """Kauchak's rules, row convention: hidden h_k = f(w_k·x), output f(v·h), no biases.
    dloss/dv_k = −(y − f(v·h)) f′(v·h) h_k,
    dloss/dw_kj = −(y − f(v·h)) f′(v·h) v_k f′(w_k·x) x_j."""
    w, v = Ws  # w: d × m, v: d
    h = sigma(w @ x)
    out = sigma(v @ h)
    f_out, f_hidden = out * (1 - out), h * (1 - h)
    if mistake == "the update (eta = 0.1) returned":  # v_k ← v_k + η h_k (y − f(v·h)) f′(v·h)
        eta = 0.1
        return [eta * np.outer(f_hidden * v * f_out * (y - out), x), eta * h * (y - out) * f_out]
    if mistake == "f'(v.h) where f'(w_k.x) belongs":
        f_hidden = f_out
    if mistake == "(y - out) as on the update slide":
        return [np.outer((y - out) * f_out * v * f_hidden, x), (y - out) * f_out * h]
    return [np.outer(-(y - out) * f_out * v * f_hidden, x), -(y - out) * f_out * h]


def kauchak_network(seed=5):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(4, 3)), rng.normal(size=4)], rng.normal(size=3), 1.0


def test_correct_kauchak_rules_pass_in_the_row_convention():
    Ws, x, y = kauchak_network()
    report = check_backprop(kauchak_backprop, Ws, x, y, convention="row", names=["w", "v"])
    assert report.ok and report.compared == 16
    assert check_backprop(kauchak_backprop, sizes=[3, 4, 1], convention="row", bias=False,
                          max_examples=10).ok


# The typical mistakes of a NumPy backprop: the network (2-3-3-1 with a bias in every layer,
# unless a transposed matrix needs square ones to give numbers rather than a shape error),
# the entry the report names first, and how the hint starts.
HJ_MISTAKES = {
    "the wrong sign of the error": (
        (2, 3, 3, 1), "W0[0, 0]", "every entry has the engine's size and the opposite sign: "
                                  "the output error is written t − v_d"),
    "2(v - t): the 1/2 forgotten": (
        (2, 3, 3, 1), "W0[0, 0]", "every entry is twice the engine's"),
    "no sigma' at the output": (
        (2, 3, 3, 1), "W0[0, 0]", "δ_d is missing σ′ at the output"),
    "sigma' at v instead of s": (
        (2, 3, 3, 1), "W0[0, 0]", "in the hidden layers σ′ is taken at the values v_ℓ instead "
                                  "of the weighted sums s_ℓ"),
    "sigma' of the layer above": (
        (2, 3, 3, 1), "W0[0, 0]", "σ′ is taken at the wrong layer"),
    "no sigma' in the hidden layers": (
        (2, 3, 3, 1), "W0[0, 0]", "the hidden δ's are missing σ′"),
    "transposed W in the recursion": (  # W1, W2 without their bias rows are 3×3
        (2, 3, 3, 3), "W0[0, 0]", "the recursion multiplies by the transpose"),
    "transposed delta in dW": (  # W0 is 3×3, W1 4×4
        (2, 3, 4, 1), "W0[0, 1]", "∂L/∂W_ℓ is transposed"),
    "s instead of v in dW": (
        (2, 3, 3, 1), "W1[0, 0]", "∂L/∂W_ℓ uses the weighted sums s_ℓ where it needs the "
                                  "values v_ℓ"),
    "bias dropped in the forward pass": (
        (2, 3, 3, 1), "W0[0, 0]", "the forward pass leaves the bias out"),
    "bias gradient left at 0": (
        (2, 3, 3, 1), "W0[2, 0]", "the bias entries are 0"),
}


@pytest.mark.parametrize("mistake", list(HJ_MISTAKES))
def test_each_typical_backprop_mistake_is_rejected_naming_weight_numbers_formula_and_hint(
        mistake):
    sizes, first_name, hint = HJ_MISTAKES[mistake]
    Ws, x, t = hj_network(sizes)
    with pytest.raises(BackpropError) as caught:
        check_backprop(lambda W, x, t: hj_backprop(W, x, t, mistake), Ws, x, t)
    report = caught.value.report
    message = str(caught.value)
    assert message == report.message and not report.ok
    first = report.first
    assert first.name == first_name
    assert message.startswith(f"check_backprop: the gradient for {first_name} is wrong: ")
    # Both numbers: the student's, and the engine's (here checked by central differences).
    k, index = first.matrix, first.index
    yours = hj_backprop(Ws, x, t, mistake)[k][index]
    assert first.yours == yours and f"yours {number(yours)}" in message
    assert first.engine == pytest.approx(numeric_gradient(hj_loss, Ws, x, t, k, index),
                                         rel=1e-6, abs=1e-10)
    assert f"the engine's {number(first.engine)}" in message
    # The engine's chain rule for it, in the student's names.
    label = first_name.replace(", ", ",")
    assert f"the engine's chain rule: dL/d{label} = " in message
    assert "v3[0]·(1 − v3[0])" in first.formula  # σ′ at the output, as the lecture writes it
    assert f"hint: your numbers are exactly those of a backprop where {hint}" in message


def test_the_report_names_layer_neuron_and_input_and_the_nn_weight():
    Ws, x, t = hj_network()
    wrong = hj_backprop(Ws, x, t)
    wrong[1][0, 2] += 0.5  # one entry off: the weight from v1[0] into neuron 2 of layer 2
    report = check_backprop(lambda *a: wrong, Ws, x, t, raise_on_mismatch=False)
    assert not report.ok and len(report.wrong) == 1
    first = report.first
    assert (first.name, first.layer, first.neuron, first.input) == ("W1[0, 2]", 2, 2, 0)
    assert first.nn_label == "L2.N2.w0"
    assert "W1[0, 2] is the weight into neuron 2 of layer 2 from input 0 (v1[0]); nn's " \
           "L2.N2.w0" in report.message
    assert "wrong: 1 of 25 entries (W0 0 of 9, W1 1 of 12, W2 0 of 4)" in report.message
    # A bias entry: the last row.
    wrong = hj_backprop(Ws, x, t)
    wrong[0][2, 1] = 0.0
    first = check_backprop(lambda *a: wrong, Ws, x, t, raise_on_mismatch=False).first
    assert (first.name, first.input, first.nn_label) == ("W0[2, 1]", None, "L1.N1.b")
    assert "from the bias (the constant 1)" in first.describe()


def test_kauchak_mistakes_in_the_row_convention():
    Ws, x, y = kauchak_network()
    report = check_backprop(lambda W, x, y: kauchak_backprop(W, x, y,
                                                             "the update (eta = 0.1) returned"),
                            Ws, x, y, convention="row", names=["w", "v"],
                            raise_on_mismatch=False)
    assert report.first.name == "w[0, 0]"
    assert "from input 0 (x[0])" in report.message and "nn's L1.N0.w0" in report.message
    assert "every entry is -0.1 times the engine's: that is an update −η·∂L/∂W with η = 0.1" \
        in report.hint
    # Row convention: the values are a, the sums z (v is the student's output weights).
    assert "dL/dw[0,0] = " in report.first.formula and "a2[0]·(1 − a2[0])" in report.first.formula
    report = check_backprop(lambda W, x, y: kauchak_backprop(W, x, y,
                                                             "f'(v.h) where f'(w_k.x) belongs"),
                            Ws, x, y, convention="row", names=["w", "v"],
                            raise_on_mismatch=False)
    assert report.first.name == "w[0, 0]"
    assert "σ′ is taken at the wrong layer" in report.hint
    assert "δ_ℓ = (W_ℓᵀ δ_{ℓ+1}) ⊙ σ′(z_ℓ)" in report.hint
    first = report.first
    assert first.engine == pytest.approx(kauchak_backprop(Ws, x, y)[0][0, 0], rel=1e-12)
    report = check_backprop(lambda W, x, y: kauchak_backprop(W, x, y,
                                                             "(y - out) as on the update slide"),
                            Ws, x, y, convention="row", names=["w", "v"],
                            raise_on_mismatch=False)
    assert report.hint.startswith("your numbers are exactly those of a backprop where every "
                                  "entry has the engine's size and the opposite sign: the "
                                  "output error is written t − a_d where the gradient needs "
                                  "∂L/∂a_d = a_d − t (Kauchak's update rules carry (y − ŷ)")
    assert f"yours {number(report.first.yours)}, the engine's {number(-report.first.yours)}" \
        in report.message


def tanh_backprop(Ws, x, t, slope_at_value=False):
    """The H&J recursion with tanh hidden layers and a linear output, no biases."""
    W0, W1 = Ws
    s1 = W0.T @ x
    v1 = np.tanh(s1)
    out = W1.T @ v1
    delta2 = out - t
    slope = 1 - np.tanh(v1 if slope_at_value else s1) ** 2
    delta1 = (W1 @ delta2) * slope
    return [x @ delta1.T, v1 @ delta2.T]


def test_other_activations_come_from_the_table():
    rng = np.random.default_rng(7)
    Ws, x, t = [rng.normal(size=(2, 3)), rng.normal(size=(3, 1))], rng.normal(size=(2, 1)), 0.5
    options = dict(activation="tanh", output_activation="linear")
    assert check_backprop(tanh_backprop, Ws, x, t, **options).ok
    report = check_backprop(lambda *a: tanh_backprop(*a, slope_at_value=True), Ws, x, t,
                            raise_on_mismatch=False, **options)
    assert "in the hidden layers tanh′ is taken at the values v_ℓ" in \
        report.hint
    assert "(tanh′(s) = 1 − v² with v = tanh(s))" in report.hint
    assert "(1 − v1[0]²)" in report.first.formula  # tanh′ as the table writes it
    with pytest.raises(ValueError, match="unknown activation 'softsign'"):
        check_backprop(tanh_backprop, Ws, x, t, activation="softsign")


def test_shape_mistakes_are_named_with_both_shapes():
    # 2-4-1: W0 is 3×4, so δ vᵀ has the transposed shape.
    Ws, x, t = hj_network(sizes=(2, 4, 1))
    report = check_backprop(lambda W, x, t: hj_backprop(W, x, t, "transposed delta in dW"),
                            Ws, x, t, raise_on_mismatch=False)
    assert "your gradient for W0 has shape (4, 3), but W0 has shape (3, 4)" in report.message
    assert "it is transposed" in report.hint and "every entry agrees" in report.hint
    report = check_backprop(lambda W, x, t: hj_backprop(W, x, t, "bias row missing"),
                            Ws, x, t, raise_on_mismatch=False)
    assert "has shape (2, 1), but W1 has shape (5, 1)" not in report.message
    assert "the bias row is missing — a dropped bias term" in report.hint
    report = check_backprop(lambda W, x, t: hj_backprop(W, x, t)[:1], Ws, x, t,
                            raise_on_mismatch=False)
    assert "backprop returned 1 gradient(s) for 2 weight matrices (W0, W1)" in report.message


def test_an_error_inside_the_students_code_is_reported_with_the_shapes():
    # 2-3-1 with biases: W1 without its bias row is 3×1, so W1ᵀ δ does not fit.
    Ws, x, t = hj_network(sizes=(2, 3, 1))
    with pytest.raises(BackpropError) as caught:
        check_backprop(lambda W, x, t: hj_backprop(W, x, t, "transposed W in the recursion"),
                       Ws, x, t)
    message = str(caught.value)
    assert message.startswith("check_backprop: backprop(Ws, x, t) raised ValueError: matmul")
    assert "a product whose shapes do not fit — typically a transposed W or δ" in message
    assert "W0 (3, 3), W1 (4, 1), x (2, 1), t (1, 1)" in message
    assert isinstance(caught.value.__cause__, ValueError)


def test_drawn_networks_find_a_mistake_and_raise_the_report():
    with pytest.raises(BackpropError) as caught:
        check_backprop(lambda W, x, t: hj_backprop(W, x, t, "sigma' at v instead of s"),
                       sizes=[2, 3, 1], max_examples=20)
    assert "σ′ is taken at the values v_ℓ" in caught.value.report.hint
    assert "weights: W0 = [[" in str(caught.value)  # the drawn network, to reproduce it


def test_bad_networks_say_what_does_not_fit():
    Ws, x, t = hj_network(sizes=(2, 3, 1))
    with pytest.raises(ValueError, match=r"W1 has shape \(2, 1\) in the column convention, so "
                                         r"2 rows, one per input of layer 1; W0 has 3 "
                                         r"output\(s\), so W1 needs 3 \(its inputs\) or 4"):
        check_backprop(hj_backprop, [Ws[0], Ws[1][:2]], x, t)
    with pytest.raises(ValueError, match=r"needs 4 \(its 3 inputs and the bias\) rows; for "
                                         r"s = W v \(one row per neuron\) pass "
                                         r"convention='row'"):
        check_backprop(hj_backprop, [Ws[0], Ws[1][:3]], x, t, bias=True)
    with pytest.raises(ValueError, match="t has 2 entries but the network has 1 output"):
        check_backprop(hj_backprop, Ws, x, [0.5, 0.5])
    with pytest.raises(ValueError, match=r"x has 8 entries \(one example\), so W0 needs 8"):
        check_backprop(hj_backprop, Ws, np.ones((2, 4)), t)  # a batch of 4 columns
    with pytest.raises(TypeError, match="give the network"):
        check_backprop(hj_backprop)


# ================================================================ the pytest plugin


def test_the_plugin_is_an_entry_point_of_the_installed_package():
    from importlib.metadata import entry_points

    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points.pytest11]\nautograd_lite = ' \
           '"autograd_lite.testing.pytest_plugin"' in text
    found = [ep for ep in entry_points(group="pytest11") if ep.name == "autograd_lite"]
    assert found, ("the autograd_lite pytest plugin is not installed: reinstall the package "
                   "(make install, or pip install -e .)")
    assert found[0].value == "autograd_lite.testing.pytest_plugin"


def test_loading_the_plugin_imports_nothing_heavy():
    import subprocess

    code = ("import sys, autograd_lite.testing.pytest_plugin; "
            "print(sorted(m for m in ('sympy', 'hypothesis', 'nn', 'numpy') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


CHECKS = '''
    import math
    import numpy as np
    from autograd_lite import exp, log

    CALLS = []

    def dsoftplus(x):
        CALLS.append(x)
        return 1 / (1 + math.exp(-x))

    def test_softplus(gradient_check):
        gradient_check.gradient(lambda x: log(1 + exp(x)), dsoftplus, {"x": (-4, 4)})
        assert 1 <= len(CALLS) <= gradient_check.max_examples == MAX

    def test_a_wrong_derivative(gradient_check):
        gradient_check(lambda x: log(1 + exp(x)), lambda x: math.exp(x), {"x": (-4, 4)})

    def sigma(s):
        return 1 / (1 + np.exp(-s))

    def backprop(Ws, x, t):  # one sigmoid layer, bias row last: the sign of the error flipped
        (W,) = Ws
        v = np.vstack([x, [[1.0]]])
        out = sigma(W.T @ v)
        return [v @ ((t - out) * out * (1 - out)).T]

    def test_a_backprop(gradient_check):
        gradient_check.backprop(backprop, sizes=[2, 1])
'''


def test_the_fixture_runs_the_checks_with_max_examples_from_the_ini_file(pytester):
    pytester.makeini("[pytest]\ngradient_check_max_examples = 7\n")
    pytester.makepyfile(test_checks=textwrap.dedent(CHECKS).replace("MAX", "7"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "*AssertionError: grad_f disagrees with the engine's gradient of f at x = *",
        "*df/dx: grad_f *, the engine * WRONG*",
        "*the correct derivative: df/dx = 1/u2 · u1 = *",
    ])
    result.stdout.fnmatch_lines([
        "*BackpropError: check_backprop: the gradient for W0[[]0, 0[]] is wrong: yours *",
        "*the engine's chain rule: dL/dW0[[]0,0[]] = *",
        "*hint: your numbers are exactly those of a backprop where every entry has the "
        "engine's size and the opposite sign*",
    ])


def test_the_fixture_follows_another_ini_value_and_a_profile(pytester):
    pytester.makeconftest(textwrap.dedent("""
        from hypothesis import settings
        settings.register_profile("few", max_examples=4)
    """))
    pytester.makeini("[pytest]\ngradient_check_profile = few\n")
    pytester.makepyfile(test_checks=textwrap.dedent(CHECKS).replace("MAX", "4"))
    pytester.runpytest("-p", "no:cacheprovider", "-k", "softplus").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\ngradient_check_max_examples = 30\n")
    pytester.makepyfile(test_checks=textwrap.dedent(CHECKS).replace("MAX", "30"))
    pytester.runpytest("-p", "no:cacheprovider", "-k", "softplus").assert_outcomes(passed=1)


def test_a_bad_ini_value_is_a_usage_error(pytester):
    pytester.makeini("[pytest]\ngradient_check_max_examples = many\n")
    pytester.makepyfile(test_checks=textwrap.dedent(CHECKS).replace("MAX", "1"))
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "softplus")
    result.stdout.fnmatch_lines(["*gradient_check_max_examples must be a positive whole "
                                 "number, not 'many'*"])
    assert result.ret != 0
