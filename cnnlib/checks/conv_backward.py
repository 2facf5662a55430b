"""Checks of ``exercises/08_conv_backward.ipynb``: the gradients of a convolution's weights, bias and input."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import functional as F
from ..gradcheck import numerical_gradient
from ._engine import CheckResult, _Case, _ints, _rng, _run

__all__ = ["check_conv2d_grad_weight", "check_conv2d_grad_input"]


def _conv_grad_inputs(seed: int) -> list[tuple[str, str, np.ndarray, np.ndarray, int, int]]:
    rng = _rng(seed)
    return [
        ("one_position", "kernel as big as the 3x3 image: a single position", _ints(rng, (1, 1, 3, 3)), _ints(rng, (1, 1, 3, 3)), 1, 0),
        ("single_channel", "one 5x6 image, one 3x3 filter: the kernel is used at 12 positions", _ints(rng, (1, 1, 5, 6)), _ints(rng, (1, 1, 3, 3)), 1, 0),
        ("multi_channel_batch", "2 images, 3 channels, 4 filters", _ints(rng, (2, 3, 5, 5)), _ints(rng, (4, 3, 3, 3)), 1, 0),
        ("stride_and_padding", "stride 2 with padding 1 on a non-square 7x6 image", _ints(rng, (2, 2, 7, 6)), _ints(rng, (3, 2, 3, 3)), 2, 1),
        ("non_square_kernel", "2x3 kernels, stride 2, padding 1, 6x8 image", _ints(rng, (1, 2, 6, 8)), _ints(rng, (2, 2, 2, 3)), 2, 1),
    ]


def _conv_kwargs(s: int, p: int) -> dict:
    kw = {}
    if s != 1:
        kw["stride"] = s
    if p != 0:
        kw["padding"] = p
    return kw


def check_conv2d_grad_weight(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, w, stride=1, padding=0)``: the gradients of a convolution's weights and bias.

    Parameters
    ----------
    fn : callable
        Returns ``(dw, db)`` shaped like ``w`` ``(O, C, kh, kw)`` and ``(O,)``. The
        kernel is shared by every position, so ``dw`` is a sum over all positions
        (and images).
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("revisit every place the kernel was applied: output y[n, o, i, j] used the padded window "
            "xp[n, :, i*s : i*s + kh, j*s : j*s + kw], so it adds dy[n, o, i, j] * window to dw[o] (+=, a sum over "
            "all positions and images: the weights are tied) and dy[n, o, i, j] to db[o]")
    rng = _rng(26)
    cases = []
    for id_, desc, x, w, s, p in _conv_grad_inputs(27):
        y = F.conv2d(x, w, stride=s, padding=p)
        dy = _ints(rng, y.shape, -3, 4)
        _, dw, db = F.conv2d_backward(dy, x, w, stride=s, padding=p)
        positions = y.shape[0] * y.shape[2] * y.shape[3]
        diag = [("the average over positions; tied weights add up the gradient of every position", (dw / positions, db / positions))]
        cases.append(_Case(id_, desc, (dy, x, w), (dw, db), hint, _conv_kwargs(s, p), names=("dw", "db"), diagnoses=tuple(diag)))
    x = rng.normal(size=(2, 2, 5, 6))
    w = rng.normal(size=(2, 2, 3, 2))
    b = rng.normal(size=2)
    dy = rng.normal(size=F.conv2d(x, w, b, stride=2, padding=1).shape)
    ww, bb = w.copy(), b.copy()
    num_w = numerical_gradient(lambda v: float((F.conv2d(x, v, bb, stride=2, padding=1) * dy).sum()), ww)
    num_b = numerical_gradient(lambda v: float((F.conv2d(x, ww, v, stride=2, padding=1) * dy).sum()), bb)
    cases.append(_Case("numerical", "finite differences, float64: stride 2, padding 1, 3x2 kernels, random dy",
                       (dy, x, w), (num_w, num_b), hint, {"stride": 2, "padding": 1}, names=("dw", "db"), numerical=True))
    return _run("conv2d_grad_weight", fn, cases, ("dy", "x", "w"), verbose)


def check_conv2d_grad_input(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, w, stride=1, padding=0)``: the gradient of a convolution with respect to its input.

    Parameters
    ----------
    fn : callable
        Returns ``dx`` shaped like ``x`` ``(N, C, H, W)`` (the padding's gradient is dropped).
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("output y[n, o, i, j] used the window xp[n, :, i*s : i*s + kh, j*s : j*s + kw], so add "
            "dy[n, o, i, j] * w[o] to that window of a zero array dxp shaped like the padded input (+=: windows overlap, "
            "and every filter o contributes); finally drop the padding: dx = dxp[:, :, p : p + H, p : p + W]")
    rng = _rng(28)
    cases = []
    for id_, desc, x, w, s, p in _conv_grad_inputs(29):
        y = F.conv2d(x, w, stride=s, padding=p)
        dy = _ints(rng, y.shape, -3, 4)
        dx, _, _ = F.conv2d_backward(dy, x, w, stride=s, padding=p)
        flipped, _, _ = F.conv2d_backward(dy, x, w[..., ::-1, ::-1], stride=s, padding=p)
        diag = (("the kernel flipped; the backward pass spreads dy with w[o] as it is (no flip needed in this loop form)", flipped),)
        cases.append(_Case(id_, desc, (dy, x, w), dx, hint, _conv_kwargs(s, p), names=("dx",), diagnoses=diag))
    x = rng.normal(size=(2, 2, 5, 6))
    w = rng.normal(size=(3, 2, 3, 2))
    dy = rng.normal(size=F.conv2d(x, w, stride=2, padding=1).shape)
    num = numerical_gradient(lambda v: float((F.conv2d(v, w, stride=2, padding=1) * dy).sum()), x.copy())
    cases.append(_Case("numerical", "finite differences, float64: stride 2, padding 1, 3x2 kernels, random dy",
                       (dy, x, w), num, hint, {"stride": 2, "padding": 1}, names=("dx",), numerical=True))
    return _run("conv2d_grad_input", fn, cases, ("dy", "x", "w"), verbose)
