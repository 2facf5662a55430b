# The commands of the README's quick start:
#   make lab   - set everything up, copy the course into work/ (your working folder, never overwritten),
#                then open it in JupyterLab with the course's notebooks trusted
#   make test  - set everything up, then run every check
#   make grade NB=exercises/05_pooling.ipynb - grade an exercise notebook (your copy in work/ if you have one)
#   make work  - copy notebooks/ and exercises/ into work/ (files you already have there are kept)
#   make browser-setup - also install Debian's chromium (needs root or sudo) for the browser test;
#                without a Chromium make test reports that test as skipped. .ci/run runs it before make test.
#   make book  - build the course website from the stored notebooks into build/book/html (open index.html)
#   make pdf   - the whole book as one PDF, build/book/cnnlib-course.pdf (prints the website in Chromium)
#   make book-setup - the book's packages: requirements/book.txt (Sphinx, MyST-NB, sphinx-book-theme, pypdf)
#                and tools/book's npm packages (MathJax, the ipywidgets HTML manager); make test runs it
#   make lock  - re-resolve requirements/lock.txt (and browser.txt, book.txt) after a change of pyproject.toml,
#                and requirements/uv.txt from uv.in; make lock UPGRADE=1 moves every pin to the newest release
#                (but uv's: to change uv, edit requirements/uv.in, then make lock)
#   make test-latest - the tests in a throwaway environment of the newest releases (not part of make test)
# Both lab and test create a virtual environment in .venv (override with VENV=...) and install into it the
# exact versions of requirements/lock.txt (hash-checked), then cnnlib itself; the install is redone only when
# the lock or pyproject.toml changes. make test also installs Playwright, from requirements/browser.txt.
# The installer is uv (PyPI's uv, itself hash-checked from requirements/uv.txt, in build/tools); INSTALLER=pip
# uses pip instead, for the same files and hashes.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.installed-browser
LOCK   := requirements/lock.txt
BROWSER_LOCK := requirements/browser.txt
BOOK_STAMP := $(VENV)/.installed-book
BOOK_LOCK := requirements/book.txt
# The website's scripts from the npm registry (exact versions and hashes in tools/book/package-lock.json).
NPM ?= npm
BOOK_NODE := tools/book/node_modules/.package-lock.json
BOOK_OUT := build/book
# The Chromium the browser test drives (tests/test_browser.py also looks for chromium on the PATH).
CHROMIUM ?= /usr/bin/chromium
# JupyterLab refuses to start as root (containers, CI) unless told it may.
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)
# The page make lab opens: the first course notebook, in your working copy.
LAB_START ?= /lab/tree/work/notebooks/01_why_convolutions.ipynb
# The course's own notebooks, trusted by make lab so that their stored widgets, HTML and progress bars show
# before a cell is run. jupyter trust records a signature of each notebook's contents in your Jupyter data
# folder (`jupyter --data-dir`), not in the notebook, so no tracked file changes; your unchanged copies in
# work/ have the same contents and so are trusted too, and JupyterLab signs the notebooks you save.
TRUSTED = $(wildcard notebooks/*.ipynb exercises/*.ipynb exercises/solutions/*.ipynb)
# Extra pytest arguments, e.g. make test PYTEST_ARGS="-k conv -x"
PYTEST_ARGS ?=
# nbval checks every notebook in notebooks/ cell by cell against its stored outputs
# (strict mode), in this environment, after masking what varies between runs. notebooks/conftest.py
# makes it read the kernel's output while a cell runs, so a slow kernel cannot lose any; the timeouts
# are generous for a busy machine (kernel start-up, and a cell: notebook 10 trains for minutes).
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg \
         --nbval-kernel-startup-timeout 180 --nbval-cell-timeout 3600 --durations=10
# make test runs the tests in JOBS processes (pytest-xdist), two by default, one per core of a 2-core machine;
# each uses one BLAS thread (tests/conftest.py). A notebook's cells stay together in one process (loadscope).
# make test JOBS=1 runs everything in this one process.
JOBS ?= 2
PARALLEL = $(if $(filter-out 1,$(JOBS)),-n $(JOBS) --dist loadscope,)
# OpenBLAS's helper threads spin after each matrix product, waiting for the next, for up to 2^28 cycles (about
# 0.1 s) before they sleep: on the very core another program needs. Beside one busy process an epoch of
# python -m cnnlib.train took 2.6-2.9 times as long as alone with 2 threads. Everything make starts (JupyterLab
# and its kernels, make train, make grade, the tests) lets them spin 2^16 cycles (about 25 us) instead: 1.3-1.4
# times as long beside a busy process, about 5% slower alone (README, "On a busy machine"). OpenBLAS reads it
# when NumPy starts; the numbers a run computes do not depend on it. Set it yourself to override it
# (make lab OPENBLAS_THREAD_TIMEOUT=28 is OpenBLAS's default).
OPENBLAS_THREAD_TIMEOUT ?= 16
export OPENBLAS_THREAD_TIMEOUT
# make grade: the notebook(s) to grade, and the grader's options (a score below full is not a make error).
NB ?=
GRADE_FLAGS ?= --exit-zero
# The installer of make setup: uv (from PyPI into build/tools, the version and hashes of requirements/uv.txt)
# installs the hash-checked lock in about 5 s (10 s with uv's own install) where pip takes 35-45 s (2-core
# machine, nothing cached). make setup INSTALLER=pip uses pip, in the environment itself, for the same files
# and hashes; uv does not read pip's configuration (pip.conf, PIP_INDEX_URL), so a package mirror set up for
# pip needs INSTALLER=pip or uv's own settings (UV_INDEX_URL).
INSTALLER ?= uv
# uv trusts the system's certificate store, as pip here does through its configuration: without it, uv
# refuses a network whose proxy presents a company's certificate ("invalid peer certificate: UnknownIssuer").
export UV_SYSTEM_CERTS ?= 1
# Run first in every recipe that calls $(INSTALL): installs uv unless it is there (or INSTALLER=pip).
NEED_UV = if [ "$(INSTALLER)" != pip ]; then $(MAKE) --no-print-directory -q $(UV) || $(MAKE) --no-print-directory $(UV); fi
UV_LOCK := requirements/uv.txt
UV := build/tools/bin/uv
INSTALL = $(if $(filter pip,$(INSTALLER)),$(BIN)/python -m pip install,$(UV) pip install --python $(BIN)/python)
# make lock: uv also resolves pyproject.toml for every platform, Python 3.11 and newer.
LOCK_FLAGS = --universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock' --quiet \
             $(if $(UPGRADE),--upgrade,)
# make test-latest: its throwaway environment.
LATEST ?= build/latest

.PHONY: lab test setup browser-setup book-setup book pdf work trust grade lock test-latest train clean

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version'
	@$(NEED_UV)
	$(PYTHON) -m venv $(if $(filter pip,$(INSTALLER)),,--without-pip) $(VENV)
	$(INSTALL) --quiet --require-hashes -r $(LOCK)
	$(INSTALL) --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

setup: $(STAMP)

# Playwright from PyPI drives Debian's chromium package; Playwright's own browser download is never used.
$(BROWSER_STAMP): $(STAMP) $(BROWSER_LOCK)
	@$(NEED_UV)
	$(INSTALL) --quiet --require-hashes -r $(BROWSER_LOCK)
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

# The book: Sphinx with MyST-NB renders the stored, nbval-validated notebooks without running them
# (tools/book/conf.py); MathJax and the ipywidgets HTML manager are copied into the site from npm.
$(BOOK_STAMP): $(STAMP) $(BOOK_LOCK)
	@$(NEED_UV)
	$(INSTALL) --quiet --require-hashes -r $(BOOK_LOCK)
	@touch $(BOOK_STAMP)

$(BOOK_NODE): tools/book/package.json tools/book/package-lock.json
	@if command -v $(NPM) >/dev/null; then \
	    cd tools/book && $(NPM) ci --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else \
	    echo "book-setup: npm (Node.js) is missing: install Node.js to build the book" \
	         "(make test then skips the book's tests and says why)" >&2; \
	fi

book-setup: $(BOOK_STAMP) $(BOOK_NODE)

book: book-setup
	@test -d tools/book/node_modules/mathjax || { echo "book: run make book-setup with npm installed" >&2; exit 1; }
	rm -rf $(BOOK_OUT)/html
	@start=$$(date +%s); \
	$(BIN)/python -m sphinx -W --keep-going -q -b html -c tools/book -d $(BOOK_OUT)/doctrees . $(BOOK_OUT)/html && \
	echo "book: $(BOOK_OUT)/html/index.html ($$(find $(BOOK_OUT)/html/notebooks $(BOOK_OUT)/html/exercises \
	     $(BOOK_OUT)/html/README.html $(BOOK_OUT)/html/CHANGELOG.html -name '*.html' | wc -l) pages," \
	     "$$(du -sh $(BOOK_OUT)/html | cut -f1), $$(( $$(date +%s) - start )) s)"

pdf: book $(BROWSER_STAMP)
	$(BIN)/python tools/book/pdf.py --site $(BOOK_OUT)/html --out $(BOOK_OUT)/cnnlib-course.pdf

# Your working folder: copies of notebooks/ and exercises/ in work/ (git-ignored), so that `git pull` of course
# updates never meets your own changes. Files already in work/ are kept; make work FORCE=1 replaces them.
work:
	@$(PYTHON) tools/work.py $(if $(FORCE),--force,)

trust:
	@$(BIN)/jupyter trust $(TRUSTED) >/dev/null
	@echo "trust: $(words $(TRUSTED)) course notebooks trusted (signatures in $$($(BIN)/jupyter --data-dir))"

# (trust needs the environment: lab sets it up first; tests/test_browser.py runs make trust with its own BIN.)
lab: setup work trust
	$(BIN)/jupyter lab $(LAB_FLAGS) --ServerApp.root_dir=. --LabApp.default_url=$(LAB_START)

grade: setup
	@if [ -z "$(NB)" ]; then echo "usage: make grade NB=exercises/05_pooling.ipynb (a notebook or a folder)" >&2; exit 2; fi
	@set --; for nb in $(NB); do \
	    if [ -e "work/$$nb" ]; then nb="work/$$nb"; fi; set -- "$$@" "$$nb"; \
	done; \
	echo "$(BIN)/python -m cnnlib.grade $(GRADE_FLAGS) $$*"; \
	$(BIN)/python -m cnnlib.grade $(GRADE_FLAGS) "$$@"

test: setup $(BROWSER_STAMP) book-setup
	$(BIN)/python -m pytest $(NBVAL) $(PARALLEL) $(PYTEST_ARGS)

$(UV): $(UV_LOCK)
	$(PYTHON) -m venv build/tools
	build/tools/bin/python -m pip install --quiet --require-hashes -r $(UV_LOCK)
	@touch $(UV)

lock: $(UV)
	$(UV) pip compile $(LOCK_FLAGS) requirements/uv.in -o $(UV_LOCK)
	$(UV) pip compile $(LOCK_FLAGS) pyproject.toml requirements/build.in -o $(LOCK)
	$(UV) pip compile $(LOCK_FLAGS) --extra browser -c $(LOCK) pyproject.toml requirements/build.in -o $(BROWSER_LOCK)
	$(UV) pip compile $(LOCK_FLAGS) --extra book -c $(LOCK) pyproject.toml requirements/build.in -o $(BOOK_LOCK)
	$(PYTHON) tools/lockfile.py sync-environment

# The newest releases that pyproject.toml allows, in a throwaway environment, then the same tests as make test.
# Not part of make test: it shows drift (a new NumPy, Matplotlib, ipywidgets or JupyterLab) before a fresh
# install meets it. Then `make lock UPGRADE=1` moves the lock when the course is ready for them.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip setuptools
	$(LATEST)/bin/python -m pip install --quiet --upgrade -e '.[browser,book]'
	$(LATEST)/bin/python tools/lockfile.py drift
	$(LATEST)/bin/python -m pytest -p no:cacheprovider $(NBVAL) $(PARALLEL) $(PYTEST_ARGS)

train: setup
	$(BIN)/python -m cnnlib.train

clean:
	rm -rf $(VENV) .pytest_cache mnist_cnn.npz build/tools $(LATEST) $(BOOK_OUT) tools/book/node_modules
