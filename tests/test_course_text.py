"""Numbers the course states in prose that no notebook cell checks.

Answers folded in a ``<details>`` block are not computed in the notebook (that would
give them away before the reader has tried), so they are checked here, against an
independent measurement, and the test also reads the notebook to make sure the text
still says what was checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import cnnlib

ROOT = Path(__file__).resolve().parents[1]


def markdown(notebook: str) -> str:
    nb = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def field_of_unit(net: cnnlib.Sequential, unit: tuple[int, int], n_images: int = 64) -> np.ndarray:
    """The input pixels that can change ``unit`` (channel 0) of ``net``'s output: where a one-hot
    gradient on it reaches the input, for any of ``n_images`` random images (inference mode)."""
    x = np.random.default_rng(0).normal(size=(n_images, 1, 28, 28)).astype(np.float32)
    out = net.forward(x, training=False)
    dy = np.zeros_like(out)
    dy[:, 0, unit[0], unit[1]] = 1
    return (net.backward(dy)[:, 0] != 0).any(axis=0)


def test_notebook_09_answer_third_block_receptive_field_and_jump():
    # notebook 09, section 7, "Check your understanding": mnist_cnn plus conv 3x3 (pad 1) and pool 2x2
    # (no ReLU in between: it does not change the field, and a channel it silences would show none)
    ref = cnnlib.mnist_cnn(seed=0)
    deeper = cnnlib.Sequential(*ref.layers[:8], cnnlib.Conv2d(32, 8, 3, padding=1, seed=1), cnnlib.MaxPool2d(2))
    assert deeper.forward(np.zeros((1, 1, 28, 28), dtype=np.float32), training=False).shape[2:] == (3, 3)
    fields = {u: field_of_unit(deeper, u) for u in [(1, 1), (1, 2)]}
    rows, cols = np.nonzero(fields[(1, 1)])
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (1, 22, 1, 22)    # interior unit: 22x22
    assert fields[(1, 1)].sum() == 22 * 22
    assert np.nonzero(fields[(1, 2)])[1].min() - cols.min() == 8   # neighbouring fields start 8 apart: the jump
    text = markdown("09_first_cnn.ipynb")
    answer = text[text.index("<summary>Answer</summary>"):]
    assert "$r = 22$" in answer and "jump doubles to 8" in answer and "22x22 patch" in answer


def test_notebook_09_text_states_the_measured_field_of_mnist_cnn():
    field = field_of_unit(cnnlib.Sequential(*cnnlib.mnist_cnn(seed=0).layers[:8]), (3, 3))
    assert field.sum() == 10 * 10
    assert "sees a 10x10 patch of the 28x28 digit" in markdown("09_first_cnn.ipynb")
