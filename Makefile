# The two commands of the README's quick start:
#   make lab   - set everything up, then open the course in JupyterLab
#                (notebooks/ and exercises/ are both in its file browser)
#   make test  - set everything up, then run every check
#   make browser-setup - also install Debian's chromium (needs root or sudo) for the browser test;
#                without a Chromium make test reports that test as skipped. .ci/run runs it before make test.
# make test installs Playwright (the optional extra "browser", from PyPI) itself.
# Both create a virtual environment in .venv (override with VENV=...) and install
# the course into it; the install is redone only when pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.installed-browser
# The Chromium the browser test drives (tests/test_browser.py also looks for chromium on the PATH).
CHROMIUM ?= /usr/bin/chromium
# JupyterLab refuses to start as root (containers, CI) unless told it may.
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)
# Extra pytest arguments, e.g. make test PYTEST_ARGS="-k conv -x"
PYTEST_ARGS ?=
# nbval checks every notebook in notebooks/ cell by cell against its stored outputs
# (strict mode), in this environment, after masking what varies between runs.
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg --durations=10

.PHONY: lab test setup browser-setup train clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

setup: $(STAMP)

# Playwright from PyPI drives Debian's chromium package; Playwright's own browser download is never used.
$(BROWSER_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[browser]'
	@touch $(BROWSER_STAMP)

browser-setup: $(BROWSER_STAMP)
	@if [ -n "$$CNNLIB_CHROMIUM" ]; then \
	    echo "browser-setup: using CNNLIB_CHROMIUM=$$CNNLIB_CHROMIUM"; \
	elif [ -x $(CHROMIUM) ]; then \
	    echo "browser-setup: $(CHROMIUM) is installed"; \
	elif ! command -v apt-get >/dev/null; then \
	    echo "browser-setup: $(CHROMIUM) is missing and there is no apt-get to install Debian's chromium;" \
	         "install Chromium yourself and set CNNLIB_CHROMIUM to its executable" >&2; exit 1; \
	elif [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	elif command -v sudo >/dev/null; then \
	    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
	    echo "browser-setup: $(CHROMIUM) is missing, and installing Debian's chromium needs root;" \
	         "run 'apt-get install chromium' as root (or set CNNLIB_CHROMIUM to a Chromium executable)" >&2; exit 1; \
	fi

lab: setup
	$(BIN)/jupyter lab $(LAB_FLAGS) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/README.md

test: setup $(BROWSER_STAMP)
	$(BIN)/python -m pytest $(NBVAL) $(PYTEST_ARGS)

train: setup
	$(BIN)/python -m cnnlib.train

clean:
	rm -rf $(VENV) .pytest_cache mnist_cnn.npz
