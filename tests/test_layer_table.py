"""Every layer, through the same tests: one row of ``tests/layer_table.py`` each.

For each row: a float64 gradient check with a random upstream gradient (training
and inference mode), the output and input gradient against a second way of
computing them (the functional version, or its loop version), the same numbers
when the training runner runs the layer inside a model, bad input stopped with a
cnnlib error that names the layer, and the optional PyTorch oracle.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import cnnlib as c
import cnnlib.layers
from cnnlib.training import _Runner
from tests.layer_table import LAYERS, LayerCase, layer_input

IDS = [case.id for case in LAYERS]


def fresh64(case: LayerCase) -> c.Layer:
    return case.make().astype(np.float64)


def test_every_layer_class_has_a_row():
    # a new layer cannot be forgotten: every concrete layer of cnnlib.layers is in the table
    classes = {getattr(cnnlib.layers, n) for n in cnnlib.layers.__all__}
    concrete = {k for k in classes if isinstance(k, type) and issubclass(k, c.Layer)} - {c.Layer, c.Sequential}
    covered = {type(case.make()) for case in LAYERS}
    assert concrete - covered == set(), f"layers without a row in tests/layer_table.py: {sorted(k.__name__ for k in concrete - covered)}"


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("case", LAYERS, ids=IDS)
def test_gradient_check(case, training):
    if case.random and training:
        pytest.skip("checked in test_gradients.py with a fixed mask")  # each evaluation would draw a new mask
    x = layer_input(case)
    result = c.gradcheck(fresh64(case), x, training=training, seed=1)
    assert result.passed(), str(result)


@pytest.mark.parametrize("case", [k for k in LAYERS if k.reference is not None], ids=[k.id for k in LAYERS if k.reference is not None])
def test_forward_and_backward_equal_the_second_way(case):
    layer = fresh64(case)
    x = layer_input(case)
    y = layer.forward(x, training=False)
    np.testing.assert_allclose(y, case.reference(layer, x), rtol=1e-12, atol=1e-12)
    if case.reference_backward is not None:
        dy = np.random.default_rng(3).normal(size=y.shape)
        np.testing.assert_allclose(layer.backward(dy), case.reference_backward(layer, x, dy), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", LAYERS, ids=IDS)
def test_float32_in_float32_out_and_batch_of_one(case):
    layer = case.make()
    x = layer_input(case).astype(np.float32)
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    if len(case.input_shape) > 1 and not isinstance(layer, (c.BatchNorm1d, c.BatchNorm2d)):
        one = layer.forward(x[:1], training=False)  # a batch of one gives that image's own output
        np.testing.assert_allclose(one, layer.forward(x, training=False)[:1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", [k for k in LAYERS if not k.random], ids=[k.id for k in LAYERS if not k.random])
def test_the_training_runner_gives_the_layers_own_numbers(case):
    # the runner (fit, evaluate, predict) skips inner checks and may reorder; the numbers must not change
    x = layer_input(case)
    alone, inside = fresh64(case), fresh64(case)
    model = c.Sequential(c.Tanh(), inside, c.Sigmoid())  # the layer in the middle: run with checks off
    runner = _Runner(model)
    y = runner.forward(x, training=True)
    np.testing.assert_array_equal(y, c.Sigmoid().forward(alone.forward(np.tanh(x))))
    dy = np.random.default_rng(4).normal(size=y.shape)
    dx = runner.backward(dy)
    ref = copy.deepcopy(model)
    ref.forward(x, training=True)
    np.testing.assert_array_equal(dx, ref.backward(dy))
    for k in model.grads:
        np.testing.assert_array_equal(model.grads[k], ref.grads[k], err_msg=k)


@pytest.mark.parametrize("case", LAYERS, ids=IDS)
def test_needs_input_grad_false_keeps_the_parameter_gradients(case):
    if case.random:
        pytest.skip("a new mask per forward pass")
    x = layer_input(case)
    layer = fresh64(case)
    y = layer.forward(x)
    dy = np.random.default_rng(5).normal(size=y.shape)
    dx = layer.backward(dy)
    full = {k: g.copy() for k, g in layer.grads.items()}
    layer.needs_input_grad = False
    out = layer.backward(dy)
    assert out is None or np.array_equal(out, dx)  # skipping the work is allowed, a different answer is not
    for k, g in full.items():
        np.testing.assert_array_equal(layer.grads[k], g, err_msg=k)
    assert bool(layer.params) is case.has_params


# ---------------------------------------------------------------------------
# Bad input: a cnnlib error that names the layer and what was expected
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", LAYERS, ids=IDS)
def test_bad_input_is_refused_by_name(case):
    name = type(case.make()).__name__
    x = layer_input(case)
    bad = x.copy()
    bad.flat[1] = np.nan
    with pytest.raises(c.NonFiniteError, match=rf"{name}\.forward: x must be finite"):
        case.make().forward(bad)
    with pytest.raises(TypeError, match=rf"{name}\.forward: x must hold real numbers"):
        case.make().forward(np.full(case.input_shape, "1"))
    if case.bad_ndim is not None:
        with pytest.raises(ValueError, match=rf"{name}\.forward: expected x with .*; got shape"):
            case.make().forward(np.zeros(case.bad_ndim))
    with pytest.raises(RuntimeError, match=rf"{name}\.backward: call forward before backward"):
        case.make().backward(np.zeros(case.input_shape))
    layer = case.make()
    y = layer.forward(x)
    with pytest.raises(ValueError, match=rf"{name}\.backward: expected dy of shape"):
        layer.backward(np.zeros(y.shape + (1,)))
    dy = np.ones(y.shape)
    dy.flat[0] = np.inf
    with pytest.raises(c.NonFiniteError, match=rf"{name}\.backward: dy must be finite"):
        layer.backward(dy)


# ---------------------------------------------------------------------------
# Optional: PyTorch's layer of the same name
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("case", [k for k in LAYERS if k.torch], ids=[k.id for k in LAYERS if k.torch])
def test_same_numbers_as_pytorch(case, training):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (optional oracle: pip install torch==2.13.0)")
    import warnings

    layer = fresh64(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns about padding='same' with an even kernel
        theirs = case.torch(layer)
    theirs.train(training)
    x = layer_input(case)
    y = layer.forward(x, training=training)
    dy = np.random.default_rng(6).normal(size=y.shape)
    dx = layer.backward(dy)
    xt = torch.tensor(x).requires_grad_()
    yt = theirs(xt)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    torch_names = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}
    for k, g in layer.grads.items():
        np.testing.assert_allclose(g, getattr(theirs, torch_names[k]).grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
