"""Grade exercise notebooks: run each one in a fresh kernel and print a score per exercise.

From a terminal::

    python -m cnnlib.grade exercises/05_pooling.ipynb
    python -m cnnlib.grade exercises/            # every notebook in the folder

Each notebook runs from top to bottom in a new Python kernel (the same Python
that runs this command, so it sees the same cnnlib), with its own folder as the
working directory. A cell that raises an error does not stop the run: the
remaining cells still run, so one broken exercise does not cost the others.
Every check cell (a code cell calling a check, ``checks.check_...``: see
:func:`cnnlib.checks.find_check_calls`) counts as one exercise, scored
``passed``, ``failed``, ``not implemented``, ``error`` (the check cell itself
raised, e.g. because the function was never defined) or ``not run`` (the
notebook stopped before reaching it).

Exit status: 0 when every exercise passed, 1 when some did not, 2 when a
notebook could not be graded (missing file, no check cells, the kernel died).
``--exit-zero`` turns 1 into 0, for when a score report is all you want.
``--json`` prints the grades as JSON instead of a table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import checks
from .checks import GRADE_LOG_MARKER, find_check_calls, grading_log_json

__all__ = ["ExerciseGrade", "NotebookGrade", "grade_notebook", "find_check_cells", "format_grade", "main"]

DEFAULT_TIMEOUT = 1800  # seconds per cell; the MNIST exercise trains for minutes on a busy 2-core machine
# The cell run after the notebook: it prints the kernel's result log on one line after the marker.
_SUMMARY_CELL = (
    f"import {checks.__name__} as _cnnlib_grade_checks\n"
    f"print({GRADE_LOG_MARKER!r} + _cnnlib_grade_checks.{grading_log_json.__name__}())"
)


@dataclass
class ExerciseGrade:
    """The grade of one exercise (one check cell).

    Attributes
    ----------
    name : str
        The exercise, named after its check (``check_max_pool2d`` -> ``"max_pool2d"``).
    status : str
        ``"passed"``, ``"failed"``, ``"not implemented"``, ``"error"`` or ``"not run"``.
    cases_passed, cases : int
        How many of the check's cases passed, out of how many.
    detail : str
        The first failing case, the error the check cell raised, or a note on a pass
        (the MNIST exercise reports its test accuracy here).
    """

    name: str
    status: str
    cases_passed: int = 0
    cases: int = 0
    detail: str = ""

    @property
    def passed(self) -> bool:
        """True when the exercise passed."""
        return self.status == "passed"


@dataclass
class NotebookGrade:
    """The grades of one notebook.

    Attributes
    ----------
    path : str
        The notebook graded.
    exercises : list of ExerciseGrade
        One per check cell, in notebook order.
    cell_errors : list of str
        Errors raised by cells that are not check cells (e.g. an exercise cell with a syntax error).
    problem : str
        Why the notebook could not be graded (missing, no checks, kernel died); empty if it ran.
    seconds : float
        Wall-clock time of the run.
    """

    path: str
    exercises: list[ExerciseGrade] = field(default_factory=list)
    cell_errors: list[str] = field(default_factory=list)
    problem: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> int:
        """Number of exercises passed."""
        return sum(e.passed for e in self.exercises)

    @property
    def all_passed(self) -> bool:
        """True when the notebook ran and every exercise passed."""
        return not self.problem and bool(self.exercises) and self.score == len(self.exercises)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (with ``score`` and ``total``)."""
        d = asdict(self)
        d.update(score=self.score, total=len(self.exercises))
        return d


def find_check_cells(nb: Any) -> list[tuple[int, list[str]]]:
    """Index and exercise names of every check cell: a code cell that calls a check (:data:`cnnlib.checks.CHECKS`).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook.

    Returns
    -------
    list of (int, list of str)
        Cell index and the exercises it checks, in notebook order.
    """
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        names = find_check_calls(cell.source)
        if names:
            found.append((i, names))
    return found


def _kernel_manager_class() -> type:
    """An AsyncKernelManager whose "python3" kernel is this very interpreter (not whatever kernelspec is installed)."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class ThisPythonKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (cnnlib grader)",
                language="python",
                name="python3",
            )

    return ThisPythonKernelManager


def _kernel_env() -> dict[str, str]:
    """The environment of the kernel: ours, with this cnnlib first on the import path and no GUI backend."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("MPLBACKEND", "agg")
    env["CNNLIB_GRADING"] = "1"
    return env


def _cell_error(cell: Any) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    return ""


def grade_notebook(path: str | os.PathLike, timeout: int = DEFAULT_TIMEOUT) -> NotebookGrade:
    """Run one notebook in a fresh kernel and grade each of its check cells.

    Parameters
    ----------
    path : str or path-like
        The ``.ipynb`` file.
    timeout : int, default 1800
        Seconds one cell may run before it is interrupted (the run then goes on).

    Returns
    -------
    NotebookGrade
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    grade = NotebookGrade(str(path))
    if not path.is_file():
        grade.problem = f"no such notebook: {path}"
        return grade
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # not JSON, not a notebook
        grade.problem = f"cannot read {path} as a notebook: {exc}"
        return grade
    check_cells = find_check_cells(nb)
    if not check_cells:
        grade.problem = f"{path} has no check cells (cells calling checks.check_...)"
        return grade
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.cells.append(nbformat.v4.new_code_cell(_SUMMARY_CELL))
    client = NotebookClient(
        nb,
        timeout=timeout,
        interrupt_on_timeout=True,
        allow_errors=True,
        kernel_name="python3",
        kernel_manager_class=_kernel_manager_class(),
        extra_arguments=["--log-level=ERROR"],  # no start-up chatter on the terminal
        resources={"metadata": {"path": str(path.resolve().parent)}},
    )
    start = time.perf_counter()
    try:
        client.execute(env=_kernel_env())
    except DeadKernelError as exc:
        grade.problem = f"the kernel died while running the notebook ({exc}); was memory exhausted?"
    except Exception as exc:  # kernel failed to start, etc.
        grade.problem = f"could not run the notebook: {type(exc).__name__}: {exc}"
    grade.seconds = time.perf_counter() - start

    log: dict[str, dict] = {}
    summary = nb.cells[-1]
    text = "".join(o.get("text", "") for o in summary.get("outputs", []) if o.get("output_type") == "stream")
    for line in text.splitlines():
        if line.startswith(GRADE_LOG_MARKER):
            for entry in json.loads(line[len(GRADE_LOG_MARKER):]):
                log[entry["exercise"]] = entry  # a check run twice counts with its latest result
    check_indices = {i for i, _ in check_cells}
    for i, cell in enumerate(nb.cells[:-1]):
        if i not in check_indices and cell.cell_type == "code":
            err = _cell_error(cell)
            if err:
                grade.cell_errors.append(f"cell {i + 1}: {err}")
    for i, names in check_cells:
        cell = nb.cells[i]
        for name in names:
            entry = log.get(name)
            if entry is not None:
                detail = entry.get("first_failure", "") if entry["status"] == "failed" else entry.get("note", "")
                grade.exercises.append(ExerciseGrade(name, entry["status"], entry["cases_passed"], entry["cases"], detail))
            elif cell.get("execution_count") is not None or cell.get("outputs"):
                grade.exercises.append(ExerciseGrade(name, "error", detail=_cell_error(cell) or "the check did not report"))
            else:
                grade.exercises.append(ExerciseGrade(name, "not run", detail="the notebook stopped before this cell"))
    return grade


def format_grade(grade: NotebookGrade) -> str:
    """The score table of one notebook, as printed by the command line.

    Parameters
    ----------
    grade : NotebookGrade

    Returns
    -------
    str
    """
    lines = [f"{grade.path}" + (f"  ({grade.seconds:.1f} s)" if grade.seconds else "")]
    if grade.problem and not grade.exercises:
        lines.append(f"  cannot grade: {grade.problem}")
        return "\n".join(lines)
    width = max(len(e.name) for e in grade.exercises)
    for e in grade.exercises:
        mark = "ok" if e.passed else "--"
        cases = f"{e.cases_passed}/{e.cases} cases" if e.cases and e.status in ("passed", "failed") else ""
        detail = ""
        if e.status == "failed" and e.detail:
            detail = f"first failing case: {e.detail}"
        elif e.detail:
            detail = e.detail if len(e.detail) <= 90 else e.detail[:87] + "..."
        lines.append(f"  {mark} {e.name:<{width}}  {e.status:<15}  {cases:<11}  {detail}".rstrip())
    for err in grade.cell_errors:
        lines.append(f"  note: {err}")
    if grade.problem:
        lines.append(f"  problem: {grade.problem}")
    lines.append(f"  score: {grade.score}/{len(grade.exercises)} exercises passed")
    return "\n".join(lines)


def _expand(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(p.glob("*.ipynb")) if p.is_dir() else [p])
    return out


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of ``python -m cnnlib.grade``."""
    p = argparse.ArgumentParser(
        prog="python -m cnnlib.grade",
        description="Run exercise notebooks in a fresh kernel and print a score per exercise.",
    )
    p.add_argument("notebooks", nargs="+", help="notebooks to grade, or folders of notebooks")
    p.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                   help="seconds one cell may run before it is interrupted (default %(default)s)")
    p.add_argument("--exit-zero", action="store_true",
                   help="exit with 0 even when some exercises did not pass (2 still means a notebook could not be graded)")
    p.add_argument("--json", action="store_true", help="print the grades as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Grade the notebooks named on the command line; see the module docstring for the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """
    args = build_parser().parse_args(argv)
    paths = _expand(args.notebooks)
    if not paths:
        print("no notebooks found in " + ", ".join(args.notebooks), file=sys.stderr)
        return 2
    grades = []
    for path in paths:
        grade = grade_notebook(path, timeout=args.timeout)
        grades.append(grade)
        if not args.json:
            print(format_grade(grade), flush=True)
    if args.json:
        print(json.dumps([g.as_dict() for g in grades], indent=1))
    elif len(grades) > 1:
        total = sum(len(g.exercises) for g in grades)
        print(f"total: {sum(g.score for g in grades)}/{total} exercises passed in {len(grades)} notebooks")
    if any(g.problem for g in grades):
        return 2
    if all(g.all_passed for g in grades) or args.exit_zero:
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
