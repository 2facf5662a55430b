# The two commands of the README's quick start:
#   make lab   - set everything up, then open the course in JupyterLab
#                (notebooks/ and exercises/ are both in its file browser)
#   make test  - set everything up, then run every check
# Both create a virtual environment in .venv (override with VENV=...) and install
# the course into it; the install is redone only when pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# JupyterLab refuses to start as root (containers, CI) unless told it may.
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)
# Extra pytest arguments, e.g. make test PYTEST_ARGS="-k conv -x"
PYTEST_ARGS ?=
# nbval checks every notebook in notebooks/ cell by cell against its stored outputs
# (strict mode), in this environment, after masking what varies between runs.
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg --durations=10

.PHONY: lab test setup train clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/jupyter lab $(LAB_FLAGS) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/README.md

test: setup
	$(BIN)/python -m pytest $(NBVAL) $(PYTEST_ARGS)

train: setup
	$(BIN)/python -m cnnlib.train

clean:
	rm -rf $(VENV) .pytest_cache mnist_cnn.npz
