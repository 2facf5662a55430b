"""The im2col checks of exercises/01_convolution.ipynb: a right answer passes, typical wrong layouts are named.

im2col's mistakes are rarely wrong numbers: they are the right numbers in the wrong place (the matrix
transposed, the channel last instead of first, the output positions column by column, the product reshaped
without its transpose). Each gets its own sentence in the feedback.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnnlib.functional as F
from cnnlib import checks


def im2col_loop(x, kh, kw, bug=None):
    C, H, W = x.shape
    OH, OW = H - kh + 1, W - kw + 1
    positions = [(j, i) for i in range(OW) for j in range(OH)] if bug == "column_major" else \
        [(i, j) for i in range(OH) for j in range(OW)]
    rows = []
    for i, j in positions:
        window = x[:, i:i + kh, j:j + kw]
        if bug == "channel_last":
            window = window.transpose(1, 2, 0)
        elif bug == "window_transposed":
            window = window.transpose(0, 2, 1)
        rows.append(window.ravel())
    cols = np.array(rows)
    if bug == "transposed":
        return cols.T
    if bug == "not_reshaped":
        return cols.reshape(OH, OW, C, kh, kw)
    if bug == "reversed_rows":
        return cols[::-1]
    if bug == "off_by_one":  # range(H - kh) drops the last row and column of positions
        return np.array([x[:, i:i + kh, j:j + kw].ravel() for i in range(OH - 1) for j in range(OW - 1)]).reshape(-1, C * kh * kw)
    return cols


def conv_im2col(x, w, b=None, bug=None):
    N, O = x.shape[0], w.shape[0]
    _, C, kh, kw = w.shape
    OH, OW = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    w_flat = w.transpose(0, 2, 3, 1).reshape(O, -1) if bug == "weights_channel_last" else w.reshape(O, -1)
    if bug == "w_reshape_minus1":  # w.reshape(-1, O) instead of w.reshape(O, -1).T: same shape, weights mixed up
        w_flat = w.reshape(-1, O).T
    y = np.zeros((N, O, OH, OW))
    for n in range(N):
        prod = im2col_loop(x[n], kh, kw) @ w_flat.T  # (OH*OW, O)
        if bug == "bias_none_unhandled":
            prod = prod + b  # fails when b is None
        elif b is not None and bug not in ("no_bias", "bias_last_axis"):
            prod = prod + b
        y[n] = prod.reshape(O, OH, OW) if bug == "no_transpose" else prod.T.reshape(O, OH, OW)
        if bug == "bias_last_axis" and b is not None:
            y[n] = y[n] + b  # broadcasts over the output columns when OW == O
        if bug == "first_image_only":
            y[n] = y[0]
    if bug == "channels_last":
        return y.transpose(0, 2, 3, 1)
    if bug == "no_batch_axis":  # the last image's (O, OH, OW) output only
        return y[-1]
    return y


def test_right_answers_pass(capsys):
    assert checks.check_im2col(im2col_loop).passed
    assert checks.check_conv2d_im2col(conv_im2col).passed
    out = capsys.readouterr().out
    assert "PASSED  im2col:" in out and "PASSED  conv2d_im2col:" in out


def test_a_vectorised_answer_passes(capsys):
    def im2col(x, kh, kw):
        win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # (C, OH, OW, kh, kw)
        return win.transpose(1, 2, 0, 3, 4).reshape(win.shape[1] * win.shape[2], -1)

    assert checks.check_im2col(im2col, verbose=False).passed


def test_registered_for_the_grader():
    assert checks.CHECKS["im2col"] is checks.check_im2col
    assert checks.CHECKS["conv2d_im2col"] is checks.check_conv2d_im2col
    assert checks.find_check_calls("checks.check_im2col(im2col)") == ["im2col"]


WRONG_IM2COL = [
    ("transposed", "one_channel", "the transpose of the matrix asked for"),
    ("not_reshaped", "one_channel", "the window array before the reshape"),
    ("channel_last", "two_channels", "the columns ordered (kernel row, kernel column, channel)"),
    ("column_major", "one_channel", "the output positions taken column by column"),
    ("window_transposed", "one_channel", "each window transposed"),
    ("reversed_rows", "one_channel", "Every expected value is there, but not where it belongs"),
    ("off_by_one", "one_channel", "expected y of shape (6, 4), received shape (2, 4)"),
]


@pytest.mark.parametrize("bug,case,message", WRONG_IM2COL, ids=[w[0] for w in WRONG_IM2COL])
def test_wrong_im2col_gets_a_specific_message(bug, case, message, capsys):
    result = checks.check_im2col(lambda x, kh, kw: im2col_loop(x, kh, kw, bug))
    out = capsys.readouterr().out
    assert result.status == checks.FAILED
    assert result.failed_case_ids[0] == case, out
    assert message in out, out
    assert result.failed_cases[0].hint  # and a hint on the layout


def test_wrong_shape_says_expected_and_received(capsys):
    checks.check_im2col(lambda x, kh, kw: np.zeros((3, 3)))
    out = capsys.readouterr().out
    assert "expected y of shape (6, 4), received shape (3, 3)" in out
    assert "Every expected value" not in out  # wrong numbers are not called a wrong layout


def test_wrong_shape_with_the_right_values_is_called_a_layout_problem(capsys):
    checks.check_im2col(lambda x, kh, kw: im2col_loop(x, kh, kw).reshape(-1))
    out = capsys.readouterr().out
    assert "Every expected value is there, but not where it belongs (and the shape is (24,), not (6, 4))" in out


WRONG_CONV = [
    ("no_transpose", "channels_and_filters", "reshaped straight to (O, OH, OW)"),
    ("weights_channel_last", "channels_and_filters", "the weights flattened in another order"),
    ("no_bias", "channels_and_filters", "the bias was left out"),
    ("first_image_only", "batch", "every image got the first image's output"),
    ("channels_last", "one_image", "the output channels last, (N, OH, OW, O)"),
    ("no_batch_axis", "one_image", "the output of the image without the batch axis"),
    ("w_reshape_minus1", "channels_and_filters", "w.reshape(-1, O) where w.reshape(O, -1).T is meant"),
    ("bias_last_axis", "channels_and_filters", "the bias added along the last axis"),
    ("bias_none_unhandled", "one_image", "b is None here (no bias)"),
]


@pytest.mark.parametrize("bug,case,message", WRONG_CONV, ids=[w[0] for w in WRONG_CONV])
def test_wrong_conv2d_im2col_gets_a_specific_message(bug, case, message, capsys):
    result = checks.check_conv2d_im2col(lambda x, w, b=None: conv_im2col(x, w, b, bug))
    out = capsys.readouterr().out
    assert result.status == checks.FAILED
    assert result.failed_case_ids[0] == case, out
    assert message in out, out


def test_not_a_function_and_not_implemented(capsys):
    assert "Pass the function itself" in checks.check_im2col(np.zeros((2, 2))).note
    def stub(x, kh, kw):
        raise NotImplementedError
    assert checks.check_im2col(stub).not_implemented
    capsys.readouterr()


def test_the_log_records_one_summary_per_check():
    before = len(checks.grading_log())
    checks.check_im2col(im2col_loop, verbose=False)
    checks.check_conv2d_im2col(lambda x, w, b=None: conv_im2col(x, w, b, "no_bias"), verbose=False)
    log = checks.grading_log()[before:]
    assert [(e["exercise"], e["status"]) for e in log] == [("im2col", "passed"), ("conv2d_im2col", "failed")]
    assert log[1]["first_failure"] == "channels_and_filters"


def test_the_reference_agrees_with_cnnlibs_convolution():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    np.testing.assert_allclose(conv_im2col(x, w), F.conv2d(x, w), atol=1e-12)


def test_an_input_changed_in_place_is_not_called_a_layout_problem(capsys):
    def overwrites(x, kh, kw):
        cols = im2col_loop(x, kh, kw)
        x[...] = 0
        return cols
    checks.check_im2col(overwrites)
    out = capsys.readouterr().out
    assert "the answer is right, but your function changed its input x in place" in out
    assert "Every expected value" not in out


def test_conv2d_im2col_layout_note_describes_the_output_not_the_matrix(capsys):
    # right values, but each image's output left flat as (O*OH*OW,): no named mistake, so the layout note
    def flat(x, w, b=None):
        return conv_im2col(x, w, b).reshape(x.shape[0], -1)
    checks.check_conv2d_im2col(flat)
    out = capsys.readouterr().out
    assert "Every expected value is there, but not where it belongs" in out
    assert "the result is (N, O, OH, OW)" in out and "the order of w.reshape(O, C*kh*kw)" not in out
