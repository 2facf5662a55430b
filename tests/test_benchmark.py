"""benchmarks/benchmark.py still runs (a tiny version of it), so that it cannot rot unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "benchmark.py"


def test_benchmark_script_runs_on_a_slice():
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--limit", "256", "--epochs", "1", "--no-torch", "--repeats", "2", "--threads", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "threads pinned to 1: OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1, MKL_NUM_THREADS=1" in out
    assert "cpu:" in out and "numpy" in out and "torch: not used" in out
    for layer in ("(0) Conv2d", "(1) BatchNorm2d", "(3) MaxPool2d", "(9) Linear", "fused in fit: layers 0-7",
                  "training step (fwd, loss, bwd, Adam)"):
        assert layer in out
    assert "epoch 1 cnnlib" in out and "256 images" in out


def test_benchmark_prints_multiply_adds_fraction_of_peak_and_contention():
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--limit", "128", "--epochs", "1", "--no-torch", "--no-layers", "--compete",
         "--threads", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "190.9 million multiply-adds" in out  # mnist_cnn at batch 64
    assert "FLOPs/cycle" in out or "peak unknown" in out
    assert "MAC" in out and "of peak" in out
    assert "with a competing CPU-bound process" in out
    assert "== contention: epoch time with one competing CPU-bound process / alone (1 threads)" in out


def test_benchmark_runs_once_per_thread_count():
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--threads", "1", "2", "--limit", "128", "--epochs", "1", "--no-torch", "--no-layers"],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("######## --threads") == 2
    assert "threads pinned to 1: OPENBLAS_NUM_THREADS=1" in res.stdout
    assert "threads pinned to 2: OPENBLAS_NUM_THREADS=2" in res.stdout
