"""The folded answers of notebooks 07 and 08: every number they state, measured here.

The answers sit in ``<details class="answer">`` blocks and are not computed in the notebooks
(that would print them before the reader has tried), so each test computes the number
independently and reads the notebook to make sure the answer still states it.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import cnnlib
from tests.notebook_text import answer_after, answers, cells, markdown

NB07 = "07_softmax_cross_entropy.ipynb"
NB08 = "08_backpropagation.ipynb"


EXAMPLE = np.array([2.0, 1.0, 0.1])


# --------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------


@pytest.mark.parametrize("notebook, questions, exercises", [(NB07, 5, 4), (NB08, 5, 4)])
def test_every_question_and_pen_and_paper_exercise_has_a_folded_answer(notebook, questions, exercises):
    text = markdown(notebook)
    check = text[text.index("## Check your understanding"):]
    check = check[:check.index("## Sources")] if "## Sources" in check else check
    numbered = re.findall(r"^\d+\. ", check, flags=re.M)
    assert len(numbered) == questions
    assert check.count('<details class="answer">') == questions
    assert len(answers(notebook)) == questions + exercises
    for block in re.findall(r'<details class="answer">.*?</details>', text, flags=re.S):   # markup that renders
        assert block.startswith('<details class="answer"><summary>Answer</summary>\n\n')
        assert block.endswith("\n\n</details>")


@pytest.mark.parametrize("notebook", [NB07, NB08])
def test_the_student_text_tells_one_story_and_the_sources_box_names_the_notes(notebook):
    text = markdown(notebook)
    body = text[:text.index("## Sources")]
    for attribution in ["Fu's", "Fu note", "Downing's", "Forssén and Hjorth-Jensen", "Some notes on CNN", "the notes"]:
        assert attribution not in body, attribution
    sources = text[text.index("## Sources"):text.index("## References")]
    assert "Some notes on CNN" in sources and "Forssén and Hjorth-Jensen" in sources


@pytest.mark.parametrize("notebook", [NB07, NB08])
def test_no_stored_output_gives_a_pen_and_paper_answer_away(notebook):
    for cell in cells(notebook):
        if cell["cell_type"] == "code" and re.search(r"^my_\w+ = None", "".join(cell["source"]), flags=re.M):
            text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
            assert "right" not in text and not re.search(r"\d", text), text


# --------------------------------------------------------------------------
# Notebook 07
# --------------------------------------------------------------------------


def test_07_exercise_1_same_and_flatter():
    np.testing.assert_allclose(cnnlib.softmax(EXAMPLE + 50), cnnlib.softmax(EXAMPLE))
    halved = cnnlib.softmax(EXAMPLE / 2)
    np.testing.assert_allclose(halved, [0.5017, 0.3043, 0.1940], atol=5e-5)
    assert halved.max() < cnnlib.softmax(EXAMPLE).max()                          # flatter
    assert (round(np.e, 2), round(np.exp(0.5), 2)) == (2.72, 1.65)
    a = answer_after(NB07, "**1. Predict, then check.**")
    assert "**the same**" in a and "**flatter**" in a and "`[0.5017, 0.3043, 0.194]`" in a
    assert r"$e^{1} \approx 2.72$" in a and r"$e^{0.5} \approx 1.65$" in a


def test_07_exercise_2_uniform_logits():
    p = cnnlib.softmax(np.zeros(3))
    np.testing.assert_allclose(p, 1 / 3)
    losses = [cnnlib.CrossEntropyLoss().forward(np.zeros((1, 3)), np.array([k])) for k in range(3)]
    np.testing.assert_allclose(losses, np.log(3))
    assert round(np.log(3), 4) == 1.0986
    a = answer_after(NB07, "**2. Pen and paper.**")
    assert r"1/3 \approx 0.3333" in a and r"\log 3 \approx 1.0986" in a


def test_07_exercise_3_flattening_index():
    s = np.arange(16 * 7 * 7).reshape(16, 7, 7)
    assert int(np.flatnonzero(cnnlib.flatten(s) == s[2, 3, 4])[0]) == 2 * 49 + 3 * 7 + 4 == 123
    assert "= 98 + 21 + 4 = 123$" in answer_after(NB07, "**3. Flattening index.**")


def test_07_exercise_4_dense_parameters():
    n = cnnlib.Linear(32 * 7 * 7, 10).num_parameters()
    assert n == 15_690 == cnnlib.mnist_cnn(seed=0)[-1].num_parameters()
    a = answer_after(NB07, "**4. Parameters.**")
    assert "**15,690**" in a and "$15{,}680$ weights" in a


def test_07_check_1_flattened_channels():
    s = np.arange(8 * 5 * 5).reshape(8, 5, 5)
    flat = cnnlib.flatten(s)
    assert flat.size == 200
    assert (np.isin(flat[25:50], s[1])).all() and flat[25:50].size == s[1].size
    a = answer_after(NB07, "1. A stack of shape `(8, 5, 5)`")
    assert r"$8 \cdot 5 \cdot 5 = 200$" in a and "**channel 1**" in a


def test_07_check_2_float32_overflow_bound():
    assert round(float(np.log(np.finfo(np.float32).max)), 1) == 88.7
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(np.float32(88.8))) and np.isfinite(np.exp(np.float32(88.7)))
    assert "$z_k > 88.7$ in float32" in answer_after(NB07, "2. Why does softmax not change")


def test_07_check_3_losses():
    hi, lo = -np.log(0.001), -np.log(0.999)
    assert round(hi, 4) == 6.9078 and np.isclose(hi, 3 * np.log(10)) and round(lo, 4) == 0.0010
    assert 6500 < hi / lo < 7500                                            # "about 7000 times"
    a = answer_after(NB07, "3. The network gives the true class probability 0.001")
    assert r"\approx 6.9078" in a and r"\approx 0.0010" in a and "about 7000 times" in a


def test_07_check_4_fused_loss_is_finite():
    assert cnnlib.CrossEntropyLoss().forward(np.array([[0.0, 1000.0]]), np.array([0])) == 1000.0
    with np.errstate(divide="ignore"):
        assert np.isneginf(np.log(cnnlib.softmax(np.array([0.0, 1000.0])))[0])
    assert "exact loss 1000" in answer_after(NB07, "4. Why does `CrossEntropyLoss` take logits")


def test_07_check_5_one_descent_step():
    loss = cnnlib.CrossEntropyLoss()
    loss.forward(EXAMPLE[None], np.array([0]))
    grad = loss.backward()[0]
    step = EXAMPLE - grad
    np.testing.assert_allclose(step - EXAMPLE, [0.341, -0.2424, -0.0986], atol=5e-5)
    assert abs(grad.sum()) < 1e-12                                          # the rise equals the sum of the falls
    a = answer_after(NB07, "5. After one gradient step on the logits")
    assert "$+0.341$, $-0.2424$ and\n$-0.0986$" in a


# --------------------------------------------------------------------------
# Notebook 08
# --------------------------------------------------------------------------

X1 = np.array([[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]])
W1 = np.array([[1, 2], [-1, 0]])


def test_08_exercise_1_kernel_gradient_for_g_ones():
    dx, dW, db = cnnlib.conv2d_backward(np.ones((2, 3)), X1, W1)
    np.testing.assert_array_equal(dW, [[15, 11], [19, 13]])
    np.testing.assert_array_equal(db, [6])
    blocks = {(p, q): X1[p:p + 2, q:q + 3].sum() for p in range(2) for q in range(2)}
    assert blocks == {(0, 0): 15, (0, 1): 11, (1, 0): 19, (1, 1): 13}
    a = answer_after(NB08, "**1. The kernel gradient by hand.**")
    for line in ["$5 + 2 + 2 + 3 + 1 + 2 = 15$", "$2 + 2 + 3 + 1 + 2 + 1 = 11$",
                 "$3 + 1 + 2 + 9 + 0 + 4 = 19$", "$1 + 2 + 1 + 0 + 4 + 5 = 13$",
                 r"\begin{pmatrix} 15 & 11 \\ 19 & 13 \end{pmatrix}", r"\partial L/\partial b = 6$"]:
        assert line in a, line


def test_08_exercise_2_input_gradient_for_g_ones():
    dx = cnnlib.conv2d_backward(np.ones((2, 3)), X1, W1)[0]
    expected = [[1, 3, 3, 2], [0, 2, 2, 2], [-1, -1, -1, 0]]
    np.testing.assert_array_equal(dx, expected)
    np.testing.assert_array_equal(cnnlib.conv2d(cnnlib.pad2d(np.ones((2, 3)), 1), W1[::-1, ::-1]), expected)
    a = answer_after(NB08, "**2. The input gradient by hand.**")
    assert r"1 & 3 & 3 & 2 \\ 0 & 2 & 2 & 2 \\ -1 & -1 & -1 & 0" in a
    assert "$2 + 1 = 3$" in a and "$1 + 2 - 1 + 0 = 2$" in a


def test_08_check_2_terms_in_a_weight_gradient():
    assert 28 * 28 * 64 == 50_176
    # one term per position and image: a one-hot upstream gradient at each position moves the weight gradient
    x = np.random.default_rng(0).normal(size=(2, 1, 5, 5))
    w = np.zeros((1, 1, 3, 3))
    terms = 0
    for n in range(2):
        for i in range(3):
            for j in range(3):
                dy = np.zeros((2, 1, 3, 3))
                dy[n, 0, i, j] = 1
                terms += np.any(cnnlib.conv2d_backward(dy, x, w)[1] != 0)
    assert terms == 2 * 3 * 3
    assert r"$28 \cdot 28 \cdot 64 = 50{,}176$" in answer_after(NB08, "2. A 3x3 kernel is applied at 28 x 28")


def test_08_check_3_nine_routed_eight_survive_the_mask():
    rng = np.random.default_rng(0)                  # the tiny network of notebook 08, as built there
    x = rng.normal(size=(2, 1, 6, 6))
    net = cnnlib.Sequential(cnnlib.Conv2d(1, 2, 3, padding=1, seed=0), cnnlib.ReLU(), cnnlib.MaxPool2d(2),
                            cnnlib.Flatten(), cnnlib.Linear(18, 3, seed=1)).astype(np.float64)
    loss = cnnlib.CrossEntropyLoss()
    conv_out = net[0].forward(x)
    loss.forward(net.forward(x), np.array([1, 0]))
    deltas = [loss.backward()]
    for layer in reversed(net.layers):
        deltas.append(layer.backward(deltas[-1]))
    after_pool, after_relu = deltas[3][0, 0], deltas[4][0, 0]    # dL/d(ReLU output), dL/d(conv output)
    assert np.count_nonzero(after_pool) == 9 and np.count_nonzero(after_relu) == 8
    windows = conv_out[0, 0].reshape(3, 2, 3, 2).transpose(0, 2, 1, 3).reshape(9, 4)
    assert ((windows <= 0).all(axis=1)).sum() == 1                 # exactly one window is all non-positive
    a = answer_after(NB08, "3. In the figure of the tiny network")
    assert "9 positions" in a and "checks both counts, 9 and 8" in a


def test_08_check_5_batch_norm_outputs_sum_to_m_beta():
    bn = cnnlib.BatchNorm2d(3).astype(np.float64)
    bn.params["beta"][:] = [0.5, -1.0, 2.0]
    y = bn.forward(np.random.default_rng(1).normal(size=(4, 3, 5, 5)) * 3 + 1)
    np.testing.assert_allclose(y.sum(axis=(0, 2, 3)), 4 * 5 * 5 * bn.params["beta"], atol=1e-9)
    assert r"$m\beta$ per" in answer_after(NB08, "5. Why can a gradient check with `dy` all ones")


class AvgBackMaxPool(cnnlib.MaxPool2d):
    """The answer to notebook 08's exercise 3, as printed there."""

    def forward(self, x, training=True):
        self.x_seen = x
        return super().forward(x, training)

    def backward(self, dy):
        return cnnlib.avg_pool2d_backward(dy, self.x_seen, self.kernel_size, self.stride)


def test_08_exercise_3_average_routing_fails_with_error_three_quarters():
    r = cnnlib.gradcheck(AvgBackMaxPool(2), np.random.default_rng(0).normal(size=(2, 3, 4, 4)))
    assert not r.passed(1e-6) and list(r.errors) == ["x"]
    assert abs(r.errors["x"] - 0.75) < 1e-6
    a = answer_after(NB08, "**3. Break it yourself.**")
    assert "exactly $1 - 1/4 = 0.75$" in a
    code = re.search(r"```python\n(.*?)```", a, flags=re.S).group(1)
    assert "class AvgBackMaxPool(cnnlib.MaxPool2d):" in code and "cnnlib.avg_pool2d_backward(dy, self.x_seen" in code


def test_08_exercise_4_window_starts_with_pad_2_stride_3():
    assert cnnlib.conv_output_size(8, 3, stride=3, padding=2) == 4 == (8 + 4 - 3) // 3 + 1
    assert list(range(-2, 8 + 2 - 3 + 1, 3)) == [-2, 1, 4, 7]
    rng = np.random.default_rng(4)
    x, w, dy = rng.normal(size=8), rng.normal(size=3), rng.normal(size=4)
    dW = cnnlib.conv2d_backward(dy[None], x[None], w[None], stride=(1, 3), padding=((0, 0), (2, 2)))[1][0]
    padded = np.pad(x, 2)
    np.testing.assert_allclose(dW, sum(dy[k] * padded[3 * k:3 * k + 3] for k in range(4)))
    assert "start at $-2, 1, 4, 7$: four outputs" in answer_after(NB08, "**4. The 1-D loop.**")


# --------------------------------------------------------------------------
# The checked cells: right, not right with the hint, the format, never raise
# --------------------------------------------------------------------------


def run_check(notebook: str, first_line: str, namespace: dict | None = None, **answers) -> list[str]:
    """Run the check cell that starts with ``first_line`` with ``answers`` filled in; return what it prints."""
    import contextlib
    import io

    src = next("".join(c["source"]) for c in cells(notebook)
               if c["cell_type"] == "code" and "".join(c["source"]).startswith(first_line))
    for name, value in answers.items():
        src, n = re.subn(rf"^{name} = None$", lambda _: f"{name} = {value!r}", src, flags=re.M)
        assert n == 1, name
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(src, {"np": np, "cnnlib": cnnlib, **(namespace or {})})     # must not raise, whatever was written
    return printed.getvalue().splitlines()


def test_07_exercise_1_check():
    run = lambda **a: run_check(NB07, "# Exercise 1:", **a)                        # noqa: E731
    assert run() == ["adding a constant: not answered yet", "halving: not answered yet"]
    assert run(my_plus_50="same", my_halved="flatter") == ["adding a constant: right", "halving: right"]
    wrong = run(my_plus_50="peakier", my_halved="same")
    assert wrong == ["adding a constant: not right. Hint: the same e^50 multiplies the numerator and every term "
                     "of the denominator",
                     "halving: not right. Hint: halving shrinks the gaps between the logits; what does a smaller gap "
                     "do to the ratio of two probabilities?"]
    for bad in ["Same", "flat", 1, ["same"], True]:
        lines = run(my_plus_50=bad, my_halved=bad)
        assert len(lines) == 2 and all(': please write one of the strings "same", "flatter" or "peakier", in quotes'
                                       f" (you wrote {bad!r})" in line for line in lines), lines


def test_07_exercise_2_check():
    run = lambda **a: run_check(NB07, "# Exercise 2:", **a)                        # noqa: E731
    assert run() == ["probability: not answered yet", "loss: not answered yet"]
    for p, l in [(1 / 3, np.log(3)), (0.333, 1.099), (0.3333, 1.0986)]:
        assert run(my_probability=p, my_loss=l) == ["probability: right", "loss: right"]
    assert run(my_probability=0.5, my_loss=np.log(2)) == [
        "probability: not right. Hint: equal logits give equal probabilities, and they add up to 1",
        "loss: not right. Hint: the loss is minus the log of the true class's probability"]
    for bad in ["1/3", [0.33], True]:
        lines = run(my_probability=bad, my_loss=bad)
        assert lines[0].startswith("probability: please write one number, the probability of any one class, e.g. 0.25")
        assert lines[1].startswith("loss: please write one number, e.g. 0.25 (not a string or a list")
        assert all(f"you wrote {bad!r}" in line for line in lines)


def test_07_exercises_3_and_4_check():
    index = lambda v=None: run_check(NB07, "# Exercise 3:", **({} if v is None else {"my_index": v}))   # noqa: E731
    assert index() == ["flat index: not answered yet"]
    assert index(123) == index(123.0) == index(np.int64(123)) == ["flat index: right"]
    assert index(122) == ["flat index: not right. Hint: use c*H*W + h*W + w with H = W = 7"]
    for bad in ["123", [123], True]:
        assert index(bad) == [f"flat index: please write one whole number, e.g. 17 (not a string or a list; "
                              f"you wrote {bad!r})"]
    params = lambda v=None: run_check(NB07, "# Exercise 4:", **({} if v is None else {"my_parameters": v}))  # noqa: E731
    assert params() == ["parameters: not answered yet"]
    assert params(15690) == params(15_690.0) == ["parameters: right"]
    assert params(15680) == ["parameters: not right. Hint: one weight per input for each output, "
                             "plus one bias per output"]
    for bad in ["15,690", (15690,), False]:
        assert params(bad) == [f"parameters: please write one whole number, e.g. 100 (not a string or a list; "
                               f"you wrote {bad!r})"]


def run_08(first_line: str, **answers) -> list[str]:
    """Run a check cell of notebook 08: it uses the worked example's x1, w1 and (exercise 2) exercise 1's helper."""
    src = next("".join(c["source"]) for c in cells(NB08) if "".join(c["source"]).startswith("x1 = np.array("))
    assert src.startswith("x1 = np.array([[5, 2, 2, 3],\n               [3, 1, 2, 1],\n               [9, 0, 4, 5]])\n"
                          "w1 = np.array([[1, 2],\n               [-1, 0]])\n")
    namespace = {"x1": X1, "w1": W1}
    if first_line == "# Exercise 2:":
        exercise_1 = next("".join(c["source"]) for c in cells(NB08) if "".join(c["source"]).startswith("# Exercise 1:"))
        exec(exercise_1.split("\nif my_dW is None:")[0], {"np": np}, namespace)     # defines as_numbers
        assert "as_numbers" in namespace
    return run_check(NB08, first_line, namespace, **answers)


def test_08_exercise_1_check():
    assert run_08("# Exercise 1:") == ["dL/dW: not answered yet"]
    for right in ([[15, 11], [19, 13]], ((15.0, 11), (19, 13))):
        assert run_08("# Exercise 1:", my_dW=right) == ["dL/dW: right"]
    assert run_08("# Exercise 1:", my_dW=[[15, 11], [13, 19]]) == [
        "dL/dW: not right. Hint: entry (p, q) is the sum of the 2x3 block x1[p:p + 2, q:q + 3]"]
    for bad, reason in [([[15, 11], [19]], "the rows have different lengths"), ([["15", "11"], ["19", "13"]],
                        "numbers, not strings"), ("15 11 19 13", "numbers, not strings"),
                        ([15, 11, 19, 13], "dL/dW has the kernel's shape, 2x2"), (48, "dL/dW has the kernel's shape, 2x2")]:
        assert run_08("# Exercise 1:", my_dW=bad) == [f"dL/dW: please write [[dw00, dw01], [dw10, dw11]] ({reason})"]


def test_08_exercise_2_check():
    right = [[1, 3, 3, 2], [0, 2, 2, 2], [-1, -1, -1, 0]]
    assert run_08("# Exercise 2:") == ["dL/dx: not answered yet"]
    assert run_08("# Exercise 2:", my_dx=right) == run_08("# Exercise 2:", my_dx=[[float(v) for v in r] for r in right]) \
        == ["dL/dx: right"]
    wrong = [[1, 3, 3, 2], [0, 2, 2, 2], [-1, -1, 1, 1]]
    assert run_08("# Exercise 2:", my_dx=wrong) == [
        "dL/dx: not right. Hint: 2 of the 12 entries differ, the first at (2, 2): list the windows that cover that "
        "pixel and the weight each puts on it"]
    for bad, reason in [([[1, 3, 3, 2], [0, 2, 2], [-1, -1, -1, 0]], "the rows have different lengths"),
                        ([["1", "3", "3", "2"]] * 3, "numbers, not strings"),
                        (right[:2], "dL/dx has the image's shape, 3x4")]:
        assert run_08("# Exercise 2:", my_dx=bad) == [f"dL/dx: please write a list of 3 rows of 4 numbers each ({reason})"]
