"""Reading time of the course notebooks, written into each notebook's first cell and the course index.

Estimate: the words of the Markdown cells (folded answers included) at 200 words a minute, plus half a
minute per code cell to read it and its output, rounded up to 5 minutes. This is the time to read a
notebook with care, not to do its exercises.

    python tools/reading_time.py           # print the table
    python tools/reading_time.py --write   # update the notebooks' first cells and notebooks/README.md

Only the line starting with ``**Reading time:**`` of the first cell changes; outputs are untouched, so the
notebooks need not be re-executed.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
WORDS_PER_MINUTE = 200
MINUTES_PER_CODE_CELL = 0.5
LINE = re.compile(r"^\*\*Reading time:\*\* .*$", re.M)
INDEX_ROW = re.compile(r"^\| (\d+) \| \[(.+?)\]\((\d\d_\w+\.ipynb)\) \| (.+?) \|(?: about \d+ min \|)?$", re.M)


def estimate(path: Path) -> tuple[int, int, int]:
    """Return (minutes, words, code cells) of one notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join(LINE.sub("", "".join(c["source"])) for c in cells if c["cell_type"] == "markdown")  # not its own line
    words = len(re.findall(r"[A-Za-z0-9]+", text))
    code = sum(1 for c in cells if c["cell_type"] == "code")
    minutes = words / WORDS_PER_MINUTE + code * MINUTES_PER_CODE_CELL
    return 5 * math.ceil(minutes / 5), words, code


def sentence(minutes: int, words: int, code: int) -> str:
    return (f"**Reading time:** about {minutes} minutes ({words:,} words at {WORDS_PER_MINUTE} a minute and "
            f"{code} code cells at half a minute each), not counting the exercises.")


def write(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    first = "".join(nb["cells"][0]["source"])
    line = sentence(*estimate(path))
    if LINE.search(first):
        first = LINE.sub(line, first)
    else:
        first = first.rstrip("\n") + "\n\n" + line
    nb["cells"][0]["source"] = first.splitlines(keepends=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_index(times: dict[str, int]) -> None:
    index = NOTEBOOKS / "README.md"
    text = index.read_text(encoding="utf-8")
    text = text.replace("| # | notebook | what you learn |\n|---|---|---|",
                        "| # | notebook | what you learn | reading time |\n|---|---|---|---|")

    def row(m: re.Match) -> str:
        return f"| {m[1]} | [{m[2]}]({m[3]}) | {m[4]} | about {times[m[3]]} min |"

    index.write_text(INDEX_ROW.sub(row, text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update the notebooks and notebooks/README.md")
    args = parser.parse_args(argv)
    times = {}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        minutes, words, code = estimate(path)
        times[path.name] = minutes
        print(f"{path.name:36s} {minutes:3d} min  {words:6,} words  {code:3d} code cells")
        if args.write:
            write(path)
    if args.write:
        write_index(times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
