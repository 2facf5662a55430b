"""Scores for classifiers: accuracy and the confusion matrix.

A confusion matrix counts, for every true class (row) and predicted class
(column), how many examples landed there; the diagonal holds the correct ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _validate as V
from ._validate import class_labels

__all__ = ["accuracy", "confusion_matrix"]


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of predictions equal to the true labels.

    Parameters
    ----------
    y_true, y_pred : array_like of int, (N,)
        True and predicted class labels.

    Returns
    -------
    float
        A number in [0, 1].

    Examples
    --------
    >>> accuracy([0, 1, 2, 2], [0, 1, 1, 2])
    0.75
    """
    t = class_labels(y_true, "accuracy", "y_true")
    p = class_labels(y_pred, "accuracy", "y_pred")
    if t.shape != p.shape or t.size == 0:
        raise ValueError(f"accuracy: y_true and y_pred must be non-empty and of equal length, got {t.shape} and {p.shape}")
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Count (true class, predicted class) pairs.

    Parameters
    ----------
    y_true, y_pred : array_like of int, (N,)
        True and predicted class labels in ``0 .. num_classes - 1``.
    num_classes : int, optional
        Number of classes; by default one more than the largest label seen.

    Returns
    -------
    numpy.ndarray of int64, (num_classes, num_classes)
        ``cm[i, j]`` is the number of examples of class ``i`` predicted as ``j``.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    t = class_labels(y_true, "confusion_matrix", "y_true")
    p = class_labels(y_pred, "confusion_matrix", "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: y_true and y_pred must have equal length, got {t.shape} and {p.shape}")
    seen = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if num_classes is None:
        num_classes = seen
    elif V.positive_int(num_classes, "num_classes", "confusion_matrix") < seen:
        raise ValueError(f"confusion_matrix: labels must be < num_classes={num_classes}, found {seen - 1}")
    cm = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return cm.reshape(num_classes, num_classes).astype(np.int64)  # (true, predicted)
