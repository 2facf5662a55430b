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



def test_fit_and_evaluate_take_per_pixel_labels():
    """fit, evaluate and predict with scores (N, K, H, W) and labels (N, H, W): each pixel is one example."""
    rng = np.random.default_rng(45)
    x = rng.random((64, 1, 6, 6)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)                  # each pixel's class: is it brighter than 0.5?
    model = cnnlib.Sequential(cnnlib.Conv2d(1, 2, 1, seed=0))  # a 1x1 convolution can learn the threshold
    history = cnnlib.fit(model, x, y, epochs=30, batch_size=16, optimizer=cnnlib.Adam(model.parameters(), lr=0.05),
                         seed=0, progress=False)
    assert history.accuracy[-1] > 0.95 and history.loss[-1] < history.loss[0]
    result = cnnlib.evaluate(model, x, y, batch_size=10)   # batches of unequal size: weighted by pixels
    scores = model.forward(x, training=False)
    assert result.loss == pytest.approx(CrossEntropyLoss().forward(scores, y), rel=1e-5)
    assert result.accuracy == pytest.approx(float((scores.argmax(axis=1) == y).mean()))
    assert np.array_equal(cnnlib.predict(model, x), scores.argmax(axis=1))


def test_fit_checks_per_pixel_labels_against_the_model():
    x = np.zeros((4, 1, 5, 5), dtype=np.float32)
    model = cnnlib.Sequential(cnnlib.Conv2d(1, 2, 3, padding="same", seed=0))
    y = np.zeros((4, 5, 5), dtype=np.int64)
    y[1, 2, 3] = 2                                       # a third class, the model has two
    with pytest.raises(ValueError, match=r"fit: y must be integers in \[0, 2\) for 2 classes; got 1 out of range \(e.g. 2\)"):
        cnnlib.fit(model, x, y, epochs=1, batch_size=4, progress=False)
    with pytest.raises(TypeError, match=r"y must be integers \(class numbers, shape \(N,\) or \(N, H, W\)\); got dtype float64"):
        cnnlib.fit(model, x, y.astype(float), epochs=1, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="x has 4 examples but y has 3 labels"):
        cnnlib.evaluate(model, x, y[:3])
