"""Each notebook states its reading time in its first cell and in the course index, and the figure is current.

The estimate is tools/reading_time.py's (words at 200 a minute, half a minute per code cell, rounded up to
5 minutes); after editing a notebook, ``python tools/reading_time.py --write`` brings the figures up to date.
"""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("reading_time", ROOT / "tools" / "reading_time.py")
reading_time = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reading_time)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_cell_states_the_current_reading_time(path):
    first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    expected = reading_time.sentence(*reading_time.estimate(path))
    assert expected in first, f"run `python tools/reading_time.py --write` ({path.name})"


def test_course_index_lists_every_reading_time():
    index = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        minutes = reading_time.estimate(path)[0]
        assert f"]({path.name}) |" in index and f"| about {minutes} min |" in index.split(f"]({path.name})")[1].splitlines()[0]


def test_estimate_counts_words_and_code_cells(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "source": ["word " * 400]}] + [{"cell_type": "code", "source": ["x"]}] * 6}
    path = tmp_path / "01_x.ipynb"
    path.write_text(json.dumps(nb))
    assert reading_time.estimate(path) == (5, 400, 6)  # 2 min + 3 min
    nb["cells"].append({"cell_type": "code", "source": ["y"]})
    path.write_text(json.dumps(nb))
    assert reading_time.estimate(path) == (10, 400, 7)  # 5.5 min rounds up to 10
