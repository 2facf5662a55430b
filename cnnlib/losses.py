"""The loss that trains a classifier: softmax cross-entropy.

``CrossEntropyLoss`` turns a batch of raw scores (logits) into probabilities
with softmax and measures how little probability the correct classes got:
``-mean(log p[correct class])``. It works through log-softmax, so even logits
of 10,000 give a finite loss, and its gradient is simply
``(softmax(logits) - one_hot(labels)) / N``. Scores of shape (N, C, H, W) with
labels (N, H, W) give the same loss with one example per pixel (as PyTorch's).
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


def _label_shape_text(logits_shape: tuple[int, ...]) -> str:
    """The labels' expected shape, named and numbered: ``(N,) = (3,)`` or ``(N, H, W) = (2, 4, 4)``."""
    names = {2: "(N,)", 4: "(N, H, W)"}.get(len(logits_shape), "(N, d1, ..., dk)")
    return f"{names} = {(logits_shape[0], *logits_shape[2:])}"


def _position_labels(y: np.ndarray, logits_shape: tuple[int, ...], where: str) -> np.ndarray:
    """Integer labels of shape ``(N, d1, ..., dk)``, one class per position, each in ``[0, C)``."""
    want = (logits_shape[0], *logits_shape[2:])
    if y.shape != want:
        raise ValueError(
            f"{where}: logits of shape {logits_shape} need labels of shape {_label_shape_text(logits_shape)}, "
            f"one class number per position; got labels of shape {y.shape}"
        )
    if y.size and y.dtype.kind not in "iu":
        raise TypeError(f"{where}: labels must be integers (class numbers, shape {_label_shape_text(logits_shape)}); got dtype {y.dtype}")
    return V.class_labels(y, where, num_classes=logits_shape[1], per_position=True)  # the range check


class CrossEntropyLoss:
    """Mean softmax cross-entropy, as ``torch.nn.CrossEntropyLoss``: one example per row, or per pixel.

    The class scores sit on axis 1, as in PyTorch: logits ``(N, C)`` with one
    label per example, or ``(N, C, H, W)`` (any ``(N, C, d1, ..., dk)``) with
    one label per position, as a segmentation network outputs them. Each
    position is then one example: the loss is the mean over all ``N*H*W``
    positions, exactly the loss of the flattened ``(N*H*W, C)`` rows.

    Examples
    --------
    >>> loss = CrossEntropyLoss()
    >>> round(loss.forward(np.array([[2.0, 1.0, 0.1]]), np.array([0])), 4)
    0.417
    >>> loss.backward().round(3)
    array([[-0.341,  0.242,  0.099]])

    One image of 1x2 pixels and 2 classes: the first pixel's scores favour
    class 0 (its label), the second pixel's are a tie (loss ``ln 2``); the mean is
    ``(ln(1 + e^-2) + ln 2) / 2 = (0.1269 + 0.6931) / 2``:

    >>> scores = np.array([[[[2.0, 0.0]], [[0.0, 0.0]]]])   # (N, C, H, W) = (1, 2, 1, 2)
    >>> round(loss.forward(scores, np.array([[[0, 1]]])), 4)  # labels (N, H, W) = (1, 1, 2)
    0.41
    """

    def __init__(self) -> None:
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def forward(self, logits: Any, labels: Any) -> float:
        """Loss of a batch: the mean, over all examples (or positions), of ``-log p[correct class]``.

        Parameters
        ----------
        logits : array_like of float, shape (N, C) or (N, C, H, W)
            Raw class scores, class axis 1: one row per example, or a score
            map per class (in general ``(N, C, d1, ..., dk)``). float32 stays
            float32; integers become float64.
        labels : array_like
            Integer classes in ``[0, C)`` of shape ``(N,)``, or ``(N, H, W)``
            for ``(N, C, H, W)`` logits (``(N, d1, ..., dk)`` in general), or
            target probabilities of the logits' shape (one-hot, or each
            position's ``C`` values non-negative and summing to 1 along axis 1).

        Returns
        -------
        float
            ``-sum(target * log_softmax(logits, axis=1)) / M`` where ``M`` is the
            number of examples or positions, ``N * d1 * ... * dk``
            (PyTorch's ``reduction="mean"``).

        Raises
        ------
        ValueError
            Logits with fewer than 2 axes or no entries, labels whose shape does
            not fit the logits, labels out of range, probabilities that do not
            sum to 1.
        TypeError
            Labels that are not integers (and not probabilities of the logits'
            shape), logits that are not numbers.
        NonFiniteError
            NaN or infinite logits (a ValueError).

        Notes
        -----
        Shapes and the ``mean`` over positions follow PyTorch's
        ``torch.nn.CrossEntropyLoss`` (class axis 1, "K-dimensional case").
        The class weights, ``ignore_index`` and label smoothing PyTorch offers
        are not implemented.
        """
        where = "CrossEntropyLoss.forward"
        z = as_float_array(logits, "logits", where)
        if z.ndim < 2:
            raise ValueError(f"{where}: expected logits of shape (N, C), or (N, C, H, W) for a score per pixel; got shape {z.shape}")
        check_finite(z, "logits", where)
        if z.size == 0:
            raise ValueError(f"{where}: expected a non-empty batch of logits (N, C, ...) with N, C >= 1; got shape {z.shape}")
        N, C = z.shape[:2]
        y = np.asarray(labels)
        if y.ndim == z.ndim:  # probabilities (one-hot or soft), one set of C per example or position
            if y.shape != z.shape:
                raise ValueError(f"{where}: one-hot labels must have the logits' shape {z.shape}; got {y.shape}")
            target = as_float_array(y, "labels", where).astype(z.dtype, copy=False)
            check_finite(target, "labels", where)
            if target.min() < 0 or not np.allclose(target.sum(axis=1), 1.0, atol=1e-4):
                raise ValueError(f"{where}: one-hot labels must be non-negative rows that sum to 1 (along the class axis 1)")
        elif z.ndim == 2:  # one label per example
            y = V.class_labels(y, where, num_classes=C)
            if y.shape[0] != N:
                raise ValueError(f"{where}: got {N} rows of logits but {y.shape[0]} labels")
            target = np.zeros_like(z)
            target[np.arange(N), y] = 1.0
        else:  # one label per position
            y = _position_labels(y, z.shape, where)
            target = np.zeros_like(z)
            np.put_along_axis(target, y[:, None], 1.0, axis=1)  # target[n, y[n, i, j], i, j] = 1
        log_p = K.log_softmax(z, axis=1)  # log of the softmax probabilities over the classes, without log(0)
        self._cache = (np.exp(log_p), target)
        return float(-(target * log_p).sum() / (z.size // C))

    def backward(self) -> np.ndarray:
        """Gradient of the latest loss with respect to the logits, ``(softmax - target) / M``.

        Returns
        -------
        numpy.ndarray
            The logits' shape and dtype; ``M`` is the number of examples
            (or positions) the loss averaged over.

        Raises
        ------
        RuntimeError
            If ``forward`` has not run yet.
        """
        if self._cache is None:
            raise RuntimeError("CrossEntropyLoss.backward: call forward before backward")
        p, target = self._cache
        return (p - target) / (p.size // p.shape[1])

    __call__ = forward

    def __repr__(self) -> str:
        return "CrossEntropyLoss()"
