"""Shared fixtures: a small, fixed slice of MNIST so training tests stay fast."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.data import load_mnist


@pytest.fixture(scope="session")
def mnist():
    """The full data set, loaded once per test session."""
    return load_mnist()


@pytest.fixture(scope="session")
def mnist_small(mnist):
    """The first 3,000 training and 1,000 test images."""
    (x_train, y_train), (x_test, y_test) = mnist
    return (x_train[:3000], y_train[:3000]), (x_test[:1000], y_test[:1000])


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
