"""The images the explorers offer: MNIST test digits, small test images, and images for pooling.

MNIST is read from the repository's files (:func:`cnnlib.data.load_mnist`) only
when a digit is needed; the small images (a square, a line, a cross, a
checkerboard and the lecture notes' examples) are built here.
"""

from __future__ import annotations

import numpy as np


def _named_images(images: np.ndarray, labels: np.ndarray | None) -> list[tuple[str, np.ndarray]]:
    """The caller's images as (name, image) choices: "image 0", or "image 0 (label 7)" with labels."""
    return [
        (f"image {i}" + (f" (label {int(labels[i])})" if labels is not None else ""), images[i])
        for i in range(len(images))
    ]


def _mnist_digits() -> list[tuple[str, np.ndarray]]:
    """The first test image of each class 0..9 (loads MNIST from the repository's files)."""
    from ..data import load_mnist

    _, (x_test, y_test) = load_mnist()
    out = []
    for digit in range(10):
        i = int(np.flatnonzero(y_test == digit)[0])
        out.append((f"MNIST test #{i}: a {digit}", x_test[i, 0].astype(np.float64)))
    return out


def _test_images() -> list[tuple[str, np.ndarray]]:
    """Small images whose convolutions are easy to follow by hand, and the lecture notes' examples."""
    square = np.zeros((7, 7))
    square[2:5, 2:5] = 1.0
    cross = np.zeros((7, 7))
    cross[3, :] = cross[:, 3] = 1.0
    checker = (np.add.outer(np.arange(8), np.arange(8)) % 2).astype(np.float64)
    return [
        ("square (7x7)", square),
        ("diagonal line (7x7)", np.eye(7)),
        ("cross (7x7)", cross),
        ("checkerboard (8x8)", checker),
        # "The Network" (K. Fu), sections 4.4 and 4.3; "Some notes on CNN", the 2x2 filter example
        ("notes: 4x4 image (Fu, zero padding)", np.array([[1, 2, 3, 4], [4, 3, 2, 1], [1, 2, 3, 4], [4, 3, 2, 1]], float)),
        ("notes: 2x2 image (Fu, stride)", np.array([[1, 2], [4, 5]], float)),
        ("notes: 3x4 image (Some notes on CNN)", np.array([[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]], float)),
    ]


def _pooling_images() -> list[tuple[str, np.ndarray]]:
    """The pooling explorer's own images: small integers first (their numbers fit in the cells)."""
    ints = np.random.default_rng(0).integers(0, 10, size=(8, 8)).astype(np.float64)
    example = np.array([[1, 9, 2, 4], [3, 5, 8, 6], [-1, 0, 7, -2], [-3, -4, 1, 3]], dtype=np.float64)
    tests = dict(_test_images())
    return [
        ("integers 8x8", ints),
        ("example 4x4", example),
        ("square (7x7)", tests["square (7x7)"]),
        ("checkerboard (8x8)", tests["checkerboard (8x8)"]),
    ]


_MNIST_CHOICE = "MNIST test digit #0"  # the pooling explorer offers it last, loaded only when chosen


def _mnist_test_digit() -> np.ndarray:
    """MNIST's first test image, float64 ``(28, 28)``; ValueError saying so if MNIST cannot be loaded."""
    from ..data import load_mnist

    try:
        _, (x_test, _) = load_mnist()
    except Exception as exc:  # missing or damaged files: say so in the text, do not raise from a callback
        raise ValueError(f"could not load MNIST: {exc}") from exc
    return x_test[0, 0].astype(np.float64)
