"""Notebooks 01 and 02: the numbers in their folded answers, and the shape of their text.

The answers folded in ``<details class="answer">`` blocks are not computed in the notebooks (that would give them
away), so each number is checked here against cnnlib, and the test reads the notebook to make sure the answer
still states it. The structural tests keep the two notebooks' conventions: every "Check your understanding"
question has its folded answer, and the lecture notes are named only in the Sources box and the references.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import cnnlib
from tests.notebook_text import answers, cells, markdown

NB01, NB02 = "01_why_convolutions.ipynb", "02_convolution.ipynb"


def test_notebook_01_answers():
    predict, exercise, q1, q2, q3, q4 = answers(NB01)
    # exercise 3: the matrix of a 3x3 convolution of a 28x28 image
    assert (26 * 26, 28 * 28) == (676, 784) and "676x784" in predict
    assert 676 * 9 == 6084 and 676 * 784 == 529_984 and round(100 * 9 / 784, 1) == 1.1
    assert "**1.1%**" in predict and "6,084 of 529,984" in predict
    # the pen-and-paper exercise: a 1920x1080 colour photo, Conv2d(3, 64, kernel_size=5)
    assert 1080 * 1920 * 3 == 6_220_800 and "6,220,800 weights" in exercise
    assert cnnlib.Conv2d(3, 64, kernel_size=5).num_parameters() == 4864 and "4{,}864" in exercise
    # 1: the layer of the local-connectivity section, 32x32x3 -> 32x32x12 with 3x3 windows
    conv = cnnlib.Conv2d(3, 12, kernel_size=3, padding=1)
    assert conv.num_parameters() == 336 and "= 336" in q1
    assert 32 * 32 * 12 * (3 * 9 + 1) == 344_064 and "344{,}064" in q1
    # 2: NCHW and NHWC
    batch = np.zeros((64, 3, 32, 32))
    assert batch.transpose(0, 2, 3, 1).shape == (64, 32, 32, 3)
    assert "`(64, 3, 32, 32)`" in q2 and "`(64, 32, 32, 3)`" in q2
    # 3: the numbers are printed by the notebook's own cells; the answer quotes them
    outputs = "".join("".join(o.get("text", "")) for c in cells(NB01) if c["cell_type"] == "code" for o in c["outputs"])
    assert "(11, 11) -> (14, 15)" in outputs and "3.7176 3.7176" in outputs
    assert "(11, 11) to (14, 15)" in q3 and "3.7176" in q3
    # 4: the 4x16 matrix of a 3x3 kernel on a 4x4 image
    kernel = np.arange(1, 10, dtype=float).reshape(3, 3)
    M = np.stack([cnnlib.conv2d(e.reshape(4, 4), kernel).ravel() for e in np.eye(16)], axis=1)
    assert M.shape == (4, 16) and ((M != 0).sum(axis=1) == 9).all()
    assert all(sorted(row[row != 0]) == list(range(1, 10)) for row in M)
    assert "9 non-zero entries and 7 zeros" in q4


def test_notebook_02_answers():
    X = np.array([[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]])
    predict, exercise, q1, q2, q3, q4, q5, q6 = answers(NB02)
    # exercise 2: the diagonal kernels on the X picture and on a picture of the '/' stroke alone
    falling = 2 * np.eye(3, dtype=int) - 1
    picture_x, slash = -np.ones((7, 7), dtype=int), -np.ones((7, 7), dtype=int)
    picture_x[np.arange(7), np.arange(7)] = 1
    picture_x[np.arange(7), 6 - np.arange(7)] = 1
    slash[np.arange(7), 6 - np.arange(7)] = 1
    assert cnnlib.conv2d(picture_x, falling[:, ::-1])[2, 2] == 5 and "$3 - 2 + 4 = 5$" in predict
    on_slash = cnnlib.conv2d(slash, falling)
    assert (on_slash[np.arange(5), 4 - np.arange(5)] == 1).all() and on_slash.max() == 5
    assert "along the stroke it gives 1" in predict and "largest value anywhere is 5" in predict
    K01 = np.array([[0, 1], [1, 0]])
    np.testing.assert_array_equal(cnnlib.conv2d(X, K01), [[5, 3, 5], [10, 2, 5]])
    assert np.array_equal(K01, K01[::-1, ::-1])
    assert r"\begin{pmatrix} 5 & 3 & 5 \\ 10 & 2 & 5 \end{pmatrix}" in exercise and "is symmetric" in exercise
    # 1: a 5x6 image, a 3x3 kernel
    assert cnnlib.conv2d(np.zeros((5, 6)), np.zeros((3, 3))).shape == (3, 4)
    assert "output is 3x4" in q1 and "= 9$ products" in q1
    # 2: 16 -> 32 channels, 5x5 kernels
    layer = cnnlib.Conv2d(16, 32, kernel_size=5)
    assert layer.params["W"].shape == (32, 16, 5, 5) and layer.num_parameters() == 12_832
    assert "`(32, 16, 5, 5)`" in q2 and "**12,832**" in q2
    # 4: true convolution = cross-correlation with the kernel rotated by 180 degrees
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((6, 7)), rng.standard_normal((3, 3))
    true_conv = np.array([[np.sum(x[i:i + 3, j:j + 3] * k[::-1, ::-1]) for j in range(5)] for i in range(4)])
    np.testing.assert_allclose(cnnlib.conv2d(x, k[::-1, ::-1]), true_conv)
    assert "k[::-1, ::-1]" in q4
    # 5: im2col of 16 MNIST-sized digits with a 3x3 kernel
    batch = np.zeros((16, 1, 28, 28))
    windows = np.lib.stride_tricks.sliding_window_view(batch, (3, 3), axis=(2, 3))
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, 9)
    assert cols.shape == (10_816, 9) and cols.size == 97_344 and batch.size == 12_544
    assert round(cols.size / batch.size, 2) == 7.76
    assert "10{,}816" in q5 and "97,344" in q5 and "12{,}544" in q5 and "7.76 times" in q5
    # 6: the loop version's number of NumPy calls: one per output number of 16 images x 8 filters
    assert cnnlib.conv2d(batch, np.zeros((8, 1, 3, 3))).size == 86_528 and "86,528 times" in q6


@pytest.mark.parametrize("notebook", [NB01, NB02])
def test_every_question_has_its_folded_answer(notebook):
    text = markdown(notebook)
    part = text[text.index("## Check your understanding"):text.index("## Sources")]
    questions = re.findall(r"^\d+\. ", part, re.M)
    assert questions and len(re.findall(r'<details class="answer">', part)) == len(questions)
    # each question is followed by its answer before the next question starts
    for block in re.split(r"^\d+\. ", part, flags=re.M)[1:]:
        assert '<details class="answer"><summary>Answer</summary>\n\n' in block and "\n\n</details>" in block


@pytest.mark.parametrize("notebook", [NB01, NB02])
def test_the_notes_are_named_only_in_sources_and_references(notebook):
    names = ["Fu", "Downing", "Forssén", "Hjorth-Jensen", "Some notes on CNN", "the note says", "the notes'", "the note's"]
    for cell in cells(notebook):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.startswith(("## Sources", "## References")):
            continue
        for name in names:
            assert not re.search(rf"\b{re.escape(name)}\b", source), (name, source[:200])


@pytest.mark.parametrize("notebook", [NB01, NB02])
def test_pen_and_paper_checks_do_not_print_the_answer(notebook):
    nb = cells(notebook)
    checked = [i for i, c in enumerate(nb) if c["cell_type"] == "code" and "my_" in "".join(c["source"])]
    assert checked
    for i in checked:
        printed = "".join("".join(o.get("text", "")) for o in nb[i]["outputs"])
        assert "not answered yet" in printed and "right" not in printed.replace("not answered", "")
        assert "".join(nb[i + 1]["source"]).startswith('<details class="answer">')
