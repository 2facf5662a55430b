"""The command-line entry points run end to end (on a slice of the data, to stay fast)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import cnnlib as c
from cnnlib import train


def test_train_cli_on_a_slice(tmp_path, capsys):
    out = tmp_path / "w.npz"
    assert train.main(["--epochs", "2", "--limit", "2000", "--out", str(out), "--no-progress", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "MNIST: 2,000 training and 10,000 test images" in text
    assert "epoch 1/2:" in text and "epoch 2/2:" in text
    assert "test accuracy" in text and f"weights saved to {out}" in text
    model = c.load(c.mnist_cnn(), out)
    (_, _), (x_test, y_test) = c.load_mnist()
    acc = c.evaluate(model, x_test, y_test).accuracy
    assert acc > 0.85  # 2,000 images, 2 epochs
    assert f"test accuracy {acc:.2%}" in text


def test_train_cli_help_runs_as_a_module():
    res = subprocess.run([sys.executable, "-m", "cnnlib.train", "--help"], capture_output=True, text=True, check=True)
    assert "--epochs" in res.stdout and "--data-dir" in res.stdout


def test_lr_schedule_decays_from_lr_to_a_twentieth():
    lrs = [train.lr_at(e, 5, 2e-3) for e in range(5)]
    assert lrs[0] == 2e-3 and np.isclose(lrs[-1], 1e-4)
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
    assert train.lr_at(0, 1, 1e-3) == 1e-3


def test_train_cli_blas_threads_gives_the_same_model(tmp_path, capsys, monkeypatch):
    """--blas-threads reaches fit; for the reference network one thread trains bit-for-bit the same weights."""
    seen = []
    real_fit = train.fit
    monkeypatch.setattr(train, "fit", lambda *a, **k: seen.append(k["blas_threads"]) or real_fit(*a, **k))
    outs = []
    for threads in (["--blas-threads", "1"], []):
        outs.append(tmp_path / f"w{len(outs)}.npz")
        assert train.main(["--epochs", "1", "--limit", "640", "--out", str(outs[-1]), "--no-progress", *threads]) == 0
    assert seen == [1, None]
    a, b = (c.load(c.mnist_cnn(), p).state_dict() for p in outs)
    assert all(np.array_equal(a[k], b[k]) for k in a)
