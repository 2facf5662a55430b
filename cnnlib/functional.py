"""Stateless building blocks: convolution, padding, pooling, activations, softmax.

Each function takes plain NumPy arrays and returns a new array; nothing is
learned or remembered here (the layers in :mod:`cnnlib.layers` add that). Images
follow PyTorch's layout: a batch is ``(N, C, H, W)`` (images, channels, rows,
columns) and convolution weights are ``(out_channels, in_channels, kh, kw)``.

Two implementations are kept where comparing them teaches something:
``conv2d_naive`` and ``max_pool2d_naive`` are the slow, readable loops the
notebooks explain; ``conv2d`` and ``max_pool2d`` are the fast versions used for
training. The test suite checks that each pair gives the same numbers.

Like every deep-learning library, "convolution" here means *cross-correlation*:
the kernel is slid over the input without being flipped. A textbook
convolution is ``conv2d(x, w[..., ::-1, ::-1])``.
"""

from __future__ import annotations

from typing import Any, Literal, Union

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._validate import as_float_array, check_finite, pair, positive_int

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
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "flatten",
]

PadMode = Literal["zeros", "edge"]
Padding = Union[int, tuple[int, int], tuple[tuple[int, int], tuple[int, int]], str]
Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))

_PAD_MODES = ("zeros", "edge")


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
        If a size is not a positive integer, padding is negative, or the kernel
        is larger than the padded input.

    Examples
    --------
    >>> conv_output_size(28, 3, stride=1, padding=1)
    28
    >>> conv_output_size(8, 3, stride=3, padding="same") * conv_output_size(10, 3, stride=2, padding="same")
    15
    """
    where = "conv_output_size"
    n_, k_, s_ = (positive_int(v, nm, where) for v, nm in ((n, "n"), (kernel_size, "kernel_size"), (stride, "stride")))
    (before, after), _ = _resolve_padding(padding, (n_, 1), (k_, 1), (s_, 1), where)
    return _out_len(n_, k_, s_, before + after, where)


def _out_len(n: int, k: int, s: int, pad_total: int, where: str, axis: str = "") -> int:
    if n + pad_total < k:
        raise ValueError(
            f"{where}: kernel size {k}{axis} is larger than the padded input "
            f"({n} + {pad_total} padding = {n + pad_total}); use a smaller kernel or more padding"
        )
    return (n + pad_total - k) // s + 1


def _resolve_padding(
    padding: Padding, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int], where: str
) -> Pads:
    """Turn any accepted padding spec into ``((top, bottom), (left, right))``."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            pads = []
            for n, k, s in zip(size, kernel, stride):
                out = -(-n // s)  # ceil(n / s)
                total = max((out - 1) * s + k - n, 0)
                pads.append((total // 2, total - total // 2))  # the extra one goes after, as in TensorFlow
            return (pads[0], pads[1])
        raise ValueError(f"{where}: padding must be an int, a pair, 'valid' or 'same'; got {padding!r}")
    return _explicit_pads(padding, where)


def _explicit_pads(padding: Any, where: str) -> Pads:
    def is_int(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

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


def _check_pad_mode(mode: Any, where: str) -> str:
    if mode not in _PAD_MODES:
        raise ValueError(f"{where}: pad mode must be 'zeros' or 'edge'; got {mode!r}")
    return mode


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
    mode = _check_pad_mode(mode, where)
    pads = _explicit_pads(padding, where)
    widths = [(0, 0)] * (x.ndim - 2) + [pads[0], pads[1]]
    return np.pad(x, widths, mode="constant" if mode == "zeros" else "edge")


def _pad_last2(x: np.ndarray, pads: Pads, mode: str, fill: float = 0.0) -> np.ndarray:
    """Fast padding of the last two axes into a fresh contiguous array."""
    (t, b), (l, r) = pads
    if t == b == l == r == 0:
        return x
    *lead, H, W = x.shape
    xp = np.empty((*lead, H + t + b, W + l + r), dtype=x.dtype)
    xp[..., t : t + H, l : l + W] = x
    if mode == "edge":
        if l:
            xp[..., t : t + H, :l] = xp[..., t : t + H, l : l + 1]
        if r:
            xp[..., t : t + H, l + W :] = xp[..., t : t + H, l + W - 1 : l + W]
        if t:
            xp[..., :t, :] = xp[..., t : t + 1, :]
        if b:
            xp[..., t + H :, :] = xp[..., t + H - 1 : t + H, :]
    else:
        xp[..., :t, :] = fill
        xp[..., t + H :, :] = fill
        xp[..., t : t + H, :l] = fill
        xp[..., t : t + H, l + W :] = fill
    return xp


def _unpad_last2(dxp: np.ndarray, pads: Pads, mode: str) -> np.ndarray:
    """Backward of :func:`_pad_last2`: drop the border, or fold it back onto the edge for "edge"."""
    (t, b), (l, r) = pads
    H = dxp.shape[-2] - t - b
    W = dxp.shape[-1] - l - r
    if mode != "edge":
        return dxp[..., t : t + H, l : l + W]
    # Every padded value is a copy of an edge value, so its gradient flows back to that edge.
    g = dxp[..., :, l : l + W].copy()
    if l:
        g[..., :, 0] += dxp[..., :, :l].sum(axis=-1)
    if r:
        g[..., :, -1] += dxp[..., :, l + W :].sum(axis=-1)
    h = g[..., t : t + H, :].copy()
    if t:
        h[..., 0, :] += g[..., :t, :].sum(axis=-2)
    if b:
        h[..., -1, :] += g[..., t + H :, :].sum(axis=-2)
    return h


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
        check_finite(b, "b", where)
    check_finite(x, "x", where)
    check_finite(w, "w", where)
    stride = pair(stride, "stride", where)
    pads = _conv_pads(padding, (x.shape[2], x.shape[3]), (w.shape[2], w.shape[3]), stride, where)
    pad_mode = _check_pad_mode(pad_mode, where)
    return x, w, b, stride, pads, pad_mode, squeeze


def _conv_pads(padding: Padding, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int], where: str) -> Pads:
    """Resolve the padding and check that the kernel fits the padded input along rows and columns."""
    pads = _resolve_padding(padding, size, kernel, stride, where)
    for axis, n, k, s, (p0, p1) in zip(("rows", "cols"), size, kernel, stride, pads):
        _out_len(n, k, s, p0 + p1, where, f" ({axis})")
    return pads


def _squeeze_back(y: np.ndarray, squeeze: str | None) -> np.ndarray:
    if squeeze == "2d":
        return y[0, 0]
    if squeeze == "3d":
        return y[0]
    return y


def _conv_forward_fast(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, int], pads: Pads, pad_mode: str
) -> tuple[np.ndarray, np.ndarray]:
    """im2col convolution. Returns the output (N, O, OH, OW) and the columns for the backward pass.

    The input is moved to channel-first layout (C, N, H, W) so that the column
    matrix (C*kh*kw, N*OH*OW) is one matrix product away from the output.
    """
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    sh, sw = stride
    if _keeps_size(x.shape, w.shape, stride, pads, pad_mode):
        OH, OW = H, W
        cols = _im2col_same(x.transpose(1, 0, 2, 3), kh, kw, pads[0][0], pads[1][0])  # (C*kh*kw, N*H*W)
    else:
        xp = _pad_last2(x.transpose(1, 0, 2, 3), pads, pad_mode)  # (C, N, Hp, Wp)
        Hp, Wp = xp.shape[2], xp.shape[3]
        OH, OW = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
        cols = _im2col(xp, kh, kw, sh, sw, OH, OW)  # (C*kh*kw, N*OH*OW)
    out = w.reshape(O, C * kh * kw) @ cols  # (O, N*OH*OW)
    if b is not None:
        out += b.reshape(O, 1)
    # (O, N*OH*OW) -> (O, N, OH, OW) -> NCHW view (N, O, OH, OW)
    return out.reshape(O, N, OH, OW).transpose(1, 0, 2, 3), cols


def _im2col(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, OH: int, OW: int) -> np.ndarray:
    """Columns of every kernel-sized window of ``xp`` (C, N, Hp, Wp) -> (C*kh*kw, N*OH*OW)."""
    C, N = xp.shape[0], xp.shape[1]
    sC, sN, sH, sW = xp.strides
    windows = as_strided(
        xp, shape=(C, kh, kw, N, OH, OW), strides=(sC, sH, sW, sN, sH * sh, sW * sw), writeable=False
    )  # a view: windows[c, i, j, n, oh, ow] = xp[c, n, oh*sh + i, ow*sw + j]
    return windows.reshape(C * kh * kw, N * OH * OW)  # the one copy


def _col2im(dcols: np.ndarray, shape_cnhw: tuple[int, ...], kh: int, kw: int, sh: int, sw: int, OH: int, OW: int) -> np.ndarray:
    """Adjoint of :func:`_im2col`: add each column entry back to the pixel it came from."""
    C, N, Hp, Wp = shape_cnhw
    dxp = np.zeros(shape_cnhw, dtype=dcols.dtype)
    d6 = dcols.reshape(C, kh, kw, N, OH, OW)
    for i in range(kh):  # kh*kw vectorised adds instead of one np.add.at
        for j in range(kw):
            dxp[:, :, i : i + sh * (OH - 1) + 1 : sh, j : j + sw * (OW - 1) + 1 : sw] += d6[:, i, j]
    return dxp


def _keeps_size(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: tuple[int, int], pads: Pads, pad_mode: str) -> bool:
    """True for a stride-1, zero-padded convolution whose output is as large as its input ("same")."""
    (t, b), (l, r) = pads
    return stride == (1, 1) and pad_mode == "zeros" and t + b == w_shape[2] - 1 and l + r == w_shape[3] - 1


def _im2col_same(xc: np.ndarray, kh: int, kw: int, t: int, l: int) -> np.ndarray:
    """:func:`_im2col` for a stride-1 "same" convolution, without building the padded input.

    ``xc`` is the input channel-first, (C, N, H, W), padded by ``t`` rows on top and
    ``l`` columns on the left (and the rest at the bottom and right). Output pixel
    p = oh*W + ow reads input pixel p + (i - t)*W + (j - l) for kernel offset (i, j): in
    the flattened image that is one shifted slice per offset, copied in long runs, plus
    zeros where the window hangs over the border (including the pixels whose shifted
    index wrapped round into the neighbouring row).
    """
    C, N, H, W = xc.shape
    HW = H * W
    xf = xc.reshape(C, N, HW)  # free if channel-first data is contiguous, else one copy
    cols = np.empty((C, kh, kw, N, HW), dtype=xc.dtype)
    for i in range(kh):
        for j in range(kw):
            off = (i - t) * W + (j - l)
            lo, hi = max(0, -off), min(HW, HW - off)  # output pixels whose input index is inside the image
            lo = min(lo, HW)
            hi = max(hi, lo)  # no overlap at all when the kernel is larger than the image
            dst = cols[:, i, j]  # (C, N, HW)
            dst[:, :, lo:hi] = xf[:, :, lo + off : hi + off]
            dst[:, :, :lo] = 0.0
            dst[:, :, hi:] = 0.0
            d4 = dst.reshape(C, N, H, W)  # (C, N, HW) -> (C, N, H, W), a view
            if j < l:  # columns ow < l - j read left of the image (wrapped into the row above)
                d4[..., : l - j] = 0.0
            elif j > l:  # columns ow >= W - (j - l) read right of the image
                d4[..., W - (j - l) :] = 0.0
    return cols.reshape(C * kh * kw, N * HW)


def _col2im_same(dcols: np.ndarray, shape_cnhw: tuple[int, ...], kh: int, kw: int, t: int, l: int) -> np.ndarray:
    """Adjoint of :func:`_im2col_same`: (C*kh*kw, N*H*W) columns -> gradient (C, N, H, W).

    Overwrites ``dcols``: the entries that came from the zero border are cleared, so
    that one shifted add per kernel offset over the flattened image is exact.
    """
    C, N, H, W = shape_cnhw
    HW = H * W
    d = dcols.reshape(C, kh, kw, N, H, W)
    for j in range(kw):  # clear what the border (and the row wrap-round) would receive
        if j < l:
            d[:, :, j, :, :, : l - j] = 0.0
        elif j > l:
            d[:, :, j, :, :, W - (j - l) :] = 0.0
    dx = np.zeros((C, N, HW), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            off = (i - t) * W + (j - l)
            lo, hi = max(0, off), min(HW, HW + off)  # input pixels that received something at this offset
            if lo >= hi:
                continue
            dx[:, :, lo:hi] += d[:, i, j].reshape(C, N, HW)[:, :, lo - off : hi - off]
    return dx.reshape(C, N, H, W)


_INNER_BLOCK = 4096


def _matmul_long_inner(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for a small result over a very long inner axis, e.g. (9, 50176) @ (50176, 16).

    OpenBLAS is several times slower on such shapes than on the same product cut into
    blocks of a few thousand along the inner axis, whose partial products are then added
    (measured with NumPy 2.4 / OpenBLAS 0.3.31: 0.87 ms as one product, 0.2 ms in blocks,
    for the first convolution's weight gradient at batch 64).
    """
    k = a.shape[1]
    if k <= 2 * _INNER_BLOCK:
        return a @ b
    out = a[:, :_INNER_BLOCK] @ b[:_INNER_BLOCK]
    for s in range(_INNER_BLOCK, k, _INNER_BLOCK):
        out += a[:, s : s + _INNER_BLOCK] @ b[s : s + _INNER_BLOCK]
    return out


def _conv_backward_fast(
    dy: np.ndarray,
    cols: np.ndarray,
    x_shape: tuple[int, ...],
    w: np.ndarray,
    stride: tuple[int, int],
    pads: Pads,
    pad_mode: str,
    need_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) from the forward pass's columns; ``dx`` is None unless ``need_dx``.

    A network's first layer has no use for ``dx`` (nothing comes before it), and
    for it ``dx`` is half the work of the backward pass.
    """
    N, C, H, W = x_shape
    O, _, kh, kw = w.shape
    sh, sw = stride
    OH, OW = dy.shape[2], dy.shape[3]
    (t, b_), (l, r) = pads
    dy2 = dy.transpose(1, 0, 2, 3).reshape(O, N * OH * OW)  # (N, O, OH, OW) -> (O, N*OH*OW); free if dy is channel-first
    db = dy2 @ np.ones(dy2.shape[1], dtype=dy2.dtype)  # row sums as one matrix-vector product (BLAS, faster than sum)
    # Every position where the kernel was applied adds to dw. Computed as (cols @ dy2.T).T:
    # with both operands' long axis contiguous this is faster than dy2 @ cols.T.
    dw = _matmul_long_inner(cols, dy2.T).T.reshape(w.shape)  # (C*kh*kw, O) -> (O, C*kh*kw) -> (O, C, kh, kw), a small copy
    if not need_dx:
        return None, dw, db
    dcols = w.reshape(O, C * kh * kw).T @ dy2  # (C*kh*kw, N*OH*OW)
    if _keeps_size(x_shape, w.shape, stride, pads, pad_mode):
        return _col2im_same(dcols, (C, N, H, W), kh, kw, t, l).transpose(1, 0, 2, 3), dw, db
    dxp = _col2im(dcols, (C, N, H + t + b_, W + l + r), kh, kw, sh, sw, OH, OW)
    dx = _unpad_last2(dxp, pads, pad_mode).transpose(1, 0, 2, 3)  # (C, N, H, W) -> (N, C, H, W)
    return dx, dw, db


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
        padded input, or NaN/inf in the inputs.

    Examples
    --------
    >>> conv2d([[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]], [[1, 2], [-1, 0]])
    array([[ 6.,  5.,  6.],
           [-4.,  5.,  0.]])
    """
    x, w, b, stride, pads, pad_mode, squeeze = _prepare_conv(x, w, b, stride, padding, pad_mode, "conv2d")
    dtype = np.result_type(x, w)
    y, _ = _conv_forward_fast(x.astype(dtype, copy=False), w.astype(dtype, copy=False), b, stride, pads, pad_mode)
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


def _check_dy(dy: Any, expected: tuple[int, ...], where: str) -> np.ndarray:
    dy = as_float_array(dy, "dy", where)
    if dy.shape != tuple(expected):
        raise ValueError(f"{where}: expected upstream gradient dy of shape {tuple(expected)} (the output's shape); got {dy.shape}")
    check_finite(dy, "dy", where)
    return dy


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
    y, cols = _conv_forward_fast(x, w, None, stride, pads, pad_mode)
    dy = _check_dy(dy, _squeeze_back(y, squeeze).shape, where).astype(dtype, copy=False).reshape(y.shape)
    dx, dw, db = _conv_backward_fast(dy, cols, x.shape, w, stride, pads, pad_mode)
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
    dy = _check_dy(dy, _squeeze_back(np.empty(full), squeeze).shape, where).reshape(full)
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
    dx = _unpad_last2(dxp, pads, pad_mode)
    if squeeze == "2d":
        return dx[0, 0], dw[0, 0], db
    if squeeze == "3d":
        return dx[0], dw, db
    return dx, dw, db


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
    stride = positive_int(stride, "stride", where)
    if isinstance(padding, str):
        pad = _resolve_padding(padding, (1, x2.shape[-1]), (1, w2.shape[-1]), (1, stride), where)[1]
    else:
        pad = (padding, padding)
    y = conv2d(x2, w2, b, stride=(1, stride), padding=((0, 0), pad), pad_mode=pad_mode)
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
    check_finite(x, "x", where)
    kernel = pair(kernel_size, "kernel_size", where)
    stride = kernel if stride is None else pair(stride, "stride", where)
    pad = _pool_padding(padding, kernel, where)
    H, W = x.shape[-2], x.shape[-1]
    OH = _out_len(H, kernel[0], stride[0], 2 * pad[0], where, " (rows)")
    OW = _out_len(W, kernel[1], stride[1], 2 * pad[1], where, " (cols)")
    return x, kernel, stride, pad, (OH, OW)


def _pool_padding(padding: Any, kernel: tuple[int, int], where: str) -> tuple[int, int]:
    """Pooling padding as (rows, cols), at most half the kernel (as in PyTorch), so no window is all padding."""
    pad = pair(padding, "padding", where, minimum=0)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(
            f"{where}: padding must be at most half the kernel size (kernel {kernel}, so padding <= "
            f"{(kernel[0] // 2, kernel[1] // 2)}); got {pad}"
        )
    return pad


def _window(xp: np.ndarray, i: int, j: int, sh: int, sw: int, OH: int, OW: int) -> np.ndarray:
    """Entry (i, j) of every pooling window at once: shape (..., OH, OW)."""
    return xp[..., i : i + sh * (OH - 1) + 1 : sh, j : j + sw * (OW - 1) + 1 : sw]


def _max_pool_forward_fast(x, kernel, stride, pad, out_hw):
    """Max over windows, visiting each of the kh*kw window offsets once.

    Returns the output and the padded input, which the backward pass needs to
    find the winners again (cheaper than recording them here).
    """
    kh, kw = kernel
    sh, sw = stride
    OH, OW = out_hw
    xp = _pad_last2(x, ((pad[0], pad[0]), (pad[1], pad[1])), "zeros", fill=-np.inf)  # padding never wins
    out = _window(xp, 0, 0, sh, sw, OH, OW).copy()
    for k in range(1, kh * kw):
        np.maximum(out, _window(xp, k // kw, k % kw, sh, sw, OH, OW), out=out)
    return out, xp


def _max_pool_backward_fast(dy, xp, out, x_shape, kernel, stride, pad):
    """Send each window's gradient to its first maximum (row-major order within the window), as PyTorch does."""
    kh, kw = kernel
    sh, sw = stride
    OH, OW = out.shape[-2], out.shape[-1]
    overlap = sh < kh or sw < kw
    dxp = np.zeros(xp.shape, dtype=dy.dtype)
    taken = np.zeros(out.shape, dtype=bool)  # windows whose winner is already found
    for k in range(kh * kw):
        win = _window(xp, k // kw, k % kw, sh, sw, OH, OW) == out
        np.greater(win, taken, out=win)  # win and not taken: ties go to the first maximum only
        taken |= win
        target = _window(dxp, k // kw, k % kw, sh, sw, OH, OW)
        if overlap:
            target += dy * win  # an input can win several overlapping windows
        else:
            np.multiply(dy, win, out=target)
    return _unpad_last2(dxp, ((pad[0], pad[0]), (pad[1], pad[1])), "zeros")


def _tiles(kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int]) -> bool:
    """True when pooling windows tile the input: stride equal to the kernel and no padding."""
    return stride == kernel and pad == (0, 0)


def _tile_view(a: np.ndarray, kernel: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """View ``a`` (..., H, W) as (..., OH, kh, OW, kw) windows; rows/columns past the last whole window are left out."""
    (kh, kw), (OH, OW) = kernel, out_hw
    # Splitting an axis in two never needs a copy, so this is a view of ``a`` (also for
    # the channel-first memory that Conv2d produces), and writing into it writes into ``a``.
    return a[..., : OH * kh, : OW * kw].reshape(*a.shape[:-2], OH, kh, OW, kw)


def _max_pool_tiles_forward(x: np.ndarray, kernel: tuple[int, int], out_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling when the windows tile (stride == kernel, no padding).

    Returns the output and, for the backward pass, which entry of each window
    won (0 .. kh*kw - 1 in row-major order; the first one if several tie). The
    output keeps the memory order of ``x``.
    """
    kh, kw = kernel
    t = _tile_view(x, kernel, out_hw)  # (..., OH, kh, OW, kw)
    if kernel == (2, 2):
        return _max_pool_2x2_tiles(t)
    out = np.empty_like(t[..., 0, :, 0])  # (..., OH, OW)
    index = np.uint8 if kh * kw < 256 else np.intp
    winner = np.zeros(out.shape, dtype=index)
    np.copyto(out, t[..., 0, :, 0])
    better = np.empty(out.shape, dtype=bool)
    candidate = np.empty(out.shape, dtype=index)
    for k in range(1, kh * kw):
        v = t[..., k // kw, :, k % kw]  # entry (i, j) of every window
        np.greater(v, out, out=better)  # strictly greater: on a tie the earlier entry stays the winner
        # winner = k where better: k is larger than every earlier winner, so a maximum does it
        # (much faster than np.copyto(winner, k, where=better) or np.where)
        np.multiply(better, index(k), out=candidate)
        np.maximum(winner, candidate, out=winner)
        np.maximum(out, v, out=out)
    return out, winner


def _max_pool_2x2_tiles(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 2x2 case of :func:`_max_pool_tiles_forward` (the usual one), in fewer passes.

    ``t`` is the (..., OH, 2, OW, 2) tile view. Each window ``[[a, b], [c, d]]`` is
    reduced row by row: the top row's maximum and whether ``b > a``, the bottom
    row's and whether ``d > c``, then whether the bottom maximum beats the top one.
    Strict comparisons keep the first maximum in row-major order, as PyTorch does.
    """
    a, b, c, d = t[..., 0, :, 0], t[..., 0, :, 1], t[..., 1, :, 0], t[..., 1, :, 1]
    right_top = np.greater(b, a)
    out = np.maximum(a, b)  # the top row's maximum, (..., OH, OW) in the memory order of x
    right_bottom = np.greater(d, c)
    bottom_max = np.maximum(c, d)
    bottom = np.greater(bottom_max, out)
    np.maximum(out, bottom_max, out=out)
    # column of the winner: right_bottom where the bottom row won, else right_top
    # (as bool arithmetic, much faster than np.where)
    np.bitwise_xor(right_top, right_bottom, out=right_bottom)
    right_bottom &= bottom
    right_top ^= right_bottom
    winner = np.left_shift(bottom.view(np.uint8), 1)  # index = 2 * row + column
    winner |= right_top.view(np.uint8)
    return out, winner


def _max_pool_tiles_backward(dy: np.ndarray, winner: np.ndarray, x: np.ndarray, kernel: tuple[int, int]) -> np.ndarray:
    """Backward of :func:`_max_pool_tiles_forward`: each window's gradient goes to its winner.

    ``x`` is the forward pass's input; ``dx`` gets its shape and memory order.
    """
    kh, kw = kernel
    OH, OW = winner.shape[-2], winner.shape[-1]
    whole = x.shape[-2] == OH * kh and x.shape[-1] == OW * kw
    dx = np.empty_like(x, dtype=dy.dtype) if whole else np.zeros_like(x, dtype=dy.dtype)
    t = _tile_view(dx, kernel, (OH, OW))  # (..., OH, kh, OW, kw), a view into dx
    is_k = np.empty(winner.shape, dtype=bool)
    for k in range(kh * kw):
        np.equal(winner, k, out=is_k)
        np.multiply(dy, is_k, out=t[..., k // kw, :, k % kw])  # every entry of every window is written once
    return dx


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
    if _tiles(kernel, stride, pad):
        return _max_pool_tiles_forward(x, kernel, out_hw)[0]
    return _max_pool_forward_fast(x, kernel, stride, pad, out_hw)[0]


def max_pool2d_naive(
    x: Any, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0
) -> np.ndarray:
    """Max pooling with explicit loops: the version to read.

    Same arguments and result as :func:`max_pool2d`.
    """
    x, (kh, kw), (sh, sw), (ph, pw), (OH, OW) = _prepare_pool(x, kernel_size, stride, padding, "max_pool2d_naive")
    xp = _pad_last2(x, ((ph, ph), (pw, pw)), "zeros", fill=-np.inf)
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
    dy = _check_dy(dy, (*x.shape[:-2], *out_hw), where).astype(x.dtype, copy=False)
    if _tiles(kernel, stride, pad):
        _, winner = _max_pool_tiles_forward(x, kernel, out_hw)
        return _max_pool_tiles_backward(dy, winner, x, kernel)
    out, xp = _max_pool_forward_fast(x, kernel, stride, pad, out_hw)
    return _max_pool_backward_fast(dy, xp, out, x.shape, kernel, stride, pad)


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
    dy = _check_dy(dy, (*x.shape[:-2], OH, OW), where)
    xp = _pad_last2(x, ((ph, ph), (pw, pw)), "zeros", fill=-np.inf)
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
    return _avg_pool_forward_fast(x, kernel, stride, pad, out_hw)


def _avg_pool_forward_fast(x, kernel, stride, pad, out_hw):
    """Mean over windows: add up the kh*kw window offsets, then divide."""
    kh, kw = kernel
    sh, sw = stride
    OH, OW = out_hw
    xp = _pad_last2(x, ((pad[0], pad[0]), (pad[1], pad[1])), "zeros")
    out = _window(xp, 0, 0, sh, sw, OH, OW).copy()
    for k in range(1, kh * kw):
        out += _window(xp, k // kw, k % kw, sh, sw, OH, OW)
    out *= 1.0 / (kh * kw)
    return out


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
    dy = _check_dy(dy, (*x.shape[:-2], *out_hw), where)
    return _avg_pool_backward_fast(dy.astype(x.dtype, copy=False), x.shape, kernel, stride, pad)


def _avg_pool_backward_fast(dy, x_shape, kernel, stride, pad):
    kh, kw = kernel
    sh, sw = stride
    OH, OW = dy.shape[-2], dy.shape[-1]
    dxp = np.zeros((*x_shape[:-2], x_shape[-2] + 2 * pad[0], x_shape[-1] + 2 * pad[1]), dtype=dy.dtype)
    share = dy * (1.0 / (kh * kw))
    for k in range(kh * kw):
        _window(dxp, k // kw, k % kw, sh, sw, OH, OW)[...] += share
    return _unpad_last2(dxp, ((pad[0], pad[0]), (pad[1], pad[1])), "zeros")


# --------------------------------------------------------------------------
# Activations, softmax, flatten
# --------------------------------------------------------------------------


def _elementwise_input(x: Any, where: str) -> np.ndarray:
    x = as_float_array(x, "x", where)
    check_finite(x, "x", where)
    return x


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
    x = _elementwise_input(x, "relu")
    return np.maximum(x, 0, dtype=x.dtype)


def sigmoid(x: Any) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, squashing any number into (0, 1).

    Computed as ``0.5 * (1 + tanh(x / 2))``, which is the same function but never
    overflows for large negative ``x``.

    Parameters
    ----------
    x : array_like
        Any shape; applied elementwise.
    """
    x = _elementwise_input(x, "sigmoid")
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def tanh(x: Any) -> np.ndarray:
    """Hyperbolic tangent ``(e^x - e^-x) / (e^x + e^-x)``, squashing into (-1, 1).

    Parameters
    ----------
    x : array_like
        Any shape; applied elementwise.
    """
    return np.tanh(_elementwise_input(x, "tanh"))


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

    Examples
    --------
    >>> softmax([2.0, 1.0, 0.1]).round(2)
    array([0.66, 0.24, 0.1 ])
    """
    x = _elementwise_input(x, "softmax")
    _check_axis(x, axis, "softmax")
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
        The axis that holds the classes.
    """
    x = _elementwise_input(x, "log_softmax")
    _check_axis(x, axis, "log_softmax")
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _check_axis(x: np.ndarray, axis: int, where: str) -> None:
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{where}: axis {axis} is out of range for an input of shape {x.shape}")


def flatten(x: Any, start_dim: int = 0) -> np.ndarray:
    """Join all axes from ``start_dim`` on into one, row by row (C order), as ``torch.flatten``.

    With the default ``start_dim=0`` everything becomes one vector; the
    :class:`~cnnlib.layers.Flatten` layer uses ``start_dim=1`` to keep the batch axis.

    Parameters
    ----------
    x : array_like
    start_dim : int, default 0
        First axis to merge.

    Examples
    --------
    >>> flatten([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    array([1., 2., 3., 4., 5., 6., 7., 8., 9.])
    """
    x = as_float_array(x, "x", "flatten")
    if not 0 <= start_dim <= max(x.ndim - 1, 0):
        raise ValueError(f"flatten: start_dim must be in [0, {max(x.ndim - 1, 0)}] for an input of shape {x.shape}; got {start_dim}")
    return x.reshape(*x.shape[:start_dim], -1)  # (d0, ..., d_{s-1}, prod of the rest)
