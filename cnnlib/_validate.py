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


class SmallBatchError(ValueError):
    """Raised by batch normalisation in training mode when a channel has one value only (no variance).

    :func:`cnnlib.training.fit` recognises it to suggest ``drop_last=True``.
    """


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


def _kind(value: Any) -> str:
    """How a wrong value appears in a message: its repr, and its type when the repr hides it (``'0.1'`` is a str)."""
    return f"{value!r} ({type(value).__name__})" if isinstance(value, (str, bytes)) else repr(value)


def real_number(
    value: Any,
    name: str,
    where: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    what: str = "",
) -> float:
    """Return ``value`` as a float: a finite real number (Python or NumPy), within the given bounds.

    Bools and strings are refused (``True`` is not 1.0 here, and ``"0.1"`` from a
    config file is not a number): TypeError. NaN, infinity, or a value outside
    ``[low, high]`` (``(low, ...`` with ``low_open``, ``..., high)`` with
    ``high_open``): ValueError, naming the allowed range. ``what`` describes the
    number in the message, e.g. ``"a probability"``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number (int or float); got {_kind(value)}")
    v = float(value)
    if low is not None and high is not None:
        bounds = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        bounds = f"{'>' if low_open else '>='} {low:g}"
    elif high is not None:
        bounds = f"{'<' if high_open else '<='} {high:g}"
    else:
        bounds = "finite"
    wanted = f"{what} {bounds}" if what else bounds
    if not np.isfinite(v):
        finite = "a finite number" if bounds == "finite" else f"{wanted} (a finite number)"
        raise ValueError(f"{where}: {name} must be {finite}; got {value!r}")
    too_low = low is not None and (v < low or (low_open and v == low))
    too_high = high is not None and (v > high or (high_open and v == high))
    if too_low or too_high:
        raise ValueError(f"{where}: {name} must be {wanted}; got {value!r}")
    return v


def learning_rate(value: Any, where: str, name: str = "lr") -> float:
    """A learning rate: a finite real number > 0 (zero does nothing, a negative one climbs the loss)."""
    return real_number(value, name, where, low=0.0, low_open=True)


def boolean(value: Any, name: str, where: str) -> bool:
    """Return ``value`` as a bool, raising TypeError unless it is ``True``/``False`` (NumPy's ``np.True_`` too).

    A string such as ``"False"`` (read from a config file) would otherwise count as true.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{where}: {name} must be True or False; got {_kind(value)}")


def seed(value: Any, where: str, name: str = "seed") -> int | None:
    """A random seed: None (fresh randomness) or an integer >= 0 (Python or NumPy, not a bool)."""
    if value is None:
        return None
    if not is_int(value):
        raise TypeError(f"{where}: {name} must be None or an integer >= 0; got {_kind(value)}")
    if value < 0:
        raise ValueError(f"{where}: {name} must be None or an integer >= 0; got {value!r}")
    return int(value)


def function(value: Any, name: str, where: str, signature: str) -> Any:
    """``value`` if it is None or callable; TypeError otherwise (``signature`` shows how it is called)."""
    if value is not None and not callable(value):
        raise TypeError(f"{where}: {name} must be a function {signature}, or None; got {_kind(value)}")
    return value


def shape(value: Any, name: str, where: str) -> tuple[int, ...]:
    """A shape: a tuple or list of positive integers."""
    if not isinstance(value, (tuple, list)) or not value or not all(is_int(v) and v >= 1 for v in value):
        raise TypeError(f"{where}: {name} must be a tuple of positive integers, e.g. (1, 1, 28, 28); got {_kind(value)}")
    return tuple(int(v) for v in value)


def float_dtype(dtype: Any, where: str) -> np.dtype:
    """A floating-point NumPy dtype (float16/32/64); TypeError for ints, bools, complex or anything else."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{where}: dtype must be a floating-point dtype such as np.float64; got {_kind(dtype)}") from exc
    if dt.kind != "f":
        raise TypeError(f"{where}: dtype must be a floating-point dtype such as np.float64 (weights are real numbers); got {dt}")
    return dt


def model(obj: Any, where: str, name: str = "model") -> Any:
    """``obj`` if it is a cnnlib :class:`~cnnlib.layers.Layer` (a Sequential is one); TypeError otherwise."""
    from .layers import Layer  # here, not at the top: layers imports this module

    if not isinstance(obj, Layer):
        got = f"the class {obj.__name__} itself (build one: {obj.__name__}(...))" if isinstance(obj, type) else type(obj).__name__
        raise TypeError(f"{where}: {name} must be a cnnlib Layer, e.g. Sequential(...) or mnist_cnn(); got {got}")
    return obj


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

    Only the training runner (:mod:`cnnlib._runner`) uses it, for the layers
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


def check_axis(x: np.ndarray, axis: Any, where: str, name: str = "axis") -> int:
    """Return ``axis`` as an int, raising unless it names an axis of ``x`` (negative counts from the end)."""
    if not is_int(axis):
        raise TypeError(f"{where}: {name} must be an int; got {_kind(axis)}")
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{where}: {name} {axis} is out of range for an input of shape {x.shape}")
    return int(axis)


def class_axis(x: np.ndarray, axis: Any, where: str) -> int:
    """:func:`check_axis` for the axis that holds the classes, which must not be empty (a softmax over nothing)."""
    axis = check_axis(x, axis, where)
    if x.shape[axis] == 0:
        raise ValueError(
            f"{where}: x has no entries along axis {axis} (shape {x.shape}); softmax needs at least one class there"
        )
    return axis


def class_labels(
    y: Any, where: str, name: str = "labels", *, n: int | None = None, num_classes: int | None = None,
    per_position: bool = False,
) -> np.ndarray:
    """Integer class labels of shape ``(N,)``, as int64.

    With ``n``, there must be exactly ``n`` of them (one per example); with
    ``num_classes``, each must lie in ``[0, num_classes)``; otherwise each must be >= 0.
    With ``per_position``, labels of shape ``(N, H, W)`` (one class per pixel, any
    ``(N, d1, ..., dk)``) are accepted too.
    Raises ValueError for a wrong shape, count or range, TypeError for non-integers.
    """
    y = np.asarray(y)
    shapes = "(N,) or (N, H, W)" if per_position else "(N,)"
    if y.ndim != 1 and not (per_position and y.ndim > 1):
        raise ValueError(f"{where}: expected {name} as integer class labels of shape {shapes}; got shape {y.shape}")
    if n is not None and len(y) != n:
        raise ValueError(f"{where}: expected {n} {name}, one per example, as a 1-D array; got {len(y)}")
    if y.size and y.dtype.kind not in "iu":
        raise TypeError(f"{where}: {name} must be integers (class numbers, shape {shapes}); got dtype {y.dtype}")
    if y.size:
        low, high = 0, num_classes
        bad = (y < low) | (y >= high) if high is not None else (y < low)
        if bad.any():
            rng = f"in [0, {high})" if high is not None else ">= 0"
            raise ValueError(
                f"{where}: {name} must be integers {rng}"
                + (f" for {high} classes" if high is not None else "")
                + f"; got {int(bad.sum())} out of range (e.g. {int(y[bad].flat[0])})"
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


def check_padding_size(pads: Pads, size: tuple[int, int], kernel: tuple[int, int], where: str, axes: tuple[str, str] = ("rows", "cols")) -> None:
    """Raise ValueError if a side's padding is larger than the input plus the kernel along that axis.

    With padding ``p > n + k`` whole rows of the output see nothing but padding,
    so such a value is a typo (``padding=10**9`` would otherwise exhaust memory).
    """
    for axis, n, k, (p0, p1) in zip(axes, size, kernel, pads):
        if max(p0, p1) > n + k:
            label = f" ({axis})" if axis else ""
            raise ValueError(
                f"{where}: padding must be at most the input size plus the kernel size on each side{label}, "
                f"{n} + {k} = {n + k} (more only adds outputs that see no input); got {max(p0, p1)}"
            )


def conv_pads(padding: Any, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int], where: str) -> Pads:
    """Resolve the padding, check it is not absurdly large and that the kernel fits the padded input along rows and columns."""
    pads = resolve_padding(padding, size, kernel, stride, where)
    check_padding_size(pads, size, kernel, where)
    for axis, n, k, s, (p0, p1) in zip(("rows", "cols"), size, kernel, stride, pads):
        output_length(n, k, s, p0 + p1, where, f" ({axis})")
    return pads


def pad2d_padding(padding: Any, shape: tuple[int, ...], mode: str, where: str) -> Pads:
    """The padding of :func:`cnnlib.functional.pad2d` for an array of ``shape``, as ``((top, bottom), (left, right))``.

    At most twice the input's size per side (the padding a kernel as large as
    the input could use); edge padding repeats the border, so it needs one.
    """
    pads = explicit_pads(padding, where)
    H, W = shape[-2], shape[-1]
    if mode == "edge" and min(H, W) == 0 and max(max(p) for p in pads) > 0:
        raise ValueError(
            f"{where}: mode 'edge' repeats the outermost rows and columns, so x needs at least one of each; "
            f"got shape {tuple(shape)}"
        )
    for axis, n, (p0, p1) in zip(("rows", "cols"), (H, W), pads):
        if max(p0, p1) > 2 * n:
            raise ValueError(
                f"{where}: padding must be at most twice the input's size on each side ({axis}: 2 x {n} = {2 * n}); "
                f"got {max(p0, p1)} for x of shape {tuple(shape)}"
            )
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


# --------------------------------------------------------------------------
# Models: each layer once, and the arrays of a state dict
# --------------------------------------------------------------------------


def layer_positions(layer: Any) -> list[tuple[str, Any]]:
    """The layers a model is made of, with their positions (``"3"``, or ``"1.0"`` inside a nested Sequential)."""
    from .layers import Sequential  # here, not at the top: layers imports this module

    if not isinstance(layer, Sequential):
        return [("", layer)]
    out = []
    for i, inner in enumerate(layer.layers):
        out.append((str(i), inner))
        if isinstance(inner, Sequential):
            out += [(f"{i}.{pos}", leaf) for pos, leaf in layer_positions(inner)]
    return out


def each_layer_once(model: Any) -> None:
    """Raise ValueError if one layer object appears at two positions of ``model`` (see :class:`~cnnlib.layers.Sequential`)."""
    seen: dict[int, str] = {}
    for pos, layer in layer_positions(model):
        if id(layer) in seen:
            raise ValueError(
                f"Sequential: the same {layer!r} object is used at positions {seen[id(layer)]} and {pos}. "
                f"A cnnlib layer remembers one forward pass for its backward pass, so each position needs "
                f"a layer of its own: write {type(layer).__name__}(...) once per position instead of reusing one object."
            )
        seen[id(layer)] = pos


def state_arrays(state: Any, own: dict[str, np.ndarray], where: str) -> dict[str, np.ndarray]:
    """Check a whole state dict against a layer's own arrays, before anything is copied.

    The names must be the same (KeyError), and each array real floating-point
    numbers (TypeError for ints, bools, complex numbers, strings or objects: weights
    are never those), of the same shape (ValueError) and finite (NonFiniteError).
    Returns the arrays by name.
    """
    if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
        raise TypeError(f"{where}: state must be a dict of arrays by name, as state_dict() returns; got {type(state).__name__}")
    missing = sorted(set(own) - set(state.keys()))
    unexpected = sorted(set(state.keys()) - set(own))
    if missing or unexpected:
        raise KeyError(f"{where}: expected keys {sorted(own)}; missing {missing}, unexpected {unexpected}")
    out = {}
    for k in own:
        v = np.asarray(state[k])
        if v.dtype.kind != "f":
            raise TypeError(f"{where}: {k!r} must hold floating-point numbers (weights are real numbers); got dtype {v.dtype}")
        if v.shape != own[k].shape:
            raise ValueError(f"{where}: {k!r} has shape {v.shape}, expected {own[k].shape}")
        check_finite(v, repr(k), where)
        out[k] = v
    return out
