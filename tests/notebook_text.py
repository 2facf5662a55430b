"""The course notebooks' text, for the tests that check what the notebooks say: cells, Markdown, folded answers.

Imported as ``tests.notebook_text`` (like ``tests.layer_table``). A notebook is named by its file name in
``notebooks/`` or given as a path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSWER = '<details class="answer"><summary>Answer</summary>'


def cells(notebook: str | Path) -> list[dict]:
    path = notebook if isinstance(notebook, Path) else ROOT / "notebooks" / notebook
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def markdown(notebook: str | Path) -> str:
    """All Markdown cells of ``notebook``, one after the other."""
    return "\n".join("".join(c["source"]) for c in cells(notebook) if c["cell_type"] == "markdown")


def answers(notebook: str | Path) -> list[str]:
    """The text of every folded answer (summary "Answer"), in order."""
    return re.findall(re.escape(ANSWER) + r"\n\n(.*?)\n\n</details>", markdown(notebook), flags=re.S)


def answer_after(notebook: str | Path, question: str) -> str:
    """The folded answer (summary "Answer") that follows the first Markdown occurrence of ``question``."""
    text = markdown(notebook)
    block = text.index(ANSWER, text.index(question))
    return text[block:text.index("</details>", block)]
