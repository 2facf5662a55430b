"""Print the built course website to one PDF (``make pdf``).

Each page of the book (front page, the eleven chapters, the exercises, the about pages), in reading order,
is opened in headless Chromium from a server on 127.0.0.1, once its maths is typeset and its stored widgets
are drawn; its folded answers are moved to an answer section at the end of the chapter (the page's own
print script, ``_static/course_book.js``, does this when a reader prints a page too); then Chromium's
print-to-PDF writes it. pypdf joins the pages' PDFs, so every chapter starts on a new page, and gives the
book an outline (bookmarks) with one entry per page.

Usage: python tools/book/pdf.py [--site build/book/html] [--out build/book/cnnlib-course.pdf]
       [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from booksite import ROOT, book_pages, launch, open_page, serve, watch  # noqa: E402

FOOTER = ('<div style="font-size:8px; width:100%; text-align:center; color:#555;">'
          '<span class="title"></span> &middot; page <span class="pageNumber"></span> of '
          '<span class="totalPages"></span></div>')


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
    writer = PdfWriter()
    docs = book_pages()
    with serve(site) as base:
        context = browser.new_context()
        traffic = watch(context)
        page = context.new_page()
        for doc in docs:
            open_page(page, f"{base}{doc}.html")
            page.evaluate("() => window.courseCollectAnswers && courseCollectAnswers()")
            page.emulate_media(media="print")
            data = page.pdf(format="A4", print_background=True, display_header_footer=True,
                            header_template="<span></span>", footer_template=FOOTER,
                            margin={"top": "15mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
            page.emulate_media(media="screen")
            start = len(writer.pages)
            writer.append(PdfReader(io.BytesIO(data)))
            title = page.title().split(" — ")[0].strip() or doc
            writer.add_outline_item(title=title, page_number=start)
        context.close()
        if traffic.outside or traffic.failed:
            raise SystemExit(f"pdf: requests left 127.0.0.1 {traffic.outside[:5]} or failed {traffic.failed[:5]}")
    writer.add_metadata({"/Title": "Convolutional neural networks from scratch in NumPy",
                         "/Author": "the cnnlib course authors"})
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
