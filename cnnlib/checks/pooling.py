"""Checks of ``exercises/05_pooling.ipynb``: max and average pooling, forward and backward."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import functional as F
from ..gradcheck import numerical_gradient
from ._engine import CheckResult, _Case, _rng, _run

__all__ = ["check_max_pool2d", "check_max_pool2d_backward", "check_avg_pool2d", "check_avg_pool2d_backward"]


_WORKED_POOL = np.array([[[[1, 3, 2, 0], [4, 2, 1, 1], [0, 0, 5, 6], [1, 2, 7, 8]]]], dtype=float)


def _pool_inputs(seed: int) -> list[tuple[str, str, np.ndarray, int, int | None]]:
    rng = _rng(seed)
    x_overlap = rng.normal(size=(1, 2, 7, 5)).round(2)
    return [
        ("worked_example", "the worked example: 4x4, 2x2 windows, stride defaults to the kernel size", _WORKED_POOL, 2, None),
        ("all_negative", "every value negative (2 channels, 4x6), 2x2 windows", -np.abs(rng.normal(size=(1, 2, 4, 6))).round(2) - 0.5, 2, None),
        ("non_square", "2 images, 3 channels, 6x8, 2x2 windows", rng.normal(size=(2, 3, 6, 8)).round(2), 2, None),
        ("overlapping", "3x3 windows with stride 2 (they overlap) on 7x5", x_overlap, 3, 2),
        ("leftover", "5x7 input with 2x2 windows: the last row and column fit no window", rng.normal(size=(1, 1, 5, 7)).round(2), 2, None),
    ]


def _pool_kwargs(stride: int | None) -> dict:
    return {} if stride is None else {"stride": stride}


def check_max_pool2d(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, kernel_size, stride=None)``: max pooling of ``(N, C, H, W)``, stride defaulting to the kernel size.

    Parameters
    ----------
    fn : callable
        Returns ``(N, C, OH, OW)`` with ``OH = (H - k) // stride + 1``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("y[n, c, i, j] = the max of x[n, c, i*s : i*s + k, j*s : j*s + k] with s = stride (= kernel_size when "
            "stride is None); OH = (H - k) // s + 1")
    hints = {
        "all_negative": "start each window's maximum from the window itself (window.max()) or from -inf, never from 0",
        "overlapping": hint + "; here stride 2 is smaller than the kernel 3, so windows share rows and columns",
        "leftover": "OH = (H - k) // s + 1 rounds down: rows and columns that fit no whole window are dropped",
    }
    cases = []
    for id_, desc, x, k, s in _pool_inputs(11):
        diag = (("a stride of 1: stride=None means stride = kernel_size", F.max_pool2d(x, k, 1)),) if s is None else ()
        cases.append(_Case(id_, desc, (x, k), F.max_pool2d(x, k, s), hints.get(id_, hint), _pool_kwargs(s), diagnoses=diag))
    return _run("max_pool2d", fn, cases, ("x",), verbose)


def check_avg_pool2d(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, kernel_size, stride=None)``: average pooling of ``(N, C, H, W)``.

    Parameters
    ----------
    fn : callable
        Returns ``(N, C, OH, OW)``, the mean of each window.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("y[n, c, i, j] = the mean of x[n, c, i*s : i*s + k, j*s : j*s + k]: the window's sum divided by k*k "
            "(the number of values in it); s = kernel_size when stride is None")
    cases = []
    for id_, desc, x, k, s in _pool_inputs(12):
        diag = (("the window sum divided by kernel_size instead of kernel_size**2", F.avg_pool2d(x, k, s) * k),
                ("the window sum without dividing", F.avg_pool2d(x, k, s) * k * k))
        cases.append(_Case(id_, desc, (x, k), F.avg_pool2d(x, k, s), hint, _pool_kwargs(s), diagnoses=diag))
    return _run("avg_pool2d", fn, cases, ("x",), verbose)


def _pool_backward_cases(kind: str, seed: int) -> list[_Case]:
    rng = _rng(seed)
    fwd = F.max_pool2d if kind == "max" else F.avg_pool2d
    bwd = F.max_pool2d_backward if kind == "max" else F.avg_pool2d_backward
    if kind == "max":
        hint = ("each window sends its dy to the one input that was its maximum (the first one, np.argmax, if "
                "several tie); the other inputs of the window get nothing from it; with overlapping windows add (+=)")
    else:
        hint = ("each window shares its dy equally: every one of its k*k inputs gets dy / (k*k); with overlapping "
                "windows an input collects (+=) a share from each window it belongs to")
    rows = _pool_inputs(seed)
    shared = rng.normal(size=(1, 1, 5, 5)).round(2)
    shared[0, 0, 2, 2] = 9.0  # the maximum of all four overlapping 3x3 windows
    rows.append(("shared_maximum", "3x3 windows, stride 2, on 5x5: one value is the maximum of all four windows", shared, 3, 2))
    if kind == "max":
        ties = np.array([[[[1.0, 1.0, 0.0, 2.0], [0.0, 0.5, 2.0, 2.0]]]])
        rows.append(("ties", "windows with two equal maxima (2x4, 2x2 windows)", ties, 2, None))
    cases = []
    for id_, desc, x, k, s in rows:
        y = fwd(x, k, s)
        dy = rng.normal(size=y.shape).round(2)
        exp = bwd(dy, x, k, s)
        h = hint
        if id_ in ("overlapping", "shared_maximum"):
            h += "; here windows overlap, so use dx[...] += ..., not dx[...] = ..."
        if id_ == "ties":
            h = "when several inputs tie for a window's maximum, send dy only to the first one (np.argmax), as PyTorch does"
        diag = []
        if kind == "max":
            win = np.zeros_like(x)
            for idx in np.ndindex(*x.shape[:2]):
                ss = s or k
                for i in range(y.shape[2]):
                    for j in range(y.shape[3]):
                        win[idx + (slice(i * ss, i * ss + k), slice(j * ss, j * ss + k))] += dy[idx + (i, j)]
            diag.append(("every input of a window received the window's gradient; only its maximum should", win))
            diag.append(("average pooling's gradient (dy shared equally), not max pooling's", F.avg_pool2d_backward(dy, x, k, s)))
        cases.append(_Case(id_, desc, (dy, x, k), exp, h, _pool_kwargs(s), names=("dx",), diagnoses=tuple(diag)))
    # finite differences: random values (no ties), overlapping windows
    x = rng.normal(size=(2, 2, 6, 7))
    dy = rng.normal(size=fwd(x, 3, 2).shape)
    num = numerical_gradient(lambda v: float((fwd(v, 3, 2) * dy).sum()), x.copy())
    cases.append(_Case("numerical", "finite differences, float64: 2x2x6x7 input, 3x3 windows, stride 2, random dy",
                       (dy, x, 3), num, hint, {"stride": 2}, names=("dx",), numerical=True))
    return cases


def check_max_pool2d_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, kernel_size, stride=None)``: the gradient of max pooling with respect to ``x``.

    Parameters
    ----------
    fn : callable
        Returns ``dx`` shaped like ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _run("max_pool2d_backward", fn, _pool_backward_cases("max", 13), ("dy", "x"), verbose)


def check_avg_pool2d_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, kernel_size, stride=None)``: the gradient of average pooling with respect to ``x``.

    Parameters
    ----------
    fn : callable
        Returns ``dx`` shaped like ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _run("avg_pool2d_backward", fn, _pool_backward_cases("avg", 14), ("dy", "x"), verbose)
