"""cnnlib.functional: the fast versions agree with the naive loops, and known properties hold.

Expected values come from the naive loop versions, from reference
implementations written in this file (``np.pad`` + ``sliding_window_view`` +
``np.einsum``), or from hand computations; never from the function under test.
"""

from __future__ import annotations

import itertools
import math
import warnings
import zlib

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    avg_pool2d,
    avg_pool2d_backward,
    conv1d,
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_naive,
    log_softmax,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_backward_naive,
    max_pool2d_naive,
    pad2d,
    relu,
    sigmoid,
    softmax,
    tanh,
)

RTOL = 1e-12

# ---------------------------------------------------------------------------
# Reference implementations (independent of cnnlib)
# ---------------------------------------------------------------------------


def ref_pads(padding, H, W, kh, kw, sh, sw):
    """((top, bottom), (left, right)) for any padding spec; 'same' as TensorFlow (extra after)."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        out = []
        for n, k, s in ((H, kh, sh), (W, kw, sw)):
            total = max((math.ceil(n / s) - 1) * s + k - n, 0)
            out.append((total // 2, total - total // 2))
        return tuple(out)
    if isinstance(padding, int):
        return ((padding, padding), (padding, padding))
    if isinstance(padding[0], int):
        return ((padding[0], padding[0]), (padding[1], padding[1]))
    return tuple(tuple(p) for p in padding)


def ref_conv(x, w, b=None, stride=(1, 1), pads=((0, 0), (0, 0)), mode="zeros"):
    """NCHW x, OIHW w: pad with np.pad, take every window, contract with einsum."""
    sh, sw = stride
    kh, kw = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), *pads), mode="constant" if mode == "zeros" else "edge")
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]  # (N, C, OH, OW, kh, kw)
    y = np.einsum("ncijpq,ocpq->noij", win, w)
    if b is not None:
        y = y + np.asarray(b)[None, :, None, None]
    return y


def ref_max_pool(x, k, s, p):
    """Max pooling of (..., H, W) with -inf padding, via sliding_window_view."""
    kh, kw = k
    sh, sw = s
    lead = [(0, 0)] * (x.ndim - 2)
    xp = np.pad(x, lead + [(p[0], p[0]), (p[1], p[1])], mode="constant", constant_values=-np.inf)
    win = sliding_window_view(xp, (kh, kw), axis=(-2, -1))[..., ::sh, ::sw, :, :]
    return win.max(axis=(-2, -1))


def ref_max_pool_backward(dy, x, k, s, p):
    """Loop: each window's gradient goes to its first (row-major) maximum; padding never wins."""
    kh, kw = k
    sh, sw = s
    H, W = x.shape[-2:]
    dx = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape[:-2]):
        for i in range(dy.shape[-2]):
            for j in range(dy.shape[-1]):
                best, where = -np.inf, None
                for a in range(kh):
                    for c in range(kw):
                        r, q = i * sh + a - p[0], j * sw + c - p[1]
                        if 0 <= r < H and 0 <= q < W and x[idx + (r, q)] > best:
                            best, where = x[idx + (r, q)], (r, q)
                dx[idx + where] += dy[idx + (i, j)]
    return dx


def seed_of(*args):
    """A seed that depends on the parameters but not on Python's hash randomisation."""
    return zlib.crc32(repr(args).encode())


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ---------------------------------------------------------------------------
# conv2d == conv2d_naive == reference over a grid
# ---------------------------------------------------------------------------

# (N, C, O) combinations that cover every value of N in {1, 2}, C in {1, 3}, O in {1, 4}
NCO = [(1, 1, 1), (2, 3, 4), (1, 3, 4), (2, 1, 1)]
SIZES = [(5, 7), (6, 9), (1, 5)]
KERNELS = [(1, 1), (2, 3), (3, 3)]
STRIDES = [1, 2, (2, 3)]
PADDINGS = [0, 1, (1, 2), ((0, 1), (2, 0)), "same", "valid"]
PAD_MODES = ["zeros", "edge"]


def padding_id(p):
    return str(p).replace(" ", "")


def conv_case_fits(H, W, kh, kw, stride, padding):
    sh, sw = pair(stride)
    (t, b), (l, r) = ref_pads(padding, H, W, kh, kw, sh, sw)
    return H + t + b >= kh and W + l + r >= kw


@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("padding", PADDINGS, ids=padding_id)
@pytest.mark.parametrize("stride", STRIDES, ids=padding_id)
@pytest.mark.parametrize("kernel", KERNELS, ids=padding_id)
def test_conv2d_fast_equals_naive(kernel, stride, padding, pad_mode):
    rng = np.random.default_rng(seed_of(kernel, stride, padding, pad_mode))
    kh, kw = kernel
    sh, sw = pair(stride)
    checked = 0
    for (N, C, O), (H, W), with_bias in itertools.product(NCO, SIZES, (False, True)):
        x = rng.normal(size=(N, C, H, W))
        w = rng.normal(size=(O, C, kh, kw))
        b = rng.normal(size=O) if with_bias else None
        kwargs = dict(stride=stride, padding=padding, pad_mode=pad_mode)
        if not conv_case_fits(H, W, kh, kw, stride, padding):
            for conv in (conv2d, conv2d_naive):
                with pytest.raises(ValueError, match="larger than the padded input"):
                    conv(x, w, b, **kwargs)
            continue
        fast = conv2d(x, w, b, **kwargs)
        naive = conv2d_naive(x, w, b, **kwargs)
        ref = ref_conv(x, w, b, (sh, sw), ref_pads(padding, H, W, kh, kw, sh, sw), pad_mode)
        assert fast.shape == naive.shape == ref.shape
        assert fast.dtype == naive.dtype == np.float64
        np.testing.assert_allclose(fast, naive, rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("padding", PADDINGS, ids=padding_id)
@pytest.mark.parametrize("stride", STRIDES, ids=padding_id)
@pytest.mark.parametrize("kernel", KERNELS, ids=padding_id)
def test_conv2d_backward_fast_equals_naive(kernel, stride, padding, pad_mode):
    rng = np.random.default_rng(seed_of("bw", kernel, stride, padding, pad_mode))
    kh, kw = kernel
    sh, sw = pair(stride)
    checked = 0
    for (N, C, O), (H, W) in itertools.product(NCO, SIZES):
        if not conv_case_fits(H, W, kh, kw, stride, padding):
            continue
        x = rng.normal(size=(N, C, H, W))
        w = rng.normal(size=(O, C, kh, kw))
        pads = ref_pads(padding, H, W, kh, kw, sh, sw)
        out_shape = ref_conv(x, w, None, (sh, sw), pads, pad_mode).shape
        dy = rng.normal(size=out_shape)
        kwargs = dict(stride=stride, padding=padding, pad_mode=pad_mode)
        dx, dw, db = conv2d_backward(dy, x, w, **kwargs)
        dx_n, dw_n, db_n = conv2d_backward_naive(dy, x, w, **kwargs)
        assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (O,)
        np.testing.assert_allclose(dx, dx_n, rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(dw, dw_n, rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(db, db_n, rtol=RTOL, atol=1e-12)
        # independent: db is the sum of dy over everything but the channel axis
        np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=RTOL, atol=1e-12)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize(
    "H, W, kernel, stride, padding, pad_mode",
    [
        (4, 5, (2, 3), 1, 1, "zeros"),
        (4, 5, (2, 3), 1, 1, "edge"),
        (5, 4, (3, 2), (2, 1), "same", "edge"),
        (5, 6, (2, 2), 2, ((0, 1), (2, 0)), "edge"),
        (3, 3, (3, 3), 1, "same", "zeros"),
    ],
)
def test_conv2d_backward_equals_the_exact_jacobian(H, W, kernel, stride, padding, pad_mode):
    """conv2d is linear in x and in w, so d(sum(y * dy))/dx_i = sum(conv(e_i, w) * dy), exactly.

    The forward used to build the Jacobian is the test's own reference, so this
    checks the gradients (including folding edge padding back) independently.
    """
    rng = np.random.default_rng(7)
    N, C, O = 2, 2, 3
    kh, kw = kernel
    sh, sw = pair(stride)
    pads = ref_pads(padding, H, W, kh, kw, sh, sw)
    x = rng.normal(size=(N, C, H, W))
    w = rng.normal(size=(O, C, kh, kw))
    dy = rng.normal(size=ref_conv(x, w, None, (sh, sw), pads, pad_mode).shape)
    dx_exp = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = 1.0
        dx_exp[idx] = np.sum(ref_conv(e, w, None, (sh, sw), pads, pad_mode) * dy)
    dw_exp = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[idx] = 1.0
        dw_exp[idx] = np.sum(ref_conv(x, e, None, (sh, sw), pads, pad_mode) * dy)
    for backward in (conv2d_backward, conv2d_backward_naive):
        dx, dw, db = backward(dy, x, w, stride=stride, padding=padding, pad_mode=pad_mode)
        np.testing.assert_allclose(dx, dx_exp, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(dw, dw_exp, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv2d_on_non_contiguous_views():
    rng = np.random.default_rng(8)
    base = rng.normal(size=(3, 2, 10, 12))
    x = base[::2, :, 1::2, ::-1]  # strided, negative strides
    w = rng.normal(size=(8, 2, 3, 3))[::2]  # (4, 2, 3, 3), strided
    expected = ref_conv(np.ascontiguousarray(x), np.ascontiguousarray(w), None, (1, 1), ((1, 1), (1, 1)))
    np.testing.assert_allclose(conv2d(x, w, padding=1), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv2d(x, w, padding=0), expected[:, :, 1:-1, 1:-1], rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# Call forms: (H, W) + (kh, kw), (C, H, W) + 4-D weights, (N, C, H, W)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("conv", [conv2d, conv2d_naive])
def test_2d_call_form_matches_4d(conv):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(6, 7))
    w = rng.normal(size=(3, 2))
    expected = ref_conv(x[None, None], w[None, None], None, (2, 1), ((1, 1), (0, 0)))[0, 0]
    y2 = conv(x, w, stride=(2, 1), padding=(1, 0))
    y4 = conv(x[None, None], w[None, None], stride=(2, 1), padding=(1, 0))
    assert y2.shape == expected.shape
    assert y4.shape == (1, 1, *expected.shape)
    np.testing.assert_allclose(y2, expected, rtol=1e-12)
    np.testing.assert_allclose(y4[0, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("conv", [conv2d, conv2d_naive])
def test_3d_call_form_matches_4d(conv):
    rng = np.random.default_rng(10)
    x = rng.normal(size=(3, 5, 6))
    w = rng.normal(size=(4, 3, 3, 3))
    b = rng.normal(size=4)
    expected = ref_conv(x[None], w, b, (1, 1), ((1, 1), (1, 1)))[0]
    y3 = conv(x, w, b, padding="same")
    assert y3.shape == (4, 5, 6)
    np.testing.assert_allclose(y3, expected, rtol=1e-12)
    np.testing.assert_allclose(conv(x[None], w, b, padding="same")[0], expected, rtol=1e-12)


@pytest.mark.parametrize("backward", [conv2d_backward, conv2d_backward_naive])
def test_backward_call_forms_match_4d(backward):
    rng = np.random.default_rng(11)
    x2 = rng.normal(size=(5, 6))
    w2 = rng.normal(size=(2, 3))
    dy2 = rng.normal(size=(4, 4))
    dx4, dw4, db4 = conv2d_backward_naive(dy2[None, None], x2[None, None], w2[None, None])
    dx, dw, db = backward(dy2, x2, w2)
    assert dx.shape == x2.shape and dw.shape == w2.shape and db.shape == (1,)
    np.testing.assert_allclose(dx, dx4[0, 0], rtol=1e-12)
    np.testing.assert_allclose(dw, dw4[0, 0], rtol=1e-12)
    np.testing.assert_allclose(db, [dy2.sum()], rtol=1e-12)

    x3 = rng.normal(size=(2, 5, 6))
    w3 = rng.normal(size=(3, 2, 2, 2))
    dy3 = rng.normal(size=(3, 4, 5))
    dx4, dw4, db4 = conv2d_backward(dy3[None], x3[None], w3)
    dx, dw, db = backward(dy3, x3, w3)
    assert dx.shape == x3.shape and dw.shape == w3.shape
    np.testing.assert_allclose(dx, dx4[0], rtol=1e-12)
    np.testing.assert_allclose(dw, dw4, rtol=1e-12)
    np.testing.assert_allclose(db, dy3.sum(axis=(1, 2)), rtol=1e-12)


# ---------------------------------------------------------------------------
# "same" padding
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("s", [1, 2, 3])
def test_same_padding_output_is_ceil_of_input_over_stride(k, s):
    for H, W in [(1, 1), (1, 6), (4, 4), (5, 8), (7, 3), (9, 10)]:
        y = conv2d(np.ones((H, W)), np.ones((k, k)), stride=s, padding="same")
        assert y.shape == (math.ceil(H / s), math.ceil(W / s)), (H, W)
        y = conv2d(np.ones((H, W)), np.ones((k, max(k - 1, 1))), stride=(s, 1), padding="same")
        assert y.shape == (math.ceil(H / s), W), (H, W)


def test_same_padding_with_an_even_kernel_puts_the_extra_row_and_column_last():
    x = np.arange(1, 13, dtype=float).reshape(3, 4)
    # kernel 2x2 of ones, stride 1: total padding 1 per axis -> 0 before, 1 after
    padded = np.array([[1, 2, 3, 4, 0], [5, 6, 7, 8, 0], [9, 10, 11, 12, 0], [0, 0, 0, 0, 0]], dtype=float)
    expected = padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:]
    assert expected[2, 3] == 12  # the bottom-right window holds only x[2, 3]
    for conv in (conv2d, conv2d_naive):
        np.testing.assert_array_equal(conv(x, np.ones((2, 2)), padding="same"), expected)
    # a 4x4 kernel: total 3 per axis -> 1 before, 2 after
    y = conv2d(np.ones((4, 4)), np.ones((4, 4)), padding="same")
    counts = np.array([3, 4, 3, 2])  # covered rows/cols of a 4-wide window at offsets -1, 0, 1, 2
    np.testing.assert_array_equal(y, np.outer(counts, counts))


def test_conv1d_same_and_stride():
    # [1,2,3,4,5] with [1,1] "same": pad 0 before, 1 after -> windows 1+2, 2+3, 3+4, 4+5, 5+0
    np.testing.assert_array_equal(conv1d([1, 2, 3, 4, 5], [1, 1], padding="same"), [3, 5, 7, 9, 5])
    # stride 2, kernel 3: padded [0,1,2,3,4,5,0] -> 0+1+2, 2+3+4, 4+5+0
    np.testing.assert_array_equal(conv1d([1, 2, 3, 4, 5], [1, 1, 1], stride=2, padding="same"), [3, 9, 9])
    np.testing.assert_array_equal(conv1d([1, 2, 3], [1, 1], padding=1), [1, 3, 5, 3])


def test_conv1d_batched_matches_per_channel_correlation():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(2, 3, 20))
    w = rng.normal(size=(4, 3, 5))
    b = rng.normal(size=4)
    expected = np.empty((2, 4, 16))
    for n in range(2):
        for o in range(4):
            expected[n, o] = b[o] + sum(np.correlate(x[n, c], w[o, c], "valid") for c in range(3))
    np.testing.assert_allclose(conv1d(x, w, b), expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# pad2d
# ---------------------------------------------------------------------------

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def test_pad2d_zeros_asymmetric_2d():
    expected = [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 1, 2, 3, 0],
        [0, 0, 4, 5, 6, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ]  # top 1, bottom 2, left 2, right 1
    np.testing.assert_array_equal(pad2d(A, ((1, 2), (2, 1))), expected)


def test_pad2d_edge_asymmetric_2d():
    expected = [
        [1, 1, 1, 2, 3, 3],
        [1, 1, 1, 2, 3, 3],
        [4, 4, 4, 5, 6, 6],
        [4, 4, 4, 5, 6, 6],
        [4, 4, 4, 5, 6, 6],
    ]
    np.testing.assert_array_equal(pad2d(A, ((1, 2), (2, 1)), mode="edge"), expected)


def test_pad2d_pair_means_rows_then_cols():
    expected = [[0, 1, 2, 3, 0], [0, 4, 5, 6, 0]]  # (0 rows, 1 col)
    np.testing.assert_array_equal(pad2d(A, (0, 1)), expected)
    expected = [[0, 0, 0], [1, 2, 3], [4, 5, 6], [0, 0, 0]]  # (1 row, 0 cols)
    np.testing.assert_array_equal(pad2d(A, (1, 0)), expected)


def test_pad2d_3d_and_4d_pad_only_the_last_two_axes():
    stack = np.stack([A, -A])  # (2, 2, 3)
    zeros = pad2d(stack, ((0, 1), (1, 0)))
    assert zeros.shape == (2, 3, 4)
    np.testing.assert_array_equal(zeros[0], [[0, 1, 2, 3], [0, 4, 5, 6], [0, 0, 0, 0]])
    np.testing.assert_array_equal(zeros[1], [[0, -1, -2, -3], [0, -4, -5, -6], [0, 0, 0, 0]])
    edge = pad2d(stack[None], ((0, 1), (1, 0)), mode="edge")
    assert edge.shape == (1, 2, 3, 4)
    np.testing.assert_array_equal(edge[0, 0], [[1, 1, 2, 3], [4, 4, 5, 6], [4, 4, 5, 6]])
    np.testing.assert_array_equal(edge[0, 1], [[-1, -1, -2, -3], [-4, -4, -5, -6], [-4, -4, -5, -6]])


def test_pad2d_zero_padding_is_the_identity_and_ints_become_float():
    y = pad2d([[1, 2], [3, 4]], 0)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [[1, 2], [3, 4]])


# ---------------------------------------------------------------------------
# Max pooling: fast == naive == reference
# ---------------------------------------------------------------------------

POOL_KERNELS = [2, 3, (2, 3)]
POOL_STRIDES = [None, 1, 2]
POOL_SHAPES = [(7, 9), (3, 7, 6), (2, 2, 5, 8)]


@pytest.mark.parametrize("shape", POOL_SHAPES, ids=padding_id)
@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("stride", POOL_STRIDES, ids=padding_id)
@pytest.mark.parametrize("kernel", POOL_KERNELS, ids=padding_id)
def test_max_pool_fast_equals_naive_forward_and_backward(kernel, stride, padding, shape):
    rng = np.random.default_rng(seed_of(kernel, stride, padding, shape))
    k = pair(kernel)
    s = k if stride is None else pair(stride)
    p = (padding, padding)
    x = rng.normal(size=shape)
    x.flat[::5] = x.flat[1]  # plant some ties
    y = max_pool2d(x, kernel, stride, padding)
    y_n = max_pool2d_naive(x, kernel, stride, padding)
    ref = ref_max_pool(x, k, s, p)
    assert y.shape == y_n.shape == ref.shape
    np.testing.assert_array_equal(y, y_n)
    np.testing.assert_array_equal(y, ref)
    dy = rng.normal(size=y.shape)
    dx = max_pool2d_backward(dy, x, kernel, stride, padding)
    dx_n = max_pool2d_backward_naive(dy, x, kernel, stride, padding)
    dx_ref = ref_max_pool_backward(dy, x, k, s, p)
    assert dx.shape == dx_n.shape == x.shape
    np.testing.assert_allclose(dx, dx_n, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(dx, dx_ref, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(dx.sum(), dy.sum(), rtol=1e-10)  # every window's gradient lands somewhere


@pytest.mark.parametrize("pool", [max_pool2d, max_pool2d_naive])
def test_max_pool_padding_acts_as_minus_infinity(pool):
    x = -np.arange(1.0, 10.0).reshape(3, 3)  # all negative: zero padding would win every border window
    y = pool(x, 3, stride=1, padding=1)
    expected = [[-1, -1, -2], [-1, -1, -2], [-4, -4, -5]]  # by hand: the largest real value in each window
    np.testing.assert_array_equal(y, expected)
    assert (y < 0).all()
    y = pool(x, 2, stride=2, padding=1)
    np.testing.assert_array_equal(y, [[-1, -2], [-4, -5]])


@pytest.mark.parametrize("backward", [max_pool2d_backward, max_pool2d_backward_naive])
def test_max_pool_backward_padding_never_receives_gradient(backward):
    x = -np.arange(1.0, 10.0).reshape(3, 3)
    dy = np.arange(1.0, 5.0).reshape(2, 2)
    dx = backward(dy, x, 2, 2, 1)
    # windows over the -inf-padded 5x5: {x00}, {x01, x02}, {x10, x20}, {x11, x12, x21, x22}
    np.testing.assert_array_equal(dx, [[1, 2, 0], [3, 4, 0], [0, 0, 0]])


@pytest.mark.parametrize("backward", [max_pool2d_backward, max_pool2d_backward_naive])
def test_max_pool_backward_ties_go_to_the_first_element_only(backward):
    x = np.full((4, 4), 7.0)
    dy = np.array([[1.0, 2.0], [3.0, 4.0]])
    dx = backward(dy, x, 2)
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4  # top-left of each window
    np.testing.assert_array_equal(dx, expected)
    assert dx.sum() == dy.sum()


@pytest.mark.parametrize("backward", [max_pool2d_backward, max_pool2d_backward_naive])
def test_max_pool_backward_ties_with_overlapping_windows(backward):
    x = np.ones((3, 3))
    dy = np.array([[1.0, 2.0], [3.0, 4.0]])
    dx = backward(dy, x, 2, stride=1)
    # each 2x2 window's first element is its own top-left corner
    np.testing.assert_array_equal(dx, [[1, 2, 0], [3, 4, 0], [0, 0, 0]])
    # a tie in the second row of a window: [[0, 5], [5, 0]] -> the 5 in row 0 wins
    x = np.array([[0.0, 5.0], [5.0, 0.0]])
    np.testing.assert_array_equal(backward([[1.0]], x, 2), [[0, 1], [0, 0]])


@pytest.mark.parametrize("backward", [max_pool2d_backward, max_pool2d_backward_naive])
def test_max_pool_backward_overlapping_winner_collects_every_window(backward):
    x = np.array([[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]])
    dy = np.array([[1.0, 2.0], [3.0, 4.0]])
    dx = backward(dy, x, 2, stride=1)  # 9 wins all four windows
    np.testing.assert_array_equal(dx, [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_max_pool_window_gradients_are_conserved():
    rng = np.random.default_rng(13)
    x = rng.integers(0, 3, size=(2, 3, 8, 8)).astype(float)  # many ties
    dy = rng.normal(size=(2, 3, 4, 4))
    dx = max_pool2d_backward(dy, x, 2)
    for n, c, i, j in np.ndindex(dy.shape):
        window = dx[n, c, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
        assert window.sum() == pytest.approx(dy[n, c, i, j], abs=1e-12)
        assert np.count_nonzero(window) <= 1


# ---------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel, stride, padding",
    [(2, None, 0), (3, 1, 1), (3, 2, 1), ((2, 3), (1, 2), (1, 1)), ((3, 2), 2, 0), (2, 3, 0)],
    ids=padding_id,
)
def test_avg_pool_is_conv_with_a_uniform_kernel(kernel, stride, padding):
    rng = np.random.default_rng(14)
    kh, kw = pair(kernel)
    s = (kh, kw) if stride is None else pair(stride)
    p = pair(padding)
    x = rng.normal(size=(2, 1, 7, 8))
    w = np.full((1, 1, kh, kw), 1.0 / (kh * kw))
    y = avg_pool2d(x, kernel, stride, padding)
    expected = ref_conv(x, w, None, s, ((p[0], p[0]), (p[1], p[1])))
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y, conv2d(x, w, stride=s, padding=p), rtol=1e-12, atol=1e-14)
    dy = rng.normal(size=y.shape)
    dx = avg_pool2d_backward(dy, x, kernel, stride, padding)
    dx_conv, _, _ = conv2d_backward(dy, x, w, stride=s, padding=p)
    dx_naive, _, _ = conv2d_backward_naive(dy, x, w, stride=s, padding=p)
    np.testing.assert_allclose(dx, dx_conv, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, dx_naive, rtol=1e-12, atol=1e-14)


def test_avg_pool_zero_padding_counts_in_the_mean():
    x = np.full((2, 2), 4.0)
    # kernel 2, stride 2, padding 1: every window holds one 4 and three zeros
    np.testing.assert_array_equal(avg_pool2d(x, 2, padding=1), [[1, 1], [1, 1]])


def test_avg_pool_3d_input_pools_channels_separately():
    x = np.stack([np.arange(16.0).reshape(4, 4), np.ones((4, 4))])
    y = avg_pool2d(x, 2)
    np.testing.assert_array_equal(y[0], [[2.5, 4.5], [10.5, 12.5]])  # (0+1+4+5)/4, ...
    np.testing.assert_array_equal(y[1], np.ones((2, 2)))


# ---------------------------------------------------------------------------
# Activations and softmax
# ---------------------------------------------------------------------------


def test_activation_values_at_known_points():
    np.testing.assert_array_equal(relu([-2.5, -0.0, 0.0, 3.5]), [0, 0, 0, 3.5])
    assert sigmoid(0.0) == 0.5
    np.testing.assert_allclose(sigmoid([np.log(3.0), -np.log(3.0)]), [0.75, 0.25], rtol=1e-14)  # 1/(1+1/3)
    np.testing.assert_allclose(sigmoid(2.0), 1 / (1 + math.exp(-2.0)), rtol=1e-14)
    assert tanh(0.0) == 0.0
    np.testing.assert_allclose(tanh([np.log(2.0), -np.log(2.0)]), [0.6, -0.6], rtol=1e-14)  # (2-1/2)/(2+1/2)
    np.testing.assert_allclose(tanh(1.0), (math.e - 1 / math.e) / (math.e + 1 / math.e), rtol=1e-14)


def test_sigmoid_saturates_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sigmoid(-1000.0) == 0.0
        assert sigmoid(1000.0) == 1.0
        np.testing.assert_array_equal(tanh([-1000.0, 1000.0]), [-1.0, 1.0])
        np.testing.assert_array_equal(Sigmoid().forward(np.array([-1000.0, 1000.0])), [0.0, 1.0])


def test_softmax_is_stable_for_large_logits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(softmax([1000.0, 1000.0]), [0.5, 0.5])
        np.testing.assert_allclose(softmax([1000.0, 1000.0 + np.log(3.0)]), [0.25, 0.75], rtol=1e-12)


def test_log_softmax_of_huge_logits_is_finite_and_exact():
    x = np.array([1e4, 1e4 - 1.0, 0.0, -1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = log_softmax(x)
    assert np.isfinite(y).all()
    m = x.max()
    expected = x - m - np.log(np.sum(np.exp(x - m)))
    np.testing.assert_allclose(y, expected, rtol=1e-14)
    # by hand: log(1 + e^-1) = 0.31326168751822286
    np.testing.assert_allclose(y[:2], [-0.31326168751822286, -1.31326168751822286], rtol=1e-14)


def test_softmax_axis_0_vs_axis_1():
    z = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    e = np.exp(z)
    np.testing.assert_allclose(softmax(z, axis=1), e / e.sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(softmax(z, axis=0), e / e.sum(axis=0, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(softmax(z, axis=0)[:, 0], [0.5, 0.5], rtol=1e-14)
    np.testing.assert_allclose(softmax(z)[1], [1 / 3, 1 / 3, 1 / 3], rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z, axis=0), np.log(e / e.sum(axis=0, keepdims=True)), rtol=1e-13)


@pytest.mark.parametrize("fn", [relu, sigmoid, tanh, softmax], ids=lambda f: f.__name__)
def test_huge_but_finite_inputs_do_not_warn(fn):
    # The NaN/inf check sums the input first; a sum that overflows must not leak a RuntimeWarning
    # (the project's pytest config turns RuntimeWarning into errors) for perfectly finite input.
    x = np.array([1e308, 1e308, -5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
    assert np.isfinite(y).all()
    if fn is relu:
        np.testing.assert_array_equal(y, [1e308, 1e308, 0.0])


# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------


def test_float32_in_float32_out_functional():
    rng = np.random.default_rng(15)
    x = rng.normal(size=(2, 3, 6, 6)).astype(np.float32)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    assert conv2d(x, w).dtype == np.float32
    assert conv2d(x, w, b=np.zeros(4, np.float32), padding=1).dtype == np.float32
    assert conv2d_naive(x, w).dtype == np.float32
    dx, dw, db = conv2d_backward(np.ones((2, 4, 4, 4), np.float32), x, w)
    assert dx.dtype == dw.dtype == db.dtype == np.float32
    assert max_pool2d(x, 2).dtype == np.float32
    assert max_pool2d_backward(np.ones((2, 3, 3, 3), np.float32), x, 2).dtype == np.float32
    assert avg_pool2d(x, 2).dtype == np.float32
    assert avg_pool2d_backward(np.ones((2, 3, 3, 3), np.float32), x, 2).dtype == np.float32
    assert relu(x).dtype == np.float32
    assert sigmoid(x).dtype == np.float32
    assert tanh(x).dtype == np.float32
    assert softmax(x).dtype == np.float32
    assert log_softmax(x).dtype == np.float32
    assert pad2d(x, 1).dtype == np.float32


def test_float32_conv_is_accurate():
    rng = np.random.default_rng(16)
    x = rng.normal(size=(2, 3, 6, 6)).astype(np.float32)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    expected = ref_conv(x.astype(np.float64), w.astype(np.float64), None, (1, 1), ((1, 1), (1, 1)))
    np.testing.assert_allclose(conv2d(x, w, padding=1), expected, rtol=1e-4, atol=1e-5)


def test_integer_inputs_work_and_become_float64():
    x = np.arange(16).reshape(4, 4)
    w = np.array([[1, 0], [0, -1]])
    y = conv2d(x, w)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, np.full((3, 3), -5.0))  # x[i, j] - x[i+1, j+1] = -5
    assert conv2d_naive(x, w).dtype == np.float64
    assert max_pool2d(x, 2).dtype == np.float64
    np.testing.assert_array_equal(max_pool2d(x, 2), [[5, 7], [13, 15]])
    assert avg_pool2d(x, 2).dtype == np.float64
    assert relu(np.array([-1, 2])).dtype == np.float64
    assert softmax(np.array([0, 0])).dtype == np.float64
    np.testing.assert_array_equal(softmax(np.array([0, 0])), [0.5, 0.5])


def _layer_cases():
    x4 = np.random.default_rng(17).normal(size=(2, 3, 6, 6)).astype(np.float32)
    x2 = np.random.default_rng(18).normal(size=(4, 5)).astype(np.float32)
    return [
        ("Conv2d", lambda: Conv2d(3, 4, 3, padding=1, seed=0), x4),
        ("Linear", lambda: Linear(5, 2, seed=0), x2),
        ("BatchNorm1d", lambda: BatchNorm1d(5), x2),
        ("BatchNorm2d", lambda: BatchNorm2d(3), x4),
        ("MaxPool2d", lambda: MaxPool2d(2), x4),
        ("AvgPool2d", lambda: AvgPool2d(2), x4),
        ("ReLU", ReLU, x4),
        ("Sigmoid", Sigmoid, x4),
        ("Tanh", Tanh, x4),
        ("Flatten", Flatten, x4),
        ("Dropout", lambda: Dropout(0.5, seed=0), x4),
        ("Sequential", lambda: Sequential(Conv2d(3, 2, 3, seed=0), ReLU(), MaxPool2d(2), Flatten(), Linear(8, 3, seed=0)), x4),
    ]


@pytest.mark.parametrize("name, make, x", _layer_cases(), ids=[c[0] for c in _layer_cases()])
def test_layers_keep_float32_forward_and_backward(name, make, x):
    layer = make()
    y = layer.forward(x)
    assert y.dtype == np.float32, name
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == np.float32, name
    assert dx.shape == x.shape
    for key, g in layer.grads.items():
        assert g.dtype == np.float32, (name, key)


# ---------------------------------------------------------------------------
# Layers agree with the functional versions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("stride, padding, pad_mode", [(1, 0, "zeros"), (2, "same", "zeros"), ((1, 2), 1, "edge")])
def test_conv2d_layer_matches_functional(stride, padding, pad_mode):
    rng = np.random.default_rng(19)
    layer = Conv2d(3, 4, (3, 2), stride=stride, padding=padding, seed=1, pad_mode=pad_mode)
    x = rng.normal(size=(2, 3, 7, 6)).astype(np.float32)
    W = layer.params["W"].astype(np.float64)
    b = layer.params["b"].astype(np.float64)
    x64 = x.astype(np.float64)
    y = layer.forward(x)
    expected = conv2d_naive(x64, W, b, stride=stride, padding=padding, pad_mode=pad_mode)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    dy = rng.normal(size=y.shape).astype(np.float32)
    dx = layer.backward(dy)
    dx_e, dW_e, db_e = conv2d_backward_naive(dy.astype(np.float64), x64, W, stride=stride, padding=padding, pad_mode=pad_mode)
    np.testing.assert_allclose(dx, dx_e, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grads["W"], dW_e, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grads["b"], db_e, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 1, 1), ((2, 3), 2, (1, 1))])
def test_pool_layers_match_functional(kernel, stride, padding):
    rng = np.random.default_rng(20)
    x = rng.normal(size=(2, 3, 7, 8))
    for Layer, fwd, bwd in (
        (MaxPool2d, max_pool2d_naive, max_pool2d_backward_naive),
        (AvgPool2d, avg_pool2d, avg_pool2d_backward),
    ):
        layer = Layer(kernel, stride, padding)
        y = layer.forward(x)
        np.testing.assert_allclose(y, fwd(x, kernel, stride, padding), rtol=1e-12)
        dy = rng.normal(size=y.shape)
        np.testing.assert_allclose(layer.backward(dy), bwd(dy, x, kernel, stride, padding), rtol=1e-12, atol=1e-14)
    # and the max-pool layer against the test's own reference
    k = pair(kernel)
    s = k if stride is None else pair(stride)
    layer = MaxPool2d(kernel, stride, padding)
    y = layer.forward(x)
    np.testing.assert_array_equal(y, ref_max_pool(x, k, s, pair(padding)))
    dy = rng.normal(size=y.shape)
    np.testing.assert_allclose(layer.backward(dy), ref_max_pool_backward(dy, x, k, s, pair(padding)), rtol=1e-12)


# ---------------------------------------------------------------------------
# Fast-path branches added for training speed (see benchmarks/)
# ---------------------------------------------------------------------------

from cnnlib import _kernels as K  # noqa: E402  (the kernels, to check which branch runs)


def channel_first(x):
    """``x`` (N, C, H, W) with channel-first memory (C, N, H, W), as Conv2d outputs it."""
    return np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)


@pytest.mark.parametrize(
    "kernel, stride, padding, tiles",
    [
        (2, None, 0, True),  # the reference network's pooling
        ((2, 3), None, 0, True),  # non-square windows
        (3, 3, 0, True),
        (2, 1, 0, False),  # overlapping windows: the general path
        (3, 2, 0, False),
        (2, 2, 1, False),  # padding: the general path
        ((2, 3), (2, 2), 0, False),
    ],
)
@pytest.mark.parametrize("shape", [(2, 3, 8, 6), (2, 3, 7, 9), (1, 1, 5, 5), (4, 7), (3, 6, 6)], ids=padding_id)
def test_max_pool_tiling_branch_equals_naive(kernel, stride, padding, tiles, shape):
    k = pair(kernel)
    s = k if stride is None else pair(stride)
    assert K.tiles(k, s, pair(padding)) is tiles
    rng = np.random.default_rng(seed_of(kernel, stride, padding, shape))
    x = np.round(rng.normal(size=shape), 0)  # rounded: ties in most windows, and all-zero windows
    inputs = [x] + ([channel_first(x)] if x.ndim == 4 else [])
    for xi in inputs:
        y = max_pool2d(xi, kernel, stride, padding)
        np.testing.assert_array_equal(y, max_pool2d_naive(x, kernel, stride, padding))
        dy = rng.normal(size=y.shape)
        dx_n = max_pool2d_backward_naive(dy, x, kernel, stride, padding)
        # exact when windows tile (one winner per input); overlapping windows add up in another order
        same = np.testing.assert_array_equal if tiles else lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        same(max_pool2d_backward(dy, xi, kernel, stride, padding), dx_n)
        if x.ndim == 4:
            layer = MaxPool2d(kernel, stride, padding)
            np.testing.assert_array_equal(layer.forward(xi), y)
            same(layer.backward(dy), dx_n)
            same(layer.backward(np.ascontiguousarray(dy)), dx_n)


def test_max_pool_2x2_tiles_every_tie_pattern_equals_naive():
    # every 2x2 window with entries in {0, 1, 2} (81 windows, all orders of ties), side by side
    windows = np.array(list(itertools.product([0.0, 1.0, 2.0], repeat=4))).reshape(-1, 2, 2)  # (81, 2, 2)
    x = np.concatenate(list(windows), axis=1)[None, None]  # (1, 1, 2, 162): 81 tiles in a row
    x = np.concatenate([x, x[..., ::-1]], axis=2)  # (1, 1, 4, 162), mirrored second row of tiles
    x = np.concatenate([x, 3 - x], axis=1).astype(np.float32)  # two channels
    dy = np.arange(1, 1 + x.size // 4, dtype=np.float32).reshape(1, 2, 2, 81)
    y, winner = K.max_pool_tiles_forward(x, (2, 2), (2, 81))
    np.testing.assert_array_equal(y, max_pool2d_naive(x, 2))
    assert winner.dtype == np.uint8 and winner.shape == y.shape
    np.testing.assert_array_equal(K.max_pool_tiles_backward(dy, winner, x, (2, 2)), max_pool2d_backward_naive(dy, x, 2))
    xc = channel_first(x)
    np.testing.assert_array_equal(max_pool2d_backward(dy, xc, 2), max_pool2d_backward_naive(dy, x, 2))


def test_max_pool_tiling_keeps_float32_and_the_memory_order():
    x = channel_first(np.random.default_rng(3).normal(size=(4, 3, 6, 6)).astype(np.float32))
    layer = MaxPool2d(2)
    y = layer.forward(x)
    dx = layer.backward(np.ones(y.shape, np.float32))
    assert y.dtype == dx.dtype == np.float32
    assert y.transpose(1, 0, 2, 3).flags.c_contiguous and dx.transpose(1, 0, 2, 3).flags.c_contiguous
    assert dx.sum() == y.size  # each window sends its gradient to exactly one input


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("layout", ["nchw", "channel_first", "strided"])
def test_batchnorm2d_does_not_depend_on_memory_layout(layout, training):
    rng = np.random.default_rng(8)
    x = rng.normal(1.0, 2.0, size=(5, 3, 4, 6))
    dy = rng.normal(size=x.shape)
    ref = BatchNorm2d(3).astype(np.float64)
    ref.params["gamma"][...] = [0.5, -1.0, 2.0]
    ref.params["beta"][...] = [0.1, 0.2, -0.3]
    y_ref = ref.forward(x, training=training)
    dx_ref = ref.backward(dy)
    xi = {"nchw": x, "channel_first": channel_first(x), "strided": np.repeat(x, 2, axis=3)[..., ::2]}[layout]
    bn = BatchNorm2d(3).astype(np.float64)
    bn.load_state_dict(ref.state_dict() if not training else {**ref.state_dict(), "running_mean": np.zeros(3), "running_var": np.ones(3)})
    y = bn.forward(xi, training=training)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    for d in (dy, channel_first(dy)):
        np.testing.assert_allclose(bn.backward(d), dx_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bn.grads["gamma"], ref.grads["gamma"], rtol=1e-10)
        np.testing.assert_allclose(bn.grads["beta"], ref.grads["beta"], rtol=1e-10)
    # the formula, independently: per-channel statistics over (N, H, W)
    if training:
        mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
        g, b = ref.params["gamma"].reshape(1, -1, 1, 1), ref.params["beta"].reshape(1, -1, 1, 1)
        np.testing.assert_allclose(y, g * (x - mean) / np.sqrt(var + 1e-5) + b, rtol=1e-10, atol=1e-12)


def test_conv_output_is_a_channel_first_view_and_keeps_flowing():
    x = np.random.default_rng(1).normal(size=(3, 2, 6, 5)).astype(np.float32)
    model = Sequential(Conv2d(2, 4, 3, padding=1, seed=0), BatchNorm2d(4), ReLU(), MaxPool2d(2))
    y = model.forward(x)
    assert y.dtype == np.float32 and y.shape == (3, 4, 3, 2)
    assert model[0].forward(x).transpose(1, 0, 2, 3).flags.c_contiguous  # (O, N, OH, OW) memory, no copy


def test_conv_backward_without_input_gradient_gives_the_same_parameter_gradients():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 6, 7))
    for stride, padding in ((1, 1), (2, 0)):
        layer = Conv2d(3, 4, 3, stride=stride, padding=padding, seed=0).astype(np.float64)
        y = layer.forward(x)
        dy = rng.normal(size=y.shape)
        layer.backward(dy)
        full = dict(layer.grads)
        layer.needs_input_grad = False  # as fit sets it on a model's first layer
        assert layer.backward(dy) is None
        for k in ("W", "b"):
            np.testing.assert_array_equal(layer.grads[k], full[k])


@pytest.mark.parametrize(
    "kernel, padding, stride, pad_mode, expected",
    [
        ((3, 3), ((1, 1), (1, 1)), (1, 1), "zeros", True),  # the reference network's convolutions
        ((2, 3), ((0, 1), (2, 0)), (1, 1), "zeros", True),  # asymmetric "same" padding
        ((1, 1), ((0, 0), (0, 0)), (1, 1), "zeros", True),
        ((3, 3), ((1, 1), (1, 1)), (1, 1), "edge", False),  # edge mode needs the padded copy
        ((3, 3), ((1, 1), (1, 1)), (2, 1), "zeros", False),
        ((3, 3), ((1, 1), (2, 2)), (1, 1), "zeros", False),  # output wider than the input
    ],
)
def test_same_size_fast_path_is_taken_exactly_when_it_applies(kernel, padding, stride, pad_mode, expected):
    # The equality grids above cover these cases; this pins down which code path they exercise.
    assert K.keeps_size((2, 3, 5, 7), (4, 3, *kernel), stride, padding, pad_mode) is expected


@pytest.mark.parametrize("k", [1, 4096, 8192, 8193, 3 * 4096 + 5, 50176])
def test_blocked_product_over_a_long_inner_axis_equals_matmul(k):
    rng = np.random.default_rng(k)
    a, b = rng.normal(size=(9, k)), rng.normal(size=(k, 16))
    np.testing.assert_allclose(K.matmul_long_inner(a, b), a @ b, rtol=1e-10, atol=1e-9)


def test_conv2d_backward_fast_equals_naive_when_the_weight_gradient_is_blocked():
    # N*OH*OW = 3*56*56 = 9408 > 2*4096, so the weight gradient is summed in blocks.
    rng = np.random.default_rng(56)
    x, w = rng.normal(size=(3, 1, 56, 56)), rng.normal(size=(2, 1, 3, 3))
    dy = rng.normal(size=(3, 2, 56, 56))
    fast = conv2d_backward(dy, x, w, padding=1)
    naive = conv2d_backward_naive(dy, x, w, padding=1)
    for got, want in zip(fast, naive):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
