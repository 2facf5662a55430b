"""Checks of ``exercises/09_your_own_cnn.ipynb``: a CNN trained on MNIST must reach the target test accuracy;
inverted dropout, forward (training and inference) and backward."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from ..layers import Dropout, Layer
from ._engine import FAILED, NOT_IMPLEMENTED, PASSED, CaseResult, CheckResult, _Case, _describe, _finish, _rng, _run, _where

__all__ = ["check_mnist_cnn", "check_dropout_forward", "check_dropout_backward"]


def check_mnist_cnn(
    model_or_train_fn: Any, target_accuracy: float = 0.985, verbose: bool = True, data: Any = None
) -> CheckResult:
    """Check a CNN trained on MNIST: its accuracy on all 10,000 test images must reach ``target_accuracy``.

    Parameters
    ----------
    model_or_train_fn : Layer or callable
        A trained cnnlib model (e.g. a :class:`~cnnlib.layers.Sequential`), or a
        function ``train_fn(x_train, y_train)`` that builds and trains one on the
        60,000 training images and returns it. The check then times the training.
    target_accuracy : float, default 0.985
        The test accuracy to reach (a fraction).
    verbose : bool, default True
        Print the feedback.
    data : tuple, optional
        ``((x_train, y_train), (x_test, y_test))``; by default :func:`cnnlib.data.load_mnist`.

    Returns
    -------
    CheckResult
        ``details`` holds ``"accuracy"``, ``"model"`` and (when it trained) ``"train_seconds"``.
    """
    from ..training import evaluate

    exercise = "mnist_cnn"
    desc = f"accuracy on all 10,000 MNIST test images at least {target_accuracy:.2%}"
    details: dict[str, Any] = {}
    if data is None:
        from ..data import load_mnist

        data = load_mnist()
    (x_train, y_train), (x_test, y_test) = data
    model = model_or_train_fn
    if not isinstance(model, Layer):
        if not callable(model):
            return _finish(CheckResult(exercise, FAILED, [CaseResult("model", "a cnnlib model or a training function", False,
                           f"received {_describe(model)}", "pass your trained model, or the function that trains it")]), verbose)
        start = time.perf_counter()
        try:
            model = model_or_train_fn(x_train, y_train)
        except NotImplementedError:
            return _finish(CheckResult(exercise, NOT_IMPLEMENTED, [CaseResult("test_accuracy", desc, False, not_implemented=True)]), verbose)
        except Exception as exc:
            return _finish(CheckResult(exercise, FAILED, [CaseResult("training", "train the network", False,
                           f"your function raised {type(exc).__name__}: {exc}{_where(exc)}",
                           "run your training cell on its own first and read the error")]), verbose)
        details["train_seconds"] = time.perf_counter() - start
    if not isinstance(model, Layer):
        return _finish(CheckResult(exercise, FAILED, [CaseResult("model", "a cnnlib model", False,
                       f"expected a cnnlib Layer (e.g. Sequential), received {_describe(model)}",
                       "build the network from cnnlib layers and return the trained model")], details=details), verbose)
    details["model"] = model
    try:
        accuracy = float(evaluate(model, x_test, y_test).accuracy)
    except Exception as exc:
        return _finish(CheckResult(exercise, FAILED, [CaseResult("test_accuracy", desc, False,
                       f"evaluating the model raised {type(exc).__name__}: {exc}",
                       "the model must take (N, 1, 28, 28) images and return (N, 10) class scores")], details=details), verbose)
    details["accuracy"] = accuracy
    trained = f" after {details['train_seconds']:.0f} s of training" if "train_seconds" in details else ""
    if accuracy >= target_accuracy:
        return _finish(CheckResult(exercise, PASSED, [CaseResult("test_accuracy", desc, True)], details=details,
                                   note=f"test accuracy {accuracy:.2%} (target {target_accuracy:.2%}){trained}."), verbose)
    case = CaseResult("test_accuracy", desc, False,
                      f"expected at least {target_accuracy:.2%}, received {accuracy:.2%}{trained}",
                      "more filters, batch norm after each convolution, another epoch, or a learning rate that "
                      "decays over the run usually help; see notebook 10_full_mnist")
    return _finish(CheckResult(exercise, FAILED, [case], details=details), verbose)


# --------------------------------------------------------------------------
# Inverted dropout
# --------------------------------------------------------------------------


def _dropout_reference(x: np.ndarray, p: float, keep: np.ndarray, training: bool = True) -> np.ndarray:
    """cnnlib's Dropout layer, with its random mask replaced by ``keep``."""
    layer = Dropout(p)
    layer.rng = _FixedDraw(np.where(keep, 1.0, 0.0))  # u = 1 >= p where keep is True, u = 0 < p elsewhere
    return layer.forward(np.asarray(x, dtype=np.float64), training=training)


class _FixedDraw:
    """Stands in for a random generator: ``random`` returns the given uniform numbers."""

    def __init__(self, u: np.ndarray) -> None:
        self.u = u

    def random(self, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
        assert tuple(shape) == self.u.shape
        return self.u.astype(dtype)


def _dropout_inputs(seed: int) -> list[tuple[str, str, np.ndarray, float]]:
    rng = _rng(seed)
    return [
        ("half", "x of shape (4, 6), p = 0.5", rng.normal(size=(4, 6)), 0.5),
        ("p_0.2_batch_4d", "a 4-D batch (2, 3, 4, 4), p = 0.2", rng.normal(size=(2, 3, 4, 4)), 0.2),
        ("p_0.75", "x of shape (3, 8), p = 0.75 (three of four units dropped)", rng.normal(size=(3, 8)), 0.75),
    ]


def _keep_of(rng: np.random.Generator, shape: tuple[int, ...], p: float) -> np.ndarray:
    return rng.random(shape) >= p  # as cnnlib.Dropout draws it


_SHAPE_HINT = "the output has the shape of the input: multiply elementwise, do not sum or reshape"


def check_dropout_forward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, p, keep, training=True)``: inverted dropout's forward pass.

    Parameters
    ----------
    fn : callable
        ``keep`` is a boolean array shaped like ``x``, True where a unit survives (the caller draws it
        as ``rng.random(x.shape) >= p``). In training, returns ``x * keep / (1 - p)``; with
        ``training=False``, returns ``x`` unchanged. Must not change ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("in training: y = x * keep / (1 - p), the survivors scaled up by 1 / (1 - p) so that the expected "
            "output equals x; with training=False: y = x, nothing dropped and nothing scaled")
    rng = _rng(31)
    cases = []
    for id_, desc, x, p in _dropout_inputs(30):
        keep = _keep_of(rng, x.shape, p)
        diag = (
            ("the mask without the 1 / (1 - p) scaling: the survivors must be scaled up so that the expected output "
             "equals x", x * keep),
            ("scaling by 1 / p: scale by 1 / (1 - p), one over the probability of keeping a unit", x * keep / p),
            ("the dropped units kept and the kept ones dropped: keep is True where a unit survives", x * ~keep / (1 - p)),
            ("the survivors multiplied by (1 - p) instead of divided by it (at p = 0.5 the same as multiplied by "
             "p): inverted dropout scales them up, by 1 / (1 - p)", x * keep * (1 - p)),
            ("the survivors multiplied by p: inverted dropout scales them up, by 1 / (1 - p), one over the "
             "probability of keeping a unit", x * keep * p),
        )
        cases.append(_Case(id_, f"training: {desc}", (x, p, keep), _dropout_reference(x, p, keep), hint,
                           kwargs={"training": True}, diagnoses=diag))
    x = _rng(32).normal(size=(3, 5))
    for id_, p in (("inference", 0.5), ("inference_p_0.3", 0.3)):
        keep = _keep_of(rng, x.shape, p)
        diag = (
            ("dropout applied at inference (training=False): at inference nothing is dropped, y = x", x * keep / (1 - p)),
            ("the mask applied at inference (training=False): at inference nothing is dropped, y = x", x * keep),
            ("x * (1 - p) at inference: that is the old, non-inverted dropout; inverted dropout already scaled in "
             "training, so at inference y = x", x * (1 - p)),
            ("x / (1 - p) at inference: the scaling belongs to training only; at inference y = x", x / (1 - p)),
        )
        cases.append(_Case(id_, f"training=False, x of shape (3, 5), p = {p}", (x, p, keep),
                           _dropout_reference(x, p, keep, training=False), hint, kwargs={"training": False},
                           diagnoses=diag))
    x = _rng(36).normal(size=(2, 3, 5)).astype(np.float32)
    keep = _keep_of(rng, x.shape, 0.25)
    cases.append(_Case("float32", "training: a float32 x of shape (2, 3, 5), p = 0.25", (x, 0.25, keep),
                       _dropout_reference(x, 0.25, keep), hint, kwargs={"training": True}))
    x = _rng(33).normal(size=(2, 7))
    keep = _keep_of(rng, x.shape, 0.0)
    cases.append(_Case("p_zero", "training with p = 0: nothing is dropped", (x, 0.0, keep), x.copy(), hint,
                       kwargs={"training": True}, diagnoses=(
                           ("everything dropped: with p = 0 every unit is kept (keep is all True) and y = x",
                            np.zeros_like(x)),)))
    return _run("dropout_forward", fn, cases, ("x", "p", "keep"), verbose, review=_review_dropout)


def check_dropout_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, p, keep)``: the gradient of inverted dropout (training mode) with respect to its input.

    Parameters
    ----------
    fn : callable
        ``keep`` is the boolean mask of the forward pass (True where a unit survived). Returns
        ``dx = dy * keep / (1 - p)``, shaped like ``dy``. Must not change ``dy``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("y = x * keep / (1 - p) is linear in x, so dx = dy * keep / (1 - p): the very mask of the forward "
            "pass (a dropped unit did not reach the output, its gradient is 0) and the same scale")
    rng = _rng(35)
    cases = []
    for id_, desc, dy, p in _dropout_inputs(34):
        keep = _keep_of(rng, dy.shape, p)
        layer_x = rng.normal(size=dy.shape)
        ref = Dropout(p)
        ref.rng = _FixedDraw(np.where(keep, 1.0, 0.0))
        ref.forward(layer_x, training=True)
        expected = ref.backward(dy)
        diag = (
            ("the mask without the 1 / (1 - p) scaling: the forward pass scaled the survivors, so their gradient "
             "is scaled the same way", dy * keep),
            ("dy passed through unchanged: a dropped unit did not reach the output, so its gradient is 0", dy.copy()),
            ("dy / (1 - p) without the mask: a dropped unit did not reach the output, so its gradient is 0; "
             "multiply by keep as well", dy / (1 - p)),
            ("scaling by 1 / p: scale by 1 / (1 - p), as in the forward pass", dy * keep / p),
            ("dy * keep multiplied by (1 - p) (or by p) instead of divided by (1 - p): the forward pass divided "
             "the survivors by (1 - p), so their gradient is divided the same way", dy * keep * (1 - p)),
            ("dy * keep multiplied by p: the forward pass divided the survivors by (1 - p), so their gradient "
             "is divided the same way", dy * keep * p),
        )
        desc = desc.replace("x of shape", "dy of shape")
        cases.append(_Case(id_, desc, (dy, p, keep), expected, hint, names=("dx",), diagnoses=diag))
    return _run("dropout_backward", fn, cases, ("dy", "p", "keep"), verbose, review=_review_dropout)


def _review_dropout(case: _Case, result: CaseResult, answer: Any) -> None:
    """Dropout's own diagnoses, beside the engine's: a float64 answer to a float32 input gets a note, and a
    failed case whose answer is ``value * mask / (1 - p)`` with a 0/1 mask other than ``keep`` is named (the
    answer used a mask of its own instead of the forward pass's)."""
    if result.passed and case.args[0].dtype == np.float32 and getattr(answer, "dtype", None) == np.float64:
        result.message = ("note: right values, but your answer is float64 for a float32 input; cnnlib's layers "
                          "keep float32 (half the memory, faster): multiply by the bool mask and by 1 / (1 - p) "
                          "as a Python float, or use keep.astype(x.dtype)")
    if not result.passed and not result.not_implemented:
        value, p, keep = case.args
        if "of shape" in result.message.split("\n")[0]:
            result.hint = f"{_SHAPE_HINT}; {result.hint}"
        elif ("This looks like" not in result.message and case.kwargs.get("training", True)
              and _other_mask(answer, value, p, keep)):
            result.message += ("\nThis looks like a mask other than keep: the mask is drawn once per forward "
                               "pass (the keep you are given), and the backward pass must use that same mask.")


def _other_mask(answer: Any, value: np.ndarray, p: float, keep: np.ndarray) -> bool:
    """True if ``answer`` is ``value * m / (1 - p)`` (or ``value * m``) for a 0/1 array ``m`` that is not ``keep``."""
    try:
        a = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if a.shape != value.shape or p >= 1.0:
        return False
    nonzero = np.abs(value) > 1e-12
    for scale in (1.0 / (1.0 - p), 1.0):
        m = a[nonzero] / (value[nonzero] * scale)
        binary = np.all(np.isclose(m, 0.0, atol=1e-9) | np.isclose(m, 1.0, rtol=1e-7))
        if binary and not np.array_equal(np.isclose(m, 1.0, rtol=1e-7), keep[nonzero]):
            return True
    return False
