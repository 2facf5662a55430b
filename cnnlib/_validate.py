"""Every argument check of the library, each written once.

Every public function and layer runs its inputs through these helpers, so that a
mistake (a wrong shape, a NaN, a string where a number belongs) stops with a
message that names the argument, says what was expected and what was given,
instead of a silent wrong answer or an IndexError deep inside NumPy.

Each helper takes ``where`` (the public function or layer method the user
called, e.g. ``"conv2d"`` or ``"Conv2d.forward"``), which starts the message.
The course tooling (plots, widgets, checks) uses the same helpers.
"""

from __future__ import annotations

import numbers
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np

__all__ = ["NonFiniteError"]

Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
PAD_MODES = ("zeros", "edge")


class NonFiniteError(ValueError):
    """Raised when an array that must be finite contains NaN or infinity."""


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------


def is_int(value: Any) -> bool:
    """True for a Python or NumPy integer, but not for a bool (``True`` is not a size)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def integer(value: Any, name: str, where: str, minimum: int | None = None) -> int:
    """Return ``value`` as an int, raising ValueError unless it is an integer >= ``minimum``."""
    if not is_int(value) or (minimum is not None and value < minimum):
        want = "an integer" if minimum is None else ("a positive integer" if minimum == 1 else f"an integer >= {minimum}")
        raise ValueError(f"{where}: {name} must be {want}; got {value!r}")
    return int(value)


def positive_int(value: Any, name: str, where: str) -> int:
    """Return ``value`` as an int, raising a clear error unless it is a positive integer."""
    return integer(value, name, where, minimum=1)


def real_number(value: Any, name: str, where: str) -> float:
    """Return ``value`` as a float, raising a clear error unless it is a finite real number (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{where}: {name} must be a finite real number; got {value!r}")
    return float(value)


def pair(value: Any, name: str, where: str, minimum: int = 1) -> tuple[int, int]:
    """Turn an int or a pair of ints into a ``(height, width)`` tuple of ints >= minimum."""
    if is_int(value):
        out = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        out = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{where}: {name} must be an int or a pair of ints (height, width); got {value!r}")
    if min(out) < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}; got {value!r}")
    return out


# --------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------


def as_float_array(x: Any, name: str, where: str) -> np.ndarray:
    """Return ``x`` as a floating-point array.

    Floating arrays keep their dtype (float32 stays float32); integers and
    booleans become float64 so that the lecture notes' integer examples work.
    Anything else (strings, objects, complex numbers) is rejected.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy raises many kinds
        raise TypeError(f"{where}: {name} must be array-like numbers; got {type(x).__name__}") from exc
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    raise TypeError(
        f"{where}: {name} must hold real numbers (float or int); got dtype {arr.dtype}"
        + (f" from {type(x).__name__}" if not isinstance(x, np.ndarray) else "")
    )


def check_finite(x: np.ndarray, name: str, where: str) -> None:
    """Raise :class:`NonFiniteError` if ``x`` holds NaN or +-inf.

    Summing first is much cheaper than building a boolean mask, and the sum of
    finite numbers is only non-finite in the (rare) overflow case, which the
    exact elementwise test then settles.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # a huge but finite sum may overflow; settled below
        if x.size == 0 or np.isfinite(np.sum(x)):
            return
    bad = ~np.isfinite(x)
    if bad.any():
        n_nan = int(np.isnan(x).sum())
        n_inf = int(bad.sum()) - n_nan
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NonFiniteError(
            f"{where}: {name} must be finite, but it contains {n_nan} NaN and {n_inf} infinite "
            f"value(s) (first at index {first}). Check the data, or lower the learning rate "
            "if this appeared during training."
        )


class _LayerChecks:
    """Whether layers check their inputs and upstream gradients for NaN and infinity (see :func:`inner_layers_trusted`)."""

    finite = True


@contextmanager
def inner_layers_trusted() -> Iterator[None]:
    """Within this block, layers skip the NaN/inf check of their inputs and upstream gradients.

    Only the training runner (:mod:`cnnlib.training`) uses it, for the layers
    after the first: they receive numbers that cnnlib computed from checked ones,
    which can only stop being finite through overflow, and the runner checks the
    model's output once instead. A layer used on its own, or in a hand-written
    loop, always checks.
    """
    previous = _LayerChecks.finite
    _LayerChecks.finite = False
    try:
        yield
    finally:
        _LayerChecks.finite = previous


def check_finite_layer_input(x: np.ndarray, name: str, where: str) -> None:
    """:func:`check_finite` for a layer's input or upstream gradient, unless :func:`inner_layers_trusted` is active."""
    if _LayerChecks.finite:
        check_finite(x, name, where)


def finite_float_array(x: Any, name: str, where: str) -> np.ndarray:
    """:func:`as_float_array` followed by :func:`check_finite`."""
    x = as_float_array(x, name, where)
    check_finite(x, name, where)
    return x


def check_ndim(x: np.ndarray, ndims: Sequence[int], name: str, where: str, layout: str) -> None:
    """Raise ValueError unless ``x.ndim`` is one of ``ndims``."""
    if x.ndim not in ndims:
        want = " or ".join(str(n) for n in ndims)
        raise ValueError(
            f"{where}: expected {name} with {want} dimensions {layout}; "
            f"got shape {tuple(x.shape)} ({x.ndim} dimension{'s' if x.ndim != 1 else ''})"
        )


def check_shape(a: np.ndarray, expected: tuple[int, ...], name: str, where: str, what: str) -> np.ndarray:
    """Raise ValueError unless ``a.shape == expected``; ``what`` says why that shape (e.g. "the output's shape")."""
    if a.shape != tuple(expected):
        raise ValueError(f"{where}: expected {name} of shape {tuple(expected)} ({what}); got {a.shape}")
    return a


def upstream_gradient(dy: Any, expected: tuple[int, ...], where: str, check: bool = True) -> np.ndarray:
    """The upstream gradient ``dy``: floats, shaped like the forward output, finite (unless ``check`` is False)."""
    dy = as_float_array(dy, "dy", where)
    check_shape(dy, expected, "dy", where, "the output's shape")
    if check:
        check_finite(dy, "dy", where)
    return dy


def check_axis(x: np.ndarray, axis: Any, where: str) -> int:
    """Return ``axis`` as an int, raising unless it names an axis of ``x``."""
    if not is_int(axis):
        raise TypeError(f"{where}: axis must be an int; got {axis!r}")
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{where}: axis {axis} is out of range for an input of shape {x.shape}")
    return int(axis)


def class_labels(
    y: Any, where: str, name: str = "labels", *, n: int | None = None, num_classes: int | None = None
) -> np.ndarray:
    """Integer class labels of shape ``(N,)``, as int64.

    With ``n``, there must be exactly ``n`` of them (one per example); with
    ``num_classes``, each must lie in ``[0, num_classes)``; otherwise each must be >= 0.
    Raises ValueError for a wrong shape, count or range, TypeError for non-integers.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{where}: expected {name} as integer class labels of shape (N,); got shape {y.shape}")
    if n is not None and len(y) != n:
        raise ValueError(f"{where}: expected {n} {name}, one per example, as a 1-D array; got {len(y)}")
    if y.size and y.dtype.kind not in "iu":
        raise TypeError(f"{where}: {name} must be integers (class numbers, shape (N,)); got dtype {y.dtype}")
    if y.size:
        low, high = 0, num_classes
        bad = (y < low) | (y >= high) if high is not None else (y < low)
        if bad.any():
            rng = f"in [0, {high})" if high is not None else ">= 0"
            raise ValueError(
                f"{where}: {name} must be integers {rng}"
                + (f" for {high} classes" if high is not None else "")
                + f"; got {int(bad.sum())} out of range (e.g. {int(y[bad][0])})"
            )
    return y.astype(np.int64, copy=False)


def image_stack(images: Any, where: str, name: str = "images", *, finite: bool = True) -> np.ndarray:
    """Grey-scale images as float64 ``(N, H, W)`` from ``(N, H, W)``, ``(N, 1, H, W)`` or one ``(H, W)``.

    Used by the figures and explorers, which show one channel. Raises ValueError for
    any other shape, an empty stack, or (unless ``finite`` is False) NaN/inf. The
    figures pass ``finite=False``: matplotlib draws a NaN pixel as a gap.
    """
    try:
        a = np.asarray(images, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {name} must be an array of numbers; got {type(images).__name__}") from exc
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]  # (N, 1, H, W) -> (N, H, W)
    elif a.ndim == 2:
        a = a[None]  # (H, W) -> (1, H, W)
    if a.ndim != 3 or min(a.shape) == 0:
        raise ValueError(
            f"{where}: expected {name} of shape (N, H, W) or (N, 1, H, W) (one channel), or one image (H, W); "
            f"got shape {np.shape(images)}"
        )
    if finite and not np.isfinite(a).all():
        raise ValueError(f"{where}: {name} must hold finite numbers (no NaN or infinity)")
    return a


# --------------------------------------------------------------------------
# Sizes and padding of convolution and pooling
# --------------------------------------------------------------------------


def output_length(n: int, k: int, s: int, pad_total: int, where: str, axis: str = "") -> int:
    """``floor((n + pad_total - k) / s) + 1``, the length of one output axis; raises if the kernel does not fit.

    This is the one place the formula is written; :func:`cnnlib.functional.conv_output_size` is its public face.
    """
    if n + pad_total < k:
        raise ValueError(
            f"{where}: kernel size {k}{axis} is larger than the padded input "
            f"({n} + {pad_total} padding = {n + pad_total}); use a smaller kernel or more padding"
        )
    return (n + pad_total - k) // s + 1


def explicit_pads(padding: Any, where: str) -> Pads:
    """An int, a pair (rows, cols) or ((top, bottom), (left, right)) as ``((top, bottom), (left, right))``."""
    if is_int(padding):
        p = int(padding)
        pads = ((p, p), (p, p))
    elif isinstance(padding, (tuple, list)) and len(padding) == 2 and all(is_int(v) for v in padding):
        ph, pw = int(padding[0]), int(padding[1])
        pads = ((ph, ph), (pw, pw))
    elif (
        isinstance(padding, (tuple, list))
        and len(padding) == 2
        and all(isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(u) for u in v) for v in padding)
    ):
        pads = ((int(padding[0][0]), int(padding[0][1])), (int(padding[1][0]), int(padding[1][1])))
    else:
        raise TypeError(
            f"{where}: padding must be an int, a pair (rows, cols), ((top, bottom), (left, right)), "
            f"'valid' or 'same'; got {padding!r}"
        )
    if min(min(p) for p in pads) < 0:
        raise ValueError(f"{where}: padding must be >= 0; got {padding!r}")
    return pads


def padding_spec(padding: Any, where: str) -> Any:
    """Check a padding argument without an input size: 'valid', 'same', or an explicit padding. Returns it unchanged."""
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"{where}: padding must be an int, a pair, 'valid' or 'same'; got {padding!r}")
    else:
        explicit_pads(padding, where)
    return padding


def resolve_padding(
    padding: Any, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int], where: str
) -> Pads:
    """Turn any accepted padding into ``((top, bottom), (left, right))`` for an input of ``size`` (rows, cols).

    ``"same"`` pads so that the output has ``ceil(n / stride)`` entries per axis; an
    odd total puts the extra row or column after (bottom, right), as TensorFlow does.
    """
    if isinstance(padding, str):
        padding_spec(padding, where)
        if padding == "valid":
            return ((0, 0), (0, 0))
        pads = []
        for n, k, s in zip(size, kernel, stride):
            out = -(-n // s)  # ceil(n / s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        return (pads[0], pads[1])
    return explicit_pads(padding, where)


def conv_pads(padding: Any, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int], where: str) -> Pads:
    """Resolve the padding and check that the kernel fits the padded input along rows and columns."""
    pads = resolve_padding(padding, size, kernel, stride, where)
    for axis, n, k, s, (p0, p1) in zip(("rows", "cols"), size, kernel, stride, pads):
        output_length(n, k, s, p0 + p1, where, f" ({axis})")
    return pads


def pad_mode(mode: Any, where: str) -> str:
    """``"zeros"`` or ``"edge"``, else ValueError."""
    if mode not in PAD_MODES:
        raise ValueError(f"{where}: pad mode must be 'zeros' or 'edge'; got {mode!r}")
    return mode


def pool_padding(padding: Any, kernel: tuple[int, int], where: str) -> tuple[int, int]:
    """Pooling padding as (rows, cols), at most half the kernel (as in PyTorch), so no window is all padding."""
    pad = pair(padding, "padding", where, minimum=0)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(
            f"{where}: padding must be at most half the kernel size (kernel {kernel}, so padding <= "
            f"{(kernel[0] // 2, kernel[1] // 2)}); got {pad}"
        )
    return pad


def pool_arguments(
    shape: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any, where: str
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Kernel, stride (default: the kernel), padding and output size (OH, OW) of a pooling of an input of ``shape``."""
    kernel = pair(kernel_size, "kernel_size", where)
    stride = kernel if stride is None else pair(stride, "stride", where)
    pad = pool_padding(padding, kernel, where)
    OH = output_length(shape[-2], kernel[0], stride[0], 2 * pad[0], where, " (rows)")
    OW = output_length(shape[-1], kernel[1], stride[1], 2 * pad[1], where, " (cols)")
    return kernel, stride, pad, (OH, OW)
