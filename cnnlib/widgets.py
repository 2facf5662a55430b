"""Interactive explorers for the course: move a slider, watch the numbers and the picture change.

Each explorer is a small panel of controls (sliders, drop-down lists) above a
picture and a few lines of text. A notebook makes one in one line, for example
``widgets.convolution_explorer()``, and shows it by ending the cell with it.
Every change of a control recomputes the result with :mod:`cnnlib.functional`
or :mod:`cnnlib.layers` and redraws the picture.

The computations behind the explorers are plain functions that return small,
read-only records (``convolution_view``, ``pooling_view``, ``activation_view``,
``batchnorm_view``, ``model_view``); they need no widgets and are what the
tests check. ``LearningCurveMonitor`` redraws the learning curves after each
epoch of :func:`cnnlib.fit`.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Mapping, Sequence

import ipywidgets
import numpy as np

from . import functional as F
from . import plots
from ._validate import class_labels, image_stack, integer, is_int
from ._validate import pad_mode as _pad_mode
from .layers import AvgPool2d, BatchNorm1d, Conv2d, Layer, MaxPool2d, ReLU, Sequential, Sigmoid, Tanh

__all__ = [
    "KERNELS",
    "parse_kernel",
    "output_size_formula",
    "ConvolutionView",
    "convolution_view",
    "PoolingView",
    "pooling_view",
    "ActivationView",
    "activation_view",
    "synthetic_batch",
    "BatchNormView",
    "batchnorm_view",
    "ModelView",
    "model_view",
    "LearningCurveView",
    "ConvolutionExplorer",
    "convolution_explorer",
    "PoolingExplorer",
    "pooling_explorer",
    "ActivationExplorer",
    "activation_explorer",
    "BatchNormExplorer",
    "batchnorm_explorer",
    "ModelExplorer",
    "model_explorer",
    "LearningCurveMonitor",
]

#: The ready-made kernels of the convolution explorer, written as the explorer's "values" box shows them.
KERNELS: dict[str, str] = {
    "identity": "0 0 0; 0 1 0; 0 0 0",
    "edge (vertical)": "1 0 -1; 1 0 -1; 1 0 -1",
    "edge (horizontal)": "1 1 1; 0 0 0; -1 -1 -1",
    "blur (box 3x3)": "1/9 1/9 1/9; 1/9 1/9 1/9; 1/9 1/9 1/9",
    "sharpen": "0 -1 0; -1 5 -1; 0 -1 0",
}

_DPI = 72  # fixed, so that the pictures have the same size everywhere
_MAX_REPR = 100  # ipywidgets cuts the text/plain of a widget at 110 characters
_NUMBERS_UP_TO = 10  # write the numbers into the cells of matrices up to this many rows and columns
_MINUS = "\u2212"  # the minus sign of the formulas
_DOT = "\u00b7"  # the multiplication dot of the formulas

# ---------------------------------------------------------------------------
# Small helpers: numbers as text, input checks
# ---------------------------------------------------------------------------


def _num(v: float) -> str:
    """A number as short text: integers without a decimal point, others with at most 4 decimals."""
    v = float(v)
    if v.is_integer() and abs(v) < 1e9:
        return str(int(v))
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _fixed(v: float, decimals: int = 4) -> str:
    """A number with a fixed number of decimals, never "-0.0000"."""
    text = f"{float(v):.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _factor(v: float) -> str:
    """A number inside a product: negative ones in parentheses."""
    text = _num(v)
    return f"({text})" if text.startswith("-") else text


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


def parse_kernel(text: str) -> np.ndarray:
    """Read a kernel typed as text: numbers separated by spaces or commas, rows by ``;``.

    Fractions such as ``1/9`` are allowed; the rows must all have the same
    length (a kernel does not have to be square).

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
        If the text is empty, holds something that is not a number, or its rows differ in length.

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
                values.append(float(Fraction(tok)))
            except (ValueError, ZeroDivisionError):
                raise ValueError(f"custom kernel: {tok!r} in row {i} is not a number; {hint}") from None
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
    oh, ow = out_shape
    if not (is_int(row) and is_int(col)) or not (0 <= row < oh and 0 <= col < ow):
        raise ValueError(
            f"{where}: the output position (row {row}, col {col}) is outside the {oh}x{ow} output; "
            f"row must be in 0..{oh - 1} and col in 0..{ow - 1}"
        )
    return int(row), int(col)


# ---------------------------------------------------------------------------
# The plain computations
# ---------------------------------------------------------------------------


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


_ACTIVATIONS: dict[str, tuple[str, Callable[[Any], np.ndarray], type[Layer]]] = {
    "sigmoid": ("sigmoid", F.sigmoid, Sigmoid),
    "tanh": ("tanh", F.tanh, Tanh),
    "relu": ("ReLU", F.relu, ReLU),
}


def _activation_key(name: Any, where: str) -> str:
    key = str(name).lower()
    if key not in _ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {name!r}; choose from 'sigmoid', 'tanh', 'ReLU'")
    return key


def _derivative(key: str, x: np.ndarray) -> np.ndarray:
    """f'(x) from the layer's backward pass with an upstream gradient of ones."""
    layer = _ACTIVATIONS[key][2]()
    y = layer.forward(x)
    return layer.backward(np.ones_like(y))


@dataclass(frozen=True, eq=False)
class ActivationView:
    """Activation functions and their derivatives on a grid (see :func:`activation_view`).

    Attributes
    ----------
    functions : tuple of str
        The functions, as keys ``"sigmoid"``, ``"tanh"``, ``"relu"``.
    xs : numpy.ndarray
        The grid of inputs.
    values, derivatives : dict of str to numpy.ndarray
        ``f(xs)`` and ``f'(xs)`` for each function.
    x : float
        The probe point.
    at_x : dict of str to (float, float)
        ``(f(x), f'(x))`` at the probe point for each function.
    """

    functions: tuple[str, ...]
    xs: np.ndarray
    values: dict[str, np.ndarray]
    derivatives: dict[str, np.ndarray]
    x: float
    at_x: dict[str, tuple[float, float]]


def activation_view(
    functions: Sequence[str] = ("sigmoid", "tanh", "relu"),
    x_range: tuple[float, float] = (-6.0, 6.0),
    x: float = 1.0,
    num: int = 601,
) -> ActivationView:
    """Evaluate activation functions and their derivatives over an input range and at one point.

    Values come from :mod:`cnnlib.functional` (``sigmoid``, ``tanh``, ``relu``), derivatives
    from the backward passes of the layers ``Sigmoid``, ``Tanh`` and ``ReLU`` (ReLU's
    derivative at 0 is taken as 0, as in PyTorch).

    Parameters
    ----------
    functions : sequence of str, default ("sigmoid", "tanh", "relu")
        Which functions (case does not matter: ``"ReLU"`` works too).
    x_range : (float, float), default (-6.0, 6.0)
        Smallest and largest input of the grid.
    x : float, default 1.0
        The probe point.
    num : int, default 601
        Number of grid points.

    Returns
    -------
    ActivationView

    Raises
    ------
    ValueError
        If a name is unknown, no function is chosen, or the range is empty.

    Examples
    --------
    >>> v = activation_view(["sigmoid", "ReLU"], x=0.0)
    >>> v.at_x["sigmoid"], v.at_x["relu"]
    ((0.5, 0.25), (0.0, 0.0))
    """
    where = "activation_view"
    keys = tuple(dict.fromkeys(_activation_key(f, where) for f in functions))
    if not keys:
        raise ValueError("choose at least one function (sigmoid, tanh or ReLU)")
    lo, hi = (float(v) for v in x_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"the x range must go from a smaller to a larger number; got ({lo:g}, {hi:g})")
    num = integer(num, "num", where, 2)
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"{where}: x must be a finite number; got {x!r}")
    xs = np.linspace(lo, hi, num)
    values = {k: _ACTIVATIONS[k][1](xs) for k in keys}
    derivatives = {k: _derivative(k, xs) for k in keys}
    probe = np.array([x])
    at_x = {k: (float(_ACTIVATIONS[k][1](probe)[0]), float(_derivative(k, probe)[0])) for k in keys}
    return ActivationView(keys, xs, values, derivatives, x, at_x)


def synthetic_batch(
    n: int = 256,
    means: Sequence[float] = (4.0, -2.0, 0.5),
    stds: Sequence[float] = (1.5, 0.5, 3.0),
    seed: int | None = 0,
) -> np.ndarray:
    """A batch of ``n`` values for each of several channels, each channel normal with its own mean and spread.

    Parameters
    ----------
    n : int, default 256
        Values per channel (the batch size).
    means, stds : sequence of float
        Mean and standard deviation of each channel (one per channel).
    seed : int or None, default 0
        Seed of the random numbers.

    Returns
    -------
    numpy.ndarray
        float64 of shape ``(n, channels)``, the layout of :class:`cnnlib.BatchNorm1d`.
    """
    where = "synthetic_batch"
    n = integer(n, "n", where, 2)
    mu = np.asarray(means, dtype=np.float64)
    sd = np.asarray(stds, dtype=np.float64)
    if mu.ndim != 1 or mu.shape != sd.shape or mu.size == 0:
        raise ValueError(f"{where}: means and stds must be two equally long lists, one entry per channel")
    rng = np.random.default_rng(seed)
    return mu + sd * rng.standard_normal((n, mu.size))


@dataclass(frozen=True, eq=False)
class BatchNormView:
    """A batch before and after batch normalization (see :func:`batchnorm_view`).

    Attributes
    ----------
    x, y : numpy.ndarray, (N, C)
        The batch before and after the layer.
    gamma, beta : float
        Scale and shift, the same for every channel.
    training : bool
        True: normalised with the batch's own statistics; False: with the running ones.
    steps : int
        Training batches the layer had seen before (the running statistics' history).
    momentum, eps : float
        The layer's settings.
    mean_before, std_before, mean_after, std_after : numpy.ndarray, (C,)
        Per-channel mean and standard deviation (``ddof=0``) of ``x`` and ``y``.
    running_mean, running_var : numpy.ndarray, (C,)
        The running estimates after ``steps`` training batches (what inference uses).
    """

    x: np.ndarray
    y: np.ndarray
    gamma: float
    beta: float
    training: bool
    steps: int
    momentum: float
    eps: float
    mean_before: np.ndarray
    std_before: np.ndarray
    mean_after: np.ndarray
    std_after: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray


def batchnorm_view(
    x: Any,
    gamma: float = 1.0,
    beta: float = 0.0,
    training: bool = True,
    steps: int = 0,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> BatchNormView:
    """Run a batch through a fresh :class:`cnnlib.BatchNorm1d` and summarise each channel before and after.

    The layer first sees the same batch ``steps`` times in training mode,
    which moves its running estimates from (mean 0, variance 1) towards the
    batch's statistics: after k steps, ``running_mean = (1 - (1 - momentum)**k) * batch_mean``
    and ``running_var = (1 - momentum)**k + (1 - (1 - momentum)**k) * batch_var``
    (the unbiased variance). Then it normalises the batch, in training mode with the
    batch's own mean and variance, in inference mode with the running estimates.

    Parameters
    ----------
    x : array_like, (N, C)
        The batch: N values for each of C channels.
    gamma, beta : float, default 1.0 and 0.0
        Scale and shift after normalising, the same for every channel.
    training : bool, default True
        Training mode (batch statistics) or inference mode (running statistics).
    steps : int, default 0
        How many training batches came before.
    momentum : float, default 0.1
        Weight of the newest batch in the running estimates (PyTorch's default).
    eps : float, default 1e-5
        Added to the variance before the square root.

    Returns
    -------
    BatchNormView

    Examples
    --------
    >>> v = batchnorm_view(synthetic_batch(seed=0), gamma=2.0, beta=1.0)
    >>> v.mean_after.round(6), v.std_after.round(4)
    (array([1., 1., 1.]), array([2., 2., 2.]))
    """
    where = "batchnorm_view"
    x = _matrix(x, "x", where)
    if x.shape[0] < 2:
        raise ValueError(f"{where}: the batch needs at least 2 values per channel; got shape {x.shape}")
    gamma = float(gamma)
    beta = float(beta)
    steps = integer(steps, "steps", where, 0)
    bn = BatchNorm1d(x.shape[1], eps=eps, momentum=momentum).astype(np.float64)
    for _ in range(steps):
        bn.forward(x, training=True)
    running_mean, running_var = bn.running_mean.copy(), bn.running_var.copy()
    bn.params["gamma"][...] = gamma
    bn.params["beta"][...] = beta
    y = bn.forward(x, training=bool(training))
    return BatchNormView(
        x=x,
        y=y,
        gamma=gamma,
        beta=beta,
        training=bool(training),
        steps=steps,
        momentum=float(momentum),
        eps=float(eps),
        mean_before=x.mean(axis=0),
        std_before=x.std(axis=0),
        mean_after=y.mean(axis=0),
        std_after=y.std(axis=0),
        running_mean=running_mean,
        running_var=running_var,
    )


_STAGE_LAYERS = (Conv2d, ReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d)


def _flat_layers(model: Sequential) -> list[Layer]:
    out: list[Layer] = []
    for layer in model.layers:
        out.extend(_flat_layers(layer) if isinstance(layer, Sequential) else [layer])
    return out


@dataclass(frozen=True, eq=False)
class ModelView:
    """What a network does with one image (see :func:`model_view`).

    Attributes
    ----------
    image : numpy.ndarray, (H, W)
        The input image.
    stages : tuple of (str, numpy.ndarray)
        For each convolution, activation and pooling layer: a name such as
        ``"(0) Conv2d"`` and its output for this image, ``(channels, rows, cols)``.
    probabilities : numpy.ndarray, (classes,)
        Softmax of the network's output; they add up to 1.
    predicted : int
        The most probable class.
    probability : float
        Its probability.
    label : int or None
        The true class, if known.
    correct : bool or None
        Whether the prediction is right (None without a label).
    """

    image: np.ndarray
    stages: tuple[tuple[str, np.ndarray], ...]
    probabilities: np.ndarray
    predicted: int
    probability: float
    label: int | None
    correct: bool | None


def model_view(model: Sequential, image: Any, label: int | None = None) -> ModelView:
    """Run one image through a network in inference mode, keeping every stage's feature maps.

    Parameters
    ----------
    model : Sequential
        A cnnlib network ending in class scores, e.g. :func:`cnnlib.mnist_cnn`.
    image : array_like, (H, W) or (1, H, W)
        One grey-scale image.
    label : int, optional
        Its true class.

    Returns
    -------
    ModelView

    Raises
    ------
    ValueError
        If the model is not a Sequential, the image has the wrong shape, or the
        model does not turn it into one row of class scores.
    """
    where = "model_view"
    if not isinstance(model, Sequential):
        raise ValueError(f"{where}: model must be a cnnlib Sequential (e.g. cnnlib.mnist_cnn()); got {type(model).__name__}")
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[0] == 1:
        img = img[0]
    img = _matrix(img, "image", where)
    x: np.ndarray = img[None, None].astype(np.float32)  # a batch of one (1, 1, H, W)
    stages = []
    try:
        for i, layer in enumerate(_flat_layers(model)):
            x = layer.forward(x, training=False)
            if isinstance(layer, _STAGE_LAYERS) and x.ndim == 4:
                stages.append((f"({i}) {type(layer).__name__}", np.array(x[0], dtype=np.float64)))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: the model cannot run on an image of shape {img.shape}: {exc}") from exc
    if x.ndim != 2 or x.shape[0] != 1:
        raise ValueError(f"{where}: the model must end in class scores of shape (1, classes); got {x.shape}")
    probs = F.softmax(np.asarray(x[0], dtype=np.float64))
    predicted = int(np.argmax(probs))
    lab = None if label is None else int(label)
    return ModelView(
        image=img,
        stages=tuple(stages),
        probabilities=probs,
        predicted=predicted,
        probability=float(probs[predicted]),
        label=lab,
        correct=None if lab is None else predicted == lab,
    )


@dataclass(frozen=True, eq=False)
class LearningCurveView:
    """The history a :class:`LearningCurveMonitor` shows (per epoch; accuracies as fractions).

    Attributes
    ----------
    epoch : int
        Epochs finished so far.
    epochs : int
        Epochs planned (the width of the plot).
    loss, accuracy, val_loss, val_accuracy : tuple of float
        The history's lists (the validation ones empty without validation data).
    """

    epoch: int
    epochs: int
    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_accuracy: tuple[float, ...]


# ---------------------------------------------------------------------------
# Drawing: matplotlib figures that never enter pyplot, turned into PNG bytes
# ---------------------------------------------------------------------------


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=_DPI)  # not registered with pyplot: nothing to close, nothing leaks


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def _outline(ax: Any, top: float, left: float, height: float, width: float, **style: Any) -> None:
    from matplotlib.patches import Rectangle

    style = {"fill": False, "edgecolor": "red", "linewidth": 3, **style}
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, **style))


def _shade(ax: Any, mask: np.ndarray, rgba: tuple[float, float, float, float]) -> None:
    """Paint the cells where ``mask`` is True with a translucent colour."""
    if mask.any():
        layer = np.zeros((*mask.shape, 4))
        layer[mask] = rgba
        ax.imshow(layer, interpolation="nearest")


def _matrix_panel(ax: Any, a: np.ndarray, title: str, *, cmap: str = "gray", symmetric: bool = False) -> None:
    """A matrix with its numbers when it is small (plots.show_matrix), as an image otherwise."""
    if max(a.shape) <= _NUMBERS_UP_TO:
        plots.show_matrix(a, ax=ax, fmt="{:.3g}", cmap="Blues")
    else:
        lim = float(np.abs(a).max()) or 1.0
        ax.imshow(a, cmap=cmap, vmin=-lim if symmetric else None, vmax=lim if symmetric else None, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title(title, fontsize=11)


def _html(lines: Sequence[str]) -> str:
    body = "<br>".join(lines)
    return f'<div style="font-family: var(--jp-code-font-family, monospace); line-height: 1.6">{body}</div>'


def _error_html(message: str) -> str:
    text = html.escape(message, quote=False)
    return f'<div style="color: #b00020; line-height: 1.6"><b>Cannot show this setting:</b> {text}</div>'


def _short(text: str) -> str:
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 1] + "\u2026"


def _shape(a: np.ndarray) -> str:
    return "x".join(str(d) for d in a.shape)


# ---------------------------------------------------------------------------
# The explorers
# ---------------------------------------------------------------------------

_STYLE = {"description_width": "initial"}


def _int_slider(description: str, value: int, lo: int, hi: int) -> ipywidgets.IntSlider:
    return ipywidgets.IntSlider(value=value, min=lo, max=hi, description=description, style=_STYLE)


def _row(*controls: ipywidgets.Widget) -> ipywidgets.HBox:
    return ipywidgets.HBox(list(controls), layout=ipywidgets.Layout(flex_flow="row wrap"))


def _set_max(slider: ipywidgets.IntSlider, hi: int) -> None:
    """Change a slider's maximum (its value is clamped into range by ipywidgets)."""
    if slider.max != hi:
        slider.max = hi


class _Explorer(ipywidgets.VBox):
    """Shared machinery: a row of controls, a picture (``image``) and text (``info``).

    Subclasses build their controls, call :meth:`_start`, and implement
    :meth:`_refresh`, which recomputes and redraws. Invalid settings never raise
    from a callback: ``_refresh`` catches ValueError and shows its message.
    """

    _css = ""

    def __init__(self) -> None:
        super().__init__()
        self.image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="100%", height="auto"))
        self.info = ipywidgets.HTML()
        self._view: Any = None
        self._busy = False
        self.add_class(self._css)

    def _start(self, rows: Sequence[ipywidgets.Widget], controls: Sequence[ipywidgets.Widget]) -> None:
        self.children = [*rows, self.image, self.info]
        for c in controls:
            c.observe(self._on_change, names="value")
        self._on_change(None)

    def _on_change(self, change: Any) -> None:
        if self._busy:  # a change made by _refresh itself (e.g. a slider clamped to a new maximum)
            return
        self._busy = True
        try:
            try:
                self._refresh(change)
            except ValueError as exc:
                self._view = None
                self.info.value = _error_html(str(exc))
                self._draw_fallback()
        finally:
            self._busy = False

    def _refresh(self, change: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _draw_fallback(self) -> None:
        """What the picture shows when the settings are invalid (default: leave it as it was)."""

    @property
    def view(self) -> Any:
        """The current computed state (a frozen dataclass), or None while the settings are invalid."""
        return self._view


def _named_images(images: np.ndarray, labels: np.ndarray | None) -> list[tuple[str, np.ndarray]]:
    return [
        (f"image {i}" + (f" (label {int(labels[i])})" if labels is not None else ""), images[i])
        for i in range(len(images))
    ]


def _mnist_digits() -> list[tuple[str, np.ndarray]]:
    """The first test image of each class 0..9 (loads MNIST from the repository's files)."""
    from .data import load_mnist

    _, (x_test, y_test) = load_mnist()
    out = []
    for digit in range(10):
        i = int(np.flatnonzero(y_test == digit)[0])
        out.append((f"MNIST test #{i}: a {digit}", x_test[i, 0].astype(np.float64)))
    return out


def _test_images() -> list[tuple[str, np.ndarray]]:
    square = np.zeros((7, 7))
    square[2:5, 2:5] = 1.0
    cross = np.zeros((7, 7))
    cross[3, :] = cross[:, 3] = 1.0
    checker = (np.add.outer(np.arange(8), np.arange(8)) % 2).astype(np.float64)
    return [
        ("square (7x7)", square),
        ("diagonal line (7x7)", np.eye(7)),
        ("cross (7x7)", cross),
        ("checkerboard (8x8)", checker),
        # "The Network" (K. Fu), sections 4.4 and 4.3; "Some notes on CNN", the 2x2 filter example
        ("notes: 4x4 image (Fu, zero padding)", np.array([[1, 2, 3, 4], [4, 3, 2, 1], [1, 2, 3, 4], [4, 3, 2, 1]], float)),
        ("notes: 2x2 image (Fu, stride)", np.array([[1, 2], [4, 5]], float)),
        ("notes: 3x4 image (Some notes on CNN)", np.array([[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]], float)),
    ]


class ConvolutionExplorer(_Explorer):
    """Slide a kernel over an image: stride, padding, pad mode, and one output value explained.

    Made by :func:`convolution_explorer`, which documents the arguments.

    Parameters
    ----------
    images : array_like, optional
        ``(N, H, W)`` or ``(N, 1, H, W)`` images offered first; by default ten
        MNIST test digits (one of each class), loaded on construction.
    labels : array_like of int, optional
        One label per image in ``images``, shown in the image list.
    image : int, default 0
        Which entry of the image list to start with.
    kernel : str, default "edge (vertical)"
        A name from :data:`KERNELS`.
    stride, padding : int, default 1 and 0
        Starting stride (1-4) and padding (0-3).
    pad_mode : {"zeros", "edge"}, default "zeros"
        Starting pad mode.

    Attributes
    ----------
    input : ipywidgets.Dropdown
        "image": the input (MNIST digits or the caller's images, then small test images).
    kernel : ipywidgets.Dropdown
        "kernel": identity, edge (vertical), edge (horizontal), blur (box 3x3), sharpen, custom.
    values : ipywidgets.Text
        "values": the kernel's numbers, rows separated by ';'. Typing here switches the kernel to custom.
    stride, padding : ipywidgets.IntSlider
        "stride" (1-4) and "padding" (0-3).
    pad_mode : ipywidgets.Dropdown
        "pad mode": zeros or edge.
    out_row, out_col : ipywidgets.IntSlider
        "out row" and "out col": the output position explained (maximum = output size - 1).
    image : ipywidgets.Image
        The picture: padded input with the window, the kernel, the output with the chosen cell.
    info : ipywidgets.HTML
        The output-size formulas and the chosen value as a sum of products.
    view : ConvolutionView or None
        The current computation.
    """

    _css = "cnnlib-convolution-explorer"

    def __init__(
        self,
        images: Any = None,
        labels: Any = None,
        *,
        image: int = 0,
        kernel: str = "edge (vertical)",
        stride: int = 1,
        padding: int = 0,
        pad_mode: str = "zeros",
    ) -> None:
        where = "convolution_explorer"
        if images is None:
            if labels is not None:
                raise ValueError(f"{where}: labels need images; pass both or neither")
            choices = _mnist_digits()
        else:
            stack = image_stack(images, where)
            choices = _named_images(stack, None if labels is None else class_labels(labels, where, n=len(stack)))
        self._choices = choices + _test_images()
        if kernel not in KERNELS:
            raise ValueError(f"{where}: kernel must be one of {list(KERNELS)}; got {kernel!r}")
        if pad_mode not in ("zeros", "edge"):
            raise ValueError(f"{where}: pad_mode must be 'zeros' or 'edge'; got {pad_mode!r}")
        image = integer(image, "image", where, 0)
        if image >= len(self._choices):
            raise ValueError(f"{where}: image must be an index below {len(self._choices)}; got {image}")
        super().__init__()
        self.input = ipywidgets.Dropdown(
            options=[(name, i) for i, (name, _) in enumerate(self._choices)], value=image, description="image", style=_STYLE
        )
        self.kernel = ipywidgets.Dropdown(options=[*KERNELS, "custom"], value=kernel, description="kernel", style=_STYLE)
        self.values = ipywidgets.Text(
            value=KERNELS[kernel],
            description="values",
            placeholder="1 0 -1; 1 0 -1; 1 0 -1",
            continuous_update=False,
            style=_STYLE,
            layout=ipywidgets.Layout(width="360px"),
        )
        self.stride = _int_slider("stride", integer(stride, "stride", where, 1), 1, 4)
        self.padding = _int_slider("padding", integer(padding, "padding", where, 0), 0, 3)
        self.pad_mode = ipywidgets.Dropdown(options=["zeros", "edge"], value=pad_mode, description="pad mode", style=_STYLE)
        self.out_row = _int_slider("out row", 0, 0, 0)
        self.out_col = _int_slider("out col", 0, 0, 0)
        controls = [self.input, self.kernel, self.values, self.stride, self.padding, self.pad_mode, self.out_row, self.out_col]
        rows = [
            _row(self.input, self.kernel, self.values),
            _row(self.stride, self.padding, self.pad_mode),
            _row(self.out_row, self.out_col),
        ]
        self._start(rows, controls)

    def _current_image(self) -> np.ndarray:
        return self._choices[self.input.value][1]

    def _refresh(self, change: Any) -> None:
        owner = None if change is None else change["owner"]
        if owner is self.kernel and self.kernel.value != "custom":
            self.values.value = KERNELS[self.kernel.value]
        elif owner is self.values and self.kernel.value != "custom" and self.values.value != KERNELS[self.kernel.value]:
            self.kernel.value = "custom"
        x = self._current_image()
        w = parse_kernel(self.values.value)
        s, p = self.stride.value, self.padding.value
        (h, wd), (kh, kw) = x.shape, w.shape
        if kh > h + 2 * p or kw > wd + 2 * p:
            raise ValueError(
                f"the kernel ({kh}x{kw}) is larger than the padded input ({h + 2 * p}x{wd + 2 * p}, padding {p}): "
                "choose a smaller kernel or more padding"
            )
        _set_max(self.out_row, F.conv_output_size(h, kh, s, p) - 1)
        _set_max(self.out_col, F.conv_output_size(wd, kw, s, p) - 1)
        v = convolution_view(x, w, s, p, self.pad_mode.value, self.out_row.value, self.out_col.value)
        self._view = v
        self.info.value = self._text(v)
        self.image.value = self._draw(v)

    @staticmethod
    def _text(v: ConvolutionView) -> str:
        kh, kw = v.kernel.shape
        lines = [
            f"<b>Output size</b> = floor((input + 2{_DOT}padding {_MINUS} kernel) / stride) + 1",
            v.formula_h,
            v.formula_w,
            f"<b>Output at (row {v.row}, col {v.col})</b>: the kernel on rows {v.top}..{v.top + kh - 1}, "
            f"cols {v.left}..{v.left + kw - 1} of the padded input",
        ]
        if v.kernel.size <= 25:
            terms = " + ".join(f"{_factor(a)}{_DOT}{_factor(b)}" for a, b in zip(v.window.ravel(), v.kernel.ravel()))
            lines.append(f"= {terms}")
        lines.append(f"= {_num(v.value)}")
        return _html([html.escape(line, quote=False) if not line.startswith("<b>") else line for line in lines])

    def _draw(self, v: ConvolutionView) -> bytes:
        fig = _figure(12.5, 4.4)
        a1, a2, a3 = fig.subplots(1, 3)
        self._draw_padded(a1, v.image, v.padding, v.pad_mode)
        kh, kw = v.kernel.shape
        _outline(a1, v.top, v.left, kh, kw)
        _matrix_panel(a2, v.kernel, f"kernel {kh}x{kw}")
        _matrix_panel(a3, v.output, f"output {_shape(v.output)} (stride {v.stride})", cmap="RdBu_r", symmetric=True)
        _outline(a3, v.row, v.col, 1, 1)
        fig.tight_layout()
        return _png(fig)

    @staticmethod
    def _draw_padded(ax: Any, x: np.ndarray, p: int, mode: str) -> None:
        padded = F.pad2d(x, p, mode=mode)
        _matrix_panel(ax, padded, f"padded input {_shape(padded)}" + (f" (padding {p}, {mode}: orange)" if p else ""))
        if p:
            border = np.ones(padded.shape, dtype=bool)
            border[p:-p, p:-p] = False
            _shade(ax, border, (1.0, 0.6, 0.0, 0.45))
            _outline(ax, p, p, x.shape[0], x.shape[1], edgecolor="darkorange", linewidth=1.5, linestyle="--")

    def _draw_fallback(self) -> None:
        fig = _figure(5.0, 4.4)
        ax = fig.subplots()
        p = self.padding.value
        self._draw_padded(ax, self._current_image(), p, self.pad_mode.value)
        fig.tight_layout()
        self.image.value = _png(fig)

    def __repr__(self) -> str:
        kernel = self.kernel.value
        if kernel == "custom":
            try:
                kernel = f"custom {_shape(parse_kernel(self.values.value))}"
            except ValueError:
                kernel = "custom (invalid)"
        x = self._current_image()
        out = _shape(self._view.output) if self._view is not None else "invalid"
        return _short(
            f"ConvolutionExplorer(kernel={kernel!r}, stride={self.stride.value}, padding={self.padding.value}, "
            f"mode={self.pad_mode.value!r}): {_shape(x)} -> {out}"
        )


def convolution_explorer(
    images: Any = None,
    labels: Any = None,
    *,
    image: int = 0,
    kernel: str = "edge (vertical)",
    stride: int = 1,
    padding: int = 0,
    pad_mode: str = "zeros",
) -> ConvolutionExplorer:
    """An interactive convolution: choose the image, kernel, stride, padding and one output position.

    The picture shows the padded input (padding shaded orange) with the
    kernel's window outlined, the kernel, and the output feature map with the
    chosen cell outlined; the text shows the output-size formulas with the
    current numbers and the chosen value as a sum of products.

    Parameters
    ----------
    images : array_like, optional
        ``(N, H, W)`` or ``(N, 1, H, W)`` images to offer first. By default the
        first MNIST test image of each digit 0-9 (MNIST is loaded only then).
        Small test images (a square, a line, a cross, a checkerboard and the
        lecture notes' examples) are always offered after them.
    labels : array_like of int, optional
        One label per image in ``images``.
    image : int, default 0
        Position of the starting image in the list.
    kernel : str, default "edge (vertical)"
        Starting kernel, a name from :data:`KERNELS`.
    stride : int, default 1
        Starting stride (the slider goes from 1 to 4).
    padding : int, default 0
        Starting padding (the slider goes from 0 to 3).
    pad_mode : {"zeros", "edge"}, default "zeros"
        Starting pad mode.

    Returns
    -------
    ConvolutionExplorer
        A widget; end a notebook cell with it to show it.

    Examples
    --------
    >>> ex = convolution_explorer(np.eye(6)[None], kernel="identity")
    >>> ex.stride.value = 2
    >>> ex.view.output.shape, ex
    ((2, 2), ConvolutionExplorer(kernel='identity', stride=2, padding=0, mode='zeros'): 6x6 -> 2x2)
    """
    return ConvolutionExplorer(images, labels, image=image, kernel=kernel, stride=stride, padding=padding, pad_mode=pad_mode)


def _pooling_images() -> list[tuple[str, np.ndarray]]:
    ints = np.random.default_rng(0).integers(0, 10, size=(8, 8)).astype(np.float64)
    example = np.array([[1, 9, 2, 4], [3, 5, 8, 6], [-1, 0, 7, -2], [-3, -4, 1, 3]], dtype=np.float64)
    tests = dict(_test_images())
    return [
        ("integers 8x8", ints),
        ("example 4x4", example),
        ("square (7x7)", tests["square (7x7)"]),
        ("checkerboard (8x8)", tests["checkerboard (8x8)"]),
    ]


_MNIST_CHOICE = "MNIST test digit #0"


class PoolingExplorer(_Explorer):
    """Max or average pooling: window, stride (overlapping windows when stride < window), one output explained.

    Made by :func:`pooling_explorer`, which documents the arguments.

    Parameters
    ----------
    images : array_like, optional
        ``(N, H, W)`` or ``(N, 1, H, W)`` images offered first. By default an
        8x8 image of small integers comes first, and an MNIST digit is offered
        (loaded only when chosen).
    image : int, default 0
        Which entry of the image list to start with.
    pool : {"max", "average"}, default "max"
        Starting pooling.
    window, stride : int, default 2
        Starting window size and stride (sliders from 1 to 4).

    Attributes
    ----------
    input : ipywidgets.Dropdown
        "image": the input.
    pool : ipywidgets.Dropdown
        "pool": max or average.
    window, stride : ipywidgets.IntSlider
        "window" and "stride" (1-4).
    out_row, out_col : ipywidgets.IntSlider
        "out row" and "out col": the output position explained.
    image : ipywidgets.Image
        The picture: the input with the chosen window (and, for max pooling, its
        winning cell), and the output with the chosen cell.
    info : ipywidgets.HTML
        The output-size formulas and the window's values and result.
    view : PoolingView or None
        The current computation.
    """

    _css = "cnnlib-pooling-explorer"

    def __init__(self, images: Any = None, *, image: int = 0, pool: str = "max", window: int = 2, stride: int = 2) -> None:
        where = "pooling_explorer"
        self._choices: list[tuple[str, np.ndarray | None]]
        if images is None:
            self._choices = [*_pooling_images(), (_MNIST_CHOICE, None)]  # None: load MNIST when chosen
        else:
            stack = image_stack(images, where)
            self._choices = [*_named_images(stack, None), *_pooling_images()]
        image = integer(image, "image", where, 0)
        if image >= len(self._choices):
            raise ValueError(f"{where}: image must be an index below {len(self._choices)}; got {image}")
        if pool not in ("max", "average"):
            raise ValueError(f"{where}: pool must be 'max' or 'average'; got {pool!r}")
        super().__init__()
        self.input = ipywidgets.Dropdown(
            options=[(name, i) for i, (name, _) in enumerate(self._choices)], value=image, description="image", style=_STYLE
        )
        self.pool = ipywidgets.Dropdown(options=["max", "average"], value=pool, description="pool", style=_STYLE)
        self.window = _int_slider("window", integer(window, "window", where, 1), 1, 4)
        self.stride = _int_slider("stride", integer(stride, "stride", where, 1), 1, 4)
        self.out_row = _int_slider("out row", 0, 0, 0)
        self.out_col = _int_slider("out col", 0, 0, 0)
        controls = [self.input, self.pool, self.window, self.stride, self.out_row, self.out_col]
        rows = [_row(self.input, self.pool), _row(self.window, self.stride), _row(self.out_row, self.out_col)]
        self._start(rows, controls)

    def _current_image(self) -> np.ndarray:
        i = self.input.value
        name, x = self._choices[i]
        if x is None:  # the MNIST digit, loaded on first use
            from .data import load_mnist

            try:
                _, (x_test, _) = load_mnist()
            except Exception as exc:  # missing or damaged files: say so in the text, do not raise from a callback
                raise ValueError(f"could not load MNIST: {exc}") from exc
            x = x_test[0, 0].astype(np.float64)
            self._choices[i] = (name, x)
        return x

    def _refresh(self, change: Any) -> None:
        x = self._current_image()
        k, s = self.window.value, self.stride.value
        h, w = x.shape
        if k > min(h, w):
            raise ValueError(f"the window ({k}x{k}) is larger than the image ({h}x{w}): choose a smaller window")
        _set_max(self.out_row, F.conv_output_size(h, k, s) - 1)
        _set_max(self.out_col, F.conv_output_size(w, k, s) - 1)
        v = pooling_view(x, self.pool.value, k, s, self.out_row.value, self.out_col.value)
        self._view = v
        self.info.value = self._text(v)
        self.image.value = self._draw(v)

    @staticmethod
    def _text(v: PoolingView) -> str:
        k, s = v.window, v.stride
        lines = [
            html.escape(f"Output size = floor((input {_MINUS} window) / stride) + 1 (no padding)", quote=False),
            v.formula_h,
            v.formula_w,
        ]
        if s < k:
            lines.append(f"stride {s} &lt; window {k}: neighbouring windows overlap and share cells")
        elif s > k:
            lines.append(f"stride {s} &gt; window {k}: some cells lie in no window and are never looked at (grey)")
        values = ", ".join(_num(a) for a in v.patch.ravel())
        lines.append(
            f"<b>Output at (row {v.row}, col {v.col})</b>: window rows {v.top}..{v.top + k - 1}, "
            f"cols {v.left}..{v.left + k - 1}: [{values}]"
        )
        if v.pool == "max":
            assert v.winner is not None
            lines.append(f"max = {_num(v.value)} (at input row {v.winner[0]}, col {v.winner[1]})")
        else:
            lines.append(f"mean = ({' + '.join(_num(a) for a in v.patch.ravel())}) / {k * k} = {_num(v.value)}")
        return _html(lines)

    @staticmethod
    def _draw(v: PoolingView) -> bytes:
        fig = _figure(10.0, 4.6)
        a1, a2 = fig.subplots(1, 2)
        _matrix_panel(a1, v.image, f"input {_shape(v.image)}, {v.pool} pooling {v.window}x{v.window}, stride {v.stride}")
        _shade(a1, ~v.covered, (0.5, 0.5, 0.5, 0.6))
        oh, ow = v.output.shape
        if v.stride < v.window and (ow > 1 or oh > 1):  # show a neighbouring window to make the overlap visible
            if ow > 1:
                r, c = v.row, (v.col + 1 if v.col + 1 < ow else v.col - 1)
            else:
                r, c = (v.row + 1 if v.row + 1 < oh else v.row - 1), v.col
            _outline(a1, r * v.stride, c * v.stride, v.window, v.window, edgecolor="royalblue", linewidth=2, linestyle="--")
        _outline(a1, v.top, v.left, v.window, v.window)
        if v.winner is not None:
            _outline(a1, v.winner[0] + 0.12, v.winner[1] + 0.12, 0.76, 0.76, edgecolor="gold", linewidth=3)
        _matrix_panel(a2, v.output, f"output {_shape(v.output)}")
        _outline(a2, v.row, v.col, 1, 1)
        fig.tight_layout()
        return _png(fig)

    def _draw_fallback(self) -> None:
        try:
            x = self._current_image()
        except ValueError:  # no image to show (MNIST missing): leave the picture as it was
            return
        fig = _figure(5.0, 4.6)
        _matrix_panel(fig.subplots(), x, f"input {_shape(x)}")
        fig.tight_layout()
        self.image.value = _png(fig)

    def __repr__(self) -> str:
        i = self.input.value
        x = self._choices[i][1]
        size = _shape(x) if x is not None else "28x28"
        out = _shape(self._view.output) if self._view is not None else "invalid"
        return _short(
            f"PoolingExplorer(pool={self.pool.value!r}, window={self.window.value}, stride={self.stride.value}): "
            f"{size} -> {out}"
        )


def pooling_explorer(
    images: Any = None, *, image: int = 0, pool: str = "max", window: int = 2, stride: int = 2
) -> PoolingExplorer:
    """An interactive pooling: max or average, window and stride, one output position explained.

    The picture shows the input with the chosen window outlined in red (a
    neighbouring window dashed in blue when windows overlap, cells no window
    reaches in grey, the winning cell of max pooling in gold) and the output
    with the chosen cell outlined; the text shows the output-size formulas and
    the window's values and result.

    Parameters
    ----------
    images : array_like, optional
        ``(N, H, W)`` or ``(N, 1, H, W)`` images to offer first. By default an
        8x8 image of small integers (numbers written in the cells) comes first;
        small test images follow, and an MNIST digit when ``images`` is None.
    image : int, default 0
        Position of the starting image in the list.
    pool : {"max", "average"}, default "max"
        Starting pooling.
    window : int, default 2
        Starting window size (the slider goes from 1 to 4).
    stride : int, default 2
        Starting stride (1 to 4); smaller than the window means overlapping windows.

    Returns
    -------
    PoolingExplorer
        A widget; end a notebook cell with it to show it.

    Examples
    --------
    >>> ex = pooling_explorer()
    >>> ex
    PoolingExplorer(pool='max', window=2, stride=2): 8x8 -> 4x4
    >>> ex.window.value = 3
    >>> ex.stride.value = 1
    >>> ex.view.output.shape, ex.out_row.max
    ((6, 6), 5)
    """
    return PoolingExplorer(images, image=image, pool=pool, window=window, stride=stride)


_COLORS = {"sigmoid": "tab:blue", "tanh": "tab:orange", "relu": "tab:green"}


class ActivationExplorer(_Explorer):
    """Sigmoid, tanh and ReLU with their derivatives over an adjustable range, and their values at a probe point.

    Made by :func:`activation_explorer`.

    Parameters
    ----------
    x_range : (float, float), default (-6.0, 6.0)
        Starting input range (the slider spans -10 to 10).
    x : float, default 1.0
        Starting probe point.

    Attributes
    ----------
    functions : ipywidgets.SelectMultiple
        "functions": which of sigmoid, tanh, ReLU to draw (values ``"sigmoid"``, ``"tanh"``, ``"relu"``).
    x_range : ipywidgets.FloatRangeSlider
        "x range": the inputs drawn.
    x : ipywidgets.FloatSlider
        "x": the probe point (kept inside the range).
    image : ipywidgets.Image
        Two panels: the functions and their derivatives.
    info : ipywidgets.HTML
        f(x) and f'(x) at the probe point, to 4 decimals.
    view : ActivationView or None
        The current computation.
    """

    _css = "cnnlib-activation-explorer"

    def __init__(self, x_range: tuple[float, float] = (-6.0, 6.0), x: float = 1.0) -> None:
        lo, hi = (float(v) for v in x_range)
        if not -10.0 <= lo < hi <= 10.0:
            raise ValueError(f"activation_explorer: x_range must satisfy -10 <= low < high <= 10; got {x_range!r}")
        if not lo <= float(x) <= hi:
            raise ValueError(f"activation_explorer: x must lie in x_range {x_range!r}; got {x!r}")
        super().__init__()
        self.functions = ipywidgets.SelectMultiple(
            options=[(_ACTIVATIONS[k][0], k) for k in _ACTIVATIONS],
            value=tuple(_ACTIVATIONS),
            rows=3,
            description="functions",
            style=_STYLE,
        )
        self.x_range = ipywidgets.FloatRangeSlider(
            value=(lo, hi), min=-10.0, max=10.0, step=0.5, description="x range", style=_STYLE
        )
        self.x = ipywidgets.FloatSlider(value=float(x), min=lo, max=hi, step=0.05, description="x", style=_STYLE)
        controls = [self.functions, self.x_range, self.x]
        self._start([_row(self.functions, ipywidgets.VBox([self.x_range, self.x]))], controls)

    def _refresh(self, change: Any) -> None:
        lo, hi = self.x_range.value
        if self.x.min != lo or self.x.max != hi:
            if lo < hi:  # keep the probe's slider inside the range (min before max, or max before min)
                if lo > self.x.max:
                    self.x.max, self.x.min = hi, lo
                else:
                    self.x.min, self.x.max = lo, hi
        v = activation_view(self.functions.value, (lo, hi), self.x.value)
        self._view = v
        lines = [f"at x = {v.x:.4f}:"]
        for k in v.functions:
            f, d = v.at_x[k]
            name = _ACTIVATIONS[k][0]
            lines.append(f"{name}: f(x) = {f:.4f}, f'(x) = {d:.4f}")
        self.info.value = _html([html.escape(line, quote=False) for line in lines])
        self.image.value = self._draw(v)

    @staticmethod
    def _draw(v: ActivationView) -> bytes:
        fig = _figure(11.0, 4.0)
        a1, a2 = fig.subplots(1, 2)
        for k in v.functions:
            name, color = _ACTIVATIONS[k][0], _COLORS[k]
            f, d = v.at_x[k]
            a1.plot(v.xs, v.values[k], color=color, label=name)
            a1.plot([v.x], [f], "o", color=color)
            a2.plot(v.xs, v.derivatives[k], color=color, label=name)
            a2.plot([v.x], [d], "o", color=color)
        for ax, title, ylabel in ((a1, "activation f(x)", "f(x)"), (a2, "derivative f'(x)", "f'(x)")):
            ax.axvline(v.x, color="gray", linestyle="--", linewidth=1)
            ax.axhline(0, color="black", linewidth=0.5)
            ax.set_xlim(v.xs[0], v.xs[-1])
            ax.set_xlabel("x")
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            ax.grid(alpha=0.3)
            ax.legend(loc="upper left")
        fig.tight_layout()
        return _png(fig)

    def __repr__(self) -> str:
        names = [_ACTIVATIONS[k][0] for k in self.functions.value]
        lo, hi = self.x_range.value
        return _short(f"ActivationExplorer(functions={names}, x_range=({lo:g}, {hi:g}), x={round(self.x.value, 4):g})")


def activation_explorer(x_range: tuple[float, float] = (-6.0, 6.0), x: float = 1.0) -> ActivationExplorer:
    """Interactive activation functions: sigmoid, tanh and ReLU and their derivatives.

    Parameters
    ----------
    x_range : (float, float), default (-6.0, 6.0)
        Starting input range; the slider spans -10 to 10.
    x : float, default 1.0
        Starting probe point, where f(x) and f'(x) are printed.

    Returns
    -------
    ActivationExplorer
        A widget; end a notebook cell with it to show it.

    Examples
    --------
    >>> ex = activation_explorer()
    >>> ex
    ActivationExplorer(functions=['sigmoid', 'tanh', 'ReLU'], x_range=(-6, 6), x=1)
    >>> round(ex.view.at_x["sigmoid"][1], 4)
    0.1966
    """
    return ActivationExplorer(x_range=x_range, x=x)


class BatchNormExplorer(_Explorer):
    """A batch's per-channel distributions before and after batch normalization.

    Made by :func:`batchnorm_explorer`. ``gamma`` and ``beta`` are one pair
    shared by all channels. The running statistics come from ``steps`` earlier
    training batches (the same batch again, so their approach to the batch's
    statistics is easy to follow, see :func:`batchnorm_view`).

    Parameters
    ----------
    seed : int, default 0
        Seed of the synthetic batch (256 values for each of 3 channels).

    Attributes
    ----------
    gamma, beta : ipywidgets.FloatSlider
        "gamma" (0-3) and "beta" (-3 to 3).
    mode : ipywidgets.ToggleButtons
        "mode": training or inference.
    steps : ipywidgets.IntSlider
        "steps": training batches seen before (0-60), which set the running statistics.
    image : ipywidgets.Image
        Histograms of each channel before and after, on one shared axis.
    info : ipywidgets.HTML
        A table of each channel's mean and standard deviation before and after, and the running statistics.
    view : BatchNormView or None
        The current computation.
    """

    _css = "cnnlib-batchnorm-explorer"

    def __init__(self, seed: int = 0) -> None:
        self._x = synthetic_batch(seed=seed)
        super().__init__()
        self.gamma = ipywidgets.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.05, description="gamma", style=_STYLE)
        self.beta = ipywidgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description="beta", style=_STYLE)
        self.mode = ipywidgets.ToggleButtons(
            options=["training", "inference"], value="training", description="mode", style=_STYLE
        )
        self.steps = _int_slider("steps", 0, 0, 60)
        controls = [self.gamma, self.beta, self.mode, self.steps]
        self._start([_row(self.gamma, self.beta), _row(self.mode, self.steps)], controls)

    def _refresh(self, change: Any) -> None:
        v = batchnorm_view(self._x, self.gamma.value, self.beta.value, self.mode.value == "training", self.steps.value)
        self._view = v
        self.info.value = self._text(v)
        self.image.value = self._draw(v)

    @staticmethod
    def _text(v: BatchNormView) -> str:
        if v.training:
            how = "training mode: each channel is normalised with this batch's own mean and variance"
        else:
            how = (
                f"inference mode: each channel is normalised with the running estimates after {v.steps} "
                "training batch(es)" + (" - still the initial mean 0 and variance 1" if v.steps == 0 else "")
            )
        head = "".join(
            f"<th style='padding: 0 8px'>{h}</th>"
            for h in ("channel", "mean before", "std before", "mean after", "std after", "running mean", "running var")
        )
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td style='padding: 0 8px; text-align: right'>{t}</td>"
                for t in (
                    str(c),
                    _fixed(v.mean_before[c]),
                    _fixed(v.std_before[c]),
                    _fixed(v.mean_after[c]),
                    _fixed(v.std_after[c]),
                    _fixed(v.running_mean[c]),
                    _fixed(v.running_var[c]),
                )
            )
            + "</tr>"
            for c in range(v.x.shape[1])
        )
        formula = f"y = gamma {_DOT} (x {_MINUS} mean) / sqrt(var + eps) + beta, gamma = {v.gamma:.2f}, beta = {v.beta:.2f}"
        return _html([html.escape(formula, quote=False), html.escape(how, quote=False), f"<table><tr>{head}</tr>{rows}</table>"])

    @staticmethod
    def _draw(v: BatchNormView) -> bytes:
        fig = _figure(11.0, 3.8)
        a1, a2 = fig.subplots(1, 2, sharex=True)
        lo = float(min(v.x.min(), v.y.min()))
        hi = float(max(v.x.max(), v.y.max()))
        bins = np.linspace(lo, hi, 61)
        for c in range(v.x.shape[1]):
            color = f"C{c}"
            for ax, data in ((a1, v.x[:, c]), (a2, v.y[:, c])):
                ax.hist(data, bins=bins, color=color, alpha=0.5, histtype="stepfilled", label=f"channel {c}")
        a1.set_title("before: the batch")
        a2.set_title("after batch norm (" + ("batch statistics)" if v.training else f"running statistics, {v.steps} steps)"))
        for ax in (a1, a2):
            ax.set_xlabel("value")
            ax.set_ylabel("count")
            ax.legend(loc="upper right", fontsize=9)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        return _png(fig)

    def __repr__(self) -> str:
        return _short(
            f"BatchNormExplorer(gamma={round(self.gamma.value, 4)}, beta={round(self.beta.value, 4)}, "
            f"mode={self.mode.value!r}, steps={self.steps.value})"
        )


def batchnorm_explorer(seed: int = 0) -> BatchNormExplorer:
    """Interactive batch normalization: gamma, beta, training or inference mode, and the running statistics.

    A synthetic batch (256 values for each of 3 channels, each channel with its
    own mean and spread) is normalised by :class:`cnnlib.BatchNorm1d`; the
    picture shows each channel's histogram before and after, the text each
    channel's mean and standard deviation and the running estimates. In
    inference mode with 0 steps the running estimates are still mean 0 and
    variance 1, so the data is hardly changed: running statistics need training.

    Parameters
    ----------
    seed : int, default 0
        Seed of the synthetic batch.

    Returns
    -------
    BatchNormExplorer
        A widget; end a notebook cell with it to show it.

    Examples
    --------
    >>> ex = batchnorm_explorer()
    >>> ex.mode.value = "inference"
    >>> ex.view.running_mean, ex
    (array([0., 0., 0.]), BatchNormExplorer(gamma=1.0, beta=0.0, mode='inference', steps=0))
    """
    return BatchNormExplorer(seed=seed)


class ModelExplorer(_Explorer):
    """A network's inside for one image: the feature maps of every stage and the predicted probabilities.

    Made by :func:`model_explorer`, which documents the arguments.

    Parameters
    ----------
    model : Sequential
        The network.
    images : array_like, (N, 1, H, W) or (N, H, W)
        The images to choose from.
    labels : array_like of int, optional
        Their true classes.
    max_maps : int, default 8
        Show at most this many channels of each stage.

    Attributes
    ----------
    digit : ipywidgets.IntSlider
        "digit": which image (0 .. N-1).
    image : ipywidgets.Image
        The input and the probabilities, then one row of feature maps per convolution, activation and pooling layer.
    info : ipywidgets.HTML
        The predicted class and its probability, the true label and whether the prediction is right.
    view : ModelView or None
        The current computation.
    """

    _css = "cnnlib-model-explorer"

    def __init__(self, model: Sequential, images: Any, labels: Any = None, max_maps: int = 8) -> None:
        where = "model_explorer"
        if not isinstance(model, Sequential):
            raise ValueError(f"{where}: model must be a cnnlib Sequential (e.g. cnnlib.mnist_cnn()); got {type(model).__name__}")
        a = np.asarray(images)
        if not (a.ndim == 3 or (a.ndim == 4 and a.shape[1] == 1)) or a.shape[0] == 0:
            raise ValueError(f"{where}: expected images of shape (N, 1, H, W) or (N, H, W) with N >= 1; got shape {a.shape}")
        self._images = image_stack(a, where)
        self._labels = None if labels is None else class_labels(labels, where, n=len(self._images))
        self._max_maps = integer(max_maps, "max_maps", where, 1)
        self._model = model
        first = model_view(model, self._images[0])  # fails here, with a clear message, if the model does not fit the images
        self._n_stages = len(first.stages)
        super().__init__()
        self.digit = _int_slider("digit", 0, 0, len(self._images) - 1)
        self.digit.continuous_update = False  # one redraw (about a second) when the slider is let go, not one per step
        self._start([_row(self.digit)], [self.digit])

    def _refresh(self, change: Any) -> None:
        i = self.digit.value
        label = None if self._labels is None else int(self._labels[i])
        v = model_view(self._model, self._images[i], label)
        self._view = v
        lines = [f"image {i}: predicted <b>{v.predicted}</b> with probability {v.probability:.4f}"]
        if v.label is not None:
            lines.append(f"true label {v.label}: " + ("right" if v.correct else "<b>wrong</b>"))
        self.info.value = _html(lines)
        self.image.value = self._draw(v)

    def _draw(self, v: ModelView) -> bytes:
        k = self._max_maps
        width = max(1.1 * k, 7.0)
        top_h, row_h = 2.6, 1.1 * width / max(k, 6) + 0.45  # a row of maps: their width plus room for the titles
        fig = _figure(width, top_h + row_h * len(v.stages))
        subs = fig.subfigures(1 + len(v.stages), 1, height_ratios=[top_h] + [row_h] * len(v.stages))
        subs = np.atleast_1d(subs)
        a_in, a_p = subs[0].subplots(1, 2, width_ratios=[1, 3])
        subs[0].subplots_adjust(left=0.03, right=0.98, bottom=0.2, top=0.88, wspace=0.25)
        a_in.imshow(v.image, cmap="gray")
        a_in.set_title("input" + (f" (label {v.label})" if v.label is not None else ""), fontsize=10)
        a_in.axis("off")
        classes = np.arange(len(v.probabilities))
        bars = a_p.bar(classes, v.probabilities, color="lightsteelblue")
        bars[v.predicted].set_color("tab:green" if v.correct in (True, None) else "tab:red")
        a_p.set_xticks(classes)
        a_p.set_ylim(0, 1)
        a_p.set_xlabel("class")
        a_p.set_ylabel("probability")
        a_p.set_title(f"softmax probabilities: predicted {v.predicted} ({v.probability:.2f})", fontsize=10)
        for sub, (name, maps) in zip(subs[1:], v.stages):
            shown = maps[:k]
            title = f"{name}: {maps.shape[0]} maps {maps.shape[1]}x{maps.shape[2]}"
            if maps.shape[0] > k:
                title += f" (first {k} shown)"
            plots.show_feature_maps(shown, ncols=k, fig=sub)
            sub.suptitle(title, fontsize=10)
            sub.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.45 / row_h, wspace=0.1)
        return _png(fig)

    def __repr__(self) -> str:
        return _short(
            f"ModelExplorer(digit={self.digit.value}, images={len(self._images)}, "
            f"stages={self._n_stages}, max_maps={self._max_maps})"
        )


def model_explorer(model: Sequential, images: Any, labels: Any = None, max_maps: int = 8) -> ModelExplorer:
    """Look inside a network: choose an image, see every stage's feature maps and the predicted probabilities.

    The model runs in inference mode on a batch of one image. Each
    convolution, activation and pooling layer gives one row of feature maps
    (each map on its own colour scale, see :func:`cnnlib.plots.show_feature_maps`).

    Parameters
    ----------
    model : Sequential
        A cnnlib network ending in class scores, e.g. :func:`cnnlib.mnist_cnn` (trained or not).
    images : array_like, (N, 1, H, W) or (N, H, W)
        The images to choose from (a handful of test digits is plenty).
    labels : array_like of int, optional
        Their true classes, to say whether each prediction is right.
    max_maps : int, default 8
        Show at most this many channels of each stage.

    Returns
    -------
    ModelExplorer
        A widget; end a notebook cell with it to show it.

    Raises
    ------
    ValueError
        If the model is not a Sequential, the images do not have one of the
        shapes above, the labels are not one per image, or the model cannot
        classify the images.
    """
    return ModelExplorer(model, images, labels=labels, max_maps=max_maps)


class LearningCurveMonitor(ipywidgets.VBox):
    """Learning curves that redraw after every epoch: pass it to :func:`cnnlib.fit` as ``callback``.

    ``monitor = widgets.LearningCurveMonitor(epochs=6)``, show it
    (``display(monitor)``), then ``fit(..., epochs=6, callback=monitor)``. After
    each epoch the loss and accuracy curves are redrawn (the x axis always spans
    all planned epochs, so the plot grows) and the text gives the latest numbers.

    Parameters
    ----------
    epochs : int
        The number of epochs the training will run (the width of the x axis).
    title : str, optional
        Title of the figure.

    Attributes
    ----------
    image : ipywidgets.Image
        The learning curves.
    info : ipywidgets.HTML
        "epoch 3/6: loss 0.0412, train acc 98.71 %, test acc 98.90 %".
    view : LearningCurveView or None
        The history shown so far (None before the first epoch).
    """

    def __init__(self, epochs: int, title: str | None = None) -> None:
        self.epochs = integer(epochs, "epochs", "LearningCurveMonitor", 1)
        self.title = title
        super().__init__()
        self.image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="100%", height="auto"))
        self.info = ipywidgets.HTML(_html([f"waiting for epoch 1/{self.epochs}"]))
        self._view: LearningCurveView | None = None
        self.children = [self.info, self.image]
        self.add_class("cnnlib-learning-curve-monitor")
        self.image.value = self._draw(None)

    @property
    def view(self) -> LearningCurveView | None:
        """The history shown so far, or None before the first epoch."""
        return self._view

    def __call__(self, epoch: int, history: Any) -> None:
        """Redraw after an epoch: ``epoch`` counts from 0 (as :func:`cnnlib.fit` passes it).

        Parameters
        ----------
        epoch : int
            The epoch just finished, 0-based.
        history : History or mapping
            The training history so far (lists ``loss``, ``accuracy`` and
            optionally ``val_loss``, ``val_accuracy``).
        """
        try:
            h = history if isinstance(history, Mapping) else history.as_dict()
            lists = {k: tuple(float(v) for v in h.get(k, ())) for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
            if not lists["loss"] or len(lists["accuracy"]) != len(lists["loss"]):
                raise ValueError("the history has no complete epoch (lists 'loss' and 'accuracy')")
            done = int(epoch) + 1
        except (AttributeError, TypeError, ValueError) as exc:  # never break a training run over a plot
            self.info.value = _error_html(f"LearningCurveMonitor: {exc}")
            return
        self._view = LearningCurveView(epoch=done, epochs=self.epochs, **lists)
        text = f"epoch {done}/{self.epochs}: loss {lists['loss'][-1]:.4f}, train acc {100 * lists['accuracy'][-1]:.2f} %"
        if lists["val_accuracy"]:
            text += f", test acc {100 * lists['val_accuracy'][-1]:.2f} %"
        self.info.value = _html([text])
        self.image.value = self._draw(lists)

    def _draw(self, lists: dict[str, tuple[float, ...]] | None) -> bytes:
        fig = _figure(10.0, 3.6)
        a1, a2 = fig.subplots(1, 2)
        n = self.epochs
        if lists is not None:
            plots.plot_learning_curves({k: list(v) for k, v in lists.items()}, axes=(a1, a2), title=self.title)
            n = max(n, len(lists["loss"]))
        else:
            for ax, label in ((a1, "cross-entropy loss"), (a2, "accuracy")):
                ax.set_xlabel("epoch")
                ax.set_ylabel(label)
                ax.set_title(label.capitalize() + " per epoch")
                ax.text(0.5, 0.5, "waiting for the first epoch", ha="center", va="center", transform=ax.transAxes, color="gray")
                ax.set_yticks([])
        for ax in (a1, a2):
            ax.set_xlim(0.5, n + 0.5)
            ax.set_xticks(range(1, n + 1) if n <= 20 else np.linspace(1, n, 10).round().astype(int))
        fig.tight_layout()
        return _png(fig)

    def __repr__(self) -> str:
        done = 0 if self._view is None else self._view.epoch
        state = f"epoch {done}/{self.epochs}" if done else f"waiting for epoch 1/{self.epochs}"
        return _short(f"LearningCurveMonitor(epochs={self.epochs}): {state}")
