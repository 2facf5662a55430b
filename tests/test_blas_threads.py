"""fit's BLAS thread count under contention (``cnnlib.training._BlasThreads``).

The runner drops OpenBLAS to one thread while other tasks want the CPU (two
threads that meet after every small matrix product collapse when one of them
waits for a core) and goes back when the machine is quiet. The numbers must not
depend on it, and fit must leave the thread count as it found it.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnnlib as c
import cnnlib.training as T

needs_openblas = pytest.mark.skipif(not T._BlasThreads().available, reason="threadpoolctl found no BLAS library to control")


def train(x, y, threads: int) -> dict[str, np.ndarray]:
    model = c.mnist_cnn(seed=0)
    blas = T._BlasThreads()
    blas.set(threads)
    try:
        c.fit(model, x, y, epochs=1, batch_size=64, progress=False)
    finally:
        blas.restore()
    return model.state_dict()


@needs_openblas
def test_one_or_two_blas_threads_give_bit_for_bit_the_same_training(mnist_small, monkeypatch):
    (x, y), _ = mnist_small
    monkeypatch.setattr(T._BlasThreads, "adapt", lambda self, step: None)  # keep the count set here
    one, two = train(x[:640], y[:640], 1), train(x[:640], y[:640], 2)
    assert one.keys() == two.keys()
    for k in one:
        assert np.array_equal(one[k], two[k]), k


@needs_openblas
def test_one_thread_while_others_run_and_back_when_quiet(monkeypatch):
    blas = T._BlasThreads()
    start = blas.start
    try:
        blas.start = blas.now = 2
        blas.set(2)
        busy = iter([5, 5, 1, 1])
        monkeypatch.setattr(T, "_runnable_tasks", lambda: next(busy))
        blas.adapt(1)  # not a multiple of `every`: no look
        assert blas.now == 2
        blas.adapt(0)
        assert blas.now == 1 and blas.current() == 1
        blas.adapt(blas.every)
        assert blas.now == 1  # still busy
        blas.adapt(2 * blas.every)
        assert blas.now == 2 and blas.current() == 2  # quiet again
    finally:
        blas.start = start
        blas.restore()
    assert blas.current() == start


@needs_openblas
def test_fit_leaves_the_thread_count_as_it_found_it(mnist_small, monkeypatch):
    (x, y), _ = mnist_small
    before = T._BlasThreads().start
    monkeypatch.setattr(T, "_runnable_tasks", lambda: 99)  # a very busy machine: fit uses one thread
    c.fit(c.mnist_cnn(seed=0), x[:128], y[:128], epochs=1, progress=False)
    assert T._BlasThreads().start == before


def test_runnable_tasks_reads_proc_loadavg_or_gives_none():
    n = T._runnable_tasks()
    assert n is None or (isinstance(n, int) and n >= 1)
