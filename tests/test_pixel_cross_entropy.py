"""CrossEntropyLoss with a score per pixel: logits (N, C, H, W), labels (N, H, W).

Each position is one example, so the loss must equal the loss of the flattened
(N*H*W, C) rows, and its gradient the rows' gradient put back in place. The
known answer by hand is in test_known_answers.py, the bad inputs in
test_errors.py and the comparison with PyTorch in test_torch_oracle.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnnlib
from cnnlib import CrossEntropyLoss
from cnnlib.gradcheck import numerical_gradient, relative_error


def _rows(z: np.ndarray) -> np.ndarray:
    """(N, C, d1, ..., dk) -> (N*d1*...*dk, C): one row of class scores per position."""
    return np.moveaxis(z, 1, -1).reshape(-1, z.shape[1])


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 6), (1, 2, 2, 3, 2)], ids=["NCHW", "NCL", "NCDHW"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_equals_the_flattened_rows(shape, dtype):
    rng = np.random.default_rng(41)
    z = rng.normal(scale=3.0, size=shape).astype(dtype)
    y = rng.integers(0, shape[1], size=(shape[0], *shape[2:]))
    pixel, rows = CrossEntropyLoss(), CrossEntropyLoss()
    value = pixel.forward(z, y)
    assert value == pytest.approx(rows.forward(_rows(z), y.reshape(-1)), rel=1e-6 if dtype == np.float32 else 1e-13)
    grad = pixel.backward()
    assert grad.shape == z.shape and grad.dtype == dtype
    np.testing.assert_allclose(_rows(grad), rows.backward(), rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-9)


def test_probability_targets_per_pixel_equal_integer_labels():
    rng = np.random.default_rng(42)
    z = rng.normal(size=(2, 4, 3, 3))
    y = rng.integers(0, 4, size=(2, 3, 3))
    target = np.moveaxis(np.eye(4)[y], -1, 1)  # one-hot along axis 1: (2, 4, 3, 3)
    a, b = CrossEntropyLoss(), CrossEntropyLoss()
    assert a.forward(z, target) == pytest.approx(b.forward(z, y), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-13)


@pytest.mark.parametrize("shape", [(2, 3, 3, 4), (2, 4, 5)])
def test_gradient_by_finite_differences(shape):
    # float64; a random upstream scalar g: d(g * L)/dz must be g * backward()
    rng = np.random.default_rng(43)
    z = rng.normal(scale=2.0, size=shape)
    y = rng.integers(0, shape[1], size=(shape[0], *shape[2:]))
    g = rng.normal()
    loss = CrossEntropyLoss()
    numeric = numerical_gradient(lambda v: g * loss.forward(v, y), z.copy())
    loss.forward(z, y)
    analytic = g * loss.backward()
    assert relative_error(analytic, numeric) < 1e-7


def test_a_fully_convolutional_model_trains_with_the_per_pixel_loss():
    # the four steps of training, with labels (N, H, W); predict gives a class per pixel
    rng = np.random.default_rng(44)
    x = rng.random((16, 1, 6, 6)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)  # label: is the pixel bright?
    model = cnnlib.Sequential(cnnlib.Conv2d(1, 4, 3, padding="same", seed=0), cnnlib.ReLU(), cnnlib.Conv2d(4, 2, 1, seed=1))
    loss, opt = CrossEntropyLoss(), cnnlib.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(60):
        value = loss.forward(model.forward(x, training=True), y)
        first = value if first is None else first
        model.backward(loss.backward())
        opt.step()
    assert value < 0.5 * first
    pred = cnnlib.predict(model, x)
    assert pred.shape == (16, 6, 6)
    assert np.mean(pred == y) > 0.9
    probs = cnnlib.predict(model, x, return_probs=True)
    assert probs.shape == (16, 2, 6, 6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.xfail(reason="fit/evaluate take one label per example: training.py's _check_data calls class_labels, "
                   "which wants labels of shape (N,), and the accuracy divides by N, not N*H*W (see the H7 report)",
                   strict=False)
def test_fit_with_per_pixel_labels():
    rng = np.random.default_rng(45)
    x = rng.random((8, 1, 5, 5)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    model = cnnlib.Sequential(cnnlib.Conv2d(1, 2, 3, padding="same", seed=0))
    history = cnnlib.fit(model, x, y, epochs=1, batch_size=4, progress=False)
    assert 0.0 <= history.accuracy[0] <= 1.0
    result = cnnlib.evaluate(model, x, y)
    assert 0.0 <= result.accuracy <= 1.0
