"""Checks of ``exercises/07_batch_norm.ipynb``: batch norm's training-mode forward and backward passes, its running statistics."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..gradcheck import numerical_gradient
from ..layers import BatchNorm2d
from ._engine import CheckResult, _Case, _rng, _run

__all__ = ["check_batchnorm_forward", "check_batchnorm_backward", "check_running_stats"]


def _bn_layer(gamma: np.ndarray, beta: np.ndarray, eps: float) -> BatchNorm2d:
    bn = BatchNorm2d(len(gamma), eps=eps).astype(np.float64)
    bn.params["gamma"] = np.array(gamma, dtype=np.float64)
    bn.params["beta"] = np.array(beta, dtype=np.float64)
    return bn


def _bn_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    return _bn_layer(gamma, beta, eps).forward(x, training=True)


def _bn_inputs(seed: int) -> list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]]:
    rng = _rng(seed)

    def x_of(shape: tuple[int, ...]) -> np.ndarray:
        # each channel its own mean and spread, so normalising over the wrong axes shows
        c = shape[1]
        return rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=(1, c, 1, 1)) + rng.uniform(-4, 4, size=(1, c, 1, 1))

    tiny = x_of((4, 2, 3, 3))
    tiny[:, 1] = 1e-3 * rng.normal(size=(4, 3, 3)) + 5.0
    return [
        ("per_channel", "(4, 3, 5, 6), gamma = 1, beta = 0", x_of((4, 3, 5, 6)), np.ones(3), np.zeros(3)),
        ("gamma_beta", "(3, 2, 4, 4) with gamma and beta", x_of((3, 2, 4, 4)), np.array([2.0, 0.5]), np.array([-1.0, 3.0])),
        ("non_square", "(2, 3, 2, 5) with gamma and beta", x_of((2, 3, 2, 5)), np.array([1.5, -0.5, 1.0]), np.array([0.1, 0.2, -0.3])),
        ("small_batch", "(2, 3, 1, 1): two numbers per channel", x_of((2, 3, 1, 1)), np.array([1.0, 2.0, 3.0]), np.zeros(3)),
        ("tiny_variance", "a channel with spread 0.001, where eps matters", tiny, np.ones(2), np.zeros(2)),
    ]


def _bn_wrong_forward(x, gamma, beta, eps, axes, ddof=0, eps_outside=False):
    b = (1, -1, 1, 1)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return (x - mean) / std * gamma.reshape(b) + beta.reshape(b)


def check_batchnorm_forward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, gamma, beta, eps=1e-5)``: batch normalization of ``(N, C, H, W)`` in training mode.

    Parameters
    ----------
    fn : callable
        Normalises each channel with the mean and the biased variance over
        ``(N, H, W)``, then scales by ``gamma`` and shifts by ``beta`` (both ``(C,)``).
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("per channel c: mean and variance over axes (0, 2, 3) (the batch and every position), the biased variance "
            "(divide by m, np.var's default); y = gamma[c] * (x - mean) / sqrt(var + eps) + beta[c]. Use keepdims=True "
            "or reshape gamma to (1, C, 1, 1) so that it broadcasts")
    cases = []
    for id_, desc, x, g, b in _bn_inputs(19):
        eps = 1e-5
        diag = (
            ("statistics over the batch axis only (axis 0); a channel is normalised over (N, H, W)", _bn_wrong_forward(x, g, b, eps, (0,))),
            ("statistics over (N, C); they are per channel, over (N, H, W)", _bn_wrong_forward(x, g, b, eps, (0, 1))),
            ("statistics per image (axes (2, 3)); batch norm pools the whole batch", _bn_wrong_forward(x, g, b, eps, (2, 3))),
            ("the unbiased variance (ddof=1); normalisation uses the biased one, np.var's default", _bn_wrong_forward(x, g, b, eps, (0, 2, 3), ddof=1)),
            ("eps added outside the square root; it goes inside: sqrt(var + eps)", _bn_wrong_forward(x, g, b, eps, (0, 2, 3), eps_outside=True)),
        )
        cases.append(_Case(id_, desc, (x, g, b), _bn_forward(x, g, b, eps), hint, diagnoses=diag))
    return _run("batchnorm_forward", fn, cases, ("x", "gamma", "beta"), verbose)


def _bn_backward(dy: np.ndarray, x: np.ndarray, gamma: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    bn = _bn_layer(gamma, np.zeros_like(gamma), eps)
    bn.forward(x, training=True)
    dx = bn.backward(dy)
    return dx, bn.grads["gamma"], bn.grads["beta"]


def check_batchnorm_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, gamma, eps=1e-5)``: gradients of training-mode batch norm.

    Parameters
    ----------
    fn : callable
        Returns ``(dx, dgamma, dbeta)``, shaped like ``x``, ``(C,)`` and ``(C,)``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("with xhat = (x - mean) / sqrt(var + eps) and sums and means over (N, H, W) per channel: dbeta = sum(dy), "
            "dgamma = sum(dy * xhat), dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat)). "
            "The mean and variance depend on x too, which is where the two subtracted means come from")
    rng = _rng(20)
    cases = []
    for id_, desc, x, g, _ in _bn_inputs(21)[:4]:
        dy = rng.normal(size=x.shape)
        exp = _bn_backward(dy, x, g)
        xhat = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
        diag = (("the gradient with the mean and variance treated as constants: they depend on x as well",
                 (dy * g.reshape(1, -1, 1, 1) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5), exp[1], exp[2])),
                ("dgamma as sum(dy): it is sum(dy * xhat)", (exp[0], dy.sum(axis=(0, 2, 3)), exp[2])),
                ("means instead of sums for dgamma and dbeta", (exp[0], (dy * xhat).mean(axis=(0, 2, 3)), dy.mean(axis=(0, 2, 3)))))
        cases.append(_Case(id_, desc, (dy, x, g), exp, hint, names=("dx", "dgamma", "dbeta"), diagnoses=diag))
    x = rng.normal(size=(3, 2, 3, 4)) * 2 + 1
    g = np.array([1.5, -0.7])
    b = np.array([0.2, 0.1])
    dy = rng.normal(size=x.shape)
    num_x = numerical_gradient(lambda v: float((_bn_forward(v, g, b) * dy).sum()), x.copy())
    gg, bb = g.copy(), b.copy()
    num_g = numerical_gradient(lambda v: float((_bn_forward(x, v, bb) * dy).sum()), gg)
    num_b = numerical_gradient(lambda v: float((_bn_forward(x, gg, v) * dy).sum()), bb)
    cases.append(_Case("numerical", "finite differences, float64: (3, 2, 3, 4), random gamma and dy",
                       (dy, x, g), (num_x, num_g, num_b), hint, names=("dx", "dgamma", "dbeta"), numerical=True))
    return _run("batchnorm_backward", fn, cases, ("dy", "x", "gamma"), verbose)


def check_running_stats(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(running_mean, running_var, x, momentum=0.1)``: one update of batch norm's running statistics.

    Parameters
    ----------
    fn : callable
        Returns ``(new_mean, new_var)``:
        ``(1 - momentum) * running + momentum * batch_statistic`` per channel, with
        the *unbiased* batch variance, as PyTorch.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("new = (1 - momentum) * running + momentum * batch value, per channel over (N, H, W); the running "
            "variance uses the unbiased batch variance (np.var(..., ddof=1)), as PyTorch")
    rng = _rng(22)
    cases = []
    rows = [
        ("first_step", "from the initial statistics (mean 0, variance 1)", np.zeros(3), np.ones(3), _bn_inputs(23)[0][2], None),
        ("later_step", "from other running values, momentum 0.3", rng.normal(size=2), rng.uniform(0.5, 2, size=2), _bn_inputs(24)[1][2], 0.3),
        ("small_batch", "(2, 3, 1, 1): with m = 2 values the unbiased correction doubles the variance", np.zeros(3), np.ones(3), _bn_inputs(25)[3][2], None),
    ]
    for id_, desc, rm, rv, x, mom in rows:
        bn = BatchNorm2d(x.shape[1], momentum=0.1 if mom is None else mom).astype(np.float64)
        bn.buffers["running_mean"] = rm.copy()
        bn.buffers["running_var"] = rv.copy()
        bn.forward(x, training=True)
        m = 0.1 if mom is None else mom
        diag = (("the biased variance; the running variance uses the unbiased one (ddof=1)",
                 (bn.running_mean, (1 - m) * rv + m * x.var(axis=(0, 2, 3)))),
                ("momentum weighting the old value: new = (1 - momentum) * old + momentum * batch",
                 (m * rm + (1 - m) * x.mean(axis=(0, 2, 3)), m * rv + (1 - m) * x.var(axis=(0, 2, 3), ddof=1))))
        kwargs = {} if mom is None else {"momentum": mom}
        cases.append(_Case(id_, desc, (rm, rv, x), (bn.running_mean.copy(), bn.running_var.copy()), hint, kwargs,
                           names=("new_mean", "new_var"), diagnoses=diag))
    return _run("running_stats", fn, cases, ("running_mean", "running_var", "x"), verbose)
