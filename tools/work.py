"""Copy the course's notebooks and exercises into work/, the student's own (git-ignored) working folder.

    python tools/work.py            # make work: copy what work/ does not have yet, keep everything else
    python tools/work.py --force    # make work FORCE=1: replace your copies with the course's (yours are lost)

Work in work/notebooks/ and work/exercises/: `git pull` then updates the course's own files without ever
meeting your changes, and `make work` afterwards brings in any notebook the update added. A notebook the
course changed that you already have is kept as it is, and listed once, so that you can compare the two
(work/.course.json remembers the course's version of each file).
Only the standard library is used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "work"
MANIFEST = ".course.json"  # in work/: the SHA-256 of each course file as last copied
# What a student works with: the course notebooks, the exercise notebooks and the two READMEs.
# (The solutions stay in exercises/solutions/; notebook validation settings stay with the course.)
COPIED = ["notebooks/*.ipynb", "notebooks/README.md", "exercises/*.ipynb", "exercises/README.md"]


def course_files(root: Path = ROOT) -> list[Path]:
    """The course files copied into work/, relative to the repository."""
    files: set[Path] = set()
    for pattern in COPIED:
        files.update(p.relative_to(root) for p in root.glob(pattern) if p.is_file())
    return sorted(files)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_course(root: Path = ROOT, work: Path = WORK, force: bool = False) -> dict[str, list[Path]]:
    """Copy the course files into ``work``, keeping the files already there (unless ``force``).

    Returns the files ``copied``; those ``kept`` (yours, whether you changed them or not); and, among
    those, the ones ``updated`` by the course since they were copied or last listed (work/.course.json
    remembers the course's version of each file), so that you can compare yours with the new one.
    """
    manifest_path = work / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    result: dict[str, list[Path]] = {"copied": [], "kept": [], "updated": []}
    for rel in course_files(root):
        source, target = root / rel, work / rel
        digest = _sha256(source)
        if target.exists() and not force:
            result["kept"].append(rel)
            if manifest.get(rel.as_posix()) != digest and _sha256(target) != digest:
                result["updated"].append(rel)
            manifest[rel.as_posix()] = digest  # each course update is listed once
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        manifest[rel.as_posix()] = digest
        result["copied"].append(rel)
    work.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make work", description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="replace the copies already in work/ (yours are lost)")
    args = parser.parse_args(argv)
    result = copy_course(force=args.force)
    where = WORK.relative_to(ROOT)
    print(f"work: your working copies are in {where}/ ({len(result['copied'])} course file(s) copied now, "
          f"{len(result['kept'])} of yours kept as they are)")
    if result["updated"]:
        print("  the course has updated these since they were copied; yours are kept (compare them with the "
              "course's, or delete yours and run make work again for the new version):")
        for rel in result["updated"]:
            print(f"    {where / rel}  (the course's: {rel})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
