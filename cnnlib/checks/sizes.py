"""Checks of ``exercises/02_sizes_and_parameters.ipynb``: output sizes, a conv layer's output shape and parameter count."""

from __future__ import annotations

from typing import Callable

from ..functional import conv_output_size
from ._engine import CheckResult, _Case, _run

__all__ = ["check_output_size", "check_conv_output_shape", "check_conv_param_count"]


def check_output_size(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(n, kernel_size, stride=1, padding=0)``: the length of one output dimension.

    Parameters
    ----------
    fn : callable
        ``fn(n, kernel_size, stride=1, padding=0)`` returning an int.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = "out = (n + 2*padding - kernel_size) // stride + 1: padding is added on both sides; // rounds down"
    rows = [
        ("same_28_k3_p1", "28 pixels, 3x3 kernel, padding 1: the size is kept", 28, 3, 1, 1),
        ("valid_28_k5", "28 pixels, 5x5 kernel, no padding", 28, 5, 1, 0),
        ("stride2_pad1_odd", "7 pixels, kernel 3, stride 2, padding 1", 7, 3, 2, 1),
        ("stride2_pad1_even_floor", "8 pixels, kernel 3, stride 2, padding 1: (8 + 2 - 3) / 2 is not whole", 8, 3, 2, 1),
        ("stride3_pad2", "32 pixels, kernel 5, stride 3, padding 2", 32, 5, 3, 2),
        ("kernel_equals_input", "5 pixels, kernel 5: one position", 5, 5, 1, 0),
        ("pool_2x2", "a 2x2 pooling window with stride 2 on 28 pixels", 28, 2, 2, 0),
    ]
    cases = [
        _Case(id_, desc, (n, k), conv_output_size(n, k, s, p), hint, {"stride": s, "padding": p}, kind="int",
              diagnoses=(("rounding up instead of down (ceil); leftover pixels that do not fit a window are dropped",
                          -(-(n + 2 * p - k) // s) + 1),
                         ("padding counted on one side only; it is added on both sides", (n + p - k) // s + 1),
                         ("the + 1 is missing (the first position counts too)", (n + 2 * p - k) // s)))
        for id_, desc, n, k, s, p in rows
    ]
    return _run("output_size", fn, cases, (), verbose)


def check_conv_output_shape(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(input_shape, out_channels, kernel_size, stride=1, padding=0)``: a conv layer's output shape.

    Parameters
    ----------
    fn : callable
        Returns ``(N, out_channels, OH, OW)`` as a tuple of ints for an input
        shape ``(N, C, H, W)`` and a square ``kernel_size``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = "(N, C, H, W) becomes (N, out_channels, OH, OW): the batch stays, the channels become out_channels, and OH, OW follow the output-size formula"
    rows = [
        ("mnist_first_layer", "MNIST batch (64, 1, 28, 28), 16 filters of 3x3, padding 1", (64, 1, 28, 28), 16, 3, 1, 1),
        ("non_square", "(8, 3, 32, 24), 10 filters of 5x5, no padding", (8, 3, 32, 24), 10, 5, 1, 0),
        ("stride_and_padding", "(2, 4, 15, 9), 6 filters of 3x3, stride 2, padding 1", (2, 4, 15, 9), 6, 3, 2, 1),
        ("one_by_one", "(5, 32, 7, 7), 8 filters of 1x1", (5, 32, 7, 7), 8, 1, 1, 0),
    ]
    cases = [
        _Case(id_, desc, (shape, o, k), (shape[0], o, conv_output_size(shape[2], k, s, p), conv_output_size(shape[3], k, s, p)), hint,
              {"stride": s, "padding": p}, kind="ints")
        for id_, desc, shape, o, k, s, p in rows
    ]
    return _run("conv_output_shape", fn, cases, (), verbose)


def check_conv_param_count(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(in_channels, out_channels, kernel_size, bias=True)``: learnable numbers of a conv layer.

    Parameters
    ----------
    fn : callable
        ``kernel_size`` is an int (square) or a pair ``(kh, kw)``; returns an int.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("each of the out_channels filters has in_channels x kh x kw weights, plus one bias per filter "
            "(when bias=True); a kernel_size pair (kh, kw) means kh rows and kw columns")
    rows = [
        ("mnist_first_layer", "1 -> 16 channels, 3x3", (1, 16, 3), {}, 16 * 9 + 16),
        ("mnist_second_layer", "16 -> 32 channels, 3x3", (16, 32, 3), {}, 32 * 16 * 9 + 32),
        ("non_square_kernel", "3 -> 64 channels, (5, 3) kernel", (3, 64, (5, 3)), {}, 64 * 3 * 15 + 64),
        ("no_bias", "2 -> 4 channels, 5x5, bias=False", (2, 4, 5), {"bias": False}, 4 * 2 * 25),
        ("one_by_one", "32 -> 10 channels, 1x1", (32, 10, 1), {}, 330),
    ]
    cases = [_Case(id_, desc, args, exp, hint, kw, kind="int") for id_, desc, args, kw, exp in rows]
    return _run("conv_param_count", fn, cases, (), verbose)
