"""Bad input stops with a clear error: the right exception type, and a message that
says what was expected and what was given.

Every check goes through :func:`expect_error`, which also makes sure the error was
raised deliberately by a ``raise`` statement in cnnlib, not leaked from NumPy
(an IndexError, an AttributeError or a broadcasting ValueError).
"""

from __future__ import annotations

import re
from pathlib import Path

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
    NonFiniteError,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    avg_pool2d,
    conv1d,
    conv2d,
    conv2d_backward,
    conv2d_naive,
    conv_output_size,
    max_pool2d,
    max_pool2d_backward,
    one_hot,
    pad2d,
    relu,
    sigmoid,
    softmax,
)

CNNLIB_DIR = Path(cnnlib.__file__).resolve().parent
LEAKED = (IndexError, AttributeError, KeyError, ZeroDivisionError, OverflowError, FloatingPointError)
NUMPY_PHRASES = ("could not be broadcast", "operands could not", "cannot reshape", "inhomogeneous", "not supported between")


def expect_error(exc_type, fn, *args, match, also=(), **kwargs):
    """Call ``fn``; it must raise exactly ``exc_type`` (or a subclass) with a message matching
    ``match`` (a regex, searched) and containing each literal string in ``also``.
    """
    try:
        with pytest.raises(exc_type, match=match) as info:
            fn(*args, **kwargs)
    except LEAKED as exc:  # pragma: no cover - only on failure
        pytest.fail(f"raw {type(exc).__name__} leaked instead of {exc_type.__name__}: {exc}")
    err = info.value
    msg = str(err)
    for text in also:
        assert text in msg, f"{text!r} not in error message: {msg}"
    assert not isinstance(err, LEAKED), f"raw {type(err).__name__}: {msg}"
    for phrase in NUMPY_PHRASES:
        assert phrase not in msg, f"NumPy's own error leaked: {msg}"
    # The last frame must be a deliberate `raise` inside cnnlib, not a NumPy operation failing.
    last = info.traceback[-1]
    assert Path(str(last.path)).resolve().is_relative_to(CNNLIB_DIR), f"raised outside cnnlib at {last.path}"
    assert "raise" in str(last.statement), f"not a deliberate raise: {last.statement}"
    return err


def shape_text(shape):
    """How a shape tuple appears in a message, escaped for a regex."""
    return re.escape(str(tuple(shape)))


# ---------------------------------------------------------------------------
# Wrong number of dimensions
# ---------------------------------------------------------------------------


def test_conv2d_3d_x_with_2d_w():
    for conv in (conv2d, conv2d_naive):
        expect_error(
            ValueError, conv, np.ones((1, 5, 5)), np.ones((3, 3)),
            match=r"\(N, C, H, W\)", also=("(1, 5, 5)", "(3, 3)", "x of shape", "w of shape"),
        )


def test_conv2d_4d_x_with_2d_w_and_2d_x_with_4d_w():
    expect_error(ValueError, conv2d, np.ones((1, 1, 5, 5)), np.ones((3, 3)), match=r"\(out_channels, in_channels, kh, kw\)", also=("(1, 1, 5, 5)", "(3, 3)"))
    expect_error(ValueError, conv2d, np.ones((5, 5)), np.ones((1, 1, 3, 3)), match=r"\(N, C, H, W\)", also=("(5, 5)", "(1, 1, 3, 3)"))


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28), (1, 1, 1, 28, 28)], ids=str)
def test_conv2d_layer_needs_4_dimensions(shape):
    expect_error(
        ValueError, Conv2d(1, 2, 3, seed=0).forward, np.zeros(shape),
        match="4 dimensions", also=("(N, C, H, W)", str(shape), f"{len(shape)} dimension"),
    )


@pytest.mark.parametrize("shape", [(2, 1, 2, 5), (10,)], ids=str)
def test_linear_needs_2_dimensions(shape):
    expect_error(ValueError, Linear(10, 3, seed=0).forward, np.zeros(shape), match="2 dimensions", also=("(N, in_features)", str(shape)))


def test_batchnorm2d_needs_4_dimensions():
    expect_error(ValueError, BatchNorm2d(3).forward, np.zeros((4, 3)), match="4 dimensions", also=("(N, C, H, W)", "(4, 3)"))


def test_batchnorm1d_needs_2_or_3_dimensions():
    expect_error(ValueError, BatchNorm1d(3).forward, np.zeros((2, 3, 4, 4)), match="2 or 3 dimensions", also=("(2, 3, 4, 4)",))


@pytest.mark.parametrize("Pool", [MaxPool2d, AvgPool2d])
def test_pool_layers_need_4_dimensions(Pool):
    expect_error(ValueError, Pool(2).forward, np.zeros((3, 8, 8)), match="4 dimensions", also=("(N, C, H, W)", "(3, 8, 8)"))


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize("shape", [(8,), (1, 1, 1, 8, 8)], ids=str)
def test_functional_pooling_needs_2_to_4_dimensions(pool, shape):
    expect_error(ValueError, pool, np.zeros(shape), 2, match=r"\(N, C, H, W\), \(C, H, W\) or \(H, W\)", also=(str(shape),))


def test_pad2d_and_conv1d_and_flatten_dimensions():
    expect_error(ValueError, pad2d, np.zeros(5), 1, match="at least 2 dimensions", also=("(5,)",))
    expect_error(ValueError, conv1d, np.zeros((2, 5)), np.ones(3), match=r"signal \(L,\)", also=("(2, 5)", "(3,)"))
    expect_error(ValueError, Flatten().forward, np.zeros(5), match=r"batch axis, \(N, \.\.\.\)", also=("(5,)",))


# ---------------------------------------------------------------------------
# Channel / feature counts that do not match the weights
# ---------------------------------------------------------------------------


def test_conv2d_channel_mismatch():
    for conv in (conv2d, conv2d_naive):
        expect_error(
            ValueError, conv, np.ones((1, 3, 5, 5)), np.ones((2, 1, 3, 3)),
            match=r"x has 3 input channel\(s\)", also=("expects 1", "(1, 3, 5, 5)", "(2, 1, 3, 3)"),
        )


def test_conv2d_layer_channel_mismatch():
    expect_error(
        ValueError, Conv2d(3, 8, 3, seed=0).forward, np.zeros((2, 1, 28, 28)),
        match=r"expects 3 input channel\(s\), but x has 1", also=("(2, 1, 28, 28)",),
    )


def test_batchnorm2d_channel_mismatch():
    expect_error(
        ValueError, BatchNorm2d(16).forward, np.zeros((2, 8, 4, 4)),
        match=r"16 channel\(s\), but x has 8", also=("(2, 8, 4, 4)",),
    )


def test_linear_feature_mismatch_mentions_flatten():
    expect_error(
        ValueError, Linear(100, 10, seed=0).forward, np.zeros((4, 99)),
        match="expects 100 input features, but x has 99", also=("Flatten", "(4, 99)"),
    )


def test_conv2d_bias_of_the_wrong_length():
    expect_error(ValueError, conv2d, np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), b=np.ones(3), match=r"bias b of shape \(2,\)", also=("(3,)",))


# ---------------------------------------------------------------------------
# A kernel larger than the (padded) input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("conv", [conv2d, conv2d_naive])
def test_conv_kernel_larger_than_input(conv):
    err = expect_error(ValueError, conv, np.ones((3, 3)), np.ones((5, 5)), match="kernel size 5", also=("larger than the padded input", "3 + 0 padding = 3"))
    # with padding 1 the padded input is 5: that fits; a 6-wide kernel does not
    assert conv(np.ones((3, 3)), np.ones((5, 5)), padding=1).shape == (1, 1)
    expect_error(ValueError, conv, np.ones((3, 3)), np.ones((6, 6)), padding=1, match="kernel size 6", also=("3 + 2 padding = 5",))
    assert "padded input" in str(err)


def test_conv_kernel_larger_in_one_axis_names_the_axis():
    expect_error(ValueError, conv2d, np.ones((3, 8)), np.ones((2, 9)), match=r"kernel size 9 \(cols\)", also=("8 + 0 padding = 8",))
    expect_error(ValueError, Conv2d(1, 1, (4, 1), seed=0).forward, np.ones((1, 1, 3, 8)), match=r"kernel size 4 \(rows\)", also=("3 + 0 padding = 3",))


def test_max_pool_kernel_larger_than_input():
    expect_error(ValueError, max_pool2d, np.ones((2, 2)), 3, match="kernel size 3", also=("larger than the padded input", "2 + 0 padding = 2"))
    expect_error(ValueError, MaxPool2d(3).forward, np.ones((1, 1, 2, 2)), match="kernel size 3", also=("larger than the padded input",))


def test_conv_output_size_kernel_larger_than_input():
    expect_error(ValueError, conv_output_size, 2, 5, match="kernel size 5", also=("larger than the padded input", "2 + 0 padding = 2"))


# ---------------------------------------------------------------------------
# Labels for CrossEntropyLoss
# ---------------------------------------------------------------------------

LOGITS = np.zeros((3, 10))


@pytest.mark.parametrize("bad", [10, -1, 99])
def test_labels_out_of_range(bad):
    labels = np.array([0, bad, 1])
    expect_error(ValueError, CrossEntropyLoss().forward, LOGITS, labels, match=re.escape("[0, 10)"), also=(f"e.g. {bad}", "10 classes"))
    expect_error(ValueError, one_hot, labels, 10, match=re.escape("[0, 10)"), also=(f"e.g. {bad}",))


def test_float_labels_are_a_type_error():
    expect_error(TypeError, CrossEntropyLoss().forward, LOGITS, np.array([0.0, 1.0, 2.0]), match="must be integers", also=("float64",))
    expect_error(TypeError, one_hot, np.array([0.0, 1.0]), 3, match="must be integers", also=("float64",))


def test_label_count_must_match_logit_rows():
    expect_error(ValueError, CrossEntropyLoss().forward, LOGITS, np.array([0, 1]), match="3 rows of logits but 2 labels")
    expect_error(ValueError, CrossEntropyLoss().forward, LOGITS, np.array([0, 1, 2, 3]), match="3 rows of logits but 4 labels")


def test_one_hot_labels_of_the_wrong_shape():
    expect_error(ValueError, CrossEntropyLoss().forward, LOGITS, np.eye(3), match="one-hot labels must have the logits' shape", also=("(3, 10)", "(3, 3)"))
    expect_error(ValueError, CrossEntropyLoss().forward, LOGITS, np.zeros((3, 10, 1), dtype=int), match=r"shape \(N,\)", also=("(3, 10, 1)",))
    expect_error(ValueError, one_hot, np.array([[0, 1]]), 3, match=r"shape \(N,\)", also=("(1, 2)",))


def test_one_hot_rows_must_be_probabilities():
    expect_error(ValueError, CrossEntropyLoss().forward, np.zeros((1, 2)), np.array([[2.0, -1.0]]), match="non-negative rows that sum to 1")


def test_logits_must_be_2d():
    expect_error(ValueError, CrossEntropyLoss().forward, np.zeros(10), np.array([1]), match=r"logits of shape \(N, C\)", also=("(10,)",))


def test_one_hot_num_classes_must_be_a_positive_int():
    expect_error((TypeError, ValueError), one_hot, [0, 1], 2.5, match="num_classes", also=("2.5",))
    expect_error((TypeError, ValueError), one_hot, [0, 1], "3", match="num_classes", also=("'3'",))


def test_cross_entropy_of_an_empty_batch():
    # mean over zero examples is 0/0: this must be a clear error, not a NaN loss / RuntimeWarning
    expect_error(ValueError, CrossEntropyLoss().forward, np.zeros((0, 3)), np.zeros(0, dtype=int), match="empty|at least one|N >= 1")


# ---------------------------------------------------------------------------
# NaN and inf
# ---------------------------------------------------------------------------


def _with(value, shape, index):
    x = np.ones(shape)
    x[index] = value
    return x


def _nonfinite_cases():
    bn = BatchNorm2d(2)
    return [
        ("conv2d", lambda x: conv2d(x, np.ones((1, 2, 2, 2)))),
        ("conv2d_naive", lambda x: conv2d_naive(x, np.ones((1, 2, 2, 2)))),
        ("max_pool2d", lambda x: max_pool2d(x, 2)),
        ("avg_pool2d", lambda x: avg_pool2d(x, 2)),
        ("relu", relu),
        ("sigmoid", sigmoid),
        ("softmax", softmax),
        ("Conv2d.forward", Conv2d(2, 1, 2, seed=0).forward),
        ("BatchNorm2d.forward", bn.forward),
        ("MaxPool2d.forward", MaxPool2d(2).forward),
        ("ReLU.forward", ReLU().forward),
    ]


@pytest.mark.parametrize("value, kind", [(np.nan, "1 NaN and 0 infinite"), (np.inf, "0 NaN and 1 infinite"), (-np.inf, "0 NaN and 1 infinite")])
@pytest.mark.parametrize("name, fn", _nonfinite_cases(), ids=[c[0] for c in _nonfinite_cases()])
def test_nonfinite_input_is_rejected(name, fn, value, kind):
    x = _with(value, (2, 2, 4, 4), (1, 0, 2, 3))
    err = expect_error(NonFiniteError, fn, x, match=kind, also=(name, "first at index (1, 0, 2, 3)", "finite"))
    assert isinstance(err, ValueError)


def test_nonfinite_error_is_a_value_error():
    assert issubclass(NonFiniteError, ValueError)


def test_nonfinite_logits_and_weights():
    logits = _with(np.nan, (2, 3), (1, 2))
    expect_error(NonFiniteError, CrossEntropyLoss().forward, logits, np.array([0, 1]), match="NaN", also=("logits", "first at index (1, 2)"))
    w = _with(np.inf, (1, 1, 2, 2), (0, 0, 1, 0))
    expect_error(NonFiniteError, conv2d, np.ones((1, 1, 4, 4)), w, match="infinite", also=("w must be finite", "(0, 0, 1, 0)"))


def test_nan_and_inf_together_are_counted():
    x = np.ones((3, 3))
    x[0, 1], x[2, 2], x[1, 0] = np.nan, np.inf, -np.inf
    expect_error(NonFiniteError, relu, x, match="1 NaN and 2 infinite", also=("first at index (0, 1)",))


# ---------------------------------------------------------------------------
# Bad hyperparameters
# ---------------------------------------------------------------------------

X4 = np.ones((1, 1, 6, 6))


def test_stride_zero():
    expect_error(ValueError, conv2d, X4, np.ones((1, 1, 3, 3)), stride=0, match="stride must be >= 1", also=("got 0",))
    expect_error(ValueError, conv2d, X4, np.ones((1, 1, 3, 3)), stride=0, padding="same", match="stride must be >= 1")
    expect_error(ValueError, max_pool2d, X4, 2, stride=0, match="stride must be >= 1")
    expect_error(ValueError, Conv2d, 1, 1, 3, stride=0, match="stride must be >= 1")
    expect_error(ValueError, MaxPool2d, 2, stride=(1, 0), match="stride must be >= 1", also=("(1, 0)",))
    expect_error(ValueError, conv_output_size, 5, 3, stride=0, match="stride must be a positive integer", also=("got 0",))
    expect_error(ValueError, conv1d, np.ones(5), np.ones(3), stride=0, match="stride must be a positive integer", also=("got 0",))


def test_conv1d_stride_zero_with_same_padding():
    expect_error(ValueError, conv1d, np.ones(5), np.ones(3), stride=0, padding="same", match="stride must be", also=("0",))


def test_negative_padding():
    expect_error(ValueError, conv2d, X4, np.ones((1, 1, 3, 3)), padding=-1, match="padding must be >= 0", also=("-1",))
    expect_error(ValueError, conv2d, X4, np.ones((1, 1, 3, 3)), padding=((0, -1), (0, 0)), match="padding must be >= 0")
    expect_error(ValueError, pad2d, np.ones((3, 3)), (1, -2), match="padding must be >= 0", also=("-2",))
    expect_error(ValueError, Conv2d, 1, 1, 3, padding=-1, match="padding must be >= 0")
    expect_error(ValueError, max_pool2d, X4, 2, padding=-1, match="padding must be >= 0")
    expect_error(ValueError, conv_output_size, 5, 3, padding=-1, match="padding must be >= 0")


def test_unknown_padding_rule():
    expect_error(ValueError, conv2d, X4, np.ones((1, 1, 3, 3)), padding="full", match="'valid' or 'same'", also=("'full'",))
    expect_error(ValueError, Conv2d, 1, 1, 3, padding="full", match="'valid' or 'same'", also=("'full'",))
    expect_error(ValueError, conv_output_size, 5, 3, padding="full", match="'valid' or 'same'", also=("'full'",))


def test_padding_of_the_wrong_type():
    expect_error(TypeError, conv2d, X4, np.ones((1, 1, 3, 3)), padding=1.5, match="padding must be an int", also=("1.5",))
    expect_error(TypeError, conv2d, X4, np.ones((1, 1, 3, 3)), padding=(1, 2, 3), match="padding must be an int", also=("(1, 2, 3)",))


def test_unknown_pad_mode():
    expect_error(ValueError, conv2d, X4, np.ones((1, 1, 3, 3)), pad_mode="reflect", match="'zeros' or 'edge'", also=("'reflect'",))
    expect_error(ValueError, pad2d, np.ones((3, 3)), 1, mode="reflect", match="'zeros' or 'edge'", also=("'reflect'",))
    expect_error(ValueError, Conv2d, 1, 1, 3, pad_mode="reflect", match="'zeros' or 'edge'", also=("'reflect'",))


def test_pooling_padding_larger_than_half_the_kernel():
    expect_error(ValueError, max_pool2d, X4, 2, padding=2, match="at most half the kernel", also=("(2, 2)",))
    expect_error(ValueError, avg_pool2d, X4, 3, padding=2, match="at most half the kernel")
    expect_error(ValueError, MaxPool2d, 2, padding=2, match="at most half the kernel")
    expect_error(ValueError, AvgPool2d, (4, 2), padding=(2, 2), match="at most half the kernel")


def test_kernel_size_stride_of_the_wrong_type():
    expect_error(TypeError, max_pool2d, X4, 2.0, match="kernel_size must be an int or a pair", also=("2.0",))
    expect_error(TypeError, Conv2d, 1, 1, 3, stride=1.5, match="stride must be an int or a pair", also=("1.5",))
    expect_error(ValueError, Conv2d, 1, 1, 0, match="kernel_size must be >= 1")


@pytest.mark.parametrize("p", [1.5, -0.1])
def test_dropout_probability(p):
    expect_error(ValueError, Dropout, p, match=re.escape("p must be a probability in [0, 1]"), also=(str(p),))


def test_dropout_accepts_numpy_float_probability():
    # np.float32(0.5) is a perfectly good probability; rejecting it with
    # "p must be a probability in [0, 1]; got np.float32(0.5)" is confusing.
    assert Dropout(np.float32(0.5)).p == 0.5


@pytest.mark.parametrize("Norm", [BatchNorm1d, BatchNorm2d])
def test_batchnorm_hyperparameters(Norm):
    expect_error(ValueError, Norm, 4, momentum=2, match=re.escape("momentum must be in [0, 1]"), also=("2",))
    expect_error(ValueError, Norm, 4, momentum=-0.1, match="momentum must be in")
    expect_error(ValueError, Norm, 4, eps=0, match="eps must be > 0")
    expect_error(ValueError, Norm, 0, match="num_features must be a positive integer", also=("got 0",))


@pytest.mark.parametrize("kwargs, word", [({"momentum": "0.1"}, "momentum"), ({"eps": None}, "eps")], ids=["momentum-str", "eps-None"])
def test_batchnorm_hyperparameters_of_the_wrong_type(kwargs, word):
    expect_error((TypeError, ValueError), BatchNorm2d, 4, **kwargs, match=word)


def test_layer_sizes_must_be_positive():
    expect_error(ValueError, Linear, 0, 3, match="in_features must be a positive integer", also=("got 0",))
    expect_error(ValueError, Linear, 3, -1, match="out_features must be a positive integer", also=("got -1",))
    expect_error(ValueError, Linear, 2.5, 3, match="in_features must be a positive integer", also=("2.5",))
    expect_error(ValueError, Conv2d, 0, 3, 3, match="in_channels must be a positive integer")
    expect_error(ValueError, conv_output_size, 0, 3, match="n must be a positive integer")


def test_softmax_axis_and_flatten_start_dim_out_of_range():
    expect_error(ValueError, softmax, np.ones((2, 3)), axis=2, match="axis 2 is out of range", also=("(2, 3)",))
    expect_error(ValueError, cnnlib.flatten, np.ones((2, 3)), start_dim=2, match="start_dim must be in", also=("got 2",))


def test_sequential_needs_layers():
    expect_error(TypeError, Sequential, Linear(2, 2, seed=0), relu, match="argument 1 must be a Layer", also=("function",))


# ---------------------------------------------------------------------------
# Non-numeric input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, dtype",
    [(np.array([["a", "b"], ["c", "d"]]), "<U1"), (np.ones((2, 2), dtype=complex), "complex128"), (np.array([[None, 1], [2, 3]]), "object")],
    ids=["str", "complex", "object"],
)
@pytest.mark.parametrize(
    "name, fn",
    [
        ("conv2d", lambda x: conv2d(x, np.ones((1, 1)))),
        ("max_pool2d", lambda x: max_pool2d(x, 1)),
        ("relu", relu),
        ("softmax", softmax),
        ("pad2d", lambda x: pad2d(x, 1)),
        ("Linear.forward", lambda x: Linear(2, 1, seed=0).forward(x)),
        ("CrossEntropyLoss.forward", lambda x: CrossEntropyLoss().forward(x, np.array([0, 1]))),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_non_numeric_input_is_a_type_error_naming_the_dtype(name, fn, bad, dtype):
    expect_error(TypeError, fn, bad, match="real numbers", also=(name, f"dtype {dtype}"))


def test_a_plain_string_is_a_type_error():
    expect_error(TypeError, conv2d, "image", np.ones((1, 1)), match="real numbers", also=("dtype <U5", "from str"))
    expect_error(TypeError, Conv2d(1, 1, 1, seed=0).forward, [[["a"]]], match="real numbers", also=("from list",))


def test_complex_weights_are_a_type_error():
    expect_error(TypeError, conv2d, np.ones((3, 3)), np.ones((2, 2), dtype=complex), match="w must hold real numbers", also=("complex128",))


# ---------------------------------------------------------------------------
# backward before forward, and dy of the wrong shape
# ---------------------------------------------------------------------------


def _layers():
    """(name, layer factory, a valid input) for every layer."""
    x4 = np.random.default_rng(0).normal(size=(2, 3, 6, 6))
    return [
        ("Conv2d", lambda: Conv2d(3, 2, 3, seed=0), x4),
        ("Linear", lambda: Linear(5, 2, seed=0), np.ones((4, 5))),
        ("BatchNorm1d", lambda: BatchNorm1d(5), np.random.default_rng(1).normal(size=(4, 5))),
        ("BatchNorm2d", lambda: BatchNorm2d(3), x4),
        ("MaxPool2d", lambda: MaxPool2d(2), x4),
        ("AvgPool2d", lambda: AvgPool2d(2), x4),
        ("ReLU", ReLU, x4),
        ("Sigmoid", Sigmoid, x4),
        ("Tanh", Tanh, x4),
        ("Flatten", Flatten, x4),
        ("Dropout", lambda: Dropout(0.5, seed=0), x4),
    ]


LAYERS = _layers()
LAYER_IDS = [c[0] for c in LAYERS]


@pytest.mark.parametrize("name, make, x", LAYERS, ids=LAYER_IDS)
def test_backward_before_forward(name, make, x):
    expect_error(RuntimeError, make().backward, np.ones((2, 2)), match="call forward before backward", also=(f"{name}.backward",))


def test_backward_before_forward_in_sequential_and_loss():
    model = Sequential(Conv2d(1, 2, 3, seed=0), ReLU(), Flatten(), Linear(8, 2, seed=0))
    expect_error(RuntimeError, model.backward, np.ones((1, 2)), match="call forward before backward", also=("Linear.backward",))
    expect_error(RuntimeError, CrossEntropyLoss().backward, match="call forward before backward", also=("CrossEntropyLoss.backward",))


@pytest.mark.parametrize("name, make, x", LAYERS, ids=LAYER_IDS)
def test_backward_with_dy_of_the_wrong_shape(name, make, x):
    layer = make()
    y = layer.forward(x)
    bad = np.ones(y.shape[:-1] + (y.shape[-1] + 1,))
    expect_error(
        ValueError, layer.backward, bad,
        match=f"expected dy of shape {shape_text(y.shape)}", also=(f"got {bad.shape}", f"{name}.backward"),
    )


@pytest.mark.parametrize("name, make, x", LAYERS, ids=LAYER_IDS)
def test_backward_with_nonfinite_dy(name, make, x):
    layer = make()
    y = layer.forward(x)
    dy = np.ones(y.shape)
    dy.flat[0] = np.nan
    expect_error(NonFiniteError, layer.backward, dy, match="NaN", also=("dy", f"{name}.backward"))


def test_functional_backward_with_dy_of_the_wrong_shape():
    x = np.ones((1, 1, 4, 4))
    w = np.ones((1, 1, 2, 2))
    expect_error(ValueError, conv2d_backward, np.ones((1, 1, 2, 2)), x, w, match=r"dy of shape \(1, 1, 3, 3\)", also=("got (1, 1, 2, 2)",))
    expect_error(ValueError, max_pool2d_backward, np.ones((3, 3)), np.ones((4, 4)), 2, match=r"dy of shape \(2, 2\)", also=("got (3, 3)",))
    expect_error(ValueError, cnnlib.avg_pool2d_backward, np.ones((2, 3)), np.ones((4, 4)), 2, match=r"dy of shape \(2, 2\)", also=("got (2, 3)",))
    expect_error(ValueError, cnnlib.conv2d_backward_naive, np.ones((2, 2)), np.ones((4, 4)), np.ones((2, 2)), match=r"dy of shape \(3, 3\)", also=("got (2, 2)",))


# ===========================================================================
# Issue 12: the remaining bad input, fixed by kind. Each example of the issue is
# a test below, and the sweeps cover its siblings across the public API.
# ===========================================================================

from tests.layer_table import LAYERS as LAYER_CASES  # noqa: E402 - the table of every layer

RNG = np.random.default_rng(12)
XS = RNG.normal(size=(20, 1, 4, 4)).astype(np.float32)
YS = np.arange(20) % 3


def tiny_layer():
    return Linear(3, 2, seed=0)


def tiny_model():
    return Sequential(Flatten(), Linear(16, 3, seed=0))


def fit_quietly(model=None, x=XS, y=YS, **kwargs):
    return cnnlib.fit(tiny_model() if model is None else model, x, y, progress=kwargs.pop("progress", False), **kwargs)


# ---------------------------------------------------------------------------
# Every float hyper-parameter: NumPy numbers accepted; bools, strings, NaN and inf refused
# ---------------------------------------------------------------------------

# (id, call with the value, a good value, the argument's name in the message)
FLOAT_ARGS = [
    ("SGD-lr", lambda v: cnnlib.SGD(tiny_layer(), lr=v), 0.1, "lr"),
    ("SGD-momentum", lambda v: cnnlib.SGD(tiny_layer(), lr=0.1, momentum=v), 0.9, "momentum"),
    ("SGD-weight_decay", lambda v: cnnlib.SGD(tiny_layer(), lr=0.1, weight_decay=v), 1e-4, "weight_decay"),
    ("SGD-lr-set-later", lambda v: setattr(cnnlib.SGD(tiny_layer(), lr=0.1), "lr", v), 0.05, "lr"),
    ("Adam-lr", lambda v: cnnlib.Adam(tiny_layer(), lr=v), 1e-3, "lr"),
    ("Adam-beta1", lambda v: cnnlib.Adam(tiny_layer(), betas=(v, 0.999)), 0.9, "betas[0]"),
    ("Adam-beta2", lambda v: cnnlib.Adam(tiny_layer(), betas=(0.9, v)), 0.999, "betas[1]"),
    ("Adam-eps", lambda v: cnnlib.Adam(tiny_layer(), eps=v), 1e-8, "eps"),
    ("Adam-weight_decay", lambda v: cnnlib.Adam(tiny_layer(), weight_decay=v), 1e-4, "weight_decay"),
    ("Dropout-p", lambda v: Dropout(v), 0.5, "p"),
    ("LeakyReLU-negative_slope", lambda v: cnnlib.LeakyReLU(v), 0.1, "negative_slope"),
    ("leaky_relu-negative_slope", lambda v: cnnlib.leaky_relu(np.ones(3), v), 0.1, "negative_slope"),
    ("BatchNorm1d-eps", lambda v: BatchNorm1d(3, eps=v), 1e-5, "eps"),
    ("BatchNorm1d-momentum", lambda v: BatchNorm1d(3, momentum=v), 0.1, "momentum"),
    ("BatchNorm2d-eps", lambda v: BatchNorm2d(3, eps=v), 1e-5, "eps"),
    ("BatchNorm2d-momentum", lambda v: BatchNorm2d(3, momentum=v), 0.1, "momentum"),
    ("numerical_gradient-eps", lambda v: cnnlib.numerical_gradient(lambda a: float(a.sum()), np.ones(2), eps=v), 1e-6, "eps"),
    ("gradcheck-eps", lambda v: cnnlib.gradcheck(Linear(2, 2, seed=0), np.ones((1, 2)), eps=v), 1e-6, "eps"),
    ("relative_error-floor", lambda v: cnnlib.relative_error([1.0], [1.0], floor=v), 1e-3, "floor"),
    ("lr_at-lr", lambda v: cnnlib.lr_at(0, 3, v), 0.1, "lr"),
    ("fit-lr_schedule", lambda v: fit_quietly(lr_schedule=lambda e: v), 0.01, "lr_schedule(0)"),
]
FLOAT_IDS = [a[0] for a in FLOAT_ARGS]


@pytest.mark.parametrize("name, call, good, arg", FLOAT_ARGS, ids=FLOAT_IDS)
def test_float_arguments_accept_numpy_numbers(name, call, good, arg):
    call(np.float32(good))
    call(np.float64(good))
    call(good)


@pytest.mark.parametrize("name, call, good, arg", FLOAT_ARGS, ids=FLOAT_IDS)
@pytest.mark.parametrize("bad", [True, np.True_, "0.1", None, [0.1]], ids=["True", "np.True_", "str", "None", "list"])
def test_float_arguments_refuse_bools_and_strings(name, call, good, arg, bad):
    expect_error(TypeError, call, bad, match=re.escape(arg), also=("real number", repr(bad)))


@pytest.mark.parametrize("name, call, good, arg", FLOAT_ARGS, ids=FLOAT_IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_float_arguments_refuse_nan_and_inf(name, call, good, arg, bad):
    expect_error(ValueError, call, bad, match=re.escape(arg), also=("finite", repr(bad)))


def test_issue_weight_decay_and_eps_that_would_ruin_the_weights():
    # weight_decay=nan made every weight NaN at the first step; eps=inf froze them
    for opt in (cnnlib.SGD, cnnlib.Adam):
        for bad in (float("nan"), float("inf")):
            expect_error(ValueError, opt, tiny_layer(), lr=0.1, weight_decay=bad, match="weight_decay must be >= 0", also=(repr(bad),))
    expect_error(ValueError, cnnlib.Adam, tiny_layer(), eps=float("inf"), match="eps must be > 0", also=("inf",))


def test_issue_numpy_numbers_accepted_and_true_refused():
    assert cnnlib.SGD(tiny_layer(), lr=np.float32(0.1)).lr == pytest.approx(0.1)
    assert len(fit_quietly(epochs=np.int64(3)).loss) == 3
    expect_error(TypeError, cnnlib.SGD, tiny_layer(), lr=True, match="lr must be a real number", also=("True",))
    expect_error(TypeError, cnnlib.SGD, tiny_layer(), lr=0.1, momentum="0.9", match="momentum must be a real number", also=("'0.9' (str)",))


@pytest.mark.parametrize("bad, error, text", [(0.0, ValueError, "> 0"), (-0.1, ValueError, "> 0"), ("0.1", TypeError, "real number")])
def test_issue_lr_schedule_must_give_a_positive_rate(bad, error, text):
    model = tiny_model()
    before = {k: v.copy() for k, v in model.params.items()}
    expect_error(error, fit_quietly, model, lr_schedule=lambda e: bad, match=r"fit: lr_schedule\(0\) must", also=(text, repr(bad)))
    for k, v in model.params.items():  # not a single step of gradient ascent
        np.testing.assert_array_equal(v, before[k])


def test_optimizer_bounds_are_named():
    expect_error(ValueError, cnnlib.SGD, tiny_layer(), lr=0.1, momentum=1.0, match=re.escape("momentum must be in [0, 1)"), also=("1.0",))
    expect_error(ValueError, cnnlib.Adam, tiny_layer(), betas=(0.9, 1.0), match=re.escape("betas[1] must be in [0, 1)"))
    expect_error(TypeError, cnnlib.Adam, tiny_layer(), betas=0.9, match=r"betas must be a pair \(beta1, beta2\)", also=("0.9",))
    expect_error(TypeError, cnnlib.SGD, 3, lr=0.1, match="params must be a model or model.parameters()", also=("int",))
    expect_error(ValueError, cnnlib.lr_at, 3, 3, 0.1, match=re.escape("epoch must be in [0, 2]"), also=("got 3",))


# ---------------------------------------------------------------------------
# Every integer argument: NumPy integers accepted; bools, strings and floats refused
# ---------------------------------------------------------------------------

INT_ARGS = [
    ("Conv2d-in_channels", lambda v: Conv2d(v, 2, 3), 1, "in_channels"),
    ("Conv2d-out_channels", lambda v: Conv2d(1, v, 3), 2, "out_channels"),
    ("Linear-in_features", lambda v: Linear(v, 2), 3, "in_features"),
    ("Linear-out_features", lambda v: Linear(3, v), 2, "out_features"),
    ("BatchNorm2d-num_features", lambda v: BatchNorm2d(v), 3, "num_features"),
    ("one_hot-num_classes", lambda v: one_hot([0, 1], v), 3, "num_classes"),
    ("confusion_matrix-num_classes", lambda v: cnnlib.confusion_matrix([0, 1], [1, 0], v), 3, "num_classes"),
    ("conv_output_size-n", lambda v: conv_output_size(v, 3), 5, "n"),
    ("conv1d-stride", lambda v: conv1d(np.ones(5), np.ones(3), stride=v), 1, "stride"),
    ("conv1d-padding", lambda v: conv1d(np.ones(5), np.ones(3), padding=v), 1, "padding"),
    ("fit-epochs", lambda v: fit_quietly(epochs=v), 1, "epochs"),
    ("fit-batch_size", lambda v: fit_quietly(batch_size=v), 8, "batch_size"),
    ("evaluate-batch_size", lambda v: cnnlib.evaluate(tiny_model(), XS, YS, batch_size=v), 8, "batch_size"),
    ("predict-batch_size", lambda v: cnnlib.predict(tiny_model(), XS, batch_size=v), 8, "batch_size"),
    ("lr_at-epochs", lambda v: cnnlib.lr_at(0, v, 0.1), 3, "epochs"),
    ("lr_at-epoch", lambda v: cnnlib.lr_at(v, 3, 0.1), 1, "epoch"),
    ("mnist_cnn-channels", lambda v: cnnlib.mnist_cnn((v, 4)), 2, "channels[0]"),
]
INT_IDS = [a[0] for a in INT_ARGS]


@pytest.mark.parametrize("name, call, good, arg", INT_ARGS, ids=INT_IDS)
def test_int_arguments_accept_numpy_integers(name, call, good, arg):
    call(np.int64(good))
    call(np.int32(good))
    call(good)


@pytest.mark.parametrize("name, call, good, arg", INT_ARGS, ids=INT_IDS)
@pytest.mark.parametrize("bad", [True, "3", 2.5], ids=["True", "str", "float"])
def test_int_arguments_refuse_bools_strings_and_floats(name, call, good, arg, bad):
    expect_error((TypeError, ValueError), call, bad, match=re.escape(arg), also=("integer", repr(bad)))


def test_evaluate_with_a_negative_batch_size():
    # the issue: evaluate(..., batch_size=-5) returned (0.0, 0.0)
    expect_error(ValueError, cnnlib.evaluate, tiny_model(), XS, YS, batch_size=-5, match="batch_size must be a positive integer", also=("-5",))
    expect_error(ValueError, cnnlib.predict, tiny_model(), XS, batch_size=0, match="batch_size must be a positive integer", also=("got 0",))


# ---------------------------------------------------------------------------
# Seeds: None or an integer >= 0
# ---------------------------------------------------------------------------

SEED_ARGS = [
    ("Conv2d", lambda v: Conv2d(1, 1, 3, seed=v)),
    ("Linear", lambda v: Linear(2, 2, seed=v)),
    ("Dropout", lambda v: Dropout(0.5, seed=v)),
    ("mnist_cnn", lambda v: cnnlib.mnist_cnn((2, 2), seed=v)),
    ("fit", lambda v: fit_quietly(seed=v)),
    ("gradcheck", lambda v: cnnlib.gradcheck(Linear(2, 2, seed=0), np.ones((1, 2)), seed=v)),
]


@pytest.mark.parametrize("name, call", SEED_ARGS, ids=[a[0] for a in SEED_ARGS])
def test_seeds(name, call):
    call(None)
    call(np.int64(3))
    for bad in ("a", True, 1.5):
        expect_error(TypeError, call, bad, match=f"{name}: seed must be None or an integer >= 0", also=(repr(bad),))
    expect_error(ValueError, call, -1, match=f"{name}: seed must be None or an integer >= 0", also=("-1",))


# ---------------------------------------------------------------------------
# Every True/False argument: a string such as "False" is refused
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", LAYER_CASES, ids=[c.id for c in LAYER_CASES])
def test_every_layer_forward_refuses_a_string_for_training(case):
    x = np.ones(case.input_shape)
    layer = case.make()
    name = type(layer).__name__
    for bad in ("False", 0, None):
        expect_error(TypeError, layer.forward, x, training=bad, match=f"{name}.forward: training must be True or False", also=(repr(bad),))
    layer.forward(x, training=np.False_)  # NumPy's bools are bools
    layer(x, training=False)


def test_issue_dropout_with_training_from_a_config_file():
    # "False" is a non-empty string, so Dropout used to run in training mode
    expect_error(TypeError, Dropout(0.5, seed=0).forward, np.ones((2, 4)), training="False", match="training must be True or False", also=("'False' (str)",))


BOOL_ARGS = [
    ("Sequential.forward", "training", lambda v: tiny_model().forward(XS, training=v)),
    ("Sequential.forward", "training", lambda v: Sequential().forward(XS, training=v)),
    ("gradcheck", "training", lambda v: cnnlib.gradcheck(Dropout(0.5, seed=0), np.ones((2, 3)), training=v)),
    ("predict", "return_probs", lambda v: cnnlib.predict(tiny_model(), XS, return_probs=v)),
    ("fit", "progress", lambda v: cnnlib.fit(tiny_model(), XS, YS, progress=v) if v is not True else None),
    ("fit", "drop_last", lambda v: fit_quietly(drop_last=v)),
    ("load_mnist", "download", lambda v: cnnlib.load_mnist(download=v)),
    ("download_mnist", "force", lambda v: cnnlib.download_mnist(force=v) if v is not False else None),
]


@pytest.mark.parametrize("where, arg, call", BOOL_ARGS, ids=[f"{a[0]}-{a[1]}" for a in BOOL_ARGS])
def test_bool_arguments_refuse_strings_and_numbers(where, arg, call):
    call(False)
    for bad in ("False", 1, None):
        expect_error(TypeError, call, bad, match=f"{re.escape(where)}: {arg} must be True or False", also=(repr(bad),))


# ---------------------------------------------------------------------------
# Axes and dimensions
# ---------------------------------------------------------------------------


def test_issue_axis_and_start_dim_of_the_wrong_type():
    for fn in (softmax, cnnlib.log_softmax):
        expect_error(TypeError, fn, np.ones((2, 3)), axis=1.0, match="axis must be an int", also=("1.0",))
        expect_error(TypeError, fn, np.ones((2, 3)), axis="1", match="axis must be an int", also=("'1'",))
    expect_error(TypeError, cnnlib.flatten, np.ones((2, 3)), start_dim=None, match="start_dim must be an int", also=("None",))
    expect_error(TypeError, cnnlib.flatten, np.ones((2, 3)), start_dim=1.0, match="start_dim must be an int", also=("1.0",))


def test_issue_softmax_over_no_classes():
    for fn in (softmax, cnnlib.log_softmax):
        name = fn.__name__
        expect_error(ValueError, fn, np.zeros((2, 0)), match=f"{name}: x has no entries along axis -1", also=("(2, 0)", "at least one class"))
    assert softmax(np.zeros((0, 3))).shape == (0, 3)  # no rows is fine: nothing to normalise


# ---------------------------------------------------------------------------
# Empty batches: an empty output (as PyTorch), or a cnnlib error, never NumPy's
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", LAYER_CASES, ids=[c.id for c in LAYER_CASES])
def test_every_layer_takes_an_empty_batch(case):
    layer = case.make()
    full = layer.forward(np.ones((2, *case.input_shape[1:])), training=False)
    y = layer.forward(np.ones((0, *case.input_shape[1:])), training=False)
    assert y.shape == (0, *full.shape[1:])
    dx = layer.backward(np.ones(y.shape))
    assert dx.shape == (0, *case.input_shape[1:])


def test_issue_empty_batch_through_flatten_batchnorm_and_predict():
    assert Flatten().forward(np.zeros((0, 1, 2, 2))).shape == (0, 4)
    assert cnnlib.flatten(np.zeros((0, 3)), start_dim=1).shape == (0, 3)
    assert BatchNorm1d(3).forward(np.zeros((0, 3)), training=False).shape == (0, 3)
    expect_error(ValueError, BatchNorm1d(3).forward, np.zeros((0, 3)), match="more than 1 value per channel", also=("(0, 3)", "training=False"))
    classes = cnnlib.predict(tiny_model(), XS[:0])
    assert classes.shape == (0,) and classes.dtype == np.int64
    assert cnnlib.predict(tiny_model(), XS[:0], return_probs=True).shape == (0, 3)
    expect_error(ValueError, cnnlib.evaluate, tiny_model(), XS[:0], YS[:0], match="evaluate: got no examples")


def test_issue_edge_padding_of_an_empty_array():
    expect_error(ValueError, pad2d, np.zeros((0, 3)), 1, mode="edge", match="mode 'edge' repeats the outermost rows and columns", also=("(0, 3)",))


# ---------------------------------------------------------------------------
# Padding: an upper bound, and conv1d names itself and the padding the user wrote
# ---------------------------------------------------------------------------


def test_issue_absurd_padding_is_refused_before_any_memory_is_used():
    expect_error(ValueError, conv2d, np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), padding=10**9,
                 match="padding must be at most the input size plus the kernel size", also=("5 + 3 = 8", "got 1000000000"))
    expect_error(ValueError, conv2d, np.ones((5, 5)), np.ones((3, 3)), padding=((0, 0), (0, 9)), match=r"\(cols\), 5 \+ 3 = 8", also=("got 9",))
    expect_error(ValueError, Conv2d(1, 1, 3, padding=10**9, seed=0).forward, np.ones((1, 1, 5, 5)), match="padding must be at most", also=("Conv2d.forward",))
    expect_error(ValueError, conv_output_size, 5, 3, padding=10**9, match="padding must be at most", also=("5 + 3 = 8",))
    expect_error(ValueError, conv1d, np.ones(5), np.ones(3), padding=10**9, match="conv1d: padding must be at most", also=("5 + 3 = 8",))
    expect_error(ValueError, pad2d, np.ones((5, 5)), 10**9, match="padding must be at most twice the input's size", also=("2 x 5 = 10",))
    # the largest sensible paddings still work
    assert conv2d(np.ones((5, 5)), np.ones((3, 3)), padding=8).shape == (19, 19)
    assert pad2d(np.ones((2, 3)), (4, 6)).shape == (10, 15)


@pytest.mark.parametrize("padding, error, text", [(-1, ValueError, "got -1"), (1.5, ValueError, "got 1.5"), ((1, 1), ValueError, "got (1, 1)"), ("full", ValueError, "'full'")])
def test_issue_conv1d_reports_itself_and_the_padding_as_written(padding, error, text):
    err = expect_error(error, conv1d, np.ones(5), np.ones(3), padding=padding, match="^conv1d: padding", also=(text,))
    assert "conv2d" not in str(err) and "((0, 0)" not in str(err)


def test_conv1d_reports_its_other_errors_itself():
    x, w = np.ones((2, 3, 8)), np.ones((4, 2, 3))
    expect_error(ValueError, conv1d, x, w, match=r"^conv1d: x has 3 input channel\(s\)", also=("(2, 3, 8)", "expects 2"))
    expect_error(ValueError, conv1d, np.ones(2), np.ones(3), match="^conv1d: kernel size 3 is larger than the padded input")
    expect_error(NonFiniteError, conv1d, np.array([1.0, np.nan, 2.0]), np.ones(2), match="^conv1d: x must be finite", also=("(1,)",))
    expect_error(ValueError, conv1d, np.ones(5), np.ones(3), pad_mode="reflect", match="^conv1d: pad mode")


# ---------------------------------------------------------------------------
# The wrong object: a clear TypeError naming the argument
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where, call",
    [
        ("fit", lambda m: cnnlib.fit(m, XS, YS, progress=False)),
        ("evaluate", lambda m: cnnlib.evaluate(m, XS, YS)),
        ("predict", lambda m: cnnlib.predict(m, XS)),
        ("save", lambda m: cnnlib.save(m, "never-written")),
        ("load", lambda m: cnnlib.load(m, "never-read")),
        ("gradcheck", lambda m: cnnlib.gradcheck(m, np.ones((1, 2)))),
    ],
    ids=["fit", "evaluate", "predict", "save", "load", "gradcheck"],
)
@pytest.mark.parametrize("bad, text", [("model", "str"), (Sequential, "the class Sequential"), ([Linear(2, 2)], "list")], ids=["str", "class", "list"])
def test_a_model_that_is_not_a_layer(where, call, bad, text):
    expect_error(TypeError, call, bad, match=f"{where}: (model|layer) must be a cnnlib Layer", also=(text,))


def test_issue_fit_with_the_wrong_objects():
    expect_error(TypeError, fit_quietly, validation_data=(XS, YS, YS), match=r"validation_data must be a pair \(x_val, y_val\)", also=("tuple of 3 items",))
    expect_error(TypeError, fit_quietly, validation_data=XS, match="validation_data must be a pair", also=("ndarray",))
    expect_error(TypeError, fit_quietly, seed="0", match="fit: seed must be None or an integer", also=("'0' (str)",))
    expect_error(TypeError, fit_quietly, optimizer=cnnlib.SGD, match="optimizer must be a cnnlib optimizer", also=("SGD",))
    expect_error(TypeError, fit_quietly, loss=CrossEntropyLoss, match=r"loss must be a loss object .* \(with the brackets\)")
    expect_error(TypeError, fit_quietly, callback="print", match=r"callback must be a function callback\(epoch, history\)", also=("'print' (str)",))
    expect_error(TypeError, fit_quietly, lr_schedule=0.1, match=r"lr_schedule must be a function", also=("0.1",))


def test_issue_an_optimizer_built_for_another_model():
    model, other = tiny_model(), tiny_model()
    before = {k: v.copy() for k, v in model.params.items()}
    err = expect_error(ValueError, fit_quietly, model, optimizer=cnnlib.SGD(other.parameters(), lr=0.1),
                       match="the optimizer updates 2 parameter\\(s\\) that are not this model's", also=("built for another model",))
    assert "call backward first" not in str(err)
    for k, v in model.params.items():
        np.testing.assert_array_equal(v, before[k])
    # an optimizer over part of the model (the rest frozen) is fine
    fit_quietly(model, optimizer=cnnlib.SGD(model[1].parameters(), lr=0.1))


def test_step_without_gradients_mentions_another_model():
    expect_error(RuntimeError, cnnlib.SGD(tiny_layer(), lr=0.1).step, match="call backward first", also=("another model",))


def test_other_wrong_objects():
    expect_error(TypeError, tiny_layer().astype, np.int32, match="Linear.astype: dtype must be a floating-point dtype", also=("int32",))
    expect_error(TypeError, tiny_layer().astype, "banana", match="dtype must be a floating-point dtype", also=("'banana'",))
    expect_error(TypeError, tiny_model().summary, "abc", match="input_shape must be a tuple of positive integers", also=("'abc'",))
    expect_error(TypeError, cnnlib.mnist_cnn, 16, match=r"channels must be a pair \(c1, c2\)", also=("16",))
    expect_error(TypeError, cnnlib.save, tiny_model(), 3, match="save: path must be a file name", also=("int",))
    expect_error(TypeError, cnnlib.load_mnist, 3, match="load_mnist: data_dir must be a folder name", also=("int",))
    expect_error(TypeError, cnnlib.download_mnist, mirrors="https://example.org/", match="mirrors must be a list of base URLs")
    expect_error(TypeError, cnnlib.relative_error, "a", "b", match="relative_error: a must hold real numbers")
    expect_error(TypeError, tiny_layer().load_state_dict, [1, 2], match="state must be a dict of arrays")


# ---------------------------------------------------------------------------
# numerical_gradient: float32 warns, f must return one finite number
# ---------------------------------------------------------------------------


def test_issue_numerical_gradient_of_float32_warns():
    x = np.array([1.0, 2.0], dtype=np.float32)
    with pytest.warns(UserWarning, match="numerical_gradient: x is float32.*off by percents.*float64"):
        g = cnnlib.numerical_gradient(lambda v: float((v**2).sum()), x)
    assert np.abs(g - [2.0, 4.0]).max() > 0.01  # the issue's point: float32 is percents off
    np.testing.assert_array_equal(x, [1.0, 2.0])  # restored
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(cnnlib.numerical_gradient(lambda v: float((v**2).sum()), x64), [2.0, 4.0], rtol=1e-8)


def test_numerical_gradient_of_float64_does_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cnnlib.numerical_gradient(lambda v: float(v.sum()), np.ones(3))
        cnnlib.gradcheck(Linear(2, 2, seed=0), np.ones((1, 2), dtype=np.float32))  # gradcheck works in float64


def test_numerical_gradient_needs_one_finite_number_from_f():
    expect_error(TypeError, cnnlib.numerical_gradient, "f", np.ones(2), match="f must be a function of x")
    expect_error(TypeError, cnnlib.numerical_gradient, lambda v: v * 2, np.ones(2), match="f must return one real number", also=("shape (2,)",))
    expect_error(TypeError, cnnlib.numerical_gradient, lambda v: "1.0", np.ones(2), match="f must return one real number", also=("'1.0'",))
    expect_error(ValueError, cnnlib.numerical_gradient, lambda v: float("nan") if v[0] < 0 else 1.0, np.zeros(2),
                 match=r"f returned nan at x.flat\[0\] - eps", also=("finite",))
    assert cnnlib.numerical_gradient(lambda v: np.float32(v.sum()), np.ones(2)).shape == (2,)  # a NumPy number is fine


# ---------------------------------------------------------------------------
# Labels for CrossEntropyLoss with a score per pixel: logits (N, C, H, W), labels (N, H, W)
# ---------------------------------------------------------------------------

PIXEL_LOGITS = np.zeros((2, 3, 4, 4))


@pytest.mark.parametrize("shape", [(2, 4, 5), (2, 4), (2,), (1, 4, 4), (2, 1, 4, 4, 1)])
def test_pixel_labels_of_the_wrong_shape(shape):
    expect_error(ValueError, CrossEntropyLoss().forward, PIXEL_LOGITS, np.zeros(shape, dtype=int),
                 match=re.escape("need labels of shape (N, H, W) = (2, 4, 4)"), also=(str(shape), "(2, 3, 4, 4)"))


def test_pixel_labels_out_of_range():
    labels = np.zeros((2, 4, 4), dtype=int)
    labels[1, 2, 3] = 3
    expect_error(ValueError, CrossEntropyLoss().forward, PIXEL_LOGITS, labels, match=re.escape("[0, 3)"), also=("e.g. 3", "3 classes", "1 out of range"))
    labels[1, 2, 3] = -1
    expect_error(ValueError, CrossEntropyLoss().forward, PIXEL_LOGITS, labels, match=re.escape("[0, 3)"), also=("e.g. -1",))


def test_pixel_labels_must_be_integers():
    expect_error(TypeError, CrossEntropyLoss().forward, PIXEL_LOGITS, np.zeros((2, 4, 4)), match="must be integers",
                 also=("float64", "(N, H, W) = (2, 4, 4)"))


def test_pixel_probabilities_must_sum_to_one_along_the_class_axis():
    target = np.full((2, 3, 4, 4), 0.25)  # sums to 0.75 along axis 1 (it would sum to 1 along the last axis)
    expect_error(ValueError, CrossEntropyLoss().forward, PIXEL_LOGITS, target, match="non-negative rows that sum to 1", also=("axis 1",))
    expect_error(ValueError, CrossEntropyLoss().forward, PIXEL_LOGITS, np.zeros((2, 4, 4, 3)), match="one-hot labels must have the logits' shape",
                 also=("(2, 3, 4, 4)", "(2, 4, 4, 3)"))


def test_pixel_logits_must_be_finite_and_non_empty():
    logits = PIXEL_LOGITS.copy()
    logits[0, 1, 2, 3] = np.nan
    expect_error(NonFiniteError, CrossEntropyLoss().forward, logits, np.zeros((2, 4, 4), dtype=int), match="NaN", also=("logits", "(0, 1, 2, 3)"))
    expect_error(ValueError, CrossEntropyLoss().forward, np.zeros((2, 3, 0, 4)), np.zeros((2, 0, 4), dtype=int), match="non-empty", also=("(2, 3, 0, 4)",))
