"""The computations behind the explorers of activations, batch normalization and a whole network.

``activation_view`` evaluates sigmoid, tanh and ReLU and their derivatives (from
the layers' backward passes); ``synthetic_batch`` and ``batchnorm_view`` run a
batch through a fresh :class:`cnnlib.BatchNorm1d`; ``model_view`` runs one image
through a network and keeps the feature maps of every stage. Each returns a small
frozen record (``ActivationView``, ``BatchNormView``, ``ModelView``), as does the
learning-curve monitor (``LearningCurveView``). None of this needs widgets or
matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from .. import functional as F
from .._validate import integer
from ..layers import BatchNorm1d, Layer, ReLU, Sequential, Sigmoid, Tanh
from .views import _matrix

__all__ = [
    "ActivationView",
    "activation_view",
    "synthetic_batch",
    "BatchNormView",
    "batchnorm_view",
    "ModelView",
    "model_view",
    "LearningCurveView",
]


class _Activation(NamedTuple):
    """One function the activation explorer offers."""

    label: str  # as the explorer writes it
    function: Callable[[Any], np.ndarray]  # the values, from cnnlib.functional
    layer: type[Layer]  # the derivative, from this layer's backward pass
    color: str  # its colour in the explorer's picture


#: The activation explorer's functions, in the order it lists them: what lecture 04 compares, chosen, not
#: derived from cnnlib.layers (a new activation layer changes no notebook by appearing here unasked).
_ACTIVATIONS: dict[str, _Activation] = {
    "sigmoid": _Activation("sigmoid", F.sigmoid, Sigmoid, "tab:blue"),
    "tanh": _Activation("tanh", F.tanh, Tanh, "tab:orange"),
    "relu": _Activation("ReLU", F.relu, ReLU, "tab:green"),
}


def _activation_key(name: Any, where: str) -> str:
    """The key of an activation (``"ReLU"`` -> ``"relu"``), or a ValueError naming the choices."""
    key = str(name).lower()
    if key not in _ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {name!r}; choose from 'sigmoid', 'tanh', 'ReLU'")
    return key


def _derivative(key: str, x: np.ndarray) -> np.ndarray:
    """f'(x) from the layer's backward pass with an upstream gradient of ones."""
    layer = _ACTIVATIONS[key].layer()
    y = layer.forward(x)
    return layer.backward(np.ones_like(y))


@dataclass(frozen=True, eq=False)
class ActivationView:
    """Activation functions and their derivatives on a grid (see :func:`activation_view`).

    Attributes
    ----------
    functions : tuple of str
        The functions, as keys ``"sigmoid"``, ``"tanh"``, ``"relu"``.
    xs : numpy.ndarray
        The grid of inputs.
    values, derivatives : dict of str to numpy.ndarray
        ``f(xs)`` and ``f'(xs)`` for each function.
    x : float
        The probe point.
    at_x : dict of str to (float, float)
        ``(f(x), f'(x))`` at the probe point for each function.
    """

    functions: tuple[str, ...]
    xs: np.ndarray
    values: dict[str, np.ndarray]
    derivatives: dict[str, np.ndarray]
    x: float
    at_x: dict[str, tuple[float, float]]


def activation_view(
    functions: Sequence[str] = ("sigmoid", "tanh", "relu"),
    x_range: tuple[float, float] = (-6.0, 6.0),
    x: float = 1.0,
    num: int = 601,
) -> ActivationView:
    """Evaluate activation functions and their derivatives over an input range and at one point.

    Values come from :mod:`cnnlib.functional` (``sigmoid``, ``tanh``, ``relu``), derivatives
    from the backward passes of the layers ``Sigmoid``, ``Tanh`` and ``ReLU`` (ReLU's
    derivative at 0 is taken as 0, as in PyTorch).

    Parameters
    ----------
    functions : sequence of str, default ("sigmoid", "tanh", "relu")
        Which functions (case does not matter: ``"ReLU"`` works too).
    x_range : (float, float), default (-6.0, 6.0)
        Smallest and largest input of the grid.
    x : float, default 1.0
        The probe point.
    num : int, default 601
        Number of grid points.

    Returns
    -------
    ActivationView

    Raises
    ------
    ValueError
        If a name is unknown, no function is chosen, or the range is empty.

    Examples
    --------
    >>> v = activation_view(["sigmoid", "ReLU"], x=0.0)
    >>> v.at_x["sigmoid"], v.at_x["relu"]
    ((0.5, 0.25), (0.0, 0.0))
    """
    where = "activation_view"
    keys = tuple(dict.fromkeys(_activation_key(f, where) for f in functions))
    if not keys:
        raise ValueError("choose at least one function (sigmoid, tanh or ReLU)")
    lo, hi = (float(v) for v in x_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"the x range must go from a smaller to a larger number; got ({lo:g}, {hi:g})")
    num = integer(num, "num", where, 2)
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"{where}: x must be a finite number; got {x!r}")
    xs = np.linspace(lo, hi, num)
    values = {k: _ACTIVATIONS[k].function(xs) for k in keys}
    derivatives = {k: _derivative(k, xs) for k in keys}
    probe = np.array([x])
    at_x = {k: (float(_ACTIVATIONS[k].function(probe)[0]), float(_derivative(k, probe)[0])) for k in keys}
    return ActivationView(keys, xs, values, derivatives, x, at_x)


def synthetic_batch(
    n: int = 256,
    means: Sequence[float] = (4.0, -2.0, 0.5),
    stds: Sequence[float] = (1.5, 0.5, 3.0),
    seed: int | None = 0,
) -> np.ndarray:
    """A batch of ``n`` values for each of several channels, each channel normal with its own mean and spread.

    Parameters
    ----------
    n : int, default 256
        Values per channel (the batch size).
    means, stds : sequence of float
        Mean and standard deviation of each channel (one per channel).
    seed : int or None, default 0
        Seed of the random numbers.

    Returns
    -------
    numpy.ndarray
        float64 of shape ``(n, channels)``, the layout of :class:`cnnlib.BatchNorm1d`.
    """
    where = "synthetic_batch"
    n = integer(n, "n", where, 2)
    mu = np.asarray(means, dtype=np.float64)
    sd = np.asarray(stds, dtype=np.float64)
    if mu.ndim != 1 or mu.shape != sd.shape or mu.size == 0:
        raise ValueError(f"{where}: means and stds must be two equally long lists, one entry per channel")
    rng = np.random.default_rng(seed)
    return mu + sd * rng.standard_normal((n, mu.size))


@dataclass(frozen=True, eq=False)
class BatchNormView:
    """A batch before and after batch normalization (see :func:`batchnorm_view`).

    Attributes
    ----------
    x, y : numpy.ndarray, (N, C)
        The batch before and after the layer.
    gamma, beta : float
        Scale and shift, the same for every channel.
    training : bool
        True: normalised with the batch's own statistics; False: with the running ones.
    steps : int
        Training batches the layer had seen before (the running statistics' history).
    momentum, eps : float
        The layer's settings.
    mean_before, std_before, mean_after, std_after : numpy.ndarray, (C,)
        Per-channel mean and standard deviation (``ddof=0``) of ``x`` and ``y``.
    running_mean, running_var : numpy.ndarray, (C,)
        The running estimates after ``steps`` training batches (what inference uses).
    """

    x: np.ndarray
    y: np.ndarray
    gamma: float
    beta: float
    training: bool
    steps: int
    momentum: float
    eps: float
    mean_before: np.ndarray
    std_before: np.ndarray
    mean_after: np.ndarray
    std_after: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray


def batchnorm_view(
    x: Any,
    gamma: float = 1.0,
    beta: float = 0.0,
    training: bool = True,
    steps: int = 0,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> BatchNormView:
    """Run a batch through a fresh :class:`cnnlib.BatchNorm1d` and summarise each channel before and after.

    The layer first sees the same batch ``steps`` times in training mode,
    which moves its running estimates from (mean 0, variance 1) towards the
    batch's statistics: after k steps, ``running_mean = (1 - (1 - momentum)**k) * batch_mean``
    and ``running_var = (1 - momentum)**k + (1 - (1 - momentum)**k) * batch_var``
    (the unbiased variance). Then it normalises the batch, in training mode with the
    batch's own mean and variance, in inference mode with the running estimates.

    Parameters
    ----------
    x : array_like, (N, C)
        The batch: N values for each of C channels.
    gamma, beta : float, default 1.0 and 0.0
        Scale and shift after normalising, the same for every channel.
    training : bool, default True
        Training mode (batch statistics) or inference mode (running statistics).
    steps : int, default 0
        How many training batches came before.
    momentum : float, default 0.1
        Weight of the newest batch in the running estimates (PyTorch's default).
    eps : float, default 1e-5
        Added to the variance before the square root.

    Returns
    -------
    BatchNormView

    Examples
    --------
    >>> v = batchnorm_view(synthetic_batch(seed=0), gamma=2.0, beta=1.0)
    >>> v.mean_after.round(6), v.std_after.round(4)
    (array([1., 1., 1.]), array([2., 2., 2.]))
    """
    where = "batchnorm_view"
    x = _matrix(x, "x", where)
    if x.shape[0] < 2:
        raise ValueError(f"{where}: the batch needs at least 2 values per channel; got shape {x.shape}")
    gamma = float(gamma)
    beta = float(beta)
    steps = integer(steps, "steps", where, 0)
    bn = BatchNorm1d(x.shape[1], eps=eps, momentum=momentum).astype(np.float64)
    for _ in range(steps):
        bn.forward(x, training=True)
    running_mean, running_var = bn.running_mean.copy(), bn.running_var.copy()
    bn.params["gamma"][...] = gamma
    bn.params["beta"][...] = beta
    y = bn.forward(x, training=bool(training))
    return BatchNormView(
        x=x,
        y=y,
        gamma=gamma,
        beta=beta,
        training=bool(training),
        steps=steps,
        momentum=float(momentum),
        eps=float(eps),
        mean_before=x.mean(axis=0),
        std_before=x.std(axis=0),
        mean_after=y.mean(axis=0),
        std_after=y.std(axis=0),
        running_mean=running_mean,
        running_var=running_var,
    )


def _flat_layers(model: Sequential) -> list[Layer]:
    """The layers of ``model`` in order, with nested Sequentials opened up."""
    out: list[Layer] = []
    for layer in model.layers:
        out.extend(_flat_layers(layer) if isinstance(layer, Sequential) else [layer])
    return out


def _same_maps(before: np.ndarray, after: np.ndarray) -> bool:
    """True if every map (channel) of ``after`` is the same map of ``before`` times a non-zero number plus a number.

    Both are ``(N, C, H, W)``; each channel is compared over all its N * H * W values.
    """
    if after.shape != before.shape:
        return False
    a = np.moveaxis(before, 1, 0).reshape(before.shape[1], -1).astype(np.float64)
    b = np.moveaxis(after, 1, 0).reshape(a.shape).astype(np.float64)
    a -= a.mean(axis=1, keepdims=True)
    b -= b.mean(axis=1, keepdims=True)
    scale = (a * b).sum(axis=1) / (a * a).sum(axis=1)  # least squares: b = scale * a + rest
    rest = np.linalg.norm(b - scale[:, None] * a, axis=1)
    return bool(np.all(scale != 0) and np.all(rest <= 1e-4 * np.linalg.norm(b, axis=1)))


def _only_rescales_maps(layer: Layer, x: np.ndarray) -> bool:
    """Whether ``layer``, in inference mode, turns each feature map into a rescaled, shifted copy of itself.

    Batch norm (a per-channel scale and shift) and dropout (nothing) do; their row
    of maps would look exactly like the row before, since every map is drawn on
    its own colour scale. Convolutions, pooling and activation functions do not.
    It is decided on random maps shaped like ``x`` whose values span four orders
    of magnitude (a batch big enough for 64 values per map), not on ``x`` itself, so that the answer does not depend on the
    image (a ReLU changes nothing on maps that happen to be positive).

    Parameters
    ----------
    layer : Layer
        The layer; it runs once on the random maps (before it runs on ``x``).
    x : numpy.ndarray, (N, C, H, W)
        The layer's input in the model.

    Returns
    -------
    bool
    """
    rng = np.random.default_rng(0)
    n = -(-64 // max(x.shape[2] * x.shape[3], 1))  # enough images for at least 64 values per map
    shape = (n, *x.shape[1:])
    magnitude = np.array([0.01, 0.1, 1.0, 10.0, 100.0])[rng.integers(0, 5, shape)]
    probe = (rng.standard_normal(shape) * magnitude).astype(x.dtype)
    return _same_maps(probe, np.asarray(layer.forward(probe, training=False)))


@dataclass(frozen=True, eq=False)
class ModelView:
    """What a network does with one image (see :func:`model_view`).

    Attributes
    ----------
    image : numpy.ndarray, (H, W)
        The input image.
    stages : tuple of (str, numpy.ndarray)
        For each stage: a name such as ``"(0) Conv2d"`` and its output for this
        image, ``(channels, rows, cols)``. A stage is every layer whose output is a
        stack of feature maps, except a layer that only rescales and shifts each
        map (batch norm and dropout in inference mode), whose row would repeat
        the one before. So convolution, pooling and activation layers are stages,
        including ones cnnlib gains later, with no list to update.
    probabilities : numpy.ndarray, (classes,)
        Softmax of the network's output; they add up to 1.
    predicted : int
        The most probable class.
    probability : float
        Its probability.
    label : int or None
        The true class, if known.
    correct : bool or None
        Whether the prediction is right (None without a label).
    """

    image: np.ndarray
    stages: tuple[tuple[str, np.ndarray], ...]
    probabilities: np.ndarray
    predicted: int
    probability: float
    label: int | None
    correct: bool | None


def model_view(model: Sequential, image: Any, label: int | None = None) -> ModelView:
    """Run one image through a network in inference mode, keeping every stage's feature maps.

    Parameters
    ----------
    model : Sequential
        A cnnlib network ending in class scores, e.g. :func:`cnnlib.mnist_cnn`.
    image : array_like, (H, W) or (1, H, W)
        One grey-scale image.
    label : int, optional
        Its true class.

    Returns
    -------
    ModelView

    Raises
    ------
    ValueError
        If the model is not a Sequential, the image has the wrong shape, or the
        model does not turn it into one row of class scores.
    """
    where = "model_view"
    if not isinstance(model, Sequential):
        raise ValueError(f"{where}: model must be a cnnlib Sequential (e.g. cnnlib.mnist_cnn()); got {type(model).__name__}")
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[0] == 1:
        img = img[0]
    img = _matrix(img, "image", where)
    x: np.ndarray = img[None, None].astype(np.float32)  # a batch of one (1, 1, H, W)
    stages = []
    try:
        for i, layer in enumerate(_flat_layers(model)):
            repeats = x.ndim == 4 and _only_rescales_maps(layer, x)
            x = layer.forward(x, training=False)
            if x.ndim == 4 and not repeats:
                stages.append((f"({i}) {type(layer).__name__}", np.array(x[0], dtype=np.float64)))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: the model cannot run on an image of shape {img.shape}: {exc}") from exc
    if x.ndim != 2 or x.shape[0] != 1:
        raise ValueError(f"{where}: the model must end in class scores of shape (1, classes); got {x.shape}")
    probs = F.softmax(np.asarray(x[0], dtype=np.float64))
    predicted = int(np.argmax(probs))
    lab = None if label is None else int(label)
    return ModelView(
        image=img,
        stages=tuple(stages),
        probabilities=probs,
        predicted=predicted,
        probability=float(probs[predicted]),
        label=lab,
        correct=None if lab is None else predicted == lab,
    )


@dataclass(frozen=True, eq=False)
class LearningCurveView:
    """The history a :class:`LearningCurveMonitor` shows (per epoch; accuracies as fractions).

    Attributes
    ----------
    epoch : int
        Epochs finished so far.
    epochs : int
        Epochs planned (the width of the plot).
    loss, accuracy, val_loss, val_accuracy : tuple of float
        The history's lists (the validation ones empty without validation data).
    """

    epoch: int
    epochs: int
    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_accuracy: tuple[float, ...]
