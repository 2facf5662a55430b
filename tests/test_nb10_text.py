"""Numbers notebook 10 states in its folded answers, checked here (computing them in the notebook would give
the answers away), and the text read back to make sure it still says what was checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import cnnlib
from cnnlib.train import DEFAULTS, lr_at

ROOT = Path(__file__).resolve().parents[1]
NB10 = ROOT / "notebooks" / "10_full_mnist.ipynb"


def markdown() -> str:
    nb = json.loads(NB10.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_exercise_1_answer_counts_the_small_reference_network_layer_by_layer():
    small = cnnlib.mnist_cnn()  # channels (16, 32), as python -m cnnlib.train
    per_layer = [layer.num_parameters() for layer in small if layer.num_parameters()]
    assert per_layer == [16 * 1 * 9 + 16, 2 * 16, 32 * 16 * 9 + 32, 2 * 32, 10 * 32 * 49 + 10] == [160, 32, 4640, 64, 15690]
    assert small.num_parameters() == 20586
    assert round(100 * 15690 / 20586) == 76
    text = markdown()
    for stated in ("= 160", "2 * 16 = 32", "= 4,640", "2 * 32 = 64", "= 15,690", "**20,586**", "76% of them"):
        assert stated in text, stated


def test_conv2_answer():
    model = cnnlib.mnist_cnn(channels=(32, 64), seed=0)
    assert model[4].num_parameters() == 64 * (32 * 3 * 3) + 64 == 18496
    assert 32 * 3 * 3 == 288 and 64 * 288 == 18432
    assert "32 * 3 * 3 = 288 weights; 64 * 288 = 18,432" in markdown()


def test_learning_rate_and_weight_decay_answers():
    epochs, lr = DEFAULTS["epochs"], DEFAULTS["lr"]
    assert lr_at(0, epochs, lr) == lr == 2e-3 and np.isclose(lr_at(epochs - 1, epochs, lr), 1e-4)
    assert round((1 - 0.1 * 0.01) ** 100, 3) == 0.905
    text = markdown()
    assert "from 2e-3 down to 1e-4" in text and "about 0.905" in text


def test_dropout_answer_values():
    layer = cnnlib.Dropout(0.5, seed=0)
    y = layer.forward(np.full((1, 10000), 3.0), training=True)
    assert set(np.unique(y)) == {0.0, 6.0}
    assert np.array_equal(layer.forward(np.full((1, 4), 3.0), training=False), np.full((1, 4), 3.0))
    assert "3 / (1 - 0.5) = 6" in markdown()


def test_the_validation_split_and_the_command_are_quoted_from_one_place():
    text = markdown()
    assert "x_train[55000:]" in text and "55,000" in text and "5,000" in text
    # the command's settings are printed from DEFAULTS, not restated in the prose
    assert "we train for 6 epochs" not in text and "938" not in text
