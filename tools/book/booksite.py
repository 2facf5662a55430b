"""The built course website, opened in a browser: used by ``make pdf`` (tools/book/pdf.py) and the book's
browser test (tests/test_book.py).

- :func:`book_parts` is the book's order (Sphinx's toctrees are made from it, in course_book.py).
- :func:`serve` serves a built site on 127.0.0.1 in a background thread.
- :func:`launch` starts headless Chromium (Debian's, through Playwright) with the flags a closed network
  needs; :func:`open_page` opens a page, aborts and records every request that would leave 127.0.0.1,
  and waits until MathJax has typeset the page and the stored widgets are drawn.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"

# The flags this machine needs (see the environment notes): no sandbox as root, no GPU, and no background
# connections, which a closed network refuses. Playwright adds a fresh temporary --user-data-dir itself.
# tests/test_browser.py starts JupyterLab's Chromium with the same flags.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
READY_TIMEOUT = 60_000  # ms: a page loaded, its maths typeset and its widgets drawn


def numbered(srcdir: Path, folder: str) -> list[str]:
    """Document names of the numbered notebooks of ``folder``, in course order."""
    return [f"{folder}/{p.stem}" for p in sorted((srcdir / folder).glob("[0-9][0-9]_*.ipynb"))]


def book_parts(srcdir: Path = ROOT) -> list[tuple[str, list[str]]]:
    """The book's parts after the front page (the course index), each a caption and its documents."""
    return [("Chapters", numbered(srcdir, "notebooks")),
            ("Exercises", ["exercises/README", *numbered(srcdir, "exercises")]),
            ("About the course", ["README", "CHANGELOG"])]


def book_pages(srcdir: Path = ROOT) -> list[str]:
    """Every page of the book in reading order, front page first (document names, no suffix)."""
    return ["notebooks/README", *(doc for _, docs in book_parts(srcdir) for doc in docs)]


def draws_image(models: dict, model_id: str, seen: set[str] | None = None) -> bool:
    """Whether the stored widget ``model_id`` (or a widget inside it) is an Image: an explorer's picture.

    ``models`` is a notebook's saved widget state (``metadata.widgets[...]["state"]``).
    """
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in models:
        return False
    seen.add(model_id)
    state = models[model_id]
    if state.get("model_name") == "ImageModel":
        return True
    children = state.get("state", {}).get("children", [])
    return any(draws_image(models, str(c).removeprefix("IPY_MODEL_"), seen) for c in children)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A browser that closes a connection early (a page left while loading) is not an error."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve the folder ``site`` on 127.0.0.1 (a free port) while the block runs; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = _Server((HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def launch(chromium: str):
    """A headless Chromium browser (Playwright), closed after the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Traffic:
    """What a page asked for: requests that left 127.0.0.1 (aborted), and failed ones."""

    outside: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == HOST


def watch(context) -> Traffic:
    """Abort and record every request of ``context`` that would leave 127.0.0.1; record failures."""
    traffic = Traffic()

    def route(r):
        if is_local(r.request.url):
            r.continue_()
        else:
            traffic.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    context.on("requestfailed", lambda req: traffic.failed.append(f"{req.url} ({req.failure})"))
    context.on("response", lambda res: res.status >= 400 and traffic.failed.append(f"{res.url} (HTTP {res.status})"))
    return traffic


# In the page: wait for MathJax's first typesetting and for each stored widget to be drawn.
WAIT_READY = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const figures = Array.from(document.querySelectorAll('.widget-figure'));
  const drawn = () => figures.every(f => f.querySelector('.jupyter-widgets, .widget-subarea > *'));
  for (let i = 0; i < 600 && !drawn(); i++) { await new Promise(r => setTimeout(r, 50)); }
  const images = Array.from(document.images);
  await Promise.all(images.map(img => img.complete ? null : new Promise(r => { img.onload = img.onerror = r; })));
  return true;
}"""


def open_page(page, url: str) -> None:
    """Go to ``url`` and wait until its maths is typeset, its widgets drawn and its images loaded."""
    page.goto(url, wait_until="load", timeout=READY_TIMEOUT)  # the load event: document complete
    page.evaluate(WAIT_READY)
