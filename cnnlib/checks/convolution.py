"""Checks of ``exercises/01_convolution.ipynb``: a single-channel convolution, batches with channels, stride and
padding, then im2col and the convolution as one matrix product."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import functional as F
from ._engine import CheckResult, _Case, _ints, _rng, _run

__all__ = ["check_conv2d_single", "check_conv2d", "check_im2col", "check_conv2d_im2col"]


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


# --------------------------------------------------------------------------
# im2col: convolution as one matrix product
# --------------------------------------------------------------------------

_ORDER = (
    "rows: the output positions row by row (position (i, j) is row i*OW + j); columns: channel first, then kernel "
    "row, then kernel column (column c*kh*kw + p*kw + q), the order of w.reshape(O, C*kh*kw)"
)
_ORDER_CONV = (
    "the result is (N, O, OH, OW): image, filter, output row, output column. One image's product "
    "cols @ w.reshape(O, -1).T is (OH*OW, O), one row per position: transpose it to (O, OH*OW) before reshaping "
    "to (O, OH, OW), and stack the images along a first axis"
)


def _im2col(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """The reference: x (C, H, W) -> (OH*OW, C*kh*kw), one row per output position."""
    C = x.shape[0]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # (C, OH, OW, kh, kw)
    OH, OW = win.shape[1], win.shape[2]
    return win.transpose(1, 2, 0, 3, 4).reshape(OH * OW, C * kh * kw)


def _with_layout_note(check: Callable, fn: Any, verbose: bool, order: str = _ORDER) -> CheckResult:
    """Run ``check(spy)`` silently, then add "right values, wrong places" to failures no diagnosis explained.

    ``order`` says what the right layout is. A case that failed only because the input was changed in place
    gets no note: its values are right and in the right place.

    The spy records what ``fn`` returned for each case, in the order the cases run.
    """
    if not callable(fn):
        return check(fn, verbose)[0]
    received: list = []

    def spy(*args, **kwargs):
        try:
            answer = fn(*args, **kwargs)
        except BaseException:
            received.append(None)
            raise
        received.append(answer)
        return answer

    result, expected = check(spy, False)
    for case, got, want in zip(result.cases, received, expected):
        if case.passed or got is None or "This looks like" in case.message \
                or case.message.startswith("the answer is right"):
            continue
        try:
            g, e = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if g.size == e.size and np.allclose(np.sort(g, axis=None), np.sort(e, axis=None), rtol=1e-5, atol=1e-9):
            case.message += (
                "\nEvery expected value is there, but not where it belongs"
                + (f" (and the shape is {g.shape}, not {e.shape})" if g.shape != e.shape else "")
                + f": the layout is wrong. {order}."
            )
    if verbose:
        print(result.feedback(), flush=True)
    return result


def check_im2col(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, kh, kw)``: the im2col matrix of one image, stride 1, no padding.

    Parameters
    ----------
    fn : callable
        ``fn(x, kh, kw)`` with an image ``x`` of shape ``(C, H, W)`` and the kernel's
        height and width, returning the matrix of shape ``(OH*OW, C*kh*kw)`` with
        ``OH = H - kh + 1`` and ``OW = W - kw + 1``: row ``i*OW + j`` holds the window
        under output position ``(i, j)``, flattened in the order (channel, kernel row,
        kernel column).
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _with_layout_note(_im2col_cases, fn, verbose)


def _im2col_cases(fn: Callable, verbose: bool) -> tuple[CheckResult, list]:
    rng = _rng(3)
    hint = (f"the matrix has OH*OW rows (OH = H - kh + 1 and OW = W - kw + 1 window positions, every one "
            f"a step of 1 and every window inside the image) and C*kh*kw columns; {_ORDER}")
    cases, expected = [], []

    def add(id_: str, desc: str, x: np.ndarray, kh: int, kw: int, h: str = hint) -> None:
        C, H, W = x.shape
        OH, OW = H - kh + 1, W - kw + 1
        win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # (C, OH, OW, kh, kw)
        want = _im2col(x, kh, kw)
        diag = [
            ("the transpose of the matrix asked for (one column per output position, as cnnlib's own kernel "
             "stores it); here each output position is one ROW", want.T),
            ("the window array before the reshape: make it a matrix with .reshape(OH*OW, C*kh*kw)",
             win.transpose(1, 2, 0, 3, 4)),
            ("the columns ordered (kernel row, kernel column, channel): the channel must come first, to match "
             "w.reshape(O, C*kh*kw)", win.transpose(1, 2, 3, 4, 0).reshape(OH * OW, -1)),
            ("the output positions taken column by column: go through them row by row (row i*OW + j is "
             "position (i, j))", win.transpose(2, 1, 0, 3, 4).reshape(OH * OW, -1)),
        ]
        if kh == kw:
            diag.append(("each window transposed (kernel column before kernel row): flatten the window as "
                         "window[c, p, q] with p the row", win.transpose(1, 2, 0, 4, 3).reshape(OH * OW, -1)))
        cases.append(_Case(id_, desc, (x, kh, kw), want, h, diagnoses=tuple(diag)))
        expected.append(want)

    add("one_channel", "one 3x4 channel (the lecture example's image), 2x2 kernel: 6 positions, 4 columns",
        np.array([[[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]]], dtype=float), 2, 2)
    add("two_channels", "2 channels of 4x4, 3x3 kernel: columns 0-8 come from channel 0, 9-17 from channel 1",
        _ints(rng, (2, 4, 4)), 3, 3,
        "the columns run over the channel first: all kh*kw values of channel 0, then those of channel 1, ...; "
        + hint)
    add("non_square", "3 channels of 5x6, 2x3 kernel (rows and columns differ)", _ints(rng, (3, 5, 6)), 2, 3,
        "kh counts kernel rows and kw kernel columns: OH = H - kh + 1, OW = W - kw + 1; " + hint)
    add("kernel_as_big_as_image", "2 channels of 3x3, 3x3 kernel: a single row holding the whole image",
        _ints(rng, (2, 3, 3)), 3, 3, "one output position means one row: x.reshape(1, C*H*W)")
    add("one_by_one", "3 channels of 2x3, 1x1 kernel: every row holds one pixel's channel values",
        _ints(rng, (3, 2, 3)), 1, 1, "a 1x1 kernel gives H*W rows of C values; row i*W + j is x[:, i, j]")
    return _run("im2col", fn, cases, ("x",), verbose), expected


def check_conv2d_im2col(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, w, b=None)``: a convolution of a batch as one matrix product per image, stride 1, no padding.

    Parameters
    ----------
    fn : callable
        ``fn(x, w, b=None)`` with ``x`` of shape ``(N, C, H, W)``, ``w`` of shape
        ``(O, C, kh, kw)`` and ``b`` of shape ``(O,)`` or None, returning
        ``(N, O, H - kh + 1, W - kw + 1)``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _with_layout_note(_conv2d_im2col_cases, fn, verbose, _ORDER_CONV)


def _conv2d_im2col_cases(fn: Callable, verbose: bool) -> tuple[CheckResult, list]:
    rng = _rng(4)
    hint = (
        "per image: cols = im2col(x[n], kh, kw) of shape (OH*OW, C*kh*kw); y = cols @ w.reshape(O, -1).T has shape "
        "(OH*OW, O); transpose it to (O, OH*OW) before reshaping to (O, OH, OW), and add b[o] to output channel o"
    )
    cases, expected = [], []

    def add(id_: str, desc: str, x, w, b=None, h: str = hint) -> None:
        N, O = x.shape[0], w.shape[0]
        want = F.conv2d(x, w, b)
        OH, OW = want.shape[2], want.shape[3]
        scrambled = "the (OH*OW, O) product reshaped straight to (O, OH, OW): transpose it to (O, OH*OW) first"
        nobias = F.conv2d(x, w)
        diag = [
            (scrambled, want.transpose(0, 2, 3, 1).reshape(N, O, OH, OW)),  # bias added before the reshape
            (scrambled, nobias.transpose(0, 2, 3, 1).reshape(N, O, OH, OW) + (0 if b is None else b[:, None, None])),
            ("the weights flattened in another order than im2col's columns: w.reshape(O, C*kh*kw) keeps "
             "(channel, kernel row, kernel column)", F.conv2d(x, w.transpose(0, 2, 3, 1).reshape(w.shape), b)),
            ("a true convolution (kernel flipped); deep-learning convolution does not flip it",
             F.conv2d(x, w[..., ::-1, ::-1], b)),
        ]
        diag += [
            ("the output channels last, (N, OH, OW, O): the filter axis comes right after the image axis",
             want.transpose(0, 2, 3, 1)),
            ("w.reshape(-1, O) where w.reshape(O, -1).T is meant: both have shape (C*kh*kw, O), but only the "
             "second keeps each filter's weights together", F.conv2d(x, w.reshape(-1, O).T.reshape(w.shape), b)),
        ]
        if N == 1:
            diag.append(("the output of the image without the batch axis: return (N, O, OH, OW), with N = 1 here",
                         want[0]))
        if b is not None:
            diag.append(("the bias was left out", nobias))
            if OW == O:
                diag.append(("the bias added along the last axis (output columns): b[o] belongs to output "
                             "channel o, so add b[:, None, None] to an (O, OH, OW) result", nobias + b))
        if N > 1:
            diag.append(("every image got the first image's output: loop over n (or stack the images' rows)",
                         np.repeat(want[:1], N, axis=0)))
        cases.append(_Case(id_, desc, (x, w, b), want, h, diagnoses=tuple(diag)))
        expected.append(want)

    add("one_image", "one image, 1 channel of 4x5, one 3x3 filter, no bias",
        _ints(rng, (1, 1, 4, 5)), _ints(rng, (1, 1, 3, 3)),
        h="b is None here (no bias): add the bias only when b is not None; " + hint)
    add("channels_and_filters", "one image, 3 channels of 5x5, 4 filters of 2x2, with bias",
        _ints(rng, (1, 3, 5, 5)), _ints(rng, (4, 3, 2, 2)), _ints(rng, (4,)))
    add("batch", "3 images, 2 channels of 4x6, 2 filters of 3x2 (non-square), with bias",
        _ints(rng, (3, 2, 4, 6)), _ints(rng, (2, 2, 3, 2)), _ints(rng, (2,)),
        "do every image n of the batch: y[n] comes from im2col(x[n], kh, kw); " + hint)
    return _run("conv2d_im2col", fn, cases, ("x", "w", "b"), verbose), expected
