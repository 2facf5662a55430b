"""The exercise checks: the reference passes, deliberately wrong answers are caught and named.

Each wrong implementation below is a mistake a student could plausibly make
(an off-by-one stride, forgotten padding, a gradient routed to a whole pooling
window, softmax without the max shift, batch norm over the wrong axes, ...). The
test requires the check to fail, to name the case that exposes the mistake in
its printed feedback, and never to crash.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import numpy as np
import pytest

import cnnlib.functional as F
from cnnlib import checks
from cnnlib.checks import batchnorm as batchnorm_checks
from cnnlib.checks import mnist as mnist_checks
from cnnlib.checks import padding as padding_checks
from cnnlib.layers import Linear, Sequential, Flatten
from cnnlib.losses import CrossEntropyLoss

# --------------------------------------------------------------------------
# Correct answers (the reference, wrapped to the exercises' signatures)
# --------------------------------------------------------------------------


def _ce_backward(z, y):
    loss = CrossEntropyLoss()
    loss.forward(z, y)
    return loss.backward()


def _running(rm, rv, x, momentum=0.1):
    return (1 - momentum) * rm + momentum * x.mean(axis=(0, 2, 3)), (1 - momentum) * rv + momentum * x.var(axis=(0, 2, 3), ddof=1)


REFERENCE = {
    "conv2d_single": lambda x, k: F.conv2d(x, k),
    "conv2d": lambda x, w, b=None, stride=1, padding=0: F.conv2d(x, w, b, stride=stride, padding=padding),
    "im2col": lambda x, kh, kw: np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2)).transpose(
        1, 2, 0, 3, 4).reshape((x.shape[1] - kh + 1) * (x.shape[2] - kw + 1), -1),
    "conv2d_im2col": lambda x, w, b=None: F.conv2d(x, w, b),
    "output_size": lambda n, kernel_size, stride=1, padding=0: F.conv_output_size(n, kernel_size, stride, padding),
    "conv_output_shape": lambda s, o, k, stride=1, padding=0: (
        s[0], o, F.conv_output_size(s[2], k, stride, padding), F.conv_output_size(s[3], k, stride, padding)),
    "conv_param_count": lambda i, o, k, bias=True: o * i * (k * k if isinstance(k, int) else k[0] * k[1]) + (o if bias else 0),
    "pad_zeros": lambda x, p: F.pad2d(x, p),
    "pad_edge": lambda x, p: F.pad2d(x, p, "edge"),
    "same_padding": lambda n, k, stride=1: padding_checks._same_pads(n, k, stride),
    "relu": F.relu,
    "relu_backward": lambda dy, x: dy * (x > 0),
    "sigmoid": F.sigmoid,
    "sigmoid_backward": lambda dy, x: dy * F.sigmoid(x) * (1 - F.sigmoid(x)),
    "tanh": F.tanh,
    "tanh_backward": lambda dy, x: dy * (1 - np.tanh(x) ** 2),
    "max_pool2d": F.max_pool2d,
    "max_pool2d_backward": F.max_pool2d_backward,
    "avg_pool2d": F.avg_pool2d,
    "avg_pool2d_backward": F.avg_pool2d_backward,
    "softmax": F.softmax,
    "cross_entropy": lambda z, y: CrossEntropyLoss().forward(z, y),
    "cross_entropy_backward": _ce_backward,
    "flatten": lambda x: F.flatten(x, 1),
    "flatten_backward": lambda dy, shape: dy.reshape(shape),
    "batchnorm_forward": lambda x, g, b, eps=1e-5: batchnorm_checks._bn_forward(x, g, b, eps),
    "batchnorm_backward": lambda dy, x, g, eps=1e-5: batchnorm_checks._bn_backward(dy, x, g, eps),
    "running_stats": _running,
    "conv2d_grad_weight": lambda dy, x, w, stride=1, padding=0: F.conv2d_backward(dy, x, w, stride, padding)[1:],
    "conv2d_grad_input": lambda dy, x, w, stride=1, padding=0: F.conv2d_backward(dy, x, w, stride, padding)[0],
    "dropout_forward": lambda x, p, keep, training=True: mnist_checks._dropout_reference(x, p, keep, training),
    "dropout_backward": lambda dy, p, keep: dy * keep / (1 - p),
}

ALL_CHECKS = sorted(n[len("check_"):] for n in checks.__all__ if n.startswith("check_") and n != "check_mnist_cnn")


def test_every_check_has_a_reference():
    assert sorted(REFERENCE) == ALL_CHECKS


@pytest.mark.parametrize("name", ALL_CHECKS)
def test_reference_passes(name, capsys):
    result = getattr(checks, f"check_{name}")(REFERENCE[name])
    out = capsys.readouterr().out
    assert result.status == checks.PASSED, out
    assert result.passed and not result.failed_cases and len(result.cases) >= 2
    assert out.startswith(f"PASSED  {name}:")


@pytest.mark.parametrize("name", ALL_CHECKS)
def test_stub_is_not_implemented(name, capsys):
    def stub(*args, **kwargs):
        # YOUR CODE HERE
        raise NotImplementedError

    result = getattr(checks, f"check_{name}")(stub)
    assert result.status == checks.NOT_IMPLEMENTED and result.not_implemented
    assert capsys.readouterr().out.startswith(f"NOT IMPLEMENTED  {name}:")


@pytest.mark.parametrize("name", ALL_CHECKS)
def test_unexpected_exception_is_a_failure_not_a_crash(name, capsys):
    def broken(*args, **kwargs):
        return [1, 2][5]

    result = getattr(checks, f"check_{name}")(broken)
    out = capsys.readouterr().out
    assert result.status == checks.FAILED
    assert "IndexError: list index out of range" in out
    assert "return [1, 2][5]" in out  # the offending line is shown


def test_returning_none_and_passing_a_result_instead_of_a_function(capsys):
    result = checks.check_relu(lambda x: None)
    assert result.status == checks.FAILED and "forget the `return`" in capsys.readouterr().out
    result = checks.check_relu(np.zeros(3))
    assert result.status == checks.FAILED and "Pass the function itself" in capsys.readouterr().out


def test_verbose_false_prints_nothing(capsys):
    result = checks.check_relu(F.relu, verbose=False)
    assert result.passed and capsys.readouterr().out == ""


def test_partial_not_implemented_is_a_failure(capsys):
    def half_done(x, w, b=None, stride=1, padding=0):
        if padding:
            raise NotImplementedError("padding comes later")
        return F.conv2d(x, w, b, stride=stride)

    result = checks.check_conv2d(half_done)
    assert result.status == checks.FAILED
    assert "padding" in result.failed_case_ids and "one_channel" not in result.failed_case_ids


def test_result_summary_and_log():
    before = len(checks.grading_log())
    result = checks.check_relu(lambda x: np.maximum(x, 0.5), verbose=False)
    log = checks.grading_log()
    assert len(log) == before + 1
    assert log[-1] == result.summary()
    assert json.loads(checks.grading_log_json()) == log
    log.clear()  # a copy: the log itself is untouched
    assert len(checks.grading_log()) == before + 1
    assert result.summary()["status"] == "failed" and result.summary()["first_failure"] == "mixed"
    assert "failed" in repr(result)


# --------------------------------------------------------------------------
# The grading interface: the registry and the check calls in a cell
# --------------------------------------------------------------------------


def test_the_registry_holds_every_check_by_its_exercise_name():
    in_all = [n for n in checks.__all__ if n.startswith("check_")]
    assert list(checks.CHECKS) == [n[len("check_"):] for n in in_all]  # every one, in notebook order
    for name, check in checks.CHECKS.items():
        assert check is getattr(checks, f"check_{name}") and check.__name__ == f"check_{name}"
    assert sorted(set(checks.CHECKS) - {"mnist_cnn"}) == ALL_CHECKS
    # and no check_* written in a module of the package is left out of it
    for info in pkgutil.iter_modules(checks.__path__):
        module = importlib.import_module(f"cnnlib.checks.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("check_") and inspect.isfunction(obj) and obj.__module__ == module.__name__:
                assert checks.CHECKS.get(name[len("check_"):]) is obj, f"{module.__name__}.{name} is not registered"


def test_every_public_name_resolves():
    for name in checks.__all__:
        assert hasattr(checks, name), name
    assert len(set(checks.__all__)) == len(checks.__all__)


@pytest.mark.parametrize("source,found", [
    ("checks.check_relu(my_relu)", ["relu"]),
    ("check_relu(f)", ["relu"]),
    ("from cnnlib.checks import check_relu\nresult = check_relu(f)", ["relu"]),
    ("import cnnlib\ncnnlib.checks.check_mnist_cnn(train, target_accuracy=0.9)", ["mnist_cnn"]),
    ("print(checks.check_tanh(t), check_relu(r))\nchecks.check_tanh(t);", ["tanh", "relu", "tanh"]),  # order, repeats
    ("checks.check_relu (\n    relu,\n)", ["relu"]),
    # not calls of a registered check
    ('print("check_relu(f)")', []),
    ("x = 1  # check_relu(f)", []),
    ('def helper():\n    """Then run check_relu(f)."""\n    return 1', []),
    ("'''\ncheck_relu(f)\n'''", []),
    ("f = checks.check_relu", []),
    ("def check_relu(f):\n    return f", []),
    ("checks.check_banana(f)", []),
    ("check_relus(f)", []),
    # not valid Python: read token by token, still without strings and comments
    ("%time checks.check_relu(relu)", ["relu"]),
    ("checks.check_relu(relu", ["relu"]),
    ("!ls\ncheck_flatten(f)  # check_relu(f)", ["flatten"]),
    ('%time x = "check_relu(f)"  # check_tanh(t)', []),
    ("def check_relu(f)\n    return f", []),
])
def test_find_check_calls(source, found):
    assert checks.find_check_calls(source) == found


# --------------------------------------------------------------------------
# Wrong implementations, written the way a student might
# --------------------------------------------------------------------------


def conv2d_loop(x, w, b=None, stride=1, padding=0, bug=None):
    """A loop convolution with one deliberate mistake selected by ``bug``."""
    if bug == "flipped":
        w = w[..., ::-1, ::-1]
    if bug == "transposed":
        w = w.transpose(0, 1, 3, 2)
    if bug != "no_padding":
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    s = stride
    if bug == "ceil":
        OH, OW = -(-(H - kh) // s) + 1, -(-(W - kw) // s) + 1
    elif bug == "off_by_one_stride":  # for i in range(0, H - kh, stride): misses the last position
        OH, OW = len(range(0, H - kh, s)), len(range(0, W - kw, s))
    else:
        OH, OW = (H - kh) // s + 1, (W - kw) // s + 1
    y = np.zeros((N, O, OH, OW))
    for n in range(N):
        for o in range(O):
            for i in range(OH):
                for j in range(OW):
                    r, c = i * s, j * s
                    if bug == "stride_ignored":
                        r, c = i, j
                    win = x[n, :, r:r + kh, c:c + kw]
                    if bug == "first_channel_only":
                        y[n, o, i, j] = np.sum(win[0] * w[o, 0])
                    else:
                        y[n, o, i, j] = np.sum(win * w[o])
                    if b is not None and bug != "no_bias":
                        y[n, o, i, j] += b[o]
    return y


def conv2d_single_loop(x, k, bug=None):
    y = conv2d_loop(x[None, None], k[None, None], bug=bug)[0, 0]
    if bug == "short_range":
        return y[:-1, :-1]
    return y


def conv2d_single_rows_cols_swapped(x, k):
    H, W = x.shape
    kh, kw = k.shape
    y = np.zeros((W - kw + 1, H - kh + 1))
    for i in range(W - kw + 1):
        for j in range(H - kh + 1):
            y[i, j] = np.sum(x[j:j + kh, i:i + kw] * k)
    return y


def max_pool_loop(x, kernel_size, stride=None, bug=None):
    k = kernel_size
    s = k if stride is None else stride
    if bug == "default_stride_1" and stride is None:
        s = 1
    N, C, H, W = x.shape
    OH, OW = (H - k) // s + 1, (W - k) // s + 1
    if bug == "ceil":
        OH, OW = -(-(H - k) // s) + 1, -(-(W - k) // s) + 1
    y = np.zeros((N, C, OH, OW))
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    win = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    if bug == "max_starts_at_zero":
                        best = 0.0
                        for v in win.ravel():
                            best = max(best, v)
                        y[n, c, i, j] = best
                    elif bug == "avg_divides_by_k":
                        y[n, c, i, j] = win.sum() / k
                    elif bug == "avg_divides_by_stride":
                        y[n, c, i, j] = win.sum() / (s * s)
                    elif bug == "avg":
                        y[n, c, i, j] = win.mean()
                    else:
                        y[n, c, i, j] = win.max()
    return y


def avg_pool_loop(x, kernel_size, stride=None, bug=None):
    return max_pool_loop(x, kernel_size, stride, bug=bug or "avg")


def max_pool_backward_loop(dy, x, kernel_size, stride=None, bug=None):
    k = kernel_size
    s = k if stride is None else stride
    dx = np.zeros_like(x)
    N, C, OH, OW = dy.shape
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    win = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    g = dy[n, c, i, j]
                    target = dx[n, c, i * s:i * s + k, j * s:j * s + k]
                    if bug == "whole_window":
                        target += g
                    elif bug == "all_ties":
                        target += g * (win == win.max())
                    elif bug == "average":
                        target += g / (k * k)
                    elif bug == "no_dy":
                        p, q = np.unravel_index(np.argmax(win), win.shape)
                        target[p, q] += 1.0
                    elif bug == "assign":
                        p, q = np.unravel_index(np.argmax(win), win.shape)
                        target[p, q] = g
                    elif bug == "last_max":
                        flat = win.ravel()
                        idx = len(flat) - 1 - int(np.argmax(flat[::-1]))
                        target[idx // k, idx % k] += g
                    else:
                        p, q = np.unravel_index(np.argmax(win), win.shape)
                        target[p, q] += g
    return dx


def avg_pool_backward_loop(dy, x, kernel_size, stride=None, bug=None):
    k = kernel_size
    s = k if stride is None else stride
    dx = np.zeros_like(x)
    N, C, OH, OW = dy.shape
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    sl = (n, c, slice(i * s, i * s + k), slice(j * s, j * s + k))
                    if bug == "no_division":
                        dx[sl] += dy[n, c, i, j]
                    elif bug == "assign":
                        dx[sl] = dy[n, c, i, j] / (k * k)
                    elif bug == "divides_by_k":
                        dx[sl] += dy[n, c, i, j] / k
                    else:
                        dx[sl] += dy[n, c, i, j] / (k * k)
    return dx


def softmax_no_shift(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_global_max(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=1, keepdims=True)


def softmax_wrong_axis(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_no_keepdims(z):
    e = np.exp(z - z.max(axis=1))  # (N, C) - (N,) broadcasts along the wrong axis when N == C
    return e / e.sum(axis=1)


def ce_log_of_softmax(z, y):
    p = F.softmax(z)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def ce_sum(z, y):
    return -F.log_softmax(z)[np.arange(len(y)), y].sum()


def ce_no_minus(z, y):
    return F.log_softmax(z)[np.arange(len(y)), y].mean()


def ce_per_example(z, y):
    return -F.log_softmax(z)[np.arange(len(y)), y]


def ce_backward(z, y, bug=None):
    p = softmax_no_shift(z) if bug == "no_shift" else F.softmax(z)
    onehot = np.zeros_like(z)
    onehot[np.arange(len(y)), y] = 1
    if bug == "sign":
        return (onehot - p) / len(y)
    if bug == "no_mean":
        return p - onehot
    return (p - onehot) / len(y)


def bn_forward(x, gamma, beta, eps=1e-5, axes=(0, 2, 3), ddof=0, eps_outside=False, ignore_gamma=False):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    xhat = (x - mean) / std
    if ignore_gamma:
        return xhat
    return gamma.reshape(1, -1, 1, 1) * xhat + beta.reshape(1, -1, 1, 1)


def bn_backward(dy, x, gamma, eps=1e-5, bug=None):
    axes = (0, 1) if bug == "wrong_axes" else (0, 2, 3)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(var + eps)
    xhat = (x - mean) * inv
    g = gamma.reshape(1, -1, 1, 1)
    dbeta = dy.sum(axis=(0, 2, 3))
    dgamma = (dy * xhat).sum(axis=(0, 2, 3))
    if bug == "constant_stats":
        return dy * g * inv, dgamma, dbeta
    if bug == "dgamma_no_xhat":
        dgamma = dy.sum(axis=(0, 2, 3))
    if bug == "means":
        dgamma, dbeta = (dy * xhat).mean(axis=(0, 2, 3)), dy.mean(axis=(0, 2, 3))
    dx = g * inv * (dy - dy.mean(axis=axes, keepdims=True) - xhat * (dy * xhat).mean(axis=axes, keepdims=True))
    return dx, dgamma, dbeta


def conv_grads_loop(dy, x, w, stride=1, padding=0, bug=None):
    """(dx, dw, db) by revisiting every kernel position, with one deliberate mistake."""
    p, s = padding, stride
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros(w.shape[0])
    N, O, OH, OW = dy.shape
    kh, kw = w.shape[2:]
    wk = w[..., ::-1, ::-1] if bug == "flipped" else w
    for n in range(N):
        for o in range(O):
            for i in range(OH):
                for j in range(OW):
                    r, c = (i, j) if bug == "stride_ignored" else (i * s, j * s)
                    g = dy[n, o, i, j]
                    if bug == "dw_assign":
                        dw[o] = g * xp[n, :, r:r + kh, c:c + kw]
                    else:
                        dw[o] += g * xp[n, :, r:r + kh, c:c + kw]
                    if bug == "dx_assign":
                        dxp[n, :, r:r + kh, c:c + kw] = g * wk[o]
                    elif bug == "first_filter_only" and o > 0:
                        pass
                    else:
                        dxp[n, :, r:r + kh, c:c + kw] += g * wk[o]
                    if bug != "db_first_image" or n == 0:
                        db[o] += g
    if bug == "dw_mean":
        dw /= N * OH * OW
        db /= N * OH * OW
    dx = dxp if bug == "no_crop" else dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]]
    if bug == "crop_wrong_side":
        dx = dxp[:, :, : x.shape[2], : x.shape[3]]
    return dx, dw, db


def _inplace_relu(x):
    x[x < 0] = 0
    return x


def _naive_sigmoid_with_overflow_dx(dy, x):
    s = 1 / (1 + np.exp(-x))
    return dy * s * (1 - s)


def _naive_tanh(x):
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


def _ints_size(n, kernel_size, stride=1, padding=0):
    return (n + 2 * padding - kernel_size) / stride + 1


def _edge_reflect(x, p):
    ph, pw = (p, p) if isinstance(p, int) else p
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="reflect")


def _pad_swapped(x, p, mode="constant"):
    ph, pw = (p, p) if isinstance(p, int) else p
    return np.pad(x, ((0, 0), (0, 0), (pw, pw), (ph, ph)), mode=mode)


def _pad_one_side(x, p):
    ph, pw = (p, p) if isinstance(p, int) else p
    return np.pad(x, ((0, 0), (0, 0), (0, 2 * ph), (0, 2 * pw)))


def _pad_every_axis(x, p):
    ph, pw = (p, p) if isinstance(p, int) else p
    return np.pad(x, ((ph, ph), (ph, ph), (ph, ph), (pw, pw)))


# (check, wrong function, a case that must fail, short description)
WRONG = [
    # 01 convolution
    ("conv2d_single", lambda x, k: conv2d_single_loop(x, k, "flipped"), "lecture_example", "true convolution (kernel flipped)"),
    ("conv2d_single", lambda x, k: conv2d_single_loop(x, k, "transposed"), "square_3x3", "kernel transposed"),
    ("conv2d_single", lambda x, k: conv2d_single_loop(x, k, "short_range"), "kernel_as_big_as_image", "range(H - kh) off by one"),
    ("conv2d_single", conv2d_single_rows_cols_swapped, "non_square", "rows and columns swapped"),
    ("conv2d", lambda x, w, b=None, stride=1, padding=0: conv2d_loop(x, w, b, stride, padding, "off_by_one_stride"), "stride", "off-by-one stride"),
    ("conv2d", lambda x, w, b=None, stride=1, padding=0: conv2d_loop(x, w, b, stride, padding, "stride_ignored"), "stride", "stride ignored"),
    ("conv2d", lambda x, w, b=None, stride=1, padding=0: conv2d_loop(x, w, b, stride, padding, "no_padding"), "padding", "padding forgotten"),
    ("conv2d", lambda x, w, b=None, stride=1, padding=0: conv2d_loop(x, w, b, stride, padding, "no_padding"), "stride_and_padding", "padding forgotten"),
    ("conv2d", lambda x, w, b=None, stride=1, padding=0: conv2d_loop(x, w, b, stride, padding, "ceil"), "stride_and_padding", "output size rounded up"),
    ("conv2d", lambda x, w, b=None, stride=1, padding=0: conv2d_loop(x, w, b, stride, padding, "flipped"), "one_channel", "true convolution (kernel flipped)"),
    ("conv2d", lambda x, w, b=None, stride=1, padding=0: conv2d_loop(x, w, b, stride, padding, "transposed"), "one_channel", "kernel transposed"),
    ("conv2d", lambda x, w, b=None, stride=1, padding=0: conv2d_loop(x, w, b, stride, padding, "no_bias"), "multi_channel", "bias missing"),
    ("conv2d", lambda x, w, b=None, stride=1, padding=0: conv2d_loop(x, w, b, stride, padding, "first_channel_only"), "multi_channel", "channels not summed"),
    # 02 sizes and parameters
    ("output_size", lambda n, kernel_size, stride=1, padding=0: -(-(n + 2 * padding - kernel_size) // stride) + 1, "stride2_pad1_even_floor", "ceil instead of floor"),
    ("output_size", lambda n, kernel_size, stride=1, padding=0: (n + 2 * padding - kernel_size) // stride, "same_28_k3_p1", "+1 missing"),
    ("output_size", lambda n, kernel_size, stride=1, padding=0: (n + padding - kernel_size) // stride + 1, "same_28_k3_p1", "padding on one side"),
    ("output_size", _ints_size, "same_28_k3_p1", "float division"),
    ("conv_output_shape", lambda s, o, k, stride=1, padding=0: (s[0], s[1], (s[2] + 2 * padding - k) // stride + 1, (s[3] + 2 * padding - k) // stride + 1), "mnist_first_layer", "keeps the input channels"),
    ("conv_output_shape", lambda s, o, k, stride=1, padding=0: (s[0], o, (s[3] + 2 * padding - k) // stride + 1, (s[2] + 2 * padding - k) // stride + 1), "non_square", "H and W swapped"),
    ("conv_output_shape", lambda s, o, k, stride=1, padding=0: (o, (s[2] + 2 * padding - k) // stride + 1, (s[3] + 2 * padding - k) // stride + 1), "mnist_first_layer", "batch axis forgotten"),
    ("conv_param_count", lambda i, o, k, bias=True: o * i * k * k if isinstance(k, int) else o * i * k[0] * k[1], "mnist_first_layer", "bias missing"),
    ("conv_param_count", lambda i, o, k, bias=True: (o * (k * k if isinstance(k, int) else k[0] * k[1]) + (o if bias else 0)), "mnist_second_layer", "in_channels forgotten"),
    ("conv_param_count", lambda i, o, k, bias=True: o * i * (k * k if isinstance(k, int) else k[0] * k[0]) + (o if bias else 0), "non_square_kernel", "(kh, kw) read as kh*kh"),
    ("conv_param_count", lambda i, o, k, bias=True: o * i * (k * k if isinstance(k, int) else k[0] * k[1]) + o, "no_bias", "bias=False ignored"),
    # 03 padding
    ("pad_zeros", _pad_one_side, "one_pixel", "all padding on one side"),
    ("pad_zeros", _pad_every_axis, "one_pixel", "batch and channel axes padded too"),
    ("pad_zeros", _pad_swapped, "rows_and_cols", "(ph, pw) swapped"),
    ("pad_zeros", lambda x, p: F.pad2d(x, p, "edge"), "one_pixel", "edge instead of zeros"),
    ("pad_edge", lambda x, p: F.pad2d(x, p), "one_pixel", "zeros instead of edge"),
    ("pad_edge", _edge_reflect, "one_pixel", "reflect instead of edge"),
    ("pad_edge", lambda x, p: np.pad(x, ((0, 0), (0, 0), ((p, p) if isinstance(p, int) else (p[0], p[0])), ((p, p) if isinstance(p, int) else (p[1], p[1]))), mode="symmetric"), "two_pixels_non_square", "symmetric instead of edge"),
    ("pad_edge", lambda x, p: _pad_swapped(x, p, "edge"), "rows_and_cols", "(ph, pw) swapped"),
    ("same_padding", lambda n, k, stride=1: ((k - 1) // 2, (k - 1) // 2), "even_kernel", "(k - 1) // 2 each side"),
    ("same_padding", lambda n, k, stride=1: ((k - 1) // 2, (k - 1) // 2), "stride2_even_n", "stride ignored"),
    ("same_padding", lambda n, k, stride=1: ((k - 1) - (k - 1) // 2, (k - 1) // 2), "even_kernel", "odd one before"),
    # 04 activations
    ("relu", lambda x: np.clip(x, 0, 1), "mixed", "clipped at 1 as well"),
    ("relu", lambda x: np.maximum(x[..., :1], 0) * np.ones_like(x) if x.ndim == 4 else np.maximum(x, 0), "batch_4d", "wrong for 4-D input"),
    ("relu", _inplace_relu, "mixed", "modifies its input in place"),
    ("relu", lambda x: x * (x > 0) + 0.01 * x * (x <= 0), "mixed", "leaky ReLU"),
    ("relu_backward", lambda dy, x: dy * (x >= 0), "mixed", "derivative 1 at x == 0"),
    ("relu_backward", lambda dy, x: (x > 0).astype(float), "mixed", "dy forgotten"),
    ("relu_backward", lambda dy, x: dy * (dy > 0), "numerical", "mask from dy"),
    ("relu_backward", lambda dy, x: dy * (x != 0), "mixed", "gradient passed through below zero"),
    ("relu_backward", lambda dy, x: dy * (x > 0) + 0.01 * dy * (x <= 0), "numerical", "leaky ReLU's derivative"),
    ("sigmoid", lambda x: np.exp(x) / (1 + np.exp(x)), "large_inputs", "overflowing form exp(x) / (1 + exp(x))"),
    ("sigmoid", lambda x: 1 / (1 + np.exp(x)), "mixed", "sign of the exponent"),
    ("sigmoid_backward", lambda dy, x: dy * x * (1 - x), "mixed", "x * (1 - x)"),
    ("sigmoid_backward", lambda dy, x: dy * F.sigmoid(x), "mixed", "sigmoid instead of its derivative"),
    ("sigmoid_backward", lambda dy, x: F.sigmoid(x) * (1 - F.sigmoid(x)), "numerical", "dy forgotten"),
    ("tanh", _naive_tanh, "large_inputs", "overflow: inf / inf = nan"),
    ("tanh", lambda x: np.sinh(x) / np.cosh(x), "large_inputs", "sinh / cosh overflows"),
    ("tanh", F.sigmoid, "mixed", "sigmoid instead of tanh"),
    ("tanh", lambda x: 2 * F.sigmoid(x) - 1, "mixed", "2 sigmoid(x) - 1 (needs 2x)"),
    ("tanh_backward", lambda dy, x: dy * (1 - x ** 2), "mixed", "1 - x**2"),
    ("tanh_backward", lambda dy, x: dy * (1 - np.tanh(x)), "numerical", "square missing"),
    # 05 pooling
    ("max_pool2d", lambda x, k, stride=None: max_pool_loop(x, k, stride, "max_starts_at_zero"), "all_negative", "maximum starts at 0"),
    ("max_pool2d", lambda x, k, stride=None: max_pool_loop(x, k, stride, "default_stride_1"), "worked_example", "default stride 1"),
    ("max_pool2d", lambda x, k, stride=None: max_pool_loop(x, k, 1 if stride else None), "overlapping", "stride argument ignored"),
    ("max_pool2d", lambda x, k, stride=None: max_pool_loop(x, k, stride, "ceil"), "leftover", "output size rounded up"),
    ("max_pool2d", lambda x, k, stride=None: max_pool_loop(x, k, stride, "avg"), "worked_example", "average instead of max"),
    ("max_pool2d_backward", lambda dy, x, k, stride=None: max_pool_backward_loop(dy, x, k, stride, "whole_window"), "worked_example", "gradient to every element of the window"),
    ("max_pool2d_backward", lambda dy, x, k, stride=None: max_pool_backward_loop(dy, x, k, stride, "assign"), "shared_maximum", "= instead of += with overlapping windows"),
    ("max_pool2d_backward", lambda dy, x, k, stride=None: max_pool_backward_loop(dy, x, k, stride, "all_ties"), "ties", "gradient to every tied maximum"),
    ("max_pool2d_backward", lambda dy, x, k, stride=None: max_pool_backward_loop(dy, x, k, stride, "last_max"), "ties", "last maximum instead of first"),
    ("max_pool2d_backward", lambda dy, x, k, stride=None: max_pool_backward_loop(dy, x, k, stride, "average"), "worked_example", "average pooling's gradient"),
    ("max_pool2d_backward", lambda dy, x, k, stride=None: max_pool_backward_loop(dy, x, k, stride, "no_dy"), "worked_example", "dy forgotten"),
    ("max_pool2d_backward", lambda dy, x, k, stride=None: max_pool_backward_loop(dy, x, k, None), "overlapping", "stride ignored"),
    ("avg_pool2d", lambda x, k, stride=None: max_pool_loop(x, k, stride, "avg_divides_by_k"), "worked_example", "divides by k, not k*k"),
    ("avg_pool2d", lambda x, k, stride=None: max_pool_loop(x, k, stride, "avg_divides_by_stride"), "overlapping", "divides by stride**2"),
    ("avg_pool2d", lambda x, k, stride=None: max_pool_loop(x, k, stride, "ceil"), "leftover", "output size rounded up"),
    ("avg_pool2d", lambda x, k, stride=None: max_pool_loop(x, k, stride), "worked_example", "max instead of average"),
    ("avg_pool2d_backward", lambda dy, x, k, stride=None: avg_pool_backward_loop(dy, x, k, stride, "no_division"), "worked_example", "share not divided"),
    ("avg_pool2d_backward", lambda dy, x, k, stride=None: avg_pool_backward_loop(dy, x, k, stride, "assign"), "overlapping", "= instead of +="),
    ("avg_pool2d_backward", lambda dy, x, k, stride=None: avg_pool_backward_loop(dy, x, k, stride, "divides_by_k"), "numerical", "divides by k, not k*k"),
    # 06 softmax, cross-entropy, flatten
    ("softmax", softmax_no_shift, "large_logits", "no max shift (overflow to nan)"),
    ("softmax", softmax_no_shift, "very_negative", "no max shift (0 / 0)"),
    ("softmax", softmax_global_max, "rows_far_apart", "the maximum of the whole batch"),
    ("softmax", softmax_wrong_axis, "batch", "normalised over the wrong axis"),
    ("softmax", softmax_no_keepdims, "square_batch", "keepdims forgotten"),
    ("cross_entropy", ce_log_of_softmax, "large_logits", "log of an underflowed probability"),
    ("cross_entropy", ce_sum, "batch", "sum instead of mean"),
    ("cross_entropy", ce_no_minus, "one_row", "minus sign missing"),
    ("cross_entropy", ce_per_example, "batch", "per-example losses instead of the mean"),
    ("cross_entropy", lambda z, y: -F.log_softmax(z)[0, y].mean(), "batch", "first row only"),
    ("cross_entropy_backward", lambda z, y: ce_backward(z, y, "no_mean"), "batch", "division by N missing"),
    ("cross_entropy_backward", lambda z, y: ce_backward(z, y, "sign"), "one_row", "sign flipped"),
    ("cross_entropy_backward", lambda z, y: ce_backward(z, y, "no_shift"), "large_logits", "softmax without the max shift"),
    ("flatten", lambda x: x.transpose(0, 2, 3, 1).reshape(x.shape[0], -1), "small", "channels-last order"),
    ("flatten", lambda x: x.reshape(-1), "small", "batch axis flattened too"),
    ("flatten", lambda x: x.reshape(x.shape[0], -1, order="F"), "small", "Fortran order"),
    ("flatten", lambda x: x.reshape(-1, x.shape[0]), "small", "reshape(-1, N)"),
    ("flatten_backward", lambda dy, shape: dy.reshape(shape[0], shape[2], shape[3], shape[1]).transpose(0, 3, 1, 2), "small", "channels-last order"),
    ("flatten_backward", lambda dy, shape: dy.reshape(shape, order="F"), "small", "Fortran order"),
    # 07 batch norm
    ("batchnorm_forward", lambda x, g, b, eps=1e-5: bn_forward(x, g, b, eps, axes=(0,)), "per_channel", "statistics over the batch axis only"),
    ("batchnorm_forward", lambda x, g, b, eps=1e-5: bn_forward(x, g, b, eps, axes=(0, 1)), "per_channel", "statistics over (N, C)"),
    ("batchnorm_forward", lambda x, g, b, eps=1e-5: bn_forward(x, g, b, eps, axes=(2, 3)), "per_channel", "statistics per image (instance norm)"),
    ("batchnorm_forward", lambda x, g, b, eps=1e-5: bn_forward(x, g, b, eps, axes=(0, 1, 2, 3)), "per_channel", "statistics over everything"),
    ("batchnorm_forward", lambda x, g, b, eps=1e-5: bn_forward(x, g, b, eps, ddof=1), "small_batch", "unbiased variance"),
    ("batchnorm_forward", lambda x, g, b, eps=1e-5: bn_forward(x, g, b, eps, eps_outside=True), "tiny_variance", "eps outside the square root"),
    ("batchnorm_forward", lambda x, g, b, eps=1e-5: bn_forward(x, g, b, eps, ignore_gamma=True), "gamma_beta", "gamma and beta ignored"),
    ("batchnorm_backward", lambda dy, x, g, eps=1e-5: bn_backward(dy, x, g, eps, "constant_stats"), "per_channel", "mean and variance treated as constants"),
    ("batchnorm_backward", lambda dy, x, g, eps=1e-5: bn_backward(dy, x, g, eps, "wrong_axes"), "per_channel", "wrong axes"),
    ("batchnorm_backward", lambda dy, x, g, eps=1e-5: bn_backward(dy, x, g, eps, "dgamma_no_xhat"), "per_channel", "dgamma without xhat"),
    ("batchnorm_backward", lambda dy, x, g, eps=1e-5: bn_backward(dy, x, g, eps, "means"), "numerical", "means instead of sums"),
    ("batchnorm_backward", lambda dy, x, g, eps=1e-5: bn_backward(dy, x, g, eps)[0], "per_channel", "only dx returned"),
    ("running_stats", lambda rm, rv, x, momentum=0.1: ((1 - momentum) * rm + momentum * x.mean(axis=(0, 2, 3)), (1 - momentum) * rv + momentum * x.var(axis=(0, 2, 3))), "small_batch", "biased variance"),
    ("running_stats", lambda rm, rv, x, momentum=0.1: (momentum * rm + (1 - momentum) * x.mean(axis=(0, 2, 3)), momentum * rv + (1 - momentum) * x.var(axis=(0, 2, 3), ddof=1)), "first_step", "momentum weights the old value"),
    ("running_stats", lambda rm, rv, x, momentum=0.1: _running(rm, rv, x, 0.1), "later_step", "momentum argument ignored"),
    ("running_stats", lambda rm, rv, x, momentum=0.1: ((1 - momentum) * rm + momentum * x.mean(axis=(0, 1, 2, 3)), (1 - momentum) * rv + momentum * x.var(axis=(0, 1, 2, 3), ddof=1)), "first_step", "wrong axes"),
    # 08 convolution backward
    ("conv2d_grad_weight", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "dw_assign")[1:], "single_channel", "dw assigned, not summed over positions"),
    ("conv2d_grad_weight", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "dw_mean")[1:], "single_channel", "average over positions"),
    ("conv2d_grad_weight", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "stride_ignored")[1:], "stride_and_padding", "stride ignored"),
    ("conv2d_grad_weight", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, 0)[1:] if padding else conv_grads_loop(dy, x, w)[1:], "stride_and_padding", "padding forgotten"),
    ("conv2d_grad_weight", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "db_first_image")[1:], "multi_channel_batch", "db from the first image only"),
    ("conv2d_grad_input", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "dx_assign")[0], "single_channel", "dx assigned, overlapping windows not summed"),
    ("conv2d_grad_input", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "flipped")[0], "one_position", "kernel flipped"),
    ("conv2d_grad_input", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "first_filter_only")[0], "multi_channel_batch", "only the first filter"),
    ("conv2d_grad_input", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "no_crop")[0], "stride_and_padding", "padding not cropped"),
    ("conv2d_grad_input", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "crop_wrong_side")[0], "stride_and_padding", "cropped on the wrong side"),
    ("conv2d_grad_input", lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "stride_ignored")[0], "stride_and_padding", "stride ignored"),
]


@pytest.mark.parametrize("name,wrong,case,what", WRONG, ids=[f"{n}-{w}" for n, _, _, w in WRONG])
def test_wrong_implementation_is_caught(name, wrong, case, what, capsys):
    result = getattr(checks, f"check_{name}")(wrong)
    out = capsys.readouterr().out
    assert result.status == checks.FAILED, f"{what}: not caught\n{out}"
    assert case in result.failed_case_ids, f"{what}: expected case {case!r} to fail; failed {result.failed_case_ids}\n{out}"
    assert f"'{case}'" in out  # the feedback names the case
    first = result.failed_cases[0]
    assert first.hint, "every failure comes with a hint"
    assert f"FAILED case '{first.id}'" in out and "hint:" in out


def test_feedback_shows_expected_received_and_hint(capsys):
    checks.check_max_pool2d_backward(lambda dy, x, k, stride=None: max_pool_backward_loop(dy, x, k, stride, "whole_window"))
    out = capsys.readouterr().out
    assert "FAILED case 'worked_example'" in out
    assert "expected dx:" in out and "received dx:" in out and "first difference at dx[" in out
    assert "every input of a window received the window's gradient" in out  # the diagnosis
    assert "hint: each window sends its dy to the one input that was its maximum" in out


def test_overflow_is_reported_not_raised(capsys):
    # Under pytest, RuntimeWarning is an error; the check must still report, not raise.
    result = checks.check_softmax(softmax_no_shift)
    out = capsys.readouterr().out
    assert result.failed_case_ids == ["large_logits", "very_negative", "rows_far_apart"]
    assert "NaN or infinite" in out and "NumPy warned:" in out and "overflow encountered in exp" in out


def test_right_answer_with_numpy_warning_passes_with_a_note(capsys):
    result = checks.check_sigmoid(lambda x: 1 / (1 + np.exp(-x)))
    out = capsys.readouterr().out
    assert result.passed and "NumPy warned: overflow" in out


def test_feedback_is_compact_for_large_arrays(capsys):
    checks.check_conv2d_grad_input(lambda dy, x, w, stride=1, padding=0: conv_grads_loop(dy, x, w, stride, padding, "first_filter_only")[0])
    out = capsys.readouterr().out
    assert "one slice of (2, 3, 5, 5)" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert len(out.splitlines()) < 40


def test_float_instead_of_int_gets_a_specific_hint(capsys):
    checks.check_output_size(_ints_size)
    assert "a float; return an int" in capsys.readouterr().out


# --------------------------------------------------------------------------
# The MNIST check (quick paths; the slow one trains in tests/test_exercises.py)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_mnist(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    return (x_train[:200], y_train[:200]), (x_test, y_test)


def test_mnist_check_untrained_model_fails(tiny_mnist, capsys):
    model = Sequential(Flatten(), Linear(784, 10, seed=0))
    result = checks.check_mnist_cnn(model, data=tiny_mnist)
    out = capsys.readouterr().out
    assert result.status == checks.FAILED and result.failed_case_ids == ["test_accuracy"]
    assert "expected at least 98.50%" in out and result.details["accuracy"] < 0.5


def test_mnist_check_stub_and_errors(tiny_mnist, capsys):
    def stub(x_train, y_train):
        raise NotImplementedError

    assert checks.check_mnist_cnn(stub, data=tiny_mnist).status == checks.NOT_IMPLEMENTED
    result = checks.check_mnist_cnn(lambda x, y: "a model", data=tiny_mnist)
    assert result.status == checks.FAILED and "expected a cnnlib Layer" in capsys.readouterr().out
    result = checks.check_mnist_cnn(lambda x, y: Sequential(Linear(784, 10)), data=tiny_mnist)
    assert result.status == checks.FAILED and "must take (N, 1, 28, 28) images" in capsys.readouterr().out
    result = checks.check_mnist_cnn(lambda x, y: 1 / 0, data=tiny_mnist)
    assert result.status == checks.FAILED and "ZeroDivisionError" in capsys.readouterr().out


def test_mnist_check_passes_a_good_enough_model_at_a_lower_target(tiny_mnist, capsys):
    from cnnlib import Adam, fit

    def train(x, y):
        model = Sequential(Flatten(), Linear(784, 10, seed=0))
        fit(model, x, y, epochs=5, optimizer=Adam(model.parameters(), lr=1e-2), progress=False)
        return model

    result = checks.check_mnist_cnn(train, target_accuracy=0.5, data=tiny_mnist)
    assert result.passed and "train_seconds" in result.details and result.details["model"] is not None
    assert "test accuracy" in capsys.readouterr().out
