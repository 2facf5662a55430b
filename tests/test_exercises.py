"""The exercise notebooks: structure, solutions that pass, stubs that report "not implemented", the grader.

Every notebook is run in a fresh kernel through ``python -m cnnlib.grade``, the
command students use. The solution of the open MNIST exercise trains a network
on all 60,000 training images, so it has its own slow test.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from cnnlib import checks
from cnnlib.grade import grade_notebook

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = EXERCISES / "solutions"
NOTEBOOKS = sorted(p.name for p in EXERCISES.glob("*.ipynb"))
MNIST = "09_your_own_cnn.ipynb"
QUICK = [n for n in NOTEBOOKS if n != MNIST]
COURSE = {
    "01_why_convolutions", "02_convolution", "03_stride_and_padding", "04_activations", "05_pooling",
    "06_batch_norm", "07_softmax_cross_entropy", "08_backpropagation", "09_first_cnn", "10_full_mnist",
    "11_beyond_2d",
}
TIMEOUT = 600  # seconds per cell for the quick notebooks
# The hand-out (python -m cnnlib.grade.release --handout) has no solutions: the tests that need them skip there.
needs_solutions = pytest.mark.skipif(not SOLUTIONS.is_dir(), reason="the hand-out has no exercises/solutions/")


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def find_check_cells(nb) -> list[tuple[int, list[str]]]:
    """Index and exercise names of every cell that calls a registered check."""
    return [(i, names) for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and (names := checks.find_check_calls(cell.source))]


def _grade_cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnlib.grade", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


# --------------------------------------------------------------------------
# Structure (no kernel needed)
# --------------------------------------------------------------------------


@needs_solutions
def test_the_expected_exercises_exist():
    assert "05_pooling.ipynb" in NOTEBOOKS and MNIST in NOTEBOOKS and len(NOTEBOOKS) >= 9
    assert sorted(p.name for p in SOLUTIONS.glob("*.ipynb")) == NOTEBOOKS
    assert (EXERCISES / "README.md").is_file()


@pytest.mark.parametrize("name", NOTEBOOKS)
@needs_solutions
def test_stub_and_solution_share_everything_but_the_code(name):
    stub, sol = _read(EXERCISES / name), _read(SOLUTIONS / name)
    assert len(stub.cells) == len(sol.cells)
    for i, (a, b) in enumerate(zip(stub.cells, sol.cells)):
        assert a.cell_type == b.cell_type and _tags(a) == _tags(b), f"cell {i}"
        if "exercise" in _tags(a):
            assert "# YOUR CODE HERE" in a.source and a.source.rstrip().endswith("raise NotImplementedError"), f"cell {i}"
            assert "NotImplementedError" not in b.source and "YOUR CODE HERE" not in b.source, f"cell {i}"
            assert a.source.split("\n")[0] == b.source.split("\n")[0], f"cell {i}: the signature differs"
        elif i > 0:
            assert a.source == b.source, f"cell {i} differs between exercise and solution"


@pytest.mark.parametrize("folder", ["exercises", "solutions"])
def test_notebooks_are_stored_without_outputs(folder):
    if folder == "solutions" and not SOLUTIONS.is_dir():
        pytest.skip("the hand-out has no exercises/solutions/")
    for name in NOTEBOOKS:
        nb = _read((EXERCISES if folder == "exercises" else SOLUTIONS) / name)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{folder}/{name} has outputs"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_explains_itself(name):
    nb = _read(EXERCISES / name)
    intro = "\n".join(c.source for c in nb.cells[:3])
    assert nb.cells[0].source.startswith(f"# Exercises {name[:2]}: ")
    assert "**Follows**" in intro and "**You will practise:**" in intro
    assert f"python -m cnnlib.grade exercises/{name}" in intro
    assert "(N, C, H, W)" in intro and "not* flipped" in intro
    followed = set(re.findall(r"`(\d\d_\w+)\.ipynb`", nb.cells[0].source))
    assert followed and followed <= COURSE, followed
    # every exercise: instructions, then the function, then its check
    checks_found = find_check_cells(nb)
    assert checks_found
    for i, names in checks_found:
        assert "check" in _tags(nb.cells[i]) and "exercise" in _tags(nb.cells[i - 1])
        assert nb.cells[i - 2].cell_type == "markdown" and nb.cells[i - 2].source.startswith("## Exercise")
        for n in names:
            assert n in checks.CHECKS, n
    # and every cell tagged "check" calls a registered check (a misspelt check is not silently ungraded)
    tagged = [i for i, cell in enumerate(nb.cells) if "check" in _tags(cell)]
    assert tagged == [i for i, _ in checks_found]


def test_every_check_is_used_by_some_exercise():
    used = {n for name in NOTEBOOKS for _, names in find_check_cells(_read(EXERCISES / name)) for n in names}
    assert used == set(checks.CHECKS)


def test_the_grader_uses_only_the_public_interface_of_checks():
    import cnnlib.grade as grade

    for path in Path(grade.__file__).parent.glob("*.py"):
        source = path.read_text()
        tree = ast.parse(source)
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                 and n.value.id == "checks"}
        assert attrs <= set(checks.__all__), (path.name, attrs)
        assert not re.search(r"\b(_log_json|_LOG|_engine|_registry|_TOPICS)\b", source), path.name


# --------------------------------------------------------------------------
# Running the notebooks with the grader, in fresh kernels
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def graded():
    """Grade every stub and every quick solution with the CLI (two processes side by side)."""
    runs = {}
    procs = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "cnnlib.grade", "--json", "--timeout", str(TIMEOUT),
             *[str(folder / n) for n in (NOTEBOOKS if kind == "stubs" else QUICK)]],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for kind, folder in (("stubs", EXERCISES), ("solutions", SOLUTIONS))
    }
    start = time.perf_counter()
    for kind, proc in procs.items():
        out, err = proc.communicate(timeout=1800)
        try:
            grades = {Path(g["path"]).name: g for g in json.loads(out)}
        except json.JSONDecodeError:
            pytest.fail(f"the grader did not print JSON for the {kind} (exit {proc.returncode}):\n{out}\n{err}")
        runs[kind] = (proc.returncode, grades, err)
    runs["seconds"] = time.perf_counter() - start
    return runs


@pytest.mark.parametrize("name", QUICK)
@needs_solutions
def test_solution_passes_every_check(graded, name):
    code, grades, err = graded["solutions"]
    g = grades[name]
    assert not g["problem"] and not g["cell_errors"], (g, err)
    assert g["exercises"] and all(e["status"] == "passed" for e in g["exercises"]), g
    assert g["score"] == g["total"] == len(find_check_cells(_read(SOLUTIONS / name)))


@needs_solutions
def test_solutions_exit_zero(graded):
    code, _, err = graded["solutions"]
    assert code == 0, err


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stub_reports_not_implemented_everywhere(graded, name):
    code, grades, err = graded["stubs"]
    g = grades[name]
    assert not g["problem"] and not g["cell_errors"], (g, err)
    assert g["exercises"] and all(e["status"] == "not implemented" for e in g["exercises"]), g
    assert g["score"] == 0


def test_stubs_exit_one(graded):
    code, _, err = graded["stubs"]
    assert code == 1, err


@pytest.mark.slow
@needs_solutions
def test_mnist_solution_beats_the_target():
    """Trains the solution network for two epochs on all 60,000 images (about 25 s alone, 25-30 s in make test)."""
    start = time.perf_counter()
    g = grade_notebook(SOLUTIONS / MNIST, cell_timeout=3600, notebook_timeout=3600)
    elapsed = time.perf_counter() - start
    assert not g.problem and not g.cell_errors, g
    ex, *dropout = g.exercises
    assert ex.name == "mnist_cnn" and ex.status == "passed", ex
    assert [(e.name, e.status) for e in dropout] == [("dropout_forward", "passed"), ("dropout_backward", "passed")], dropout
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", ex.detail).group(1))
    assert accuracy >= 98.5
    print(f"\nMNIST solution: {ex.detail}; notebook run {elapsed:.0f} s")


# --------------------------------------------------------------------------
# The grader's command line on hand-made notebooks
# --------------------------------------------------------------------------


def _solution_source(name: str, func: str) -> str:
    for cell in _read(SOLUTIONS / name).cells:
        if "exercise" in _tags(cell) and cell.source.startswith(f"def {func}("):
            return cell.source
    raise KeyError(func)


@pytest.fixture(scope="module")
def half_done(tmp_path_factory) -> Path:
    """05_pooling with one exercise right, one wrong, one with a syntax error and one untouched."""
    nb = _read(EXERCISES / "05_pooling.ipynb")
    for cell in nb.cells:
        if "exercise" not in _tags(cell):
            continue
        if cell.source.startswith("def max_pool2d("):
            cell.source = _solution_source("05_pooling.ipynb", "max_pool2d")
        elif cell.source.startswith("def max_pool2d_backward("):  # the whole window gets the gradient
            cell.source = _solution_source("05_pooling.ipynb", "avg_pool2d_backward").replace(
                "def avg_pool2d_backward(", "def max_pool2d_backward(").replace("/ (k * k)", "")
        elif cell.source.startswith("def avg_pool2d("):
            cell.source = "def avg_pool2d(x, kernel_size, stride=None)\n    return x"
    path = tmp_path_factory.mktemp("grade") / "05_pooling.ipynb"
    nbformat.write(nb, path)
    return path


@needs_solutions
def test_grader_scores_a_half_done_notebook(half_done):
    run = _grade_cli(str(half_done))
    assert run.returncode == 1, run.stderr
    out = run.stdout
    assert re.search(r"ok max_pool2d\s+passed\s+5/5 cases", out), out
    assert re.search(r"-- max_pool2d_backward\s+failed\s+\d/8 cases\s+first failing case: worked_example", out), out
    assert re.search(r"-- avg_pool2d\s+error\s+the answer cell \(cell \d+\): SyntaxError", out), out
    assert re.search(r"-- avg_pool2d_backward\s+not implemented", out), out
    assert "note: cell" in out and "SyntaxError" in out
    assert "score: 1/4 exercises passed" in out


@needs_solutions
def test_grader_exit_zero_and_json(half_done):
    run = _grade_cli("--exit-zero", "--json", str(half_done))
    assert run.returncode == 0, run.stderr
    [g] = json.loads(run.stdout)
    assert [e["status"] for e in g["exercises"]] == ["passed", "failed", "error", "not implemented"]
    assert g["score"] == 1 and g["total"] == 4 and g["seconds"] > 0


def test_grader_cannot_grade(tmp_path):
    run = _grade_cli(str(tmp_path / "missing.ipynb"))
    assert run.returncode == 2 and "no such notebook" in run.stdout
    other = tmp_path / "my_notes.ipynb"  # a notebook that is none of the course's exercise sets
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), other)
    run = _grade_cli(str(other), "--exit-zero")
    assert run.returncode == 2 and "is not one of the course's exercise notebooks" in run.stdout
    bad = tmp_path / "05_pooling.ipynb"
    bad.write_text("not json")
    run = _grade_cli(str(bad))
    assert run.returncode == 2 and "cannot read" in run.stdout
    run = _grade_cli(str(tmp_path / "no_notebooks_here"))
    assert run.returncode == 2


@needs_solutions
def test_a_cell_that_runs_too_long_is_interrupted_and_grading_goes_on(tmp_path):
    nb = _read(SOLUTIONS / "04_activations.ipynb")
    nb.cells.insert(4, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    path = tmp_path / "04_activations.ipynb"
    nbformat.write(nb, path)
    start = time.perf_counter()
    g = grade_notebook(path, cell_timeout=3)
    assert time.perf_counter() - start < 45
    assert g.all_passed, g
    assert g.cell_errors and "cell 5" in g.cell_errors[0] and "time limit of 3 s" in g.cell_errors[0]


@needs_solutions
def test_the_kernel_runs_this_python_and_a_private_copy_of_this_cnnlib(tmp_path):
    import cnnlib

    nb = _read(SOLUTIONS / "06_softmax_cross_entropy.ipynb")
    nb.cells.insert(4, nbformat.v4.new_code_cell(
        "import sys, cnnlib, pathlib\n"
        f"assert sys.executable == {sys.executable!r}, sys.executable\n"
        f"assert pathlib.Path(cnnlib.__file__).read_bytes() == {Path(cnnlib.__file__).read_bytes()!r}\n"
        f"assert cnnlib.__file__ != {cnnlib.__file__!r}, 'the installed cnnlib, not a copy'"))
    path = tmp_path / "06_softmax_cross_entropy.ipynb"
    nbformat.write(nb, path)
    g = grade_notebook(path)
    assert not g.cell_errors, g.cell_errors
    assert g.all_passed
