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
"""

from __future__ import annotations

from . import activations, batchnorm, conv_backward, convolution, mnist, padding, pooling, sizes, softmax
from ._engine import _LOG, FAILED, NOT_IMPLEMENTED, PASSED, CaseResult, CheckResult, _log_json  # noqa: F401 - _LOG, _log_json: the grader
from .activations import *  # noqa: F403 - each topic module's __all__ is its checks
from .batchnorm import *  # noqa: F403
from .conv_backward import *  # noqa: F403
from .convolution import *  # noqa: F403
from .mnist import *  # noqa: F403
from .padding import *  # noqa: F403
from .pooling import *  # noqa: F403
from .sizes import *  # noqa: F403
from .softmax import *  # noqa: F403

__all__ = ["PASSED", "FAILED", "NOT_IMPLEMENTED", "CaseResult", "CheckResult"]
# The checks in the order of the exercise notebooks 01..09.
__all__ += convolution.__all__
__all__ += sizes.__all__
__all__ += padding.__all__
__all__ += activations.__all__
__all__ += pooling.__all__
__all__ += softmax.__all__
__all__ += batchnorm.__all__
__all__ += conv_backward.__all__
__all__ += mnist.__all__
