"""pytest settings for validating the course notebooks with nbval.

``make test`` runs ``pytest --nbval`` over this folder.  This file makes a
plain ``pytest --nbval notebooks/`` behave the same way for an instructor:

* the notebooks run in the current Python environment (not whatever kernel
  name is stored in the notebook), so the checked outputs come from the
  installed cnnlib;
* outputs are compared after ``nbval_sanitize.cfg`` has masked what really
  varies between runs (memory addresses, temporary paths, progress-bar rates).
"""

from __future__ import annotations

import os
from pathlib import Path

SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")


def pytest_configure(config):
    opt = config.option
    if hasattr(opt, "nbval_sanitize_with") and opt.nbval_sanitize_with is None:
        opt.nbval_sanitize_with = str(SANITIZE)
    if hasattr(opt, "nbval_current_env") and not (opt.nbval_current_env or opt.nbval_kernel_name):
        opt.nbval_current_env = True
    # Kernels inherit the environment: draw figures inline without a display,
    # and keep the number of BLAS threads what the machine has (2 in CI).
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
