"""The interactive explorers: their plain computations, and the widgets driven through their controls.

No browser is involved: a test sets a control's ``value`` (which runs the same
callback a slider move runs in JupyterLab) and checks ``.view``, ``.info`` and
``.image``. Expected numbers come from the lecture notes, hand computations or
independent NumPy code, not from the explorers themselves.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import cnnlib  # noqa: E402
import cnnlib.functional as F  # noqa: E402
from cnnlib import History, mnist_cnn, widgets  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
MINUS, DOT = "\u2212", "\u00b7"


@pytest.fixture(autouse=True)
def _no_figures_left():
    """No explorer may leave a pyplot figure behind (it would be drawn again under the cell)."""
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


@pytest.fixture
def no_mnist(monkeypatch):
    """Fail any attempt to load MNIST: the explorers must not do it unless asked to."""

    def refuse(*args, **kwargs):
        raise AssertionError("MNIST was loaded")

    monkeypatch.setattr(cnnlib.data, "load_mnist", refuse)


def _text(widget_html: str) -> str:
    """The visible text of an HTML widget's value: one line per <br>, table cells apart, entities decoded."""
    import html

    text = re.sub(r"<br\s*/?>", "\n", widget_html)
    text = re.sub(r"</t[dh]>", " ", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _png(explorer) -> bytes:
    """The explorer's picture (ipywidgets keeps Image.value as a memoryview)."""
    return bytes(explorer.image.value)


def _is_png(b: bytes) -> bool:
    return isinstance(b, bytes) and b.startswith(PNG) and len(b) > 1000


def _out_len(n: int, k: int, s: int, p: int) -> int:
    """Output length by counting window positions (independent of the formula)."""
    return len(range(0, n + 2 * p - k + 1, s))


# ---------------------------------------------------------------------------
# parse_kernel and the output-size formula
# ---------------------------------------------------------------------------


def test_parse_kernel_reads_rows_columns_and_fractions():
    np.testing.assert_array_equal(widgets.parse_kernel("1 0 -1; 1 0 -1; 1 0 -1"), [[1, 0, -1]] * 3)
    np.testing.assert_array_equal(widgets.parse_kernel(" 1, 2 ;-1,0; "), [[1, 2], [-1, 0]])  # commas, trailing ';'
    np.testing.assert_array_equal(widgets.parse_kernel("1 2 3\n4 5 6"), [[1, 2, 3], [4, 5, 6]])  # non-square
    np.testing.assert_allclose(widgets.parse_kernel("1/9 1/9; 0.5 2e-1"), [[1 / 9, 1 / 9], [0.5, 0.2]])
    for name, text in widgets.KERNELS.items():
        assert widgets.parse_kernel(text).shape == (3, 3), name
    np.testing.assert_allclose(widgets.parse_kernel(widgets.KERNELS["blur (box 3x3)"]).sum(), 1.0)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        (" ; ", "empty"),
        ("1 2; 3", "same number of values"),
        ("1 x; 3 4", "'x' in row 1 is not a number"),
        ("1 2; nan 4", "'nan' in row 2 is not a number"),
        ("1/0", "not a number"),
        ("1 2;; 3 4", "row 2 is empty"),
        ("1e400 1", "'1e400' in row 1 is too large"),  # float() of it overflows: an OverflowError escaped before
        ("1; -2e6", "'-2e6' in row 2 is too large"),
    ],
)
def test_parse_kernel_says_what_is_expected(text, message):
    with pytest.raises(ValueError, match=message) as info:
        widgets.parse_kernel(text)
    assert "separated by ';'" in str(info.value)


def test_output_size_formula_text():
    assert widgets.output_size_formula(28, 3, 2, 1) == f"H_out = floor((28 + 2{DOT}1 {MINUS} 3) / 2) + 1 = 14"
    assert widgets.output_size_formula(28, 3, 1, 0) == f"H_out = floor((28 + 2{DOT}0 {MINUS} 3) / 1) + 1 = 26"
    assert widgets.output_size_formula(7, 2, 3, 2, name="W") == f"W_out = floor((7 + 2{DOT}2 {MINUS} 2) / 3) + 1 = 4"
    assert widgets.output_size_formula(9, 3, 2, None) == f"H_out = floor((9 {MINUS} 3) / 2) + 1 = 4"
    with pytest.raises(ValueError, match="larger than the padded input"):
        widgets.output_size_formula(2, 5, 1, 1)


@pytest.mark.parametrize("n, k, s, p", [(5, 3, 2, 1), (10, 4, 3, 0), (6, 1, 4, 3), (4, 4, 1, 0), (11, 2, 2, 2)])
def test_output_size_formula_result_counts_window_positions(n, k, s, p):
    assert widgets.output_size_formula(n, k, s, p).endswith(f"= {_out_len(n, k, s, p)}")


# ---------------------------------------------------------------------------
# convolution_view
# ---------------------------------------------------------------------------

# "The Network" (K. Fu), 4.3 Stride: the 2x2 image zero-padded to 4x4 and a 2x2 kernel of 2s.
# The notes print 20 in the middle right; that window holds 2, 0, 5, 0, so it is 2*(2+0+5+0) = 14.
FU_SMALL = [[1, 2], [4, 5]]
FU_TWOS = [[2, 2], [2, 2]]
FU_STRIDE1 = [[2, 6, 4], [10, 24, 14], [8, 18, 10]]
FU_STRIDE2 = [[2, 4], [8, 10]]
# 4.4 Zero Padding: a 4x4 image and a 3x3 kernel of ones
FU_IMG4 = [[1, 2, 3, 4], [4, 3, 2, 1], [1, 2, 3, 4], [4, 3, 2, 1]]
FU_PADDED4 = [[10, 15, 15, 10], [13, 21, 24, 17], [17, 24, 21, 13], [10, 15, 15, 10]]
# "Some notes on CNN": the filter [[1, 2], [-1, 0]] on a 3x4 image
NOTES_IMAGE = [[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]]
NOTES_FILTER = [[1, 2], [-1, 0]]


def test_convolution_view_stride_example_of_the_notes():
    v = widgets.convolution_view(FU_SMALL, FU_TWOS, stride=1, padding=1, row=1, col=2)
    np.testing.assert_array_equal(v.padded, [[0, 0, 0, 0], [0, 1, 2, 0], [0, 4, 5, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(v.output, FU_STRIDE1)
    np.testing.assert_array_equal(v.window, [[2, 0], [5, 0]])
    np.testing.assert_array_equal(v.products, [[4, 0], [10, 0]])
    assert v.value == 14 and (v.top, v.left) == (1, 2)
    v2 = widgets.convolution_view(FU_SMALL, FU_TWOS, stride=2, padding=1, row=1, col=1)
    np.testing.assert_array_equal(v2.output, FU_STRIDE2)
    assert (v2.top, v2.left) == (2, 2) and v2.value == 10
    assert v2.formula_h == f"H_out = floor((2 + 2{DOT}1 {MINUS} 2) / 2) + 1 = 2"


def test_convolution_view_padding_example_and_notes_filter():
    v = widgets.convolution_view(FU_IMG4, np.ones((3, 3)), padding=1, row=0, col=0)
    np.testing.assert_array_equal(v.output, FU_PADDED4)
    assert v.value == 10  # corner: 1 + 2 + 4 + 3
    np.testing.assert_array_equal(widgets.convolution_view(FU_IMG4, np.ones((3, 3))).output, [[21, 24], [24, 21]])
    n = widgets.convolution_view(NOTES_IMAGE, NOTES_FILTER, row=0, col=1)
    np.testing.assert_array_equal(n.output, [[6, 5, 6], [-4, 5, 0]])
    np.testing.assert_array_equal(n.window, [[2, 2], [1, 2]])
    assert n.value == 5  # "Moving the filter one place to the right gives as output 5"


@pytest.mark.parametrize("mode", ["zeros", "edge"])
def test_convolution_view_agrees_with_the_loop_version_for_strides_padding_and_odd_shapes(mode):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(7, 10))
    w = rng.normal(size=(2, 3))  # non-square kernel on a non-square image
    v = widgets.convolution_view(x, w, stride=3, padding=2, pad_mode=mode, row=1, col=2)
    np.testing.assert_allclose(v.output, F.conv2d_naive(x, w, stride=3, padding=2, pad_mode=mode), rtol=1e-12)
    np.testing.assert_array_equal(v.padded, np.pad(x, 2, mode="constant" if mode == "zeros" else "edge"))
    assert v.output.shape == (_out_len(7, 2, 3, 2), _out_len(10, 3, 3, 2)) == (4, 4)
    assert (v.top, v.left) == (3, 6)
    np.testing.assert_array_equal(v.window, v.padded[3:5, 6:9])
    assert v.value == pytest.approx(float((v.window * w).sum()), rel=1e-12) == pytest.approx(v.output[1, 2], rel=1e-12)
    assert v.formula_h == f"H_out = floor((7 + 2{DOT}2 {MINUS} 2) / 3) + 1 = 4"
    assert v.formula_w == f"W_out = floor((10 + 2{DOT}2 {MINUS} 3) / 3) + 1 = 4"


def test_convolution_view_rejects_impossible_settings_with_clear_messages():
    with pytest.raises(ValueError, match=r"kernel \(3x3\) is larger than the padded input \(2x2"):
        widgets.convolution_view(FU_SMALL, np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"\(row 3, col 0\) is outside the 3x3 output; row must be in 0..2"):
        widgets.convolution_view(FU_SMALL, FU_TWOS, padding=1, row=3)
    with pytest.raises(ValueError, match="pad mode must be 'zeros' or 'edge'"):
        widgets.convolution_view(FU_SMALL, FU_TWOS, pad_mode="reflect")
    with pytest.raises(ValueError, match="2-D"):
        widgets.convolution_view(np.zeros((1, 3, 3)), FU_TWOS)
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        widgets.convolution_view(FU_IMG4, FU_TWOS, stride=0)


# ---------------------------------------------------------------------------
# pooling_view
# ---------------------------------------------------------------------------

POOL_IMAGE = [[1, 9, 2, 4], [3, 5, 8, 6], [-1, 0, 7, -2], [-3, -4, 1, 3]]  # windows [1 9 3 5] [2 4 8 6] ...


def test_pooling_view_max_and_average_by_hand():
    v = widgets.pooling_view(POOL_IMAGE, "max", 2, 2, row=0, col=1)
    np.testing.assert_array_equal(v.output, [[9, 8], [0, 7]])
    np.testing.assert_array_equal(v.patch, [[2, 4], [8, 6]])
    assert v.value == 8 and v.winner == (1, 2) and (v.top, v.left) == (0, 2)
    a = widgets.pooling_view(POOL_IMAGE, "average", 2, row=1, col=0)  # stride defaults to the window
    np.testing.assert_array_equal(a.output, [[18 / 4, 20 / 4], [-8 / 4, 9 / 4]])
    assert a.value == -2 and a.winner is None and a.stride == 2
    assert a.formula_w == f"W_out = floor((4 {MINUS} 2) / 2) + 1 = 2"


def test_pooling_view_overlapping_windows_and_ties():
    x = [[1, 2, 3, 0], [4, 5, 6, 0], [7, 8, 9, 10], [0, 0, 0, 0]]  # 3x3 windows, stride 1
    v = widgets.pooling_view(x, "max", 3, 1, row=1, col=1)
    np.testing.assert_array_equal(v.output, [[9, 10], [9, 10]])
    assert v.winner == (2, 3) and v.covered.all()
    tie = widgets.pooling_view([[0, 7], [7, 7]], "max", 2)
    assert tie.winner == (0, 1)  # the first maximum in reading order, as max_pool2d_backward picks it


def test_pooling_view_marks_cells_no_window_reaches_and_agrees_with_cnnlib():
    rng = np.random.default_rng(3)
    x = rng.integers(-9, 10, size=(5, 7)).astype(float)
    v = widgets.pooling_view(x, "max", 2, 3, row=1, col=1)  # stride 3 > window 2: row 2 and column 2 are skipped
    np.testing.assert_array_equal(v.output, F.max_pool2d_naive(x, 2, stride=3))
    assert v.output.shape == (_out_len(5, 2, 3, 0), _out_len(7, 2, 3, 0)) == (2, 2)
    expected = np.zeros((5, 7), bool)
    expected[[0, 1, 3, 4], :] = True
    expected[:, [2, 5, 6]] = False
    np.testing.assert_array_equal(v.covered, expected)
    np.testing.assert_array_equal(v.patch, x[3:5, 3:5])
    assert v.value == x[3:5, 3:5].max() == x[v.winner]
    avg = widgets.pooling_view(x, "avg", 3, 2)
    np.testing.assert_allclose(avg.output, F.avg_pool2d(x, 3, stride=2), rtol=1e-12)
    with pytest.raises(ValueError, match=r"window \(6x6\) is larger than the image \(5x7\)"):
        widgets.pooling_view(x, "max", 6)
    with pytest.raises(ValueError, match="pool must be 'max' or 'average'"):
        widgets.pooling_view(x, "min")


# ---------------------------------------------------------------------------
# activation_view
# ---------------------------------------------------------------------------


def test_activation_derivatives_match_central_differences():
    v = widgets.activation_view(["sigmoid", "tanh", "ReLU"], (-5.0, 5.0), x=0.7, num=200)  # the grid misses 0
    assert v.functions == ("sigmoid", "tanh", "relu")
    h = 1e-6
    for key, f in (("sigmoid", F.sigmoid), ("tanh", F.tanh), ("relu", F.relu)):
        numeric = (f(v.xs + h) - f(v.xs - h)) / (2 * h)
        np.testing.assert_allclose(v.derivatives[key], numeric, atol=1e-8, err_msg=key)
        np.testing.assert_array_equal(v.values[key], f(v.xs))
    s = 1 / (1 + np.exp(-0.7))
    assert v.at_x["sigmoid"] == pytest.approx((s, s * (1 - s)), rel=1e-12)
    assert v.at_x["tanh"] == pytest.approx((np.tanh(0.7), 1 - np.tanh(0.7) ** 2), rel=1e-12)
    assert v.at_x["relu"] == (0.7, 1.0)
    assert widgets.activation_view(["relu"], x=-2.0).at_x["relu"] == (0.0, 0.0)
    assert widgets.activation_view(["relu"], x=0.0).at_x["relu"] == (0.0, 0.0)  # PyTorch's choice at the kink


def test_activation_view_rejects_bad_choices():
    with pytest.raises(ValueError, match="at least one function"):
        widgets.activation_view([])
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        widgets.activation_view(["softplus"])
    with pytest.raises(ValueError, match="smaller to a larger"):
        widgets.activation_view(["tanh"], (2.0, 2.0))


# ---------------------------------------------------------------------------
# synthetic_batch and batchnorm_view
# ---------------------------------------------------------------------------


def test_synthetic_batch_is_seeded_with_its_own_mean_and_spread_per_channel():
    x = widgets.synthetic_batch(n=4000, means=(3.0, -1.0), stds=(0.5, 2.0), seed=1)
    assert x.shape == (4000, 2)
    np.testing.assert_array_equal(x, widgets.synthetic_batch(n=4000, means=(3.0, -1.0), stds=(0.5, 2.0), seed=1))
    assert not np.array_equal(x, widgets.synthetic_batch(n=4000, means=(3.0, -1.0), stds=(0.5, 2.0), seed=2))
    np.testing.assert_allclose(x.mean(axis=0), [3.0, -1.0], atol=0.1)
    np.testing.assert_allclose(x.std(axis=0), [0.5, 2.0], rtol=0.05)


def test_batchnorm_training_mode_gives_mean_beta_and_std_gamma():
    x = widgets.synthetic_batch(seed=0)
    v = widgets.batchnorm_view(x, gamma=2.5, beta=-1.0, training=True)
    np.testing.assert_allclose(v.mean_before, x.mean(axis=0))
    np.testing.assert_allclose(v.std_before, x.std(axis=0))
    np.testing.assert_allclose(v.mean_after, [-1.0] * 3, atol=1e-12)
    # y = gamma * (x - mean) / sqrt(var + eps) + beta, so std(y) = gamma * std / sqrt(var + eps)
    var = x.var(axis=0)
    np.testing.assert_allclose(v.std_after, 2.5 * np.sqrt(var / (var + 1e-5)), rtol=1e-12)
    np.testing.assert_allclose(v.std_after, 2.5, rtol=1e-4)
    np.testing.assert_allclose(v.y, 2.5 * (x - x.mean(0)) / np.sqrt(var + 1e-5) - 1.0, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("k", [0, 1, 5, 30])
def test_running_statistics_after_k_steps_follow_the_closed_form(k):
    x = widgets.synthetic_batch(seed=4)
    v = widgets.batchnorm_view(x, training=False, steps=k)
    keep = 0.9**k  # momentum 0.1: the initial values keep a weight of 0.9 per step
    np.testing.assert_allclose(v.running_mean, (1 - keep) * x.mean(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(v.running_var, keep * 1.0 + (1 - keep) * x.var(axis=0, ddof=1), rtol=1e-12)
    # inference normalises with exactly these estimates
    np.testing.assert_allclose(v.y, (x - v.running_mean) / np.sqrt(v.running_var + 1e-5), rtol=1e-10, atol=1e-12)


def test_inference_before_any_training_step_hardly_changes_the_data():
    x = widgets.synthetic_batch(seed=0)
    v = widgets.batchnorm_view(x, training=False, steps=0)
    np.testing.assert_array_equal(v.running_mean, [0, 0, 0])
    np.testing.assert_array_equal(v.running_var, [1, 1, 1])
    np.testing.assert_allclose(v.y, x / np.sqrt(1 + 1e-5), rtol=1e-12)
    assert abs(v.mean_after[0] - 0.0) > 3  # channel 0 (mean about 4) is not centred


# ---------------------------------------------------------------------------
# model_view
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_digits():
    rng = np.random.default_rng(0)
    return rng.random((3, 1, 28, 28)).astype(np.float32), np.array([3, 1, 4])


def test_model_view_keeps_every_stage_and_gives_probabilities(small_digits):
    images, labels = small_digits
    model = mnist_cnn(seed=0)
    v = widgets.model_view(model, images[1], label=int(labels[1]))
    assert [name for name, _ in v.stages] == [
        "(0) Conv2d", "(2) ReLU", "(3) MaxPool2d", "(4) Conv2d", "(6) ReLU", "(7) MaxPool2d"
    ]
    assert [m.shape for _, m in v.stages] == [(16, 28, 28)] * 2 + [(16, 14, 14)] + [(32, 14, 14)] * 2 + [(32, 7, 7)]
    assert (v.stages[1][1] >= 0).all() and (v.stages[0][1] < 0).any()  # ReLU after conv (and batch norm)
    np.testing.assert_allclose(v.stages[2][1], F.max_pool2d(v.stages[1][1], 2), rtol=1e-6)
    assert v.probabilities.sum() == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(v.probabilities, cnnlib.predict(model, images[1:2], return_probs=True)[0], rtol=1e-5)
    assert v.predicted == int(np.argmax(v.probabilities)) and v.probability == v.probabilities.max()
    assert v.label == 1 and v.correct == (v.predicted == 1)
    assert widgets.model_view(model, images[1, 0]).correct is None
    with pytest.raises(ValueError, match="must be a cnnlib Sequential"):
        widgets.model_view(model.layers[0], images[0])


# Constructor arguments of cnnlib's layers, by parameter name (PyTorch's names), for the ones without a default.
_LAYER_ARGS = {"in_channels": 1, "out_channels": 3, "kernel_size": 2, "num_features": 1, "in_features": 36, "out_features": 3}


def _make_layer(cls):
    required = [
        p.name for p in inspect.signature(cls).parameters.values()
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    unknown = [name for name in required if name not in _LAYER_ARGS]
    if unknown:
        pytest.fail(f"{cls.__name__}: add a value for its argument(s) {unknown} to _LAYER_ARGS")
    return cls(**{name: _LAYER_ARGS[name] for name in required})


def _image_layer_classes():
    """Every layer class in cnnlib.layers.__all__ that turns a (1, 1, 6, 6) image into image-shaped output."""
    found = []
    for name in cnnlib.layers.__all__:
        cls = getattr(cnnlib.layers, name)
        if not (isinstance(cls, type) and issubclass(cls, cnnlib.Layer)) or cls in (cnnlib.Layer, cnnlib.Sequential):
            continue  # not a layer, the abstract base, or the container (whose layers model_view opens up)
        try:
            y = _make_layer(cls).forward(np.ones((1, 1, 6, 6)), training=False)
        except ValueError:
            continue  # takes no images (Linear, BatchNorm1d)
        if y.ndim == 4:
            found.append(cls)
    return found


def _pictures(maps):
    """Feature maps as show_feature_maps draws them: each on its own colour scale, here 0..1."""
    lo, hi = maps.min(axis=(-2, -1), keepdims=True), maps.max(axis=(-2, -1), keepdims=True)
    return (maps - lo) / (hi - lo)


def test_model_view_drops_no_layer_silently():
    """Every layer with image-shaped output is a stage, except one whose row would repeat its input's exactly."""
    classes = _image_layer_classes()
    names = {cls.__name__ for cls in classes}
    assert names >= {"Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Sigmoid", "Tanh", "BatchNorm2d", "Dropout"}, names
    image = np.random.default_rng(1).normal(size=(6, 6))
    left_out = []
    for cls in classes:
        layer = _make_layer(cls)
        out = layer.forward(image[None, None], training=False)
        model = cnnlib.Sequential(layer, cnnlib.Flatten(), cnnlib.Linear(out.size, 3, seed=0))
        stages = [name for name, _ in widgets.model_view(model, image).stages]
        if stages == [f"(0) {cls.__name__}"]:
            continue
        assert stages == [], (cls.__name__, stages)
        # left out: only allowed if its maps look exactly like the input's (batch norm, dropout in inference)
        assert out.shape == (1, 1, 6, 6), cls.__name__
        np.testing.assert_allclose(_pictures(out[0]), _pictures(image[None]), atol=1e-5, err_msg=cls.__name__)
        left_out.append(cls.__name__)
    assert {"Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Sigmoid", "Tanh"}.isdisjoint(left_out)


class _LeakyReLU(cnnlib.Layer):
    """An activation layer cnnlib does not have: the model explorer must show it without being told about it."""

    def forward(self, x, training=True):
        x = np.asarray(x)
        return np.where(x > 0, x, 0.01 * x)


def test_a_new_activation_layer_is_a_stage_even_inside_a_nested_sequential():
    inner = cnnlib.Sequential(cnnlib.Conv2d(1, 2, 3, padding=1, seed=0), cnnlib.BatchNorm2d(2), _LeakyReLU())
    model = cnnlib.Sequential(inner, cnnlib.MaxPool2d(2), cnnlib.Flatten(), cnnlib.Linear(2 * 3 * 3, 3, seed=0))
    images = np.random.default_rng(2).normal(size=(2, 6, 6))
    v = widgets.model_view(model, images[0])
    assert [name for name, _ in v.stages] == ["(0) Conv2d", "(2) _LeakyReLU", "(3) MaxPool2d"]
    normed = inner[1].forward(inner[0].forward(images[:1, None].astype(np.float32), training=False), training=False)
    np.testing.assert_allclose(v.stages[1][1], np.where(normed > 0, normed, 0.01 * normed)[0], rtol=1e-6)
    assert repr(widgets.model_explorer(model, images, max_maps=2)) == "ModelExplorer(digit=0, images=2, stages=3, max_maps=2)"


# ---------------------------------------------------------------------------
# The widgets
# ---------------------------------------------------------------------------


def _controls(w):
    """Every control (widget with a description) inside an explorer, by description."""
    found = {}

    def walk(x):
        for c in getattr(x, "children", ()):
            if getattr(c, "description", ""):
                found[c.description] = c
            walk(c)

    walk(w)
    return found


def _small_images():
    rng = np.random.default_rng(5)
    return rng.random((2, 1, 9, 12)), np.array([4, 2])


def test_convolution_explorer_follows_its_controls(no_mnist):
    images, labels = _small_images()
    ex = widgets.convolution_explorer(images, labels)
    assert "cnnlib-convolution-explorer" in ex._dom_classes
    assert ex.input.options[0] == ("image 0 (label 4)", 0)
    assert any(name.startswith("notes: 4x4") for name, _ in ex.input.options)
    assert set(_controls(ex)) >= {"image", "kernel", "values", "stride", "padding", "pad mode", "out row", "out col"}
    v = ex.view
    assert v.output.shape == (7, 10) and v.kernel.tolist() == [[1, 0, -1]] * 3
    np.testing.assert_allclose(v.output, F.conv2d(images[0, 0], v.kernel), rtol=1e-12)
    text = _text(ex.info.value)
    assert f"H_out = floor((9 + 2{DOT}0 {MINUS} 3) / 1) + 1 = 7" in text
    assert f"W_out = floor((12 + 2{DOT}0 {MINUS} 3) / 1) + 1 = 10" in text
    assert (ex.out_row.max, ex.out_col.max) == (6, 9)
    png = _png(ex)
    assert _is_png(png)

    ex.stride.value = 2
    assert ex.view.stride == 2 and ex.view.output.shape == (4, 5)
    assert f"H_out = floor((9 + 2{DOT}0 {MINUS} 3) / 2) + 1 = 4" in _text(ex.info.value)
    assert (ex.out_row.max, ex.out_col.max) == (3, 4)
    assert _is_png(_png(ex)) and _png(ex) != png

    ex.padding.value = 1
    ex.out_row.value, ex.out_col.value = 4, 5
    v = ex.view
    assert (v.row, v.col, v.top, v.left) == (4, 5, 8, 10) and v.output.shape == (5, 6)
    assert v.value == pytest.approx(F.conv2d(images[0, 0], v.kernel, stride=2, padding=1)[4, 5], rel=1e-12)
    lines = _text(ex.info.value).splitlines()
    assert lines[-1] == "= " + f"{v.value:.4f}".rstrip("0").rstrip(".")
    assert lines[-2].startswith("= ") and lines[-2].count(DOT) == 9  # the nine products

    ex.stride.value = 4  # the output shrinks to 3x3: the chosen position is clamped into it
    assert (ex.out_row.max, ex.out_col.max) == (2, 2)
    assert (ex.view.row, ex.view.col) == (2, 2) == (ex.out_row.value, ex.out_col.value)

    ex.pad_mode.value = "edge"
    np.testing.assert_array_equal(ex.view.padded[0, 1:-1], images[0, 0, 0])  # the top row repeated
    assert repr(ex) == "ConvolutionExplorer(kernel='edge (vertical)', stride=4, padding=1, mode='edge'): 9x12 -> 3x3"


def test_convolution_explorer_kernels_and_custom_values(no_mnist):
    images, _ = _small_images()
    ex = widgets.convolution_explorer(images, image=1)
    ex.kernel.value = "blur (box 3x3)"
    assert ex.values.value == widgets.KERNELS["blur (box 3x3)"]
    np.testing.assert_allclose(ex.view.kernel, np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(ex.view.output, F.conv2d(images[1, 0], np.full((3, 3), 1 / 9)), rtol=1e-12)

    ex.values.value = "1 2; -1 0"  # typing values switches to a custom kernel (non-square images are fine)
    assert ex.kernel.value == "custom"
    np.testing.assert_array_equal(ex.view.kernel, [[1, 2], [-1, 0]])
    assert ex.view.output.shape == (8, 11)
    assert "kernel='custom 2x2'" in repr(ex)

    ex.input.value = [v for name, v in ex.input.options if name.startswith("notes: 3x4")][0]
    np.testing.assert_array_equal(ex.view.output, [[6, 5, 6], [-4, 5, 0]])  # "Some notes on CNN"
    ex.out_col.value = 1
    assert f"= 2{DOT}1 + 2{DOT}2 + 1{DOT}(-1) + 2{DOT}0" in _text(ex.info.value) and _text(ex.info.value).rstrip().endswith("= 5")

    ex.kernel.value = "identity"
    assert ex.values.value == widgets.KERNELS["identity"] and ex.view.kernel.shape == (3, 3)


def test_convolution_explorer_shows_a_message_for_invalid_settings(no_mnist):
    images, _ = _small_images()
    ex = widgets.convolution_explorer(images)
    good = _png(ex)
    cases = [
        ("1 0 -1; 1 0", "every row needs the same number of values"),
        ("1 a", "'a' in row 1 is not a number"),
        ("1e400 0; 0 1", "'1e400' in row 1 is too large"),
        ("1 " * 16, r"kernel \(1x16\) is larger than the padded input \(9x12, padding 0\)"),
    ]
    for values, message in cases:
        ex.values.value = values  # must not raise
        assert ex.view is None
        assert re.search(message, _text(ex.info.value)), ex.info.value
        assert "Cannot show this setting" in ex.info.value and "H_out" not in ex.info.value
        assert _is_png(_png(ex)) and _png(ex) != good  # the input alone
        r = repr(ex)
        assert r.endswith("9x12 -> invalid") and len(r) <= 100
    ex.padding.value = 1  # still invalid: still no exception
    assert "kernel (1x16) is larger than the padded input (11x14, padding 1)" in _text(ex.info.value)
    ex.values.value = "1 0 -1; 1 0 -1; 1 0 -1"
    assert ex.view is not None and ex.view.output.shape == (9, 12)
    assert "H_out" in ex.info.value and "Cannot" not in ex.info.value


def test_one_redraw_per_control_change(no_mnist):
    """Changes the explorer makes itself (a slider clamped to a new maximum, the kernel's values
    filled in) must not trigger redraws of their own: on a shared 2-core machine every redraw counts."""
    images, _ = _small_images()
    ex = widgets.convolution_explorer(images)
    redraws = []
    draw = ex._draw
    ex._draw = lambda view: redraws.append(view) or draw(view)
    ex.out_row.value = 6
    ex.stride.value = 3  # clamps out row from 6 to 2
    ex.kernel.value = "sharpen"  # fills in the values box
    ex.values.value = "1 1; 1 1"  # switches the kernel to custom
    assert len(redraws) == 4 and ex.out_row.value == 2 and ex.kernel.value == "custom"
    assert [v.stride for v in redraws] == [1, 3, 3, 3] and redraws[-1].kernel.shape == (2, 2)


def test_convolution_explorer_bad_arguments():
    with pytest.raises(ValueError, match=r"\(N, H, W\) or \(N, 1, H, W\)"):
        widgets.convolution_explorer(np.zeros((2, 3, 5, 5)))
    with pytest.raises(ValueError, match="expected 2 labels"):
        widgets.convolution_explorer(np.zeros((2, 5, 5)), labels=[1, 2, 3])
    with pytest.raises(ValueError, match="kernel must be one of"):
        widgets.convolution_explorer(np.zeros((2, 5, 5)), kernel="emboss")


def test_pooling_explorer_default_is_small_integers_and_follows_its_controls(no_mnist):
    ex = widgets.pooling_explorer()  # must not load MNIST until the digit is chosen
    assert "cnnlib-pooling-explorer" in ex._dom_classes
    assert set(_controls(ex)) >= {"image", "pool", "window", "stride", "out row", "out col"}
    x = ex.view.image
    assert x.shape == (8, 8) and np.array_equal(x, x.round()) and x.min() >= 0
    assert repr(ex) == "PoolingExplorer(pool='max', window=2, stride=2): 8x8 -> 4x4"
    assert f"H_out = floor((8 {MINUS} 2) / 2) + 1 = 4" in _text(ex.info.value)
    png = _png(ex)
    assert _is_png(png)

    ex.window.value = 3
    ex.stride.value = 1  # overlapping windows
    assert ex.view.output.shape == (6, 6) and (ex.out_row.max, ex.out_col.max) == (5, 5)
    np.testing.assert_array_equal(ex.view.output, F.max_pool2d_naive(x, 3, stride=1))
    assert "overlap" in _text(ex.info.value) and _png(ex) != png
    ex.out_row.value, ex.out_col.value = 2, 4
    v = ex.view
    np.testing.assert_array_equal(v.patch, x[2:5, 4:7])
    assert f"max = {int(x[2:5, 4:7].max())} (at input row {v.winner[0]}, col {v.winner[1]})" in _text(ex.info.value)

    ex.pool.value = "average"
    patch = x[2:5, 4:7]
    mean = f"{patch.mean():.4f}".rstrip("0").rstrip(".")
    assert ex.view.value == pytest.approx(patch.mean()) and f"/ 9 = {mean}" in _text(ex.info.value)
    ex.stride.value = 4  # larger than the window: cells are skipped
    assert (ex.out_row.max, ex.out_col.max) == (1, 1) and (ex.view.row, ex.view.col) == (1, 1)
    assert "never looked at" in _text(ex.info.value) and not ex.view.covered.all()
    assert repr(ex) == "PoolingExplorer(pool='average', window=3, stride=4): 8x8 -> 2x2"


def test_pooling_explorer_window_larger_than_the_image(no_mnist):
    ex = widgets.pooling_explorer(np.arange(9.0).reshape(1, 3, 3))
    assert ex.view.image.shape == (3, 3) and ex.view.output.tolist() == [[4.0]]
    before = _png(ex)
    ex.window.value = 4
    assert ex.view is None and "window (4x4) is larger than the image (3x3)" in _text(ex.info.value)
    assert _is_png(_png(ex)) and _png(ex) != before
    assert repr(ex).endswith("3x3 -> invalid")
    ex.window.value = 1
    assert ex.view.output.shape == (2, 2)  # window 1, stride 2


def test_activation_explorer_follows_its_controls():
    ex = widgets.activation_explorer()
    assert "cnnlib-activation-explorer" in ex._dom_classes
    assert set(_controls(ex)) >= {"functions", "x range", "x"}
    assert ex.view.functions == ("sigmoid", "tanh", "relu")
    text = _text(ex.info.value)
    assert "sigmoid: f(x) = 0.7311, f'(x) = 0.1966" in text
    assert "tanh: f(x) = 0.7616, f'(x) = 0.4200" in text and "ReLU: f(x) = 1.0000, f'(x) = 1.0000" in text
    png = _png(ex)
    assert _is_png(png)

    ex.functions.value = ("tanh",)
    ex.x.value = -0.5
    assert ex.view.functions == ("tanh",) and ex.view.x == -0.5
    text = _text(ex.info.value)
    assert f"tanh: f(x) = {np.tanh(-0.5):.4f}, f'(x) = {1 - np.tanh(-0.5) ** 2:.4f}" in text and "sigmoid" not in text
    assert _png(ex) != png

    ex.x_range.value = (1.0, 4.0)  # the probe is moved into the new range
    assert (ex.x.min, ex.x.max, ex.x.value) == (1.0, 4.0, 1.0)
    assert (ex.view.xs[0], ex.view.xs[-1]) == (1.0, 4.0)
    ex.x_range.value = (6.0, 9.0)  # entirely above the old range
    assert (ex.x.min, ex.x.max, ex.x.value) == (6.0, 9.0, 6.0)

    ex.functions.value = ()
    assert ex.view is None and "choose at least one function" in _text(ex.info.value)
    assert repr(ex) == "ActivationExplorer(functions=[], x_range=(6, 9), x=6)"


def test_batchnorm_explorer_follows_its_controls():
    ex = widgets.batchnorm_explorer(seed=0)
    assert "cnnlib-batchnorm-explorer" in ex._dom_classes
    assert set(_controls(ex)) >= {"gamma", "beta", "mode", "steps"}
    x = widgets.synthetic_batch(seed=0)
    np.testing.assert_array_equal(ex.view.x, x)
    png = _png(ex)
    assert _is_png(png)

    ex.gamma.value, ex.beta.value = 2.0, 1.5
    np.testing.assert_allclose(ex.view.mean_after, 1.5, atol=1e-12)
    np.testing.assert_allclose(ex.view.std_after, 2.0, rtol=1e-4)
    assert "1.5000" in _text(ex.info.value) and "2.0000" in _text(ex.info.value) and _png(ex) != png

    ex.mode.value = "inference"  # no training step yet: running mean 0, variance 1
    text = _text(ex.info.value)
    assert "after 0 training batch(es)" in text and "still the initial mean 0 and variance 1" in text
    np.testing.assert_allclose(ex.view.y, 2.0 * x / np.sqrt(1 + 1e-5) + 1.5, rtol=1e-12)
    ex.steps.value = 10
    keep = 0.9**10
    np.testing.assert_allclose(ex.view.running_mean, (1 - keep) * x.mean(0), rtol=1e-12)
    assert f"{(1 - keep) * x.mean(0)[0]:.4f}" in _text(ex.info.value)
    assert repr(ex) == "BatchNormExplorer(gamma=2.0, beta=1.5, mode='inference', steps=10)"


def test_model_explorer_with_an_untrained_network(small_digits):
    images, labels = small_digits
    ex = widgets.model_explorer(mnist_cnn(seed=0), images, labels, max_maps=4)
    assert "cnnlib-model-explorer" in ex._dom_classes and ex.digit.description == "digit"
    assert (ex.digit.min, ex.digit.max) == (0, 2)
    v = ex.view
    assert v.probabilities.sum() == pytest.approx(1.0, abs=1e-9) and v.label == 3
    text = _text(ex.info.value)
    assert f"predicted {v.predicted} with probability {v.probability:.4f}" in text
    assert ("right" if v.correct else "wrong") in text
    png = _png(ex)
    assert _is_png(png)
    ex.digit.value = 2
    assert ex.view.label == 4 and ex.view.image is not v.image
    np.testing.assert_array_equal(ex.view.image, images[2, 0])
    assert _png(ex) != png and "true label 4" in _text(ex.info.value)
    assert repr(ex) == "ModelExplorer(digit=2, images=3, stages=6, max_maps=4)"


def test_model_explorer_rejects_bad_arguments(small_digits):
    images, labels = small_digits
    model = mnist_cnn(seed=0)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\) or \(N, H, W\)"):
        widgets.model_explorer(model, images[0, 0])
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\) or \(N, H, W\)"):
        widgets.model_explorer(model, np.zeros((2, 3, 28, 28)))
    with pytest.raises(ValueError, match="expected 3 labels"):
        widgets.model_explorer(model, images, labels[:2])
    with pytest.raises(ValueError, match="must be a cnnlib Sequential"):
        widgets.model_explorer(model.layers[0], images)
    with pytest.raises(ValueError, match="cannot run on an image of shape"):
        widgets.model_explorer(model, np.zeros((2, 20, 20)))  # 20x20 does not fit the 32*7*7 dense layer
    with pytest.raises(ValueError, match="max_maps"):
        widgets.model_explorer(model, images, max_maps=0)


def test_learning_curve_monitor_redraws_each_epoch():
    mon = widgets.LearningCurveMonitor(epochs=6)
    assert mon.view is None and "waiting for epoch 1/6" in _text(mon.info.value)
    assert repr(mon) == "LearningCurveMonitor(epochs=6): waiting for epoch 1/6"
    pngs = [_png(mon)]
    losses, accs, val_accs = [0.31, 0.0874, 0.04123], [0.9012, 0.9733, 0.98714], [0.95, 0.981, 0.98901]
    for epoch in range(3):  # as fit calls it: epoch counts from 0
        h = History(loss=losses[: epoch + 1], accuracy=accs[: epoch + 1],
                    val_loss=[0.2] * (epoch + 1), val_accuracy=val_accs[: epoch + 1])
        mon(epoch, h)
        assert _is_png(_png(mon)) and _png(mon) not in pngs
        pngs.append(_png(mon))
    assert _text(mon.info.value).strip() == "epoch 3/6: loss 0.0412, train acc 98.71 %, validation acc 98.90 %"
    assert mon.view.epoch == 3 and mon.view.loss == tuple(losses) and mon.view.epochs == 6
    assert repr(mon) == "LearningCurveMonitor(epochs=6): epoch 3/6"
    mon(3, {"loss": [], "accuracy": []})  # a broken history never stops training
    assert "no complete epoch" in _text(mon.info.value) and mon.view.epoch == 3


def test_learning_curve_monitor_as_the_callback_of_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 1, 4, 4)).astype(np.float32)
    y = (x.reshape(40, -1).sum(1) > 0).astype(np.int64)
    model = cnnlib.Sequential(cnnlib.Flatten(), cnnlib.Linear(16, 2, seed=0))
    mon = widgets.LearningCurveMonitor(epochs=2)
    history = cnnlib.fit(model, x, y, epochs=2, batch_size=8, validation_data=(x, y), callback=mon, progress=False)
    assert mon.view.epoch == 2 and list(mon.view.val_accuracy) == history.val_accuracy
    assert _text(mon.info.value).strip().startswith("epoch 2/2: loss ")
    assert f"validation acc {100 * history.val_accuracy[-1]:.2f} %" in _text(mon.info.value)


def test_reprs_are_short_and_deterministic(no_mnist):
    images, _ = _small_images()
    expected = {
        # the longest settings: still within ipywidgets' 110 characters of text/plain, with no ids or addresses
        "ConvolutionExplorer(kernel='edge (horizontal)', stride=4, padding=3, mode='zeros'): 9x12 -> 4x4":
            lambda: widgets.convolution_explorer(images, kernel="edge (horizontal)", stride=4, padding=3),
        "PoolingExplorer(pool='average', window=4, stride=1): 9x12 -> 6x9":
            lambda: widgets.pooling_explorer(images, pool="average", window=4, stride=1),
        "ActivationExplorer(functions=['sigmoid', 'tanh', 'ReLU'], x_range=(-10, 10), x=-9.95)":
            lambda: widgets.activation_explorer(x_range=(-10.0, 10.0), x=-9.95),
        "BatchNormExplorer(gamma=1.0, beta=0.0, mode='training', steps=0)": lambda: widgets.batchnorm_explorer(seed=3),
        "LearningCurveMonitor(epochs=100): waiting for epoch 1/100": lambda: widgets.LearningCurveMonitor(epochs=100),
    }
    for text, make in expected.items():
        w = make()
        assert repr(w) == text and len(text) <= 100
        # the text/plain that a notebook stores (and nbval compares) is exactly this repr
        assert w._repr_mimebundle_()["text/plain"] == text
    ex = widgets.convolution_explorer(images)
    ex.values.value = ("1.5 " * 40 + ";") * 3  # a long custom kernel does not make the repr long
    assert len(repr(ex)) <= 100 and "custom 3x40" in repr(ex)


def test_ipywidgets_is_imported_only_with_the_first_explorer():
    code = (
        "import sys, cnnlib; assert 'ipywidgets' not in sys.modules; w = cnnlib.widgets; "
        "w.convolution_view([[1.0]], [[2.0]]); assert 'ipywidgets' not in sys.modules; "
        "w.convolution_explorer; assert 'ipywidgets' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


NO_IPYWIDGETS = """
import sys
sys.modules["ipywidgets"] = None  # as if it were not installed: import ipywidgets raises ImportError
import numpy as np
import cnnlib.widgets as w
from cnnlib import mnist_cnn

assert w.convolution_view(np.eye(4), w.parse_kernel(w.KERNELS["sharpen"]), padding=1).output.shape == (4, 4)
assert w.pooling_view(np.eye(4), "max", 2).output.shape == (2, 2)
assert w.activation_view(["tanh"]).functions == ("tanh",)
assert w.batchnorm_view(w.synthetic_batch(seed=0), training=False, steps=2).steps == 2
assert len(w.model_view(mnist_cnn(seed=0), np.zeros((28, 28))).stages) == 6
assert w.output_size_formula(5, 3).endswith("= 3")
assert isinstance(w.LearningCurveView(1, 2, (0.5,), (0.9,), (), ()), w.LearningCurveView)
assert {"convolution_explorer", "LearningCurveMonitor"} <= set(dir(w))
for name in ("convolution_explorer", "PoolingExplorer", "activation_explorer", "batchnorm_explorer",
             "model_explorer", "LearningCurveMonitor"):
    try:
        getattr(w, name)
    except ImportError as exc:
        assert "pip install ipywidgets" in str(exc) and "make lab" in str(exc), exc
    else:
        raise AssertionError(name + " was made without ipywidgets")
try:
    from cnnlib.widgets import pooling_explorer
except ImportError as exc:
    assert "pip install ipywidgets" in str(exc), exc
else:
    raise AssertionError("pooling_explorer imported without ipywidgets")
"""


def test_views_work_without_ipywidgets_and_explorers_say_how_to_install_it():
    subprocess.run([sys.executable, "-c", NO_IPYWIDGETS], check=True)


@pytest.mark.slow
def test_convolution_explorer_on_mnist_digits(mnist):
    (_, _), (x_test, y_test) = mnist
    ex = widgets.convolution_explorer()  # the notebooks' one-liner: ten MNIST test digits, one per class
    names = [name for name, _ in ex.input.options[:10]]
    assert names[0].startswith("MNIST test #") and names[0].endswith("a 0") and names[9].endswith("a 9")
    first_zero = int(np.flatnonzero(y_test == 0)[0])
    np.testing.assert_array_equal(ex.view.image, x_test[first_zero, 0])
    assert f"H_out = floor((28 + 2{DOT}0 {MINUS} 3) / 1) + 1 = 26" in _text(ex.info.value)
    assert repr(ex) == "ConvolutionExplorer(kernel='edge (vertical)', stride=1, padding=0, mode='zeros'): 28x28 -> 26x26"
    png = _png(ex)
    ex.stride.value = 2  # what the browser test does with the slider
    assert "/ 2) + 1 = 13" in _text(ex.info.value) and _png(ex) != png

    pool = widgets.pooling_explorer()
    pool.input.value = [v for name, v in pool.input.options if name.startswith("MNIST")][0]  # loaded only now
    np.testing.assert_array_equal(pool.view.image, x_test[0, 0])
    assert pool.view.output.shape == (14, 14) and repr(pool).endswith("28x28 -> 14x14")


def test_pooling_explorer_reports_a_missing_mnist_instead_of_raising(no_mnist):
    ex = widgets.pooling_explorer()
    ex.input.value = len(ex.input.options) - 1  # the MNIST digit, whose loading fails here
    assert ex.view is None and "could not load MNIST" in _text(ex.info.value)
