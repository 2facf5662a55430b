"""Training loop and helpers: fit, evaluate, predict, save and load.

``fit`` runs mini-batch training: every epoch it shuffles the training set,
and for each batch does forward, loss, backward and an optimizer step, with a
progress bar. It returns a :class:`History` of loss and accuracy per epoch. It
checks every argument before the first step, stops with
:class:`TrainingDivergedError` when training blows up, and on Ctrl-C raises
:class:`TrainingInterrupted`, which carries the finished epochs' history.
"""

from __future__ import annotations

import copy
import math
import os
import secrets
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from . import _validate as V
from ._validate import NonFiniteError, as_float_array, check_finite, class_labels, positive_int
from ._runner import _Runner
from .layers import BatchNorm1d, BatchNorm2d, Dropout, Layer, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Tanh
from .losses import CrossEntropyLoss
from .optim import Adam, Optimizer

__all__ = [
    "History", "Evaluation", "TrainingDivergedError", "TrainingInterrupted", "fit", "evaluate", "predict", "save", "load",
]

# fit stops when a batch's loss exceeds this many times the larger of the run's first
# batch loss and ln(classes), the loss of a uniform guess (see :func:`fit`).
_LOSS_EXPLOSION = 1e6


@dataclass
class History:
    """Per-epoch record of a :func:`fit` run (one list entry per epoch).

    ``loss`` and ``accuracy`` are averages over the epoch's training batches
    (measured during training, so they lag the end-of-epoch model a little);
    ``val_loss`` and ``val_accuracy`` are measured on the validation data at
    the end of each epoch, in inference mode; ``epoch_time`` is in seconds.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[float]]:
        """The lists by name."""
        return {k: list(v) for k, v in self.__dict__.items()}


class TrainingDivergedError(FloatingPointError):
    """Raised by :func:`fit` when training blows up: the loss, an activation, a parameter or a
    running statistic stops being a finite number, or the loss explodes.

    Attributes
    ----------
    history : History
        The epochs that finished before (the model keeps the weights of its last step).
    """

    history: History | None = None


class TrainingInterrupted(KeyboardInterrupt):
    """Raised by :func:`fit` when it is interrupted (Ctrl-C, or Jupyter's interrupt button).

    It is a ``KeyboardInterrupt``, so whatever stops on Ctrl-C still stops; it
    carries what the run achieved: ``except TrainingInterrupted as e: history = e.history``,
    or in Jupyter, after the cell stopped, ``import sys; history = sys.last_value.history``.

    Parameters
    ----------
    message : str
    history : History
    epoch : int

    Attributes
    ----------
    history : History
        The epochs that finished (the interrupted epoch is not in it).
    epoch : int
        The epoch (0-based) that was running.
    """

    def __init__(self, message: str, history: History | None = None, epoch: int = 0) -> None:
        super().__init__(message)
        self.history = history if history is not None else History()
        self.epoch = epoch


class Evaluation(NamedTuple):
    """Mean loss and accuracy (fraction correct) of a model on a data set."""

    loss: float
    accuracy: float


def _check_data(x: Any, y: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(x, "x", where)
    if x.ndim < 2:
        raise ValueError(f"{where}: expected x with a batch axis, e.g. (N, C, H, W); got shape {x.shape}")
    y = class_labels(y, where, "y", per_position=True)  # (N,), or (N, H, W) for a score per pixel
    if len(x) != len(y):
        raise ValueError(f"{where}: x has {len(x)} examples but y has {len(y)} labels")
    if len(x) == 0:
        raise ValueError(f"{where}: got no examples")
    check_finite(x, "x", where)
    return x, y


def _validation_data(data: Any, x_train: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x_val, y_val)``, checked like the training data, with examples shaped like the training examples."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        got = f"a {type(data).__name__} of {len(data)} items" if isinstance(data, (tuple, list)) else type(data).__name__
        raise TypeError(f"{where}: validation_data must be a pair (x_val, y_val); got {got}")
    x, y = _check_data(*data, f"{where} (validation_data)")
    if x.shape[1:] != x_train.shape[1:]:
        raise ValueError(
            f"{where}: validation_data's examples have shape {x.shape[1:]}, but the training examples {x_train.shape[1:]}; "
            "they must be the same (x_val of shape (N_val, *x_train.shape[1:]))"
        )
    return x, y


def _optimizer_for(model: Layer, optimizer: Any, where: str) -> Optimizer:
    """The given optimizer, checked to update only this model's parameters, or Adam(lr=1e-3) on all of them."""
    if optimizer is None:
        return Adam(model.parameters(), lr=1e-3)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{where}: optimizer must be a cnnlib optimizer such as SGD(model.parameters(), lr=0.1); got {optimizer!r}")
    own = {id(v) for v in model.params.values()}
    foreign = [p.name for p in optimizer.params if id(p.value) not in own]
    if foreign:
        raise ValueError(
            f"{where}: the optimizer updates {len(foreign)} parameter(s) that are not this model's (e.g. {foreign[0]!r}): "
            "it was built for another model. Build it from this one, e.g. optimizer=Adam(model.parameters())."
        )
    return optimizer


def _loss_function(loss: Any, where: str) -> Any:
    if loss is None:
        return CrossEntropyLoss()
    if isinstance(loss, type) or not all(callable(getattr(loss, m, None)) for m in ("forward", "backward")):
        raise TypeError(
            f"{where}: loss must be a loss object with forward(logits, labels) and backward(), "
            f"e.g. CrossEntropyLoss() (with the brackets); got {loss!r}"
        )
    return loss


def _classes(model: Layer) -> int | None:
    """How many class scores ``model`` outputs, when its last layers say so: a Linear, perhaps followed
    by layers that keep the shape. None when that is known only by running it (any other model)."""
    if type(model) is not Sequential:
        return None
    for _, layer in reversed(V.layer_positions(model)):
        if isinstance(layer, Linear):
            return layer.out_features
        if type(layer) is Sequential:
            continue
        if not isinstance(layer, (ReLU, LeakyReLU, Sigmoid, Tanh, Dropout, BatchNorm1d)):  # (a Sequential subclass too)
            return None
    return None


def _check_last_batch(model: Layer, x: np.ndarray, batch_size: int, where: str) -> None:
    """Raise before training if the last batch of every epoch, a single example, cannot be trained on.

    That happens with batch normalisation of features (N, C): one value per channel has
    no variance. Tried on a copy of the model, which changes nothing.
    """
    if len(x) % batch_size != 1 or not any(isinstance(l, (BatchNorm1d, BatchNorm2d)) for _, l in V.layer_positions(model)):
        return
    try:
        with np.errstate(all="ignore"):
            _Runner(copy.deepcopy(model)).forward(x[:1], training=True)
    except V.SmallBatchError as exc:
        raise ValueError(_last_batch_advice(len(x), batch_size, where, str(exc))) from None
    except Exception:  # anything else shows up, in context, at the first step
        pass


def _last_batch_advice(n: int, batch_size: int, where: str, reason: str) -> str:
    return (
        f"{where}: the last batch of every epoch would hold a single example ({n} examples = "
        f"{n // batch_size} batches of {batch_size} + {n % batch_size}), and the model cannot train on one: {reason} "
        "Pass drop_last=True to leave out the incomplete last batch of each epoch (as PyTorch's "
        "DataLoader(drop_last=True); a different example each epoch), or choose another batch_size."
    )


def _batches(n: int, batch_size: int, order: np.ndarray | None = None) -> Iterator[np.ndarray | slice]:
    for start in range(0, n, batch_size):
        yield slice(start, start + batch_size) if order is None else order[start : start + batch_size]


def fit(
    model: Layer,
    x_train: Any,
    y_train: Any,
    *,
    epochs: int = 1,
    batch_size: int = 64,
    optimizer: Optimizer | None = None,
    loss: CrossEntropyLoss | None = None,
    validation_data: tuple[Any, Any] | None = None,
    seed: int | None = 0,
    progress: bool = True,
    lr_schedule: Callable[[int], float] | None = None,
    callback: Callable[[int, History], None] | None = None,
    drop_last: bool = False,
    blas_threads: int | None = None,
) -> History:
    """Train ``model`` on ``(x_train, y_train)`` with mini-batches.

    Every argument is checked before the first step, so a mistake (validation
    data of the wrong shape, labels the model has no class for, an optimizer
    built for another model) stops at once instead of after an epoch.

    Parameters
    ----------
    model : Layer
        Usually a :class:`~cnnlib.layers.Sequential` ending in class scores (logits).
    x_train : array_like, (N, ...)
        Training inputs, e.g. images ``(N, 1, 28, 28)`` as float32.
    y_train : array_like of int, (N,) or (N, H, W)
        Class labels: one per example, or one per pixel for a model whose
        scores are ``(N, K, H, W)`` (then each pixel counts as one example in
        the loss and the accuracy, as in :class:`~cnnlib.losses.CrossEntropyLoss`).
    epochs : int, default 1
        Passes over the training set.
    batch_size : int, default 64
    optimizer : Optimizer, optional
        Defaults to ``Adam(model.parameters(), lr=1e-3)``. It must update
        parameters of ``model`` only.
    loss : CrossEntropyLoss, optional
        Defaults to ``CrossEntropyLoss()``.
    validation_data : (x_val, y_val), optional
        Evaluated after every epoch (``val_loss``, ``val_accuracy``); each
        example shaped like a training example.
    seed : int or None, default 0
        Seed of the shuffling; the same seed gives the same batches.
    progress : bool, default True
        Show a tqdm progress bar (a widget in JupyterLab, text in a terminal).
    lr_schedule : callable, optional
        ``lr_schedule(epoch)`` gives the learning rate for ``epoch`` (0-based);
        applied at the start of each epoch. It must be a finite number > 0.
    callback : callable, optional
        ``callback(epoch, history)`` after each epoch (e.g. to redraw a plot).
    drop_last : bool, default False
        Leave out the last batch of each epoch when it is smaller than
        ``batch_size`` (as PyTorch's ``DataLoader(drop_last=True)``; the examples
        left out change from epoch to epoch with the shuffling). Needed when
        that batch would hold a single example and the model has
        ``BatchNorm1d``, which cannot compute a variance from one value.
    blas_threads : int, optional
        Threads for NumPy's matrix products while training, put back afterwards
        (set with threadpoolctl). None leaves them as they are. ``1`` keeps
        training fast when other programs compete for the cores: a step of a
        small network is a few dozen short matrix products, and the threads meet
        at the end of each one, so when another program holds a core one thread
        waits for it at every meeting (on 2 cores with ``mnist_cnn``, beside one
        busy process: epochs 2.6 to 2.9 times as long as alone with two threads,
        1.0 to 1.1 times with one; README, "Speed"). fit never
        changes the count on its own, because OpenBLAS may add up a product in
        another order with another count (e.g. (64, 784) @ (784, 128) differs in
        the last bits), and a run's numbers must not depend on how busy the
        machine was. Keeping both threads, the environment variable
        ``OPENBLAS_THREAD_TIMEOUT=16`` (read when NumPy starts; the course's
        ``make`` commands set it) makes OpenBLAS's helper threads sleep instead of
        spinning between products: 1.3x beside a busy process instead of 2.6x,
        about 5% slower alone (README, "On a busy machine").

    Returns
    -------
    History
        Loss, accuracy and time per epoch.

    Raises
    ------
    TypeError, ValueError
        If an argument is wrong, named in the message (checked before training).
    TrainingDivergedError
        If training blows up: the loss or an activation becomes NaN or infinite;
        a batch's loss exceeds a million times the larger of the first batch's
        loss and ln(classes) (the loss of a uniform guess), far beyond anything
        training that works ever shows; or, at the end of an epoch, a parameter
        or running statistic (batch norm's ``running_var``) is NaN or infinite.
        Its ``history`` holds the finished epochs.
    TrainingInterrupted
        On Ctrl-C (or Jupyter's interrupt). It is a ``KeyboardInterrupt`` with
        the finished epochs in ``history``: ``except TrainingInterrupted as e:
        history = e.history``. The model stays usable, with the weights of
        its last step (a step cut short may have updated some arrays only).
    """
    where = "fit"
    V.model(model, where)
    x_train, y_train = _check_data(x_train, y_train, where)
    epochs = positive_int(epochs, "epochs", where)
    batch_size = positive_int(batch_size, "batch_size", where)
    drop_last = V.boolean(drop_last, "drop_last", where)
    progress = V.boolean(progress, "progress", where)
    seed = V.seed(seed, where)
    V.function(lr_schedule, "lr_schedule", where, "lr_schedule(epoch) -> learning rate")
    V.function(callback, "callback", where, "callback(epoch, history)")
    if blas_threads is not None:
        blas_threads = positive_int(blas_threads, "blas_threads", where)
    if validation_data is not None:
        validation_data = _validation_data(validation_data, x_train, where)
    runner = _Runner(model)
    optimizer = _optimizer_for(model, optimizer, where)
    loss_fn = _loss_function(loss, where)
    n = len(x_train)
    n_used = n - n % batch_size if drop_last else n
    if n_used == 0:
        raise ValueError(f"{where}: drop_last=True with {n} examples, fewer than batch_size={batch_size}, leaves no batch to train on")
    if not drop_last:
        _check_last_batch(model, x_train, batch_size, where)
    rng = np.random.default_rng(seed)
    history = History()
    n_batches = -(-n_used // batch_size)
    watch = _Watch(optimizer, y_train, validation_data)
    classes = _classes(model)
    if classes is not None:  # otherwise the first batch's output tells, before the first step
        watch.check_labels(classes)

    # Nothing needs d(loss)/d(images): the first layer may skip that work (see Layer.needs_input_grad).
    needed_input_grad = model.needs_input_grad
    model.needs_input_grad = False
    # threadpoolctl sets the BLAS threads now and restore_original_limits() puts them back (see blas_threads).
    blas_limit = threadpool_limits(blas_threads, user_api="blas") if blas_threads is not None else None
    epoch = 0
    try:
        for epoch in range(epochs):
            if lr_schedule is not None:
                optimizer.lr = V.learning_rate(lr_schedule(epoch), where, f"lr_schedule({epoch})")
            start = time.perf_counter()
            bar = _progress_bar(n_batches, f"epoch {epoch + 1}/{epochs}", progress)
            order = rng.permutation(n)
            try:
                loss_, accuracy_ = _train_one_epoch(
                    runner, optimizer, loss_fn, x_train, y_train, order[:n_used], batch_size, epoch, bar, watch
                )
            finally:
                if bar is not None:
                    bar.close()
            seconds = time.perf_counter() - start
            watch.check_arrays(model, epoch)
            val = evaluate(model, *validation_data) if validation_data is not None else None
            history.loss.append(loss_)  # the whole epoch at once: an interrupt never leaves half a record
            history.accuracy.append(accuracy_)
            history.epoch_time.append(seconds)
            if val is not None:
                history.val_loss.append(val.loss)
                history.val_accuracy.append(val.accuracy)
            if callback is not None:
                callback(epoch, history)
    except TrainingDivergedError as exc:
        exc.history = history
        raise
    except V.SmallBatchError as exc:  # the last batch, in a model the check before training could not look into
        if n_used % batch_size != 1:
            raise
        raise ValueError(_last_batch_advice(n, batch_size, where, str(exc))) from exc
    except KeyboardInterrupt as exc:
        if isinstance(exc, TrainingInterrupted):
            raise
        done = len(history.loss)
        raise TrainingInterrupted(
            f"fit: interrupted in epoch {epoch + 1} of {epochs}. The {done} finished epoch(s) are in this exception's "
            "history (except TrainingInterrupted as e: history = e.history); the model keeps the weights of its last step.",
            history, epoch,
        ) from None
    finally:
        model.needs_input_grad = needed_input_grad
        if blas_limit is not None:
            blas_limit.restore_original_limits()
    return history


class _Watch:
    """What fit checks while it trains, beyond each layer's own checks: the labels against the
    model's classes (at the first batch, before any step), an exploding loss, and the model's
    arrays at the end of each epoch."""

    def __init__(self, optimizer: Optimizer, y: np.ndarray, validation_data: tuple[np.ndarray, np.ndarray] | None) -> None:
        self.optimizer = optimizer
        self.labels = [("fit", y)] + ([("fit (validation_data)", validation_data[1])] if validation_data else [])
        self.labels_checked = False
        self.limit: float | None = None

    def check_labels(self, classes: int) -> None:
        """Every label (training and validation) must name one of the model's ``classes`` outputs."""
        for where, y in self.labels:
            class_labels(y, where, "y", num_classes=classes, per_position=True)
        self.labels_checked = True

    def check_output(self, logits: np.ndarray) -> None:
        """At the first batch, before its loss: every label must name one of the model's outputs."""
        if not self.labels_checked and logits.ndim >= 2:
            self.check_labels(logits.shape[1])

    def check_loss(self, batch_loss: float, logits: np.ndarray, epoch: int, step: int) -> None:
        if not np.isfinite(batch_loss):
            raise _diverged(epoch, step, self.optimizer, f"the loss is {batch_loss}")
        classes = logits.shape[1] if logits.ndim >= 2 else 1
        if self.limit is None:  # the run's first batch, before any step
            self.first = batch_loss
            self.limit = _LOSS_EXPLOSION * max(batch_loss, math.log(max(classes, 2)))
        elif batch_loss > self.limit:
            raise _diverged(
                epoch, step, self.optimizer,
                f"the loss is {batch_loss:.3g}, over a million times its start ({self.first:.3g}); the weights are running away",
                what="exploded",
            )

    def check_arrays(self, model: Layer, epoch: int) -> None:
        """Every parameter and buffer (batch norm's running statistics) must be finite at the end of an epoch."""
        for name, a in {**model.params, **model.buffers}.items():
            with np.errstate(over="ignore", invalid="ignore"):  # the sum only overflows if a value is huge; settled below
                if np.isfinite(np.sum(a)):
                    continue
            bad = ~np.isfinite(a)
            if bad.any():
                n_nan = int(np.isnan(a).sum())
                raise TrainingDivergedError(
                    f"fit: training stopped at the end of epoch {epoch + 1}: the model's {name} is no longer finite "
                    f"({n_nan} NaN and {int(bad.sum()) - n_nan} infinite value(s)). The learning rate "
                    f"(lr={self.optimizer.lr:g}) is probably too high; try one ten times smaller, and check the "
                    "inputs are scaled to about [0, 1]."
                )


def _train_one_epoch(
    runner: _Runner, optimizer: Optimizer, loss_fn: CrossEntropyLoss, x: np.ndarray, y: np.ndarray,
    order: np.ndarray, batch_size: int, epoch: int, bar: Any, watch: _Watch,
) -> tuple[float, float]:
    """One pass over ``(x, y)`` in the given order: forward, loss, backward and a step per batch.

    Returns the mean training loss and accuracy of the epoch.
    """
    total_loss, correct, seen = 0.0, 0, 0
    # Overflow shows up as inf/NaN, which the checks below turn into one clear
    # TrainingDivergedError; NumPy's own warnings would only add noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for step, idx in enumerate(_batches(len(order), batch_size, order)):
            xb, yb = x[idx], y[idx]
            try:
                logits = runner.forward(xb, training=True)
                watch.check_output(logits)
                batch_loss = loss_fn.forward(logits, yb)
            except NonFiniteError as exc:
                where = str(exc).split(":", 1)[0]
                raise _diverged(epoch, step, optimizer, f"NaN or inf reached {where}") from exc
            watch.check_loss(batch_loss, logits, epoch, step)
            runner.backward(loss_fn.backward())
            optimizer.step()
            total_loss += batch_loss * yb.size  # yb.size: examples, or pixels for labels (N, H, W)
            correct += int((logits.argmax(axis=1) == yb).sum())
            seen += yb.size
            if bar is not None:
                bar.update(1)
                if step % 20 == 0 or seen == len(order):
                    bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}", refresh=False)
    return total_loss / seen, correct / seen


def _diverged(epoch: int, step: int, optimizer: Optimizer, detail: str, what: str = "became NaN or infinite") -> TrainingDivergedError:
    return TrainingDivergedError(
        f"fit: training stopped at epoch {epoch + 1}, batch {step + 1}: the loss {what} "
        f"({detail}). The learning rate (lr={optimizer.lr:g}) is probably too high; "
        "try one ten times smaller, and check the inputs are scaled to about [0, 1]."
    )


def _progress_bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    # At most two redraws a second: in JupyterLab every redraw is a widget message, and a long training cell
    # that sends thousands of them makes a busy kernel's output hard to follow (and nbval slow to read).
    return tqdm(total=total, desc=desc, unit="batch", leave=True, dynamic_ncols=True, mininterval=0.5)


def _logits(model: Layer, x: np.ndarray, batch_size: int) -> Iterator[tuple[slice, np.ndarray]]:
    runner = _Runner(model, inference=True)
    for sl in (_batches(len(x), batch_size) if len(x) else [slice(0, 0)]):  # an empty x still gives the output's shape
        yield sl, runner.forward(x[sl], training=False)


def evaluate(model: Layer, x: Any, y: Any, batch_size: int = 128) -> Evaluation:
    """Mean cross-entropy loss and accuracy of ``model`` on ``(x, y)``, in inference mode.

    Parameters
    ----------
    model : Layer
    x : array_like, (N, ...)
    y : array_like of int, (N,) or (N, H, W)
        Class labels, one per example or one per pixel (see :func:`fit`).
    batch_size : int, default 128
        Examples per forward pass. It only affects memory and speed; moderate
        batches are fastest (on MNIST, 128 takes a third of the time of 1000).

    Returns
    -------
    Evaluation
        ``(loss, accuracy)`` with accuracy as a fraction in [0, 1].

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a Layer, ``x`` and ``y`` do not fit (or are empty), or
        ``batch_size`` is not a positive integer.
    """
    where = "evaluate"
    V.model(model, where)
    x, y = _check_data(x, y, where)
    batch_size = positive_int(batch_size, "batch_size", where)
    loss_fn = CrossEntropyLoss()
    total, correct = 0.0, 0
    for sl, logits in _logits(model, x, batch_size):
        total += loss_fn.forward(logits, y[sl]) * y[sl].size  # examples, or pixels for labels (N, H, W)
        correct += int((logits.argmax(axis=1) == y[sl]).sum())
    return Evaluation(total / y.size, correct / y.size)


def predict(model: Layer, x: Any, batch_size: int = 128, return_probs: bool = False) -> np.ndarray:
    """Predicted classes of ``model`` for inputs ``x`` (inference mode).

    Parameters
    ----------
    model : Layer
    x : array_like, (N, ...)
        ``N = 0`` gives an empty result.
    batch_size : int, default 128
    return_probs : bool, default False
        Return the softmax probabilities ``(N, classes)`` instead of the classes.

    Returns
    -------
    numpy.ndarray
        int64 classes ``(N,)``, or probabilities ``(N, classes)``.

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a Layer, ``x`` has no batch axis or holds NaN/inf,
        ``batch_size`` is not a positive integer or ``return_probs`` not a bool.
    """
    from .functional import softmax

    where = "predict"
    V.model(model, where)
    x = as_float_array(x, "x", where)
    if x.ndim < 2:
        raise ValueError(f"{where}: expected x with a batch axis, e.g. (N, C, H, W); got shape {x.shape}")
    check_finite(x, "x", where)
    batch_size = positive_int(batch_size, "batch_size", where)
    return_probs = V.boolean(return_probs, "return_probs", where)
    outs = [softmax(logits, axis=1) if return_probs else logits.argmax(axis=1) for _, logits in _logits(model, x, batch_size)]
    return np.concatenate(outs)


_FORMAT = "cnnlib-state-v1"


def _checkpoint_path(path: Any, where: str) -> Path:
    """The file :func:`save` writes for ``path`` (and :func:`load` reads): ``.npz`` appended if missing."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: path must be a file name (str or pathlib.Path); got {type(path).__name__}")
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise ValueError(f"{where}: path must name a file, e.g. 'model.npz'; got {str(path)!r}")
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save(model: Layer, path: str | os.PathLike) -> Path:
    """Save a model's parameters and running statistics to a ``.npz`` file.

    The architecture is not saved: rebuild the same model, then :func:`load`.
    The file is written whole or not at all: to a temporary file in the same
    folder first, then renamed over the target, so a save that fails part-way
    (a full disk) leaves an earlier file of that name as it was.

    Parameters
    ----------
    model : Layer
    path : str or os.PathLike
        Target file; ``.npz`` is appended if missing (``"ckpt"`` writes ``ckpt.npz``,
        and ``load(model, "ckpt")`` reads it).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a Layer or ``path`` does not name a file.
    OSError
        If the file cannot be written (nothing is left behind).
    """
    V.model(model, "save")
    path = _checkpoint_path(path, "save")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:
            np.savez(f, __format__=np.array(_FORMAT), __model__=np.array(repr(model)), **state)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half of one
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def load(model: Layer, path: str | os.PathLike) -> Layer:
    """Load parameters and running statistics saved by :func:`save` into ``model`` (in place).

    Every array is checked against the model first (names, shapes, real
    floating-point numbers, finite); if anything does not fit, nothing is changed.

    Parameters
    ----------
    model : Layer
        A model with the same architecture as the saved one.
    path : str or os.PathLike
        The name given to :func:`save`: ``.npz`` is appended if missing, as ``save`` does.

    Returns
    -------
    Layer
        ``model``, for chaining.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError, KeyError, TypeError
        If the file is not a cnnlib state file, or its arrays do not fit this
        model (wrong names or shapes, integers, booleans, complex numbers,
        strings, NaN or infinity).
    """
    V.model(model, "load")
    given = path
    path = _checkpoint_path(path, "load")
    if not path.exists() and Path(given).is_file():
        path = Path(given)  # a file of exactly that name, renamed or copied by hand
    if not path.exists():
        also = "" if str(path) == str(given) else f" ({str(given)!r} with .npz appended, as save does)"
        raise FileNotFoundError(f"load: no such file {path}{also}; save a model first with cnnlib.save(model, path)")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except Exception as exc:
        raise ValueError(f"load: {path} is not a readable .npz file ({exc})") from exc
    if str(data.pop("__format__", "")) != _FORMAT:
        raise ValueError(f"load: {path} was not written by cnnlib.save (no '{_FORMAT}' marker)")
    saved_model = str(data.pop("__model__", "?"))
    try:
        model.load_state_dict(data)
    except (KeyError, ValueError, TypeError) as exc:
        raise type(exc)(f"load: {path} does not fit this model. It was saved from:\n{saved_model}\n{exc}") from exc
    return model
