"""Global average pooling (``GlobalAvgPool2d``, ``global_avg_pool2d``): known answers, size independence, errors.

The generic tests (gradient check, bad input to the layer, runner, PyTorch oracle) run
from its row in ``tests/layer_table.py``; these are the ones particular to it.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnnlib as c
from cnnlib import GlobalAvgPool2d, global_avg_pool2d, global_avg_pool2d_backward


def test_known_answer_forward_and_backward():
    x = np.array([[[[1, 3], [2, 6]], [[0, 0], [4, 8]]]])  # one image, two 2x2 maps: means 3 and 3
    np.testing.assert_array_equal(global_avg_pool2d(x), [[3.0, 3.0]])
    dx = global_avg_pool2d_backward([[4.0, -8.0]], x)
    np.testing.assert_array_equal(dx, [[[[1, 1], [1, 1]], [[-2, -2], [-2, -2]]]])  # dy / (H*W) at every position
    layer = GlobalAvgPool2d()
    np.testing.assert_array_equal(layer.forward(x), [[3.0, 3.0]])
    np.testing.assert_array_equal(layer.backward(np.array([[4.0, -8.0]])), dx)


def test_the_backward_is_the_transpose_of_the_forward():
    # <dy, forward(x)> == <backward(dy), x> for a linear map
    rng = np.random.default_rng(0)
    x, dy = rng.normal(size=(3, 4, 5, 6)), rng.normal(size=(3, 4))
    assert np.isclose(np.sum(dy * global_avg_pool2d(x)), np.sum(global_avg_pool2d_backward(dy, x) * x))


def test_float32_stays_float32_and_integers_become_float64():
    x = np.ones((2, 3, 4, 4), np.float32)
    assert global_avg_pool2d(x).dtype == np.float32
    assert global_avg_pool2d_backward(np.ones((2, 3)), x).dtype == np.float32
    assert global_avg_pool2d(np.ones((1, 1, 2, 2), int)).dtype == np.float64


def test_a_classifier_after_it_takes_any_image_size_and_flatten_does_not():
    net = c.Sequential(c.Conv2d(1, 4, 3, padding=1, seed=0), c.ReLU(), c.MaxPool2d(2), GlobalAvgPool2d(), c.Linear(4, 10, seed=1))
    for size in (28, 36, 17):
        x = np.random.default_rng(size).normal(size=(2, 1, size, size)).astype(np.float32)
        assert net.forward(x, training=False).shape == (2, 10)
        assert net.backward(np.ones((2, 10), np.float32)) is not None
    flat = c.Sequential(c.Conv2d(1, 4, 3, padding=1, seed=0), c.ReLU(), c.MaxPool2d(2), c.Flatten(), c.Linear(4 * 14 * 14, 10, seed=1))
    assert flat.forward(np.zeros((2, 1, 28, 28), np.float32), training=False).shape == (2, 10)
    with pytest.raises(ValueError, match="Linear.forward: this layer expects 784 input features, but x has 1296"):
        flat.forward(np.zeros((2, 1, 36, 36), np.float32), training=False)


def test_fit_trains_through_it():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 2, 6, 6)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(int)
    net = c.Sequential(c.Conv2d(2, 4, 3, padding=1, seed=0), GlobalAvgPool2d(), c.Linear(4, 2, seed=1))
    history = c.fit(net, x, y, epochs=5, batch_size=8, optimizer=c.SGD(net.parameters(), lr=0.1), seed=0, progress=False)
    assert np.all(np.isfinite(history.loss)) and history.loss[-1] < history.loss[0]


@pytest.mark.parametrize("shape", [(4, 4), (3, 4, 4), (1, 1, 1, 4, 4)], ids=str)
def test_the_functional_version_needs_4_dimensions_and_says_so(shape):
    with pytest.raises(ValueError, match=r"global_avg_pool2d: expected x with 4 dimensions \(N, C, H, W\); got shape") as info:
        global_avg_pool2d(np.zeros(shape))
    assert str(shape) in str(info.value)


def test_bad_input_names_the_argument_expected_and_given():
    with pytest.raises(ValueError, match=r"at least one position per map .* got shape \(2, 3, 0, 4\)"):
        global_avg_pool2d(np.zeros((2, 3, 0, 4)))
    with pytest.raises(ValueError, match=r"at least one position per map; got shape \(2, 3, 4, 0\)"):
        GlobalAvgPool2d().forward(np.zeros((2, 3, 4, 0)))
    with pytest.raises(c.NonFiniteError, match="global_avg_pool2d: x must be finite"):
        global_avg_pool2d(np.full((1, 1, 2, 2), np.nan))
    with pytest.raises(TypeError, match="global_avg_pool2d: x must hold real numbers"):
        global_avg_pool2d(np.full((1, 1, 2, 2), "a"))
    with pytest.raises(ValueError, match=r"global_avg_pool2d_backward: expected dy of shape \(2, 3\)"):
        global_avg_pool2d_backward(np.ones((2, 3, 1, 1)), np.ones((2, 3, 4, 4)))


def test_an_empty_batch_gives_an_empty_output():
    assert global_avg_pool2d(np.zeros((0, 3, 4, 4))).shape == (0, 3)
    assert GlobalAvgPool2d().forward(np.zeros((0, 3, 4, 4), np.float32)).shape == (0, 3)
