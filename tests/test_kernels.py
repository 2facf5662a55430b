"""Fast paths of cnnlib._kernels against their plain versions, bit for bit.

(The public functions are tested against the readable loop versions in
tests/test_functional.py and by the gradient checks of tests/test_layer_table.py;
these tests pin the kernels' own promises, on odd shapes the public tests do not reach.)
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib import _kernels as K


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 3, 8, 17, 64, 1001])
@pytest.mark.parametrize("step", [1, 3])
def test_relu_forward_is_max_with_positive_zero_and_the_mask(dtype, n, step):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n * step).astype(dtype)
    x[::5] = -0.0
    x[1::7] = 0.0
    x = x[::step]
    y, mask = K.relu_forward(x)
    assert y.dtype == x.dtype and mask.dtype == bool
    np.testing.assert_array_equal(y, np.where(x > 0, x, 0))
    assert not np.signbit(y).any()  # -0.0 gives +0.0
    np.testing.assert_array_equal(mask, x > 0)


def test_relu_forward_keeps_nan_sends_minus_inf_to_zero_and_keeps_the_memory_order():
    x = np.array([np.nan, -np.inf, np.inf, -1.0], dtype=np.float32)
    y, mask = K.relu_forward(x)
    assert np.isnan(y[0]) and y[1] == 0 and y[2] == np.inf and y[3] == 0
    np.testing.assert_array_equal(mask, [False, False, True, False])
    cf = np.ones((3, 2, 4, 5), dtype=np.float32).transpose(1, 0, 2, 3)  # channel-first memory, as Conv2d makes
    assert K.relu_forward(cf)[0].strides == cf.strides


SAME = [(1, 1), (2, 2), (3, 3), (3, 1), (1, 5), (4, 3), (5, 5), (7, 2)]


@pytest.mark.parametrize("kh,kw", SAME)
@pytest.mark.parametrize("hw", [(1, 1), (2, 5), (4, 4), (6, 3)])
def test_im2col_same_and_col2im_same_equal_the_padded_versions_bit_for_bit(kh, kw, hw):
    rng = np.random.default_rng(kh * 10 + kw)
    C, N = 3, 2
    H, W = hw
    t, l = (kh - 1) // 2, (kw - 1) // 2
    pads = ((t, kh - 1 - t), (l, kw - 1 - l))
    x = rng.standard_normal((C, N, H, W)).astype(np.float32)
    xp = K.pad_last2(x, pads, "zeros")
    cols = K.im2col_same(x, kh, kw, t, l)
    np.testing.assert_array_equal(cols, K.im2col(xp, kh, kw, 1, 1, H, W))
    dcols = rng.standard_normal(cols.shape).astype(np.float32)
    plain = K.unpad_last2(K.col2im(dcols.copy(), xp.shape, kh, kw, 1, 1, H, W), pads, "zeros")
    np.testing.assert_array_equal(K.col2im_same(dcols.copy(), (C, N, H, W), kh, kw, t, l), plain)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channel_sum_and_dot_equal_numpys_sums_with_one_shared_read_only_vector_of_ones(dtype):
    a = np.random.default_rng(0).standard_normal((2, 3, 5001)).astype(dtype)
    b = np.random.default_rng(1).standard_normal((2, 3, 5001)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(K.channel_sum(a), a.sum(axis=(0, 2)), rtol=tol)
    np.testing.assert_allclose(K.channel_dot(a, b), (a * b).sum(axis=(0, 2)), rtol=tol, atol=tol)
    ones = K._ones(5001, dtype)
    assert ones.shape == (5001,) and ones.dtype == dtype and (ones == 1).all()
    assert np.shares_memory(ones, K._ones(17, dtype))  # one kept vector per dtype, its first n entries
    longer = K._ones(6000, dtype)  # a longer one replaces it
    assert longer.shape == (6000,) and np.shares_memory(longer, K._ones(5001, dtype)) and (longer == 1).all()
    for v in (ones, longer):  # shared by every call: nobody may change it
        with pytest.raises(ValueError):
            v[0] = 2.0
        with pytest.raises(ValueError):
            v.flags.writeable = True
