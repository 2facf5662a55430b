"""pytest settings for validating the course notebooks with nbval.

``make test`` runs ``pytest --nbval`` over this folder.  This file makes a
plain ``pytest --nbval notebooks/`` behave the same way for an instructor:

* the notebooks run in the current Python environment (not whatever kernel
  name is stored in the notebook), so the checked outputs come from the
  installed cnnlib;
* outputs are compared after ``nbval_sanitize.cfg`` has masked what really
  varies between runs (memory addresses, temporary paths, progress-bar rates).

One thing to know when writing a notebook: nbval runs cells without storing
them in IPython's history, so a trailing ``;`` does not hide a cell's result.
Show figures with ``plt.show()`` instead.
"""

from __future__ import annotations

from pathlib import Path

SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")


def pytest_configure(config):
    opt = config.option
    if hasattr(opt, "nbval_sanitize_with") and opt.nbval_sanitize_with is None:
        opt.nbval_sanitize_with = str(SANITIZE)
    if hasattr(opt, "nbval_current_env") and not (opt.nbval_current_env or opt.nbval_kernel_name):
        opt.nbval_current_env = True
