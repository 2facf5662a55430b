"""``python -m cnnlib.grade``: grade exercise notebooks from a terminal (see :mod:`cnnlib.grade`)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Sequence

HOW_TO_RUN = (
    "The grader needs the course's environment (nbformat, jupyter_client, ipykernel). From the course folder run\n"
    "    make grade NB=exercises/05_pooling.ipynb\n"
    "or use the environment's own Python:\n"
    "    .venv/bin/python -m cnnlib.grade exercises/05_pooling.ipynb\n"
    "(`make lab` or `make test` creates .venv; with conda: conda activate cnn-course)."
)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"the time limit must be a positive number of seconds, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of ``python -m cnnlib.grade``."""
    from ._grader import DEFAULT_CELL_TIMEOUT, DEFAULT_NOTEBOOK_TIMEOUT, RELEASE_DIR

    p = argparse.ArgumentParser(prog="python -m cnnlib.grade", description="Grade exercise notebooks against the course's release.")
    p.add_argument("submissions", nargs="+", help="notebooks, folders of notebooks, or .zip files of them")
    p.add_argument("--timeout", "--cell-timeout", dest="cell_timeout", type=_positive_seconds, default=DEFAULT_CELL_TIMEOUT,
                   help="seconds one cell (or one call of the student's function) may run (default %(default)g)")
    p.add_argument("--notebook-timeout", type=_positive_seconds, default=DEFAULT_NOTEBOOK_TIMEOUT,
                   help="seconds one submission may take in all (default %(default)g)")
    p.add_argument("--release", type=Path, default=RELEASE_DIR, help="folder of the released exercise notebooks (default: the course's)")
    p.add_argument("--exercise-set", help="only this exercise set (e.g. 05_pooling): other submissions get a row saying so")
    p.add_argument("--gradebook", type=Path, help="write a CSV gradebook (one row per submission)")
    p.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: the number of cores)")
    p.add_argument("--exit-zero", action="store_true", help="exit with 0 even when some exercises did not pass")
    p.add_argument("--json", action="store_true", help="print the grades as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Grade the submissions named on the command line; returns the exit status (see :mod:`cnnlib.grade`)."""
    try:
        import ipykernel  # noqa: F401
        import jupyter_client  # noqa: F401
    except ImportError as exc:
        print(f"python -m cnnlib.grade: {exc.name} is not installed in this Python ({sys.executable}).\n{HOW_TO_RUN}", file=sys.stderr)
        return 2
    from . import format_grade
    from ._grader import NotebookGrade
    from .gradebook import collect, grade_many, write_gradebook

    args = build_parser().parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        print(f"python -m cnnlib.grade: --jobs must be at least 1; got {args.jobs}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cnnlib-submissions-") as scratch:
        paths = collect(args.submissions, Path(scratch))
        if not paths:
            print("no submissions found in " + ", ".join(args.submissions), file=sys.stderr)
            return 2
        many = len(paths) > 1

        def report(grade: NotebookGrade) -> None:
            if args.exercise_set and grade.release and grade.release != args.exercise_set:
                grade.problem = f"this is exercise set {grade.release}, not {args.exercise_set}"
            if not args.json and not many:
                print(format_grade(grade), flush=True)

        grades = grade_many(paths, jobs=args.jobs, progress=many and not args.json, on_grade=report,
                            cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout, release_dir=args.release)
    if args.json:
        print(json.dumps([g.as_dict() for g in grades], indent=1))
    elif many:
        for g in grades:
            print(format_grade(g))
        total = sum(len(g.exercises) for g in grades)
        cannot = sum(bool(g.problem) for g in grades)
        print(f"total: {sum(g.score for g in grades)}/{total} exercises passed in {len(grades)} submissions"
              + (f"; {cannot} could not be graded in full" if cannot else ""))
    if args.gradebook:
        print(f"gradebook: {write_gradebook(grades, args.gradebook)}", file=sys.stderr)
    if any(g.problem for g in grades):
        return 2
    if all(g.all_passed for g in grades) or args.exit_zero:
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
