"""Every speed trick of cnnlib, in one place: arrays in, arrays out, no argument checks.

This is the one internal interface of :mod:`cnnlib.functional` and
:mod:`cnnlib.layers`. The functions students read there check their arguments
and then call a kernel from here; each kernel is tested equal to the readable
loop version beside the public function it serves (``conv2d_naive``,
``max_pool2d_naive``, ...). Nothing here validates its input: callers pass
arrays that :mod:`cnnlib._validate` has already checked.

What is here, and why it is fast:

- padding (:func:`pad_last2`) into one preallocated array, and its adjoint;
- convolution as one matrix product (im2col): :func:`im2col` builds, for every
  output position, the column of input values under the kernel, so the whole
  convolution is ``weights @ columns``; :func:`col2im` is its adjoint. Stride-1
  "same" convolutions take :func:`im2col_same`, which copies one long shifted run
  of the whole flattened batch per kernel offset instead of building the padded
  input, and clears the entries that fell into the border;
- :func:`matmul_long_inner`, a blocked matrix product that works around a slow
  OpenBLAS shape;
- max pooling over tiling windows that records each window's winner, with a 2x2
  special case; overlapping or padded windows take one pass per window offset;
- batch norm's per-channel sums as BLAS matrix-vector products on a
  channel-first view;
- ReLU as one maximum and one comparison; log-softmax's stable core;
- for the training runner (:mod:`cnnlib._runner`), conv -> batch norm -> ReLU ->
  2x2 max-pool blocks fused: the convolution's output pixels in pooling-phase
  order (:func:`im2col_phases`), pooling before normalising
  (:func:`bn_relu_pool_forward`), and each pass over a group of channels that
  stays in the L2 cache.

Images are NCHW (``(N, C, H, W)``) at the boundary; inside, convolution works
channel-first, ``(C, N, H, W)``, so that its outputs are one matrix product away.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))


# --------------------------------------------------------------------------
# Padding
# --------------------------------------------------------------------------


def pad_last2(x: np.ndarray, pads: Pads, mode: str, fill: float = 0.0) -> np.ndarray:
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


def unpad_last2(dxp: np.ndarray, pads: Pads, mode: str) -> np.ndarray:
    """Backward of :func:`pad`: drop the border, or fold it back onto the edge for "edge"."""
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
# Convolution (im2col)
# --------------------------------------------------------------------------


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, int], pads: Pads, pad_mode: str
) -> tuple[np.ndarray, np.ndarray]:
    """im2col convolution. Returns the output (N, O, OH, OW) and the columns for the backward pass.

    The input is moved to channel-first layout (C, N, H, W) so that the column
    matrix (C*kh*kw, N*OH*OW) is one matrix product away from the output.
    """
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    sh, sw = stride
    if keeps_size(x.shape, w.shape, stride, pads, pad_mode):
        OH, OW = H, W
        cols = im2col_same(x.transpose(1, 0, 2, 3), kh, kw, pads[0][0], pads[1][0])  # (C*kh*kw, N*H*W)
    else:
        xp = pad_last2(x.transpose(1, 0, 2, 3), pads, pad_mode)  # (C, N, Hp, Wp)
        Hp, Wp = xp.shape[2], xp.shape[3]
        OH, OW = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
        cols = im2col(xp, kh, kw, sh, sw, OH, OW)  # (C*kh*kw, N*OH*OW)
    out = w.reshape(O, C * kh * kw) @ cols  # (O, N*OH*OW)
    if b is not None:
        out += b.reshape(O, 1)
    # (O, N*OH*OW) -> (O, N, OH, OW) -> NCHW view (N, O, OH, OW)
    return out.reshape(O, N, OH, OW).transpose(1, 0, 2, 3), cols


def im2col(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, OH: int, OW: int) -> np.ndarray:
    """Columns of every kernel-sized window of ``xp`` (C, N, Hp, Wp) -> (C*kh*kw, N*OH*OW)."""
    C, N = xp.shape[0], xp.shape[1]
    sC, sN, sH, sW = xp.strides
    windows = as_strided(
        xp, shape=(C, kh, kw, N, OH, OW), strides=(sC, sH, sW, sN, sH * sh, sW * sw), writeable=False
    )  # a view: windows[c, i, j, n, oh, ow] = xp[c, n, oh*sh + i, ow*sw + j]
    return windows.reshape(C * kh * kw, N * OH * OW)  # the one copy


def col2im(dcols: np.ndarray, shape_cnhw: tuple[int, ...], kh: int, kw: int, sh: int, sw: int, OH: int, OW: int) -> np.ndarray:
    """Adjoint of :func:`im2col`: add each column entry back to the pixel it came from."""
    C, N, Hp, Wp = shape_cnhw
    dxp = np.zeros(shape_cnhw, dtype=dcols.dtype)
    d6 = dcols.reshape(C, kh, kw, N, OH, OW)
    for i in range(kh):  # kh*kw vectorised adds instead of one np.add.at
        for j in range(kw):
            dxp[:, :, i : i + sh * (OH - 1) + 1 : sh, j : j + sw * (OW - 1) + 1 : sw] += d6[:, i, j]
    return dxp


def keeps_size(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: tuple[int, int], pads: Pads, pad_mode: str) -> bool:
    """True for a stride-1, zero-padded convolution whose output is as large as its input ("same")."""
    (t, b), (l, r) = pads
    return stride == (1, 1) and pad_mode == "zeros" and t + b == w_shape[2] - 1 and l + r == w_shape[3] - 1


def im2col_same(xc: np.ndarray, kh: int, kw: int, t: int, l: int) -> np.ndarray:
    """:func:`im2col` for a stride-1 "same" convolution, without building the padded input.

    ``xc`` is the input channel-first, (C, N, H, W), padded by ``t`` rows on top and
    ``l`` columns on the left (and the rest at the bottom and right). Output pixel
    p = n*H*W + oh*W + ow reads input pixel p + (i - t)*W + (j - l) for kernel offset
    (i, j): over the whole flattened batch that is one shifted slice per offset, a
    single long copy per channel. Where the window hangs over the image's border the
    shifted index lands in the row above or below, or in the neighbouring image:
    those entries are then set to zero (:func:`clear_border`).
    """
    C, N, H, W = xc.shape
    L = N * H * W
    xf = xc.reshape(C, L)  # free if channel-first data is contiguous, else one copy
    cols = np.empty((C, kh * kw, L), dtype=xc.dtype)
    for i in range(kh):
        for j in range(kw):
            off = (i - t) * W + (j - l)
            lo, hi = max(0, -off), min(L, L - off)  # output pixels whose shifted index is inside the batch
            hi = max(hi, lo)
            dst = cols[:, i * kw + j]  # (C, L)
            dst[:, lo:hi] = xf[:, lo + off : hi + off]
            dst[:, :lo] = 0.0
            dst[:, hi:] = 0.0
    clear_border(cols, N, H, W, kh, kw, t, l)
    return cols.reshape(C * kh * kw, L)


def clear_border(cols: np.ndarray, N: int, H: int, W: int, kh: int, kw: int, t: int, l: int) -> None:
    """Zero the entries of stride-1 "same" columns (C, kh*kw, N*H*W) whose input lies in the padding.

    For kernel offset (i, j) those are the output rows oh < t - i or oh >= H - (i - t)
    and the output columns ow < l - j or ow >= W - (j - l).
    """
    C = cols.shape[0]
    d = cols.reshape(C, kh, kw, N, H, W)
    for i in range(kh):
        if i < t:
            d[:, i, :, :, : min(t - i, H), :] = 0.0
        elif i > t:
            d[:, i, :, :, max(H - (i - t), 0) :, :] = 0.0
    for j in range(kw):
        if j < l:
            d[:, :, j, :, :, : min(l - j, W)] = 0.0
        elif j > l:
            d[:, :, j, :, :, max(W - (j - l), 0) :] = 0.0


def col2im_same(dcols: np.ndarray, shape_cnhw: tuple[int, ...], kh: int, kw: int, t: int, l: int) -> np.ndarray:
    """Adjoint of :func:`im2col_same`: (C*kh*kw, N*H*W) columns -> gradient (C, N, H, W).

    Overwrites ``dcols``: the entries that came from the zero border are cleared, so
    that one shifted add per kernel offset over the whole flattened batch is exact
    (and adds in the same order, offset by offset, as a loop over the pixels would).
    """
    C, N, H, W = shape_cnhw
    L = N * H * W
    d = dcols.reshape(C, kh * kw, L)
    clear_border(d, N, H, W, kh, kw, t, l)
    dx = np.zeros((C, L), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            off = (i - t) * W + (j - l)
            lo, hi = max(0, off), min(L, L + off)  # input pixels that received something at this offset
            if lo >= hi:
                continue
            dx[:, lo:hi] += d[:, i * kw + j, lo - off : hi - off]
    return dx.reshape(C, N, H, W)


INNER_BLOCK = 4096


def matmul_long_inner(a: np.ndarray, b: np.ndarray, block: int = INNER_BLOCK) -> np.ndarray:
    """``a @ b`` for a small result over a very long inner axis, e.g. (9, 50176) @ (50176, 16).

    OpenBLAS is several times slower on such shapes than on the same product cut into
    blocks of a few thousand along the inner axis, whose partial products are then added
    (measured with NumPy 2.4 / OpenBLAS 0.3.31: 0.87 ms as one product, 0.2 ms in blocks,
    for the first convolution's weight gradient at batch 64).
    """
    k = a.shape[1]
    if k <= 2 * block:
        return a @ b
    out = a[:, :block] @ b[:block]
    for s in range(block, k, block):
        out += a[:, s : s + block] @ b[s : s + block]
    return out


def conv2d_backward(
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
    db = channel_sum(dy2[None])  # row sums as one matrix-vector product (BLAS, faster than sum)
    # Every position where the kernel was applied adds to dw. Computed as (cols @ dy2.T).T:
    # with both operands' long axis contiguous this is faster than dy2 @ cols.T.
    dw = matmul_long_inner(cols, dy2.T).T.reshape(w.shape)  # (C*kh*kw, O) -> (O, C*kh*kw) -> (O, C, kh, kw), a small copy
    if not need_dx:
        return None, dw, db
    dcols = w.reshape(O, C * kh * kw).T @ dy2  # (C*kh*kw, N*OH*OW)
    if keeps_size(x_shape, w.shape, stride, pads, pad_mode):
        return col2im_same(dcols, (C, N, H, W), kh, kw, t, l).transpose(1, 0, 2, 3), dw, db
    dxp = col2im(dcols, (C, N, H + t + b_, W + l + r), kh, kw, sh, sw, OH, OW)
    dx = unpad_last2(dxp, pads, pad_mode).transpose(1, 0, 2, 3)  # (C, N, H, W) -> (N, C, H, W)
    return dx, dw, db


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------


def window(xp: np.ndarray, i: int, j: int, sh: int, sw: int, OH: int, OW: int) -> np.ndarray:
    """Entry (i, j) of every pooling window at once: shape (..., OH, OW)."""
    return xp[..., i : i + sh * (OH - 1) + 1 : sh, j : j + sw * (OW - 1) + 1 : sw]


def max_pool_windows_forward(x, kernel, stride, pad, out_hw):
    """Max over windows, visiting each of the kh*kw window offsets once.

    Returns the output and the padded input, which the backward pass needs to
    find the winners again (cheaper than recording them here).
    """
    kh, kw = kernel
    sh, sw = stride
    OH, OW = out_hw
    xp = pad_last2(x, ((pad[0], pad[0]), (pad[1], pad[1])), "zeros", fill=-np.inf)  # padding never wins
    out = window(xp, 0, 0, sh, sw, OH, OW).copy()
    for k in range(1, kh * kw):
        np.maximum(out, window(xp, k // kw, k % kw, sh, sw, OH, OW), out=out)
    return out, xp


def max_pool_windows_backward(dy, xp, out, x_shape, kernel, stride, pad):
    """Send each window's gradient to its first maximum (row-major order within the window), as PyTorch does."""
    kh, kw = kernel
    sh, sw = stride
    OH, OW = out.shape[-2], out.shape[-1]
    overlap = sh < kh or sw < kw
    dxp = np.zeros(xp.shape, dtype=dy.dtype)
    taken = np.zeros(out.shape, dtype=bool)  # windows whose winner is already found
    for k in range(kh * kw):
        win = window(xp, k // kw, k % kw, sh, sw, OH, OW) == out
        np.greater(win, taken, out=win)  # win and not taken: ties go to the first maximum only
        taken |= win
        target = window(dxp, k // kw, k % kw, sh, sw, OH, OW)
        if overlap:
            target += dy * win  # an input can win several overlapping windows
        else:
            np.multiply(dy, win, out=target)
    return unpad_last2(dxp, ((pad[0], pad[0]), (pad[1], pad[1])), "zeros")


def tiles(kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int]) -> bool:
    """True when pooling windows tile the input: stride equal to the kernel and no padding."""
    return stride == kernel and pad == (0, 0)


def tile_view(a: np.ndarray, kernel: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """View ``a`` (..., H, W) as (..., OH, kh, OW, kw) windows; rows/columns past the last whole window are left out."""
    (kh, kw), (OH, OW) = kernel, out_hw
    # Splitting an axis in two never needs a copy, so this is a view of ``a`` (also for
    # the channel-first memory that Conv2d produces), and writing into it writes into ``a``.
    return a[..., : OH * kh, : OW * kw].reshape(*a.shape[:-2], OH, kh, OW, kw)


def max_pool_tiles_forward(x: np.ndarray, kernel: tuple[int, int], out_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling when the windows tile (stride == kernel, no padding).

    Returns the output and, for the backward pass, which entry of each window
    won (0 .. kh*kw - 1 in row-major order; the first one if several tie). The
    output keeps the memory order of ``x``.
    """
    kh, kw = kernel
    t = tile_view(x, kernel, out_hw)  # (..., OH, kh, OW, kw)
    if kernel == (2, 2):
        return max_pool_2x2_tiles(t)
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


def max_of_four(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise maximum of the windows ``[[a, b], [c, d]]`` and which entry won (0..3).

    Each window is reduced row by row: the top row's maximum and whether ``b > a``,
    the bottom row's and whether ``d > c``, then whether the bottom maximum beats
    the top one. Strict comparisons keep the first maximum in row-major order, as
    PyTorch does.
    """
    right_top = np.greater(b, a)
    out = np.maximum(a, b)  # the top row's maximum
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


def max_pool_2x2_tiles(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 2x2 case of :func:`max_pool_tiles_forward` (the usual one), in fewer passes: :func:`max_of_four`.

    ``t`` is the (..., OH, 2, OW, 2) tile view; the output is (..., OH, OW) in the memory order of x.
    """
    return max_of_four(t[..., 0, :, 0], t[..., 0, :, 1], t[..., 1, :, 0], t[..., 1, :, 1])


def max_pool_tiles_backward(dy: np.ndarray, winner: np.ndarray, x: np.ndarray, kernel: tuple[int, int]) -> np.ndarray:
    """Backward of :func:`max_pool_tiles_forward`: each window's gradient goes to its winner.

    ``x`` is the forward pass's input; ``dx`` gets its shape and memory order.
    """
    kh, kw = kernel
    OH, OW = winner.shape[-2], winner.shape[-1]
    whole = x.shape[-2] == OH * kh and x.shape[-1] == OW * kw
    dx = np.empty_like(x, dtype=dy.dtype) if whole else np.zeros_like(x, dtype=dy.dtype)
    t = tile_view(dx, kernel, (OH, OW))  # (..., OH, kh, OW, kw), a view into dx
    is_k = np.empty(winner.shape, dtype=bool)
    for k in range(kh * kw):
        np.equal(winner, k, out=is_k)
        np.multiply(dy, is_k, out=t[..., k // kw, :, k % kw])  # every entry of every window is written once
    return dx


def avg_pool2d_forward(x, kernel, stride, pad, out_hw):
    """Mean over windows: add up the kh*kw window offsets, then divide."""
    kh, kw = kernel
    sh, sw = stride
    OH, OW = out_hw
    xp = pad_last2(x, ((pad[0], pad[0]), (pad[1], pad[1])), "zeros")
    out = window(xp, 0, 0, sh, sw, OH, OW).copy()
    for k in range(1, kh * kw):
        out += window(xp, k // kw, k % kw, sh, sw, OH, OW)
    out *= 1.0 / (kh * kw)
    return out


def avg_pool2d_backward(dy, x_shape, kernel, stride, pad):
    kh, kw = kernel
    sh, sw = stride
    OH, OW = dy.shape[-2], dy.shape[-1]
    dxp = np.zeros((*x_shape[:-2], x_shape[-2] + 2 * pad[0], x_shape[-1] + 2 * pad[1]), dtype=dy.dtype)
    share = dy * (1.0 / (kh * kw))
    for k in range(kh * kw):
        window(dxp, k // kw, k % kw, sh, sw, OH, OW)[...] += share
    return unpad_last2(dxp, ((pad[0], pad[0]), (pad[1], pad[1])), "zeros")


# --------------------------------------------------------------------------
# Batch norm: per-channel reductions
# --------------------------------------------------------------------------


def channels_in_middle(x: np.ndarray, like: np.ndarray | None = None) -> tuple[np.ndarray, Any]:
    """View ``x`` (N, C, ...) as a 3-D array (A, C, B) with the channels in the middle, and the way back.

    Batch norm reduces over every axis but the channels. Conv2d's output is
    stored channel-first, (C, N, H, W) in memory: then the view is
    (1, C, N*H*W) with each channel one contiguous row, and no copy is made.
    Otherwise ``x`` is made C-contiguous and viewed as (N, C, H*W). ``back``
    turns any array of the view's shape into ``x``'s shape and memory order.
    With ``like``, ``x`` is brought to the (A, C, B) shape of ``like``.
    """
    N, C, rest = x.shape[0], x.shape[1], x.shape[2:]
    channel_first = x.swapaxes(0, 1)  # (C, N, ...)
    if (like is None and x.ndim > 2 and channel_first.flags.c_contiguous) or (like is not None and like.shape[0] == 1):
        x3 = np.ascontiguousarray(channel_first).reshape(1, C, N * math.prod(rest))  # (C, N, ...) -> (1, C, N*...)

        def back(a: np.ndarray) -> np.ndarray:
            return a.reshape(C, N, *rest).swapaxes(0, 1)  # (1, C, N*...) -> (N, C, ...) view

        return x3, back
    shape = x.shape
    x3 = np.ascontiguousarray(x).reshape(N, C, math.prod(rest))  # (N, C, ...) -> (N, C, prod(...)), also for N = 0

    def back(a: np.ndarray) -> np.ndarray:
        return a.reshape(shape)

    return x3, back


def channel_sum(a: np.ndarray) -> np.ndarray:
    """Sum of (A, C, B) over A and B, per channel: matrix-vector products (BLAS) instead of np.sum."""
    return (a @ _ones(a.shape[2], a.dtype)).sum(axis=0)  # (A, C, B) @ (B,) -> (A, C) -> (C,)


_ONES: dict[np.dtype, np.ndarray] = {}  # per dtype, the longest vector of ones asked for so far (read-only)


def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ``n`` ones: the first ``n`` of one kept vector per dtype, made again only
    when a longer one is needed. A training step sums over the same few lengths many times, and
    filling a new vector at each call cost 15 % of channel_sum (mnist_cnn's first block at batch 64:
    50,176 float32 ones, 200 kB). The process keeps the longest one per dtype; the vector returned
    is a view of it that cannot be made writeable (its base is read-only)."""
    dtype = np.dtype(dtype)
    kept = _ONES.get(dtype)
    if kept is None or kept.size < n:
        kept = np.ones(n, dtype=dtype)
        kept.flags.writeable = False
        _ONES[dtype] = kept
    return kept[:n]


def channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum of ``a * b`` (both (A, C, B)) over A and B, per channel, without the product array."""
    return np.einsum("acb,acb->c", a, b) if _vecdot is None else _vecdot(a, b).sum(axis=0)


_vecdot = getattr(np, "vecdot", None)  # NumPy >= 2.0: a dot product per row (BLAS); einsum otherwise


def max_pool2d_forward(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int], out_hw: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling of (..., H, W); returns the output and what :func:`max_pool2d_backward` needs.

    Tiling windows (stride == kernel, no padding, the usual case) record each
    window's winner; overlapping or padded windows keep the padded input, in which
    the backward pass finds the winners again.
    """
    if tiles(kernel, stride, pad):
        return max_pool_tiles_forward(x, kernel, out_hw)
    return max_pool_windows_forward(x, kernel, stride, pad, out_hw)


def max_pool2d_backward(
    dy: np.ndarray, x: np.ndarray, y: np.ndarray, record: np.ndarray,
    kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int],
) -> np.ndarray:
    """Gradient of :func:`max_pool2d_forward` (``record`` is its second result): each window's gradient goes to its first maximum."""
    if tiles(kernel, stride, pad):
        return max_pool_tiles_backward(dy, record, x, kernel)
    return max_pool_windows_backward(dy, record, y, x.shape, kernel, stride, pad)


# --------------------------------------------------------------------------
# Activations and softmax
# --------------------------------------------------------------------------


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``max(0, x)`` and the mask ``x > 0`` that its backward pass multiplies by: two passes.

    ``np.maximum(x, 0)`` returns its second argument when the two are equal, so
    -0.0 gives +0.0 (tested in tests/test_gradients.py and tests/test_kernels.py);
    NaN stays NaN and -inf gives 0. (``x * mask`` followed by ``+ 0.0`` for the
    sign of zero took three passes, and turned -inf into NaN.)
    """
    return np.maximum(x, x.dtype.type(0)), x > 0


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``x - max - log(sum(exp(x - max)))`` along ``axis``: never the log of an underflowed zero."""
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


# --------------------------------------------------------------------------
# Conv -> batch norm -> ReLU -> 2x2 max-pool blocks, fused (the runner, cnnlib/_runner.py)
# --------------------------------------------------------------------------
#
# The layers one by one write and re-read the convolution's whole output
# several times: batch norm's centring, scaling and shift, then the pool's
# strided comparisons (every other element: NumPy's slow, unvectorised loops).
# The fused block orders the convolution's output positions so that the four
# entries of every 2x2 window are four contiguous blocks ("phases", as in
# space-to-depth / pixel-unshuffle): position (f*h + 2*q + p) of a row is stored
# in phase block p, sub-block q. Pooling is then three contiguous comparisons,
# and since batch norm with a positive scale is an increasing map per channel,
# the block pools first and normalises and applies the ReLU on the pooled
# quarter only. Only the statistics need every value.
#
# A chain of B blocks starts with phase factor f = 2**B: the first block pools
# away one factor 2 and hands the next block its output already split into
# f/2 x f/2 phases, which is the layout that block's convolution reads. Within a
# phase the batch is the last axis, (h, w, n): a shift by whole pixels is then
# one flat offset, and the first block's columns are copied in runs of N values.


def _phase_offsets(f: int, k: int, pad: int) -> list[tuple[int, int, int, int]]:
    """For output phase r (row f*h + r) and kernel offset i: (r, i, input phase, shift).

    The input row read is f*h + r + i - pad = f*(h + shift) + phase.
    """
    return [(r, i, (r + i - pad) % f, (r + i - pad) // f) for r in range(f) for i in range(k)]


def _pool_order(r: int, f: int) -> tuple[int, int]:
    """Output phase r (0..f-1) -> (p, q) with r = 2*q + p: p is the position in the 2x2 window."""
    return r % 2, r // 2


def _padded_batch_last(x: np.ndarray, kh: int, kw: int, t: int, l: int) -> np.ndarray:
    """(N, C, H, W) -> zero-padded (C, H + kh - 1, W + kw - 1, N): the batch as the last axis."""
    N, C, H, W = x.shape
    xp = np.zeros((C, H + kh - 1, W + kw - 1, N), dtype=x.dtype)
    xp[:, t : t + H, l : l + W, :] = x.transpose(1, 2, 3, 0)
    return xp


def _phase_windows(xp: np.ndarray, kh: int, kw: int, f: int, Hf: int, Wf: int, writeable: bool = False) -> np.ndarray:
    """View of padded (C, Hp, Wp, N) as (C, kh, kw, p_h, p_w, q_h, q_w, Hf, Wf, N): the pixel under kernel
    offset (i, j) of output pixel (f*h + 2*q_h + p_h, f*w + 2*q_w + p_w) of image n."""
    g = f // 2
    sC, sH, sW, sN = xp.strides
    return as_strided(
        xp, shape=(xp.shape[0], kh, kw, 2, 2, g, g, Hf, Wf, xp.shape[3]),
        strides=(sC, sH, sW, sH, sW, 2 * sH, 2 * sW, f * sH, f * sW, sN), writeable=writeable,
    )


def im2col_phases_from_image(x: np.ndarray, kh: int, kw: int, t: int, l: int, f: int, out: np.ndarray) -> np.ndarray:
    """Columns of a stride-1 "same" convolution of ``x`` (N, C, H, W), output positions in pooling-phase order.

    Rows are (c, i, j) as in :func:`im2col`; columns are ordered
    (p_h, p_w, q_h, q_w, h, w, n) for output pixel (f*h + 2*q_h + p_h, f*w + 2*q_w + p_w)
    of image n, g = f // 2 values of q: shape (C*kh*kw, 4 * g*g * (H//f)*(W//f)*N).
    One strided copy, into ``out`` (returned).
    """
    N, C, H, W = x.shape
    windows = _phase_windows(_padded_batch_last(x, kh, kw, t, l), kh, kw, f, H // f, W // f)
    np.copyto(out.reshape(windows.shape), windows)
    return out


def col2im_phases_to_image(dcols: np.ndarray, x_shape: tuple[int, ...], kh: int, kw: int, t: int, l: int, f: int) -> np.ndarray:
    """Adjoint of :func:`im2col_phases_from_image`: columns -> gradient (N, C, H, W) (a view)."""
    N, C, H, W = x_shape
    dxp = np.zeros((C, H + kh - 1, W + kw - 1, N), dtype=dcols.dtype)
    target = _phase_windows(dxp, kh, kw, f, H // f, W // f, writeable=True)
    d = dcols.reshape(target.shape)
    for i in range(kh):  # for one kernel offset the windows' pixels are all different: one add each
        for j in range(kw):
            target[:, i, j] += d[:, i, j]
    return dxp[:, t : t + H, l : l + W, :].transpose(3, 0, 1, 2)


def _shift_region(N: int, Hf: int, Wf: int, sh: int, sw: int) -> tuple[int, int, int]:
    """The flat offset of a shift by (sh, sw) pixels in (Hf, Wf, N) images, and the range
    [lo, hi) of positions whose shifted position is inside the array (the others lie in the border)."""
    off = (sh * Wf + sw) * N
    L = N * Hf * Wf
    lo, hi = max(0, -off), min(L, L - off)
    return off, lo, max(hi, lo)


@functools.lru_cache(maxsize=64)
def _phase_copies(f: int, N: int, H: int, W: int, kh: int, kw: int, t: int, l: int) -> tuple[tuple, ...]:
    """The long copies of :func:`im2col_phases` (and adds of its adjoint :func:`col2im_phases`).

    For each output phase (p_h, p_w, q_h, q_w) and kernel offset (i, j): the input phase
    ``a`` read, the flat offset of its shift, and the range [lo, hi) of positions whose
    shifted position is inside the array. As (i, j, p_h, p_w, q_h, q_w, a, off, lo, hi).
    Made once per shape, batch size included (cached, the last 64 shapes: a few hundred
    bytes each): every step of a training run asks for the same few.
    """
    Hf, Wf = H // f, W // f
    copies = []
    for rh, i, ah, sh in _phase_offsets(f, kh, t):
        ph, qh = _pool_order(rh, f)
        for rw, j, aw, sw in _phase_offsets(f, kw, l):
            pw, qw = _pool_order(rw, f)
            off, lo, hi = _shift_region(N, Hf, Wf, sh, sw)
            copies.append((i, j, ph, pw, qh, qw, ah * f + aw, off, lo, hi))
    return tuple(copies)


def clear_phase_border(cols: np.ndarray, f: int, N: int, Hf: int, Wf: int, kh: int, kw: int, t: int, l: int) -> None:
    """Zero the entries of phase columns (C*kh*kw, ...) whose input pixel lies in the padding.

    For output phase r and kernel offset i the input is shifted by s rows
    (:func:`_phase_offsets`): rows h < -s or h >= Hf - s read the border. One
    assignment per (r, i) pair and per (r, j) pair whose shift is not 0.
    """
    g = f // 2
    d = cols.reshape(-1, kh, kw, 2, 2, g, g, Hf, Wf, N)
    for r, i, _, sh in _phase_offsets(f, kh, t):
        p, q = _pool_order(r, f)
        if sh:
            rows = slice(max(Hf - sh, 0), None) if sh > 0 else slice(0, min(-sh, Hf))
            d[:, i, :, p, :, q, :, rows] = 0.0
    for r, j, _, sw in _phase_offsets(f, kw, l):
        p, q = _pool_order(r, f)
        if sw:
            columns = slice(max(Wf - sw, 0), None) if sw > 0 else slice(0, min(-sw, Wf))
            d[:, :, j, :, p, :, q, :, columns] = 0.0


def im2col_phases(P: np.ndarray, f: int, N: int, H: int, W: int, kh: int, kw: int, t: int, l: int, out: np.ndarray) -> np.ndarray:
    """:func:`im2col_phases_from_image` for an input already split into phases, ``P`` (C, f*f, (H//f)*(W//f)*N).

    Each (output phase, kernel offset) pair reads one input phase shifted by whole
    pixels: a single long copy per channel. The entries whose shifted pixel lies
    outside its image (in the row above, or the next image) are then cleared, as
    in :func:`im2col_same`. Writes into ``out`` (returned).
    """
    C = P.shape[0]
    g, Hf, Wf = f // 2, H // f, W // f
    L = N * Hf * Wf
    cols = out.reshape(C, kh, kw, 2, 2, g, g, L)
    for i, j, ph, pw, qh, qw, a, off, lo, hi in _phase_copies(f, N, H, W, kh, kw, t, l):
        # entries outside [lo, hi) read beyond the batch: clear_phase_border zeroes them
        cols[:, i, j, ph, pw, qh, qw, lo:hi] = P[:, a, lo + off : hi + off]
    clear_phase_border(cols, f, N, Hf, Wf, kh, kw, t, l)
    return out


def col2im_phases(dcols: np.ndarray, C: int, f: int, N: int, H: int, W: int, kh: int, kw: int, t: int, l: int) -> np.ndarray:
    """Adjoint of :func:`im2col_phases`: columns -> gradient in phases (C, f*f, (H//f)*(W//f)*N). Overwrites ``dcols``."""
    g, Hf, Wf = f // 2, H // f, W // f
    L = N * Hf * Wf
    clear_phase_border(dcols, f, N, Hf, Wf, kh, kw, t, l)  # what came from the padding goes nowhere
    d = dcols.reshape(C, kh, kw, 2, 2, g, g, L)
    dP = np.zeros((C, f * f, L), dtype=dcols.dtype)
    for i, j, ph, pw, qh, qw, a, off, lo, hi in _phase_copies(f, N, H, W, kh, kw, t, l):
        dP[:, a, lo + off : hi + off] += d[:, i, j, ph, pw, qh, qw, lo:hi]
    return dP


CHUNK_BYTES = 1 << 20


def channel_chunks(z: np.ndarray) -> list[slice]:
    """Groups of consecutive channels of ``z`` of about CHUNK_BYTES (1 MB) each.

    The block's passes over a convolution's output (centre, variance, pool, and
    backward the mask, scale and scatter) are done group by group, so that each
    group is read from the processor's L2 cache after the first pass instead of
    from main memory (measured: about 20 % faster for the first block of mnist_cnn).
    """
    step = max(1, CHUNK_BYTES // max(1, z[0].nbytes))
    return [slice(s, s + step) for s in range(0, z.shape[0], step)]


def bn_relu_pool_forward(
    z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> tuple[np.ndarray, list, np.ndarray, np.ndarray]:
    """Batch norm (training), ReLU and 2x2 max-pool of a convolution's output in pooling-phase order.

    ``z`` is (O, 4, M): for each channel, the four entries of every window as four
    blocks, without the convolution's bias (batch norm subtracts it again). It is
    centred in place, and :func:`bn_relu_pool_backward` later overwrites it with
    its gradient. Returns the pooled output (O, M), what the backward pass needs,
    and the batch mean (of ``z``) and biased variance.
    """
    y = np.empty((z.shape[0], z.shape[2]), dtype=z.dtype)
    mean, var = np.empty(z.shape[0], dtype=z.dtype), np.empty(z.shape[0], dtype=z.dtype)
    caches = []
    for sl in channel_chunks(z):
        caches.append((sl, _bn_relu_pool_forward(z[sl], gamma[sl], beta[sl], eps, y[sl], mean[sl], var[sl])))
    return y, caches, mean, var


def bn_relu_pool_inference(z: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Batch norm with fixed statistics (``scale * z + shift`` per channel), ReLU and 2x2 max-pool of a
    convolution's output ``z`` (O, 4, M) in pooling-phase order: the pooled output (O, M), for evaluation."""
    y = np.empty((z.shape[0], z.shape[2]), dtype=z.dtype)
    for sl in channel_chunks(z):
        pool_scale_relu(z[sl], scale[sl], shift[sl], out=y[sl])
    return y


class BlockCache(NamedTuple):
    """What :func:`bn_relu_pool_backward` needs from the forward pass, for some channels."""

    z: np.ndarray  # (n, 4, M) the centred convolution output, z - mean; backward overwrites it with dz
    v: np.ndarray  # sign(scale) * z: the values pooled (z itself when every scale is positive)
    v_max: np.ndarray  # (n, M) the largest v of each window
    mask: np.ndarray  # (n, M) where the ReLU let the output through
    inv_std: np.ndarray  # 1 / sqrt(var + eps) per channel
    scale: np.ndarray  # gamma * inv_std per channel
    sign: np.ndarray  # sign(scale) per channel


def _bn_relu_pool_forward(z, gamma, beta, eps, y, mean, var) -> BlockCache:
    """:func:`bn_relu_pool_forward` for some channels, into ``y``, ``mean`` and ``var``; returns the cache."""
    z3 = z.reshape(1, z.shape[0], -1)  # (1, n, 4*M): the channels in the middle, as channel_sum expects
    m = z3.shape[2]
    mean[:] = channel_sum(z3) / m
    z3 -= mean[:, None]
    var[:] = channel_dot(z3, z3) / m  # biased variance, as batch norm normalises with
    inv_std = (1.0 / np.sqrt(var + eps)).astype(z.dtype)
    scale = gamma * inv_std
    v, v_max, mask, sign = pool_scale_relu(z, scale, beta, out=y)
    return BlockCache(z, v, v_max, mask, inv_std, scale, sign)


def pool_scale_relu(z: np.ndarray, scale: np.ndarray, shift: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, ...]:
    """``out = relu(max-pool(scale * z + shift))`` per channel of ``z`` (O, 4, M) in pooling-phase order, pooling first.

    Max-pooling commutes with an increasing map, so the block pools ``v = sign(scale) * z``
    and scales only the winners. Returns, for the backward pass, v, the largest v of
    each window, the ReLU's mask and sign(scale).
    """
    sign = np.sign(scale)
    v = z if (sign > 0).all() else z * sign[:, None, None]
    v_max = np.maximum(v[:, 0], v[:, 1])
    np.maximum(v_max, np.maximum(v[:, 2], v[:, 3]), out=v_max)
    y = np.multiply(v_max, np.abs(scale)[:, None], out=out)
    y += shift[:, None]
    mask = y > 0
    np.maximum(y, y.dtype.type(0), out=y)
    return v, v_max, mask, sign


def bn_relu_pool_backward(dy: np.ndarray, caches: list) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of :func:`bn_relu_pool_forward`: dgamma and dbeta; dz (O, 4, M) is written over ``z``."""
    parts = [_bn_relu_pool_backward(dy[sl], cache) for sl, cache in caches]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _bn_relu_pool_backward(dy: np.ndarray, cache: BlockCache) -> tuple[np.ndarray, np.ndarray]:
    zc, v, v_max, mask, inv_std, scale, sign = cache
    m = zc[0].size
    g = np.multiply(dy, mask)  # through the ReLU
    dbeta = channel_sum(g[None])
    flipped = v is not zc  # some scale is not positive: v = sign * zc
    x_win = v_max * sign[:, None] if flipped else v_max  # the centred value of each window's winner
    if flipped and (sign == 0).any():  # gamma = 0: every entry ties, the first one wins
        x_win[sign == 0] = zc[sign == 0, 0]
    dgamma = channel_dot(g[None], x_win[None]) * inv_std  # sum(dy * xhat) over the winners
    # dz = scale * (scatter(g) - mean(dy) - xhat * mean(dy * xhat)), means over all m values
    c1 = (scale * inv_std * (dgamma / m)).astype(zc.dtype)
    c0 = (-scale * (dbeta / m)).astype(zc.dtype)
    # each window's gradient goes to its first maximum (row-major), found again by comparing with v_max
    wins = [np.equal(v[:, 0], v_max)]
    taken = wins[0].copy()
    for k in (1, 2):
        win = np.equal(v[:, k], v_max)
        np.greater(win, taken, out=win)  # win and not taken: ties go to the first maximum only
        taken |= win
        wins.append(win)
    wins.append(np.logical_not(taken, out=taken))
    g *= scale[:, None]
    dz = zc  # the centred input is not needed any more: its memory takes the gradient
    dz *= -c1[:, None, None]
    dz += c0[:, None, None]
    part = np.empty_like(g)
    for k in range(4):
        np.multiply(g, wins[k], out=part)
        dz[:, k] += part
    return dgamma, dbeta
