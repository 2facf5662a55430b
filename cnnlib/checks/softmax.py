"""Checks of ``exercises/06_softmax_cross_entropy.ipynb``: softmax, cross-entropy and flatten, forward and backward."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import functional as F
from ..gradcheck import numerical_gradient
from ..losses import CrossEntropyLoss
from ._engine import CheckResult, _Case, _rng, _run

__all__ = ["check_softmax", "check_cross_entropy", "check_cross_entropy_backward", "check_flatten", "check_flatten_backward"]


def _logit_inputs(seed: int) -> list[tuple[str, str, np.ndarray]]:
    rng = _rng(seed)
    return [
        ("one_row", "one example, logits [2, 1, 0.1]", np.array([[2.0, 1.0, 0.1]])),
        ("batch", "a batch of 4 examples, 6 classes", rng.normal(size=(4, 6)).round(2)),
        ("square_batch", "3 examples, 3 classes (rows and columns could be confused)", rng.normal(size=(3, 3)).round(2) * 2),
        ("large_logits", "logits around 1000: exp(1000) overflows", np.array([[1000.0, 1001.0, 1002.0], [1000.0, 0.0, -1000.0]])),
        ("very_negative", "logits around -1000: every exp underflows to 0", np.array([[-1000.0, -1001.0, -1002.0]])),
        ("rows_far_apart", "two rows on very different scales", np.array([[1000.0, 1001.0], [-1000.0, -999.0]])),
    ]


def check_softmax(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(z)``: softmax of logits ``(N, C)`` along the class axis (the last one).

    Parameters
    ----------
    fn : callable
        Returns probabilities shaped like ``z``, each row summing to 1, also for
        logits of +-1000.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("p[n, c] = exp(z[n, c] - m[n]) / sum over c' of exp(z[n, c'] - m[n]) with m[n] = the largest logit of "
            "row n: z.max(axis=1, keepdims=True). Subtracting it changes nothing mathematically but keeps exp "
            "from overflowing (exp(1000) = inf, inf / inf = nan)")
    hints = {
        "rows_far_apart": "subtract each row's own maximum (axis=1, keepdims=True), not the maximum of the whole array",
        "square_batch": "normalise each row (axis=1, the classes), with keepdims=True so that (N, 1) broadcasts against (N, C)",
    }
    cases = []
    for id_, desc, z in _logit_inputs(15):
        with np.errstate(all="ignore"):
            diag = (("softmax over the wrong axis (columns instead of rows)", F.softmax(z, axis=0)),)
        cases.append(_Case(id_, desc, (z,), F.softmax(z), hints.get(id_, hint), names=("p",), diagnoses=diag))
    return _run("softmax", fn, cases, ("z",), verbose)


def _labels_for(z: np.ndarray, seed: int) -> np.ndarray:
    return _rng(seed).integers(0, z.shape[1], size=z.shape[0])


def _ce(z: np.ndarray, labels: np.ndarray) -> float:
    return CrossEntropyLoss().forward(z, labels)


def check_cross_entropy(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(logits, labels)``: the mean softmax cross-entropy of a batch.

    Parameters
    ----------
    fn : callable
        ``logits`` is ``(N, C)``, ``labels`` integer classes ``(N,)``; returns one
        number, ``-mean_n log softmax(logits)[n, labels[n]]``, finite for huge logits.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("loss = -mean over n of log p[n, labels[n]]; compute log p stably as z - m - log(sum(exp(z - m))) "
            "with m the row maximum, so that log never sees an underflowed 0")
    cases = []
    for i, (id_, desc, z) in enumerate(_logit_inputs(16)):
        labels = _labels_for(z, 100 + i)
        if id_ == "large_logits":
            labels = np.array([0, 1])  # the second row's correct class has probability e^-1000
        n = z.shape[0]
        with np.errstate(all="ignore"):
            lp = F.log_softmax(z)
            picked = lp[np.arange(n), labels]
            diag = (("the sum over the batch instead of the mean", -picked.sum()),
                    ("the loss without its minus sign", picked.mean()))
        cases.append(_Case(id_, desc, (z, labels), _ce(z, labels), hint, kind="scalar", diagnoses=diag if n > 1 else diag[1:]))
    return _run("cross_entropy", fn, cases, ("logits", "labels"), verbose)


def check_cross_entropy_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(logits, labels)``: the gradient of the mean cross-entropy with respect to the logits.

    Parameters
    ----------
    fn : callable
        Returns ``(softmax(logits) - one_hot(labels)) / N``, shaped like ``logits``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("dz = (softmax(z) - one_hot(labels)) / N: subtract 1 at each row's correct class, and divide by the batch "
            "size N because the loss is a mean; use a softmax that subtracts the row maximum")
    cases = []
    for i, (id_, desc, z) in enumerate(_logit_inputs(17)):
        labels = _labels_for(z, 200 + i)
        loss = CrossEntropyLoss()
        loss.forward(z, labels)
        exp = loss.backward()
        n = z.shape[0]
        diag = (("the gradient of the summed loss: divide by the batch size N", exp * n),
                ("the sign flipped: it is softmax minus one-hot", -exp))
        cases.append(_Case(id_, desc, (z, labels), exp, hint, names=("dz",), diagnoses=diag if n > 1 else diag[1:]))
    rng = _rng(18)
    z = rng.normal(size=(5, 4)) * 3
    labels = rng.integers(0, 4, size=5)
    num = numerical_gradient(lambda v: _ce(v, labels), z.copy())
    cases.append(_Case("numerical", "finite differences of the mean loss, float64, 5 examples, 4 classes",
                       (z, labels), num, hint, names=("dz",), numerical=True))
    return _run("cross_entropy_backward", fn, cases, ("logits", "labels"), verbose)


def check_flatten(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x)``: ``(N, C, H, W)`` to ``(N, C*H*W)``, row by row as PyTorch (C order).

    Parameters
    ----------
    fn : callable
        Returns the flattened batch.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("keep the batch axis and join the rest in C order (channel, then row, then column), as torch.flatten: "
            "x.reshape(x.shape[0], -1); a dense layer after it relies on this order")
    cases = []
    for id_, desc, shape in (
        ("small", "a (2, 3, 2, 2) batch holding 0, 1, 2, ...", (2, 3, 2, 2)),
        ("non_square", "a (3, 2, 4, 5) batch", (3, 2, 4, 5)),
        ("one_image", "a batch of one (1, 4, 3, 3)", (1, 4, 3, 3)),
    ):
        x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
        diag = (("channels-last order (N, H, W, C), as TensorFlow flattens; PyTorch flattens (C, H, W)",
                 x.transpose(0, 2, 3, 1).reshape(shape[0], -1)),
                ("Fortran (column-major) order", x.reshape(shape[0], -1, order="F")))
        cases.append(_Case(id_, desc, (x,), F.flatten(x, 1), hint, diagnoses=diag))
    return _run("flatten", fn, cases, ("x",), verbose)


def check_flatten_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x_shape)``: the gradient of flatten, ``dy`` reshaped back to the input's shape.

    Parameters
    ----------
    fn : callable
        ``dy`` is ``(N, C*H*W)`` and ``x_shape`` the tuple ``(N, C, H, W)``; returns ``dx``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = "flatten only moves numbers around, so its backward moves them back: dy.reshape(x_shape), in the same (C) order"
    cases = []
    for id_, desc, shape in (("small", "x of shape (2, 3, 2, 2)", (2, 3, 2, 2)), ("non_square", "x of shape (3, 2, 4, 5)", (3, 2, 4, 5))):
        dy = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape[0], -1)
        diag = (("the channels-last order (N, H, W, C)", dy.reshape(shape[0], shape[2], shape[3], shape[1]).transpose(0, 3, 1, 2)),)
        cases.append(_Case(id_, desc, (dy, shape), dy.reshape(shape), hint, names=("dx",), diagnoses=diag))
    return _run("flatten_backward", fn, cases, ("dy",), verbose)
