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




# ---------------------------------------------------------------------------
# No lost work, no silent divergence (issue 12)
# ---------------------------------------------------------------------------


def snapshot(model: c.Layer) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_unchanged(model: c.Layer, before: dict[str, np.ndarray]) -> None:
    after = model.state_dict()
    assert after.keys() == before.keys()
    for k, v in before.items():
        np.testing.assert_array_equal(after[k], v, err_msg=k)


@pytest.mark.parametrize("fused", [False, True], ids=["layers", "fused-block"])
def test_default_fit_is_the_plain_loop(mnist_small, fused):
    """fit's checks, drop_last=False and the runner change no number: the same weights as the plain loop.

    With batch norm the runner fuses conv -> batch norm -> ReLU -> max-pool
    (cnnlib/_runner.py): the same weights up to float rounding.
    """
    (x, y), _ = mnist_small
    x, y = x[:300], y[:300]  # 300 = 4 batches of 64 + 44: a short last batch

    def build() -> c.Sequential:
        if fused:
            return small_cnn()
        return c.Sequential(c.Conv2d(1, 4, 3, padding=1, seed=0), c.ReLU(), c.MaxPool2d(2), c.Flatten(), c.Linear(4 * 14 * 14, 10, seed=0))

    fitted, by_hand = build(), build()
    c.fit(fitted, x, y, epochs=2, batch_size=64, seed=5, progress=False,
          optimizer=c.SGD(fitted.parameters(), lr=0.05, momentum=0.9), lr_schedule=lambda e: 0.05 / (e + 1))
    rng, opt, loss = np.random.default_rng(5), c.SGD(by_hand.parameters(), lr=0.05, momentum=0.9), c.CrossEntropyLoss()
    for epoch in range(2):
        opt.lr = 0.05 / (epoch + 1)
        order = rng.permutation(len(x))
        for start in range(0, len(x), 64):
            idx = order[start : start + 64]
            loss.forward(by_hand.forward(x[idx], training=True), y[idx])
            by_hand.backward(loss.backward())
            opt.step()
    for k, v in by_hand.state_dict().items():
        if fused:  # rounding differs; the conv biases' gradients are rounding noise around 0 (batch norm cancels them)
            np.testing.assert_allclose(fitted.state_dict()[k], v, rtol=1e-4, atol=1e-5, err_msg=k)
        else:
            np.testing.assert_array_equal(fitted.state_dict()[k], v, err_msg=k)


def test_issue_divergence_with_a_huge_learning_rate_is_not_returned_normally(mnist_small):
    # SGD with lr=1e3 used to return normally with the loss at 1e17 and running_var at inf
    (x, y), _ = mnist_small
    model = small_cnn()
    with pytest.raises(c.TrainingDivergedError, match=r"fit: training stopped .*lr=1000.*ten times smaller") as info:
        c.fit(model, x[:1024], y[:1024], epochs=3, optimizer=c.SGD(model.parameters(), lr=1e3), progress=False)
    assert isinstance(info.value.history, c.History)
    assert model[0].needs_input_grad is True


def test_a_running_statistic_that_is_no_longer_finite_stops_fit(mnist_small):
    class Poisoned(c.BatchNorm2d):
        """Batch statistics in training mode stay fine; the running variance (used for inference) overflows."""

        def forward(self, x, training=True):
            y = super().forward(x, training)
            if training:
                self.buffers["running_var"][1] = np.inf
            return y

    (x, y), _ = mnist_small
    model = small_cnn()
    model.layers[1] = Poisoned(4)
    with pytest.raises(c.TrainingDivergedError, match=r"end of epoch 1: the model's 1.running_var is no longer finite \(0 NaN and 1 infinite") as info:
        c.fit(model, x[:128], y[:128], epochs=3, progress=False)
    assert info.value.history.loss == []  # stopped before recording the broken epoch


def test_the_loss_limit_is_relative_to_the_start():
    """A million times the larger of the first loss and ln(classes): training that works never gets near it."""
    from cnnlib.training import _LOSS_EXPLOSION, _Watch

    watch = _Watch(c.SGD(c.Linear(2, 3, seed=0), lr=0.1), np.array([0, 1, 2]), None)
    logits = np.zeros((3, 3))
    watch.check_loss(1e-3, logits, 0, 0)  # a well-trained model starting near zero loss
    assert watch.limit == pytest.approx(_LOSS_EXPLOSION * np.log(3))
    watch.check_loss(watch.limit, logits, 0, 1)  # at the limit: still fine
    with pytest.raises(c.TrainingDivergedError, match="over a million times its start"):
        watch.check_loss(watch.limit * 1.01, logits, 0, 2)


class InterruptIn(c.ReLU):
    """A ReLU that presses Ctrl-C in the given epoch (counted from its forward calls)."""

    def __init__(self, epoch: int, batches_per_epoch: int) -> None:
        super().__init__()
        self.at, self.calls = epoch * batches_per_epoch + 1, 0

    def forward(self, x, training=True):
        if training:
            self.calls += 1
            if self.calls == self.at + 1:
                raise KeyboardInterrupt
        return super().forward(x, training)


def test_issue_ctrl_c_during_fit_keeps_the_finished_epochs(mnist_small):
    (x, y), (xv, yv) = mnist_small
    x, y = x[:256], y[:256]
    model = small_cnn()
    model.layers[2] = InterruptIn(epoch=2, batches_per_epoch=4)  # in the third epoch, after its first batch
    with pytest.raises(c.TrainingInterrupted, match=r"interrupted in epoch 3 of 5\. The 2 finished epoch\(s\)") as info:
        c.fit(model, x, y, epochs=5, validation_data=(xv[:100], yv[:100]), progress=False)
    err = info.value
    assert isinstance(err, KeyboardInterrupt)  # whatever stops on Ctrl-C still stops
    assert err.epoch == 2
    h = err.history
    assert len(h.loss) == len(h.accuracy) == len(h.val_loss) == len(h.val_accuracy) == len(h.epoch_time) == 2
    # the model is usable: restored flag, predictions, and training can go on
    assert model[0].needs_input_grad is True
    assert c.predict(model, x[:10]).shape == (10,)
    model.layers[2].at = 10**9
    assert len(c.fit(model, x, y, epochs=1, progress=False).loss) == 1


def test_ctrl_c_in_a_callback_keeps_that_epoch(mnist_small):
    (x, y), _ = mnist_small

    def callback(epoch, history):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(c.TrainingInterrupted) as info:
        c.fit(small_cnn(), x[:128], y[:128], epochs=4, progress=False, callback=callback)
    assert len(info.value.history.loss) == 2


def test_issue_bad_validation_data_is_reported_before_the_first_step(mnist_small):
    (x, y), (xv, yv) = mnist_small
    x, y = x[:128], y[:128]
    model = small_cnn()
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"validation_data's examples have shape \(784,\), but the training examples \(1, 28, 28\)"):
        c.fit(model, x, y, validation_data=(xv.reshape(len(xv), -1), yv), progress=False)
    bad_labels = yv.copy()
    bad_labels[-1] = 10  # the model has 10 classes: 0..9
    with pytest.raises(ValueError, match=r"fit \(validation_data\): y must be integers in \[0, 10\) for 10 classes"):
        c.fit(model, x, y, validation_data=(xv, bad_labels), progress=False)
    bad_train = y.copy()
    bad_train[-1] = 12  # in the last batch: found before the first step all the same
    with pytest.raises(ValueError, match=r"fit: y must be integers in \[0, 10\) for 10 classes.*e\.g\. 12"):
        c.fit(model, x, bad_train, progress=False)
    assert_unchanged(model, before)


def test_labels_are_checked_at_the_first_batch_when_only_running_the_model_tells_the_classes(mnist_small):
    class Own(c.Sequential):  # a subclass may compute anything: its output size is known by running it
        pass

    (x, y), (xv, yv) = mnist_small
    model = Own(*small_cnn().layers)
    weights = {k: v.copy() for k, v in model.params.items()}
    bad_labels = yv[:50].copy()
    bad_labels[-1] = 10
    with pytest.raises(ValueError, match=r"fit \(validation_data\): y must be integers in \[0, 10\) for 10 classes"):
        c.fit(model, x[:128], y[:128], validation_data=(xv[:50], bad_labels), progress=False)
    for k, v in model.params.items():  # no step was taken
        np.testing.assert_array_equal(v, weights[k])


def bn1d_model() -> c.Sequential:
    return c.Sequential(c.Flatten(), c.Linear(784, 16, seed=0), c.BatchNorm1d(16), c.ReLU(), c.Linear(16, 10, seed=1))


def test_issue_a_last_batch_of_one_example_with_batchnorm1d(mnist_small):
    (x, y), _ = mnist_small
    x, y = x[:129], y[:129]  # 2 batches of 64 + 1
    model = bn1d_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"last batch of every epoch would hold a single example \(129 examples = 2 batches of 64 \+ 1\).*drop_last=True") as info:
        c.fit(model, x, y, batch_size=64, progress=False)
    assert "BatchNorm1d.forward" in str(info.value)
    assert_unchanged(model, before)  # found before the first step
    history = c.fit(model, x, y, batch_size=64, epochs=2, drop_last=True, progress=False)
    assert len(history.loss) == 2
    # other models are not troubled by a last batch of one
    assert len(c.fit(small_cnn(), x, y, batch_size=64, progress=False).loss) == 1


def test_drop_last_leaves_out_the_short_batch(mnist_small):
    (x, y), _ = mnist_small
    sizes = []

    class Count(c.Flatten):
        def forward(self, x, training=True):
            if training:
                sizes.append(len(x))
            return super().forward(x, training)

    model = c.Sequential(Count(), c.Linear(784, 10, seed=0))
    c.fit(model, x[:100], y[:100], batch_size=32, epochs=2, drop_last=True, progress=False)
    assert sizes == [32, 32, 32] * 2
    sizes.clear()
    c.fit(model, x[:100], y[:100], batch_size=32, epochs=1, progress=False)
    assert sizes == [32, 32, 32, 4]
    with pytest.raises(ValueError, match="drop_last=True with 20 examples, fewer than batch_size=32, leaves no batch"):
        c.fit(model, x[:20], y[:20], batch_size=32, drop_last=True, progress=False)


def test_issue_save_then_load_with_the_same_name(tmp_path):
    model = small_cnn()
    for name in ("ckpt", "ckpt.v1", "dir/ckpt.npz"):
        written = c.save(model, tmp_path / name)
        assert written.name.endswith(".npz") and written.exists()
        fresh = small_cnn(seed=7)
        c.load(fresh, tmp_path / name)  # whatever name save accepted, load finds the same file
        c.load(fresh, str(tmp_path / name))
        assert_unchanged(fresh, snapshot(model))
    # a checkpoint renamed by hand, without .npz, still loads
    (tmp_path / "ckpt.npz").rename(tmp_path / "renamed")
    c.load(small_cnn(seed=7), tmp_path / "renamed")
    with pytest.raises(FileNotFoundError, match=r"no such file .*missing\.npz \('.*missing' with \.npz appended, as save does\)"):
        c.load(model, tmp_path / "missing")


def test_issue_a_save_that_fails_part_way_keeps_the_previous_file(tmp_path, monkeypatch):
    model = small_cnn()
    path = c.save(model, tmp_path / "model")
    good = path.read_bytes()
    real_savez = np.savez

    def disk_full(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    changed = small_cnn(seed=5)
    with pytest.raises(OSError, match="No space left"):
        c.save(changed, path)
    monkeypatch.setattr(np, "savez", real_savez)
    assert path.read_bytes() == good  # the earlier checkpoint is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # and no temporary file is left behind
    c.load(changed, path)
    assert_unchanged(changed, snapshot(model))


def state_file(tmp_path, model, change):
    """Save ``model``, then rewrite the file with ``change(state)`` applied (as a damaged or foreign file)."""
    path = c.save(model, tmp_path / "m")
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    change(data)
    np.savez(path, **data)
    return path


@pytest.mark.parametrize(
    "change, error, text",
    [
        (lambda d: d.__setitem__("5.b", d["5.b"].astype(np.int64)), TypeError, "'5.b' must hold floating-point numbers"),
        (lambda d: d.__setitem__("5.b", d["5.b"] > 0), TypeError, "dtype bool"),
        (lambda d: d.__setitem__("5.b", d["5.b"].astype(complex)), TypeError, "dtype complex128"),
        (lambda d: d.__setitem__("5.b", d["5.b"].astype(str)), TypeError, "dtype <U"),
        (lambda d: d["5.b"].__setitem__(3, np.nan), c.NonFiniteError, "'5.b' must be finite"),
        (lambda d: d["1.running_var"].__setitem__(0, np.inf), c.NonFiniteError, "'1.running_var' must be finite"),
        (lambda d: d.__setitem__("5.W", d["5.W"][:5]), ValueError, "'5.W' has shape (5, 784), expected (10, 784)"),
        (lambda d: d.pop("5.b"), KeyError, "missing ['5.b']"),
    ],
    ids=["int", "bool", "complex", "str", "nan", "inf-running-var", "shape-of-the-last-layer", "missing-key"],
)
def test_issue_load_checks_everything_and_changes_nothing_on_failure(tmp_path, change, error, text):
    saved = small_cnn(seed=3)
    path = state_file(tmp_path, saved, change)
    model = small_cnn()
    before = snapshot(model)
    with pytest.raises(error, match="does not fit this model") as info:
        c.load(model, path)
    assert text in info.value.args[0]
    assert_unchanged(model, before)  # the earlier layers were not overwritten either


def test_load_state_dict_of_a_layer_checks_first():
    layer = c.Linear(3, 2, seed=0)
    before = snapshot(layer)
    with pytest.raises(TypeError, match="Linear.load_state_dict: 'b' must hold floating-point numbers"):
        layer.load_state_dict({"W": np.zeros((2, 3)), "b": np.zeros(2, dtype=int)})
    assert_unchanged(layer, before)
    layer.load_state_dict({"W": np.zeros((2, 3), dtype=np.float64), "b": np.ones(2, dtype=np.float32)})
    assert layer.params["W"].dtype == np.float32 and (layer.params["b"] == 1).all()


def test_the_progress_bar_redraws_at_most_twice_a_second():
    from cnnlib.training import _progress_bar

    bar = _progress_bar(10, "epoch 1/1", True)
    try:
        assert bar.mininterval >= 0.5
    finally:
        bar.close()
