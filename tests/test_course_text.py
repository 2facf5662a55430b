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
from tests.notebook_text import answer_after, markdown

ROOT = Path(__file__).resolve().parents[1]


def receptive_field(net: cnnlib.Sequential) -> tuple[int, int]:
    """Side r and jump j of the receptive field after ``net``, by the rule of notebook 09, section 6."""
    r, jump = 1, 1
    for layer in net:
        if hasattr(layer, "kernel_size") and hasattr(layer, "stride"):
            k, s = layer.kernel_size[0], layer.stride[0]
            r, jump = r + (k - 1) * jump, jump * s
    return r, jump


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
    answer = answer_after("09_first_cnn.ipynb", "Add a third block to `mnist_cnn`")
    assert "$r = 22$" in answer and "jump doubles to 8" in answer and "22x22 patch" in answer


def test_notebook_09_text_states_the_measured_field_of_mnist_cnn():
    field = field_of_unit(cnnlib.Sequential(*cnnlib.mnist_cnn(seed=0).layers[:8]), (3, 3))
    assert field.sum() == 10 * 10
    assert "sees a 10x10 patch of the 28x28 digit" in markdown("09_first_cnn.ipynb")


# --- notebook 09: numbers stated only in folded answers -------------------------------------------------------------

def lenet5() -> cnnlib.Sequential:
    """LeNet-5 as notebook 09, section 7, builds it."""
    return cnnlib.Sequential(
        cnnlib.Conv2d(1, 6, 5, padding=2, seed=0), cnnlib.Tanh(), cnnlib.AvgPool2d(2),
        cnnlib.Conv2d(6, 16, 5, seed=1), cnnlib.Tanh(), cnnlib.AvgPool2d(2),
        cnnlib.Conv2d(16, 120, 5, seed=2), cnnlib.Tanh(), cnnlib.Flatten(),
        cnnlib.Linear(120, 84, seed=3), cnnlib.Tanh(), cnnlib.Linear(84, 10, seed=4),
    )


def test_notebook_09_lenet5_counts_stated_in_the_text():
    net = lenet5()
    assert [layer.num_parameters() for layer in net if layer.num_parameters()] == [156, 2416, 48120, 10164, 850]
    assert net.num_parameters() == 61706
    text = markdown("09_first_cnn.ipynb")
    assert "That is 61,706 parameters." in text and "| parameters | 61,706 | 9,146 |" in text


def test_notebook_09_answer_lenet5_on_a_36x36_image():
    net = lenet5()
    x = np.zeros((1, 1, 36, 36), dtype=np.float32)
    sizes = []
    for layer in net.layers[:7]:                       # C1 .. C5
        x = layer.forward(x, training=False)
        sizes.append(x.shape[-1])
    assert sizes == [36, 36, 18, 14, 14, 7, 3] and x.shape == (1, 120, 3, 3)
    assert x.size == 1080
    try:
        cnnlib.Sequential(*net.layers[7:]).forward(x, training=False)
    except ValueError:
        pass
    else:
        raise AssertionError("F6 should refuse 1,080 inputs")
    # F6 and the output as 1x1 convolutions: a 3 x 3 x 10 map of scores, windows 4 pixels apart (the jump)
    conv_tail = cnnlib.Sequential(cnnlib.Conv2d(120, 84, 1, seed=0), cnnlib.Tanh(), cnnlib.Conv2d(84, 10, 1, seed=1))
    assert conv_tail.forward(x, training=False).shape == (1, 10, 3, 3)
    assert receptive_field(cnnlib.Sequential(*net.layers[:7]))[1] == 4
    answer = answer_after("09_first_cnn.ipynb", "Feed LeNet-5 a 36x36 image")
    for phrase in ["7 - 5 + 1 = 3", "3 x 3 x 120", "1,080 values", "3 x 3 x 10 map", "four pixels apart"]:
        assert phrase in answer, phrase


def test_notebook_09_answer_lenet5_c5_sees_32x32():
    net = lenet5()
    assert receptive_field(cnnlib.Sequential(*net.layers[:7])) == (32, 4)
    c5 = cnnlib.Sequential(*net.layers[:7])           # tanh never zeroes a gradient: one image shows the whole field
    x = np.random.default_rng(0).normal(size=(1, 1, 28, 28)).astype(np.float32)
    out = c5.forward(x, training=False)
    dy = np.zeros_like(out)
    dy[0, 0, 0, 0] = 1
    assert (c5.backward(dy) != 0).all()             # every pixel of the 28x28 digit reaches a C5 unit
    answer = answer_after("09_first_cnn.ipynb", "Apply the receptive-field rule of section 6 to LeNet-5")
    assert "$r = 16 + 4 \\cdot 4 = 32$" in answer and "32x32 field" in answer


def test_notebook_09_answer_conv_layer_volume_and_parameters():
    layer = cnnlib.Conv2d(10, 20, 5, seed=0)
    out = layer.forward(np.zeros((1, 10, 14, 14), dtype=np.float32))
    assert out.shape == (1, 20, 10, 10) and layer.num_parameters() == 5020
    answer = answer_after("09_first_cnn.ipynb", "A conv layer with 20 filters of 5 x 5")
    assert "10 x 10 x 20" in answer and "5,020 parameters" in answer


def test_notebook_09_answer_dense_layer_share():
    net = cnnlib.Sequential(
        cnnlib.Conv2d(1, 8, 3, padding=1, seed=0), cnnlib.BatchNorm2d(8), cnnlib.ReLU(), cnnlib.MaxPool2d(2),
        cnnlib.Conv2d(8, 16, 3, padding=1, seed=1), cnnlib.BatchNorm2d(16), cnnlib.ReLU(), cnnlib.MaxPool2d(2),
        cnnlib.Flatten(), cnnlib.Linear(16 * 7 * 7, 10, seed=2),
    )
    dense = net[9].num_parameters()
    assert (dense, net.num_parameters()) == (7850, 9146) and round(100 * dense / 9146) == 86
    answer = answer_after("09_first_cnn.ipynb", "Why does the FC layer usually hold most")
    assert "7,850 of the 9,146 parameters (86%)" in answer


def test_notebook_09_answer_exercise_1_sizes():
    net = cnnlib.Sequential(cnnlib.Conv2d(3, 12, 5, seed=0), cnnlib.ReLU(), cnnlib.MaxPool2d(2), cnnlib.Flatten(),
                            cnnlib.Linear(14 * 14 * 12, 10, seed=1))
    x = np.zeros((1, 3, 32, 32), dtype=np.float32)
    shapes = []
    for layer in net:
        x = layer.forward(x, training=False)
        shapes.append(x.shape)
    assert shapes[0] == (1, 12, 28, 28) and shapes[2] == (1, 12, 14, 14)
    assert net[0].num_parameters() == 912 and net[4].num_parameters() == 23530
    answer = answer_after("09_first_cnn.ipynb", "**Sizes on paper.**")
    for phrase in ["28 x 28 x 12", "912 parameters", "14 x 14 x 12", "23,530"]:
        assert phrase in answer, phrase


def test_notebook_09_has_no_answers_printed_under_exercise_1():
    nb = json.loads((ROOT / "notebooks" / "09_first_cnn.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "".join(c["source"]).startswith("# Exercise 1"))
    printed = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
    assert "28" not in printed and "23,530" not in printed and "23530" not in printed


def run_notebook_09_exercise_1(**answers) -> list[str]:
    """Run notebook 09's exercise-1 check cell with ``answers`` filled in; return the lines it prints."""
    import contextlib
    import io
    import re

    nb = json.loads((ROOT / "notebooks" / "09_first_cnn.ipynb").read_text(encoding="utf-8"))
    src = next("".join(c["source"]) for c in nb["cells"] if "".join(c["source"]).startswith("# Exercise 1"))
    for name, value in answers.items():
        src, n = re.subn(rf"^{name} = None", f"{name} = {value!r}", src, flags=re.M)
        assert n == 1, name
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(src, {"np": np, "cnnlib": cnnlib})          # must not raise, whatever the student wrote
    return printed.getvalue().splitlines()


def test_notebook_09_exercise_1_check_says_right_wrong_or_asks_for_the_format():
    names = ("my_conv_volume", "my_pool_volume", "my_fc_params")
    right = run_notebook_09_exercise_1(**dict(zip(names, [(28, 28, 12), [14, 14, 12], 23530])))
    assert right == ["CONV volume: right", "POOL volume: right", "FC parameters: right"]
    assert all(line.endswith(": right") for line in run_notebook_09_exercise_1(**dict(zip(names, [(28.0, 28, 12), (14, 14, 12), 23530.0]))))
    wrong = run_notebook_09_exercise_1(**dict(zip(names, [(32, 32, 12), (16, 16, 12), 23520])))
    assert len(wrong) == 3 and all(": not right. Hint: " in line for line in wrong)
    assert "one bias per class" in wrong[2]
    assert "order: width, height, depth" in run_notebook_09_exercise_1(my_conv_volume=(12, 28, 28))[0]
    for bad_volume, bad_number in [("28x28x12", "23530"), (28, [23530]), ([14, 14], 23530.5), ((28, 28, "12"), True)]:
        lines = run_notebook_09_exercise_1(my_conv_volume=bad_volume, my_pool_volume=bad_volume, my_fc_params=bad_number)
        assert len(lines) == 3 and all(": please write " in line for line in lines), (bad_volume, bad_number, lines)
    assert run_notebook_09_exercise_1() == [f"{n}: not answered yet" for n in ("CONV volume", "POOL volume", "FC parameters")]


def test_notebook_09_every_folded_answer_uses_the_course_markup():
    text = markdown("09_first_cnn.ipynb")
    assert text.count("<details") == text.count('<details class="answer"><summary>Answer</summary>\n\n')
    assert text.count("<details") == text.count("\n\n</details>") == 11   # 5 + 2 + 2 + 1 questions, exercise 1


def test_notebook_09_test_set_is_used_once():
    nb = json.loads((ROOT / "notebooks" / "09_first_cnn.ipynb").read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    uses = [i for i, src in enumerate(code) if "x_test" in src and "load_mnist" not in src]
    assert len(uses) == 1 and "evaluate(model, x_test, y_test)" in code[uses[0]]
