"""Checks of ``exercises/01_convolution.ipynb``: a single-channel convolution, then batches with channels, stride and padding."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import functional as F
from ._engine import CheckResult, _Case, _ints, _rng, _run

__all__ = ["check_conv2d_single", "check_conv2d"]


def check_conv2d_single(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, k)``: a single-channel 2-D convolution, stride 1, no padding, with loops.

    Parameters
    ----------
    fn : callable
        ``fn(x, k)`` with an image ``x`` of shape ``(H, W)`` and a kernel ``k`` of
        shape ``(kh, kw)``, returning ``(H - kh + 1, W - kw + 1)``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    rng = _rng(1)
    hint = (
        "y[i, j] = sum over p, q of x[i + p, j + q] * k[p, q]; the output has H - kh + 1 rows and "
        "W - kw + 1 columns (rows first); the kernel is not flipped"
    )
    cases = []

    def add(id_: str, desc: str, x: np.ndarray, k: np.ndarray, h: str = hint) -> None:
        diag = [("a true convolution: the kernel is flipped. Deep-learning 'convolution' slides it unflipped", F.conv2d(x, k[::-1, ::-1]))]
        if k.shape[0] == k.shape[1]:
            diag.append(("the kernel transposed: k[p, q] is row p, column q", F.conv2d(x, k.T)))
        cases.append(_Case(id_, desc, (x, k), F.conv2d(x, k), h, diagnoses=tuple(diag)))

    add("lecture_example", "the worked example: 3x4 image, 2x2 kernel",
        np.array([[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]], dtype=float), np.array([[1, 2], [-1, 0]], dtype=float))
    add("square_3x3", "5x5 image, 3x3 kernel", _ints(rng, (5, 5)), _ints(rng, (3, 3)))
    add("non_square", "6x9 image, 2x3 kernel (rows and columns differ)", _ints(rng, (6, 9)), _ints(rng, (2, 3)),
        "rows come first: the output is (H - kh + 1, W - kw + 1); loop i over rows with kh, j over columns with kw")
    add("kernel_as_big_as_image", "3x4 image, 3x4 kernel: a single output number", _ints(rng, (3, 4)), _ints(rng, (3, 4)),
        "with a kernel as big as the image there is exactly one position: range(H - kh + 1) has one entry")
    add("one_by_one_kernel", "4x5 image, 1x1 kernel: just scales the image", _ints(rng, (4, 5)), np.array([[2.5]]))
    return _run("conv2d_single", fn, cases, ("x", "k"), verbose)


def check_conv2d(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, w, b=None, stride=1, padding=0)``: multi-channel convolution of a batch.

    Parameters
    ----------
    fn : callable
        ``fn(x, w, b=None, stride=1, padding=0)`` with ``x`` of shape ``(N, C, H, W)``,
        ``w`` of shape ``(O, C, kh, kw)``, ``b`` of shape ``(O,)`` or None, integer
        stride and zero padding; returns ``(N, O, OH, OW)``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    rng = _rng(2)
    size = "OH = (H + 2*padding - kh) // stride + 1, and likewise OW"
    cases = []

    def add(id_: str, desc: str, x, w, b=None, stride=None, padding=None, hint=""):
        kwargs = {}
        if stride is not None:
            kwargs["stride"] = stride
        if padding is not None:
            kwargs["padding"] = padding
        s, p = stride or 1, padding or 0
        expected = F.conv2d(x, w, b, stride=s, padding=p)
        diag = [("a true convolution (kernel flipped); deep-learning convolution does not flip it",
                 F.conv2d(x, w[..., ::-1, ::-1], b, stride=s, padding=p))]
        if b is not None:
            diag.append(("the bias was left out", F.conv2d(x, w, None, stride=s, padding=p)))
        if x.shape[1] > 1:
            diag.append(("only the first input channel was used: sum over all C channels",
                         F.conv2d(x[:, :1], w[:, :1], b, stride=s, padding=p)))
        if w.shape[2] == w.shape[3]:
            diag.append(("the kernel transposed (rows and columns swapped)",
                         F.conv2d(x, w.transpose(0, 1, 3, 2), b, stride=s, padding=p)))
        cases.append(_Case(id_, desc, (x, w, b), expected, hint, kwargs, diagnoses=tuple(diag)))

    add("one_channel", "one 4x5 image, one channel, one 3x3 filter, defaults (no bias, stride 1, no padding)",
        _ints(rng, (1, 1, 4, 5)), _ints(rng, (1, 1, 3, 3)),
        hint="y[n, o, i, j] = sum over c, p, q of x[n, c, i + p, j + q] * w[o, c, p, q]; b=None means no bias")
    add("multi_channel", "2 images, 3 channels, 4 filters of 3x3, with bias",
        _ints(rng, (2, 3, 5, 6)), _ints(rng, (4, 3, 3, 3)), _ints(rng, (4,)),
        hint="each filter w[o] has one kernel per input channel: sum window * w[o] over all C channels, rows and "
        "columns, then add b[o]; loop over images n and filters o")
    add("padding", "padding=1 (zeros) on a 5x4 image with 2 channels, 3 filters",
        _ints(rng, (1, 2, 5, 4)), _ints(rng, (3, 2, 3, 3)), _ints(rng, (3,)), padding=1,
        hint="first pad rows and columns with `padding` zeros on every side, e.g. np.pad(x, ((0, 0), (0, 0), "
        f"(p, p), (p, p))), then slide over the padded image; {size}")
    add("stride", "stride=2, no padding, on a 7x7 image",
        _ints(rng, (2, 1, 7, 7)), _ints(rng, (2, 1, 3, 3)), stride=2,
        hint=f"output (i, j) reads the window starting at row i*stride and column j*stride; {size}")
    add("stride_and_padding", "stride=2 with padding=1 on a non-square 7x6 image, 3 channels",
        _ints(rng, (2, 3, 7, 6)), _ints(rng, (2, 3, 3, 3)), _ints(rng, (2,)), stride=2, padding=1,
        hint=f"pad first, then step by the stride over the padded image; {size} (here 4 x 3)")
    add("stride_3_leftover", "stride=3, padding=2, 2x3 kernel on an 8x10 image: the last rows do not fit a whole step",
        _ints(rng, (1, 1, 8, 10)), _ints(rng, (1, 1, 2, 3)), _ints(rng, (1,)), stride=3, padding=2,
        hint=f"positions that do not fit a whole window are dropped (floor division): {size}, here 4 x 4")
    add("non_square_kernel", "2 channels, 2x4 kernels, stride 1",
        _ints(rng, (1, 2, 5, 6)), _ints(rng, (2, 2, 2, 4)), _ints(rng, (2,)),
        hint="kh = w.shape[2] (rows) and kw = w.shape[3] (columns) can differ")
    return _run("conv2d", fn, cases, ("x", "w", "b"), verbose)
