"""Numbers in the folded answers of notebooks 05 (pooling) and 06 (batch norm) that no notebook cell computes.

As in ``tests/test_course_text.py``: each answer's number is measured here independently,
and the notebook's text is read to make sure it still states what was checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import cnnlib as c

ROOT = Path(__file__).resolve().parents[1]


def answers(notebook: str) -> list[str]:
    """The text of every folded answer of ``notebook``, in order."""
    nb = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
    text = "\n".join("".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "markdown")
    parts = text.split('<details class="answer"><summary>Answer</summary>')[1:]
    return [p.split("</details>")[0] for p in parts]


def check_answer(notebook: str, question: str) -> str:
    """The folded answer right after the question that starts with ``question``."""
    nb = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
    text = "\n".join("".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "markdown")
    after = text[text.index(question):]
    return after[after.index("<summary>Answer</summary>"):after.index("</details>")]


def test_every_question_of_05_and_06_has_a_folded_answer():
    for notebook, n_questions in (("05_pooling.ipynb", 7), ("06_batch_norm.ipynb", 7)):
        nb = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
        cell = next("".join(c["source"]) for c in nb["cells"] if "## Check your understanding" in "".join(c["source"]))
        questions = cell.split("## Check your understanding", 1)[1]
        assert questions.count('<details class="answer">') == n_questions
        for k in range(1, n_questions + 1):
            assert f"\n{k}. " in "\n" + questions
        assert all(a.strip() for a in answers(notebook))


def test_05_answer_1_shape_and_parameters():
    pool = c.MaxPool2d(2)
    assert pool.forward(np.zeros((1, 16, 28, 28))).shape == (1, 16, 14, 14) and pool.num_parameters() == 0
    text = check_answer("05_pooling.ipynb", "1. A feature map of shape $(16, 28, 28)$")
    assert "$(16, 14, 14)$" in text and "**0** parameters" in text


def test_05_answer_3_four_windows_share_the_position():
    k, s, n = 3, 2, 6
    starts = range(0, c.conv_output_size(n, k, stride=s) * s, s)
    windows = sum(1 for r in starts for q in starts if r <= 2 < r + k and q <= 2 < q + k)
    assert windows == 4
    # the same through the backward pass: (2, 2) is the maximum of every window and collects all four gradients
    x = np.zeros((n, n))
    x[2, 2] = 1.0
    assert c.max_pool2d_backward(np.ones((2, 2)), x, k, stride=s)[2, 2] == 4
    assert "**Four.**" in check_answer("05_pooling.ipynb", "3. Max pooling a $6 \\times 6$ map")


def test_05_answer_6_strided_conv_and_conv_plus_pool_differ_on_odd_sizes():
    x = np.zeros((1, 2, 15, 15))
    a = c.Sequential(c.Conv2d(2, 2, 3, padding=1, seed=0), c.MaxPool2d(2)).forward(x)
    b = c.Conv2d(2, 2, 3, stride=2, padding=1, seed=0).forward(x)
    assert a.shape[2:] == (7, 7) and b.shape[2:] == (8, 8)
    text = check_answer("05_pooling.ipynb", "6. A $15 \\times 15$ map")
    assert "= 7$" in text and "= 8$" in text


def test_05_answer_7_a_1x1_conv_and_global_average_head():
    head = c.Sequential(c.Conv2d(64, 10, kernel_size=1, seed=0), c.GlobalAvgPool2d())
    assert head.num_parameters() == 650
    assert head.forward(np.zeros((8, 64, 12, 15), np.float32)).shape == (8, 10)
    assert c.Linear(64 * 12 * 15, 10).num_parameters() == 115_210
    text = check_answer("05_pooling.ipynb", "7. A classifier ends with")
    assert "= 650$" in text and "115{,}210" in text


def test_05_exercise_1_answer():
    m = np.array([[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5], [1, 1, 8, 0]])
    np.testing.assert_array_equal(c.max_pool2d(m, 2), [[5, 3], [9, 8]])
    np.testing.assert_array_equal(c.avg_pool2d(m, 2), [[2.75, 2], [2.75, 4.25]])
    first = answers("05_pooling.ipynb")[0]
    assert "5 & 3 \\\\ 9 & 8" in first and "2.75 & 2 \\\\ 2.75 & 4.25" in first


def test_06_answer_1_means_and_values():
    bn = c.BatchNorm2d(16)
    bn.forward(np.random.default_rng(0).normal(size=(64, 16, 14, 14)).astype(np.float32))
    assert bn.running_mean.shape == (16,) and 64 * 14 * 14 == 12_544
    text = check_answer("06_batch_norm.ipynb", "1. For a batch of shape $(64, 16, 14, 14)$")
    assert "**16** means" in text and "12{,}544" in text


def test_06_answer_2_a_constant_channel_gives_beta():
    bn = c.BatchNorm2d(1).astype(np.float64)
    bn.params["beta"][...] = 0.7
    np.testing.assert_array_equal(bn.forward(np.full((4, 1, 3, 3), 2.5)), 0.7)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan((0.0 - 0.0) / np.sqrt(0.0))
    assert "y = \\beta" in check_answer("06_batch_norm.ipynb", "2. Why must $\\epsilon$")


def test_06_answer_3_dividing_by_the_variance_gives_spread_one_over_sigma():
    v = np.random.default_rng(1).normal(scale=10.0, size=100_000)
    v = (v - v.mean()) / v.std() * 10                      # exactly standard deviation 10
    assert np.isclose(((v - v.mean()) / (v.var() + 1e-5)).std(), 0.1)
    assert "$10/100 = 0.1$" in check_answer("06_batch_norm.ipynb", "3. A student divides")


def test_06_answer_6_he_and_default_for_a_3x3_conv_from_64_channels():
    n_in = 64 * 3 * 3
    assert round(np.sqrt(2 / n_in), 4) == 0.0589
    W = c.Conv2d(64, 32, 3, seed=0).params["W"].astype(np.float64)
    assert np.abs(W).max() <= 1 / 24 and round(1 / 24, 4) == 0.0417
    assert round(1 / 24 / np.sqrt(3), 4) == 0.0241 and abs(W.std() / 0.0241 - 1) < 0.02
    text = check_answer("06_batch_norm.ipynb", "6. A $3 \\times 3$ convolution from 64 channels")
    assert "0.0589" in text and "0.0417" in text and "0.0241" in text and "= 6$" in text


def test_06_answer_7_weights_ten_times_larger_same_output_and_a_tenth_of_the_gradient():
    x = np.random.default_rng(2).normal(size=(32, 2, 6, 6))
    dy = np.random.default_rng(3).normal(size=(32, 4, 6, 6))

    def run(scale):
        net = c.Sequential(c.Conv2d(2, 4, 3, padding=1, seed=0), c.BatchNorm2d(4, eps=1e-12)).astype(np.float64)  # eps ~ 0
        net.layers[0].params["W"] *= scale
        net.layers[0].params["b"] *= scale
        y = net.forward(x)
        net.backward(dy)
        return y, net.layers[0].grads["W"]

    (y1, g1), (y10, g10) = run(1.0), run(10.0)
    np.testing.assert_allclose(y10, y1, atol=1e-4)
    np.testing.assert_allclose(g10, g1 / 10, rtol=1e-3, atol=1e-8)
    text = check_answer("06_batch_norm.ipynb", "7. Why does a network with batch normalization")
    assert "ten times smaller" in text


def test_06_exercise_1_answer():
    layer = c.BatchNorm2d(1, eps=1e-12).astype(np.float64)
    xhat = layer.forward(np.array([2.0, 4.0, 6.0, 8.0]).reshape(1, 1, 2, 2)).ravel()
    np.testing.assert_allclose(xhat, [-1.3416, -0.4472, 0.4472, 1.3416], atol=1e-4)
    assert np.isclose(layer.running_mean[0], 0.5) and round(float(layer.running_var[0]), 4) == 1.5667
    first = answers("06_batch_norm.ipynb")[0]
    assert "-1.3416, -0.4472, 0.4472, 1.3416" in first and "= 0.5$" in first and "1.5667" in first


# -- the checked exercise cells, run as a student would ------------------------------------------------------------

def run_check_cell(notebook: str, values: dict[str, str]) -> str:
    """Run the exercise-1 check cell of ``notebook`` with ``values`` filled in for the ``None`` placeholders."""
    import contextlib
    import io
    import re

    nb = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
    (source,) = ["".join(x["source"]) for x in nb["cells"] if x["cell_type"] == "code" and "# Exercise 1" in "".join(x["source"])]
    for name, value in values.items():
        source, n = re.subn(rf"^{name} = None", f"{name} = {value}", source, flags=re.M)
        assert n == 1, name
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(source, {"np": np, "cnnlib": c, "BatchNorm2d": c.BatchNorm2d})
    return out.getvalue()


def test_05_exercise_cell_says_right_wrong_and_names_the_kind_of_answer():
    out = run_check_cell("05_pooling.ipynb", {"my_max_pool": "[[5, 3], [9, 8]]", "my_avg_pool": "[[2.75, 2], [2.75, 4.25]]"})
    assert out.count(": right") == 2
    out = run_check_cell("05_pooling.ipynb", {"my_max_pool": "[[5, 3], [9, 4]]", "my_avg_pool": "[[2.75, 2], [2.75, 4]]"})
    assert out.count("look again at window(s) (1, 1)") == 2
    for wrong_kind in ("'5 3 9 8'", "[5, 3, 9, 8]", "[[1, 2], [3]]", "[['5', '3'], ['9', '8']]", "5", "{}"):
        out = run_check_cell("05_pooling.ipynb", {"my_max_pool": wrong_kind, "my_avg_pool": wrong_kind})
        assert out.count("write a 2x2 list of numbers") == 2, wrong_kind
        assert "5 & 3" not in out and "[[5" not in out               # no answer given away


def test_06_exercise_cell_says_right_wrong_and_names_the_kind_of_answer():
    right = {"my_mean": "5", "my_var": "5", "my_xhat": "[-1.34, -0.45, 0.45, 1.34]",
             "my_running_mean": "0.5", "my_running_var": "1.57"}               # two decimals are enough
    assert run_check_cell("06_batch_norm.ipynb", right).count(": right") == 5
    wrong = {"my_mean": "5", "my_var": "20 / 3", "my_xhat": "[-0.6, -0.2, 0.2, 0.6]",
             "my_running_mean": "5", "my_running_var": "1.4"}
    out = run_check_cell("06_batch_norm.ipynb", wrong)
    assert out.count(": right") == 1 and "divide by the standard deviation, not by the variance" in out
    kinds = {"my_mean": "'5'", "my_var": "[5]", "my_xhat": "[[-1.34, -0.45], [0.45, 1.34]]",
             "my_running_mean": "[[1, 2], [3]]", "my_running_var": "'1.57'"}
    out = run_check_cell("06_batch_norm.ipynb", kinds)
    assert out.count("write a single number") == 4 and out.count("write a list of four numbers") == 1


def test_06_compares_settings_on_validation_images_not_on_the_test_set():
    nb = json.loads((ROOT / "notebooks" / "06_batch_norm.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(x["source"]) for x in nb["cells"] if x["cell_type"] == "code")
    assert "x_val, y_val = x_train[-5000:], y_train[-5000:]" in code
    assert "x_test[" not in code and "evaluate(model, x_test" not in code
