"""Every notebook: each "Check your understanding" question has a worked answer folded right after it,
and the lecture notes' attributions live in one "Sources" box.

The per-notebook tests (tests/test_answers_*.py, tests/test_course_text*.py) check the numbers the
answers state; this one checks the shape of the course as a whole, so that a new question without
an answer, or a notebook without a Sources box, fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.notebook_text import markdown

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ANSWER = '<details class="answer"><summary>'


def check_your_understanding(text: str) -> str:
    start = text.index("## Check your understanding")
    end = re.search(r"^## (?!Check your understanding)", text[start + 1:], re.M)
    return text[start:start + 1 + end.start()] if end else text[start:]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_question_has_a_folded_answer_right_after_it(path):
    section = check_your_understanding(markdown(path))
    questions = list(re.finditer(r"^\d+\. ", section, re.M))
    assert len(questions) >= 2, f"{path.name}: no numbered questions under 'Check your understanding'"
    for q, nxt in zip(questions, questions[1:] + [None]):
        between = section[q.start():nxt.start() if nxt else len(section)]
        assert ANSWER in between, f"{path.name}: question {between.splitlines()[0][:60]!r} has no folded answer"
        assert between.count("<details") == between.count("</details>"), f"{path.name}: unclosed <details>"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_answers_use_one_markup_and_every_notebook_has_a_sources_box(path):
    text = markdown(path)
    assert text.count("<details") == text.count(ANSWER), f"{path.name}: a folded block without the answer markup"
    assert re.search(r"^## Sources$", text, re.M), f"{path.name}: no '## Sources' box"


def test_quoted_section_titles_of_other_notebooks_exist():
    """'notebook 06 (section "X")': X must be a heading of notebook 06, word for word."""
    texts = {p.name[:2]: markdown(p) for p in NOTEBOOKS}
    headings = {k: {h.strip() for h in re.findall(r"^#+ (?:\d+\. )?(.+)$", t, re.M)} for k, t in texts.items()}
    found = 0
    for name, text in texts.items():
        for m in re.finditer(r"notebook (\d\d)[^\n.]{0,20}?section ['\"]([^'\"]+)['\"]", text):
            found += 1
            assert m[2] in headings[m[1]], f"notebook {name} quotes section {m[2]!r} of notebook {m[1]}, which has no such heading"
    assert found >= 2
