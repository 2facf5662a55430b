"""Checks of ``exercises/03_padding.ipynb``: zero and edge padding, and the padding of ``padding="same"``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import functional as F
from ._engine import CheckResult, _Case, _ints, _rng, _run

__all__ = ["check_pad_zeros", "check_pad_edge", "check_same_padding"]


def _pads(p: Any) -> tuple[int, int]:
    return (p, p) if isinstance(p, int) else (int(p[0]), int(p[1]))


def _pad_cases(mode: str, seed: int) -> list[_Case]:
    rng = _rng(seed)
    other = "zeros" if mode == "edge" else "edge"
    hint = (
        "pad only the last two axes (rows, columns), `padding` on each side; "
        + ("the new entries are 0" if mode == "zeros" else
           "each new entry copies the nearest border pixel (corners copy the corner pixel), e.g. np.pad(..., mode='edge')")
        + "; a pair (ph, pw) means ph rows above and below, pw columns left and right"
    )
    rows = [
        ("one_pixel", "padding 1 around one 3x4 image", _ints(rng, (1, 1, 3, 4), 1, 10), 1),
        ("two_pixels_non_square", "padding 2 around a batch of 2 images with 3 channels, 3x5", _ints(rng, (2, 3, 3, 5), 1, 10), 2),
        ("no_padding", "padding 0 changes nothing", _ints(rng, (1, 2, 2, 3), 1, 10), 0),
        ("rows_and_cols", "padding (1, 2): 1 row above and below, 2 columns left and right", _ints(rng, (1, 2, 4, 3), 1, 10), (1, 2)),
    ]
    cases = []
    for id_, desc, x, p in rows:
        ph, pw = _pads(p)
        diag = [(f"'{other}' padding instead of '{mode}'", F.pad2d(x, (ph, pw), other))]
        if mode == "edge":
            diag.append(("reflection (np.pad mode 'reflect'); 'edge' repeats the border pixel itself",
                         np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="reflect") if min(x.shape[2:]) > max(ph, pw) else None))
        if ph != pw:
            diag.append(("rows and columns swapped: (ph, pw) is (rows, columns)", F.pad2d(x, (pw, ph), mode)))
        cases.append(_Case(id_, desc, (x, p), F.pad2d(x, (ph, pw), mode), hint, diagnoses=tuple(d for d in diag if d[1] is not None)))
    return cases


def check_pad_zeros(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, padding)``: zero padding of the rows and columns of ``(N, C, H, W)``.

    Parameters
    ----------
    fn : callable
        ``padding`` is an int or a pair ``(ph, pw)``; returns ``(N, C, H + 2ph, W + 2pw)``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _run("pad_zeros", fn, _pad_cases("zeros", 3), ("x",), verbose)


def check_pad_edge(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, padding)``: edge-replication padding of ``(N, C, H, W)``.

    Parameters
    ----------
    fn : callable
        As in :func:`check_pad_zeros`, but the border repeats the outermost pixels.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _run("pad_edge", fn, _pad_cases("edge", 4), ("x",), verbose)


def _same_pads(n: int, k: int, s: int) -> tuple[int, int]:
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return (total // 2, total - total // 2)


def check_same_padding(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(n, kernel_size, stride=1)``: the (before, after) padding of ``padding="same"``.

    Parameters
    ----------
    fn : callable
        Returns ``(before, after)``: the smallest total padding for which the output
        has ``ceil(n / stride)`` entries, split with the odd one after.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("out = ceil(n / stride); the last window starts at (out - 1) * stride and must end inside the padded input: "
            "total = max((out - 1) * stride + kernel_size - n, 0); before = total // 2, after = total - before")
    rows = [
        ("k3_stride1", "n=28, 3x3 kernel, stride 1", 28, 3, 1),
        ("k5_stride1", "n=28, 5x5 kernel, stride 1", 28, 5, 1),
        ("even_kernel", "n=28, kernel 4, stride 1: an odd total, the extra one goes after", 28, 4, 1),
        ("stride2_odd_n", "n=7, kernel 3, stride 2", 7, 3, 2),
        ("stride2_even_n", "n=8, kernel 3, stride 2: only one padding pixel is needed", 8, 3, 2),
        ("no_padding_needed", "n=10, kernel 2, stride 2: windows tile exactly", 10, 2, 2),
        ("one_by_one", "n=5, kernel 1, stride 1", 5, 1, 1),
    ]
    cases = [
        _Case(id_, desc, (n, k), _same_pads(n, k, s), hint, {"stride": s}, kind="ints",
              diagnoses=(("(kernel_size - 1) // 2 on each side, which ignores the stride", ((k - 1) // 2, (k - 1) // 2)),))
        for id_, desc, n, k, s in rows
    ]
    return _run("same_padding", fn, cases, (), verbose)
