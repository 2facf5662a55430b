"""Finite-difference checks of every layer's backward pass, and of the gradient checker itself.

Each layer is checked twice, in float64 with a *random* upstream gradient ``dy``
(a plain ``sum()`` would hide mistakes that only show when outputs are weighted
differently):

* by an independent central-difference loop written in this file, and
* by ``cnnlib.gradcheck``, which must agree (relative error < 1e-6).

The second half shows that the checker can fail: deliberately wrong backward
passes must give large errors.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import cnnlib
from cnnlib import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    gradcheck,
    numerical_gradient,
    relative_error,
)

TOL = 1e-6
EPS = 1e-6


# ---------------------------------------------------------------------------
# an independent finite-difference checker (does not use cnnlib.gradcheck)
# ---------------------------------------------------------------------------


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-300)
    return float(np.abs(a - b).max() / scale)


def central_difference(f, arr: np.ndarray, eps: float = EPS) -> np.ndarray:
    """d f() / d arr, perturbing ``arr`` in place one element at a time."""
    grad = np.empty(arr.shape, dtype=np.float64)
    for idx in np.ndindex(*arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        plus = f()
        arr[idx] = old - eps
        minus = f()
        arr[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def check_layer(
    layer,
    x,
    *,
    training: bool = True,
    seed: int = 0,
    tol: float = TOL,
    zero_keys: frozenset = frozenset(),
    library: bool = True,
) -> dict[str, float]:
    """Compare ``layer.backward`` with finite differences for x and every parameter.

    ``zero_keys`` are parameters whose true gradient is exactly zero (a bias
    followed by batch norm): for them both gradients must be ~0 in absolute
    terms, since a relative error of two round-off values means nothing.
    With ``library=True`` also runs ``cnnlib.gradcheck`` with the same dy and
    requires every one of its errors to be below ``tol``.
    Returns the errors of the independent check.
    """
    layer = copy.deepcopy(layer).astype(np.float64)
    x = np.array(x, dtype=np.float64, copy=True)
    y = copy.deepcopy(layer).forward(x.copy(), training=training)
    dy = np.random.default_rng(seed).normal(size=y.shape)

    probe = copy.deepcopy(layer)
    probe.forward(x.copy(), training=training)
    dx = probe.backward(dy.copy())
    grads = dict(probe.grads)
    assert set(grads) == set(layer.params), f"grads keys {sorted(grads)} != params keys {sorted(layer.params)}"
    assert np.shape(dx) == x.shape

    def loss() -> float:
        # a fresh copy per evaluation: dropout masks and batch statistics are the same every time
        return float(np.sum(copy.deepcopy(layer).forward(x, training=training) * dy))

    errors: dict[str, float] = {}
    numeric = {"x": central_difference(loss, x)}
    errors["x"] = rel_err(dx, numeric["x"])
    for key, value in layer.params.items():  # for a Sequential these are the inner layers' arrays
        numeric[key] = central_difference(loss, value)
        if key in zero_keys:
            assert np.abs(numeric[key]).max() < 1e-8, f"{key!r}: expected a zero gradient"
            assert np.abs(grads[key]).max() < 1e-10, f"{key!r}: expected a zero gradient, got {grads[key]}"
            errors[key] = float(np.abs(grads[key] - numeric[key]).max())  # absolute
        else:
            errors[key] = rel_err(grads[key], numeric[key])
    for key, g in numeric.items():
        if key not in zero_keys:
            assert np.abs(g).max() > 1e-6, f"the numerical gradient of {key!r} is zero: the check would be vacuous"
    assert max(errors.values()) < tol, f"independent finite differences: {errors}"

    if library:
        result = gradcheck(layer, x, dy=dy, training=training)
        assert set(result.errors) == {"x", *layer.params}
        assert result.max_error < tol, str(result)
        assert result.passed(tol)
    return errors


def distinct_values(shape, rng: np.random.Generator) -> np.ndarray:
    """Values at least ~0.08 apart (no ties within eps in any pooling window), both signs."""
    n = int(np.prod(shape))
    v = rng.permutation(n) * 0.1 + rng.uniform(-0.01, 0.01, size=n) - 0.05 * n
    return v.reshape(shape)


def away_from_zero(shape, rng: np.random.Generator) -> np.ndarray:
    """Random values with |x| >= 0.01 (ReLU's kink is never within eps)."""
    return rng.choice([-1.0, 1.0], size=shape) * (0.01 + np.abs(rng.normal(size=shape)))


# ---------------------------------------------------------------------------
# Conv2d
# ---------------------------------------------------------------------------

CONV_CASES = [
    # (x shape, out_channels, kernel, stride, padding, pad_mode)
    ((2, 3, 5, 7), 2, 3, 1, 0, "zeros"),
    ((2, 3, 5, 7), 2, 3, 1, 1, "zeros"),
    ((2, 3, 5, 7), 2, 3, 1, 1, "edge"),
    ((2, 3, 5, 7), 2, 3, 2, 1, "zeros"),
    ((2, 3, 5, 7), 2, 3, 2, 1, "edge"),
    ((2, 3, 5, 7), 2, 3, 2, 0, "zeros"),
    ((2, 3, 5, 7), 2, (2, 3), 1, 0, "zeros"),
    ((2, 3, 5, 7), 2, (2, 3), (2, 1), (1, 2), "zeros"),
    ((2, 3, 5, 7), 2, (2, 3), (2, 1), (1, 2), "edge"),
    ((2, 3, 5, 7), 2, (2, 3), 2, 1, "edge"),
    ((2, 3, 5, 7), 2, 3, (1, 2), (1, 2), "zeros"),
    ((2, 3, 5, 7), 2, 1, 1, 0, "zeros"),
    ((2, 3, 5, 7), 2, 1, 2, 1, "zeros"),
    ((2, 3, 5, 7), 2, 1, 2, 1, "edge"),
    ((2, 3, 5, 7), 2, 2, 2, "same", "zeros"),  # pads ((0, 1), (0, 1)): asymmetric
    ((2, 3, 5, 7), 2, 2, 2, "same", "edge"),
    ((2, 3, 5, 7), 2, (2, 3), 2, "same", "edge"),
    ((2, 3, 5, 7), 2, 4, 1, "same", "zeros"),  # pads (1, 2) on both axes
    ((2, 3, 5, 7), 2, 4, 1, "same", "edge"),
    ((2, 3, 5, 7), 2, 3, 2, "same", "edge"),
    ((2, 3, 5, 7), 2, 3, 1, "valid", "zeros"),
    ((2, 3, 5, 7), 2, 3, 2, ((0, 1), (2, 1)), "zeros"),
    ((2, 3, 5, 7), 2, 3, 2, ((0, 1), (2, 1)), "edge"),
    ((2, 2, 7, 4), 3, (3, 2), (3, 2), 1, "edge"),  # H > W, stride equal to the kernel
    ((1, 1, 6, 6), 1, 2, 3, 1, "zeros"),  # stride > kernel: some inputs are skipped
    ((1, 1, 6, 6), 1, 2, 3, 1, "edge"),
]


@pytest.mark.parametrize("shape, out_ch, kernel, stride, padding, pad_mode", CONV_CASES, ids=lambda v: str(v).replace(" ", ""))
def test_conv2d_gradients(shape, out_ch, kernel, stride, padding, pad_mode):
    rng = np.random.default_rng(1)
    layer = Conv2d(shape[1], out_ch, kernel, stride=stride, padding=padding, seed=3, pad_mode=pad_mode)
    layer.astype(np.float64)
    layer.params["b"][...] = rng.normal(size=out_ch)
    check_layer(layer, rng.normal(size=shape), seed=2)


@pytest.mark.parametrize("kernel", [2, (2, 3), 3, 4])
def test_conv2d_same_output_shape_with_stride_2(kernel):
    """'same' with stride 2 gives ceil(H/2) x ceil(W/2) outputs, so the cases above do use asymmetric padding."""
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 7))
    y = Conv2d(3, 2, kernel, stride=2, padding="same", seed=0).forward(x)
    assert y.shape == (2, 2, math.ceil(5 / 2), math.ceil(7 / 2))


def test_conv2d_edge_padding_gradient_is_not_the_zero_padding_gradient():
    """Edge padding feeds border pixels several times: their gradient must differ from zero padding's."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1, 2, 4, 5))
    dy = rng.normal(size=(1, 2, 4, 5))
    grads = {}
    for mode in ("zeros", "edge"):
        layer = Conv2d(2, 2, 3, padding=1, seed=0, pad_mode=mode).astype(np.float64)
        layer.forward(x)
        grads[mode] = layer.backward(dy)
    interior = (slice(None), slice(None), slice(1, -1), slice(1, -1))
    # interior pixels never see the padding: identical; border pixels differ
    np.testing.assert_allclose(grads["zeros"][interior], grads["edge"][interior], rtol=1e-12, atol=1e-12)
    assert np.abs(grads["zeros"][..., 0, :] - grads["edge"][..., 0, :]).max() > 1e-3


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n, fin, fout", [(4, 5, 3), (1, 1, 1), (3, 2, 6), (6, 7, 1)])
def test_linear_gradients(n, fin, fout):
    rng = np.random.default_rng(n + fin + fout)
    check_layer(Linear(fin, fout, seed=0), rng.normal(size=(n, fin)), seed=1)


# ---------------------------------------------------------------------------
# BatchNorm, training and eval mode
# ---------------------------------------------------------------------------


def _batchnorm(cls, channels: int, rng: np.random.Generator, warmup_shape=None):
    layer = cls(channels).astype(np.float64)
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, size=channels) * rng.choice([-1.0, 1.0], size=channels)
    layer.params["beta"][...] = rng.normal(size=channels)
    if warmup_shape is not None:  # a few training batches, so the running statistics are non-trivial
        for _ in range(3):
            layer.forward(rng.normal(loc=1.5, scale=3.0, size=warmup_shape), training=True)
        assert np.abs(layer.running_mean).min() > 1e-2
        assert np.abs(layer.running_var - 1.0).min() > 1e-2
    return layer


BN_CASES = [
    (BatchNorm2d, (3, 2, 4, 5)),
    (BatchNorm2d, (2, 3, 3, 1)),
    (BatchNorm2d, (1, 2, 3, 4)),  # batch of one image: still 12 values per channel
    (BatchNorm1d, (6, 4)),
    (BatchNorm1d, (3, 4)),  # (with N=2 the output is +-1 whatever x is: dx ~ eps, too small to check)
    (BatchNorm1d, (3, 4, 5)),
    (BatchNorm1d, (1, 3, 6)),
]


@pytest.mark.parametrize("cls, shape", BN_CASES, ids=lambda v: getattr(v, "__name__", str(v).replace(" ", "")))
def test_batchnorm_gradients_training(cls, shape):
    rng = np.random.default_rng(len(shape) * 10 + shape[0])
    layer = _batchnorm(cls, shape[1], rng)
    x = rng.normal(loc=0.7, scale=2.0, size=shape)
    check_layer(layer, x, training=True, seed=3)


@pytest.mark.parametrize("cls, shape", BN_CASES, ids=lambda v: getattr(v, "__name__", str(v).replace(" ", "")))
def test_batchnorm_gradients_eval(cls, shape):
    rng = np.random.default_rng(len(shape) * 10 + shape[0] + 1)
    warm = (4, *shape[1:])
    layer = _batchnorm(cls, shape[1], rng, warmup_shape=warm)
    x = rng.normal(loc=0.7, scale=2.0, size=shape)
    check_layer(layer, x, training=False, seed=4)


def test_batchnorm_training_and_eval_gradients_differ():
    """The eval-mode backward treats the statistics as constants; the training one must not."""
    rng = np.random.default_rng(0)
    layer = _batchnorm(BatchNorm2d, 2, rng, warmup_shape=(4, 2, 3, 3))
    x = rng.normal(size=(3, 2, 3, 3))
    dy = rng.normal(size=x.shape)
    dxs = []
    for training in (True, False):
        probe = copy.deepcopy(layer)
        probe.forward(x, training=training)
        dxs.append(probe.backward(dy))
    assert np.abs(dxs[0] - dxs[1]).max() > 1e-2


# ---------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------

POOL_CASES = [
    # (x shape, kernel, stride, padding)
    ((2, 2, 6, 8), 2, None, 0),  # windows tile
    ((2, 2, 7, 5), 2, None, 0),  # tiling with a leftover row/column
    ((2, 2, 5, 6), 3, 1, 0),  # overlapping
    ((2, 2, 7, 6), 3, 2, 0),  # overlapping, stride 2
    ((2, 2, 6, 7), 3, 2, 1),  # overlapping with padding
    ((1, 3, 5, 5), 2, 2, 1),  # padding 1 with a 2x2 kernel
    ((2, 2, 6, 7), (2, 3), (2, 1), 0),  # non-square kernel and stride
    ((2, 1, 5, 6), (3, 2), (1, 2), (1, 1)),  # non-square with padding
    ((1, 2, 5, 7), (1, 3), (1, 2), (0, 1)),
    ((2, 2, 8, 8), 2, 3, 0),  # stride > kernel: gaps between windows
]


@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_CASES, ids=lambda v: str(v).replace(" ", ""))
def test_maxpool_gradients(shape, kernel, stride, padding):
    rng = np.random.default_rng(7)
    x = distinct_values(shape, rng)
    check_layer(MaxPool2d(kernel, stride=stride, padding=padding), x, seed=5)


@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_CASES, ids=lambda v: str(v).replace(" ", ""))
def test_avgpool_gradients(shape, kernel, stride, padding):
    rng = np.random.default_rng(8)
    check_layer(AvgPool2d(kernel, stride=stride, padding=padding), rng.normal(size=shape), seed=6)


def test_maxpool_overlapping_window_winner_collects_from_every_window():
    """With kernel 3 stride 1, the global maximum wins all windows containing it: dx = sum of their dy."""
    x = np.zeros((1, 1, 4, 4))
    x[0, 0] = np.arange(16).reshape(4, 4) * 0.1
    x[0, 0, 1, 2] = 10.0  # inside all four 3x3 windows of the 4x4 input
    dy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    layer = MaxPool2d(3, stride=1)
    layer.forward(x)
    dx = layer.backward(dy)
    expected = np.zeros_like(x)
    expected[0, 0, 1, 2] = 1.0 + 2.0 + 3.0 + 4.0
    np.testing.assert_array_equal(dx, expected)


# ---------------------------------------------------------------------------
# activations, Flatten, Dropout
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (4, 7), (3,)])
def test_relu_gradients(shape):
    rng = np.random.default_rng(11)
    x = away_from_zero(shape, rng)
    assert (x > 0).any() and (x < 0).any()
    check_layer(ReLU(), x, seed=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_layer_gives_positive_zero_for_negative_inputs(dtype):
    x = np.array([[-2.0, -0.0, 0.0, 1.5], [-1e-30, 3.0, -7.0, 0.25]], dtype=dtype)
    layer = ReLU()
    y = layer.forward(x)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    assert not np.signbit(y).any()  # +0.0, never -0.0 (which would print as "-0.")
    assert "-0" not in repr(y)
    dx = layer.backward(np.full(x.shape, -1.0, dtype=dtype))
    np.testing.assert_array_equal(dx, np.where(x > 0, -1.0, 0.0))  # gradient 0 at 0, as in PyTorch


@pytest.mark.parametrize("cls", [Sigmoid, Tanh])
@pytest.mark.parametrize("shape, scale", [((2, 3, 4, 5), 1.0), ((4, 7), 3.0), ((5,), 0.2)])
def test_sigmoid_tanh_gradients(cls, shape, scale):
    rng = np.random.default_rng(12)
    check_layer(cls(), rng.normal(scale=scale, size=shape), seed=2)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 2), (2, 6)])
def test_flatten_gradients(shape):
    rng = np.random.default_rng(13)
    check_layer(Flatten(), rng.normal(size=shape), seed=3)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (6, 10)])
def test_dropout_gradients_training(shape):
    rng = np.random.default_rng(14)
    x = away_from_zero(shape, rng)
    layer = Dropout(p=0.3, seed=42)
    # the mask really drops values and scales the survivors by 1/(1-p): the check is not of an identity
    y = copy.deepcopy(layer).forward(x, training=True)
    dropped = y == 0
    assert 0.1 < dropped.mean() < 0.5
    np.testing.assert_allclose(y[~dropped], x[~dropped] / 0.7, rtol=1e-12)
    check_layer(layer, x, training=True, seed=4)


def test_dropout_eval_is_identity():
    rng = np.random.default_rng(15)
    x = rng.normal(size=(3, 4, 5))
    dy = rng.normal(size=x.shape)
    layer = Dropout(p=0.3, seed=0)
    y = layer.forward(x, training=False)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(layer.backward(dy), dy)
    result = gradcheck(layer, x, training=False)
    assert result.max_error < TOL


# ---------------------------------------------------------------------------
# a whole small network
# ---------------------------------------------------------------------------


def _small_network() -> Sequential:
    model = Sequential(
        Conv2d(2, 3, 3, padding=1, seed=0),
        BatchNorm2d(3),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(3 * 3 * 3, 4, seed=1),
    ).astype(np.float64)
    model[1].params["gamma"][...] = [1.5, -0.8, 1.2]
    model[1].params["beta"][...] = [0.3, 0.5, -0.2]
    return model


ALL_KEYS = {"x", "0.W", "0.b", "1.gamma", "1.beta", "5.W", "5.b"}


def test_sequential_network_gradients_independent_check():
    """Every key of Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d -> Flatten -> Linear against finite differences.

    In training mode batch norm subtracts the channel mean, so the conv bias
    "0.b" cannot change the output: its true gradient is exactly 0.
    """
    x = np.random.default_rng(21).normal(size=(3, 2, 6, 6))
    errors = check_layer(_small_network(), x, training=True, seed=7, zero_keys=frozenset({"0.b"}), library=False)
    assert set(errors) == ALL_KEYS


def test_sequential_network_gradcheck_passes_every_key():
    """cnnlib.gradcheck on the same network: every key, including "0.b", must pass."""
    x = np.random.default_rng(21).normal(size=(3, 2, 6, 6))
    result = gradcheck(_small_network(), x, seed=7)
    assert set(result.errors) == ALL_KEYS
    assert result.max_error < TOL, str(result)


def test_gradcheck_passes_when_the_true_gradient_is_zero():
    """Minimal case: a Linear bias followed by BatchNorm1d has gradient exactly 0 in training mode.

    The analytic gradient is round-off (~1e-16) and the numerical one 0, which is a
    perfect match; a correct layer must not be reported as failing.
    """
    x = np.random.default_rng(0).normal(size=(4, 3))
    result = gradcheck(Sequential(Linear(3, 2, seed=0), BatchNorm1d(2)), x)
    assert result.max_error < TOL, str(result)


def test_sequential_network_gradients_eval_mode():
    rng = np.random.default_rng(22)
    model = Sequential(
        Conv2d(2, 3, 3, padding=1, seed=0),
        BatchNorm2d(3),
        Tanh(),
        AvgPool2d(2),
        Flatten(),
        Linear(3 * 3 * 3, 4, seed=1),
    ).astype(np.float64)
    for _ in range(3):
        model.forward(rng.normal(loc=1.0, size=(4, 2, 6, 6)), training=True)
    errors = check_layer(model, rng.normal(size=(3, 2, 6, 6)), training=False, seed=8)
    assert set(errors) == {"x", "0.W", "0.b", "1.gamma", "1.beta", "5.W", "5.b"}


def test_gradcheck_does_not_change_the_layer():
    layer = Conv2d(2, 2, 3, seed=0)  # float32
    before = {k: v.copy() for k, v in layer.params.items()}
    gradcheck(layer, np.random.default_rng(0).normal(size=(1, 2, 4, 4)))
    for k, v in layer.params.items():
        assert v.dtype == np.float32
        np.testing.assert_array_equal(v, before[k])


# ---------------------------------------------------------------------------
# CrossEntropyLoss
# ---------------------------------------------------------------------------


def _log_softmax_reference(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    for i, row in enumerate(z):
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        out[i] = [v - lse for v in row]
    return out


def test_cross_entropy_gradient_integer_labels():
    rng = np.random.default_rng(31)
    z = rng.normal(scale=2.0, size=(4, 5))
    labels = np.array([0, 3, 1, 4])
    loss = CrossEntropyLoss()
    num = numerical_gradient(lambda v: loss.forward(v, labels), z)
    value = loss.forward(z, labels)
    expected = -np.mean(_log_softmax_reference(z)[np.arange(4), labels])
    assert value == pytest.approx(expected, rel=1e-12)
    analytic = loss.backward()
    assert rel_err(analytic, num) < TOL
    assert rel_err(analytic, central_difference(lambda: loss.forward(z, labels), z)) < TOL


@pytest.mark.parametrize("kind", ["one-hot", "soft"])
def test_cross_entropy_gradient_probability_labels(kind):
    rng = np.random.default_rng(32)
    z = rng.normal(scale=2.0, size=(3, 4))
    if kind == "one-hot":
        target = np.eye(4)[[2, 0, 3]]
    else:
        target = rng.dirichlet(np.ones(4), size=3)
    loss = CrossEntropyLoss()
    num = numerical_gradient(lambda v: loss.forward(v, target), z)
    value = loss.forward(z, target)
    expected = -np.sum(target * _log_softmax_reference(z)) / 3
    assert value == pytest.approx(expected, rel=1e-12)
    assert rel_err(loss.backward(), num) < TOL
    if kind == "one-hot":  # the same as integer labels
        loss2 = CrossEntropyLoss()
        assert loss2.forward(z, np.array([2, 0, 3])) == pytest.approx(value, rel=1e-14)
        np.testing.assert_allclose(loss2.backward(), loss.backward(), rtol=1e-14)


def test_cross_entropy_large_logits_by_hand():
    # softmax([1e4, 0, -1e4]) is [1, 0, 0] to double precision; label 1 has log-probability -1e4
    loss = CrossEntropyLoss()
    value = loss.forward(np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 3e4]]), np.array([1, 2]))
    assert value == pytest.approx((1e4 + 0.0) / 2, rel=1e-12)
    np.testing.assert_allclose(loss.backward(), np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]) / 2, atol=1e-15)


@pytest.mark.parametrize("scale", [1e2, 1e3, 1e4, 1e5])
def test_cross_entropy_large_logits_random(scale):
    rng = np.random.default_rng(33)
    z = rng.normal(size=(6, 5)) * scale
    labels = rng.integers(0, 5, size=6)
    loss = CrossEntropyLoss()
    value = loss.forward(z, labels)
    assert math.isfinite(value)
    expected_value = -np.mean(_log_softmax_reference(z)[np.arange(6), labels])
    assert value == pytest.approx(expected_value, rel=1e-12)
    grad = loss.backward()
    assert np.all(np.isfinite(grad))
    # softmax - onehot over N, computed here with the max subtracted
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(z)
    onehot[np.arange(6), labels] = 1.0
    np.testing.assert_allclose(grad, (p - onehot) / 6, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------
# the checker can fail: deliberately wrong backward passes
# ---------------------------------------------------------------------------


class PassThroughReLU(ReLU):
    """Wrong: forgets to mask the gradient."""

    def backward(self, dy):
        self._cached()
        return np.asarray(dy)


class ScaledWLinear(Linear):
    """Wrong: dW averaged over the batch instead of summed."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["W"] = self.grads["W"] / dy.shape[0]
        return dx


class TransposedWLinear(Linear):
    """Wrong: dW is x.T @ dy (transposed); a square layer, so the shapes still fit."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["W"] = self.grads["W"].T.copy()
        return dx


class SpreadMaxPool(MaxPool2d):
    """Wrong: sends each window's gradient to every element of the window."""

    def forward(self, x, training=True):
        self._x_shape = np.shape(x)
        return super().forward(x, training)

    def backward(self, dy):
        kh, kw = self.kernel_size
        sh, sw = self.stride
        dx = np.zeros(self._x_shape)
        for i in range(dy.shape[2]):
            for j in range(dy.shape[3]):
                dx[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += dy[:, :, i, j][:, :, None, None]
        return dx


class ChannelsLastFlatten(Flatten):
    """Wrong: un-flattens dy as if the features were stored (H, W, C)."""

    def backward(self, dy):
        n, c, h, w = self._cached()
        return np.asarray(dy).reshape(n, h, w, c).transpose(0, 3, 1, 2)


class MeanDyLinear(Linear):
    """Wrong: dW = outer(mean_n dy, sum_n x) instead of sum_n outer(dy_n, x_n)."""

    def backward(self, dy):
        dx = super().backward(dy)
        x = self._cached()
        self.grads["W"] = np.outer(dy.mean(axis=0), x.sum(axis=0))
        return dx


def test_gradcheck_catches_relu_without_mask():
    x = away_from_zero((3, 4, 5), np.random.default_rng(0))
    result = gradcheck(PassThroughReLU(), x)
    assert result.max_error > 1e-3
    assert gradcheck(ReLU(), x).max_error < TOL


def test_gradcheck_catches_scaled_linear_weight_gradient():
    x = np.random.default_rng(1).normal(size=(4, 5))
    result = gradcheck(ScaledWLinear(5, 3, seed=0), x)
    assert result.errors["W"] > 1e-3
    assert result.errors["x"] < TOL and result.errors["b"] < TOL  # the error is pinned on W


def test_gradcheck_catches_transposed_linear_weight_gradient():
    x = np.random.default_rng(2).normal(size=(5, 4))
    result = gradcheck(TransposedWLinear(4, 4, seed=0), x)
    assert result.errors["W"] > 1e-3
    assert result.max_error > 1e-3


def test_gradcheck_catches_maxpool_spreading_gradient():
    x = distinct_values((2, 2, 6, 6), np.random.default_rng(3))
    assert gradcheck(SpreadMaxPool(2), x).max_error > 1e-3
    assert gradcheck(SpreadMaxPool(3, stride=1), x).max_error > 1e-3
    assert gradcheck(MaxPool2d(2), x).max_error < TOL


def test_gradcheck_with_own_checker_also_rejects_wrong_layers():
    """The independent checker in this file fails on the same wrong layers (it is not vacuous either)."""
    rng = np.random.default_rng(4)
    with pytest.raises(AssertionError):
        check_layer(PassThroughReLU(), away_from_zero((3, 4), rng))
    with pytest.raises(AssertionError):
        check_layer(SpreadMaxPool(2), distinct_values((1, 2, 4, 4), rng))


@pytest.mark.parametrize(
    "wrong, right, shape",
    [
        (ChannelsLastFlatten(), Flatten(), (2, 3, 2, 4)),
        (MeanDyLinear(4, 3, seed=0), Linear(4, 3, seed=0), (5, 4)),
    ],
    ids=["flatten-channels-last", "linear-mean-dy"],
)
def test_sum_upstream_gradient_hides_a_bug_that_random_dy_catches(wrong, right, shape):
    rng = np.random.default_rng(5)
    x = rng.normal(size=shape)
    y_shape = right.forward(x).shape
    ones = np.ones(y_shape)
    # with L = sum(y) the wrong backward looks perfect ...
    assert gradcheck(wrong, x, dy=ones).max_error < TOL
    # ... a random upstream gradient exposes it, while the correct layer passes both
    assert gradcheck(wrong, x).max_error > 1e-3
    assert gradcheck(right, x, dy=ones).max_error < TOL
    assert gradcheck(right, x).max_error < TOL


# ---------------------------------------------------------------------------
# numerical_gradient and relative_error
# ---------------------------------------------------------------------------


def test_numerical_gradient_square():
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -0.25]])
    original = x.copy()
    g = numerical_gradient(lambda v: float(np.sum(v**2)), x)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, 2 * original, atol=1e-8)
    np.testing.assert_array_equal(x, original)  # restored after the perturbations


def test_numerical_gradient_sin():
    x = np.linspace(-3.0, 3.0, 13)
    g = numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    np.testing.assert_allclose(g, np.cos(x), atol=1e-8)


def test_numerical_gradient_non_separable():
    # f = x0 * x1**2 + exp(x2) * x0  ->  grad = (x1**2 + exp(x2), 2 x0 x1, exp(x2) x0)
    x = np.array([1.5, -2.0, 0.3])
    g = numerical_gradient(lambda v: float(v[0] * v[1] ** 2 + math.exp(v[2]) * v[0]), x)
    expected = [(-2.0) ** 2 + math.exp(0.3), 2 * 1.5 * -2.0, math.exp(0.3) * 1.5]
    np.testing.assert_allclose(g, expected, rtol=1e-8)


def test_numerical_gradient_uses_the_given_step():
    # for f = x**3 the central difference is 3x^2 + eps^2 exactly: the step is visible
    x = np.array([2.0])
    g = numerical_gradient(lambda v: float(v[0] ** 3), x, eps=0.1)
    assert g[0] == pytest.approx(3 * 4.0 + 0.01, rel=1e-10)


def test_numerical_gradient_rejects_integer_arrays():
    with pytest.raises(TypeError):
        numerical_gradient(lambda v: float(v.sum()), np.array([1, 2, 3]))


def test_relative_error_basics():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert relative_error([1.0, 2.2], [1.0, 2.0]) == pytest.approx(0.2 / 2.2)  # symmetric
    assert relative_error([0.0, 0.0], [0.0, 1e-3]) == pytest.approx(1.0)
    assert relative_error([-4.0, 1.0], [-4.0, 1.1]) == pytest.approx(0.1 / 4.0)  # scale uses |a|
    # scale-free: multiplying both by 1e6 does not change it
    a, b = np.array([0.3, -1.2]), np.array([0.31, -1.19])
    assert relative_error(a * 1e6, b * 1e6) == pytest.approx(relative_error(a, b))
    with pytest.raises(ValueError):
        relative_error(np.zeros(3), np.zeros(4))


def test_gradcheck_result_fields():
    x = np.random.default_rng(0).normal(size=(2, 3))
    result = gradcheck(Linear(3, 2, seed=0), x)
    assert set(result.errors) == {"x", "W", "b"}
    assert result.max_error == max(result.errors.values())
    assert isinstance(result, cnnlib.GradcheckResult)
