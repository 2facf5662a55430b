"""BatchNorm1d / BatchNorm2d: forward formula, running statistics, modes, dtypes.

Every expected value is computed here from the definition (PyTorch's):
training normalises with the batch mean and the *biased* variance, and updates
``running = (1 - momentum) * running + momentum * statistic`` with the
*unbiased* variance; eval mode uses the running estimates and changes nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib import BatchNorm1d, BatchNorm2d

EPS = 1e-5


def reference_forward(x, axes, gamma, beta, eps=EPS):
    shape = [1] * x.ndim
    shape[1] = -1
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)  # biased
    return (x - mean) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


def make_bn2d(channels=3, seed=0):
    rng = np.random.default_rng(seed)
    layer = BatchNorm2d(channels).astype(np.float64)
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, size=channels)
    layer.params["beta"][...] = rng.normal(size=channels)
    return layer


# ---------------------------------------------------------------------------
# training forward
# ---------------------------------------------------------------------------


def test_batchnorm2d_training_forward_matches_formula():
    rng = np.random.default_rng(1)
    x = rng.normal(loc=2.0, scale=3.0, size=(4, 3, 5, 6))
    layer = make_bn2d()
    gamma, beta = layer.params["gamma"].copy(), layer.params["beta"].copy()
    y = layer.forward(x, training=True)
    assert y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y, reference_forward(x, (0, 2, 3), gamma, beta), rtol=1e-12, atol=1e-12)


def test_batchnorm2d_training_forward_by_hand_on_a_tiny_input():
    # one channel, values 1, 2, 3, 4 (N=1, H=2, W=2): mean 2.5, biased var 1.25
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    layer = BatchNorm2d(1).astype(np.float64)
    layer.params["gamma"][...] = 2.0
    layer.params["beta"][...] = 0.5
    y = layer.forward(x, training=True)
    std = np.sqrt(1.25 + 1e-5)
    expected = np.array([[[[-1.5, -0.5], [0.5, 1.5]]]]) / std * 2.0 + 0.5
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    # running statistics after this one step: 0.1 * 2.5, and 0.9 + 0.1 * (unbiased var 5/3)
    np.testing.assert_allclose(layer.running_mean, [0.25], rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, [0.9 + 0.1 * 5.0 / 3.0], rtol=1e-12)


def test_batchnorm2d_output_is_standardised_per_channel():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3, 5, 6)) * np.array([0.5, 3.0, 10.0]).reshape(1, 3, 1, 1) + np.array([-4.0, 0.0, 7.0]).reshape(1, 3, 1, 1)
    layer = BatchNorm2d(3).astype(np.float64)  # gamma = 1, beta = 0
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    # var(y) = var / (var + eps), within 1e-4 of 1 for these scales
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, atol=1e-4)
    assert np.all(y.var(axis=(0, 2, 3)) < 1.0)


# ---------------------------------------------------------------------------
# running statistics
# ---------------------------------------------------------------------------


def test_running_statistics_follow_the_exponential_average():
    rng = np.random.default_rng(3)
    layer = make_bn2d()
    N, C, H, W = 4, 3, 5, 6
    m = N * H * W
    rm = np.zeros(C)
    rv = np.ones(C)
    for step in range(5):
        x = rng.normal(loc=step - 1.0, scale=1.0 + step, size=(N, C, H, W))
        layer.forward(x, training=True)
        batch_mean = x.mean(axis=(0, 2, 3))
        biased = x.var(axis=(0, 2, 3))
        unbiased = ((x - batch_mean.reshape(1, C, 1, 1)) ** 2).sum(axis=(0, 2, 3)) / (m - 1)
        np.testing.assert_allclose(unbiased, biased * m / (m - 1), rtol=1e-12)
        rm = 0.9 * rm + 0.1 * batch_mean
        rv = 0.9 * rv + 0.1 * unbiased
        np.testing.assert_allclose(layer.running_mean, rm, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.running_var, rv, rtol=1e-12)
    # the buffers are what state_dict saves
    np.testing.assert_allclose(layer.state_dict()["running_mean"], rm, rtol=1e-12)
    np.testing.assert_allclose(layer.state_dict()["running_var"], rv, rtol=1e-12)


def test_running_var_uses_the_unbiased_variance():
    """With m = 2 values per channel the unbiased variance is twice the biased one."""
    x = np.array([[1.0, 10.0], [3.0, 30.0]])  # (N=2, C=2)
    layer = BatchNorm1d(2).astype(np.float64)
    layer.forward(x, training=True)
    # channel 0: mean 2, biased var 1, unbiased 2; channel 1: mean 20, biased 100, unbiased 200
    np.testing.assert_allclose(layer.running_mean, [0.2, 2.0], rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, [0.9 + 0.2, 0.9 + 20.0], rtol=1e-12)


def test_default_momentum_and_eps():
    for cls in (BatchNorm1d, BatchNorm2d):
        layer = cls(4)
        assert layer.momentum == 0.1
        assert layer.eps == 1e-5
        np.testing.assert_array_equal(layer.running_mean, np.zeros(4))
        np.testing.assert_array_equal(layer.running_var, np.ones(4))
        np.testing.assert_array_equal(layer.params["gamma"], np.ones(4))
        np.testing.assert_array_equal(layer.params["beta"], np.zeros(4))


@pytest.mark.parametrize("momentum", [0.3, 1.0, 0.0])
def test_custom_momentum_is_respected(momentum):
    rng = np.random.default_rng(4)
    layer = BatchNorm2d(2, momentum=momentum).astype(np.float64)
    assert layer.momentum == momentum
    rm, rv = np.zeros(2), np.ones(2)
    for _ in range(3):
        x = rng.normal(loc=3.0, scale=2.0, size=(2, 2, 3, 4))
        layer.forward(x, training=True)
        rm = (1 - momentum) * rm + momentum * x.mean(axis=(0, 2, 3))
        rv = (1 - momentum) * rv + momentum * x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(layer.running_mean, rm, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.running_var, rv, rtol=1e-12)


def test_custom_eps_is_used_in_the_forward_pass():
    x = np.array([[1.0], [3.0]])  # one channel: mean 2, biased var 1
    layer = BatchNorm1d(1, eps=0.5).astype(np.float64)
    assert layer.eps == 0.5
    np.testing.assert_allclose(layer.forward(x), [[-1.0 / np.sqrt(1.5)], [1.0 / np.sqrt(1.5)]], rtol=1e-12)


# ---------------------------------------------------------------------------
# eval mode
# ---------------------------------------------------------------------------


def test_eval_mode_uses_running_statistics_and_does_not_change_them():
    rng = np.random.default_rng(5)
    layer = make_bn2d()
    for _ in range(4):
        layer.forward(rng.normal(loc=1.0, scale=2.0, size=(4, 3, 5, 6)), training=True)
    rm, rv = layer.running_mean.copy(), layer.running_var.copy()
    gamma, beta = layer.params["gamma"], layer.params["beta"]
    x = rng.normal(size=(2, 3, 5, 6))
    y = layer.forward(x, training=False)
    expected = (x - rm.reshape(1, 3, 1, 1)) / np.sqrt(rv.reshape(1, 3, 1, 1) + EPS) * gamma.reshape(1, 3, 1, 1) + beta.reshape(1, 3, 1, 1)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(layer.running_mean, rm)
    np.testing.assert_array_equal(layer.running_var, rv)
    # eval output does not depend on the rest of the batch
    np.testing.assert_allclose(layer.forward(x[:1], training=False), y[:1], rtol=1e-12)
    # a training step does change them
    layer.forward(x, training=True)
    assert not np.allclose(layer.running_mean, rm)
    assert not np.allclose(layer.running_var, rv)


def test_eval_mode_of_a_fresh_layer():
    """Running stats start at mean 0, variance 1: eval output is x / sqrt(1 + eps) * gamma + beta."""
    rng = np.random.default_rng(6)
    layer = make_bn2d(channels=2, seed=7)
    x = rng.normal(size=(3, 2, 2, 2))
    g, b = layer.params["gamma"].reshape(1, 2, 1, 1), layer.params["beta"].reshape(1, 2, 1, 1)
    np.testing.assert_allclose(layer.forward(x, training=False), x / np.sqrt(1 + EPS) * g + b, rtol=1e-12)


def test_eval_mode_accepts_one_value_per_channel():
    layer = BatchNorm1d(3).astype(np.float64)
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(layer.forward(x, training=False), x / np.sqrt(1 + EPS), rtol=1e-12)


# ---------------------------------------------------------------------------
# BatchNorm1d
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape, axes", [((8, 4), (0,)), ((4, 3, 5), (0, 2))])
def test_batchnorm1d_forward_and_running_stats(shape, axes):
    rng = np.random.default_rng(8)
    C = shape[1]
    layer = BatchNorm1d(C).astype(np.float64)
    gamma = rng.uniform(0.5, 2.0, size=C)
    beta = rng.normal(size=C)
    layer.params["gamma"][...] = gamma
    layer.params["beta"][...] = beta
    m = int(np.prod([shape[a] for a in axes]))
    rm, rv = np.zeros(C), np.ones(C)
    for _ in range(3):
        x = rng.normal(loc=1.0, scale=2.0, size=shape)
        y = layer.forward(x, training=True)
        np.testing.assert_allclose(y, reference_forward(x, axes, gamma, beta), rtol=1e-12, atol=1e-12)
        mean = x.mean(axis=axes)
        rm = 0.9 * rm + 0.1 * mean
        rv = 0.9 * rv + 0.1 * x.var(axis=axes) * m / (m - 1)
    np.testing.assert_allclose(layer.running_mean, rm, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.running_var, rv, rtol=1e-12)
    # eval
    x = rng.normal(size=shape)
    bshape = (1, C) + (1,) * (len(shape) - 2)
    expected = (x - rm.reshape(bshape)) / np.sqrt(rv.reshape(bshape) + EPS) * gamma.reshape(bshape) + beta.reshape(bshape)
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-12, atol=1e-12)


def test_batchnorm1d_rejects_4d_and_batchnorm2d_rejects_2d():
    with pytest.raises(ValueError):
        BatchNorm1d(3).forward(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError):
        BatchNorm2d(3).forward(np.zeros((2, 3)))
    with pytest.raises(ValueError):
        BatchNorm2d(3).forward(np.zeros((2, 4, 3, 3)))  # wrong channel count


# ---------------------------------------------------------------------------
# too little data to train on
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, shape",
    [(BatchNorm1d, (1, 3)), (BatchNorm1d, (1, 3, 1)), (BatchNorm2d, (1, 3, 1, 1))],
)
def test_one_value_per_channel_in_training_raises(cls, shape):
    layer = cls(3)
    rm, rv = layer.running_mean.copy(), layer.running_var.copy()
    with pytest.raises(ValueError):
        layer.forward(np.ones(shape, dtype=np.float32), training=True)
    np.testing.assert_array_equal(layer.running_mean, rm)  # nothing was updated
    np.testing.assert_array_equal(layer.running_var, rv)


def test_batch_of_one_sequence_trains():
    """(N=1, C, L=4) has 4 values per channel: allowed, as in PyTorch."""
    x = np.arange(12, dtype=np.float64).reshape(1, 3, 4)
    y = BatchNorm1d(3).astype(np.float64).forward(x, training=True)
    np.testing.assert_allclose(y, reference_forward(x, (0, 2), np.ones(3), np.zeros(3)), rtol=1e-12)


# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls, shape, axes", [(BatchNorm2d, (4, 3, 5, 6), (0, 2, 3)), (BatchNorm1d, (6, 3), (0,)), (BatchNorm1d, (3, 3, 4), (0, 2))])
def test_float32_in_float32_out(cls, shape, axes):
    rng = np.random.default_rng(9)
    layer = cls(3)
    x = rng.normal(loc=1.0, size=shape).astype(np.float32)
    for training in (True, True, False):
        y = layer.forward(x, training=training)
        assert y.dtype == np.float32
        assert layer.running_mean.dtype == np.float32
        assert layer.running_var.dtype == np.float32
    layer2 = cls(3)
    y = layer2.forward(x, training=True)
    expected = reference_forward(x.astype(np.float64), axes, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    m = x.size // 3
    np.testing.assert_allclose(layer2.running_mean, 0.1 * x.astype(np.float64).mean(axis=axes), rtol=1e-5)
    np.testing.assert_allclose(layer2.running_var, 0.9 + 0.1 * x.astype(np.float64).var(axis=axes) * m / (m - 1), rtol=1e-5)
    # backward stays float32 as well
    dx = layer2.backward(np.ones_like(y))
    assert dx.dtype == np.float32
    assert layer2.grads["gamma"].dtype == np.float32 and layer2.grads["beta"].dtype == np.float32
