"""Grading an instructor can trust: every tampering attempt a student could make ends in the right grade.

The release (``exercises/NN_*.ipynb``) decides what is graded; the checks run in the
grader's own process and call the student's functions in the kernel; a kernel that
dies or ignores an interrupt costs only what was not yet graded; a class folder is
graded submission by submission, each in isolation, into a CSV gradebook. Each test
builds a small submission from a solution notebook and changes one thing.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

import cnnlib
from cnnlib.grade import _kernel, grade_notebook
from cnnlib.grade import release as rel
from cnnlib.grade._grader import PACKAGE

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = EXERCISES / "solutions"
needs_solutions = pytest.mark.skipif(not SOLUTIONS.is_dir(), reason="the hand-out has no exercises/solutions/")


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def pooling(tmp_path: Path, name: str = "05_pooling.ipynb", edit=None) -> Path:
    """The solved 05_pooling notebook, changed by ``edit(cells)``, saved as a submission."""
    nb = nbformat.read(SOLUTIONS / "05_pooling.ipynb", as_version=4)
    if edit is not None:
        edit(nb.cells)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def cell_defining(cells, func: str):
    return next(c for c in cells if "exercise" in _tags(c) and c.source.startswith(f"def {func}("))


def wrong_avg_pool(cells) -> None:
    cell_defining(cells, "avg_pool2d").source = "def avg_pool2d(x, kernel_size, stride=None):\n    return x[:, :, ::kernel_size, ::kernel_size]"


def statuses(g) -> dict[str, str]:
    return {e.name: e.status for e in g.exercises}


ALL_FOUR = ["max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"]
pytestmark = needs_solutions


# ---------------------------------------------------------------------------
# The release decides what is graded
# ---------------------------------------------------------------------------


def test_a_deleted_check_cell_still_grades_its_exercise(tmp_path):
    def edit(cells):
        wrong_avg_pool(cells)
        cells[:] = [c for c in cells if not ("check" in _tags(c) and "check_avg_pool2d(" in c.source)]

    g = grade_notebook(pooling(tmp_path, edit=edit))
    assert list(statuses(g)) == ALL_FOUR
    assert statuses(g)["avg_pool2d"] == "failed" and g.score == 3


def test_repeated_check_cells_and_checks_in_strings_add_no_exercise(tmp_path):
    def edit(cells):
        check = next(c for c in cells if "check" in _tags(c))
        cells.append(nbformat.v4.new_code_cell(check.source))
        cells.append(nbformat.v4.new_code_cell('def helper():\n    """Calls check_relu( and checks.check_tanh(tanh) in a docstring."""\n    return "check_softmax(x)"'))

    g = grade_notebook(pooling(tmp_path, edit=edit))
    assert list(statuses(g)) == ALL_FOUR and g.all_passed


def test_an_edited_check_cell_changes_nothing(tmp_path):
    def edit(cells):
        wrong_avg_pool(cells)
        check = next(c for c in cells if "check" in _tags(c) and "check_avg_pool2d(" in c.source)
        check.source = "import cnnlib\nchecks.check_avg_pool2d(cnnlib.functional.avg_pool2d);"  # the check on cnnlib's own function

    g = grade_notebook(pooling(tmp_path, edit=edit))
    assert statuses(g)["avg_pool2d"] == "failed"


def test_a_missing_answer_cell_is_graded_missing(tmp_path):
    def edit(cells):
        cells.remove(cell_defining(cells, "avg_pool2d"))

    g = grade_notebook(pooling(tmp_path, edit=edit))
    assert statuses(g)["avg_pool2d"] == "missing" and "avg_pool2d()" in g.exercises[2].detail
    assert g.score == 3


def test_the_release_is_found_by_metadata_or_by_name(tmp_path):
    nb = nbformat.read(EXERCISES / "05_pooling.ipynb", as_version=4)
    assert nb.metadata["cnnlib"]["exercise_set"] == "05_pooling"
    renamed = tmp_path / "alice_submission.ipynb"
    nbformat.write(nb, renamed)
    assert grade_notebook(renamed).release == "05_pooling"
    g = grade_notebook(pooling(tmp_path, name="alice_05_pooling.ipynb"))
    assert g.release == "05_pooling" and g.all_passed


# ---------------------------------------------------------------------------
# Nothing in the kernel can change a grade but what the functions return
# ---------------------------------------------------------------------------


def test_patching_the_checks_in_the_kernel_changes_nothing(tmp_path):
    def edit(cells):
        wrong_avg_pool(cells)
        cells.insert(4, nbformat.v4.new_code_cell(
            "import cnnlib.checks as ch\n"
            "from cnnlib.checks import CheckResult, PASSED\n"
            "fake = lambda *a, **k: CheckResult('avg_pool2d', PASSED)\n"
            "ch.check_avg_pool2d = fake\n"
            "ch.CHECKS['avg_pool2d'] = fake\n"
            "import cnnlib.checks.pooling as p\n"
            "p.check_avg_pool2d = fake"))

    g = grade_notebook(pooling(tmp_path, edit=edit))
    assert statuses(g)["avg_pool2d"] == "failed"


def test_an_answer_that_reads_the_expected_value_from_the_callers_frames_fails(tmp_path):
    frame_reader = (
        "def avg_pool2d(x, kernel_size, stride=None):\n"
        "    import inspect\n"
        "    frame = inspect.currentframe().f_back\n"
        "    while frame is not None:\n"
        "        for value in frame.f_locals.values():\n"
        "            expected = getattr(value, 'expected', None)\n"
        "            if expected is not None:\n"
        "                return expected\n"
        "        frame = frame.f_back\n"
        "    return x\n"
    )

    def edit(cells):
        cell_defining(cells, "avg_pool2d").source = frame_reader

    g = grade_notebook(pooling(tmp_path, edit=edit))
    assert statuses(g)["avg_pool2d"] == "failed"
    # and the same trick does pass the in-notebook check (where the expected values live in the caller's frames),
    # which is why the grade is not taken from there
    ns: dict = {}
    exec(frame_reader, ns)
    assert cnnlib.checks.check_avg_pool2d(ns["avg_pool2d"], verbose=False).status == "passed"


def test_an_answer_that_calls_cnnlibs_own_function_is_flagged_not_failed(tmp_path):
    def edit(cells):
        cell_defining(cells, "max_pool2d").source = (
            "import cnnlib.functional as F\n\ndef max_pool2d(x, kernel_size, stride=None):\n    return F.max_pool2d(x, kernel_size, stride)")

    g = grade_notebook(pooling(tmp_path, edit=edit))
    ex = g.exercises[0]
    assert ex.status == "passed" and ex.flags == ["the answer uses cnnlib's max_pool2d"]
    assert not any(e.flags for e in g.exercises[1:])


def test_an_answer_that_changes_its_input_in_place_is_still_caught(tmp_path):
    def edit(cells):
        cell_defining(cells, "max_pool2d").source += "\n\n_ok = max_pool2d\ndef max_pool2d(x, kernel_size, stride=None):\n    y = _ok(x, kernel_size, stride)\n    x[...] = 0\n    return y"

    g = grade_notebook(pooling(tmp_path, edit=edit))
    assert g.exercises[0].status == "failed" and "changed its input x in place" in g.exercises[0].detail


# ---------------------------------------------------------------------------
# A kernel that dies, a cell that will not stop
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("killer, how", [
    ("import os\nos._exit(3)", "exited with status 3"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "killed by SIGKILL"),
])
def test_a_kernel_that_dies_costs_only_the_exercises_not_yet_graded(tmp_path, killer, how):
    inserted = []

    def edit(cells):
        at = cells.index(cell_defining(cells, "avg_pool2d"))
        cells.insert(at, nbformat.v4.new_code_cell(killer))
        inserted.append(at + 1)  # cells are numbered from 1

    g = grade_notebook(pooling(tmp_path, edit=edit))
    assert statuses(g) == {"max_pool2d": "passed", "max_pool2d_backward": "passed",
                           "avg_pool2d": "not graded", "avg_pool2d_backward": "not graded"}
    assert how in g.problem and f"cell {inserted[0]}" in g.problem, g.problem


IGNORES_INTERRUPT = {
    "catches KeyboardInterrupt": "import time\nwhile True:\n    try:\n        time.sleep(0.5)\n    except KeyboardInterrupt:\n        pass",
    "ignores SIGINT": "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(600)",
}


@pytest.mark.parametrize("kind", list(IGNORES_INTERRUPT))
def test_a_cell_that_ignores_the_interrupt_is_killed_with_everything_it_started(tmp_path, kind, monkeypatch):
    monkeypatch.setattr(_kernel, "GRACE", 1.0)  # the same path as the 5 s the grader gives, 4 s sooner
    pid_file = tmp_path / "child.pid"

    def edit(cells):
        at = cells.index(cell_defining(cells, "avg_pool2d"))
        cells.insert(at, nbformat.v4.new_code_cell(
            "import subprocess, pathlib\n"
            "child = subprocess.Popen(['sleep', '600'])\n"
            f"pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))\n" + IGNORES_INTERRUPT[kind]))

    start = time.monotonic()
    g = grade_notebook(pooling(tmp_path, edit=edit), cell_timeout=3)
    assert time.monotonic() - start < 40
    assert statuses(g)["max_pool2d_backward"] == "passed"
    assert statuses(g)["avg_pool2d"] == "not graded" and "time limit of 3 s" in g.problem and "killed" in g.problem
    child = int(pid_file.read_text())
    time.sleep(0.5)
    state = Path(f"/proc/{child}/stat")
    assert not state.exists() or state.read_text().split()[2] == "Z", "the process the student's code started survived"


@pytest.mark.parametrize("value", ["0", "-5", "nan", "soon"])
def test_invalid_time_limits_are_refused(tmp_path, value):
    run = subprocess.run([sys.executable, "-m", "cnnlib.grade", "--timeout", value, str(EXERCISES / "05_pooling.ipynb")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "--timeout" in run.stderr and ("positive number of seconds" in run.stderr or "number" in run.stderr)
    with pytest.raises(ValueError, match="notebook_timeout must be a positive number of seconds"):
        grade_notebook(EXERCISES / "05_pooling.ipynb", notebook_timeout=0)


def test_the_notebook_time_limit_stops_grading(tmp_path):
    def edit(cells):
        at = cells.index(cell_defining(cells, "avg_pool2d"))
        cells.insert(at, nbformat.v4.new_code_cell("import time\ntime.sleep(30)"))

    g = grade_notebook(pooling(tmp_path, edit=edit), notebook_timeout=6)
    assert g.exercises[0].status == "passed"
    assert statuses(g)["avg_pool2d_backward"] == "not graded" and "time limit" in (g.problem + str(g.cell_errors))


# ---------------------------------------------------------------------------
# The MNIST exercise: the grader tests the model itself
# ---------------------------------------------------------------------------


def mnist_submission(tmp_path: Path, body: str) -> Path:
    nb = nbformat.read(EXERCISES / "09_your_own_cnn.ipynb", as_version=4)
    answer = next(c for c in nb.cells if "exercise" in _tags(c))
    answer.source = body
    path = tmp_path / "09_your_own_cnn.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_lookup_table_model_cannot_pass_the_mnist_exercise(tmp_path):
    body = (
        "class Lookup(c.Layer):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        (_, _), (xt, yt) = c.load_mnist()\n"
        "        self.table = {x.tobytes(): y for x, y in zip(xt, yt)}\n"
        "    def forward(self, x, training=True):\n"
        "        out = np.zeros((len(x), 10), np.float32)\n"
        "        for i, img in enumerate(x):\n"
        "            out[i, self.table.get(img.tobytes(), 0)] = 1\n"
        "        return out\n\n"
        "def train_my_cnn(x_train, y_train):\n"
        "    return c.Sequential(Lookup())\n"
    )
    g = grade_notebook(mnist_submission(tmp_path, body))
    ex, *dropout = g.exercises  # then the dropout parts, left as handed out
    assert ex.name == "mnist_cnn" and [e.status for e in dropout] == ["not implemented"] * 2, g.exercises
    assert ex.status == "failed" and "not one of cnnlib's layers" in ex.detail, ex


def test_the_grader_evaluates_the_returned_model_itself(tmp_path):
    body = "def train_my_cnn(x_train, y_train):\n    print('accuracy: 100.00%')\n    return c.mnist_cnn(seed=0)  # untrained\n"
    g = grade_notebook(mnist_submission(tmp_path, body))
    ex, *dropout = g.exercises  # then the dropout parts, left as handed out
    assert ex.name == "mnist_cnn" and [e.status for e in dropout] == ["not implemented"] * 2, g.exercises
    assert ex.status == "failed" and "expected at least 98.50%" in ex.detail, ex


# ---------------------------------------------------------------------------
# A class folder: isolation, a gradebook, files that cannot be graded
# ---------------------------------------------------------------------------


def test_a_folder_is_graded_into_a_csv_gradebook(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    pooling(folder, name="ana_05_pooling.ipynb")
    pooling(folder, name="ben_05_pooling.ipynb", edit=wrong_avg_pool)
    (folder / "cara_05_pooling.ipynb").write_text("{ not json")
    (folder / "dan_05_pooling.ipynb").write_text("")
    (folder / "notes.txt").write_text("not a notebook")
    nbformat.write(nbformat.read(EXERCISES / "04_activations.ipynb", as_version=4), folder / "eve_04_activations.ipynb")
    book = tmp_path / "grades.csv"
    run = subprocess.run([sys.executable, "-m", "cnnlib.grade", str(folder), "--exercise-set", "05_pooling",
                          "--gradebook", str(book), "--jobs", "2"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 2, run.stderr  # some files could not be graded; the others were
    rows = {Path(r["file"]).name: r for r in csv.DictReader(book.open())}
    assert set(rows) == {"ana_05_pooling.ipynb", "ben_05_pooling.ipynb", "cara_05_pooling.ipynb", "dan_05_pooling.ipynb",
                         "notes.txt", "eve_04_activations.ipynb"}
    assert rows["ana_05_pooling.ipynb"]["score"] == "4" and rows["ana_05_pooling.ipynb"]["avg_pool2d"] == "passed"
    assert rows["ben_05_pooling.ipynb"]["score"] == "3" and rows["ben_05_pooling.ipynb"]["avg_pool2d"] == "failed"
    assert "cannot read" in rows["cara_05_pooling.ipynb"]["problem"]
    assert "cannot read" in rows["dan_05_pooling.ipynb"]["problem"]
    assert "not one of the course's exercise notebooks" in rows["notes.txt"]["problem"] or "cannot read" in rows["notes.txt"]["problem"]
    assert "exercise set 04_activations, not 05_pooling" in rows["eve_04_activations.ipynb"]["problem"]
    assert "total: 7/" in run.stdout


def test_a_zip_of_submissions_is_graded_like_a_folder(tmp_path):
    a = pooling(tmp_path, name="ana_05_pooling.ipynb")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(a, "class/ana_05_pooling.ipynb")
        z.writestr("__MACOSX/._ana_05_pooling.ipynb", "junk")
    run = subprocess.run([sys.executable, "-m", "cnnlib.grade", str(archive), "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    [g] = json.loads(run.stdout)
    assert g["score"] == 4 and run.returncode == 0


def test_a_submission_that_rewrites_the_library_cannot_help_the_next_one(tmp_path):
    """One submission writes into its kernel's cnnlib and into the installed one; the next is graded as usual,
    and the one that wrote is flagged (the test puts the file back)."""
    target = PACKAGE / "checks" / "pooling.py"
    original = target.read_bytes()
    attack = (
        "import cnnlib, pathlib, sys, importlib\n"
        "mine = pathlib.Path(cnnlib.__file__).parent / 'checks' / 'pooling.py'\n"
        "mine.write_text(mine.read_text().replace('def check_avg_pool2d', 'def _gone'))\n"
        f"installed = pathlib.Path({str(target)!r})\n"
        "installed.write_text(installed.read_text() + '\\n\\ncheck_avg_pool2d = lambda *a, **k: None\\n')\n"
    )
    folder = tmp_path / "class"
    folder.mkdir()
    pooling(folder, name="a_05_pooling.ipynb", edit=lambda cells: cells.insert(4, nbformat.v4.new_code_cell(attack)))
    pooling(folder, name="b_05_pooling.ipynb", edit=wrong_avg_pool)
    try:
        from cnnlib.grade import collect, grade_many

        grades = grade_many(collect([folder], tmp_path), jobs=1, progress=False)
        by_name = {Path(g.path).name: g for g in grades}
        assert statuses(by_name["b_05_pooling.ipynb"])["avg_pool2d"] == "failed"
        assert by_name["a_05_pooling.ipynb"].all_passed
        assert "the installed cnnlib changed while this submission ran (checks/pooling.py)" in by_name["a_05_pooling.ipynb"].problem
        assert "installed cnnlib" not in by_name["b_05_pooling.ipynb"].problem  # flagged once, on the one that did it
    finally:
        target.write_bytes(original)


# ---------------------------------------------------------------------------
# One source for each exercise, and the hand-out
# ---------------------------------------------------------------------------


def test_the_student_notebooks_are_generated_from_the_solutions():
    assert rel.write_students(ROOT, check=True) == [], "run: python -m cnnlib.grade.release"


def test_solution_markers_turn_into_the_stub():
    src = "def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION"
    assert rel.student_source(src) == "def f(x):\n    \"\"\"Doc.\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError"
    for broken in ("### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION", "### BEGIN SOLUTION\n### BEGIN SOLUTION"):
        with pytest.raises(ValueError):
            rel.student_source(broken)
    md = "Intro.\n\n<!-- BEGIN SOLUTION -->\nOnly in the solutions.\n<!-- END SOLUTION -->"
    assert rel.student_source(md, rel.MD_BEGIN, rel.MD_END, ()).rstrip() == "Intro."


def test_the_handout_has_no_solutions_and_its_tests_run(tmp_path):
    out = rel.make_handout(tmp_path / "handout")
    assert not (out / "exercises" / "solutions").exists()
    assert sorted(p.name for p in (out / "exercises").glob("*.ipynb")) == sorted(p.name for p in EXERCISES.glob("*.ipynb"))
    for path in out.rglob("*.ipynb"):  # no notebook in it holds a marked answer (the docs may name the markers)
        assert "### BEGIN SOLUTION" not in path.read_text(), path
    assert (out / "cnnlib" / "__init__.py").is_file() and (out / "notebooks" / "01_why_convolutions.ipynb").is_file()
    env = {**os.environ, "PYTHONPATH": str(out)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_grading.py",
                          "tests/test_exercises.py", "-k", "not mnist and not beats"], cwd=out, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "skipped" in run.stdout and "no exercises/solutions" in run.stdout + run.stderr or "skipped" in run.stdout
    with pytest.raises(FileExistsError):
        rel.make_handout(out)
    archive = rel.make_handout(tmp_path / "handout2", as_zip=True)
    assert archive.suffix == ".zip" and zipfile.ZipFile(archive).namelist()


def test_the_grader_without_its_dependencies_says_how_to_run_it():
    code = ("import sys; sys.modules['jupyter_client'] = None\n"
            "from cnnlib.grade.__main__ import main\nsys.exit(main(['exercises/05_pooling.ipynb']))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "make grade NB=" in run.stderr and "Traceback" not in run.stderr


def test_the_grader_can_rebuild_every_layer_class_of_cnnlib():
    """A student's model may use any layer of cnnlib.layers: the grader must know each one's arguments."""
    import inspect

    from cnnlib import layers
    from cnnlib.grade._models import LAYER_ARGUMENTS

    classes = {name for name in layers.__all__
               if inspect.isclass(getattr(layers, name)) and issubclass(getattr(layers, name), layers.Layer)}
    assert classes - {"Layer", "Sequential", "Parameter"} <= set(LAYER_ARGUMENTS), classes - set(LAYER_ARGUMENTS)
    for name, arguments in LAYER_ARGUMENTS.items():
        parameters = inspect.signature(getattr(layers, name)).parameters
        assert set(arguments) <= set(parameters), (name, set(arguments) - set(parameters))


def test_every_exercise_says_which_cnnlib_names_would_answer_it():
    """The grader flags an answer that calls cnnlib's own version: each check needs its entry (perhaps empty)."""
    from cnnlib.checks import CHECKS
    from cnnlib.grade._grader import REFERENCES

    assert set(CHECKS) - {"mnist_cnn"} <= set(REFERENCES), set(CHECKS) - set(REFERENCES)  # mnist_cnn: any layers allowed
