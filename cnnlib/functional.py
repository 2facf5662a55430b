"""Stateless building blocks: convolution, padding, pooling, activations, softmax.

Each function takes plain NumPy arrays and returns a new array; nothing is
learned or remembered here (the layers in :mod:`cnnlib.layers` add that). Images
follow PyTorch's layout: a batch is ``(N, C, H, W)`` (images, channels, rows,
columns) and convolution weights are ``(out_channels, in_channels, kh, kw)``.

Every public function does two things: it checks its arguments (with the
helpers of :mod:`cnnlib._validate`, so a mistake stops with a message that
names the argument), then computes. Where the computation needs a speed trick
(im2col for convolution, tiled windows for pooling), it calls the private
kernel module :mod:`cnnlib._kernels`, the only place such tricks live.

Beside each fast function sits a slow, readable loop version to study:
``conv2d_naive``, ``conv2d_backward_naive``, ``max_pool2d_naive`` and
``max_pool2d_backward_naive``. The test suite checks that each pair gives the
same numbers.

Like every deep-learning library, "convolution" here means *cross-correlation*:
the kernel is slid over the input without being flipped. A textbook
convolution is ``conv2d(x, w[..., ::-1, ::-1])``.
"""

from __future__ import annotations

from typing import Any, Literal, Union

import numpy as np
from . import _kernels as K
from . import _validate as V
from ._validate import as_float_array, finite_float_array, pair, positive_int

__all__ = [
    "conv_output_size",
    "pad2d",
    "conv1d",
    "conv2d",
    "conv2d_naive",
    "conv2d_backward",
    "conv2d_backward_naive",
    "max_pool2d",
    "max_pool2d_naive",
    "max_pool2d_backward",
    "max_pool2d_backward_naive",
    "avg_pool2d",
    "avg_pool2d_backward",
    "global_avg_pool2d",
    "global_avg_pool2d_backward",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "flatten",
]

PadMode = Literal["zeros", "edge"]
Padding = Union[int, tuple[int, int], tuple[tuple[int, int], tuple[int, int]], str]
Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))

# --------------------------------------------------------------------------
# Output sizes and padding
# --------------------------------------------------------------------------


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int | str = 0) -> int:
    """Length of one output dimension of a convolution or pooling.

    ``floor((n + 2 * padding - kernel_size) / stride) + 1``; with
    ``padding="same"`` the input is padded just enough that the output has
    ``ceil(n / stride)`` entries, and ``"valid"`` means no padding.

    Parameters
    ----------
    n : int
        Input length (rows or columns).
    kernel_size : int
        Kernel length along the same dimension.
    stride : int, default 1
        Step between neighbouring kernel positions.
    padding : int or {"valid", "same"}, default 0
        Zeros added on *each* side, or a padding rule.

    Returns
    -------
    int
        The number of output positions.

    Raises
    ------
    ValueError
        If a size is not a positive integer, padding is negative or larger than
        ``n + kernel_size``, or the kernel is larger than the padded input.

    Examples
    --------
    >>> conv_output_size(28, 3, stride=1, padding=1)
    28
    >>> conv_output_size(8, 3, stride=3, padding="same") * conv_output_size(10, 3, stride=2, padding="same")
    15
    """
    where = "conv_output_size"
    n_, k_, s_ = (positive_int(v, nm, where) for v, nm in ((n, "n"), (kernel_size, "kernel_size"), (stride, "stride")))
    (before, after), _ = V.resolve_padding(padding, (n_, 1), (k_, 1), (s_, 1), where)
    V.check_padding_size(((before, after), (0, 0)), (n_, 1), (k_, 1), where, axes=("", ""))
    return V.output_length(n_, k_, s_, before + after, where)


def pad2d(x: Any, padding: Any, mode: PadMode = "zeros") -> np.ndarray:
    """Pad the last two axes (rows and columns) of an array.

    Parameters
    ----------
    x : array_like, at least 2-D
        An image ``(H, W)``, a stack ``(C, H, W)`` or a batch ``(N, C, H, W)``.
    padding : int, (rows, cols) or ((top, bottom), (left, right))
        How many rows and columns to add on each side.
    mode : {"zeros", "edge"}, default "zeros"
        ``"zeros"`` adds zeros; ``"edge"`` repeats the outermost row or column
        (edge replication, which some lecture notes loosely call "same padding").

    Returns
    -------
    numpy.ndarray
        The padded array, ``(..., H + top + bottom, W + left + right)``.

    Raises
    ------
    ValueError
        If a padding is negative or more than twice the input's size along its
        axis, or ``mode="edge"`` is asked to repeat the border of an empty array.

    Examples
    --------
    >>> pad2d([[1, 2], [4, 5]], 1)
    array([[0., 0., 0., 0.],
           [0., 1., 2., 0.],
           [0., 4., 5., 0.],
           [0., 0., 0., 0.]])
    """
    where = "pad2d"
    x = as_float_array(x, "x", where)
    if x.ndim < 2:
        raise ValueError(f"{where}: expected x with at least 2 dimensions (..., H, W); got shape {x.shape}")
    mode = V.pad_mode(mode, where)
    pads = V.pad2d_padding(padding, x.shape, mode, where)
    widths = [(0, 0)] * (x.ndim - 2) + [pads[0], pads[1]]
    return np.pad(x, widths, mode="constant" if mode == "zeros" else "edge")


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------


def _prepare_conv(x: Any, w: Any, b: Any, stride: Any, padding: Any, pad_mode: Any, where: str):
    """Validate conv2d arguments; return NCHW x, OIHW w, bias, stride, pads and how to reshape back."""
    x = as_float_array(x, "x", where)
    w = as_float_array(w, "w", where)
    if x.ndim == 2 and w.ndim == 2:
        squeeze = "2d"
        x = x[None, None]  # (H, W) -> (1, 1, H, W)
        w = w[None, None]  # (kh, kw) -> (1, 1, kh, kw)
    elif x.ndim == 3 and w.ndim == 4:
        squeeze = "3d"
        x = x[None]  # (C, H, W) -> (1, C, H, W)
    elif x.ndim == 4 and w.ndim == 4:
        squeeze = None
    else:
        raise ValueError(
            f"{where}: expected x of shape (N, C, H, W) with w of shape (out_channels, in_channels, kh, kw), "
            f"or a single image x of shape (H, W) with a 2-D kernel w; "
            f"got x of shape {x.shape} and w of shape {w.shape}"
        )
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{where}: x has {x.shape[1]} input channel(s) (x.shape = {x.shape}, NCHW) but w expects "
            f"{w.shape[1]} (w.shape = {w.shape}, (out, in, kh, kw))"
        )
    if min(w.shape) < 1 or min(x.shape) < 1:
        raise ValueError(f"{where}: x and w must not be empty; got x {x.shape} and w {w.shape}")
    if b is not None:
        b = as_float_array(b, "b", where)
        if b.ndim == 0:
            b = b.reshape(1)
        if b.shape != (w.shape[0],):
            raise ValueError(f"{where}: expected bias b of shape ({w.shape[0]},), one per output channel; got {b.shape}")
        V.check_finite(b, "b", where)
    V.check_finite(x, "x", where)
    V.check_finite(w, "w", where)
    stride = pair(stride, "stride", where)
    pads = V.conv_pads(padding, (x.shape[2], x.shape[3]), (w.shape[2], w.shape[3]), stride, where)
    pad_mode = V.pad_mode(pad_mode, where)
    return x, w, b, stride, pads, pad_mode, squeeze


def _squeeze_back(y: np.ndarray, squeeze: str | None) -> np.ndarray:
    if squeeze == "2d":
        return y[0, 0]
    if squeeze == "3d":
        return y[0]
    return y


def conv2d(
    x: Any,
    w: Any,
    b: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    pad_mode: PadMode = "zeros",
) -> np.ndarray:
    """2-D convolution (cross-correlation), the fast im2col version.

    ``y[n, o, i, j] = b[o] + sum_{c, p, q} x_pad[n, c, i*sh + p, j*sw + q] * w[o, c, p, q]``

    Parameters
    ----------
    x : array_like
        A batch ``(N, C, H, W)``, one multi-channel image ``(C, H, W)``, or one
        single-channel image ``(H, W)`` (then ``w`` is a 2-D kernel ``(kh, kw)``).
    w : array_like
        Weights ``(out_channels, in_channels, kh, kw)``, or ``(kh, kw)`` for a 2-D ``x``.
    b : array_like, optional
        One bias per output channel, shape ``(out_channels,)``.
    stride : int or (int, int), default 1
        Step of the sliding window (rows, cols).
    padding : int, (int, int), ((top, bottom), (left, right)), "valid" or "same"
        ``"same"`` pads so that the output has ``ceil(H / stride)`` rows and
        ``ceil(W / stride)`` columns; an odd total goes to the bottom/right.
    pad_mode : {"zeros", "edge"}, default "zeros"
        What the padding holds: zeros, or copies of the border pixels.

    Returns
    -------
    numpy.ndarray
        ``(N, out_channels, OH, OW)``, or ``(out_channels, OH, OW)`` / ``(OH, OW)``
        matching the input's form.

    Raises
    ------
    ValueError
        Wrong number of dimensions, channel mismatch, a kernel larger than the
        padded input, a padding larger than the input plus the kernel, or NaN/inf
        in the inputs.

    Examples
    --------
    >>> conv2d([[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]], [[1, 2], [-1, 0]])
    array([[ 6.,  5.,  6.],
           [-4.,  5.,  0.]])
    """
    x, w, b, stride, pads, pad_mode, squeeze = _prepare_conv(x, w, b, stride, padding, pad_mode, "conv2d")
    dtype = np.result_type(x, w)
    y, _ = K.conv2d_forward(x.astype(dtype, copy=False), w.astype(dtype, copy=False), b, stride, pads, pad_mode)
    return _squeeze_back(np.ascontiguousarray(y), squeeze)


def conv2d_naive(
    x: Any,
    w: Any,
    b: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    pad_mode: PadMode = "zeros",
) -> np.ndarray:
    """2-D convolution with explicit loops: the version to read.

    Same arguments and result as :func:`conv2d`, computed one output number at a
    time: place the kernel on a window of the padded input, multiply elementwise,
    add everything up (plus the bias), then move the window by the stride.
    """
    x, w, b, (sh, sw), pads, pad_mode, squeeze = _prepare_conv(x, w, b, stride, padding, pad_mode, "conv2d_naive")
    xp = pad2d(x, pads, pad_mode)
    N, C, Hp, Wp = xp.shape
    O, _, kh, kw = w.shape
    OH = (Hp - kh) // sh + 1
    OW = (Wp - kw) // sw + 1
    y = np.zeros((N, O, OH, OW), dtype=np.result_type(x, w))
    for n in range(N):  # every image
        for o in range(O):  # every filter
            for i in range(OH):  # every output row
                for j in range(OW):  # every output column
                    window = xp[n, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (C, kh, kw)
                    y[n, o, i, j] = np.sum(window * w[o]) + (b[o] if b is not None else 0.0)
    return _squeeze_back(y, squeeze)


def conv2d_backward(
    dy: Any,
    x: Any,
    w: Any,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    pad_mode: PadMode = "zeros",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d` with respect to its input, weights and bias.

    Parameters
    ----------
    dy : array_like
        Gradient of the loss with respect to the convolution's output (same shape as it).
    x, w, stride, padding, pad_mode
        The arguments the forward pass was called with.

    Returns
    -------
    dx, dw, db : numpy.ndarray
        Shaped like ``x``, ``w`` and ``(out_channels,)``. ``dw`` is a *sum over
        every position* where the shared kernel was applied.
    """
    where = "conv2d_backward"
    x, w, _, stride, pads, pad_mode, squeeze = _prepare_conv(x, w, None, stride, padding, pad_mode, where)
    dtype = np.result_type(x, w)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    y, cols = K.conv2d_forward(x, w, None, stride, pads, pad_mode)
    dy = V.upstream_gradient(dy, _squeeze_back(y, squeeze).shape, where).astype(dtype, copy=False).reshape(y.shape)
    dx, dw, db = K.conv2d_backward(dy, cols, x.shape, w, stride, pads, pad_mode)
    dx = np.ascontiguousarray(dx)
    if squeeze == "2d":
        return dx[0, 0], dw[0, 0], db
    if squeeze == "3d":
        return dx[0], dw, db
    return dx, dw, db


def conv2d_backward_naive(
    dy: Any,
    x: Any,
    w: Any,
    stride: int | tuple[int, int] = 1,
    padding: Padding = 0,
    pad_mode: PadMode = "zeros",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`conv2d_backward`. Same arguments and result.

    Revisit every place the kernel was applied in the forward pass. That output
    number was ``sum(window * w[o]) + b[o]``, so its gradient ``g`` adds
    ``g * window`` to ``dw[o]``, ``g * w[o]`` to the window's pixels in ``dx``
    and ``g`` to ``db[o]``.
    """
    where = "conv2d_backward_naive"
    x, w, _, (sh, sw), pads, pad_mode, squeeze = _prepare_conv(x, w, None, stride, padding, pad_mode, where)
    xp = pad2d(x, pads, pad_mode)
    N, C, Hp, Wp = xp.shape
    O, _, kh, kw = w.shape
    OH, OW = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    full = (N, O, OH, OW)
    dy = V.upstream_gradient(dy, _squeeze_back(np.empty(full), squeeze).shape, where).reshape(full)
    dtype = np.result_type(x, w, dy)
    dxp = np.zeros(xp.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    db = np.zeros(O, dtype=dtype)
    for n in range(N):
        for o in range(O):
            for i in range(OH):
                for j in range(OW):
                    g = dy[n, o, i, j]
                    rows = slice(i * sh, i * sh + kh)
                    cols = slice(j * sw, j * sw + kw)
                    dw[o] += g * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += g * w[o]
                    db[o] += g
    dx = _pad2d_backward_naive(dxp, pads, pad_mode)
    if squeeze == "2d":
        return dx[0, 0], dw[0, 0], db
    if squeeze == "3d":
        return dx[0], dw, db
    return dx, dw, db


def _pad2d_backward_naive(dxp: np.ndarray, pads: tuple[tuple[int, int], tuple[int, int]], mode: str) -> np.ndarray:
    """Gradient of :func:`pad2d` for the loop versions: each padded pixel's gradient goes back to where it came from.

    With zero padding the border came from nowhere, so its gradient is dropped;
    with edge padding every border pixel is a copy of the nearest edge pixel,
    which collects its gradient.
    """
    (t, b), (l, r) = pads
    H, W = dxp.shape[-2] - t - b, dxp.shape[-1] - l - r
    dx = np.zeros((*dxp.shape[:-2], H, W), dtype=dxp.dtype)
    for i in range(dxp.shape[-2]):
        for j in range(dxp.shape[-1]):
            row, col = i - t, j - l  # the input pixel this padded pixel shows
            if mode == "edge":
                row, col = min(max(row, 0), H - 1), min(max(col, 0), W - 1)
            elif not (0 <= row < H and 0 <= col < W):
                continue
            dx[..., row, col] += dxp[..., i, j]
    return dx


def conv1d(x: Any, w: Any, b: Any = None, stride: int = 1, padding: int | str = 0, pad_mode: PadMode = "zeros") -> np.ndarray:
    """1-D convolution (cross-correlation) of a signal with a kernel.

    Parameters
    ----------
    x : array_like
        A signal ``(L,)``, or a batch ``(N, C, L)`` with weights ``(out, in, k)``.
    w : array_like
        A kernel ``(k,)``, or weights ``(out_channels, in_channels, k)``.
    b, stride, padding, pad_mode
        As in :func:`conv2d`, along the one axis.

    Returns
    -------
    numpy.ndarray
        ``(OL,)`` or ``(N, out_channels, OL)``.

    Examples
    --------
    >>> conv1d([1, 2, 3, 4, 5], [1, 0, -1])
    array([-2., -2., -2.])
    """
    where = "conv1d"
    x = as_float_array(x, "x", where)
    w = as_float_array(w, "w", where)
    if x.ndim == 1 and w.ndim == 1:
        x2, w2 = x[None, None, None, :], w[None, None, None, :]  # (L,) -> (1, 1, 1, L)
    elif x.ndim == 3 and w.ndim == 3:
        x2, w2 = x[:, :, None, :], w[:, :, None, :]  # (N, C, L) -> (N, C, 1, L)
    else:
        raise ValueError(
            f"{where}: expected a signal (L,) with a kernel (k,), or x (N, C, L) with w (out, in, k); "
            f"got x {x.shape} and w {w.shape}"
        )
    if x.ndim == 3 and x.shape[1] != w.shape[1]:
        raise ValueError(f"{where}: x has {x.shape[1]} input channel(s) (x.shape = {x.shape}, (N, C, L)) but w expects {w.shape[1]}")
    if min(x.shape) < 1 or min(w.shape) < 1:
        raise ValueError(f"{where}: x and w must not be empty; got x {x.shape} and w {w.shape}")
    V.check_finite(x, "x", where)
    V.check_finite(w, "w", where)
    stride = positive_int(stride, "stride", where)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"{where}: padding must be an integer >= 0, 'valid' or 'same'; got {padding!r}")
        pad = V.resolve_padding(padding, (1, x.shape[-1]), (1, w.shape[-1]), (1, stride), where)[1]
    else:
        pad = (V.integer(padding, "padding", where, minimum=0),) * 2
    V.check_padding_size(((0, 0), pad), (1, x.shape[-1]), (1, w.shape[-1]), where, axes=("", ""))
    V.output_length(x.shape[-1], w.shape[-1], stride, sum(pad), where)
    x2, w2, b, stride2, pads, pad_mode, _ = _prepare_conv(x2, w2, b, (1, stride), ((0, 0), pad), pad_mode, where)
    dtype = np.result_type(x2, w2)
    y, _ = K.conv2d_forward(x2.astype(dtype, copy=False), w2.astype(dtype, copy=False), b, stride2, pads, pad_mode)
    y = np.ascontiguousarray(y)
    return y[0, 0, 0] if x.ndim == 1 else y[:, :, 0, :]


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------


def _prepare_pool(x: Any, kernel_size: Any, stride: Any, padding: Any, where: str):
    x = as_float_array(x, "x", where)
    if x.ndim < 2 or x.ndim > 4:
        raise ValueError(
            f"{where}: expected x of shape (N, C, H, W), (C, H, W) or (H, W); "
            f"got shape {x.shape} ({x.ndim} dimensions)"
        )
    V.check_finite(x, "x", where)
    kernel, stride, pad, out_hw = V.pool_arguments(x.shape, kernel_size, stride, padding, where)
    return x, kernel, stride, pad, out_hw


def _pad_with_minus_infinity(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Pad the last two axes with -inf, which can never be a window's maximum."""
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)], constant_values=-np.inf)


def max_pool2d(
    x: Any, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0
) -> np.ndarray:
    """Max pooling: the largest value in each window (fast version).

    Parameters
    ----------
    x : array_like
        ``(N, C, H, W)``, ``(C, H, W)`` or ``(H, W)``; every channel is pooled on its own.
    kernel_size : int or (int, int)
        Window size.
    stride : int or (int, int), optional
        Step between windows; defaults to ``kernel_size`` (windows that tile).
        A stride smaller than the kernel gives overlapping windows.
    padding : int or (int, int), default 0
        Implicit padding with -inf (it can never be the maximum); at most half the kernel.

    Returns
    -------
    numpy.ndarray
        ``(..., OH, OW)`` with ``OH = floor((H + 2p - k) / s) + 1``.

    Examples
    --------
    >>> max_pool2d([[1, 3, 2, 0], [4, 2, 1, 1], [0, 0, 5, 6], [1, 2, 7, 8]], 2)
    array([[4., 2.],
           [2., 8.]])
    """
    x, kernel, stride, pad, out_hw = _prepare_pool(x, kernel_size, stride, padding, "max_pool2d")
    return K.max_pool2d_forward(x, kernel, stride, pad, out_hw)[0]


def max_pool2d_naive(
    x: Any, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0
) -> np.ndarray:
    """Max pooling with explicit loops: the version to read.

    Same arguments and result as :func:`max_pool2d`.
    """
    x, (kh, kw), (sh, sw), (ph, pw), (OH, OW) = _prepare_pool(x, kernel_size, stride, padding, "max_pool2d_naive")
    xp = _pad_with_minus_infinity(x, ph, pw)
    y = np.zeros((*x.shape[:-2], OH, OW), dtype=x.dtype)
    for idx in np.ndindex(*x.shape[:-2]):  # every (image, channel)
        for i in range(OH):
            for j in range(OW):
                window = xp[idx + (slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw))]
                y[idx + (i, j)] = window.max()
    return y


def max_pool2d_backward(
    dy: Any,
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Gradient of :func:`max_pool2d` with respect to its input.

    Each window passes its upstream gradient to the one input that was its
    maximum (the first one, if several tie); every other input gets zero from
    that window. With overlapping windows, an input collects from each window
    it won.

    Parameters
    ----------
    dy : array_like
        Gradient of the loss with respect to the pooling output (same shape as it).
    x, kernel_size, stride, padding
        The arguments the forward pass was called with.

    Returns
    -------
    numpy.ndarray
        ``dx``, shaped like ``x``.
    """
    where = "max_pool2d_backward"
    x, kernel, stride, pad, out_hw = _prepare_pool(x, kernel_size, stride, padding, where)
    dy = V.upstream_gradient(dy, (*x.shape[:-2], *out_hw), where).astype(x.dtype, copy=False)
    y, record = K.max_pool2d_forward(x, kernel, stride, pad, out_hw)  # which input won each window
    return K.max_pool2d_backward(dy, x, y, record, kernel, stride, pad)


def max_pool2d_backward_naive(
    dy: Any,
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Loop version of :func:`max_pool2d_backward`: find each window's maximum, send it the gradient.

    Same arguments and result as :func:`max_pool2d_backward`.
    """
    where = "max_pool2d_backward_naive"
    x, (kh, kw), (sh, sw), (ph, pw), (OH, OW) = _prepare_pool(x, kernel_size, stride, padding, where)
    dy = V.upstream_gradient(dy, (*x.shape[:-2], OH, OW), where)
    xp = _pad_with_minus_infinity(x, ph, pw)
    dxp = np.zeros(xp.shape, dtype=np.result_type(x, dy))
    for idx in np.ndindex(*x.shape[:-2]):
        for i in range(OH):
            for j in range(OW):
                window = xp[idx + (slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw))]
                p, q = np.unravel_index(np.argmax(window), window.shape)  # argmax picks the first maximum
                dxp[idx + (i * sh + p, j * sw + q)] += dy[idx + (i, j)]
    return dxp[..., ph : ph + x.shape[-2], pw : pw + x.shape[-1]]


def avg_pool2d(
    x: Any, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0
) -> np.ndarray:
    """Average pooling: the mean of each window.

    Arguments as in :func:`max_pool2d`; the padding holds zeros and counts in
    the average (PyTorch's default, ``count_include_pad=True``).

    Examples
    --------
    >>> avg_pool2d([[1, 3, 2, 0], [4, 2, 1, 1], [0, 0, 5, 6], [1, 2, 7, 8]], 2)
    array([[2.5 , 1.  ],
           [0.75, 6.5 ]])
    """
    x, kernel, stride, pad, out_hw = _prepare_pool(x, kernel_size, stride, padding, "avg_pool2d")
    return K.avg_pool2d_forward(x, kernel, stride, pad, out_hw)


def avg_pool2d_backward(
    dy: Any,
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Gradient of :func:`avg_pool2d`: each window shares its gradient equally among its inputs.

    Parameters
    ----------
    dy : array_like
        Gradient of the loss with respect to the pooling output (same shape as it).
    x, kernel_size, stride, padding
        The arguments the forward pass was called with.

    Returns
    -------
    numpy.ndarray
        ``dx``, shaped like ``x``.
    """
    where = "avg_pool2d_backward"
    x, kernel, stride, pad, out_hw = _prepare_pool(x, kernel_size, stride, padding, where)
    dy = V.upstream_gradient(dy, (*x.shape[:-2], *out_hw), where)
    return K.avg_pool2d_backward(dy.astype(x.dtype, copy=False), x.shape, kernel, stride, pad)


def _prepare_global_pool(x: Any, where: str) -> np.ndarray:
    x = finite_float_array(x, "x", where)
    V.check_ndim(x, (4,), "x", where, "(N, C, H, W)")
    if x.shape[2] * x.shape[3] == 0:
        raise ValueError(f"{where}: expected x with at least one position per map (H, W >= 1); got shape {x.shape}")
    return x


def global_avg_pool2d(x: Any) -> np.ndarray:
    """Global average pooling: each feature map averaged to one number, ``y[n, c] = mean of x[n, c]``.

    The output's size no longer depends on the image's, so a classifier after it accepts any
    ``H, W`` (Lin, Chen and Yan, "Network In Network", ICLR 2014). PyTorch:
    ``nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())``.

    Parameters
    ----------
    x : array_like
        ``(N, C, H, W)``; floats keep their dtype, integers become float64.

    Returns
    -------
    numpy.ndarray
        ``(N, C)``, the mean over the ``H * W`` positions of each map.

    Raises
    ------
    ValueError, TypeError, NonFiniteError
        ``x`` not 4-D or without positions (``H * W == 0``); not real numbers; NaN or infinity.

    Examples
    --------
    >>> global_avg_pool2d([[[[1, 3], [2, 6]], [[0, 0], [4, 8]]]])
    array([[3., 3.]])
    """
    x = _prepare_global_pool(x, "global_avg_pool2d")
    return x.mean(axis=(2, 3))


def global_avg_pool2d_backward(dy: Any, x: Any) -> np.ndarray:
    """Gradient of :func:`global_avg_pool2d`: each ``dy[n, c]`` spread evenly, ``dy[n, c] / (H * W)`` per position.

    Parameters
    ----------
    dy : array_like
        ``(N, C)``, the gradient of the loss with respect to the output.
    x : array_like
        ``(N, C, H, W)``, the forward pass's input (only its shape is used).

    Returns
    -------
    numpy.ndarray
        ``dx``, shaped like ``x``, in ``x``'s dtype.

    Raises
    ------
    ValueError, TypeError, NonFiniteError
        ``x`` not 4-D or without positions, or ``dy`` not ``(N, C)``; not real numbers; NaN or infinity.
    """
    where = "global_avg_pool2d_backward"
    x = _prepare_global_pool(x, where)
    N, C, H, W = x.shape
    dy = V.upstream_gradient(dy, (N, C), where).astype(x.dtype, copy=False)
    return np.broadcast_to(dy[:, :, None, None] / (H * W), x.shape).copy()  # every position gets an equal share


# --------------------------------------------------------------------------
# Activations, softmax, flatten
# --------------------------------------------------------------------------


def relu(x: Any) -> np.ndarray:
    """Rectified linear unit, ``max(0, x)`` elementwise.

    Parameters
    ----------
    x : array_like
        Any shape; applied elementwise.

    Examples
    --------
    >>> relu([[1, -1], [-3, 2]])
    array([[1., 0.],
           [0., 2.]])
    """
    x = finite_float_array(x, "x", "relu")
    return np.maximum(x, 0, dtype=x.dtype)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: ``x`` where ``x > 0``, ``negative_slope * x`` elsewhere, as ``torch.nn.functional.leaky_relu``.

    A small slope for negative inputs keeps a gradient flowing where a ReLU
    would pass none (a "dead" unit); ``negative_slope=0`` is the ReLU.
    (Maas, Hannun and Ng, "Rectifier nonlinearities improve neural network
    acoustic models", ICML 2013.)

    Parameters
    ----------
    x : array_like
        Any shape; applied elementwise.
    negative_slope : float, default 0.01
        The slope for ``x <= 0``; PyTorch's default.

    Returns
    -------
    numpy.ndarray
        Shaped like ``x``, same float dtype (integers become float64).

    Raises
    ------
    TypeError
        If ``negative_slope`` is not a finite real number.
    NonFiniteError
        If ``x`` holds NaN or infinity.

    Examples
    --------
    >>> leaky_relu([[1, -1], [-3, 2]], negative_slope=0.1)
    array([[ 1. , -0.1],
           [-0.3,  2. ]])
    """
    slope = V.real_number(negative_slope, "negative_slope", "leaky_relu")
    x = finite_float_array(x, "x", "leaky_relu")
    return np.where(x > 0, x, x * x.dtype.type(slope))


def sigmoid(x: Any) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, squashing any number into (0, 1).

    Computed as ``0.5 * (1 + tanh(x / 2))``, which is the same function but never
    overflows for large negative ``x``.

    Parameters
    ----------
    x : array_like
        Any shape; applied elementwise.
    """
    x = finite_float_array(x, "x", "sigmoid")
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def tanh(x: Any) -> np.ndarray:
    """Hyperbolic tangent ``(e^x - e^-x) / (e^x + e^-x)``, squashing into (-1, 1).

    Parameters
    ----------
    x : array_like
        Any shape; applied elementwise.
    """
    return np.tanh(finite_float_array(x, "x", "tanh"))


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``: ``exp(x_i) / sum_j exp(x_j)``, so the entries are positive and sum to 1.

    The largest value is subtracted first; this changes nothing mathematically
    but keeps ``exp`` from overflowing for large inputs.

    Parameters
    ----------
    x : array_like
        Scores (logits).
    axis : int, default -1
        The axis that holds the classes.

    Raises
    ------
    TypeError
        If ``axis`` is not an int (``1.0`` is not).
    ValueError
        If ``axis`` is out of range, or ``x`` has no entries along it (no classes).

    Examples
    --------
    >>> softmax([2.0, 1.0, 0.1]).round(2)
    array([0.66, 0.24, 0.1 ])
    """
    x = finite_float_array(x, "x", "softmax")
    axis = V.class_axis(x, axis, "softmax")
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: Any, axis: int = -1) -> np.ndarray:
    """Logarithm of :func:`softmax`, computed stably as ``x - max - log(sum(exp(x - max)))``.

    Unlike ``np.log(softmax(x))`` it never takes the log of an underflowed zero,
    so logits of 1e4 still give finite values.

    Parameters
    ----------
    x : array_like
        Scores (logits).
    axis : int, default -1
        The axis that holds the classes; as in :func:`softmax`, it must exist and not be empty.
    """
    x = finite_float_array(x, "x", "log_softmax")
    axis = V.class_axis(x, axis, "log_softmax")
    return K.log_softmax(x, axis)


def flatten(x: Any, start_dim: int = 0) -> np.ndarray:
    """Join all axes from ``start_dim`` on into one, row by row (C order), as ``torch.flatten``.

    With the default ``start_dim=0`` everything becomes one vector; the
    :class:`~cnnlib.layers.Flatten` layer uses ``start_dim=1`` to keep the batch axis.

    Parameters
    ----------
    x : array_like
    start_dim : int, default 0
        First axis to merge, in ``[0, x.ndim - 1]`` (TypeError if not an int,
        ValueError if out of range).

    Examples
    --------
    >>> flatten([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    array([1., 2., 3., 4., 5., 6., 7., 8., 9.])
    """
    x = as_float_array(x, "x", "flatten")
    if not V.is_int(start_dim):
        raise TypeError(f"flatten: start_dim must be an int; got {start_dim!r}")
    if not 0 <= start_dim <= max(x.ndim - 1, 0):
        raise ValueError(f"flatten: start_dim must be in [0, {max(x.ndim - 1, 0)}] for an input of shape {x.shape}; got {start_dim}")
    return x.reshape(*x.shape[:start_dim], int(np.prod(x.shape[start_dim:])))  # (d0, ..., d_{s-1}, prod of the rest)
