"""The course as a student meets it: JupyterLab in a real (headless) browser.

The first test copies a course notebook into a temporary folder, starts JupyterLab on
127.0.0.1 with a random token, opens the notebook in headless Chromium (Debian's
``chromium`` package, driven by Playwright), runs all cells, checks that no cell
shows an error, moves the "stride" slider of the convolution explorer and checks
that the explorer's picture and its output-size formula follow, and saves a
screenshot to ``build/browser-test/<notebook>.png``.

The second opens notebooks 02 and 10 as ``make lab`` shows them, after its
``make trust``, and checks before any cell runs that the stored outputs show:
notebook 02's convolution explorer as its picture (not a line of text) and
notebook 10's training progress bars full; and that a copy the course never
trusted shows the line of text instead (so trust is what makes the difference).
Screenshots: ``build/browser-test/<notebook>-stored.png``.

It needs Playwright (``pip install -e .[browser]``) and a Chromium executable;
``make browser-setup`` installs both. Without them the test is skipped, and the
reason, with that command, is printed in pytest's summary. Environment variables:

* ``CNNLIB_CHROMIUM``: the Chromium executable to use (default: /usr/bin/chromium,
  then ``chromium`` or ``chromium-browser`` on the PATH);
* ``CNNLIB_BROWSER_NOTEBOOK``: another notebook to test (for developing this test).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = Path(os.environ.get("CNNLIB_BROWSER_NOTEBOOK") or ROOT / "notebooks" / "03_stride_and_padding.ipynb")
SCREENSHOT_DIR = ROOT / "build" / "browser-test"
EXPLORER_CLASS = "cnnlib-convolution-explorer"
SLIDER_DESCRIPTION = "stride"
SETUP_COMMAND = "make browser-setup"

# The flags this machine needs, shared with the book's browser (tools/book/booksite.py says why).
sys.path.insert(0, str(ROOT / "tools" / "book"))
from booksite import CHROMIUM_FLAGS  # noqa: E402

SERVER_START_TIMEOUT = 90  # s, JupyterLab answering /api/status
KERNEL_TIMEOUT = 90  # s, notebook open and its kernel idle
RUN_ALL_TIMEOUT = 300  # s, all cells (notebook 3: a few seconds on a 2-core machine)
ROUND_TRIP_TIMEOUT = 60  # s, slider moved -> kernel -> new picture and text


def find_chromium() -> tuple[str | None, str]:
    """The Chromium executable to use, or None and the reason none was found."""
    chosen = os.environ.get("CNNLIB_CHROMIUM")
    if chosen:
        path = shutil.which(chosen) or (chosen if os.access(chosen, os.X_OK) else None)
        if path:
            return path, ""
        return None, (f"CNNLIB_CHROMIUM={chosen} is not an executable file; point it at a Chromium executable, "
                      f"or unset it and run `{SETUP_COMMAND}` to install Debian's chromium and Playwright")
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium", ""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path, ""
    return None, (f"Debian's chromium not found (no /usr/bin/chromium, no chromium or chromium-browser on the "
                  f"PATH); run `{SETUP_COMMAND}` to install it and Playwright (or set CNNLIB_CHROMIUM to a "
                  "Chromium executable)")


@pytest.fixture(scope="module")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip(f"browser test skipped: Playwright is not installed; run `{SETUP_COMMAND}` to install it "
                    "and Debian's chromium")
    path, why = find_chromium()
    if path is None:
        pytest.skip(f"browser test skipped: {why}")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


class Lab:
    """A JupyterLab server in its own temporary folder, with its own config, data and settings.

    ``notebooks`` are copied into its root (the first is ``notebook_name``); ``extra`` maps more file names
    to their contents. With ``trust=True`` the course's notebooks are trusted first, as ``make lab`` does.
    """

    def __init__(self, notebooks: Path | list[Path], trust: bool = False, extra: dict[str, str] | None = None):
        notebooks = [notebooks] if isinstance(notebooks, Path) else notebooks
        self.tmp = Path(tempfile.mkdtemp(prefix="cnnlib-browser-"))
        self.root = self.tmp / "root"
        self.root.mkdir()
        # Copies: JupyterLab autosaves, and the committed notebooks must never change.
        for notebook in notebooks:
            shutil.copy2(notebook, self.root / notebook.name)
        for name, text in (extra or {}).items():
            (self.root / name).write_text(text)
        self.notebook_name = notebooks[0].name
        self.port = _free_port()
        self.token = os.urandom(24).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.tmp / "jupyterlab.log"
        settings = self.tmp / "lab-settings"
        # No news or update check (they would ask the network, and pop up over the notebook); all cells in the
        # page (no virtual scrolling), so every output can be found.
        _write_json(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
                    {"fetchNews": "false", "checkForUpdates": False})
        _write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                    {"windowingMode": "none"})
        env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH")}
        env.update(
            JUPYTER_CONFIG_DIR=str(self.tmp / "config"),
            JUPYTER_DATA_DIR=str(self.tmp / "data"),
            JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.tmp / "lab-workspaces"),
            IPYTHONDIR=str(self.tmp / "ipython"),
        )
        if trust:
            self.trust_as_make_lab_does(env)
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @staticmethod
    def trust_as_make_lab_does(env: dict) -> None:
        """Run the Makefile's `trust` target (which `make lab` runs) with this Python's environment and this
        server's Jupyter data folder, where jupyter trust records its signatures."""
        make = shutil.which("make")
        if make is None:
            pytest.skip("make is not installed: the test runs `make trust`, as make lab does")
        cmd = [make, "--no-print-directory", "-C", str(ROOT), "trust", f"BIN={Path(sys.executable).parent}"]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}"
        assert "course notebooks trusted" in res.stdout, res.stdout

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def _get(self, path: str, timeout: float = 5) -> bytes:
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read()

    def wait_until_up(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {self.proc.returncode} before answering. Its log:\n"
                            f"{self.log()}")
            try:
                json.loads(self._get("/api/status"))
                return
            except (urllib.error.URLError, OSError, ValueError):
                time.sleep(0.3)
        pytest.fail(f"JupyterLab did not answer on {self.url} within {timeout} s. Its log:\n{self.log()}")

    def stop(self) -> None:
        """Shut the server and its kernels down; force it if it does not stop by itself."""
        if self.proc.poll() is None:
            try:
                req = urllib.request.Request(self.url + "/api/shutdown", method="POST", data=b"",
                                             headers={"Authorization": f"token {self.token}"})
                urllib.request.urlopen(req, timeout=5).close()
            except (urllib.error.URLError, OSError):
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(10)
        self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def lab(chromium_path):
    if not NOTEBOOK.is_file():
        pytest.fail(f"notebook under test not found: {NOTEBOOK}")
    server = Lab(NOTEBOOK)
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


# --- JavaScript run in the page (JupyterLab is exposed as window.jupyterapp) ---------------------------------

JS_NOTEBOOK_READY = """(name) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  if (!w || !w.context || !w.sessionContext || !w.content || w.context.path !== name || !w.context.isReady) {
    return false;
  }
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""

JS_KERNEL_STATE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  return kernel ? kernel.status + '/' + kernel.connectionStatus : 'no kernel';
}"""

JS_RUN_ALL = """() => {
  window.__cnnlibRunAll = null;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    (ok) => { window.__cnnlibRunAll = {ok: ok}; },
    (err) => { window.__cnnlibRunAll = {error: String(err)}; });
}"""

JS_CELLS = """() => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  const text = (t) => Array.isArray(t) ? t.join('') : (t || '');
  return notebook.widgets.map((cell, index) => {
    const model = cell.model;
    if (model.type !== 'code') { return null; }
    return {
      index: index,
      count: model.executionCount,
      source: model.sharedModel.getSource(),
      outputs: model.outputs.toJSON().map((o) => ({
        type: o.output_type,
        name: o.name || null,
        ename: o.ename || null,
        evalue: o.evalue || null,
        text: o.output_type === 'error' ? (o.traceback || []).join('\\n') : text(o.text),
      })),
    };
  }).filter((c) => c !== null);
}"""

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# "H_out = floor((28 + 2·0 − 3) / 1) + 1 = 26": input size, padding, kernel size, stride, result.
FORMULA = re.compile(
    r"H_out\s*=\s*floor\(\(\s*(\d+)\s*\+\s*2\s*[·*×x]?\s*(\d+)\s*[−–-]\s*(\d+)\s*\)\s*/\s*(\d+)\s*\)\s*\+\s*1\s*=\s*(\d+)"
)


def _describe_cell(cell: dict) -> str:
    first = cell["source"].strip().splitlines()[0] if cell["source"].strip() else "(empty)"
    return f"cell {cell['index'] + 1} of the notebook (execution count {cell['count']}), starting `{first[:80]}`"


def _wait(condition, timeout: float, what: str, interval: float = 0.25):
    """Poll ``condition()`` until it returns something true; fail with ``what()`` (a message) on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(what())
        time.sleep(interval)


def _screenshot(page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_chromium_lookup(monkeypatch, tmp_path):
    """CNNLIB_CHROMIUM wins; a wrong value is reported with the command that fixes it (no browser needed)."""
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CNNLIB_CHROMIUM", str(fake))
    assert find_chromium() == (str(fake), "")
    monkeypatch.setenv("CNNLIB_CHROMIUM", str(tmp_path / "missing"))
    path, why = find_chromium()
    assert path is None and "CNNLIB_CHROMIUM" in why and SETUP_COMMAND in why
    monkeypatch.delenv("CNNLIB_CHROMIUM")
    monkeypatch.setattr(os, "access", lambda *args: False)
    monkeypatch.setattr(shutil, "which", lambda *args: None)
    path, why = find_chromium()
    assert path is None and "chromium not found" in why and SETUP_COMMAND in why


@pytest.mark.browser
@pytest.mark.slow
def test_notebook_runs_and_explorer_follows_its_slider(page, lab, capsys):
    stem = Path(lab.notebook_name).stem
    times = {}
    try:
        _check_notebook(page, lab, times)
    except BaseException:
        try:
            path = _screenshot(page, f"{stem}-failure.png")
            with capsys.disabled():
                print(f"\nbrowser test failed; screenshot of the page: {path.relative_to(ROOT)}")
        except Exception as exc:  # the page may be gone; the original failure matters more
            with capsys.disabled():
                print(f"\nbrowser test failed, and no screenshot could be taken: {exc}")
        raise
    path = _screenshot(page, f"{stem}.png")
    (SCREENSHOT_DIR / f"{stem}-failure.png").unlink(missing_ok=True)  # from an earlier, failed run
    with capsys.disabled():
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
        print(f"\nbrowser test: {lab.notebook_name} in JupyterLab ({steps}); screenshot: {path.relative_to(ROOT)}")


def _check_notebook(page, lab: Lab, times: dict) -> None:
    t0 = time.monotonic()
    page.goto(f"{lab.url}/lab/tree/{lab.notebook_name}?token={lab.token}")
    try:
        page.wait_for_function(JS_NOTEBOOK_READY, arg=lab.notebook_name, timeout=KERNEL_TIMEOUT * 1000)
    except Exception:
        pytest.fail(f"the notebook did not open with an idle kernel within {KERNEL_TIMEOUT} s. "
                    f"JupyterLab's log:\n{lab.log()}")
    # More room for the notebook: close the file browser on the left.
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    times["open + kernel"] = time.monotonic() - t0

    # Run all cells, as a student would from the Run menu, and wait until the kernel has finished.
    t0 = time.monotonic()
    page.evaluate(JS_RUN_ALL)
    try:
        page.wait_for_function("() => window.__cnnlibRunAll !== null", timeout=RUN_ALL_TIMEOUT * 1000, polling=500)
    except Exception:
        cells = page.evaluate(JS_CELLS)
        pending = [_describe_cell(c) for c in cells if c["count"] is None]
        pytest.fail(f"running all cells did not finish within {RUN_ALL_TIMEOUT} s; kernel "
                    f"{page.evaluate(JS_KERNEL_STATE)}; not yet run: {pending[:5]}")
    _wait(lambda: page.evaluate(JS_KERNEL_STATE) == "idle/connected", 30,
          lambda: f"the kernel is not idle after running all cells: {page.evaluate(JS_KERNEL_STATE)}")
    times["run all cells"] = time.monotonic() - t0
    run_all = page.evaluate("() => window.__cnnlibRunAll")

    cells = page.evaluate(JS_CELLS)
    first_error = next((c["index"] for c in cells if any(o["type"] == "error" for o in c["outputs"])), None)
    if first_error is not None:  # show it in the failure screenshot
        page.locator(".jp-Notebook .jp-Cell").nth(first_error).scroll_into_view_if_needed()
    errors = [
        f"{_describe_cell(c)}: {o['ename']}: {o['evalue']}\n{ANSI.sub('', o['text'])[-1500:]}"
        for c in cells for o in c["outputs"] if o["type"] == "error"
    ]
    assert not errors, "cells show errors in JupyterLab:\n\n" + "\n\n".join(errors)
    assert run_all == {"ok": True}, f"running all cells did not succeed: {run_all}"
    not_run = [_describe_cell(c) for c in cells if c["source"].strip() and c["count"] is None]
    assert not not_run, f"cells without an execution count after running all: {not_run}"
    # Warnings on stderr are allowed (they are not errors); they are shown if the test fails, or with -s.
    for c in cells:
        for o in c["outputs"]:
            if o["type"] == "stream" and o["name"] == "stderr":
                print(f"stderr of {_describe_cell(c)}:\n{o['text'][-500:]}")
    widget_errors = page.locator("text=Error displaying widget")
    assert widget_errors.count() == 0, f"a widget failed to display: {widget_errors.first.inner_text()}"

    # The convolution explorer: found by its CSS class and its slider's description, as a student sees it.
    t0 = time.monotonic()
    explorers = page.locator(f".{EXPLORER_CLASS}")
    assert explorers.count() >= 1, (
        f"no convolution explorer (an element with CSS class {EXPLORER_CLASS}) in the page after running "
        f"{lab.notebook_name}: its cell should display `widgets.convolution_explorer()`"
    )
    explorer = explorers.first
    explorer.scroll_into_view_if_needed()
    label = page.locator(".widget-label", has_text=re.compile(rf"^\s*{SLIDER_DESCRIPTION}\s*$"))
    slider = explorer.locator(".widget-slider", has=label).first
    assert slider.count() == 1, f"no slider described {SLIDER_DESCRIPTION!r} in the convolution explorer"
    handle = slider.locator(".noUi-handle").first
    readout = slider.locator(".widget-readout").first
    image = explorer.locator("img").first
    assert image.count() == 1, "the convolution explorer shows no image"
    html = explorer.locator(".widget-html-content", has_text="H_out").first
    assert html.count() == 1, "the convolution explorer shows no output-size formula (text with H_out)"

    def state():
        return {
            "stride": readout.inner_text().strip(),
            "src": image.get_attribute("src"),
            "loaded": image.evaluate("img => img.complete && img.naturalWidth > 0"),
            "text": " ".join(html.inner_text().replace("\xa0", " ").split()),
        }

    before = state()
    assert before["loaded"], "the explorer's image did not load (not a valid PNG?)"
    formula = FORMULA.search(before["text"])
    assert formula, f"no output-size formula like 'H_out = floor((28 + 2·0 − 3) / 1) + 1 = 26' in {before['text']!r}"
    old_stride = int(before["stride"])
    assert int(formula.group(4)) == old_stride, f"formula {formula.group(0)!r} does not use stride {old_stride}"

    # Move the slider one step to the right with the keyboard, like a student who clicked the handle.
    handle.focus()
    page.keyboard.press("ArrowRight")
    new_stride = str(old_stride + 1)

    def updated():
        now = state()
        done = (now["stride"] == new_stride and now["src"] != before["src"] and now["loaded"]
                and now["text"] != before["text"] and f"/ {new_stride})" in now["text"])
        return now if done else None

    after = _wait(updated, ROUND_TRIP_TIMEOUT, lambda: (
        f"after moving the {SLIDER_DESCRIPTION!r} slider from {old_stride} to {new_stride}, the explorer did not "
        f"update within {ROUND_TRIP_TIMEOUT} s: before {before}, now {state()}"))
    times["slider round trip"] = time.monotonic() - t0
    n, p, k, s, out = map(int, FORMULA.search(after["text"]).groups())
    assert s == int(new_stride), after["text"]
    assert out == (n + 2 * p - k) // s + 1, f"the formula's result is wrong: {after['text']!r}"
    print(f"explorer formula before: {formula.group(0)}; after: {FORMULA.search(after['text']).group(0)}")
    explorer.scroll_into_view_if_needed()


# --- Stored outputs before any cell runs (make lab after make trust) -----------------------------------------

STORED_EXPLORER = ROOT / "notebooks" / "02_convolution.ipynb"
STORED_PROGRESS = ROOT / "notebooks" / "10_full_mnist.ipynb"
UNTRUSTED_COPY = "02_convolution_untrusted_copy.ipynb"


def _untrusted_copy() -> str:
    """Notebook 02 with one metadata field more: the same outputs, but contents nobody has trusted."""
    nb = json.loads(STORED_EXPLORER.read_text())
    nb["metadata"]["cnnlib_browser_test"] = "an untrusted copy"
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def trusted_lab(chromium_path):
    for notebook in (STORED_EXPLORER, STORED_PROGRESS):
        if not notebook.is_file():
            pytest.fail(f"notebook under test not found: {notebook}")
    server = Lab([STORED_EXPLORER, STORED_PROGRESS], trust=True, extra={UNTRUSTED_COPY: _untrusted_copy()})
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


JS_OPENED = """(name) => {
  const w = window.jupyterapp && window.jupyterapp.shell && window.jupyterapp.shell.currentWidget;
  return !!w && !!w.context && w.context.path === name && w.context.isReady && !!w.content
    && w.content.widgets.length > 0;
}"""

# What the stored outputs of the open notebook look like, without running anything.
JS_STORED = """(explorerClass) => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = Array.from(w.content.model.cells);
  const code = cells.filter((c) => c.type === 'code');
  const node = w.content.node;
  const images = Array.from(node.querySelectorAll('.' + explorerClass + ' img'));
  const bars = Array.from(node.querySelectorAll('.widget-hprogress, .widget-vprogress')).map((el) => {
    const outer = el.querySelector('.progress'), bar = el.querySelector('.progress-bar');
    return {width: bar ? bar.style.width : null,
            ratio: outer && bar && outer.offsetWidth ? bar.offsetWidth / outer.offsetWidth : null};
  });
  return {
    trusted: code.filter((c) => c.trusted).length,
    code: code.length,
    explorers: node.querySelectorAll('.' + explorerClass).length,
    images: images.length,
    imagesLoaded: images.filter((img) => img.complete && img.naturalWidth > 0).length,
    bars: bars,
    text: node.innerText,
    widgetErrors: node.querySelectorAll('.jupyter-widgets-error-widget, .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]').length,
  };
}"""


def _stored_full_progress_bars(notebook: Path) -> int:
    """How many progress bars notebook 10 stores full (value = max) in its saved widget state."""
    state = json.loads(notebook.read_text())["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]
    return sum(1 for m in state["state"].values()
               if m["model_name"] in ("FloatProgressModel", "IntProgressModel")
               and m["state"].get("value") == m["state"].get("max"))


def _open_stored(page, lab: Lab, name: str, ready, what: str, timeout: float = 60) -> dict:
    page.goto(f"{lab.url}/lab/tree/{name}?token={lab.token}")
    try:
        page.wait_for_function(JS_OPENED, arg=name, timeout=KERNEL_TIMEOUT * 1000)
    except Exception:
        pytest.fail(f"{name} did not open within {KERNEL_TIMEOUT} s. JupyterLab's log:\n{lab.log()}")
    page.evaluate("() => window.jupyterapp.shell.leftCollapsed || "
                  "window.jupyterapp.commands.execute('application:toggle-left-area')")
    return _wait(lambda: (lambda st: st if ready(st) else None)(page.evaluate(JS_STORED, EXPLORER_CLASS)), timeout,
                 lambda: f"{name}, opened and not run: {what}; found {_summary(page.evaluate(JS_STORED, EXPLORER_CLASS))}")


def _summary(st: dict) -> dict:
    return {k: v for k, v in st.items() if k != "text"} | {"text (start)": st["text"][:300]}


@pytest.mark.browser
@pytest.mark.slow
def test_stored_pictures_and_progress_bars_show_before_any_cell_runs(page, trusted_lab, capsys):
    lab = trusted_lab
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shown = []
    try:
        # Notebook 02: its convolution explorer as the stored picture, not "ConvolutionExplorer(...)" as text.
        st = _open_stored(page, lab, STORED_EXPLORER.name, lambda st: st["imagesLoaded"] >= 1,
                          "the convolution explorer's stored picture (an <img> in the explorer) did not show")
        assert st["trusted"] == st["code"], f"not every code cell of {STORED_EXPLORER.name} is trusted: {_summary(st)}"
        assert st["explorers"] >= 1 and st["images"] >= 1
        page.locator(f".{EXPLORER_CLASS}").first.scroll_into_view_if_needed()
        _screenshot(page, f"{STORED_EXPLORER.stem}-stored.png")
        shown.append(f"{STORED_EXPLORER.name}: explorer picture shown")

        # Notebook 10: every stored training progress bar at 100%, none at 0%.
        full = _stored_full_progress_bars(STORED_PROGRESS)
        assert full >= 1, f"{STORED_PROGRESS.name} stores no full progress bar in its widget state"
        st = _open_stored(page, lab, STORED_PROGRESS.name, lambda st: len(st["bars"]) >= full,
                          f"its {full} stored progress bars did not show")
        assert st["trusted"] == st["code"], f"not every code cell of {STORED_PROGRESS.name} is trusted"
        not_full = [b for b in st["bars"] if b["width"] != "100%" or not b["ratio"] or b["ratio"] < 0.99]
        assert not not_full, f"progress bars of {STORED_PROGRESS.name} not full: {not_full}"
        assert st["text"].count("100%") >= full, "the bars' labels do not say 100%"
        assert "0%|" not in st["text"], "a progress bar is shown as text at 0%"
        page.locator(".widget-hprogress").first.scroll_into_view_if_needed()
        _screenshot(page, f"{STORED_PROGRESS.stem}-stored.png")
        shown.append(f"{STORED_PROGRESS.name}: {len(st['bars'])} progress bars at 100%")

        # The control: a copy nobody trusted shows the explorer as one line of text, without its picture.
        st = _open_stored(page, lab, UNTRUSTED_COPY, lambda st: "ConvolutionExplorer(" in st["text"],
                          "the untrusted copy does not show the explorer's text form")
        assert st["trusted"] < st["code"] and st["images"] == 0, (
            f"an untrusted copy shows the explorer's picture: trust is not what this test checks ({_summary(st)})")
        shown.append("an untrusted copy: text only")
    except BaseException:
        try:
            _screenshot(page, "stored-outputs-failure.png")
        except Exception:  # the page may be gone; the original failure matters more
            pass
        raise
    with capsys.disabled():
        print(f"\nbrowser test (stored outputs, no cell run): {'; '.join(shown)}; "
              f"screenshots in {SCREENSHOT_DIR.relative_to(ROOT)}")
