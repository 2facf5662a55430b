"""Checks of ``exercises/09_your_own_cnn.ipynb``: a CNN trained on MNIST must reach the target test accuracy."""

from __future__ import annotations

import time
from typing import Any

from ..layers import Layer
from ._engine import FAILED, NOT_IMPLEMENTED, PASSED, CaseResult, CheckResult, _describe, _finish, _where

__all__ = ["check_mnist_cnn"]


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
