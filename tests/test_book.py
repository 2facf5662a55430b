"""The course as a textbook: the website (``make book``) and the PDF (``make pdf``).

The build is checked on its own (Sphinx with warnings as errors: a chapter figure without alt text is one),
then the built site is served on 127.0.0.1 and every page is opened in headless Chromium (Debian's, through
Playwright, as in tests/test_browser.py). A page fails on: a request that would leave 127.0.0.1 (aborted
and reported), a failed request or HTTP error, an uncaught script error, an image without alt text or that
did not load, maths MathJax did not typeset (or TeX left as text), a stored widget that was not drawn, or an
answer that is not folded. Screenshots of three pages (the front page, notebook 02 with its explorer, and
notebook 08 in the dark theme) go to ``build/book-test/``. The PDF is printed from the same site.

Needs the book's packages (``make book-setup``: Sphinx, MyST-NB, sphinx-book-theme and pypdf from PyPI,
MathJax and the ipywidgets HTML manager from npm) and, for the browser part, Playwright and Chromium
(``make browser-setup``); without them the tests say which command installs them and are skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "tools" / "book"
SCREENSHOTS = ROOT / "build" / "book-test"
sys.path.insert(0, str(BOOK))

import booksite  # noqa: E402
from tests.test_browser import find_chromium  # noqa: E402

pytestmark = pytest.mark.slow

CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted(p.stem for p in (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BUILD_TIMES: dict[str, float] = {}


def _missing(why: str) -> None:
    """Skip with the reason, except in CI (CI=true), where a book test that cannot run is a failure."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI: {why}")
    pytest.skip(why)


def _needs_book_packages() -> None:
    try:
        import myst_nb  # noqa: F401
        import pypdf  # noqa: F401
        import sphinx_book_theme  # noqa: F401
    except ImportError as exc:
        _missing(f"book test skipped: {exc.name} is not installed; run `make book-setup`")
    if not (BOOK / "node_modules" / "mathjax").is_dir():
        _missing("book test skipped: the site's scripts (MathJax, the ipywidgets HTML manager) are not "
                 "installed; run `make book-setup` (it runs npm ci in tools/book, which needs Node.js's npm)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The course website, built as make book builds it (warnings are errors), into a temporary folder."""
    _needs_book_packages()
    out = tmp_path_factory.mktemp("book") / "html"
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                             "-c", str(BOOK), "-d", str(out.parent / "doctrees"), str(ROOT), str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    BUILD_TIMES["html"] = time.perf_counter() - start
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stderr[-4000:]}"
    return out


# --- alt text in the notebooks themselves (no build needed) -------------------------------------------------

def _figure_cells(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        kinds = {k for o in cell.get("outputs", []) for k in o.get("data", {})}
        pictures = "image/png" in kinds
        if WIDGET_VIEW in kinds:
            # a widget whose stored state draws a picture (an explorer, the learning-curve monitor)
            ids = {o["data"][WIDGET_VIEW]["model_id"] for o in cell["outputs"] if WIDGET_VIEW in o.get("data", {})}
            state = nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
            models = state.get("state", {})
            pictures |= any(booksite.draws_image(models, m) for m in ids)
        if pictures:
            yield i, cell


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_figure_has_alt_text(name):
    """Each cell that draws a picture (a figure or an explorer) describes it in mystnb.image.alt."""
    path = ROOT / "notebooks" / f"{name}.ipynb"
    cells = list(_figure_cells(path))
    assert cells, f"{name}: no figure found (the scan is broken)"
    for i, cell in cells:
        alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
        assert alt.strip(), f"{name}, cell {i}: a figure without alt text (cell metadata mystnb.image.alt)"
        assert 60 <= len(alt) <= 400, f"{name}, cell {i}: alt text of {len(alt)} characters (60-400 expected)"
        assert not re.match(r"(?i)(an? )?(image|picture|figure|photo) of", alt), f"{name}, cell {i}: {alt[:40]!r}"


def test_the_scan_finds_the_explorers():
    """The explorers' cells count as figures (their stored state holds an Image widget)."""
    for name, expected in [("02_convolution", 1), ("05_pooling", 1), ("10_full_mnist", 2)]:
        path = ROOT / "notebooks" / f"{name}.ipynb"
        nb = json.loads(path.read_text(encoding="utf-8"))
        widget_cells = [i for i, _ in _figure_cells(path)
                        if any(WIDGET_VIEW in o.get("data", {}) for o in nb["cells"][i].get("outputs", []))]
        assert len(widget_cells) == expected, (name, widget_cells)


# --- the built site -------------------------------------------------------------------------------------------

def test_site_has_every_page_and_no_solution(site):
    pages = sorted(str(p.relative_to(site).with_suffix("")) for p in site.rglob("*.html")
                   if "_static" not in p.parts and p.name not in ("genindex.html", "search.html", "index.html"))
    assert pages == sorted(booksite.book_pages()), pages
    assert not (site / "exercises" / "solutions").exists(), "the solutions must never be published"
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text, f"{page.relative_to(site)} shows a solution"
    assert not list(site.rglob("*solution*")), "a solution file was copied into the site"
    front = (site / "index.html").read_text(encoding="utf-8")
    assert 'url=notebooks/README.html' in front
    assert (site / "search.html").is_file() and (site / "searchindex.js").is_file()


def test_pages_load_nothing_from_outside(site):
    """No page names a script, style sheet or image outside the site (MathJax and the widgets are local)."""
    pattern = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["'](https?:)?//""", re.I)
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        hit = pattern.search(text)
        assert hit is None, f"{page.relative_to(site)} loads {text[hit.start():hit.start() + 160]}"
    assert (site / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    assert (site / "_static" / "widgets" / "embed.js").is_file()


def _text(page: Path) -> str:
    """A built page's text, tags removed."""
    return re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))


def test_download_button_gives_the_notebook(site):
    """The download button of each chapter and exercise offers its own notebook, byte for byte."""
    for folder, names in (("notebooks", CHAPTERS), ("exercises", EXERCISES)):
        for name in names:
            html = (site / folder / f"{name}.html").read_text(encoding="utf-8")
            assert f'href="../_sources/{folder}/{name}.ipynb"' in html, f"{folder}/{name}: no download link"
            copy = site / "_sources" / folder / f"{name}.ipynb"
            assert copy.read_bytes() == (ROOT / folder / f"{name}.ipynb").read_bytes(), copy


def test_chapter_order_and_run_locally_note(site):
    front = (site / "notebooks" / "README.html").read_text(encoding="utf-8")
    links = re.findall(r'href="(\d\d_\w+)\.html"', front.split('class="bd-sidebar-primary')[1])
    assert [link for link in dict.fromkeys(links)] == CHAPTERS
    for name in CHAPTERS:
        page = _text(site / "notebooks" / f"{name}.html")
        assert "Run this chapter yourself" in page and f"work/notebooks/{name}.ipynb" in page
    # previous / next: each chapter leads to the one after it, the last to the exercises
    for name, after in zip(CHAPTERS, CHAPTERS[1:] + ["../exercises/README"]):
        html = (site / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        nxt = re.search(r'<a class="right-next"\s+href="([^"]+)\.html"', html)
        assert nxt and nxt.group(1) == after, (name, nxt and nxt.group(1))
    for name in EXERCISES:
        page = _text(site / "exercises" / f"{name}.html")
        assert "Do this exercise yourself" in page and f"make grade NB=exercises/{name}.ipynb" in page


# --- in the browser --------------------------------------------------------------------------------------------

PAGE_CHECK = r"""() => {
  const article = document.querySelector('article.bd-article');
  const images = Array.from(document.images);
  const text = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('pre, code, script, style, mjx-container, .highlight, .output')) continue;
    text.push(node.textContent);
  }
  const tex = text.join(' ').match(/\\\(|\\\[|\$\$|\\(frac|times|sum|mathbf|lfloor|cdot|partial|begin)\b|\$[^\s$][^$]{0,60}\$/);
  return {
    images: images.length,
    noAlt: images.filter(i => !(i.getAttribute('alt') || '').trim()).map(i => i.src.slice(0, 80)),
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80)),
    math: document.querySelectorAll('.math').length,
    untypeset: Array.from(document.querySelectorAll('.math')).filter(m => !m.querySelector('mjx-container')).length,
    rawTex: tex ? tex[0] : null,
    widgets: document.querySelectorAll('.widget-figure').length,
    notDrawn: Array.from(document.querySelectorAll('.widget-figure')).filter(f => !f.querySelector('.jupyter-widgets')).length,
    widgetImages: document.querySelectorAll('.widget-figure img').length,
    answers: document.querySelectorAll('details.answer').length,
    openAnswers: document.querySelectorAll('details.answer[open]').length,
    visibleAnswerText: Array.from(document.querySelectorAll('details.answer')).filter(d => {
      const body = Array.from(d.children).find(c => c.tagName !== 'SUMMARY');
      return body && body.checkVisibility();
    }).length,
  };
}"""


@pytest.fixture(scope="module")
def browser(site):
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("book browser test skipped: Playwright is not installed; run `make browser-setup`")
    path, why = find_chromium()
    if path is None:
        _missing(f"book browser test skipped: {why}")
    with booksite.launch(path) as b:
        yield b


def test_every_page_in_the_browser(site, browser):
    """Open each page of the book; count what was checked."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    totals = dict(pages=0, images=0, math=0, widgets=0, widget_images=0, answers=0)
    with booksite.serve(site) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        traffic = booksite.watch(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        for doc in booksite.book_pages():
            booksite.open_page(page, f"{base}{doc}.html")
            r = page.evaluate(PAGE_CHECK)
            where = f"{doc}: "
            assert not r["noAlt"], where + f"images without alt text {r['noAlt']}"
            assert not r["broken"], where + f"images that did not load {r['broken']}"
            assert r["untypeset"] == 0, where + f"{r['untypeset']} of {r['math']} formulas not typeset"
            assert r["rawTex"] is None, where + f"TeX left as text: {r['rawTex']!r}"
            assert r["notDrawn"] == 0, where + f"{r['notDrawn']} of {r['widgets']} stored widgets not drawn"
            assert r["openAnswers"] == 0 and r["visibleAnswerText"] == 0, where + "an answer is not folded"
            if doc.startswith("notebooks/0") or doc.startswith("notebooks/1"):
                assert r["answers"] > 0 and r["math"] > 0 or doc.endswith("11_beyond_2d"), where + str(r)
            totals["pages"] += 1
            totals["images"] += r["images"]
            totals["math"] += r["math"]
            totals["widgets"] += r["widgets"]
            totals["widget_images"] += r["widgetImages"]
            totals["answers"] += r["answers"]
            if doc == "notebooks/README":
                page.screenshot(path=str(SCREENSHOTS / "front-page.png"))
            if doc == "notebooks/02_convolution":
                figure = page.locator(".widget-figure img").first
                figure.scroll_into_view_if_needed()
                page.screenshot(path=str(SCREENSHOTS / "02-explorer.png"))
                # An answer opens when its summary is clicked.
                answer = page.locator("details.answer").first
                answer.locator("summary").click()
                assert answer.evaluate("d => d.open")
        # Printing: laid out at the paper's width, every displayed formula fits (wide ones are shrunk), and
        # each figure's description sits inside the figure's block (kept on one page with it).
        page.set_viewport_size({"width": pdf_module().TEXT_WIDTH, "height": 1000})
        for doc in ("notebooks/10_full_mnist", "exercises/07_batch_norm", "notebooks/02_convolution"):
            booksite.open_page(page, f"{base}{doc}.html")
            page.emulate_media(media="print")
            page.evaluate("() => coursePrepareForPrint(true)")
            fit = page.evaluate("""() => Array.from(document.querySelectorAll('div.math')).map(d =>
                [d.querySelector('mjx-math').getBoundingClientRect().width, d.getBoundingClientRect().width])""")
            assert fit and all(w <= room + 1 for w, room in fit), (doc, [f for f in fit if f[0] > f[1] + 1])
            loose = page.evaluate("""() => Array.from(document.querySelectorAll('p.print-alt'))
                .filter(p => !p.parentElement.matches('.cell_output, .widget-figure')).length""")
            captions = page.locator("p.print-alt").count()
            assert loose == 0 and (captions > 0 or doc.startswith("exercises")), (doc, captions, loose)
            page.emulate_media(media="screen")
        # The chapter menu: on a phone the visible button opens it, on a wide screen it hides the sidebar.
        page.set_viewport_size({"width": 390, "height": 844})
        booksite.open_page(page, f"{base}notebooks/05_pooling.html")
        page.locator(".primary-toggle:visible").first.click()
        page.wait_for_function("() => document.querySelector('#pst-primary-sidebar-modal').open", timeout=10_000)
        assert page.locator("#pst-primary-sidebar-modal a[href='06_batch_norm.html']").is_visible()
        page.keyboard.press("Escape")
        page.set_viewport_size({"width": 1280, "height": 900})
        booksite.open_page(page, f"{base}notebooks/05_pooling.html")
        page.locator(".primary-toggle:visible").first.click()
        assert "pst-sidebar-hidden" in page.locator("#pst-primary-sidebar").get_attribute("class")
        # The dark theme: notebook 08 (maths and a signed figure).
        page.goto(f"{base}notebooks/08_backpropagation.html")
        page.evaluate("() => { localStorage.setItem('mode', 'dark'); }")
        booksite.open_page(page, f"{base}notebooks/08_backpropagation.html")
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        page.locator("#gradients-of-a-shared-kernel, h2").nth(2).scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "08-dark.png"))
        # Search finds a chapter.
        booksite.open_page(page, f"{base}search.html?q=im2col")
        page.wait_for_selector("#search-results li p.context", timeout=30_000)
        assert page.locator("#search-results li").count() >= 1
        # A word near the top of a page: its snippet quotes the page's start, not the header's buttons.
        booksite.open_page(page, f"{base}search.html?q=goals")
        page.wait_for_selector("#search-results li p.context", timeout=30_000)
        for snippet in page.locator("#search-results li p.context").all_inner_texts():
            assert not re.search(r"Settings|Contents Goals|Run this chapter", snippet), snippet
    assert not traffic.outside, f"requests that would have left 127.0.0.1: {traffic.outside[:10]}"
    assert not traffic.failed, f"failed requests: {traffic.failed[:10]}"
    assert not errors, f"script errors: {errors[:5]}"
    assert totals["pages"] == len(booksite.book_pages())
    assert totals["widget_images"] >= 6  # the explorers of 02-06 and 10, the learning-curve monitor
    print(f"\nbook in the browser: {totals}; screenshots in {SCREENSHOTS}")


def pdf_module():
    import pdf

    return pdf


def test_pdf(site, browser, tmp_path):
    """The whole book in one PDF: a page run per chapter, bookmarks, answers at the end of each chapter."""
    from pypdf import PdfReader

    pdf = pdf_module()
    out = tmp_path / "book.pdf"
    start = time.perf_counter()
    docs, pages = pdf.print_book(site, out, find_chromium()[0], browser)
    BUILD_TIMES["pdf"] = time.perf_counter() - start
    reader = PdfReader(out)
    assert len(reader.pages) == pages > 100
    titles = [item.title for item in reader.outline]
    assert titles[0] == "Contents" and len(titles) == 1 + docs == 1 + len(booksite.book_pages())
    assert any("Pooling" in t for t in titles), titles
    # Notebook 05's pages: its answers appear once, in the answer section at its end.
    start_05 = reader.get_destination_page_number(reader.outline[2 + CHAPTERS.index("05_pooling")])
    end_05 = reader.get_destination_page_number(reader.outline[3 + CHAPTERS.index("05_pooling")])
    text = "\n".join(reader.pages[k].extract_text() for k in range(start_05, end_05))
    assert "Answers" in text and "Answer 1" in text and "in the Answers section at the end of the chapter" in text
    assert text.count("Answer 1\n") + text.count("Answer 1 ") >= 1
    assert "Figure: " in text  # each figure's description is printed under it
    # The first page: title and contents, with each chapter's PDF page; links jump inside the PDF.
    first = reader.pages[0].extract_text()
    assert pdf.TITLE.split()[0] in first and "5. Pooling" in first and str(start_05 + 1) in first
    jumps, server = 0, []
    for p in reader.pages:
        for annot in p.get("/Annots") or []:
            action = annot.get_object().get("/A", {})
            jumps += action.get("/S") == "/GoTo"
            if "127.0.0.1" in str(action.get("/URI", "")):
                server.append(action["/URI"])
    assert not server, f"links to the printing server left in the PDF: {server[:3]}"
    assert jumps >= 2 * len(CHAPTERS), jumps  # the contents page and the course index link every chapter
    if SCREENSHOTS.is_dir():
        shutil.copy(out, SCREENSHOTS / "book.pdf")
    print(f"\nPDF: {pages} pages, {out.stat().st_size / 1e6:.1f} MB; build {BUILD_TIMES}")
