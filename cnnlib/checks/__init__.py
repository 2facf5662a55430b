"""Checks for the exercise notebooks: is the function you wrote right, and if not, where not?

Each ``check_*`` function takes a function you wrote (the function itself, not its
result), calls it on several small inputs chosen to catch the mistakes a first
attempt usually makes (stride > 1 together with padding, non-square inputs,
overlapping pooling windows, windows where every value is negative, very large
logits, ...) and compares each answer with cnnlib's tested reference
implementation. Backward passes are also compared with finite differences.

The check prints what it found and returns a :class:`CheckResult`:

- ``passed``: every case matches;
- ``failed``: the first case that went wrong is shown with the expected and the
  received values (rounded) and a hint; an exception raised by your function
  counts as a failure and is shown with the line it came from;
- ``not implemented``: your function still raises ``NotImplementedError`` (the
  stub as handed out).

Use it from a notebook, or from plain Python::

    from cnnlib import checks
    result = checks.check_conv2d(my_conv2d)
    result.status          # "passed", "failed" or "not implemented"

The package: ``_engine`` runs, compares and explains the cases and keeps the result
log; ``convolution``, ``sizes``, ``padding``, ``activations``, ``pooling``,
``softmax``, ``batchnorm``, ``conv_backward`` and ``mnist`` hold the checks of the
exercise notebooks 01 to 09; ``_registry`` collects them into :data:`CHECKS`.

For the grader (``python -m cnnlib.grade``), the public grading interface:

- :data:`CHECKS`: every check, by exercise name (``CHECKS["relu"] is check_relu``);
- :func:`find_check_calls`: the exercises whose checks a cell's code calls;
- :func:`grading_log`, :func:`grading_log_json` and :data:`GRADE_LOG_MARKER`: the
  summaries of the checks run so far in this Python process, which the grader
  prints from inside the notebook's kernel and reads back.
"""

from __future__ import annotations

from ._engine import (
    FAILED,
    GRADE_LOG_MARKER,
    NOT_IMPLEMENTED,
    PASSED,
    CaseResult,
    CheckResult,
    grading_log,
    grading_log_json,
)
from ._registry import _TOPICS, CHECKS, find_check_calls
from .activations import *  # noqa: F403 - each topic module's __all__ lists its checks
from .batchnorm import *  # noqa: F403
from .conv_backward import *  # noqa: F403
from .convolution import *  # noqa: F403
from .mnist import *  # noqa: F403
from .padding import *  # noqa: F403
from .pooling import *  # noqa: F403
from .sizes import *  # noqa: F403
from .softmax import *  # noqa: F403

__all__ = [
    "PASSED",
    "FAILED",
    "NOT_IMPLEMENTED",
    "CaseResult",
    "CheckResult",
    # the checks, in the order of the exercise notebooks 01..09
    *(name for module in _TOPICS for name in module.__all__),
    # the grading interface
    "CHECKS",
    "find_check_calls",
    "GRADE_LOG_MARKER",
    "grading_log",
    "grading_log_json",
]
