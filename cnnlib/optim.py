"""Optimizers: how parameters move once their gradients are known.

``SGD`` steps against the gradient (optionally with momentum and weight
decay); ``Adam`` scales each parameter's step by running averages of its
gradient and squared gradient. Both follow PyTorch's update rules exactly, so
their numbers can be compared with ``torch.optim`` step for step.
"""

from __future__ import annotations

from typing import Iterable, Union

import numpy as np

from . import _validate as V
from .layers import Layer, Parameter

__all__ = ["Optimizer", "SGD", "Adam", "lr_at"]

Params = Union[Layer, Iterable[Parameter]]


class Optimizer:
    """Base class: holds the parameters and knows how to clear their gradients.

    Parameters
    ----------
    params : Layer or iterable of Parameter
        The model, or ``model.parameters()``.
    lr : float
        Learning rate, a finite number > 0 (also when set later: ``opt.lr = 0.01``).

    Raises
    ------
    TypeError
        If ``params`` is not a model or its parameters, or a number is not a real
        number (a bool or a string such as ``"0.1"`` is refused; NumPy numbers are fine).
    ValueError
        If there is nothing to optimise, or a number is out of range, NaN or infinite.
    """

    def __init__(self, params: Params, lr: float) -> None:
        if isinstance(params, Layer):
            params = params.parameters()
        elif isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
            raise TypeError(
                f"{type(self).__name__}: params must be a model or model.parameters(); got {type(params).__name__}"
            )
        self.params: list[Parameter] = []
        taken: set[tuple[int, str]] = set()
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"{type(self).__name__}: params must be a model or model.parameters(); got an item of type {type(p).__name__}"
                )
            if (id(p.layer), p.key) not in taken:  # each array once, however often it was passed: one step per step
                taken.add((id(p.layer), p.key))
                self.params.append(p)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimise")
        self.lr = lr
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]

    @property
    def lr(self) -> float:
        """The learning rate; setting it checks it is a finite number > 0 (a negative one would climb the loss)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = V.learning_rate(value, type(self).__name__)

    def zero_grad(self) -> None:
        """Set every gradient to zero (backward overwrites them anyway)."""
        for p in self.params:
            p.zero_grad()

    def _grads(self) -> list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
        """(value, gradient, state) of every parameter, checked before anything is updated."""
        out = []
        for p, state in zip(self.params, self.state):
            g = p.grad
            if g is None:
                raise RuntimeError(
                    f"{type(self).__name__}.step: parameter {p.name} has no gradient; call backward first "
                    "(if you did, this optimizer was built for another model's parameters)"
                )
            if g.shape != p.value.shape:
                raise ValueError(f"{type(self).__name__}.step: gradient of {p.name} has shape {g.shape}, expected {p.value.shape}")
            out.append((p.value, g, state))
        return out

    def step(self) -> None:
        """Update every parameter in place from its current gradient."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    With gradient ``g`` of parameter ``w``: ``g += weight_decay * w``; with
    momentum, ``buf = momentum * buf + g`` (``buf = g`` on the first step) and
    ``g = buf``; then ``w -= lr * g``.

    Parameters
    ----------
    params : Layer or iterable of Parameter
        The model, or ``model.parameters()``.
    lr : float
        Learning rate, > 0.
    momentum : float, default 0.0
        In [0, 1).
    weight_decay : float, default 0.0
        L2 penalty coefficient, >= 0.

    Every number must be finite, and a real number (NumPy's too, not a bool or
    a string): otherwise TypeError or ValueError, naming the argument.
    """

    def __init__(self, params: Params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = V.real_number(momentum, "momentum", "SGD", low=0.0, high=1.0, high_open=True)
        self.weight_decay = V.real_number(weight_decay, "weight_decay", "SGD", low=0.0)

    def step(self) -> None:
        for w, g, state in self._grads():
            if self.weight_decay:
                g = g + self.weight_decay * w
            if self.momentum:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(g, dtype=w.dtype, copy=True)
                else:
                    buf *= self.momentum
                    buf += g
                g = buf
            w -= (self.lr * g).astype(w.dtype, copy=False)


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``.

    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g**2``, then
    ``w -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)`` at step ``t``.

    Parameters
    ----------
    params : Layer or iterable of Parameter
    lr : float, default 1e-3
        > 0.
    betas : (float, float), default (0.9, 0.999)
        Each in [0, 1).
    eps : float, default 1e-8
        > 0 (an infinite eps would freeze the weights).
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (not decoupled, as in ``torch.optim.Adam``), >= 0.

    Every number must be finite, and a real number (NumPy's too, not a bool or
    a string): otherwise TypeError or ValueError, naming the argument.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), e.g. (0.9, 0.999); got {betas!r}")
        self.betas = tuple(V.real_number(b, f"betas[{i}]", "Adam", low=0.0, high=1.0, high_open=True) for i, b in enumerate(betas))
        self.eps = V.real_number(eps, "eps", "Adam", low=0.0, low_open=True)
        self.weight_decay = V.real_number(weight_decay, "weight_decay", "Adam", low=0.0)
        self.t = 0

    def step(self) -> None:
        params = self._grads()  # raises before anything changes
        self.t += 1
        b1, b2 = self.betas
        bias1 = 1.0 - b1**self.t
        bias2_sqrt = np.sqrt(1.0 - b2**self.t)
        for w, g, state in params:
            if "m" not in state:
                state["m"] = np.zeros_like(w)
                state["v"] = np.zeros_like(w)
            if "scratch" not in state or state["scratch"].dtype != w.dtype:
                state["scratch"] = np.empty_like(w)  # reused every step: no new arrays in the loop
            m, v, tmp = state["m"], state["v"], state["scratch"]
            if self.weight_decay:
                g = g + self.weight_decay * w
            # m = b1*m + (1-b1)*g and v = b2*v + (1-b2)*g**2, in place
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            # w -= lr/bias1 * m / (sqrt(v)/sqrt(bias2) + eps)
            np.sqrt(v, out=tmp)
            tmp /= bias2_sqrt
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= self.lr / bias1
            w -= tmp


def lr_at(epoch: int, epochs: int, lr: float) -> float:
    """Learning rate for ``epoch`` (0-based) out of ``epochs``: a cosine decay from ``lr`` to ``lr / 20``.

    ``lr * (0.05 + 0.95 * (1 + cos(pi * epoch / (epochs - 1))) / 2)``: large steps
    first, small steps at the end to settle into a good minimum (Loshchilov and
    Hutter, "SGDR: Stochastic gradient descent with warm restarts", ICLR 2017,
    without the restarts). Use it as ``fit(..., lr_schedule=lambda e: lr_at(e, epochs, lr))``;
    ``python -m cnnlib.train`` does.

    Parameters
    ----------
    epoch : int
        The epoch, from 0 to ``epochs - 1``.
    epochs : int
        Number of epochs of the run.
    lr : float
        Learning rate of the first epoch.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If ``epoch`` is not in ``[0, epochs - 1]``, or ``lr`` is not a finite number > 0.

    Examples
    --------
    >>> [round(lr_at(e, 3, 1.0), 3) for e in range(3)]
    [1.0, 0.525, 0.05]
    """
    epochs = V.positive_int(epochs, "epochs", "lr_at")
    epoch = V.integer(epoch, "epoch", "lr_at", minimum=0)
    if epoch >= epochs:
        raise ValueError(f"lr_at: epoch must be in [0, {epochs - 1}] for epochs={epochs} (epochs count from 0); got {epoch}")
    lr = V.learning_rate(lr, "lr_at")
    if epochs == 1:
        return lr
    return float(lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * epoch / (epochs - 1)))))
