"""The layer protocol as fit, evaluate and predict use it.

- ``Sequential`` is a plain loop each way; the training runner (``cnnlib._runner``) holds
  the speed savings: NaN/inf checks of the inner layers skipped and ReLU -> MaxPool2d run as
  pool -> ReLU, which must give bit-for-bit the numbers of the plain loop, and
  Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d blocks fused while training, which must give
  them up to float rounding.
- ``needs_input_grad`` is the one public way to skip the first layer's input gradient, so an
  overridden ``backward`` is always the one called.
- A layer object used twice is refused, and an optimizer steps each parameter once.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnnlib as c
from cnnlib.gradcheck import gradcheck
from cnnlib import _kernels as K
from cnnlib.training import _Runner


def small_cnn(seed: int = 0) -> c.Sequential:
    return c.Sequential(
        c.Conv2d(1, 4, 3, padding=1, seed=seed),
        c.BatchNorm2d(4),
        c.ReLU(),
        c.MaxPool2d(2),
        c.Flatten(),
        c.Linear(4 * 14 * 14, 10, seed=seed),
    )


# ---------------------------------------------------------------------------
# Finite checks: every layer on its own, the first and last only inside the runner
# ---------------------------------------------------------------------------


def test_sequential_forward_is_a_plain_loop_whose_layers_check_their_inputs(mnist_small):
    (x, _), _ = mnist_small
    model = small_cnn()
    bad = x[:4].copy()
    bad[1, 0, 3, 3] = np.inf
    with pytest.raises(c.NonFiniteError, match="Conv2d.forward: x must be finite"):
        model.forward(bad)
    model[5].params["W"][0, 0] = np.inf  # a broken last layer: its output is not finite, and nothing hides that
    with np.errstate(invalid="ignore", over="ignore"):
        out = model.forward(x[:4])
    assert not np.isfinite(out).all()
    model = small_cnn()
    model[0].params["W"][0, 0, 0, 0] = np.inf  # a broken first layer: the next layer's input check names it
    with np.errstate(invalid="ignore"), pytest.raises(c.NonFiniteError, match="BatchNorm2d.forward: x must be finite"):
        model.forward(x[:4])


def test_the_runner_checks_the_input_the_output_and_the_loss_gradient_once(mnist_small):
    (x, _), _ = mnist_small
    model = small_cnn()
    runner = _Runner(model)
    bad = x[:4].copy()
    bad[1, 0, 3, 3] = np.inf
    with pytest.raises(c.NonFiniteError, match="Conv2d.forward: x must be finite"):
        runner.forward(bad, training=True)
    model[0].params["W"][0, 0, 0, 0] = np.inf  # broken inside: the inner layers do not check, the output check catches it
    with np.errstate(invalid="ignore"), pytest.raises(c.NonFiniteError, match="Sequential.forward: the model's output must be finite"):
        runner.forward(x[:4], training=True)
    model = small_cnn()
    runner = _Runner(model)
    runner.forward(x[:4], training=True)
    dy = np.ones((4, 10))
    dy[0, 0] = np.nan
    with pytest.raises(c.NonFiniteError, match="Linear.backward: dy must be finite"):
        runner.backward(dy)
    # checks are back on afterwards, also for layers used on their own
    with pytest.raises(c.NonFiniteError, match="ReLU.forward"):
        c.ReLU().forward(np.array([np.nan]))


def test_fit_reports_an_overflow_deep_inside_as_divergence(mnist_small):
    (x, y), _ = mnist_small
    model = small_cnn()
    model[0].params["W"][...] = 1e38  # overflows in the convolution, inside the trusted layers
    with pytest.raises(c.TrainingDivergedError, match="epoch 1, batch 1"):
        c.fit(model, x[:64], y[:64], epochs=1, progress=False)


# ---------------------------------------------------------------------------
# ReLU -> MaxPool2d run as MaxPool2d -> ReLU by the runner, bit for bit
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pool",
    [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, stride=1)],
    ids=["2x2-tiles", "3x3-stride2-pad1", "2x2-overlapping"],
)
@pytest.mark.parametrize("training", [True, False])
def test_runner_runs_relu_then_maxpool_swapped_with_identical_results(pool, training):
    # Outputs and every gradient must be bit-for-bit those of Sequential's plain loop, including windows
    # whose values are all negative, windows with ties, exact zeros, and odd, non-square sizes.
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 2, 9, 7))
    x[0, 0, :4, :4] = -rng.random((4, 4))  # all-negative windows
    x[1, 1, :2, :2] = 0.0  # zeros
    x[2, 0, 2:4, 2:4] = 0.5  # ties
    x = x.astype(np.float32)

    def build():
        return c.Sequential(c.Conv2d(2, 3, 3, padding=1, seed=1), c.ReLU(), c.MaxPool2d(**pool), c.Flatten())

    model, ref = build(), build()
    runner = _Runner(model)
    assert runner.steps == [model[0], model[2], model[1], model[3]]  # the fast order is planned ...
    y = runner.forward(x, training=training)
    a, shapes = x, []
    for layer in ref:  # the written order, layer by layer (what Sequential.forward does)
        a = layer.forward(a, training=training)
        shapes.append(a.shape)
    assert model[1]._cache.shape == shapes[2] != shapes[1]  # ... and was taken: the ReLU saw the pooled array
    np.testing.assert_array_equal(y, a)
    dy = rng.normal(size=y.shape).astype(np.float32)
    np.testing.assert_array_equal(runner.backward(dy), ref.backward(dy))
    for k in ref.grads:
        np.testing.assert_array_equal(model.grads[k], ref.grads[k], err_msg=k)


def test_runner_swaps_only_a_relu_directly_before_a_maxpool_and_matches_exact_types():
    class MyReLU(c.ReLU):
        pass

    for layers, swapped in [
        ((c.Conv2d(1, 1, 1, seed=0), c.ReLU(), c.AvgPool2d(2)), False),  # average pooling does not commute with ReLU
        ((c.Conv2d(1, 1, 1, seed=0), c.Sigmoid(), c.MaxPool2d(2)), False),
        ((c.Conv2d(1, 1, 1, seed=0), MyReLU(), c.MaxPool2d(2)), False),  # a subclass runs as written
        ((c.ReLU(), c.MaxPool2d(2)), False),  # never the first layer (it checks the input)
        ((c.Conv2d(1, 1, 1, seed=0), c.ReLU(), c.MaxPool2d(2)), True),
    ]:
        model = c.Sequential(*layers)
        assert (_Runner(model).steps != list(layers)) is swapped
    inner = c.Sequential(c.ReLU(), c.MaxPool2d(2))  # nested plain Sequentials are flattened
    model = c.Sequential(c.Conv2d(1, 1, 1, seed=0), inner)
    assert _Runner(model).steps == [model[0], inner[1], inner[0]]


def test_a_sequential_subclass_runs_through_its_own_forward_and_backward(mnist_small):
    calls = []

    class Logged(c.Sequential):
        def forward(self, x, training=True):
            calls.append("forward")
            return super().forward(x, training)

        def backward(self, dy):
            calls.append("backward")
            return super().backward(dy)

    (x, y), _ = mnist_small
    model = Logged(*small_cnn().layers)
    c.fit(model, x[:128], y[:128], epochs=1, batch_size=64, progress=False)
    assert calls == ["forward", "backward"] * 2


# ---------------------------------------------------------------------------
# Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d blocks, fused while training
# ---------------------------------------------------------------------------


def blocks_model(channels=(3, 5), kernel=3, padding=1, in_channels=2, hw=(12, 8), gammas=(), dtype=np.float64):
    """Two conv blocks (the second in a nested Sequential), then a classifier; ``gammas``: (block, channel, value)."""
    (c1, c2), (H, W) = channels, hw
    second = c.Sequential(c.Conv2d(c1, c2, kernel, padding=padding, seed=2), c.BatchNorm2d(c2), c.ReLU(), c.MaxPool2d(2))
    model = c.Sequential(
        c.Conv2d(in_channels, c1, kernel, padding=padding, seed=1), c.BatchNorm2d(c1), c.ReLU(), c.MaxPool2d(2),
        second, c.Flatten(), c.Linear(c2 * (H // 4) * (W // 4), 4, seed=3),
    ).astype(dtype)
    for block, channel, value in gammas:
        bn = model[1] if block == 0 else second[1]
        bn.params["gamma"][channel] = value
        bn.params["beta"][channel] = 0.5  # so that the ReLU lets gradients through even where gamma = 0
    return model


def run_both(model_args: dict, x: np.ndarray, first_grad: bool = True, steps: int = 2):
    """The runner and the layers one by one, forward and backward ``steps`` times; the models and each step's arrays."""
    fused, ref = blocks_model(**model_args), blocks_model(**model_args)
    runner = _Runner(fused)
    fused.needs_input_grad = ref.needs_input_grad = first_grad
    rng = np.random.default_rng(3)
    results = []
    for _ in range(steps):
        y = runner.forward(x, training=True)
        assert runner.steps[0]._fused is not None  # the fused path was taken
        y_ref = ref.forward(x, training=True)
        dy = rng.normal(size=y.shape).astype(x.dtype)
        results.append((y, y_ref, runner.backward(dy), ref.backward(dy)))
    return runner, fused, ref, results


def assert_same_model(fused: c.Sequential, ref: c.Sequential, rtol: float) -> None:
    for k, v in ref.state_dict().items():  # parameters and running statistics
        np.testing.assert_allclose(fused.state_dict()[k], v, rtol=rtol, atol=rtol, err_msg=k)
    for k, g in ref.grads.items():
        if k.endswith(".b") and k.replace(".b", ".W") in ref.grads and g.ndim == 1 and ref.grads[k.replace(".b", ".W")].ndim == 4:
            # a conv bias before batch norm has no effect: its gradient is rounding noise around 0 in both
            np.testing.assert_allclose(fused.grads[k], 0.0, atol=rtol * np.abs(ref.grads[k.replace(".b", ".W")]).max())
            np.testing.assert_allclose(g, 0.0, atol=rtol * np.abs(ref.grads[k.replace(".b", ".W")]).max())
        else:
            np.testing.assert_allclose(fused.grads[k], g, rtol=rtol, atol=rtol * np.abs(g).max(), err_msg=k)


@pytest.mark.parametrize(
    "case",
    [
        dict(),
        dict(gammas=[(0, 0, -0.7), (1, 1, -1.3)]),  # a negative scale: the largest normalised value is the smallest
        dict(gammas=[(0, 1, 0.0), (1, 0, 0.0)]),  # a zero scale: every entry ties, the first wins
        dict(channels=(1, 4), kernel=5, padding=2, in_channels=3, hw=(8, 16)),
        dict(kernel=2, padding="same", hw=(4, 4)),  # an even kernel: "same" pads one side only
    ],
    ids=["plain", "negative-gamma", "zero-gamma", "5x5-wide", "2x2-same"],
)
@pytest.mark.parametrize("first_grad", [True, False])
@pytest.mark.parametrize("chunk", [1 << 20, 1], ids=["one-group", "channel-by-channel"])
def test_fused_conv_blocks_equal_the_layers_one_by_one(case, first_grad, chunk, monkeypatch):
    monkeypatch.setattr(K, "CHUNK_BYTES", chunk)  # the kernels' passes go over groups of channels of this many bytes
    rng = np.random.default_rng(0)
    H, W = case.get("hw", (12, 8))
    x = rng.normal(size=(3, case.get("in_channels", 2), H, W))
    x[0, :, :4, :4] = 0.25  # a flat patch: windows whose values tie exactly
    runner, fused, ref, results = run_both(case, x, first_grad)
    assert [type(s).__name__ for s in runner.steps] == ["_ConvBlocks", "Flatten", "Linear"]
    for y, y_ref, dx, dx_ref in results:
        np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-12)
        if first_grad:
            assert dx.shape == x.shape
            np.testing.assert_allclose(dx, dx_ref, rtol=1e-9, atol=1e-12)
        else:
            assert dx is None and dx_ref is None
    assert_same_model(fused, ref, 1e-9)


def test_fused_conv_blocks_in_float32_and_a_batch_of_one():
    rng = np.random.default_rng(1)
    for n in (1, 8):
        x = rng.normal(size=(n, 2, 12, 8)).astype(np.float32)
        runner, fused, ref, results = run_both(dict(dtype=np.float32), x)
        for y, y_ref, dx, dx_ref in results:
            assert y.dtype == dx.dtype == np.float32
            np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-5)
        assert_same_model(fused, ref, 1e-4)


@pytest.mark.parametrize(
    "why, x_shape, training",
    [
        ("sizes the two poolings do not halve exactly", (2, 2, 10, 8), True),
        ("evaluation", (2, 2, 12, 8), False),
        ("integer images (the layers convert them)", (2, 2, 12, 8), True),
    ],
)
def test_fused_conv_blocks_fall_back_to_the_layers_bit_for_bit(why, x_shape, training):
    rng = np.random.default_rng(2)
    x = rng.normal(size=x_shape)
    if "integer" in why:
        x = rng.integers(0, 5, size=x_shape)
    fused, ref = blocks_model(hw=(12, 8)), blocks_model(hw=(12, 8))
    if x_shape[2] == 10:
        fused.layers[-1] = c.Linear(5 * 2 * 2, 4, seed=3).astype(np.float64)
        ref.layers[-1] = c.Linear(5 * 2 * 2, 4, seed=3).astype(np.float64)
    runner = _Runner(fused)
    y = runner.forward(x, training=training)
    assert runner.steps[0]._fused is None, why
    y_ref = ref.forward(x, training=training)
    np.testing.assert_array_equal(y, y_ref)
    dy = rng.normal(size=y.shape)
    np.testing.assert_array_equal(runner.backward(dy), ref.backward(dy))
    for k, g in ref.grads.items():
        np.testing.assert_array_equal(fused.grads[k], g, err_msg=k)


@pytest.mark.parametrize("gammas", [(), [(0, 0, -0.7), (1, 1, -1.3)], [(0, 1, 0.0), (1, 0, 0.0)]], ids=["plain", "negative", "zero"])
@pytest.mark.parametrize("chunk", [1 << 20, 1], ids=["one-group", "channel-by-channel"])
def test_evaluate_and_predict_run_the_blocks_fused_with_the_running_statistics(gammas, chunk, monkeypatch):
    monkeypatch.setattr(K, "CHUNK_BYTES", chunk)
    rng = np.random.default_rng(5)
    model = blocks_model(gammas=gammas)
    for layer in (model[1], model[4][1]):  # running statistics unlike the batch's, and a conv bias that matters
        layer.buffers["running_mean"] = rng.normal(size=layer.num_features)
        layer.buffers["running_var"] = rng.uniform(0.5, 2.0, size=layer.num_features)
    x = rng.normal(size=(5, 2, 12, 8))
    runner = _Runner(model, inference=True)
    y = runner.forward(x, training=False)
    assert runner.steps[0]._work  # the fused path ran (it keeps work arrays)
    np.testing.assert_allclose(y, model.forward(x, training=False), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c.predict(model, x, return_probs=True), c.softmax(model.forward(x, training=False), axis=1), rtol=1e-10)
    with pytest.raises(RuntimeError, match="built for evaluation"):
        runner.backward(np.ones_like(y))


def test_fused_conv_blocks_convert_the_input_to_the_weights_dtype_as_conv2d_does():
    x = np.random.default_rng(6).normal(size=(3, 2, 12, 8)).astype(np.float32)  # float32 images, float64 model
    fused, ref = blocks_model(), blocks_model()
    runner = _Runner(fused)
    y = runner.forward(x, training=True)
    assert runner.steps[0]._fused is not None and y.dtype == np.float64
    np.testing.assert_allclose(y, ref.forward(x, training=True), rtol=1e-10, atol=1e-12)


def test_blocks_whose_channels_do_not_chain_give_the_layers_error():
    # the second conv expects 2 channels, the first block makes 4: the layers' message, never a broadcasting error
    def block(c_in, c_out, seed):
        return [c.Conv2d(c_in, c_out, 3, padding=1, seed=seed), c.BatchNorm2d(c_out), c.ReLU(), c.MaxPool2d(2)]

    model = c.Sequential(*block(1, 4, 0), *block(2, 5, 1), c.Flatten(), c.Linear(20, 3, seed=2))
    x = np.random.default_rng(7).normal(size=(8, 1, 8, 8)).astype(np.float32)
    y = np.arange(8) % 3
    message = r"Conv2d.forward: this layer expects 2 input channel\(s\), but x has 4"
    with pytest.raises(ValueError, match=message):
        c.evaluate(model, x, y)
    with pytest.raises(ValueError, match=message):
        c.fit(model, x, y, epochs=1, progress=False)


def test_a_fused_backward_keeps_its_forward_until_it_succeeds_and_runs_once():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 2, 12, 8))
    model, ref = blocks_model(), blocks_model()
    runner = _Runner(c.Sequential(*model.layers[:5]))  # the two blocks alone
    y = runner.forward(x, training=True)
    with pytest.raises(ValueError, match=r"MaxPool2d.backward: .*dy"):
        runner.backward(np.ones((2, 5, 3, 3)))
    dy = rng.normal(size=y.shape)
    dx = runner.backward(dy)  # the forward pass was kept: the right gradient
    ref_net = c.Sequential(*ref.layers[:5])
    ref_net.forward(x, training=True)
    np.testing.assert_allclose(dx, ref_net.backward(dy), rtol=1e-9, atol=1e-12)
    with pytest.raises(RuntimeError, match="call forward.* before each backward"):
        runner.backward(dy)  # its memory now holds gradients


def test_only_exact_conv_blocks_are_fused():
    class MyBN(c.BatchNorm2d):
        pass

    def kinds(*layers):
        return [type(s).__name__ for s in _Runner(c.Sequential(*layers)).steps]

    conv = lambda **kw: c.Conv2d(1, 2, 3, padding=1, **kw)  # noqa: E731
    assert kinds(conv(), c.BatchNorm2d(2), c.ReLU(), c.MaxPool2d(2)) == ["_ConvBlocks"]
    assert kinds(conv(), MyBN(2), c.ReLU(), c.MaxPool2d(2)) == ["Conv2d", "MyBN", "MaxPool2d", "ReLU"]
    assert kinds(conv(stride=2), c.BatchNorm2d(2), c.ReLU(), c.MaxPool2d(2)) == ["Conv2d", "BatchNorm2d", "MaxPool2d", "ReLU"]
    assert kinds(conv(), c.BatchNorm2d(2), c.ReLU(), c.MaxPool2d(3)) == ["Conv2d", "BatchNorm2d", "MaxPool2d", "ReLU"]
    assert kinds(conv(), c.BatchNorm2d(2), c.ReLU(), c.AvgPool2d(2)) == ["Conv2d", "BatchNorm2d", "ReLU", "AvgPool2d"]


def test_fused_conv_blocks_check_the_input_and_the_upstream_gradient(mnist_small):
    (x, _), _ = mnist_small
    model = c.Sequential(c.Conv2d(1, 2, 3, padding=1, seed=0), c.BatchNorm2d(2), c.ReLU(), c.MaxPool2d(2))
    runner = _Runner(model)
    bad = x[:4].copy()
    bad[1, 0, 3, 3] = np.nan
    with pytest.raises(c.NonFiniteError, match="Conv2d.forward: x must be finite"):
        runner.forward(bad, training=True)
    y = runner.forward(x[:4], training=True)
    with pytest.raises(ValueError, match=r"MaxPool2d.backward: .*dy.*\(4, 2, 14, 14\)"):
        runner.backward(np.ones((4, 2, 14, 13), dtype=np.float32))
    y = runner.forward(x[:4], training=True)
    dy = np.ones_like(y)
    dy[0, 0, 0, 0] = np.inf
    with pytest.raises(c.NonFiniteError, match="MaxPool2d.backward: dy must be finite"):
        runner.backward(dy)


def test_fused_conv_blocks_pass_a_gradient_check():
    # the fused block's own gradients against finite differences, float64, a random upstream gradient
    model = blocks_model(hw=(8, 4))
    runner = _Runner(model)

    class Fused(c.Layer):  # the runner as a layer, so that gradcheck can drive it
        def forward(self, x, training=True):
            return runner.forward(x, training=True)

        def backward(self, dy):
            return runner.backward(dy)

    x = np.random.default_rng(4).normal(size=(2, 2, 8, 4))
    result = gradcheck(Fused(), x)
    assert result.passed(), result


# ---------------------------------------------------------------------------
# needs_input_grad: the public way to skip the first layer's input gradient
# ---------------------------------------------------------------------------


def test_needs_input_grad_false_gives_the_same_parameter_gradients_and_no_input_gradient(mnist_small):
    (x, y), _ = mnist_small
    model = small_cnn()
    loss = c.CrossEntropyLoss()
    loss.forward(model.forward(x[:16]), y[:16])
    dx = model.backward(loss.backward())
    assert dx.shape == x[:16].shape
    full = {k: v.copy() for k, v in model.grads.items()}
    model.needs_input_grad = False  # Sequential passes it to its first layer
    assert model[0].needs_input_grad is False
    assert model.backward(loss.backward()) is None
    assert model.grads.keys() == full.keys()
    for k, g in model.grads.items():
        np.testing.assert_array_equal(g, full[k], err_msg=k)


def test_fit_sets_needs_input_grad_on_the_first_layer_only_while_it_trains(mnist_small):
    (x, y), _ = mnist_small
    seen = []

    class Probe(c.Conv2d):
        def backward(self, dy):
            seen.append(self.needs_input_grad)
            return super().backward(dy)

    model = c.Sequential(Probe(1, 2, 3, padding=1, seed=0), c.ReLU(), Probe(2, 2, 3, padding=1, seed=1),
                         c.Flatten(), c.Linear(2 * 28 * 28, 10, seed=0))
    c.fit(model, x[:64], y[:64], epochs=1, progress=False)
    assert seen == [True, False]  # backward runs the second conv first, then the first one
    assert model[0].needs_input_grad is True  # restored afterwards
    with pytest.raises(c.TrainingDivergedError):
        model[2].params["W"][...] = np.nan
        c.fit(model, x[:64], y[:64], epochs=1, progress=False)
    assert model[0].needs_input_grad is True  # restored also when fit stops with an error


def test_an_overridden_backward_of_the_first_layer_is_called_by_fit(mnist_small):
    # notebook 08 teaches students to subclass a layer; fit must run the override, as a hand-written loop does
    (x, y), _ = mnist_small
    calls = []

    class MyConv(c.Conv2d):
        def backward(self, dy):
            calls.append(dy.shape)
            dx = super().backward(dy)
            self.grads = {k: 0 * g for k, g in self.grads.items()}  # a visible effect: the layer never learns
            return dx

    model = c.Sequential(MyConv(1, 4, 3, padding=1, seed=0), c.ReLU(), c.MaxPool2d(2), c.Flatten(),
                         c.Linear(4 * 14 * 14, 10, seed=0))
    W0 = model[0].params["W"].copy()
    c.fit(model, x[:256], y[:256], epochs=1, batch_size=64, progress=False)
    assert calls == [(64, 4, 28, 28)] * 4
    np.testing.assert_array_equal(model[0].params["W"], W0)  # Adam with zero gradients leaves W unchanged


# ---------------------------------------------------------------------------
# One layer object used twice
# ---------------------------------------------------------------------------


def test_a_layer_used_twice_is_refused_with_its_positions_and_the_fix():
    act = c.ReLU()
    with pytest.raises(ValueError, match=r"same ReLU\(\) object is used at positions 1 and 3") as info:
        c.Sequential(c.Conv2d(1, 4, 3, padding=1), act, c.Conv2d(4, 4, 3, padding=1), act, c.Flatten(), c.Linear(100, 3))
    assert "a layer of its own" in str(info.value) and "ReLU(...)" in str(info.value)
    conv = c.Conv2d(1, 1, 3, padding=1)
    with pytest.raises(ValueError, match=r"positions 0 and 1\.0"):  # also across nested Sequentials
        c.Sequential(conv, c.Sequential(conv))


def test_a_layer_added_twice_after_construction_is_refused_by_fit(mnist_small):
    # a hand-written loop and fit must not silently give wrong gradients when model.layers is edited
    (x, y), _ = mnist_small
    act = c.ReLU()
    model = c.Sequential(c.Conv2d(1, 2, 3, padding=1, seed=0), act, c.Flatten(), c.Linear(2 * 28 * 28, 10, seed=0))
    model.layers.insert(2, act)
    with pytest.raises(ValueError, match="positions 1 and 2"):
        c.fit(model, x[:64], y[:64], progress=False)


def test_separate_layers_give_correct_gradients_through_a_hand_written_loop_and_fit(mnist_small):
    # the fix the message suggests works: a gradient check passes, and fit trains
    model = c.Sequential(c.Conv2d(1, 4, 3, padding=1, seed=0), c.ReLU(), c.Conv2d(4, 4, 3, padding=1, seed=1), c.ReLU(),
                         c.Flatten(), c.Linear(100, 3, seed=0)).astype(np.float64)
    x = np.random.default_rng(0).normal(size=(2, 1, 5, 5))
    result = gradcheck(model, x)  # a random upstream gradient
    assert result.passed(), result
    (xt, yt), _ = mnist_small
    small = c.Sequential(c.Conv2d(1, 2, 3, padding=1, seed=0), c.ReLU(), c.MaxPool2d(2), c.Flatten(), c.Linear(2 * 14 * 14, 10, seed=0))
    history = c.fit(small, xt[:512], yt[:512], epochs=2, progress=False)
    assert history.loss[1] < history.loss[0]


def test_an_optimizer_takes_each_parameter_once():
    layer = c.Linear(3, 2, seed=0)
    opt = c.SGD(layer.parameters() + layer.parameters(), lr=0.1)
    assert [p.key for p in opt.params] == ["W", "b"]
    layer.grads = {"W": np.ones((2, 3), np.float32), "b": np.ones(2, np.float32)}
    W0 = layer.params["W"].copy()
    opt.step()
    np.testing.assert_allclose(layer.params["W"], W0 - 0.1)  # one step, not two
