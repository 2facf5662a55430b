"""The folded answers and checked exercises of notebooks 03 and 04.

The worked answers in ``<details class="answer">`` blocks are not computed in the notebooks (that would give them
away), so every number they state is measured here, and the test reads the notebook to make sure the text still says
what was checked. The checked exercise cells are run with right and with wrong answers filled in.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

import cnnlib
from tests.notebook_text import answers, cells, markdown

NB03 = "03_stride_and_padding.ipynb"
NB04 = "04_activations.ipynb"


def code_cell(notebook: str, marker: str) -> str:
    (source,) = ["".join(c["source"]) for c in cells(notebook) if c["cell_type"] == "code" and marker in "".join(c["source"])]
    return source


def run_filled_in(source: str, values: dict[str, str], namespace: dict) -> str:
    for name, value in values.items():
        source, n = re.subn(rf"^{name} = None", f"{name} = {value}", source, flags=re.M)
        assert n == 1, name
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(source, namespace)
    return out.getvalue()


# -- markup -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("notebook, n_answers", [(NB03, 2 + 4 + 1), (NB04, 5 + 1)])
def test_every_question_has_a_folded_answer_and_sources_come_last(notebook, n_answers):
    assert len(answers(notebook)) == n_answers
    text = markdown(notebook)
    assert text.count('<details class="answer">') == text.count("</details>") == n_answers
    heads = [c["source"][0].strip() for c in cells(notebook) if c["cell_type"] == "markdown"]
    assert heads[-3:] == ["## Check your understanding", "## Sources", "## References"]
    # one story: the lecture notes are named only in the Sources box and the references
    story = text[: text.index("## Sources")]
    for name in ("Fu ", "Fu's", "Downing", "Forssén", "Some notes on CNN"):
        assert name not in story, name


def test_notebook_04_marks_its_previews():
    text = markdown(NB04)
    assert text.count("> **Preview:**") == 3
    for pointer in ("Notebook 08 derives backward passes", "gradient check that notebook 08 builds",
                    'He initialisation is derived in notebook 06 (section "Initialisation: why the scale of the random weights matters")'):
        assert pointer in text


# -- notebook 03: the cost section ----------------------------------------------------------------------------------

def conv_macs(layer: cnnlib.Conv2d, size: int) -> int:
    y = layer.forward(np.zeros((1, layer.in_channels, size, size), dtype=np.float32))
    return int(np.prod(y.shape[1:])) * layer.in_channels * int(np.prod(layer.kernel_size))


def test_notebook_03_answer_doubling_the_channels():
    small, wide = cnnlib.mnist_cnn(seed=0), cnnlib.mnist_cnn(channels=(32, 64), seed=0)
    assert wide.layers[4].num_parameters() == 18_496 and small.layers[4].num_parameters() == 4_640
    assert conv_macs(wide.layers[4], 14) == 3_612_672 == 4 * conv_macs(small.layers[4], 14) == 4 * 903_168
    assert conv_macs(wide.layers[0], 28) == 2 * conv_macs(small.layers[0], 28)
    assert wide.layers[9].in_features * 10 == 2 * small.layers[9].in_features * 10
    answer = answers(NB03)[0]
    for text in ("**4 times**", "4{,}608", "18{,}432", "18,496", "3{,}612{,}672", "903,168"):
        assert text in answer


def test_notebook_03_answer_vgg_first_layer():
    layer = cnnlib.Conv2d(3, 64, kernel_size=3, padding=1, seed=0)
    assert layer.num_parameters() == 1_792
    macs = conv_macs(layer, 224)
    assert macs == 86_704_128
    step_per_image = 190_869_504 / 64                        # the reference network's training step, per image
    assert round(step_per_image / 1e6, 1) == 3.0 and round(macs / step_per_image) == 29
    out_values = 224 * 224 * 64
    assert out_values == 3_211_264 and round(out_values * 4 / 1e6, 1) == 12.8 and round(64 * out_values * 4 / 1e6) == 822
    answer = answers(NB03)[1]
    for text in ("1{,}792", "86{,}704{,}128", "29 times", "3{,}211{,}264", "12.8 MB", "**822 MB**"):
        assert text in answer


def test_notebook_03_cost_text_states_what_the_cells_assert():
    text = markdown(NB03)
    for claim in ("903,168 of the 1,031,744 MACs", "(87.5%) with 23% of the weights", "76% of the weights",
                  "1.5% of the work", "about 191 million", "173 million of them (91%)", "16.3 MB", "0.082 MB",
                  "231 million MACs"):
        assert claim in text, claim
    assert conv_macs(cnnlib.Conv2d(16, 32, 3, padding=1, seed=0), 224) == 231_211_008


# -- notebook 03: the other answers ---------------------------------------------------------------------------------

def test_notebook_03_answers_on_sizes():
    # Q3: 'same' at stride 2 on 28: 14 outputs, total padding 1, put after
    assert cnnlib.conv_output_size(28, 3, stride=2, padding="same") == 14 and (14 - 1) * 2 + 3 - 28 == 1
    # Q4: two 3x3 layers see 5x5 with 18 C^2 weights; one 5x5 layer needs 25 C^2
    c = 8
    two = cnnlib.Sequential(cnnlib.Conv2d(c, c, 3, seed=0), cnnlib.Conv2d(c, c, 3, seed=1)).astype(np.float64)
    x = np.random.default_rng(0).normal(size=(1, c, 9, 9))
    y = two.forward(x)
    dy = np.zeros_like(y)
    dy[0, 0, 2, 2] = 1
    seen = np.nonzero((two.backward(dy)[0] != 0).any(axis=0))
    assert (seen[0].min(), seen[0].max(), seen[1].min(), seen[1].max()) == (2, 6, 2, 6)   # a 5x5 region
    assert sum(layer.params["W"].size for layer in two.layers) == 18 * c * c
    assert cnnlib.Conv2d(c, c, 5).params["W"].size == 25 * c * c
    assert "$P = (14 - 1) \\cdot 2 + 3 - 28 = 1$" in answers(NB03)[5]
    text = answers(NB03)[6]
    assert "$18 C^2$" in text and "$25 C^2$" in text


def test_notebook_03_exercise_answers():
    assert cnnlib.conv_output_size(32, 5, stride=2, padding=2) == 16
    assert cnnlib.conv_output_size(32, 5, stride=1, padding=2) == 32
    n_out = cnnlib.conv_output_size(10, 4, stride=3, padding="same")
    assert n_out == 4 and (n_out - 1) * 3 + 4 - 10 == 3
    x = np.random.default_rng(1).normal(size=(1, 1, 10, 10))
    w = np.random.default_rng(2).normal(size=(1, 1, 4, 4))
    np.testing.assert_allclose(cnnlib.conv2d(x, w, stride=3, padding="same"),
                               cnnlib.conv2d(x, w, stride=3, padding=((1, 2), (1, 2))))
    signal = np.r_[np.zeros(5), np.full(5, 0.5)]
    zeros = cnnlib.conv1d(signal, [-1, 0, 1], padding=1)
    edge = cnnlib.conv1d(signal, [-1, 0, 1], padding=1, pad_mode="edge")
    np.testing.assert_allclose(zeros, [0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, -0.5])
    np.testing.assert_allclose(edge, [0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0])
    text = answers(NB03)[2]
    for claim in ("= 16$ rows", "$p = 2$", "$P = (4 - 1) \\cdot 3 + 4 - 10 = 3$", "$(1, 2)$", "0.5 at positions 4 and 5"):
        assert claim in text, claim


def test_notebook_03_exercise_cell_says_right_and_wrong():
    source = code_cell(NB03, "my_same_pad = None")
    right = run_filled_in(source, {"my_rows": "16", "my_same_pad": "2", "my_out": "4", "my_total_pad": "3",
                                   "my_split": "(1, 2)"}, {"cnnlib": cnnlib, "np": np})
    assert right.count(": right") == 5 and "not yet" not in right
    wrong = run_filled_in(source, {"my_rows": "15", "my_same_pad": "1", "my_out": "3", "my_total_pad": "2",
                                   "my_split": "(2, 1)"}, {"cnnlib": cnnlib, "np": np})
    assert wrong.count("not yet. Hint:") == 5 and ": right" not in wrong
    assert "16" not in right.replace("checked", "")          # the cell does not print the answers


# -- notebook 04 -----------------------------------------------------------------------------------------------------

def full_convolution(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + b.shape[0] - 1, a.shape[1] + b.shape[1] - 1))
    for i, j in np.ndindex(*a.shape):
        out[i:i + b.shape[0], j:j + b.shape[1]] += a[i, j] * b
    return out


def test_notebook_04_answer_two_convolutions_are_one():
    rng = np.random.default_rng(0)
    x, k1, k2 = rng.normal(size=(12, 12)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    stacked = cnnlib.conv2d(cnnlib.conv2d(x, k1), k2)
    np.testing.assert_allclose(stacked, cnnlib.conv2d(x, full_convolution(k1, k2)), rtol=1e-10, atol=1e-12)
    assert full_convolution(k1, k2).shape == (5, 5)
    assert "one 5x5 convolution" in answers(NB04)[1]


def test_notebook_04_answers_with_numbers():
    assert f"{0.25 ** 10:.1e}" == "9.5e-07"
    assert "(1/4)^{10} \\approx 9.5 \\cdot 10^{-7}" in answers(NB04)[2]
    assert round(np.sqrt(2 / 64) / ((1 / 8) / np.sqrt(3)), 1) == 2.4
    assert "\\sqrt 6 \\approx 2.4" in answers(NB04)[4]


def test_notebook_04_exercise_1_and_3_answers():
    s = cnnlib.sigmoid(np.array([0.0, 2.0, -5.0]))
    np.testing.assert_allclose(s * (1 - s), [0.25, 0.105, 0.00665], rtol=2e-3)
    by_hand_2 = (1 / (1 + 0.135)) * (1 - 1 / (1 + 0.135))            # with the rounded e^-2 of the exercise
    by_hand_5 = (1 / (1 + 148.4)) * (1 - 1 / (1 + 148.4))
    assert round(by_hand_2, 3) == 0.105 and round(by_hand_5, 5) == 0.00665
    text = answers(NB04)[0]
    for claim in ("= 0.25$", "= 0.105$", "= 0.00665$", "begin{pmatrix} 0 & 0 \\\\ 1 & 0 \\end{pmatrix}"):
        assert claim in text, claim


def test_notebook_04_exercise_cell_says_right_and_wrong():
    source = code_cell(NB04, "my_dsigmoid = None")
    ns = {"np": np, "Sigmoid": cnnlib.Sigmoid, "ReLU": cnnlib.ReLU}
    right = run_filled_in(source, {"my_dsigmoid": "[0.25, 0.105, 0.00665]", "my_relu": "[[0, 0], [5, 0]]",
                                   "my_mask": "[[0, 0], [1, 0]]"}, dict(ns))
    assert right.count(": right") == 5 and "not yet" not in right
    wrong = run_filled_in(source, {"my_dsigmoid": "[0.5, 0.88, 0.067]", "my_relu": "[[0, -2], [5, 0]]",
                                   "my_mask": "[[1, 0], [1, 0]]"}, dict(ns))
    assert wrong.count("not yet. Hint:") == 5
    assert "slope 0" in wrong                                   # the hint for the mask names the kink


def test_notebook_04_exercise_2_depth():
    ns = {"np": np, "Linear": cnnlib.Linear, "Sequential": cnnlib.Sequential, "ReLU": cnnlib.ReLU,
          "Sigmoid": cnnlib.Sigmoid, "Tanh": cnnlib.Tanh, "print": lambda *a, **k: None}
    exec(code_cell(NB04, "def deep_stack"), ns)
    ratios = {}
    for depth in (5, 20, 40):
        ns["DEPTH"] = depth
        g = ns["weight_grad_norms"](ns["deep_stack"](cnnlib.Sigmoid))
        ratios[depth] = g[0] / g[-1]
    assert f"{ratios[5]:.1e}" == "1.5e-02" and f"{ratios[20]:.1e}" == "4.3e-10" and f"{ratios[40]:.1e}" == "6.9e-20"
    assert round(ratios[20] ** (1 / 19), 2) == 0.32 and round(ratios[40] ** (1 / 39), 2) == 0.32
    text = answers(NB04)[0]
    for claim in ("1.5 \\cdot 10^{-2}", "4.3 \\cdot 10^{-10}", "6.9 \\cdot 10^{-20}", "0.32 per layer"):
        assert claim in text, claim


def test_notebook_04_exercise_4_revive(mnist):
    (x_train, _), _ = mnist
    lin = cnnlib.Linear(784, 3, seed=0)
    batch = x_train[:64].reshape(64, 784)
    z = batch @ lin.params["W"][0]
    assert round(float(z.min()), 2) == -0.25 and round(float(z.max()), 2) == 0.53
    assert round(float(lin.params["b"][0]), 2) == -0.03
    relu = cnnlib.ReLU()
    out = relu.forward(lin.forward(batch))                  # the default bias: unit 0 is alive
    lin.backward(relu.backward(np.ones_like(out)))
    assert (out[:, 0] > 0).any() and np.any(lin.grads["W"][0] != 0)
    text = answers(NB04)[0]
    assert "$-0.25$ and\n$0.53$" in text and "above $-0.53$" in text


# -- the check cells read answers of the wrong kind without crashing ------------------------------------------------

@pytest.mark.parametrize("values", [
    {"my_rows": "'16'", "my_same_pad": "[2]", "my_out": "4.5", "my_total_pad": "True", "my_split": "3"},
    {"my_split": "(1, 2, 3)"}, {"my_split": "'(1, 2)'"}, {"my_rows": "np.array([16, 16])"},
])
def test_notebook_03_exercise_cell_names_the_kind_of_answer(values):
    out = run_filled_in(code_cell(NB03, "my_same_pad = None"), values, {"cnnlib": cnnlib, "np": np})
    assert out.count(": write ") == len(values) and "not yet" not in out and ": right" not in out


def test_notebook_03_exercise_cell_accepts_a_list_for_the_split_and_a_float_for_a_size():
    out = run_filled_in(code_cell(NB03, "my_same_pad = None"), {"my_rows": "16.0", "my_split": "[1, 2]"},
                        {"cnnlib": cnnlib, "np": np})
    assert out.count(": right") == 2


@pytest.mark.parametrize("values", [
    {"my_dsigmoid": "'0.25, 0.105, 0.00665'", "my_relu": "'[[0, 0], [5, 0]]'", "my_mask": "[0, 0, 1, 0]"},
    {"my_dsigmoid": "0.25", "my_relu": "[[0, 0], [5]]", "my_mask": "5"},
    {"my_dsigmoid": "[0.25, 0.105]"},
])
def test_notebook_04_exercise_cell_names_the_kind_of_answer(values):
    ns = {"np": np, "Sigmoid": cnnlib.Sigmoid, "ReLU": cnnlib.ReLU}
    out = run_filled_in(code_cell(NB04, "my_dsigmoid = None"), values, ns)
    assert out.count(": write ") == len(values) and "not yet" not in out and ": right" not in out


def test_notebooks_03_04_read_no_private_attribute():
    for notebook in (NB03, NB04):
        code = "\n".join("".join(c["source"]) for c in cells(notebook) if c["cell_type"] == "code")
        assert not re.search(r"\._[A-Za-z]|getattr\([^)]*[\"']_[A-Za-z]", code), notebook    # e.g. layer._cache
