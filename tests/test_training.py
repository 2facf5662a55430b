"""fit, evaluate, predict, save and load, on small slices of real MNIST."""

from __future__ import annotations

import numpy as np
import pytest

import cnnlib as c


def small_cnn(seed: int = 0) -> c.Sequential:
    return c.Sequential(
        c.Conv2d(1, 4, 3, padding=1, seed=seed),
        c.BatchNorm2d(4),
        c.ReLU(),
        c.MaxPool2d(2),
        c.Flatten(),
        c.Linear(4 * 14 * 14, 10, seed=seed + 1),
    )


def test_fit_learns_mnist_slice(mnist_small):
    (x, y), (xv, yv) = mnist_small
    model = small_cnn()
    seen = []
    history = c.fit(
        model, x, y, epochs=3, batch_size=64, validation_data=(xv, yv), progress=False,
        callback=lambda epoch, h: seen.append((epoch, len(h.loss))),
    )
    assert seen == [(0, 1), (1, 2), (2, 3)]
    assert len(history.loss) == len(history.accuracy) == len(history.val_accuracy) == len(history.epoch_time) == 3
    assert history.loss[-1] < history.loss[0]
    # 3,000 images, 3 epochs, 4 filters: about 87%, far above chance (10%).
    assert history.val_accuracy[-1] > 0.80, history.as_dict()
    ev = c.evaluate(model, xv, yv)
    assert ev.accuracy == pytest.approx(history.val_accuracy[-1])
    assert ev.loss == pytest.approx(history.val_loss[-1])


def test_overfits_a_tiny_batch(mnist_small):
    (x, y), _ = mnist_small
    x, y = x[:32], y[:32]
    model = small_cnn()
    history = c.fit(model, x, y, epochs=40, batch_size=32, progress=False,
                    optimizer=c.Adam(model.parameters(), lr=1e-2))
    assert history.accuracy[-1] == 1.0
    assert c.evaluate(model, x, y).accuracy == 1.0


def test_fit_is_deterministic_given_the_seeds(mnist_small):
    (x, y), _ = mnist_small
    x, y = x[:512], y[:512]
    runs = []
    for shuffle_seed in (0, 0, 1):
        model = small_cnn(seed=3)
        c.fit(model, x, y, epochs=1, batch_size=64, seed=shuffle_seed, progress=False)
        runs.append(model.params["5.W"].copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    assert not np.array_equal(small_cnn(seed=1).params["0.W"], small_cnn(seed=2).params["0.W"])


def test_training_is_float32(mnist_small):
    (x, y), _ = mnist_small
    model = small_cnn()
    c.fit(model, x[:128], y[:128], epochs=1, progress=False)
    assert all(v.dtype == np.float32 for v in model.state_dict().values())
    assert model.forward(x[:4]).dtype == np.float32


def test_fit_stops_clearly_when_the_loss_diverges(mnist_small):
    (x, y), _ = mnist_small
    model = c.Sequential(c.Flatten(), c.Linear(784, 10, seed=0))
    with pytest.raises(c.TrainingDivergedError, match=r"epoch 1, batch \d+: the loss (became NaN|exploded).*learning rate"):
        c.fit(model, x * 1e3, y, epochs=1, batch_size=64, progress=False,
              optimizer=c.SGD(model.parameters(), lr=1e30))


def test_lr_schedule_and_progress_bar(mnist_small, capsys):
    (x, y), _ = mnist_small
    model = small_cnn()
    opt = c.SGD(model.parameters(), lr=0.1)
    lrs = []
    c.fit(model, x[:256], y[:256], epochs=2, optimizer=opt, progress=True,
          lr_schedule=lambda e: 0.1 / (e + 1), callback=lambda e, h: lrs.append(opt.lr))
    assert lrs == [0.1, 0.05]
    assert "epoch 2/2" in capsys.readouterr().err  # tqdm writes to stderr


def test_fit_rejects_bad_data():
    model = small_cnn()
    x = np.zeros((10, 1, 28, 28), np.float32)
    with pytest.raises(ValueError, match="10 examples but y has 9 labels"):
        c.fit(model, x, np.zeros(9, int), progress=False)
    with pytest.raises(TypeError, match="y must be integers"):
        c.fit(model, x, np.zeros(10), progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        c.fit(model, x, np.zeros(10, int), epochs=0, progress=False)
    bad = x.copy()
    bad[3, 0, 5, 5] = np.nan
    with pytest.raises(c.NonFiniteError, match="NaN"):
        c.fit(model, bad, np.zeros(10, int), progress=False)


def test_predict_and_probabilities(mnist_small):
    (x, y), _ = mnist_small
    model = small_cnn()
    c.fit(model, x, y, epochs=1, progress=False)
    probs = c.predict(model, x[:300], batch_size=128, return_probs=True)
    classes = c.predict(model, x[:300], batch_size=128)
    assert probs.shape == (300, 10) and classes.shape == (300,)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(classes, probs.argmax(axis=1))
    # Inference mode: predictions do not depend on how the data is batched.
    np.testing.assert_array_equal(classes, c.predict(model, x[:300], batch_size=7))


def test_save_load_roundtrip(tmp_path, mnist_small):
    (x, y), (xv, yv) = mnist_small
    model = small_cnn()
    c.fit(model, x[:512], y[:512], epochs=1, progress=False)
    path = c.save(model, tmp_path / "weights")
    assert path.suffix == ".npz" and path.exists()
    fresh = small_cnn(seed=99)
    assert not np.array_equal(fresh.params["0.W"], model.params["0.W"])
    c.load(fresh, path)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k], v)
    np.testing.assert_array_equal(c.predict(fresh, xv), c.predict(model, xv))
    np.testing.assert_array_equal(fresh[1].running_var, model[1].running_var)


def test_load_errors(tmp_path):
    model = small_cnn()
    path = c.save(model, tmp_path / "m.npz")
    other = c.Sequential(c.Flatten(), c.Linear(784, 10))
    with pytest.raises(KeyError, match="does not fit this model"):
        c.load(other, path)
    wider = c.Sequential(
        c.Conv2d(1, 8, 3, padding=1), c.BatchNorm2d(8), c.ReLU(), c.MaxPool2d(2), c.Flatten(), c.Linear(8 * 14 * 14, 10)
    )
    with pytest.raises(ValueError, match="shape"):
        c.load(wider, path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        c.load(model, tmp_path / "missing.npz")
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not written by cnnlib.save"):
        c.load(model, tmp_path / "foreign.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        c.load(model, tmp_path / "junk.npz")


def test_summary_and_parameter_count():
    model = c.mnist_cnn()
    # conv1 16*9+16, bn1 32, conv2 32*16*9+32, bn2 64, dense 1568*10+10
    assert model.num_parameters() == 160 + 32 + 4640 + 64 + 15690
    table = model.summary((1, 1, 28, 28))
    assert "(1, 32, 7, 7)" in table and "(1, 10)" in table and "20,586" in table
    rm = model[1].running_mean.copy()
    model.summary((2, 1, 28, 28))
    np.testing.assert_array_equal(model[1].running_mean, rm)  # summary runs in inference mode


def test_adam_keeps_float32_and_reuses_its_buffers():
    layer = c.Linear(3, 2, seed=0)
    opt = c.Adam(layer.parameters(), lr=1e-2)
    layer.grads = {"W": np.ones((2, 3), np.float32), "b": np.ones(2, np.float32)}
    W = layer.params["W"]
    opt.step()
    buffers = [id(s["scratch"]) for s in opt.state]
    opt.step()
    assert [id(s["scratch"]) for s in opt.state] == buffers
    assert layer.params["W"] is W and W.dtype == np.float32
    assert all(v.dtype == np.float32 for s in opt.state for v in s.values())
    # two steps of size lr (Adam's first steps move by lr in the gradient's sign)
    np.testing.assert_allclose(W, c.Linear(3, 2, seed=0).params["W"] - 2e-2, rtol=1e-5)


