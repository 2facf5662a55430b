"""The course website's own Sphinx extension: chapter order, "run it yourself" notes, alt text, offline assets.

- The course index (``notebooks/README.md``) is the front page; the chapter list and the exercises part are
  added to it here as hidden toctrees, so the file stays plain Markdown on GitHub and in JupyterLab.
- Each chapter and exercise page starts with a note on how to run it on your own computer.
- Figures: MyST-NB gives a cell's image outputs the alt text of its ``mystnb.image.alt`` metadata. A stored
  widget (an explorer) is drawn in the browser, so the same metadata is put on a wrapper around it and
  ``_static/course_book.js`` copies it onto the widget's images. A chapter figure without alt text is a
  build warning (``make book`` turns warnings into errors).
- MathJax and the ipywidgets HTML manager come from npm (``tools/book/package.json``, installed by
  ``npm ci``) and are copied into ``_static``: no page loads anything from outside the site.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

from booksite import book_parts, draws_image

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
# (npm package folder, the part of it the site needs, where it goes under _static)
ASSETS = [
    ("mathjax", "es5", "mathjax"),
    ("@jupyter-widgets/html-manager", "dist", "widgets"),
]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CHAPTER = re.compile(r"^(notebooks|exercises)/(\d\d)_\w+$")

logger = logging.getLogger(__name__)


def add_toctrees(app: Sphinx, docname: str, source: list[str]) -> None:
    """Append the chapter list, the exercises part and the about page to the front page, as hidden toctrees."""
    if docname != app.config.root_doc:
        return
    for caption, docs in book_parts(Path(app.srcdir)):
        entries = "\n".join("/" + d for d in docs)
        source[0] += f"\n\n```{{toctree}}\n:hidden:\n:caption: {caption}\n:maxdepth: 1\n\n{entries}\n```\n"


INSTRUCTORS = "\n## For instructors"


def students_part(app: Sphinx, docname: str, source: list[str]) -> None:
    """The exercises' page shows the students' part of exercises/README.md: its instructors' part (how the
    solutions are written and hidden, the grader) stays in the repository."""
    if docname == "exercises/README" and INSTRUCTORS in source[0]:
        source[0] = source[0].split(INSTRUCTORS)[0] + (
            "\n## For instructors\n\nHow the exercises, their solutions and the grader are made is explained in "
            "`exercises/README.md` of the course's repository (not on this website, which never shows a "
            "solution).\n")


def run_locally_note(docname: str) -> nodes.Element:
    """A note telling how to open this page's notebook in JupyterLab on your own computer."""
    folder, _ = CHAPTER.match(docname).groups()
    path = f"work/{docname}.ipynb"
    note = nodes.admonition(classes=["tip", "run-locally"])
    note += nodes.title(text="Run this chapter yourself" if folder == "notebooks" else "Do this exercise yourself")
    steps = nodes.paragraph()
    steps += nodes.Text("In the course's folder (a clone of its repository, the one this website is built from), run ")
    steps += nodes.literal(text="make lab")
    steps += nodes.Text(" at its top: it installs the course's environment, copies the notebooks into your own "
                        "folder and opens JupyterLab. Then open ")
    steps += nodes.literal(text=path)
    steps += nodes.Text(" and run its cells from the top (Run > Run All Cells).")
    note += steps
    why = nodes.paragraph()
    if folder == "notebooks":
        why += nodes.Text("This page shows the outputs stored in the notebook; the explorers' sliders and menus "
                          "respond only in JupyterLab, where a Python kernel runs. The download button at the "
                          "top of the page gives this notebook's file; it imports cnnlib, so run it inside the "
                          "course's folder, where make lab has installed it.")
    else:
        why += nodes.Text("Each exercise cell is followed by a check that tells you at once what is right or "
                          "wrong; ")
        why += nodes.literal(text=f"make grade NB={docname}.ipynb")
        why += nodes.Text(" grades the whole notebook.")
    note += why
    return note


def _cell_name(index: int | None) -> str:
    """'12 (index 11)': the cell's place counting from 1, as a reader counts, and nbformat's index."""
    return "?" if index is None else f"{index + 1} (index {index})"


def _cell_of(node: nodes.Node) -> int | None:
    """The notebook cell index of the cell that holds ``node`` (MyST-NB's cell containers), if any."""
    while node is not None:
        if isinstance(node, nodes.container) and node.get("nb_element") == "cell_code":
            return node.get("cell_index")
        node = node.parent
    return None


def wrap_widgets(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Give each stored widget its cell's alt text (a wrapper the page's script reads); warn about a widget
    that draws a picture (an explorer, the learning-curve monitor) but whose cell has no description."""
    models = None
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        meta = cell.get("cell_metadata") or {}
        alt = ((meta.get("mystnb") or {}).get("image") or {}).get("alt", "")
        for raw in list(cell.findall(nodes.raw)):
            text = raw.astext()
            if WIDGET_VIEW not in text:
                continue
            if not alt.strip() and CHAPTER.match(docname):
                if models is None:
                    notebook = json.loads(Path(app.env.doc2path(docname)).read_text(encoding="utf-8"))
                    state = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {})
                    models = state.get("state", {})
                model = re.search(r'"model_id":\s*"([^"]+)"', text)
                if model and draws_image(models, model.group(1)):
                    logger.warning("%s, cell %s: a stored widget that draws a picture but has no description "
                                   "(give the cell mystnb.image.alt metadata)", docname,
                                   _cell_name(cell.get("cell_index")), location=cell)
            wrapped = f'<div class="widget-figure" data-alt="{html.escape(alt, quote=True)}">{text}</div>'
            raw.replace_self(nodes.raw(text=wrapped, format="html"))


def check_alt_text(doctree: nodes.document, docname: str) -> None:
    """Warn about a figure of a chapter that has no alt text, naming its cell."""
    if not CHAPTER.match(docname):
        return
    for image in doctree.findall(nodes.image):
        if not image.get("alt", "").strip():
            logger.warning("%s, cell %s: a figure without alt text (give the cell mystnb.image.alt metadata)",
                           docname, _cell_name(_cell_of(image)), location=image)


def chapter_page(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    wrap_widgets(app, doctree, docname)
    check_alt_text(doctree, docname)
    if CHAPTER.match(docname):
        sections = list(doctree.findall(nodes.section))
        if sections:
            sections[0].insert(1, run_locally_note(docname))


def copy_assets(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax and the ipywidgets HTML manager from node_modules into the built site."""
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    for package, part, target in ASSETS:
        source = NODE_MODULES / package / part
        if not source.is_dir():
            raise RuntimeError(f"{source} is missing: run `npm ci` in {HERE} (make book does) "
                               "to install the site's scripts")
        shutil.copytree(source, static / target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.map", "*.LICENSE.txt"))


def front_door(app: Sphinx, exception: Exception | None) -> None:
    """An index.html at the top of the site that opens the front page (the course index)."""
    if exception is not None or app.builder.format != "html":
        return
    target = f"{app.config.root_doc}.html"
    (Path(app.outdir) / "index.html").write_text(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={target}"><title>{html.escape(app.config.project)}</title>'
        f'</head><body><p><a href="{target}">Open the course</a></p></body></html>\n', encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("source-read", add_toctrees)
    app.connect("source-read", students_part)
    app.connect("doctree-read", chapter_page)
    app.connect("build-finished", copy_assets)
    app.connect("build-finished", front_door)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
