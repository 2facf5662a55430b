"""fit's ``blas_threads``: the BLAS thread count for one training run, set and put back.

Two threads that meet after every small matrix product collapse when one of them waits for a
core, so ``blas_threads=1`` keeps training fast on a busy machine. fit never changes the count
on its own: OpenBLAS may sum a product in another order with another count, so a run's numbers
would depend on how busy the machine was.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import cnnlib as c



def blas_threads_now() -> int:
    """The thread count of NumPy's BLAS, as threadpoolctl reads it."""
    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


needs_blas = pytest.mark.skipif(not any(i["user_api"] == "blas" for i in threadpool_info()),
                                reason="threadpoolctl found no BLAS library to control")


@needs_blas
def test_blas_threads_is_set_for_the_run_and_put_back(mnist_small):
    (x, y), _ = mnist_small
    seen = []
    with threadpool_limits(2, user_api="blas"):
        c.fit(c.mnist_cnn(seed=0), x[:128], y[:128], epochs=2, progress=False, blas_threads=1,
              callback=lambda epoch, history: seen.append(blas_threads_now()))
        assert seen == [1, 1]
        assert blas_threads_now() == 2
        c.fit(c.mnist_cnn(seed=0), x[:128], y[:128], epochs=1, progress=False,
              callback=lambda epoch, history: seen.append(blas_threads_now()))
        assert seen[-1] == 2  # None: left alone


@needs_blas
def test_put_back_after_an_error_too(mnist_small):
    (x, y), _ = mnist_small

    def stop(epoch, history):
        raise RuntimeError("stop")

    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(RuntimeError, match="stop"):
            c.fit(c.mnist_cnn(seed=0), x[:128], y[:128], epochs=2, progress=False, blas_threads=1, callback=stop)
        assert blas_threads_now() == 2


@needs_blas
def test_the_reference_network_trains_the_same_with_one_or_two_threads(mnist_small):
    """For mnist_cnn's products the count does not change a single bit (not true of every shape)."""
    (x, y), _ = mnist_small
    runs = []
    for n in (1, 2):
        model = c.mnist_cnn(seed=0)
        c.fit(model, x[:640], y[:640], epochs=1, progress=False, blas_threads=n)
        runs.append(model.state_dict())
    for k in runs[0]:
        assert np.array_equal(runs[0][k], runs[1][k]), k


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (1.5, ValueError), (True, ValueError), ("2", ValueError)])
def test_bad_blas_threads_is_refused_before_anything_changes(mnist_small, bad, error):
    (x, y), _ = mnist_small
    model = c.mnist_cnn(seed=0)
    before = model.state_dict()
    with pytest.raises(error, match="fit: blas_threads"):
        c.fit(model, x[:64], y[:64], epochs=1, progress=False, blas_threads=bad)
    assert model.needs_input_grad is True
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
