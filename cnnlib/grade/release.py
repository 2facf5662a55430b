"""The exercises as handed out: student notebooks generated from the solutions, and the hand-out folder.

One source for each exercise: the solution notebook in ``exercises/solutions/``
marks its answers, as nbgrader and otter do::

    def relu(x):
        # max(0, x) elementwise
        ### BEGIN SOLUTION
        return np.maximum(x, 0)
        ### END SOLUTION

:func:`student_notebook` replaces each marked block by ``# YOUR CODE HERE`` and
``raise NotImplementedError`` (at the block's indentation), turns the title
"Solutions to exercises NN" into "Exercises NN", and writes into the notebook's
metadata which exercise set it is (``metadata["cnnlib"]["exercise_set"]``), which
the grader uses to match a submission to its release.

From a terminal::

    python -m cnnlib.grade.release            # regenerate exercises/*.ipynb from the solutions
    python -m cnnlib.grade.release --check    # exit 1 if a stored student notebook differs
    python -m cnnlib.grade.release --handout build/handout [--zip]

The hand-out holds the student notebooks, the course notebooks, the library, the
tests, the README and what installs the course, and no solutions.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["BEGIN", "END", "student_source", "student_notebook", "exercise_set", "write_students", "make_handout", "main"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
MD_BEGIN = "<!-- BEGIN SOLUTION -->"  # in Markdown cells: text only the solutions show (an HTML comment renders as nothing)
MD_END = "<!-- END SOLUTION -->"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
ROOT = Path(__file__).resolve().parents[2]
_TITLE = re.compile(r"^# Solutions to exercises (\d+)", re.M)

# What the hand-out holds (paths relative to the repository root); exercises/solutions/ never.
HANDOUT = ("README.md", "LICENSE", "CHANGELOG.md", "environment.yml", "pyproject.toml", "Makefile", ".gitignore", ".ci",
           "requirements", "tools", "cnnlib", "notebooks", "tests", "benchmarks", "data")


def student_source(source: str, begin: str = BEGIN, end: str = END, stub: Sequence[str] = STUB) -> str:
    """A solution cell's code with every marked answer replaced by the stub.

    With ``begin``, ``end`` and ``stub=()``, it removes marked text (what Markdown cells use).

    Raises
    ------
    ValueError
        If a BEGIN marker has no END, or an END no BEGIN.
    """
    out: list[str] = []
    lines = source.split("\n")
    inside = False
    for line in lines:
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise ValueError(f"{begin!r} inside another solution block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub)
        elif stripped == end:
            if not inside:
                raise ValueError(f"{end!r} without {begin!r}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{begin!r} without {end!r}")
    return "\n".join(out)


def exercise_set(path: Path) -> str:
    """The exercise set a notebook file belongs to: its name without ``.ipynb`` (``"05_pooling"``)."""
    return Path(path).stem


def student_notebook(solution: dict[str, Any], name: str) -> dict[str, Any]:
    """The student version of a solution notebook (a JSON dict), for exercise set ``name``."""
    nb = copy.deepcopy(solution)
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code":
            new = student_source(text)
            cell["outputs"], cell["execution_count"] = [], None
        else:
            new = _TITLE.sub(r"# Exercises \1", student_source(text, MD_BEGIN, MD_END, ()), count=1).rstrip("\n")
        if new != text:
            cell["source"] = _split(new)
    nb["metadata"]["cnnlib"] = {"exercise_set": name}
    return nb


def _split(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def dumps(nb: dict[str, Any]) -> str:
    """A notebook as the course stores it (nbformat's layout: one-space indent, a final newline)."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def write_students(root: Path = ROOT, check: bool = False) -> list[Path]:
    """Write ``exercises/NN_*.ipynb`` from ``exercises/solutions/``; with ``check``, only list those that differ."""
    differ = []
    for sol in sorted((root / "exercises" / "solutions").glob("*.ipynb")):
        target = root / "exercises" / sol.name
        text = dumps(student_notebook(json.loads(sol.read_text()), exercise_set(sol)))
        if not target.exists() or target.read_text() != text:
            differ.append(target)
            if not check:
                target.write_text(text)
    return differ


def make_handout(dest: Path, root: Path = ROOT, as_zip: bool = False) -> Path:
    """Copy the course without the solutions into ``dest`` (a folder, or ``dest.zip`` with ``as_zip``).

    Raises
    ------
    FileExistsError
        If ``dest`` already exists (nothing is overwritten).
    """
    dest = Path(dest)
    if dest.exists():
        raise FileExistsError(f"make_handout: {dest} already exists; choose a new folder")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info", ".pytest_cache")
    dest.mkdir(parents=True)
    for name in HANDOUT:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / name)
    (dest / "exercises").mkdir()
    for nb in sorted((root / "exercises").glob("*.ipynb")):
        shutil.copy2(nb, dest / "exercises" / nb.name)
    shutil.copy2(root / "exercises" / "README.md", dest / "exercises" / "README.md")
    if as_zip:
        archive = shutil.make_archive(str(dest), "zip", root_dir=dest)
        shutil.rmtree(dest)
        return Path(archive)
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: regenerate or check the student notebooks, or make the hand-out."""
    p = argparse.ArgumentParser(prog="python -m cnnlib.grade.release", description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a stored student notebook is not what the solutions generate")
    p.add_argument("--handout", type=Path, metavar="DIR", help="copy the course without solutions into DIR")
    p.add_argument("--zip", action="store_true", help="with --handout: make DIR.zip instead of a folder")
    args = p.parse_args(argv)
    if args.handout:
        print(f"hand-out written to {make_handout(args.handout, as_zip=args.zip)}")
        return 0
    differ = write_students(check=args.check)
    for path in differ:
        print(("differs from the solutions: " if args.check else "wrote ") + str(path.relative_to(ROOT)))
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
