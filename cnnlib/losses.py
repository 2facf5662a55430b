"""The loss that trains a classifier: softmax cross-entropy.

``CrossEntropyLoss`` turns a batch of raw scores (logits) into probabilities
with softmax and measures how little probability the correct classes got:
``-mean(log p[correct class])``. It works through log-softmax, so even logits
of 10,000 give a finite loss, and its gradient is simply
``(softmax(logits) - one_hot(labels)) / N``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _kernels as K
from . import _validate as V
from ._validate import as_float_array, check_finite

__all__ = ["CrossEntropyLoss", "one_hot"]


def one_hot(labels: Any, num_classes: int) -> np.ndarray:
    """One-hot encode integer class labels: row ``i`` is all zeros but a 1 at ``labels[i]``.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
    num_classes : int

    Returns
    -------
    numpy.ndarray
        float32 array of shape ``(N, num_classes)``.

    Examples
    --------
    >>> one_hot([0, 2], 3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    num_classes = V.positive_int(num_classes, "num_classes", "one_hot")
    labels = V.class_labels(labels, "one_hot", num_classes=num_classes)
    out = np.zeros((labels.shape[0], num_classes), dtype=np.float32)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


class CrossEntropyLoss:
    """Mean softmax cross-entropy over a batch, as ``torch.nn.CrossEntropyLoss``.

    Examples
    --------
    >>> loss = CrossEntropyLoss()
    >>> round(loss.forward(np.array([[2.0, 1.0, 0.1]]), np.array([0])), 4)
    0.417
    >>> loss.backward().round(3)
    array([[-0.341,  0.242,  0.099]])
    """

    def __init__(self) -> None:
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def forward(self, logits: Any, labels: Any) -> float:
        """Loss of a batch.

        Parameters
        ----------
        logits : array_like, shape (N, C)
            Raw class scores, one row per example.
        labels : array_like
            Integer classes of shape ``(N,)`` in ``[0, C)``, or target
            probabilities of shape ``(N, C)`` (one-hot rows, each summing to 1).

        Returns
        -------
        float
            ``-mean_i sum_c target[i, c] * log_softmax(logits)[i, c]``.

        Raises
        ------
        ValueError
            Shapes that do not fit, labels out of range, NaN/inf logits.
        """
        where = "CrossEntropyLoss.forward"
        z = as_float_array(logits, "logits", where)
        if z.ndim != 2:
            raise ValueError(f"{where}: expected logits of shape (N, C); got shape {z.shape}")
        check_finite(z, "logits", where)
        N, C = z.shape
        if N == 0 or C == 0:
            raise ValueError(f"{where}: expected a non-empty batch of logits (N, C) with N, C >= 1; got shape {z.shape}")
        y = np.asarray(labels)
        if y.ndim == 2:
            if y.shape != z.shape:
                raise ValueError(f"{where}: one-hot labels must have the logits' shape {z.shape}; got {y.shape}")
            target = as_float_array(y, "labels", where).astype(z.dtype, copy=False)
            check_finite(target, "labels", where)
            if target.min() < 0 or not np.allclose(target.sum(axis=1), 1.0, atol=1e-4):
                raise ValueError(f"{where}: one-hot labels must be non-negative rows that sum to 1")
        else:
            y = V.class_labels(y, where, num_classes=C)
            if y.shape[0] != N:
                raise ValueError(f"{where}: got {N} rows of logits but {y.shape[0]} labels")
            target = np.zeros_like(z)
            target[np.arange(N), y] = 1.0
        log_p = K.log_softmax(z, axis=1)  # log of the softmax probabilities, computed without log(0)
        self._cache = (np.exp(log_p), target)
        return float(-(target * log_p).sum() / N)

    def backward(self) -> np.ndarray:
        """Gradient of the latest loss with respect to the logits, ``(softmax - target) / N``."""
        if self._cache is None:
            raise RuntimeError("CrossEntropyLoss.backward: call forward before backward")
        p, target = self._cache
        return (p - target) / p.shape[0]

    __call__ = forward

    def __repr__(self) -> str:
        return "CrossEntropyLoss()"
