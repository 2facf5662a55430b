"""The dropout exercise's checks (exercises/09_your_own_cnn.ipynb, parts 9.2 and 9.3).

The right answer passes; each typical mistake fails and is named in the feedback:
no 1 / (1 - p) scaling, dropout applied at inference, a mask other than the forward
pass's, an answer of the wrong shape.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib import Dropout, checks


def forward(x, p, keep, training=True):
    return x * keep / (1 - p) if training else x


def backward(dy, p, keep):
    return dy * keep / (1 - p)


def _feedback(check, fn, capsys):
    result = check(fn)
    out = capsys.readouterr().out
    return result, out


def test_the_right_answers_pass(capsys):
    for check, fn in ((checks.check_dropout_forward, forward), (checks.check_dropout_backward, backward)):
        result, out = _feedback(check, fn, capsys)
        assert result.passed and len(result.cases) >= 3, out
        assert out.startswith(f"PASSED  {result.exercise}:")


def test_the_reference_is_cnnlibs_dropout_layer():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4, 5))
    layer = Dropout(0.3, seed=7)
    y = layer.forward(x, training=True)
    keep = y != 0
    assert np.allclose(y, forward(x, 0.3, keep))
    dy = rng.normal(size=x.shape)
    assert np.allclose(layer.backward(dy), backward(dy, 0.3, keep))
    assert np.array_equal(layer.forward(x, training=False), forward(x, 0.3, keep, training=False))


FORWARD_MISTAKES = [
    ("no_scaling", lambda x, p, keep, training=True: x * keep if training else x, "without the 1 / (1 - p) scaling"),
    ("dropout_at_inference", lambda x, p, keep, training=True: x * keep / (1 - p), "dropout applied at inference"),
    ("mask_at_inference", lambda x, p, keep, training=True: x * keep, "without the 1 / (1 - p) scaling"),
    ("old_dropout", lambda x, p, keep, training=True: x * keep if training else x * (1 - p), "without the 1 / (1 - p)"),
    ("scale_at_inference", lambda x, p, keep, training=True: forward(x, p, keep) if training else x * (1 - p),
     "non-inverted dropout"),
    ("one_over_p", lambda x, p, keep, training=True: x * keep / p if training else x, "scaling by 1 / p"),
    ("inverted_mask", lambda x, p, keep, training=True: x * ~keep / (1 - p) if training else x,
     "the dropped units kept"),
    ("own_mask", lambda x, p, keep, training=True: x * (np.random.default_rng(1).random(x.shape) >= p) / (1 - p)
     if training else x, "a mask other than keep"),
    ("wrong_shape", lambda x, p, keep, training=True: (x * keep / (1 - p)).sum(axis=0) if training else x, "shape"),
]


@pytest.mark.parametrize("name,fn,message", FORWARD_MISTAKES, ids=[m[0] for m in FORWARD_MISTAKES])
def test_forward_mistakes_are_named(name, fn, message, capsys):
    result, out = _feedback(checks.check_dropout_forward, fn, capsys)
    assert result.status == checks.FAILED, out
    assert message in out, out


def test_dropout_at_inference_is_caught_by_the_inference_cases(capsys):
    result, out = _feedback(checks.check_dropout_forward, lambda x, p, keep, training=True: x * keep / (1 - p), capsys)
    assert result.failed_case_ids == ["inference", "inference_p_0.3"], out
    assert "at inference nothing is dropped" in out


def test_wrong_shape_gets_the_shape_hint(capsys):
    fn = FORWARD_MISTAKES[-1][1]
    result, out = _feedback(checks.check_dropout_forward, fn, capsys)
    assert "expected y of shape (4, 6), received shape (6,)" in out
    assert "multiply elementwise" in out


BACKWARD_MISTAKES = [
    ("no_scaling", lambda dy, p, keep: dy * keep, "without the 1 / (1 - p) scaling"),
    ("no_mask", lambda dy, p, keep: dy, "dy passed through unchanged"),
    ("new_mask", lambda dy, p, keep: dy * (np.random.default_rng(2).random(dy.shape) >= p) / (1 - p),
     "a mask other than keep"),
    ("inverted_mask", lambda dy, p, keep: dy * ~keep / (1 - p), "the backward pass must use that same mask"),
    ("one_over_p", lambda dy, p, keep: dy * keep / p, "scaling by 1 / p"),
    ("wrong_shape", lambda dy, p, keep: (dy * keep / (1 - p)).ravel(), "multiply elementwise"),
]


@pytest.mark.parametrize("name,fn,message", BACKWARD_MISTAKES, ids=[m[0] for m in BACKWARD_MISTAKES])
def test_backward_mistakes_are_named(name, fn, message, capsys):
    result, out = _feedback(checks.check_dropout_backward, fn, capsys)
    assert result.status == checks.FAILED, out
    assert message in out, out


def test_changing_the_input_in_place_is_reported(capsys):
    def in_place(x, p, keep, training=True):
        if training:
            x *= keep / (1 - p)
        return x

    result, out = _feedback(checks.check_dropout_forward, in_place, capsys)
    assert result.status == checks.FAILED and "changed its input x in place" in out


def test_not_a_function_and_not_implemented(capsys):
    result, out = _feedback(checks.check_dropout_backward, np.zeros(3), capsys)
    assert result.status == checks.FAILED and "Pass the function itself" in out

    def stub(*args, **kwargs):
        raise NotImplementedError

    result, out = _feedback(checks.check_dropout_forward, stub, capsys)
    assert result.not_implemented and out.startswith("NOT IMPLEMENTED  dropout_forward:")


def test_multiplying_by_p_or_by_1_minus_p_is_named_for_what_it_does(capsys):
    # at p = 0.5, x * keep * p and x * keep * (1 - p) coincide; neither is the old dropout in training
    for fn in (lambda x, p, keep, training=True: x * keep * p if training else x,
               lambda x, p, keep, training=True: x * keep * (1 - p) if training else x):
        result, out = _feedback(checks.check_dropout_forward, fn, capsys)
        assert result.status == checks.FAILED and "multiplied by (1 - p) instead of divided by it" in out, out
        assert "old (non-inverted) dropout" not in out.split("also failed")[0], out
    result, out = _feedback(checks.check_dropout_backward, lambda dy, p, keep: dy * keep * p, capsys)
    assert result.status == checks.FAILED and "instead of divided by (1 - p)" in out, out


def test_backward_feedback_names_dx_and_dy(capsys):
    result, out = _feedback(checks.check_dropout_backward, lambda dy, p, keep: dy * keep, capsys)
    assert "FAILED case 'half': dy of shape (4, 6)" in out and "expected dx:" in out, out
    assert "expected y" not in out and "x of shape" not in out.replace("dy of shape", ""), out


def test_backward_without_the_mask_is_named(capsys):
    result, out = _feedback(checks.check_dropout_backward, lambda dy, p, keep: dy / (1 - p), capsys)
    assert result.status == checks.FAILED and "dy / (1 - p) without the mask" in out, out
    assert "a mask other than keep" not in out, out


def test_everything_dropped_at_p_zero_is_named(capsys):
    fn = lambda x, p, keep, training=True: x * keep / (1 - p) if training and p > 0 else 0 * x if training else x
    result, out = _feedback(checks.check_dropout_forward, fn, capsys)
    assert result.failed_case_ids == ["p_zero"] and "everything dropped" in out, out


def test_float64_answer_for_float32_input_passes_with_a_note(capsys):
    fn = lambda x, p, keep, training=True: x.astype(np.float64) * keep / (1 - p) if training else x
    result, out = _feedback(checks.check_dropout_forward, fn, capsys)
    assert result.passed and "float64 for a float32 input" in out, out
    result, out = _feedback(checks.check_dropout_forward, forward, capsys)
    assert result.passed and "float64" not in out, out
