"""The convolution and pooling explorers' computations, as plain functions.

``convolution_view`` and ``pooling_view`` compute one convolution or pooling of
one image with :mod:`cnnlib.functional` and pick out one output position: its
window, the products or the winning cell, the value, and the output-size
formulas with the numbers filled in (``output_size_formula``). They return small
frozen records (``ConvolutionView``, ``PoolingView``) and need no widgets and no
matplotlib. ``parse_kernel`` reads a kernel typed as text; ``KERNELS`` holds the
ready-made ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .. import functional as F
from .._validate import integer, is_int
from .._validate import pad_mode as _pad_mode
from ._format import _DOT, _MINUS

__all__ = [
    "KERNELS",
    "parse_kernel",
    "output_size_formula",
    "ConvolutionView",
    "convolution_view",
    "PoolingView",
    "pooling_view",
]

KERNELS: dict[str, str] = {
    "identity": "0 0 0; 0 1 0; 0 0 0",
    "edge (vertical)": "1 0 -1; 1 0 -1; 1 0 -1",
    "edge (horizontal)": "1 1 1; 0 0 0; -1 -1 -1",
    "blur (box 3x3)": "1/9 1/9 1/9; 1/9 1/9 1/9; 1/9 1/9 1/9",
    "sharpen": "0 -1 0; -1 5 -1; 0 -1 0",
}


def _matrix(a: Any, name: str, where: str) -> np.ndarray:
    """A finite, non-empty 2-D float64 array, or a ValueError saying what was expected."""
    try:
        m = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {name} must be a 2-D array of numbers; got {type(a).__name__}") from exc
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"{where}: {name} must be a non-empty 2-D array (rows, columns); got shape {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError(f"{where}: {name} must hold finite numbers (no NaN or infinity)")
    return m


MAX_KERNEL_VALUE = 1e6  # a typed kernel value beyond this is refused (the pictures need finite products)


def parse_kernel(text: str) -> np.ndarray:
    """Read a kernel typed as text: numbers separated by spaces or commas, rows by ``;``.

    Fractions such as ``1/9`` are allowed; the rows must all have the same
    length (a kernel does not have to be square). Each value must lie within
    +-:data:`MAX_KERNEL_VALUE`, so that a typed ``1e400`` (or ``1e300``, whose products overflow)
    is a message, not an overflow inside the explorer.

    Parameters
    ----------
    text : str
        For example ``"1 0 -1; 1 0 -1; 1 0 -1"`` or ``"1, 2; -1, 0"``.

    Returns
    -------
    numpy.ndarray
        The kernel, float64 of shape ``(rows, columns)``.

    Raises
    ------
    ValueError
        If the text is empty, holds something that is not a number or a number too large, or its
        rows differ in length.

    Examples
    --------
    >>> parse_kernel("1 2; -1 0")
    array([[ 1.,  2.],
           [-1.,  0.]])
    >>> parse_kernel("1/4, 1/4")
    array([[0.25, 0.25]])
    """
    hint = "type rows of numbers separated by ';', for example 1 0 -1; 1 0 -1; 1 0 -1"
    if not isinstance(text, str):
        raise ValueError(f"custom kernel: expected text, got {type(text).__name__}; {hint}")
    rows = [r for r in text.replace("\n", ";").split(";")]
    if rows and not rows[-1].strip():
        rows = rows[:-1]  # allow a trailing ';'
    if not rows or not any(r.strip() for r in rows):
        raise ValueError(f"custom kernel: the values are empty; {hint}")
    numbers: list[list[float]] = []
    for i, row in enumerate(rows, start=1):
        tokens = row.replace(",", " ").split()
        if not tokens:
            raise ValueError(f"custom kernel: row {i} is empty; {hint}")
        values = []
        for tok in tokens:
            try:
                value = Fraction(tok)
            except (ValueError, ZeroDivisionError):
                raise ValueError(f"custom kernel: {tok!r} in row {i} is not a number; {hint}") from None
            if abs(value) > MAX_KERNEL_VALUE:  # compared as a fraction: float(Fraction("1e400")) would overflow
                raise ValueError(
                    f"custom kernel: {tok!r} in row {i} is too large; values must lie between "
                    f"-{MAX_KERNEL_VALUE:g} and {MAX_KERNEL_VALUE:g}; {hint}"
                )
            values.append(float(value))
        numbers.append(values)
    widths = {len(r) for r in numbers}
    if len(widths) > 1:
        counts = ", ".join(f"row {i} has {len(r)}" for i, r in enumerate(numbers, start=1))
        raise ValueError(f"custom kernel: every row needs the same number of values ({counts}); {hint}")
    return np.array(numbers, dtype=np.float64)


def output_size_formula(n: int, kernel_size: int, stride: int = 1, padding: int | None = 0, name: str = "H") -> str:
    """The output-size formula with the numbers filled in.

    ``floor((n + 2·padding − kernel_size) / stride) + 1``, computed with
    :func:`cnnlib.functional.conv_output_size`.

    Parameters
    ----------
    n : int
        Input length (rows for ``H``, columns for ``W``).
    kernel_size : int
        Kernel (or pooling window) length along the same axis.
    stride : int, default 1
        Step between windows.
    padding : int or None, default 0
        Padding on each side; ``None`` leaves the padding term out (pooling without padding).
    name : str, default "H"
        The letter in front of ``_out``.

    Returns
    -------
    str
        For example ``"H_out = floor((28 + 2·1 − 3) / 2) + 1 = 14"``.

    Raises
    ------
    ValueError
        If the kernel is larger than the padded input (there is no output).

    Examples
    --------
    >>> output_size_formula(28, 3, stride=2, padding=1)
    'H_out = floor((28 + 2·1 − 3) / 2) + 1 = 14'
    >>> output_size_formula(8, 2, stride=2, padding=None, name="W")
    'W_out = floor((8 − 2) / 2) + 1 = 4'
    """
    out = F.conv_output_size(n, kernel_size, stride=stride, padding=padding or 0)
    pad = f" + 2{_DOT}{padding}" if padding is not None else ""
    return f"{name}_out = floor(({n}{pad} {_MINUS} {kernel_size}) / {stride}) + 1 = {out}"


def _check_position(row: Any, col: Any, out_shape: tuple[int, int], where: str) -> tuple[int, int]:
    """``(row, col)`` as ints, or a ValueError unless they are integers inside an output of ``out_shape``."""
    oh, ow = out_shape
    if not (is_int(row) and is_int(col)) or not (0 <= row < oh and 0 <= col < ow):
        raise ValueError(
            f"{where}: the output position (row {row}, col {col}) is outside the {oh}x{ow} output; "
            f"row must be in 0..{oh - 1} and col in 0..{ow - 1}"
        )
    return int(row), int(col)


@dataclass(frozen=True, eq=False)
class ConvolutionView:
    """One convolution with one output position picked out (see :func:`convolution_view`).

    Attributes
    ----------
    image : numpy.ndarray, (H, W)
        The input.
    kernel : numpy.ndarray, (kh, kw)
        The kernel.
    stride, padding : int
        Step between windows and padding on each side.
    pad_mode : str
        ``"zeros"`` or ``"edge"``.
    padded : numpy.ndarray, (H + 2·padding, W + 2·padding)
        The padded input.
    output : numpy.ndarray, (H_out, W_out)
        The feature map, ``cnnlib.functional.conv2d`` of the input.
    row, col : int
        The chosen output position.
    top, left : int
        Where its window starts in the padded input (``row·stride``, ``col·stride``).
    window : numpy.ndarray, (kh, kw)
        The padded input under the kernel at that position.
    products : numpy.ndarray, (kh, kw)
        ``window * kernel``; they add up to ``value``.
    value : float
        ``output[row, col]``.
    formula_h, formula_w : str
        The output-size formulas with the numbers filled in.
    """

    image: np.ndarray
    kernel: np.ndarray
    stride: int
    padding: int
    pad_mode: str
    padded: np.ndarray
    output: np.ndarray
    row: int
    col: int
    top: int
    left: int
    window: np.ndarray
    products: np.ndarray
    value: float
    formula_h: str
    formula_w: str


def convolution_view(
    image: Any,
    kernel: Any,
    stride: int = 1,
    padding: int = 0,
    pad_mode: str = "zeros",
    row: int = 0,
    col: int = 0,
) -> ConvolutionView:
    """Convolve one image and pick out one output position, as the convolution explorer shows it.

    Parameters
    ----------
    image : array_like, (H, W)
        The input image.
    kernel : array_like, (kh, kw)
        The kernel (need not be square). As in every deep-learning library it
        is not flipped (cross-correlation).
    stride : int, default 1
        Step between neighbouring windows.
    padding : int, default 0
        Rows and columns added on each side.
    pad_mode : {"zeros", "edge"}, default "zeros"
        Fill the padding with zeros or repeat the outermost pixels.
    row, col : int, default 0
        The output position to explain.

    Returns
    -------
    ConvolutionView

    Raises
    ------
    ValueError
        If an argument is not what is expected, the kernel is larger than the
        padded input, or the position is outside the output.

    Examples
    --------
    >>> v = convolution_view([[1, 2], [4, 5]], [[2, 2], [2, 2]], padding=1, row=1, col=2)
    >>> v.output
    array([[ 2.,  6.,  4.],
           [10., 24., 14.],
           [ 8., 18., 10.]])
    >>> v.value, v.formula_w
    (14.0, 'W_out = floor((2 + 2·1 − 2) / 1) + 1 = 3')
    """
    where = "convolution_view"
    x = _matrix(image, "image", where)
    w = _matrix(kernel, "kernel", where)
    stride = integer(stride, "stride", where, 1)
    padding = integer(padding, "padding", where, 0)
    pad_mode = _pad_mode(pad_mode, where)
    (h, wd), (kh, kw) = x.shape, w.shape
    hp, wp = h + 2 * padding, wd + 2 * padding
    if kh > hp or kw > wp:
        raise ValueError(
            f"the kernel ({kh}x{kw}) is larger than the padded input ({hp}x{wp}, padding {padding}): "
            "choose a smaller kernel or more padding"
        )
    padded = F.pad2d(x, padding, mode=pad_mode)
    output = F.conv2d(x, w, stride=stride, padding=padding, pad_mode=pad_mode)
    row, col = _check_position(row, col, output.shape, where)
    top, left = row * stride, col * stride
    window = padded[top : top + kh, left : left + kw].copy()
    return ConvolutionView(
        image=x,
        kernel=w,
        stride=stride,
        padding=padding,
        pad_mode=pad_mode,
        padded=padded,
        output=output,
        row=row,
        col=col,
        top=top,
        left=left,
        window=window,
        products=window * w,
        value=float(output[row, col]),
        formula_h=output_size_formula(h, kh, stride, padding, "H"),
        formula_w=output_size_formula(wd, kw, stride, padding, "W"),
    )


@dataclass(frozen=True, eq=False)
class PoolingView:
    """One pooling with one output position picked out (see :func:`pooling_view`).

    Attributes
    ----------
    image : numpy.ndarray, (H, W)
        The input.
    pool : str
        ``"max"`` or ``"average"``.
    window, stride : int
        Window size (square) and step between windows.
    output : numpy.ndarray, (H_out, W_out)
        ``cnnlib.functional.max_pool2d`` or ``avg_pool2d`` of the input.
    row, col : int
        The chosen output position.
    top, left : int
        Where its window starts in the input.
    patch : numpy.ndarray, (window, window)
        The input values in that window.
    value : float
        ``output[row, col]``.
    winner : (int, int) or None
        For max pooling, the input position (row, col) of the window's maximum
        (the first one in reading order if several tie); None for average pooling.
    covered : numpy.ndarray of bool, (H, W)
        Which input cells lie in at least one window (the others are never looked at).
    formula_h, formula_w : str
        The output-size formulas with the numbers filled in.
    """

    image: np.ndarray
    pool: str
    window: int
    stride: int
    output: np.ndarray
    row: int
    col: int
    top: int
    left: int
    patch: np.ndarray
    value: float
    winner: tuple[int, int] | None
    covered: np.ndarray
    formula_h: str
    formula_w: str


def pooling_view(
    image: Any, pool: str = "max", window: int = 2, stride: int | None = None, row: int = 0, col: int = 0
) -> PoolingView:
    """Pool one image and pick out one output position, as the pooling explorer shows it.

    Parameters
    ----------
    image : array_like, (H, W)
        The input.
    pool : {"max", "average"}, default "max"
        Keep each window's largest value, or its mean.
    window : int, default 2
        Side of the square window.
    stride : int, optional
        Step between windows; defaults to ``window`` (windows that tile).
        A smaller stride makes neighbouring windows overlap.
    row, col : int, default 0
        The output position to explain.

    Returns
    -------
    PoolingView

    Raises
    ------
    ValueError
        If an argument is not what is expected, the window is larger than the
        image, or the position is outside the output.

    Examples
    --------
    >>> v = pooling_view([[1, 2, 3, 0], [4, 5, 6, 0], [7, 8, 9, 10], [0, 0, 0, 0]], window=3, stride=1, col=1)
    >>> v.output
    array([[ 9., 10.],
           [ 9., 10.]])
    >>> v.value, v.winner
    (10.0, (2, 3))
    """
    where = "pooling_view"
    x = _matrix(image, "image", where)
    pool = {"avg": "average"}.get(pool, pool)
    if pool not in ("max", "average"):
        raise ValueError(f"{where}: pool must be 'max' or 'average'; got {pool!r}")
    window = integer(window, "window", where, 1)
    stride = window if stride is None else integer(stride, "stride", where, 1)
    h, w = x.shape
    if window > min(h, w):
        raise ValueError(f"the window ({window}x{window}) is larger than the image ({h}x{w}): choose a smaller window")
    output = (F.max_pool2d if pool == "max" else F.avg_pool2d)(x, window, stride=stride)
    row, col = _check_position(row, col, output.shape, where)
    top, left = row * stride, col * stride
    patch = x[top : top + window, left : left + window].copy()
    winner = None
    if pool == "max":
        i, j = np.unravel_index(int(np.argmax(patch)), patch.shape)  # the first maximum, as cnnlib's backward picks
        winner = (top + int(i), left + int(j))
    covered = np.zeros(x.shape, dtype=bool)
    for r in range(output.shape[0]):
        for c in range(output.shape[1]):
            covered[r * stride : r * stride + window, c * stride : c * stride + window] = True
    return PoolingView(
        image=x,
        pool=pool,
        window=window,
        stride=stride,
        output=output,
        row=row,
        col=col,
        top=top,
        left=left,
        patch=patch,
        value=float(output[row, col]),
        winner=winner,
        covered=covered,
        formula_h=output_size_formula(h, window, stride, None, "H"),
        formula_w=output_size_formula(w, window, stride, None, "W"),
    )
