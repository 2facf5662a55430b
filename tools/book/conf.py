"""Sphinx configuration of the course website (``make book``; the PDF, ``make pdf``, prints its pages).

The source folder is the top of the repository (``sphinx-build -c tools/book . build/book/html``), so that
the notebooks' relative links (``../exercises/...``, ``../cnnlib/functional.py``) resolve to real files.
Only the course index, the eleven course notebooks and the exercise notebooks (the students' versions,
never ``exercises/solutions/``) are read. MyST-NB renders the notebooks from their stored, nbval-validated
outputs without running them. Everything a page loads (the theme, MathJax, the ipywidgets HTML manager)
is copied into the build: the site works offline and never asks a CDN.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

project = "Convolutional neural networks from scratch"
author = "the cnnlib course authors"
copyright = "the cnnlib course authors, MIT licence"  # noqa: A001 (Sphinx's name)

extensions = ["myst_nb", "course_book"]

# Read these and nothing else (Sphinx >= 5.1). The front page is the course index.
root_doc = "notebooks/README"
include_patterns = ["README.md", "CHANGELOG.md", "notebooks/README.md", "notebooks/[0-9]*.ipynb", "exercises/README.md", "exercises/[0-9]*.ipynb"]
exclude_patterns = ["exercises/solutions/**", "work/**", "build/**", ".venv/**", "**/.ipynb_checkpoints"]

# The stored outputs are the validated ones (make test runs nbval over them): never re-run at build time.
nb_execution_mode = "off"
nb_merge_streams = True
# $...$ and $$...$$ maths, as JupyterLab renders it; \begin{aligned} etc. inside them.
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
myst_heading_anchors = 3
# Quotes stay as written (as JupyterLab shows them): Sphinx's curly quotes would eat the backslash of '\'.
smartquotes = False
# The notebooks link to files of the repository (cnnlib's source, the Makefile): copied as downloads.
suppress_warnings = ["mystnb.unknown_mime_type"]

# Served from the build (course_book copies the npm packages into _static at build time).
mathjax_path = "mathjax/tex-mml-chtml.js"
nb_ipywidgets_js = {"widgets/embed.js": {}}

html_theme = "sphinx_book_theme"
html_title = "CNNs from scratch in NumPy"
html_static_path = ["_static"]
html_css_files = ["course_book.css"]
html_js_files = ["course_book.js"]
# The download button offers each page's source: the notebook itself (no ".txt" added to its name).
html_copy_source = True
html_sourcelink_suffix = ""
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    # The download button offers each chapter's .ipynb; no repository, launch or CDN buttons.
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_source_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "launch_buttons": {},
    "show_toc_level": 2,
    "navigation_with_keys": True,
    "show_navbar_depth": 1,
    "extra_footer": "Built from the course's stored notebooks with Sphinx, MyST-NB and sphinx-book-theme.",
}
