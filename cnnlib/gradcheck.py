"""Gradient checking: compare a backward pass with finite differences.

A backward pass is easy to get subtly wrong. The check is to nudge each input
number by a tiny ``eps`` both ways and watch the loss: the central difference
``(L(x + eps) - L(x - eps)) / (2 eps)`` approximates dL/dx with an error of
order ``eps**2``. Done in float64 with a *random* upstream gradient (a plain
``sum()`` would hide mistakes that only show when outputs are weighted
differently), the two should agree to about 1e-8.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import _validate as V
from ._validate import as_float_array
from .layers import Layer

__all__ = ["numerical_gradient", "relative_error", "gradcheck", "GradcheckResult"]


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    ``x`` is perturbed in place, one element at a time, and restored afterwards.
    Use float64: in float32 (MNIST's dtype, and the layers' default) both the
    step and ``f`` are rounded to about 7 digits, and the result is typically
    off by percents, so a float32 ``x`` gives a warning (as PyTorch's gradcheck
    does). It is still computed in place, on ``x`` itself, since ``f`` may read
    ``x`` through a closure (a layer's weights): convert the data or the layer
    first, ``x.astype(np.float64)`` or ``layer.astype(np.float64)``.

    Parameters
    ----------
    f : callable
        Takes ``x`` (the same array object) and returns a float.
    x : numpy.ndarray
        The point, float64 for a trustworthy result.
    eps : float, default 1e-6
        The step, a finite number > 0.

    Returns
    -------
    numpy.ndarray
        ``df/dx``, shaped like ``x``, as float64.

    Raises
    ------
    TypeError
        If ``f`` is not callable or does not return one real number, ``x`` is not
        a floating-point NumPy array, or ``eps`` is not a real number.
    ValueError
        If ``x`` is not contiguous, ``eps`` is not > 0 and finite, or ``f`` returns
        NaN or infinity at a perturbed point.

    Warns
    -----
    UserWarning
        If ``x`` has fewer than 64 bits per number (float32 or float16).

    Examples
    --------
    >>> x = np.array([1.0, 2.0])
    >>> numerical_gradient(lambda v: float((v ** 2).sum()), x).round(6)
    array([2., 4.])
    """
    where = "numerical_gradient"
    if not callable(f):
        raise TypeError(f"{where}: f must be a function of x returning a number (the loss); got {type(f).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"{where}: x must be a floating-point numpy array (it is perturbed in place); got "
                        + (f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__))
    eps = V.real_number(eps, "eps", where, low=0.0, low_open=True)
    if x.dtype.itemsize < 8:
        warnings.warn(
            f"{where}: x is {x.dtype}, which keeps about {np.finfo(x.dtype).precision} significant digits; "
            "finite differences of it are typically off by percents. Use float64 "
            "(x.astype(np.float64), layer.astype(np.float64)) for a gradient check.",
            UserWarning,
            stacklevel=2,
        )
    grad = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing to it changes x
    if flat.base is not x and not np.shares_memory(flat, x):
        raise ValueError(f"{where}: x must be contiguous so that it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = _value(f(x), where, i, "+")
        flat[i] = old - eps
        minus = _value(f(x), where, i, "-")
        flat[i] = old
        grad.reshape(-1)[i] = (plus - minus) / (2 * eps)
    return grad


def _value(out: Any, where: str, i: int, sign: str) -> float:
    """What ``f`` returned, as a float: one finite real number."""
    if isinstance(out, float):  # the usual case, fast
        value = out
    else:
        a = np.asarray(out)
        if a.size != 1 or a.dtype.kind not in "fiu":
            raise TypeError(f"{where}: f must return one real number (the loss); got {type(out).__name__}"
                            + (f" of shape {a.shape}" if a.ndim else f" {out!r}"))
        value = float(a.reshape(()))
    if not np.isfinite(value):
        raise ValueError(f"{where}: f returned {value} at x.flat[{i}] {sign} eps; it must be finite near x")
    return value


def relative_error(a: Any, b: Any, floor: float = 0.0) -> float:
    """``max|a - b| / max(max|a|, max|b|, floor)``: the largest difference relative to the gradient's scale.

    Zero when both are zero; about 1e-9 or less for a correct float64 backward.

    Parameters
    ----------
    a, b : array_like
        Two gradients of the same shape (e.g. analytic and numerical).
    floor : float, default 0.0
        Smallest scale to divide by. A gradient that is truly zero (say, a bias
        followed by batch normalization) is computed as rounding noise, about
        1e-16 analytically and 1e-10 numerically; dividing that noise by its
        own size would report an error of 1. A finite number >= 0.

    Raises
    ------
    TypeError, ValueError
        If ``a`` or ``b`` is not real numbers, their shapes differ, or ``floor`` is
        not a finite number >= 0.

    Examples
    --------
    >>> round(relative_error([1.0, 2.0], [1.0, 2.000002]), 9)
    1e-06
    """
    a = as_float_array(a, "a", "relative_error").astype(np.float64, copy=False)
    b = as_float_array(b, "b", "relative_error").astype(np.float64, copy=False)
    floor = V.real_number(floor, "floor", "relative_error", low=0.0)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max(), floor)
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


@dataclass
class GradcheckResult:
    """Relative errors of a layer's analytic gradients against numerical ones.

    Attributes
    ----------
    errors : dict
        ``"x"`` for dL/dx and one entry per parameter key (e.g. ``"W"``, ``"b"``).
    """

    errors: dict[str, float] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        """The largest of the relative errors."""
        return max(self.errors.values()) if self.errors else 0.0

    def passed(self, tol: float = 1e-6) -> bool:
        """True when every relative error is below ``tol``."""
        return self.max_error < tol

    def __str__(self) -> str:
        parts = ", ".join(f"{k}: {v:.1e}" for k, v in self.errors.items())
        return f"gradcheck: largest relative error {self.max_error:.1e} ({parts})"


def gradcheck(
    layer: Layer,
    x: Any,
    dy: Any = None,
    *,
    training: bool = True,
    eps: float = 1e-6,
    seed: int = 0,
) -> GradcheckResult:
    """Check a layer's ``backward`` against finite differences, in float64.

    The scalar being differentiated is ``L = sum(layer.forward(x) * dy)``, so
    that ``dL/dy = dy``. Each error is :func:`relative_error` with a floor of
    a thousandth of the largest numerical gradient in the check. The layer itself is not changed: the check works on a
    float64 copy, and every evaluation starts from a fresh copy of it, so
    random layers (dropout) and batch statistics behave the same each time.

    Parameters
    ----------
    layer : Layer
        Any layer, including a whole :class:`~cnnlib.layers.Sequential` model.
    x : array_like
        Input to check at (converted to float64).
    dy : array_like, optional
        Upstream gradient; by default random normal numbers drawn with ``seed``.
    training : bool, default True
        Mode of the forward pass.
    eps : float, default 1e-6
        Finite-difference step.
    seed : int, default 0
        Seed of the random ``dy``.

    Returns
    -------
    GradcheckResult
        Its ``errors`` dict has ``"x"`` and one entry per parameter.

    Raises
    ------
    TypeError, ValueError
        If ``layer`` is not a Layer, ``training`` not a bool, ``eps`` not a
        finite number > 0, ``seed`` not None or an integer >= 0, or ``dy`` not
        shaped like the output.

    Examples
    --------
    >>> from cnnlib.layers import Conv2d
    >>> x = np.random.default_rng(0).normal(size=(2, 3, 5, 7))
    >>> gradcheck(Conv2d(3, 2, 3, stride=2, padding=1, seed=0), x).passed(1e-6)
    True
    """
    where = "gradcheck"
    V.model(layer, where, "layer")
    training = V.boolean(training, "training", where)
    eps = V.real_number(eps, "eps", where, low=0.0, low_open=True)
    seed = V.seed(seed, where)
    base = copy.deepcopy(layer).astype(np.float64)
    x = np.array(as_float_array(x, "x", where), dtype=np.float64, copy=True)

    def run(inp: np.ndarray) -> np.ndarray:
        return copy.deepcopy(base).forward(inp, training=training)

    y = run(x)
    if dy is None:
        dy = np.random.default_rng(seed).normal(size=y.shape)
    dy = as_float_array(dy, "dy", where).astype(np.float64, copy=False)
    if dy.shape != y.shape:
        raise ValueError(f"gradcheck: dy must have the output's shape {y.shape}; got {dy.shape}")

    analytic = copy.deepcopy(base)
    analytic.forward(x.copy(), training=training)
    dx = analytic.backward(dy)
    grads = analytic.grads

    def loss_of_x(inp: np.ndarray) -> float:
        return float((run(inp) * dy).sum())

    def loss_of_param(_: np.ndarray) -> float:
        return float((run(x) * dy).sum())  # the parameter is perturbed in place inside base

    pairs = {"x": (dx, numerical_gradient(loss_of_x, x, eps))}
    for key, value in base.params.items():
        if key not in grads:
            raise RuntimeError(f"gradcheck: after backward, {type(layer).__name__}.grads has no entry {key!r}")
        pairs[key] = (grads[key], numerical_gradient(loss_of_param, value, eps))
    # Differences far below the check's largest gradient are measured against a
    # thousandth of it, so that a truly zero gradient is not failed for its noise.
    floor = 1e-3 * max(float(np.abs(num).max()) if num.size else 0.0 for _, num in pairs.values())
    return GradcheckResult({k: relative_error(a, n, floor) for k, (a, n) in pairs.items()})
