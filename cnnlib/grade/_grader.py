"""Grading one submission: the release decides what is graded, the grader's own process decides the grade.

For a submitted exercise notebook the grader

1. finds its release, the student notebook the course hands out (by the exercise set
   the release wrote into its metadata, or by the file name), and takes from it the
   list of exercises and their check cells. The submission's check cells count for
   nothing: deleting, repeating or editing them changes no grade;
2. runs the submission's other code cells, in order, in a fresh kernel (this Python),
   each within a time limit, in a folder of its own, with a private copy of cnnlib
   first on the import path;
3. after the cell that defines an exercise's function (the answer cell, matched by
   cell id, else by the function's name), runs that exercise's check *here*: the
   check calls a stand-in for the student's function, which sends the inputs into
   the kernel, calls the student's function there and brings the answer back as
   data (never pickled). The expected values never enter the kernel, and the
   feedback is the same text the notebook's own check prints (one engine).

Each exercise's grade is recorded as soon as it is known: a kernel that dies, or a
cell that runs past its limit and ignores the interrupt (the kernel and every process
it started are then killed), costs only the exercises not yet graded, and the report
names the cell and what ended the kernel.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import checks
from . import _models, _wire
from ._kernel import Kernel

__all__ = ["ExerciseGrade", "NotebookGrade", "grade_notebook", "find_release", "DEFAULT_CELL_TIMEOUT", "DEFAULT_NOTEBOOK_TIMEOUT"]

DEFAULT_CELL_TIMEOUT = 1800.0  # seconds; the MNIST exercise trains for minutes on a busy 2-core machine
DEFAULT_NOTEBOOK_TIMEOUT = 3600.0
PACKAGE = Path(__file__).resolve().parents[1]  # the cnnlib package the grader runs
RELEASE_DIR = PACKAGE.parent / "exercises"

# cnnlib names that compute what each exercise asks the student to write; an answer that uses them is flagged.
REFERENCES: dict[str, tuple[str, ...]] = {
    "conv2d_single": ("conv2d", "conv2d_naive", "Conv2d"),
    "conv2d": ("conv2d", "conv2d_naive", "Conv2d"),
    "im2col": ("im2col", "im2col_same"),
    "conv2d_im2col": ("conv2d", "conv2d_naive", "Conv2d", "im2col_same"),
    "output_size": ("conv_output_size",),
    "conv_output_shape": ("conv_output_size", "conv2d", "Conv2d"),
    "conv_param_count": ("num_parameters", "Conv2d"),
    "pad_zeros": ("pad2d",),
    "pad_edge": ("pad2d",),
    "same_padding": ("conv_output_size",),
    "relu": ("relu", "ReLU"), "relu_backward": ("ReLU",),
    "sigmoid": ("sigmoid", "Sigmoid"), "sigmoid_backward": ("Sigmoid",),
    "tanh": ("tanh", "Tanh"), "tanh_backward": ("Tanh",),
    "max_pool2d": ("max_pool2d", "max_pool2d_naive", "MaxPool2d"),
    "max_pool2d_backward": ("max_pool2d_backward", "max_pool2d_backward_naive", "MaxPool2d"),
    "avg_pool2d": ("avg_pool2d", "AvgPool2d"),
    "avg_pool2d_backward": ("avg_pool2d_backward", "AvgPool2d"),
    "softmax": ("softmax", "log_softmax"),
    "cross_entropy": ("CrossEntropyLoss", "log_softmax"),
    "cross_entropy_backward": ("CrossEntropyLoss",),
    "flatten": ("flatten", "Flatten"), "flatten_backward": ("Flatten",),
    "batchnorm_forward": ("BatchNorm2d", "BatchNorm1d"),
    "batchnorm_backward": ("BatchNorm2d", "BatchNorm1d"),
    "running_stats": ("BatchNorm2d", "BatchNorm1d"),
    "conv2d_grad_weight": ("conv2d_backward", "conv2d_backward_naive", "Conv2d"),
    "conv2d_grad_input": ("conv2d_backward", "conv2d_backward_naive", "Conv2d"),
    "dropout_forward": ("Dropout",),
    "dropout_backward": ("Dropout",),
}


@dataclass
class ExerciseGrade:
    """The grade of one exercise.

    Attributes
    ----------
    name : str
        The exercise, named after its check (``check_max_pool2d`` -> ``"max_pool2d"``).
    status : str
        ``"passed"``, ``"failed"``, ``"not implemented"``, ``"error"`` (the answer cell
        raised, or the function is not defined), ``"missing"`` (no answer cell),
        ``"timed out"`` or ``"not graded"`` (the kernel died, or the notebook's time ran
        out, before this exercise).
    cases_passed, cases : int
        How many of the check's cases passed, out of how many.
    detail : str
        The first failing case with its feedback, the error, or a note on a pass.
    flags : list of str
        Things for the instructor to look at that do not change the grade (e.g. the
        answer calls cnnlib's own version of the function it is asked to write).
    """

    name: str
    status: str
    cases_passed: int = 0
    cases: int = 0
    detail: str = ""
    flags: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the exercise passed."""
        return self.status == "passed"


@dataclass
class NotebookGrade:
    """The grades of one submission.

    Attributes
    ----------
    path : str
        The file graded.
    release : str
        The exercise set it was matched to (``"05_pooling"``), or "" if none.
    exercises : list of ExerciseGrade
        One per exercise of the release, in its order.
    cell_errors : list of str
        Errors raised by the submission's cells.
    problem : str
        Why the file could not be graded, or what stopped grading part-way; empty if neither.
    seconds : float
        Wall-clock time.
    """

    path: str
    release: str = ""
    exercises: list[ExerciseGrade] = field(default_factory=list)
    cell_errors: list[str] = field(default_factory=list)
    problem: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> int:
        """Number of exercises passed."""
        return sum(e.passed for e in self.exercises)

    @property
    def flags(self) -> list[str]:
        """Every exercise's flags, prefixed with the exercise."""
        return [f"{e.name}: {f}" for e in self.exercises for f in e.flags]

    @property
    def all_passed(self) -> bool:
        """True when every exercise passed."""
        return bool(self.exercises) and self.score == len(self.exercises)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (with ``score`` and ``total``)."""
        d = asdict(self)
        d.update(score=self.score, total=len(self.exercises))
        return d


# --------------------------------------------------------------------------
# The release: which exercises, which check cells
# --------------------------------------------------------------------------


@dataclass
class _Exercise:
    """One exercise of a release: its check, the student function it calls, and that function's answer cell."""

    name: str
    function: str
    kwargs: dict[str, Any]
    answer_id: str


def _cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in nb.get("cells", []) if isinstance(c, dict)]


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: dict[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _defined_functions(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return re.findall(r"^def\s+(\w+)\s*\(", source, flags=re.M)
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _check_calls(source: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(exercise, student function name, literal keyword arguments) of each check call in a release check cell."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        exercise = name[len("check_"):] if name.startswith("check_") else ""
        if exercise in checks.CHECKS and node.args and isinstance(node.args[0], ast.Name):
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg and k.arg != "verbose"}
            out.append((exercise, node.args[0].id, kwargs))
    return out


def release_exercises(release: dict[str, Any]) -> list[_Exercise]:
    """The exercises of a release notebook, in order, each with its answer cell's id."""
    answer_of: dict[str, str] = {}  # function name -> id of the cell that defines it
    out = []
    for cell in _cells(release):
        if cell.get("cell_type") != "code":
            continue
        src = _source(cell)
        if "exercise" in _tags(cell):
            for fn in _defined_functions(src):
                answer_of[fn] = str(cell.get("id", ""))
        for exercise, fn, kwargs in _check_calls(src) if "check" in _tags(cell) else []:
            out.append(_Exercise(exercise, fn, kwargs, answer_of.get(fn, "")))
    return out


def release_check_ids(release: dict[str, Any]) -> set[str]:
    """The ids of a release's check cells (a submission's cells with these ids are never run)."""
    return {str(c.get("id")) for c in _cells(release) if "check" in _tags(c) and c.get("id")}


def find_release(nb: dict[str, Any], path: Path, release_dir: Path = RELEASE_DIR) -> Path | None:
    """The release a submission belongs to: by the exercise set in its metadata, else by its file name."""
    known = {p.stem: p for p in sorted(Path(release_dir).glob("*.ipynb"))}
    meta = nb.get("metadata", {}).get("cnnlib", {})
    name = meta.get("exercise_set") if isinstance(meta, dict) else None
    if isinstance(name, str) and name in known:
        return known[name]
    stem = Path(path).stem
    matches = [s for s in known if s in stem or stem.endswith(s)]
    return known[max(matches, key=len)] if matches else None


def _flags(source: str, exercise: str) -> list[str]:
    """What an answer cell does that the instructor should see: use cnnlib's own version of the function."""
    names = REFERENCES.get(exercise, ())
    used = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in names:
            used.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnlib"):
            used.update(a.name for a in node.names if a.name in names)
    return [f"the answer uses cnnlib's {', '.join(sorted(used))}"] if used else []


# --------------------------------------------------------------------------
# The student's function, called from here
# --------------------------------------------------------------------------


class GradingStopped(BaseException):
    """The kernel died or a call ran past its limit: no further exercise can be graded in this kernel.

    A BaseException, so that the checks' own ``except Exception`` does not take it for a wrong answer.
    """

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class RemoteFunction:
    """Stands in for the student's function ``name`` inside the kernel (see the module docstring)."""

    def __init__(self, session: "_Session", name: str) -> None:
        self.session = session
        self.name = name
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        s = self.session
        n = next(s.counter)
        inp, out = s.folder / f".grader_in_{n}.json", s.folder / f".grader_out_{n}.json"
        _wire.write(inp, {"args": args, "kwargs": kwargs})
        run = s.kernel.run(f"_cnnlib_grader_call({self.name!r}, {str(inp)!r}, {str(out)!r})", s.time_left())
        if run.status in ("timeout", "dead"):
            raise GradingStopped(run.status, run.error)
        if run.status == "error" or not out.exists():
            raise _remote_error("GraderError", f"the answer could not be brought back from the kernel ({run.error})", "")
        answer = _wire.read(out)
        for path in (inp, out):
            for p in (path, Path(str(path) + ".npz")):
                p.unlink(missing_ok=True)
        for before, after in zip(args, answer.get("args", ())):  # a change made in place is seen by the check
            if isinstance(before, np.ndarray) and isinstance(after, np.ndarray) and before.shape == after.shape:
                before[...] = after
        for text in answer.get("warnings", []):
            warnings.warn(str(text), RuntimeWarning, stacklevel=2)
        if not answer.get("ok"):
            if answer.get("type") == "NotImplementedError":
                raise NotImplementedError(answer.get("message", ""))
            raise _remote_error(str(answer.get("type", "Exception")), str(answer.get("message", "")), str(answer.get("where", "")))
        if "model" in answer:
            try:
                return _models.build_model(answer["model"]["spec"], answer["model"]["arrays"])
            except (_models.ModelNotRebuilt, TypeError, ValueError, KeyError) as exc:
                raise _remote_error("ModelNotRebuilt", str(exc), "") from None
        return answer.get("result")


def _remote_error(type_name: str, message: str, where: str) -> Exception:
    cls = type(type_name if type_name.isidentifier() else "Exception", (_wire.RemoteError,), {})
    exc = cls(message)
    exc.cnnlib_where = where
    return exc


# --------------------------------------------------------------------------
# One submission
# --------------------------------------------------------------------------


@dataclass
class _Session:
    kernel: Kernel
    folder: Path
    deadline: float
    cell_timeout: float
    notebook_timeout: float
    counter: Any = field(default_factory=lambda: itertools.count())

    def time_left(self) -> float:
        return max(0.0, min(self.cell_timeout, self.deadline - time.monotonic()))


def _kernel_setup() -> str:
    wire = Path(_wire.__file__).read_text()
    return (
        "_cnnlib_grader_ns = {'__name__': '_cnnlib_grader_wire'}\n"
        f"exec(compile({wire!r}, '<cnnlib grader>', 'exec'), _cnnlib_grader_ns)\n"
        "_cnnlib_grader_read = _cnnlib_grader_ns['read']\n"
        "_cnnlib_grader_write = _cnnlib_grader_ns['write']\n"
        f"_CNNLIB_LAYER_ARGUMENTS = {_models.LAYER_ARGUMENTS!r}\n"
        + _models.DESCRIBE_SOURCE
        + _wire.KERNEL_SOURCE
    )


def _environment(lib: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(lib)  # a private copy of cnnlib, ahead of the installed one
    env.setdefault("CNNLIB_DATA_DIR", str(_data_dir()))
    env.setdefault("MPLBACKEND", "agg")
    env["CNNLIB_GRADING"] = "1"
    return env


def _data_dir() -> Path:
    from ..data import default_data_dir

    return default_data_dir()


def snapshot_package() -> dict[str, bytes]:
    """Every file of the cnnlib package the grader runs, by relative path (to copy and to compare)."""
    return {str(p.relative_to(PACKAGE)): p.read_bytes() for p in sorted(PACKAGE.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def grade_notebook(
    path: str | os.PathLike,
    *,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    notebook_timeout: float = DEFAULT_NOTEBOOK_TIMEOUT,
    release_dir: str | os.PathLike = RELEASE_DIR,
    package: dict[str, bytes] | None = None,
) -> NotebookGrade:
    """Grade one submitted exercise notebook (see the module docstring).

    Parameters
    ----------
    path : str or path-like
        The submission (``.ipynb``).
    cell_timeout : float, default 1800
        Seconds one cell, or one call of the student's function, may run.
    notebook_timeout : float, default 3600
        Seconds the whole submission may take.
    release_dir : path-like
        Where the released exercise notebooks are (default: the course's ``exercises/``).
    package : dict, optional
        A snapshot of the cnnlib package (:func:`snapshot_package`) to give the kernel;
        taken now if not given.

    Returns
    -------
    NotebookGrade

    Raises
    ------
    ValueError
        If a time limit is not a positive number.
    """
    for name, value in (("cell_timeout", cell_timeout), ("notebook_timeout", notebook_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise ValueError(f"grade_notebook: {name} must be a positive number of seconds; got {value!r}")
    start = time.monotonic()
    path = Path(path)
    grade = NotebookGrade(str(path))
    nb, problem = _read(path)
    if problem:
        grade.problem = problem
        return grade
    release_path = find_release(nb, path, Path(release_dir))
    if release_path is None:
        grade.problem = f"{path.name} is not one of the course's exercise notebooks (no release in {release_dir} matches it)"
        return grade
    grade.release = release_path.stem
    release = json.loads(release_path.read_text())
    exercises = release_exercises(release)
    if not exercises:
        grade.problem = f"the release {release_path.name} has no check cells"
        return grade
    with tempfile.TemporaryDirectory(prefix="cnnlib-grade-") as tmp:
        folder = Path(tmp) / "work"
        folder.mkdir()
        shutil.copy2(path, folder / path.name)
        lib = Path(tmp) / "lib" / "cnnlib"
        for rel, data in (package or snapshot_package()).items():
            (lib / rel).parent.mkdir(parents=True, exist_ok=True)
            (lib / rel).write_bytes(data)
        try:
            _run(grade, nb, exercises, release_check_ids(release), folder, lib.parent, notebook_timeout, cell_timeout)
        except Exception as exc:  # the kernel would not start, etc.
            grade.problem = f"could not run the notebook: {type(exc).__name__}: {exc}"
    graded = {e.name for e in grade.exercises}
    for ex in exercises:  # whatever was not reached
        if ex.name not in graded:
            grade.exercises.append(ExerciseGrade(ex.name, "not graded", detail=grade.problem or "not reached"))
    order = {ex.name: i for i, ex in enumerate(exercises)}
    grade.exercises.sort(key=lambda e: order.get(e.name, len(order)))
    grade.seconds = time.monotonic() - start
    return grade


def _read(path: Path) -> tuple[dict[str, Any], str]:
    if not path.is_file():
        return {}, f"no such notebook: {path}"
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, f"cannot read {path.name} as a notebook: {exc}"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return {}, f"{path.name} is not a Jupyter notebook (no list of cells)"
    return nb, ""


def _is_check_cell(cell: dict[str, Any], check_ids: set[str]) -> bool:
    """A cell the grader does not run: tagged or released as a check cell, or holding nothing but check calls."""
    if "check" in _tags(cell) or str(cell.get("id", "")) in check_ids:
        return True
    try:
        body = ast.parse(_source(cell)).body
    except SyntaxError:
        return False
    return bool(body) and all(
        isinstance(stmt, (ast.Expr, ast.Assign)) and isinstance(stmt.value, ast.Call)
        and checks.find_check_calls(ast.unparse(stmt)) for stmt in body
    )


def _run(grade: NotebookGrade, nb: dict[str, Any], exercises: list[_Exercise], check_ids: set[str], folder: Path,
         lib: Path, notebook_timeout: float, cell_timeout: float) -> None:
    deadline = time.monotonic() + notebook_timeout
    cells = [c for c in _cells(nb) if c.get("cell_type") == "code"]
    # Which submission cell answers which exercises: the release's answer cell id, else the last cell defining the function.
    answer_cell: dict[str, int] = {}
    for ex in exercises:
        by_id = [i for i, c in enumerate(cells) if ex.answer_id and str(c.get("id", "")) == ex.answer_id
                 and ex.function in _defined_functions(_source(c))]
        by_name = [i for i, c in enumerate(cells) if ex.function in _defined_functions(_source(c))]
        found = by_id or by_name
        if found:
            answer_cell[ex.name] = found[-1]
    due: dict[int, list[_Exercise]] = {}
    for ex in exercises:
        if ex.name in answer_cell:
            due.setdefault(answer_cell[ex.name], []).append(ex)
        else:
            grade.exercises.append(ExerciseGrade(ex.name, "missing", detail=f"no cell defines {ex.function}(); "
                                                 "keep the exercise's cell and write the function there"))
    with Kernel(folder, _environment(lib)) as kernel:
        session = _Session(kernel, folder, deadline, cell_timeout, notebook_timeout)
        setup = kernel.run(_kernel_setup(), 60)
        if setup.status != "ok":
            grade.problem = f"the grader could not prepare the kernel: {setup.error}"
            return
        for i, cell in enumerate(cells):
            number = _cell_number(nb, cell)
            if _is_check_cell(cell, check_ids):
                continue
            if session.time_left() <= 0:
                grade.problem = f"the notebook ran past its time limit of {session.notebook_timeout:g} s before cell {number}"
                return
            run = kernel.run(_source(cell), session.time_left())
            if run.status in ("error", "timeout"):
                grade.cell_errors.append(f"cell {number}: {run.error}")
            for ex in due.get(i, []):
                if run.status != "ok":
                    status = {"error": "error", "timeout": "timed out"}.get(run.status, "not graded")
                    grade.exercises.append(ExerciseGrade(ex.name, status, detail=f"the answer cell (cell {number}): {run.error}"))
                    continue
                try:
                    result = checks.CHECKS[ex.name](RemoteFunction(session, ex.function), verbose=False, **ex.kwargs)
                except GradingStopped as stop:
                    status = "timed out" if stop.status == "timeout" else "not graded"
                    grade.exercises.append(ExerciseGrade(ex.name, status, detail=f"checking it (after cell {number}): {stop}"))
                    if not kernel.alive():
                        grade.problem = f"grading stopped after cell {number}: {stop}"
                        return
                    continue
                grade.exercises.append(_exercise_grade(ex, result, _source(cell)))
            if not kernel.alive():  # exit(), os._exit, a crash, or killed after ignoring an interrupt
                grade.problem = f"grading stopped at cell {number}: {run.error or kernel.exit_description()}"
                return


def _cell_number(nb: dict[str, Any], cell: dict[str, Any]) -> int:
    return next(n for n, c in enumerate(_cells(nb), 1) if c is cell)


def _exercise_grade(ex: _Exercise, result: Any, source: str) -> ExerciseGrade:
    n_cases = len(result.cases)
    detail = ""
    if result.status == checks.FAILED and result.failed_cases:
        first = result.failed_cases[0]
        detail = f"{first.id}: {first.message}".strip()
    elif result.status == checks.PASSED:
        detail = getattr(result, "note", "") or ""
    return ExerciseGrade(ex.name, result.status, result.n_passed, n_cases, detail, _flags(source, ex.name))
