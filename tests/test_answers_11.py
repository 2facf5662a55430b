"""The folded answers of notebook 11: every number they state, measured here.

As for notebooks 07 and 08 (tests/test_answers_07_08.py), the numbers are not asserted in the
notebook itself: a visible cell stating them would give the answers away before the reader has tried.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

import cnnlib
import cnnlib.functional as F

NB11 = Path(__file__).resolve().parents[1] / "notebooks" / "11_beyond_2d.ipynb"


def markdown() -> str:
    cells = json.loads(NB11.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def answer(summary: str) -> str:
    text = markdown()
    start = text.index(f"<summary>{summary}</summary>")
    return text[start:text.index("</details>", start)]


def answer_after(question: str) -> str:
    text = markdown()
    start = text.index(question)
    block = text.index("<details class=\"answer\">", start)
    return text[block:text.index("</details>", block)]


def test_exercise_1_conv1d_by_hand():
    np.testing.assert_array_equal(F.conv1d([0, 1, 3, 6, 10], [-1, 0, 1], padding=1), [1, 3, 5, 7, -6])
    assert "**(1, 3, 5, 7, -6)**" in answer("Answer to exercise 1")


def test_exercise_3_ct_volume():
    assert [cnnlib.conv_output_size(n, k) for n, k in [(64, 3), (128, 5), (128, 5)]] == [62, 124, 124]
    assert 16 * (1 * 3 * 5 * 5) + 16 == 1_216 == cnnlib.Conv2d(3, 16, 5).num_parameters()
    a = answer("Answer to exercise 3")
    assert "**(N, 16, 62, 124, 124)**" in a and "**1,216**" in a


def test_check_2_video_layer():
    assert 64 * 3 * (3 * 3 * 3) + 64 == 5_248 == cnnlib.Conv2d(3 * 3, 64, 3).num_parameters()  # as a 2-D layer over C * kd = 9 channels
    a = answer_after("2. What are the shapes of the input and the weights of a 3-D conv layer")
    assert "(64, 3, 3, 3, 3)" in a and "5,248 parameters" in a


def test_check_4_dense_tail_of_the_mnist_classifier():
    assert cnnlib.mnist_cnn(seed=0).params["9.W"].shape == (10, 32 * 7 * 7) == (10, 1_568)
    a = answer_after("4. Why can a fully convolutional network take images of any size")
    assert "64 x 7 x 7 = 3,136" in a  # notebook 10 trains mnist_cnn(channels=(32, 64))
    assert "32 x 7 x 7 = 1,568" in a and "10 x 1,568" in a


def test_check_5_same_padding_for_odd_kernels():
    for length, d in [(200, 4), (7, 1), (30, 2)]:
        assert cnnlib.conv_output_size(length, 2 * d + 1, stride=1, padding=d) == length
    assert "d = 4" in answer_after("5. Which padding keeps a 1-D signal's length")


def test_no_code_cell_states_the_answers():
    cells = json.loads(NB11.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert not re.search(r"\[1, 3, 5, 7, -6\]|1_216|\[62, 124, 124\]", code)


def test_exercise_2_zero_padding_sags_at_the_ends_edge_padding_does_not():
    rng = np.random.default_rng(0)                      # the notebook's signal
    t = np.linspace(0, 1, 200)
    signal = 0.3 * np.sin(2 * np.pi * t) + (t > 0.3) - (t > 0.7) + 0.15 * rng.standard_normal(t.size)
    zeros = F.conv1d(signal + 2, np.ones(9) / 9, padding="same")
    edge = F.conv1d(signal + 2, np.ones(9) / 9, padding="same", pad_mode="edge")
    for end in (0, -1):
        assert abs(zeros[end] - 1.1) < 0.15 and abs(edge[end] - 2) < 0.25   # "about 1.1" and "near 2"
    np.testing.assert_allclose(zeros[4:-4], edge[4:-4])  # only the 4 samples at each end differ
    assert "5/9" in answer("Answer to exercise 2") and "about 1.1" in answer("Answer to exercise 2")


def test_exercise_4_three_layers_see_7x7():
    fcn = cnnlib.Sequential(*[m for i in range(3) for m in (cnnlib.Conv2d(1 if i == 0 else 8, 8, 3, padding="same", seed=i), cnnlib.ReLU())],
                            cnnlib.Conv2d(8, 3, 1, seed=3))
    probe = np.random.default_rng(2).random((1, 1, 15, 15)).astype(np.float32)
    nudged = probe.copy()
    nudged[0, 0, 7, 7] += 1.0
    changed = np.any(fcn.forward(nudged, training=False) != fcn.forward(probe, training=False), axis=1)[0]
    rows, cols = np.nonzero(changed)
    assert (np.ptp(rows) + 1, np.ptp(cols) + 1) == (7, 7)
    assert "**7 x 7**" in answer("Answer to exercise 4")
