"""SGD and Adam against steps worked out by hand (PyTorch's update rules).

The layer is a ``Linear(2, 1)`` with W = [[1, -2]] and b = [0.5]; gradients are
set by hand, so every expected number below is plain arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnlib import SGD, Adam, CrossEntropyLoss, Linear, ReLU, Sequential

W0 = [[1.0, -2.0]]
B0 = [0.5]
G_W = [[0.5, -1.0]]
G_B = [2.0]


def tiny_layer(dtype=np.float64) -> Linear:
    layer = Linear(2, 1, seed=0).astype(dtype)
    layer.params["W"][...] = W0
    layer.params["b"][...] = B0
    return layer


def set_grads(layer: Linear, gw, gb, dtype=np.float64) -> None:
    layer.grads = {"W": np.array(gw, dtype=dtype), "b": np.array(gb, dtype=dtype)}


# ---------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------


def test_sgd_plain_step():
    layer = tiny_layer()
    set_grads(layer, G_W, G_B)
    SGD(layer, lr=0.1).step()
    # w - lr * g
    np.testing.assert_allclose(layer.params["W"], [[1.0 - 0.05, -2.0 + 0.1]], rtol=1e-15)
    np.testing.assert_allclose(layer.params["b"], [0.5 - 0.2], rtol=1e-15)


def test_sgd_plain_two_steps_use_the_latest_gradient():
    layer = tiny_layer()
    opt = SGD(layer, lr=0.1)
    set_grads(layer, G_W, G_B)
    opt.step()
    set_grads(layer, [[1.0, 1.0]], [-1.0])
    opt.step()
    np.testing.assert_allclose(layer.params["W"], [[0.95 - 0.1, -1.9 - 0.1]], rtol=1e-15)
    np.testing.assert_allclose(layer.params["b"], [0.3 + 0.1], rtol=1e-15)


def test_sgd_momentum_three_steps():
    layer = tiny_layer()
    opt = SGD(layer, lr=0.1, momentum=0.9)
    grads = [([[0.5, -1.0]], [2.0]), ([[1.0, 0.0]], [-1.0]), ([[-0.5, 2.0]], [0.5])]
    # buf1 = g1 = [0.5, -1] | 2            -> W = [0.95, -1.9],   b = 0.3
    # buf2 = 0.9*buf1 + g2 = [1.45, -0.9] | 0.8   -> W = [0.805, -1.81], b = 0.22
    # buf3 = 0.9*buf2 + g3 = [0.805, 1.19] | 1.22 -> W = [0.7245, -1.929], b = 0.098
    expected = [([[0.95, -1.9]], [0.3]), ([[0.805, -1.81]], [0.22]), ([[0.7245, -1.929]], [0.098])]
    for (gw, gb), (ew, eb) in zip(grads, expected):
        set_grads(layer, gw, gb)
        opt.step()
        np.testing.assert_allclose(layer.params["W"], ew, rtol=1e-12)
        np.testing.assert_allclose(layer.params["b"], eb, rtol=1e-12)


def test_sgd_weight_decay():
    layer = tiny_layer()
    set_grads(layer, G_W, G_B)
    SGD(layer, lr=0.1, weight_decay=0.01).step()
    # g + wd * w = [0.51, -1.02] | 2.005
    np.testing.assert_allclose(layer.params["W"], [[1.0 - 0.051, -2.0 + 0.102]], rtol=1e-14)
    np.testing.assert_allclose(layer.params["b"], [0.5 - 0.2005], rtol=1e-14)


def test_sgd_momentum_with_weight_decay_two_steps():
    layer = tiny_layer()
    opt = SGD(layer, lr=0.1, momentum=0.9, weight_decay=0.1)
    # step 1: g = [0.5, -1] + 0.1*[1, -2] = [0.6, -1.2]; buf = g; W = [0.94, -1.88]
    set_grads(layer, G_W, G_B)
    opt.step()
    np.testing.assert_allclose(layer.params["W"], [[0.94, -1.88]], rtol=1e-14)
    # step 2: g = [0, 0] + 0.1*[0.94, -1.88] = [0.094, -0.188]; buf = 0.9*[0.6, -1.2] + g = [0.634, -1.268]
    #         W = [0.94 - 0.0634, -1.88 + 0.1268] = [0.8766, -1.7532]
    set_grads(layer, [[0.0, 0.0]], [0.0])
    opt.step()
    np.testing.assert_allclose(layer.params["W"], [[0.8766, -1.7532]], rtol=1e-13)


def test_sgd_does_not_modify_the_gradients():
    layer = tiny_layer()
    opt = SGD(layer, lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(2):
        set_grads(layer, G_W, G_B)
        opt.step()
        np.testing.assert_array_equal(layer.grads["W"], G_W)
        np.testing.assert_array_equal(layer.grads["b"], G_B)


# ---------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------


def adam_reference(w0, grad_seq, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0):
    """Pure-Python Adam from the torch.optim.Adam docs; returns the weights after each step."""
    w = [float(v) for v in w0]
    m = [0.0] * len(w)
    v = [0.0] * len(w)
    history = []
    for t, g in enumerate(grad_seq, start=1):
        for i in range(len(w)):
            gi = g[i] + weight_decay * w[i]
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            step_size = lr / (1 - b1**t)
            denom = math.sqrt(v[i]) / math.sqrt(1 - b2**t) + eps
            w[i] = w[i] - step_size * m[i] / denom
        history.append(list(w))
    return history


def test_adam_first_step_by_hand():
    # at t = 1 the bias corrections undo (1 - b1) and (1 - b2): the step is lr * g / (|g| + eps)
    layer = tiny_layer()
    set_grads(layer, G_W, G_B)
    Adam(layer, lr=0.01).step()
    np.testing.assert_allclose(
        layer.params["W"], [[1.0 - 0.01 * 0.5 / (0.5 + 1e-8), -2.0 + 0.01 * 1.0 / (1.0 + 1e-8)]], rtol=1e-12
    )
    np.testing.assert_allclose(layer.params["b"], [0.5 - 0.01 * 2.0 / (2.0 + 1e-8)], rtol=1e-12)


def test_adam_defaults():
    opt = Adam(tiny_layer())
    assert opt.lr == 1e-3
    assert opt.betas == (0.9, 0.999)
    assert opt.eps == 1e-8
    assert opt.weight_decay == 0.0


@pytest.mark.parametrize("lr, weight_decay", [(1e-3, 0.0), (0.05, 0.0), (0.05, 0.1)])
def test_adam_three_steps_match_reference(lr, weight_decay):
    layer = tiny_layer()
    opt = Adam(layer, lr=lr, weight_decay=weight_decay)
    grads = [([[0.5, -1.0]], [2.0]), ([[1.0, 0.0]], [-1.0]), ([[-0.5, 2.0]], [0.5])]
    ref_w = adam_reference([1.0, -2.0], [g[0][0] for g in grads], lr=lr, weight_decay=weight_decay)
    ref_b = adam_reference([0.5], [g[1] for g in grads], lr=lr, weight_decay=weight_decay)
    for step, (gw, gb) in enumerate(grads):
        set_grads(layer, gw, gb)
        opt.step()
        np.testing.assert_allclose(layer.params["W"], [ref_w[step]], rtol=1e-12)
        np.testing.assert_allclose(layer.params["b"], ref_b[step], rtol=1e-12)


def test_adam_second_step_by_hand():
    # scalar b: g1 = 2, g2 = -1, lr = 0.1
    # m1 = 0.2, v1 = 0.004; m2 = 0.9*0.2 - 0.1 = 0.08, v2 = 0.999*0.004 + 0.001 = 0.004996
    # step 2: lr/(1 - 0.81) * 0.08 / (sqrt(0.004996)/sqrt(1 - 0.998001) + 1e-8)
    layer = tiny_layer()
    opt = Adam(layer, lr=0.1)
    set_grads(layer, G_W, G_B)
    opt.step()
    b1 = 0.5 - 0.1 * 2.0 / (2.0 + 1e-8)
    np.testing.assert_allclose(layer.params["b"], [b1], rtol=1e-12)
    set_grads(layer, G_W, [-1.0])
    opt.step()
    b2 = b1 - 0.1 / 0.19 * 0.08 / (math.sqrt(0.004996) / math.sqrt(0.001999) + 1e-8)
    np.testing.assert_allclose(layer.params["b"], [b2], rtol=1e-12)


def test_adam_weight_decay_first_step_by_hand():
    # g = [0.5, -1] + 0.5 * [1, -2] = [1, -2]: the first step is still lr * sign(g) (up to eps)
    layer = tiny_layer()
    set_grads(layer, G_W, G_B)
    Adam(layer, lr=0.01, weight_decay=0.5).step()
    np.testing.assert_allclose(layer.params["W"], [[1.0 - 0.01 / (1 + 1e-8), -2.0 + 0.01 * 2 / (2 + 1e-8)]], rtol=1e-12)


# ---------------------------------------------------------------------------
# in place, dtypes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda m: SGD(m, lr=0.1),
        lambda m: SGD(m, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda m: Adam(m, lr=0.01),
        lambda m: Adam(m, lr=0.01, weight_decay=0.01),
    ],
    ids=["sgd", "sgd-momentum-wd", "adam", "adam-wd"],
)
def test_params_updated_in_place_and_float32_stays_float32(make_opt):
    layer = Linear(2, 1, seed=0)  # float32 by default
    W, b = layer.params["W"], layer.params["b"]
    assert W.dtype == np.float32
    W_before, b_before = W.copy(), b.copy()
    opt = make_opt(layer)
    param_objects = [p.value for p in opt.params]
    for _ in range(3):
        x = np.array([[1.0, 2.0], [-1.0, 0.5]], dtype=np.float32)
        layer.forward(x)
        layer.backward(np.array([[1.0], [-2.0]], dtype=np.float32))
        opt.step()
    assert layer.params["W"] is W and layer.params["b"] is b
    assert all(p.value is obj for p, obj in zip(opt.params, param_objects))
    assert W.dtype == np.float32 and b.dtype == np.float32
    assert not np.array_equal(W, W_before) and not np.array_equal(b, b_before)


def test_sgd_float32_step_value():
    layer = tiny_layer(np.float32)
    set_grads(layer, G_W, G_B, dtype=np.float32)
    SGD(layer, lr=0.1).step()
    assert layer.params["W"].dtype == np.float32
    np.testing.assert_allclose(layer.params["W"], [[0.95, -1.9]], rtol=1e-6)
    np.testing.assert_allclose(layer.params["b"], [0.3], rtol=1e-6)


def test_float64_gradients_do_not_upcast_float32_params():
    layer = tiny_layer(np.float32)
    W = layer.params["W"]
    for opt in (SGD(layer, lr=0.1, momentum=0.5), Adam(layer, lr=0.1)):
        set_grads(layer, G_W, G_B, dtype=np.float64)
        opt.step()
        assert layer.params["W"] is W and W.dtype == np.float32


# ---------------------------------------------------------------------------
# models, zero_grad, errors
# ---------------------------------------------------------------------------


def _model():
    return Sequential(Linear(3, 4, seed=0), ReLU(), Linear(4, 2, seed=1)).astype(np.float64)


@pytest.mark.parametrize("use_parameters", [False, True], ids=["SGD(model)", "SGD(model.parameters())"])
def test_sgd_on_a_sequential(use_parameters):
    rng = np.random.default_rng(0)
    model = _model()
    opt = SGD(model.parameters() if use_parameters else model, lr=0.1)
    assert [p.name for p in opt.params] == ["0.W", "0.b", "2.W", "2.b"]
    model.forward(rng.normal(size=(5, 3)))
    model.backward(rng.normal(size=(5, 2)))
    before = {k: v.copy() for k, v in model.params.items()}
    grads = {k: v.copy() for k, v in model.grads.items()}
    assert set(grads) == set(before) == {"0.W", "0.b", "2.W", "2.b"}
    assert all(np.abs(g).max() > 0 for g in grads.values())
    opt.step()
    for k, v in model.params.items():
        np.testing.assert_allclose(v, before[k] - 0.1 * grads[k], rtol=1e-14, atol=1e-16)
    # the inner layers' arrays are the ones that changed
    np.testing.assert_allclose(model[0].params["W"], before["0.W"] - 0.1 * grads["0.W"], rtol=1e-14)


def test_adam_on_a_sequential_both_ways_agree():
    rng = np.random.default_rng(1)
    x, dy = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    results = []
    for make in (lambda m: Adam(m, lr=0.01), lambda m: Adam(m.parameters(), lr=0.01)):
        model = _model()
        opt = make(model)
        for _ in range(3):
            model.forward(x)
            model.backward(dy)
            opt.step()
        results.append(model.params)
    for k in results[0]:
        np.testing.assert_array_equal(results[0][k], results[1][k])


def test_zero_grad_zeros_every_gradient():
    rng = np.random.default_rng(2)
    model = _model()
    opt = SGD(model, lr=0.1)
    model.forward(rng.normal(size=(5, 3)))
    model.backward(rng.normal(size=(5, 2)))
    assert all(np.abs(g).max() > 0 for g in model.grads.values())
    opt.zero_grad()
    grads = model.grads
    assert set(grads) == {"0.W", "0.b", "2.W", "2.b"}
    for k, g in grads.items():
        assert g.shape == model.params[k].shape
        assert not g.any()
    # a step with zero gradients changes nothing (no weight decay, no momentum)
    before = {k: v.copy() for k, v in model.params.items()}
    opt.step()
    for k, v in model.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_model_zero_grad_also_zeros_every_gradient():
    rng = np.random.default_rng(3)
    model = _model()
    model.forward(rng.normal(size=(5, 3)))
    model.backward(rng.normal(size=(5, 2)))
    model.zero_grad()
    assert set(model.grads) == {"0.W", "0.b", "2.W", "2.b"}
    assert all(not g.any() for g in model.grads.values())


@pytest.mark.parametrize("make_opt", [lambda m: SGD(m, lr=0.1), lambda m: Adam(m)], ids=["sgd", "adam"])
def test_step_before_backward_raises(make_opt):
    model = _model()
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(RuntimeError):
        make_opt(model).step()
    for k, v in model.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_failed_adam_step_does_not_count_as_a_step():
    """A step that raised changed nothing, so the next successful step is step t = 1."""
    layer = tiny_layer()
    opt = Adam(layer, lr=0.01)
    with pytest.raises(RuntimeError):
        opt.step()
    set_grads(layer, G_W, G_B)
    opt.step()
    # the first-step result: lr * g / (|g| + eps)
    np.testing.assert_allclose(layer.params["b"], [0.5 - 0.01 * 2.0 / (2.0 + 1e-8)], rtol=1e-12)


def test_failed_sgd_step_updates_no_parameter():
    """Parameters of two models, only the first has gradients: the step raises and must leave both unchanged."""
    a, b = tiny_layer(), tiny_layer()
    set_grads(a, G_W, G_B)
    opt = SGD(a.parameters() + b.parameters(), lr=0.1)
    with pytest.raises(RuntimeError):
        opt.step()
    np.testing.assert_array_equal(a.params["W"], W0)
    np.testing.assert_array_equal(a.params["b"], B0)


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
@pytest.mark.parametrize("cls", [SGD, Adam])
def test_non_positive_lr_raises(cls, lr):
    with pytest.raises(ValueError):
        cls(tiny_layer(), lr=lr)


def test_other_invalid_arguments():
    with pytest.raises(ValueError):
        SGD(tiny_layer(), lr=0.1, momentum=-0.1)
    with pytest.raises(ValueError):
        SGD(tiny_layer(), lr=0.1, weight_decay=-1.0)
    with pytest.raises(ValueError):
        Adam(tiny_layer(), betas=(1.0, 0.999))
    with pytest.raises(ValueError):
        Adam(tiny_layer(), eps=0.0)
    with pytest.raises(ValueError):
        SGD(ReLU(), lr=0.1)  # nothing to optimise
    with pytest.raises(TypeError):
        SGD([np.zeros(3)], lr=0.1)


# ---------------------------------------------------------------------------
# end to end
# ---------------------------------------------------------------------------


def test_linear_classifier_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    n = 40
    labels = np.repeat([0, 1], n // 2)
    centres = np.array([[-2.0, -1.0], [2.0, 1.0]])
    x = centres[labels] + rng.normal(scale=0.5, size=(n, 2))
    model = Linear(2, 2, seed=0).astype(np.float64)
    loss_fn = CrossEntropyLoss()
    opt = SGD(model, lr=0.5)
    losses = []
    for _ in range(100):
        logits = model.forward(x)
        losses.append(loss_fn.forward(logits, labels))
        model.backward(loss_fn.backward())
        opt.step()
    assert losses[-1] < 0.1 * losses[0], (losses[0], losses[-1])
    assert np.all(np.diff(losses[-20:]) <= 1e-12)  # still going down at the end
    assert (model.forward(x).argmax(axis=1) == labels).all()
