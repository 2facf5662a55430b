"""Grading a class: a folder (or zip) of submissions, each in isolation, several at once, into a CSV gradebook.

Each submission is graded in a folder of its own with a private copy of the cnnlib
package the grader took when it started, and the checks run in the grader's process,
imported before any submission ran: nothing a submission writes, to its copy or to the
installed package, reaches another submission's grade. The installed package is
compared after every submission with what it was before: a submission that changed it
gets a row that says so (the files are not put back: the grader cannot tell a
student's write from an instructor's edit).
"""

from __future__ import annotations

import csv
import os
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

from ._grader import PACKAGE, NotebookGrade, grade_notebook, snapshot_package

__all__ = ["collect", "grade_many", "write_gradebook", "package_changes"]


def collect(paths: Sequence[str | os.PathLike], scratch: Path) -> list[Path]:
    """The submissions named: notebooks, folders of notebooks (recursively), and zip files (unpacked into ``scratch``).

    Every file in a folder counts, so that a file that is not a notebook gets a row saying so.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not _hidden(f.relative_to(p))))
        elif p.suffix == ".zip" and p.is_file():
            target = scratch / p.stem
            with zipfile.ZipFile(p) as z:
                for member in z.namelist():
                    if member.endswith("/") or ".." in Path(member).parts or Path(member).is_absolute():
                        continue
                    z.extract(member, target)
            out.extend(sorted(f for f in target.rglob("*") if f.is_file() and not _hidden(f.relative_to(target))))
        else:
            out.append(p)
    return out


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in rel.parts)


def package_changes(snapshot: dict[str, bytes]) -> list[str]:
    """The files of the installed cnnlib package that differ from ``snapshot`` (changed, added or removed)."""
    current = snapshot_package()
    return sorted(rel for rel in set(current) | set(snapshot) if current.get(rel) != snapshot.get(rel))


def grade_many(
    paths: Sequence[Path],
    *,
    jobs: int | None = None,
    progress: bool = True,
    on_grade: Callable[[NotebookGrade], None] | None = None,
    **options: Any,
) -> list[NotebookGrade]:
    """Grade every submission in ``paths``, ``jobs`` at a time (default: the number of cores).

    ``options`` go to :func:`~cnnlib.grade.grade_notebook`. The grades come back in the order of ``paths``.
    """
    snapshot = snapshot_package()  # what every kernel gets, whatever happens to the installed files later
    baseline = dict(snapshot)
    jobs = jobs or max(1, os.cpu_count() or 1)

    def one(path: Path) -> NotebookGrade:
        grade = grade_notebook(path, package=snapshot, **options)
        return grade

    grades: list[NotebookGrade | None] = [None] * len(paths)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(paths), desc="grading", unit="notebook", mininterval=0.5)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(one, p): i for i, p in enumerate(paths)}
        from concurrent.futures import as_completed

        for fut in as_completed(futures):
            i = futures[fut]
            grade = fut.result()
            changed = package_changes(baseline)
            if changed:  # harmless to the grades (each kernel has its own copy), but the instructor must know
                grade.problem = (grade.problem + "; " if grade.problem else "") + (
                    "the installed cnnlib changed while this submission ran (" + ", ".join(changed[:3])
                    + (", ..." if len(changed) > 3 else "") + "); reinstall it or `git checkout cnnlib/` before using it")
                baseline = snapshot_package()
            grades[i] = grade
            if on_grade is not None:
                on_grade(grade)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return [g for g in grades if g is not None]


def write_gradebook(grades: Sequence[NotebookGrade], path: str | os.PathLike) -> Path:
    """One row per submission: file, one column per exercise (its status), score, total, flags, problem, seconds."""
    exercises: list[str] = []
    for g in grades:
        for e in g.exercises:
            if e.name not in exercises:
                exercises.append(e.name)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", newline="", delete=False, dir=path.parent, suffix=".tmp") as f:
        w = csv.writer(f)
        w.writerow(["file", "exercise_set", *exercises, "score", "total", "flags", "problem", "seconds"])
        for g in grades:
            status = {e.name: e.status for e in g.exercises}
            w.writerow([g.path, g.release, *(status.get(n, "") for n in exercises), g.score, len(g.exercises),
                        "; ".join(g.flags), g.problem, f"{g.seconds:.1f}"])
    os.replace(f.name, path)
    return path
