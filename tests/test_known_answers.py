"""The lecture notes' worked examples (/work/shared/seeds/*.txt), reproduced exactly.

Every expected number here comes from the notes or from a hand computation
written out next to it (or from an independent NumPy routine such as
``np.correlate``), never from cnnlib itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib import (
    AvgPool2d,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    avg_pool2d,
    conv1d,
    conv2d,
    conv2d_naive,
    conv_output_size,
    flatten,
    max_pool2d,
    max_pool2d_naive,
    one_hot,
    pad2d,
    relu,
    softmax,
)

CONV_IMPLS = [pytest.param(conv2d, id="conv2d"), pytest.param(conv2d_naive, id="conv2d_naive")]

# ---------------------------------------------------------------------------
# "Some notes on CNN": the 2x2 filter [[1, 2], [-1, 0]] on a 3x4 image
# ---------------------------------------------------------------------------

NOTES_FILTER = [[1, 2], [-1, 0]]
NOTES_IMAGE = [[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]]
# Window by window:  top-left 5*1 + 2*2 + 3*(-1) + 1*0 = 6, one to the right 2 + 4 - 1 + 0 = 5, ...
NOTES_VALID = [[6, 5, 6], [-4, 5, 0]]


@pytest.mark.parametrize("conv", CONV_IMPLS)
def test_notes_filter_first_outputs_are_6_and_5(conv):
    y = conv(NOTES_IMAGE, NOTES_FILTER)
    # "Putting the filter in the top-left corner then yields as output 6.
    #  Moving the filter one place to the right gives as output 5"
    assert y[0, 0] == 6
    assert y[0, 1] == 5


@pytest.mark.parametrize("conv", CONV_IMPLS)
def test_notes_filter_full_valid_result(conv):
    y = conv(NOTES_IMAGE, NOTES_FILTER)
    assert y.shape == (2, 3)
    np.testing.assert_array_equal(y, NOTES_VALID)


@pytest.mark.parametrize("conv", CONV_IMPLS)
def test_notes_filter_as_a_batch(conv):
    x = np.array(NOTES_IMAGE, dtype=float)[None, None]
    w = np.array(NOTES_FILTER, dtype=float)[None, None]
    y = conv(x, w, b=[10.0])
    assert y.shape == (1, 1, 2, 3)
    np.testing.assert_array_equal(y[0, 0], np.array(NOTES_VALID) + 10)


# ---------------------------------------------------------------------------
# "The Network", section 4.3 Stride: 2x2 image, zero-padded, 2x2 kernel of 2s
# ---------------------------------------------------------------------------

SMALL = [[1, 2], [4, 5]]
SMALL_PADDED = [[0, 0, 0, 0], [0, 1, 2, 0], [0, 4, 5, 0], [0, 0, 0, 0]]
TWOS = np.full((2, 2), 2.0)
# The note prints the right column as 4, 20, 10; the middle-right window holds 2, 0, 5, 0,
# so the correct value is 2 * (2 + 0 + 5 + 0) = 14, not 20 (a misprint in the notes).
STRIDE1 = [[2, 6, 4], [10, 24, 14], [8, 18, 10]]
STRIDE2 = [[2, 4], [8, 10]]


def test_pad2d_of_the_small_image():
    np.testing.assert_array_equal(pad2d(SMALL, 1), SMALL_PADDED)


@pytest.mark.parametrize("conv", CONV_IMPLS)
def test_padded_image_stride_1(conv):
    y = conv(SMALL_PADDED, TWOS)
    np.testing.assert_array_equal(y, STRIDE1)
    assert y[1, 2] == 14  # the notes print 20 here; 2*(2+0+5+0) = 14


@pytest.mark.parametrize("conv", CONV_IMPLS)
def test_padded_image_stride_2(conv):
    np.testing.assert_array_equal(conv(SMALL_PADDED, TWOS, stride=2), STRIDE2)


@pytest.mark.parametrize("conv", CONV_IMPLS)
def test_padding_argument_on_the_2x2_image(conv):
    np.testing.assert_array_equal(conv(SMALL, TWOS, padding=1), STRIDE1)
    np.testing.assert_array_equal(conv(SMALL, TWOS, padding=1, stride=2), STRIDE2)


# ---------------------------------------------------------------------------
# "The Network", section 4.4 Zero Padding: 4x4 image, 3x3 kernel of ones
# ---------------------------------------------------------------------------

IMG4 = [[1, 2, 3, 4], [4, 3, 2, 1], [1, 2, 3, 4], [4, 3, 2, 1]]
ONES3 = np.ones((3, 3))
VALID4 = [[21, 24], [24, 21]]  # 1+2+3+4+3+2+1+2+3 = 21, ...
PADDED4 = [[10, 15, 15, 10], [13, 21, 24, 17], [17, 24, 21, 13], [10, 15, 15, 10]]  # corner 1+2+4+3 = 10


@pytest.mark.parametrize("conv", CONV_IMPLS)
@pytest.mark.parametrize("padding", [0, "valid"])
def test_zero_padding_example_valid(conv, padding):
    np.testing.assert_array_equal(conv(IMG4, ONES3, padding=padding), VALID4)


@pytest.mark.parametrize("conv", CONV_IMPLS)
@pytest.mark.parametrize("padding", [1, "same", (1, 1), ((1, 1), (1, 1))])
def test_zero_padding_example_same_size(conv, padding):
    y = conv(IMG4, ONES3, padding=padding)
    assert y.shape == (4, 4)  # "forces the output matrix to have the same dimensions as the input"
    np.testing.assert_array_equal(y, PADDED4)


# ---------------------------------------------------------------------------
# ReLU of "the output feature map for a very strange feature"
# ---------------------------------------------------------------------------

FEATURE_MAP = [[1, -1, -1, -4], [2, -2, 7, 3], [-3, -7, -1, -4], [3, 5, 4, -6]]
FEATURE_MAP_RELU = [[1, 0, 0, 0], [2, 0, 7, 3], [0, 0, 0, 0], [3, 5, 4, 0]]


def test_relu_functional_on_the_notes_feature_map():
    np.testing.assert_array_equal(relu(FEATURE_MAP), FEATURE_MAP_RELU)


def test_relu_layer_on_the_notes_feature_map():
    x = np.array(FEATURE_MAP, dtype=np.float32)[None, None]
    y = ReLU().forward(x)
    assert y.shape == (1, 1, 4, 4)
    np.testing.assert_array_equal(y[0, 0], FEATURE_MAP_RELU)


# ---------------------------------------------------------------------------
# Flattening
# ---------------------------------------------------------------------------


def test_flatten_the_notes_matrix():
    np.testing.assert_array_equal(flatten([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), [1, 2, 3, 4, 5, 6, 7, 8, 9])


def test_flatten_a_3d_stack_tacks_later_maps_onto_the_end():
    # "For a 3D stack of matrices ... the layers further back simply tacked onto the end"
    first = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    second = [[10, 11, 12], [13, 14, 15], [16, 17, 18]]
    third = [[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]
    expected = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, -1, -2, -3, -4, -5, -6, -7, -8, -9]
    np.testing.assert_array_equal(flatten([first, second, third]), expected)


def test_flatten_layer_keeps_the_batch_axis_in_c_order():
    x = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    expected = np.empty((2, 12), dtype=np.float32)
    for n in range(2):  # row n lists channel 0 row by row, then channel 1, then channel 2
        k = 0
        for c in range(3):
            for i in range(2):
                for j in range(2):
                    expected[n, k] = x[n, c, i, j]
                    k += 1
    y = Flatten().forward(x)
    assert y.shape == (2, 12)
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(y[1], np.arange(12, 24))


# ---------------------------------------------------------------------------
# Softmax and one-hot encoding
# ---------------------------------------------------------------------------


def test_softmax_of_the_notes_logits_rounds_to_07_02_01():
    p = softmax([2.0, 1.0, 0.1])
    np.testing.assert_array_equal(np.round(p, 1), [0.7, 0.2, 0.1])


def test_softmax_of_the_notes_logits_is_exp_over_sum_exp():
    y = np.array([2.0, 1.0, 0.1])
    e = np.exp(y)
    np.testing.assert_allclose(softmax(y), e / e.sum(), rtol=1e-15, atol=0)
    assert softmax(y).sum() == pytest.approx(1.0, abs=1e-15)
    # S(y_i) = e^{y_i} / sum_j e^{y_j} by hand: e^2 = 7.389056, e^1 = 2.718282, e^0.1 = 1.105171
    np.testing.assert_allclose(softmax(y), [0.659001, 0.242433, 0.098566], atol=1e-6)


def test_softmax_sums_to_one_on_random_rows():
    z = np.random.default_rng(0).normal(scale=5, size=(7, 11))
    np.testing.assert_allclose(softmax(z).sum(axis=1), np.ones(7), rtol=0, atol=1e-14)


def test_one_hot_from_the_notes():
    # Rome = [1, 0, 0, ...], Paris = [0, 1, 0, ...]
    rome, paris = one_hot([0, 1], 6)
    np.testing.assert_array_equal(rome, [1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(paris, [0, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(one_hot([2, 0, 1], 3), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])


# ---------------------------------------------------------------------------
# Strides > 1 -> size reduction: 8x10 input, vertical stride 3, horizontal stride 2
# ---------------------------------------------------------------------------


def test_strided_output_size_from_the_notes():
    rows = conv_output_size(8, 3, stride=3, padding="same")  # ceil(8 / 3) = 3
    cols = conv_output_size(10, 3, stride=2, padding="same")  # ceil(10 / 2) = 5
    assert (rows, cols) == (3, 5)
    assert rows * cols == 15  # whereas Size(X) = 8 x 10 = 80
    assert 8 * 10 == 80


def test_strided_conv_has_the_notes_output_shape():
    y = conv2d(np.zeros((8, 10)), np.ones((3, 3)), stride=(3, 2), padding="same")
    assert y.shape == (3, 5)
    assert y.size == 15


@pytest.mark.parametrize(
    "n, k, s, p, expected",
    [
        (28, 3, 1, 1, 28),  # (28 + 2 - 3) / 1 + 1
        (28, 5, 1, 0, 24),  # (28 - 5) / 1 + 1
        (7, 3, 2, 1, 4),  # floor((7 + 2 - 3) / 2) + 1
        (8, 2, 2, 0, 4),
        (6, 3, 2, 0, 2),  # floor(3 / 2) + 1
        (5, 5, 1, 0, 1),
    ],
)
def test_conv_output_size_formula(n, k, s, p, expected):
    assert conv_output_size(n, k, stride=s, padding=p) == expected


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------


def test_dense_neuron_on_32x32x3_has_3072_weights():
    assert 32 * 32 * 3 == 3072
    assert Linear(3072, 1, seed=0).params["W"].size == 3072


def test_dense_neuron_on_200x200x3_has_120000_weights():
    assert Linear(200 * 200 * 3, 1, seed=0).params["W"].size == 120_000


def test_mnist_neuron_has_784_weights():
    # One lecture note prints "28 x 28 = 724"; 28 * 28 is 784.
    assert Flatten().forward(np.zeros((1, 1, 28, 28))).shape == (1, 784)
    assert Linear(784, 1, seed=0).params["W"].size == 784


def test_128x128_neurons_have_16384_and_49152_weights():
    assert Flatten().forward(np.zeros((1, 1, 128, 128))).shape == (1, 16384)
    assert Flatten().forward(np.zeros((1, 3, 128, 128))).shape == (1, 49152)
    assert Linear(16384, 1, seed=0).params["W"].size == 16384
    assert Linear(49152, 1, seed=0).params["W"].size == 49152


def test_224x224x3_input_has_150528_neurons():
    # The note rounds this to "150,000 neurons".
    assert Flatten().forward(np.zeros((1, 3, 224, 224), dtype=np.float32)).shape == (1, 150_528)


def test_conv_layer_with_four_2x2_filters_has_16_weights():
    # "a layer using 4 filters of the same form as the one in (1) would have 16 weights"
    layer = Conv2d(1, 4, 2, seed=0)
    assert layer.params["W"].size == 16
    assert layer.params["W"].shape == (4, 1, 2, 2)
    assert layer.params["b"].size == 4
    assert layer.num_parameters() == 20


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------


def test_max_pooling_turns_64x64_into_32x32():
    x = np.random.default_rng(1).normal(size=(64, 64))
    assert max_pool2d(x, 2).shape == (32, 32)
    assert MaxPool2d(2).forward(x[None, None]).shape == (1, 1, 32, 32)


POOL_IMAGE = [[1, 9, 2, 4], [3, 5, 8, 6], [-1, 0, 7, -2], [-3, -4, 1, 3]]
# windows: [1 9 3 5] [2 4 8 6] [-1 0 -3 -4] [7 -2 1 3]
POOL_MAX = [[9, 8], [0, 7]]
POOL_AVG = [[18 / 4, 20 / 4], [-8 / 4, 9 / 4]]


@pytest.mark.parametrize("pool", [max_pool2d, max_pool2d_naive])
def test_small_max_pooling_by_hand(pool):
    np.testing.assert_array_equal(pool(POOL_IMAGE, 2), POOL_MAX)


def test_small_max_pooling_layer_by_hand():
    y = MaxPool2d(2).forward(np.array(POOL_IMAGE, dtype=np.float32)[None, None])
    np.testing.assert_array_equal(y[0, 0], POOL_MAX)


def test_small_avg_pooling_by_hand():
    np.testing.assert_allclose(avg_pool2d(POOL_IMAGE, 2), POOL_AVG, rtol=1e-15)
    y = AvgPool2d(2).forward(np.array(POOL_IMAGE, dtype=np.float64)[None, None])
    np.testing.assert_allclose(y[0, 0], POOL_AVG, rtol=1e-15)


def test_overlapping_max_pooling_by_hand():
    # 3x3 windows with stride 1 over a 4x4 image
    x = [[1, 2, 3, 0], [4, 5, 6, 0], [7, 8, 9, 10], [0, 0, 0, 0]]
    np.testing.assert_array_equal(max_pool2d(x, 3, stride=1), [[9, 10], [9, 10]])


# ---------------------------------------------------------------------------
# The convolution formulas
# ---------------------------------------------------------------------------


def test_conv1d_is_the_notes_formula_as_np_correlate():
    # Y(k) = sum_delta X(k + delta) w(delta): a correlation, as np.correlate computes it.
    rng = np.random.default_rng(2)
    x = rng.normal(size=50)
    for k in (1, 2, 3, 5):
        w = rng.normal(size=k)
        np.testing.assert_allclose(conv1d(x, w), np.correlate(x, w, mode="valid"), rtol=1e-12, atol=1e-12)


def test_conv1d_small_hand_example():
    # [1,2,3,4,5] with [1, 0, -1]: 1-3, 2-4, 3-5
    np.testing.assert_array_equal(conv1d([1, 2, 3, 4, 5], [1, 0, -1]), [-2, -2, -2])


def test_layer_formula_Y_ijk_as_einsum():
    # Y[i, j, k] = sum_{l, m, n} X[l, j + m, k + n] * K[i, l, m, n]
    rng = np.random.default_rng(3)
    C, H, W, O, kh, kw = 3, 6, 7, 2, 3, 2
    X = rng.normal(size=(C, H, W))
    K = rng.normal(size=(O, C, kh, kw))
    OH, OW = H - kh + 1, W - kw + 1
    j = np.arange(OH)[:, None, None, None] + np.arange(kh)[None, None, :, None]  # (OH, 1, kh, 1)
    k = np.arange(OW)[None, :, None, None] + np.arange(kw)[None, None, None, :]  # (1, OW, 1, kw)
    windows = X[:, j, k]  # windows[l, j, k, m, n] = X[l, j + m, k + n]
    assert windows.shape == (C, OH, OW, kh, kw)
    expected = np.einsum("ljkmn,ilmn->ijk", windows, K)
    np.testing.assert_allclose(conv2d(X, K), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv2d(X[None], K)[0], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv2d_naive(X, K), expected, rtol=1e-12, atol=1e-12)


def _true_convolution(x, w):
    """Textbook convolution (kernel flipped), valid part, by explicit loops."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            s = 0.0
            for p in range(kh):
                for q in range(kw):
                    s += x[i + p, j + q] * w[kh - 1 - p, kw - 1 - q]
            out[i, j] = s
    return out


def test_cross_correlation_vs_true_convolution():
    x = np.array(NOTES_IMAGE, dtype=float)
    w = np.array(NOTES_FILTER, dtype=float)  # asymmetric
    true_conv = _true_convolution(x, w)
    # flipped by hand: [[0, -1], [2, 1]] -> top-left 5*0 + 2*(-1) + 3*2 + 1*1 = 5
    assert true_conv[0, 0] == 5
    np.testing.assert_array_equal(conv2d(x, w[::-1, ::-1]), true_conv)
    np.testing.assert_array_equal(conv2d_naive(x, w[::-1, ::-1]), true_conv)
    assert not np.array_equal(conv2d(x, w), true_conv)  # deep-learning "convolution" does not flip



def test_cross_entropy_per_pixel_by_hand():
    # One image, 3 classes, 2x2 pixels; the scores are logs so that each softmax is a simple fraction:
    #   pixel (0,0): scores (0, 0, 0),     p = (1/3, 1/3, 1/3), label 0: -log p = ln 3
    #   pixel (0,1): scores (ln2, 0, 0),   p = (1/2, 1/4, 1/4), label 0: ln 2
    #   pixel (1,0): scores (0, ln3, 0),   p = (1/5, 3/5, 1/5), label 2: ln 5
    #   pixel (1,1): scores (0, 0, ln6),   p = (1/8, 1/8, 3/4), label 2: ln(4/3)
    # mean over the 4 pixels: (ln 3 + ln 2 + ln 5 + ln 4/3) / 4 = ln(40) / 4
    from cnnlib import CrossEntropyLoss

    ln = np.log
    scores = np.zeros((1, 3, 2, 2))
    scores[0, 0, 0, 1], scores[0, 1, 1, 0], scores[0, 2, 1, 1] = ln(2), ln(3), ln(6)
    labels = np.array([[[0, 0], [2, 2]]])
    loss = CrossEntropyLoss()
    assert loss.forward(scores, labels) == pytest.approx(ln(40) / 4, rel=1e-14)
    p = np.array([[1 / 3, 1 / 2, 1 / 5, 1 / 8], [1 / 3, 1 / 4, 3 / 5, 1 / 8], [1 / 3, 1 / 4, 1 / 5, 3 / 4]]).reshape(1, 3, 2, 2)
    target = np.zeros((1, 3, 2, 2))
    target[0, 0, 0, :] = 1  # label 0 in the top row
    target[0, 2, 1, :] = 1  # label 2 in the bottom row
    np.testing.assert_allclose(loss.backward(), (p - target) / 4, rtol=1e-13, atol=1e-16)
