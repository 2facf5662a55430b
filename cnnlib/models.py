"""Ready-made networks used by the course, built from cnnlib layers."""

from __future__ import annotations

import numpy as np

from . import _validate as V
from .layers import BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential

__all__ = ["mnist_cnn"]


def mnist_cnn(channels: tuple[int, int] = (16, 32), seed: int | None = 0) -> Sequential:
    """The course's reference MNIST network.

    ``conv 3x3 (1 -> c1) -> batch norm -> ReLU -> max-pool 2x2 ->
    conv 3x3 (c1 -> c2) -> batch norm -> ReLU -> max-pool 2x2 -> flatten -> dense (c2*7*7 -> 10)``,
    with padding 1 so that 28x28 becomes 14x14 and then 7x7.

    Parameters
    ----------
    channels : (int, int), default (16, 32)
        Filters in the two convolutional layers.
    seed : int or None, default 0
        Seeds every layer's initialisation (each layer gets its own stream).

    Returns
    -------
    Sequential

    Raises
    ------
    TypeError, ValueError
        If ``channels`` is not a pair of positive integers, or ``seed`` not None or an integer >= 0.
    """
    where = "mnist_cnn"
    if not isinstance(channels, (tuple, list)) or len(channels) != 2:
        raise TypeError(f"{where}: channels must be a pair (c1, c2) of filter counts, e.g. (16, 32); got {channels!r}")
    c1, c2 = (V.positive_int(c, f"channels[{i}]", where) for i, c in enumerate(channels))
    seed = V.seed(seed, where)
    s = np.random.SeedSequence(seed).generate_state(3) if seed is not None else [None] * 3
    return Sequential(
        Conv2d(1, c1, 3, padding=1, seed=int(s[0]) if seed is not None else None),
        BatchNorm2d(c1),
        ReLU(),
        MaxPool2d(2),
        Conv2d(c1, c2, 3, padding=1, seed=int(s[1]) if seed is not None else None),
        BatchNorm2d(c2),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(c2 * 7 * 7, 10, seed=int(s[2]) if seed is not None else None),
    )
