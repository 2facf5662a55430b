"""Checks of ``exercises/04_activations.ipynb``: ReLU, sigmoid and tanh, forward and backward."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import functional as F
from ..gradcheck import numerical_gradient
from ._engine import CheckResult, _Case, _rng, _run

__all__ = ["check_relu", "check_relu_backward", "check_sigmoid", "check_sigmoid_backward", "check_tanh", "check_tanh_backward"]


def _activation_inputs(seed: int) -> dict[str, np.ndarray]:
    rng = _rng(seed)
    return {
        "mixed": np.array([[-2.0, -0.5, 0.0, 0.5, 2.0], [3.0, -1.0, 0.25, -0.25, 1.5]]),
        "batch_4d": rng.normal(size=(2, 3, 4, 5)),
        "large_inputs": np.array([-1000.0, -50.0, -5.0, 0.0, 5.0, 50.0, 1000.0]),
    }


def _numerical_elementwise(forward: Callable, x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    xx = x.astype(np.float64).copy()
    return numerical_gradient(lambda v: float((forward(v) * dy).sum()), xx)


def check_relu(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x)``: ReLU, ``max(0, x)`` elementwise, for any shape.

    Parameters
    ----------
    fn : callable
        Returns an array shaped like ``x``; must not change ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    inp = _activation_inputs(5)
    hint = "relu(x) = max(0, x) elementwise, e.g. np.maximum(x, 0), for any shape; keep negatives at 0 and positives unchanged"
    cases = [
        _Case("mixed", "negative, zero and positive values", (inp["mixed"],), F.relu(inp["mixed"]), hint),
        _Case("batch_4d", "a 4-D batch (2, 3, 4, 5)", (inp["batch_4d"],), F.relu(inp["batch_4d"]), hint),
        _Case("all_negative", "every value negative", (-np.abs(inp["batch_4d"]) - 0.1,), np.zeros((2, 3, 4, 5)), hint),
        _Case("large_inputs", "values up to +-1000", (inp["large_inputs"],), F.relu(inp["large_inputs"]), hint),
    ]
    return _run("relu", fn, cases, ("x",), verbose)


def _backward_cases(name: str, forward: Callable, deriv: Callable, seed: int, wrong: list[tuple[str, Callable]]) -> list[_Case]:
    rng = _rng(seed)
    inp = _activation_inputs(seed)
    hint = f"dx = dy * {name}'(x), elementwise (the chain rule): the upstream gradient dy times the local derivative"
    cases = []
    for id_, desc, x in (
        ("mixed", "negative, zero and positive x, random dy", inp["mixed"]),
        ("batch_4d", "a 4-D batch (2, 3, 4, 5), random dy", inp["batch_4d"]),
        ("large_inputs", "x up to +-1000", inp["large_inputs"]),
    ):
        dy = rng.normal(size=x.shape)
        diag = tuple((msg, w(dy, x)) for msg, w in wrong)
        cases.append(_Case(id_, desc, (dy, x), dy * deriv(x), hint, names=("dx",), diagnoses=diag))
    x = rng.normal(size=(3, 4, 5))
    x = np.where(np.abs(x) < 0.05, 0.3, x)  # finite differences need a step away from ReLU's kink at 0
    dy = rng.normal(size=x.shape)
    cases.append(_Case("numerical", "finite differences, float64, random dy", (dy, x),
                       _numerical_elementwise(forward, x, dy), hint, names=("dx",), numerical=True))
    return cases


def check_relu_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x)``: the gradient of ReLU with respect to its input.

    Parameters
    ----------
    fn : callable
        ``fn(dy, x)`` returns ``dx = dy * (x > 0)``; the derivative at exactly 0 is
        taken as 0, as in PyTorch.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    wrong = [
        ("a derivative of 1 at x == 0 (x >= 0); at exactly 0 it is taken as 0 (x > 0)", lambda dy, x: dy * (x >= 0)),
        ("the local derivative alone, without multiplying by dy", lambda dy, x: (x > 0).astype(float)),
        ("relu(dy), the mask taken from dy instead of x", lambda dy, x: dy * (dy > 0)),
    ]
    cases = _backward_cases("relu", F.relu, lambda x: (x > 0).astype(float), 6, wrong)
    cases[0].hint += "; relu'(x) is 1 where x > 0 and 0 elsewhere, including at x == 0 (as PyTorch)"
    return _run("relu_backward", fn, cases, ("dy", "x"), verbose)


def check_sigmoid(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x)``: the logistic sigmoid ``1 / (1 + exp(-x))`` elementwise.

    Parameters
    ----------
    fn : callable
        Returns an array shaped like ``x`` with values in [0, 1], also for ``|x|`` up to 1000.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    inp = _activation_inputs(7)
    hint = "sigmoid(x) = 1 / (1 + exp(-x)); for large |x| use a form that cannot overflow, e.g. 0.5 * (1 + tanh(x / 2))"
    cases = [_Case(k, d, (inp[k],), F.sigmoid(inp[k]), hint) for k, d in (
        ("mixed", "negative, zero and positive values"),
        ("batch_4d", "a 4-D batch (2, 3, 4, 5)"),
        ("large_inputs", "values up to +-1000: sigmoid(1000) = 1, sigmoid(-1000) = 0"),
    )]
    return _run("sigmoid", fn, cases, ("x",), verbose)


def check_sigmoid_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x)``: the gradient of the sigmoid, ``dy * s * (1 - s)`` with ``s = sigmoid(x)``.

    Parameters
    ----------
    fn : callable
        ``fn(dy, x)`` returns ``dx`` shaped like ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    s = F.sigmoid
    wrong = [
        ("x * (1 - x): the formula s * (1 - s) needs s = sigmoid(x), not x", lambda dy, x: dy * x * (1 - x)),
        ("sigmoid(x) itself rather than its derivative", lambda dy, x: dy * s(x)),
        ("the local derivative alone, without multiplying by dy", lambda dy, x: s(x) * (1 - s(x))),
    ]
    cases = _backward_cases("sigmoid", s, lambda x: s(x) * (1 - s(x)), 8, wrong)
    for c in cases:
        c.hint += "; sigmoid'(x) = s * (1 - s) with s = sigmoid(x)"
    return _run("sigmoid_backward", fn, cases, ("dy", "x"), verbose)


def check_tanh(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x)``: the hyperbolic tangent elementwise, also for ``|x|`` up to 1000.

    Parameters
    ----------
    fn : callable
        Returns an array shaped like ``x`` with values in [-1, 1].
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    inp = _activation_inputs(9)
    hint = ("tanh(x) = (e^x - e^-x) / (e^x + e^-x); written that way, e^1000 overflows to inf and inf / inf = nan. "
            "Use np.tanh, or the stable form 2 * sigmoid(2x) - 1")
    cases = [_Case(k, d, (inp[k],), F.tanh(inp[k]), hint) for k, d in (
        ("mixed", "negative, zero and positive values"),
        ("batch_4d", "a 4-D batch (2, 3, 4, 5)"),
        ("large_inputs", "values up to +-1000: tanh(1000) = 1"),
    )]
    return _run("tanh", fn, cases, ("x",), verbose)


def check_tanh_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x)``: the gradient of tanh, ``dy * (1 - tanh(x)**2)``.

    Parameters
    ----------
    fn : callable
        ``fn(dy, x)`` returns ``dx`` shaped like ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    t = F.tanh
    wrong = [
        ("1 - x**2: the formula 1 - t**2 needs t = tanh(x), not x", lambda dy, x: dy * (1 - x**2)),
        ("1 - tanh(x) (the square is missing)", lambda dy, x: dy * (1 - t(x))),
        ("the local derivative alone, without multiplying by dy", lambda dy, x: 1 - t(x) ** 2),
    ]
    cases = _backward_cases("tanh", t, lambda x: 1 - t(x) ** 2, 10, wrong)
    for c in cases:
        c.hint += "; tanh'(x) = 1 - tanh(x)**2"
    return _run("tanh_backward", fn, cases, ("dy", "x"), verbose)
