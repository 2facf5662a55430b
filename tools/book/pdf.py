"""Print the built course website to one PDF (``make pdf``).

Each page of the book (front page, the eleven chapters, the exercises, the about pages), in reading order,
is opened in headless Chromium from a server on 127.0.0.1, once its maths is typeset and its stored widgets
are drawn; its folded answers are moved to an answer section at the end of the chapter (the page's own
print script, ``_static/course_book.js``, does this when a reader prints a page too); then Chromium's
print-to-PDF writes it. pypdf joins the pages' PDFs, so every chapter starts on a new page, and gives the
book an outline (bookmarks) with one entry per page, a first page with the title and the contents (the PDF page
of each chapter), and links that jump inside the PDF instead of to the server that printed it. Each figure's
description (its alt text) is printed under it: a merged PDF carries no tags, so the paper is where a reader
of the PDF finds it.

Usage: python tools/book/pdf.py [--site build/book/html] [--out build/book/cnnlib-course.pdf]
       [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import html
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from booksite import ROOT, book_pages, book_parts, launch, open_page, serve, watch  # noqa: E402

FOOTER = ('<div style="font-size:8px; width:100%; text-align:center; color:#555;">'
          '<span class="title"></span> &middot; page <span class="pageNumber"></span> of '
          '<span class="totalPages"></span></div>')


TITLE = "Convolutional neural networks from scratch in NumPy"
SCREEN = {"width": 1280, "height": 900}  # the viewport pages are opened in (a desktop's)
TEXT_WIDTH = 688  # CSS px: A4's 210 mm less the two 14 mm margins, at 96 px per inch
PAPER = dict(format="A4", print_background=True,
             margin={"top": "15mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})


def contents_page(titles: dict[str, str], first_page: dict[str, int], base: str) -> str:
    """The book's first page: its title and a table of contents with the PDF page of each part."""
    rows = []
    for caption, docs in [("Front matter", ["notebooks/README"]), *book_parts()]:
        rows.append(f'<tr><th colspan="2">{html.escape(caption)}</th></tr>')
        for doc in docs:
            rows.append(f'<tr><td><a href="{base}{doc}.html">{html.escape(titles[doc])}</a></td>'
                        f'<td class="n">{first_page[doc] + 1}</td></tr>')
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{TITLE}</title><style>
    body {{ font-family: sans-serif; margin: 0 1em; }} h1 {{ font-size: 26pt; margin: 1.2em 0 0.2em; }}
    p.sub {{ font-size: 13pt; color: #444; margin: 0 0 2em; }} table {{ width: 100%; border-collapse: collapse; }}
    th {{ text-align: left; padding: 0.8em 0 0.2em; font-size: 12pt; }} td {{ padding: 0.12em 0; font-size: 10.5pt; }}
    td.n {{ text-align: right; }} a {{ color: inherit; text-decoration: none; }}
    </style></head><body><h1>{TITLE}</h1>
    <p class="sub">A course with cnnlib: eleven chapters and nine exercise notebooks, printed from the course
    website. Page numbers below are the PDF's; each page's footer counts the pages of its chapter.</p>
    <table>{''.join(rows)}</table></body></html>"""


def link_chapters(writer, base: str, first_page: dict[str, int]) -> int:
    """Turn the printed links to the local server into jumps inside the PDF; returns how many were made.

    A link to a page of the book jumps to that page's first PDF page (a link to a section, to its chapter's);
    a link to anything else on the server (a downloadable file) would be dead in the PDF and is removed.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    made = 0
    for page in writer.pages:
        annotations = page.get("/Annots")
        if annotations is None:
            continue
        keep = ArrayObject()
        for ref in annotations.get_object():
            annot = ref.get_object()
            uri = annot.get("/A", {}).get("/URI") if annot.get("/Subtype") == "/Link" else None
            if uri is None or not str(uri).startswith(base):
                keep.append(ref)
                continue
            doc = str(uri)[len(base):].split("#")[0].removesuffix(".html")
            if doc in first_page:
                target = writer.pages[first_page[doc]].indirect_reference
                annot[NameObject("/A")] = DictionaryObject({
                    NameObject("/S"): NameObject("/GoTo"),
                    NameObject("/D"): ArrayObject([target, NameObject("/Fit")])})
                keep.append(ref)
                made += 1
        page[NameObject("/Annots")] = keep
    return made


def print_book(site: Path, out: Path, chromium: str, browser=None) -> tuple[int, int]:
    """Write the PDF ``out`` from the built ``site``; returns (pages of the book, pages of the PDF).

    Chromium is started from ``chromium``, unless a Playwright ``browser`` is given to use instead.
    """
    if browser is None:
        with launch(chromium) as own:
            return print_book(site, out, chromium, own)
    from pypdf import PdfReader, PdfWriter

    if not (site / "notebooks" / "README.html").is_file():
        raise SystemExit(f"pdf: {site} holds no built book; run `make book` first")
    docs = book_pages()
    printed: dict[str, PdfReader] = {}  # each page of the site, printed and read once
    titles: dict[str, str] = {}
    with serve(site) as base:
        context = browser.new_context(viewport=SCREEN)
        traffic = watch(context)
        page = context.new_page()
        for doc in docs:
            open_page(page, f"{base}{doc}.html")
            # Laid out at the paper's text width in the print style, so that wide formulas can be measured.
            page.set_viewport_size({"width": TEXT_WIDTH, "height": 1000})
            page.emulate_media(media="print")
            page.evaluate("() => coursePrepareForPrint(true)")
            printed[doc] = PdfReader(io.BytesIO(page.pdf(**PAPER, display_header_footer=True,
                                                         header_template="<span></span>", footer_template=FOOTER)))
            page.emulate_media(media="screen")
            page.set_viewport_size(SCREEN)
            titles[doc] = page.title().split(" — ")[0].strip() or doc
        # The contents page: its page numbers count its own pages (printed again if it needs more than one).
        front = 1
        while True:
            first_page, at = {}, front
            for doc in docs:
                first_page[doc], at = at, at + len(printed[doc].pages)
            page.set_content(contents_page(titles, first_page, base))
            contents = PdfReader(io.BytesIO(page.pdf(**PAPER)))
            if len(contents.pages) == front:
                break
            front = len(contents.pages)
        context.close()
        if traffic.outside or traffic.failed:
            raise SystemExit(f"pdf: requests left 127.0.0.1 {traffic.outside[:5]} or failed {traffic.failed[:5]}")
    writer = PdfWriter()
    writer.append(contents)
    writer.add_outline_item(title="Contents", page_number=0)
    for doc in docs:
        writer.append(printed[doc])
        writer.add_outline_item(title=titles[doc], page_number=first_page[doc])
    link_chapters(writer, base, first_page)
    writer.add_metadata({"/Title": TITLE, "/Author": "the cnnlib course authors"})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".pdf.tmp")
    with open(tmp, "wb") as f:
        writer.write(f)
    os.replace(tmp, out)  # never a half-written book
    return len(docs), len(writer.pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "build" / "book" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book" / "cnnlib-course.pdf")
    parser.add_argument("--chromium", default=os.environ.get("CNNLIB_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    docs, pages = print_book(args.site, args.out, args.chromium)
    size = args.out.stat().st_size / 1e6
    print(f"pdf: {args.out} - {docs} chapters and pages of the site, {pages} PDF pages, {size:.1f} MB, "
          f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
