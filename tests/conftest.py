"""Shared fixtures: a small, fixed slice of MNIST so training tests stay fast."""

from __future__ import annotations

import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from cnnlib.data import load_mnist


def pytest_configure(config):
    """``make test`` runs two test processes, one per core (pytest-xdist). Each then uses one BLAS thread,
    and so do the notebook kernels and command lines it starts: two processes with two BLAS threads each
    on two cores wait for each other at every matrix product (see the README's "On a busy machine").
    The process keeps its pool of two threads, so a test that asks for two (``threadpool_limits(2)``,
    ``fit(blas_threads=2)``) gets them.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"
        threadpool_limits(1)


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
