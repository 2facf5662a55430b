"""Grade exercise notebooks: one submission, or a class folder into a CSV gradebook.

From a terminal (``make grade NB=...`` runs the first form)::

    python -m cnnlib.grade exercises/05_pooling.ipynb
    python -m cnnlib.grade submissions/ --gradebook grades.csv        # a folder or a .zip of submissions
    python -m cnnlib.grade.release --handout build/handout            # the exercises without solutions

What is graded is decided by the course's released exercise notebook, not by the
submission: the grader matches a submission to its release (by the exercise set the
release wrote into the notebook's metadata, or by the file name), takes the list of
exercises and their checks from the release, and runs only the submission's own code
cells (never its check cells). Each check runs in the grader's own process and calls
the student's function in the kernel, so nothing the student's code does inside the
kernel can change a grade except what its functions return. See
:mod:`cnnlib.grade._grader` for how, and :mod:`cnnlib.grade.gradebook` for a class.

Statuses: ``passed``, ``failed``, ``not implemented``, ``error`` (the answer cell
raised), ``missing`` (no answer cell), ``timed out``, ``not graded`` (the kernel died
or time ran out first). Flags (e.g. an answer that calls cnnlib's own version of the
function it is asked to write) are for the instructor and change no grade.

Exit status: 0 when every exercise passed, 1 when some did not, 2 when a submission
could not be graded (or grading stopped part-way). ``--exit-zero`` turns 1 into 0.
"""

from __future__ import annotations

from ._grader import DEFAULT_CELL_TIMEOUT, DEFAULT_NOTEBOOK_TIMEOUT, ExerciseGrade, NotebookGrade, find_release, grade_notebook
from .gradebook import collect, grade_many, write_gradebook

__all__ = [
    "ExerciseGrade", "NotebookGrade", "grade_notebook", "find_release", "grade_many", "collect", "write_gradebook",
    "format_grade", "main", "DEFAULT_CELL_TIMEOUT", "DEFAULT_NOTEBOOK_TIMEOUT",
]


def format_grade(grade: NotebookGrade) -> str:
    """The score table of one submission, as printed by the command line.

    Parameters
    ----------
    grade : NotebookGrade

    Returns
    -------
    str
    """
    head = grade.path + (f"  [{grade.release}]" if grade.release else "") + (f"  ({grade.seconds:.1f} s)" if grade.seconds else "")
    lines = [head]
    if grade.problem and not grade.exercises:
        lines.append(f"  cannot grade: {grade.problem}")
        return "\n".join(lines)
    width = max(len(e.name) for e in grade.exercises)
    for e in grade.exercises:
        mark = "ok" if e.passed else "--"
        cases = f"{e.cases_passed}/{e.cases} cases" if e.cases and e.status in ("passed", "failed") else ""
        detail = e.detail.splitlines()[0] if e.detail else ""
        if e.status == "failed" and detail:
            detail = f"first failing case: {detail}"
        detail = detail if len(detail) <= 110 else detail[:107] + "..."
        lines.append(f"  {mark} {e.name:<{width}}  {e.status:<15}  {cases:<11}  {detail}".rstrip())
    for e in grade.exercises:
        for flag in e.flags:
            lines.append(f"  flag: {e.name}: {flag}")
    for err in grade.cell_errors:
        lines.append(f"  note: {err}")
    if grade.problem:
        lines.append(f"  problem: {grade.problem}")
    lines.append(f"  score: {grade.score}/{len(grade.exercises)} exercises passed")
    return "\n".join(lines)


def main(argv=None) -> int:  # noqa: D103 - documented in __main__
    from .__main__ import main as _main

    return _main(argv)
