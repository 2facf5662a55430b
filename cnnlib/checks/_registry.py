"""The registry of checks, and which of them a piece of code calls: what the grader needs to know.

:data:`CHECKS` is built from the topic modules' ``__all__``, so a new check is
registered by adding it to its module's ``__all__`` (and a new topic module by
adding it to ``_TOPICS``).
"""

from __future__ import annotations

import ast
import io
import tokenize
from types import ModuleType
from typing import Callable

from . import activations, batchnorm, conv_backward, convolution, mnist, padding, pooling, sizes, softmax
from ._engine import CheckResult

_PREFIX = "check_"

# One module per exercise notebook, in the notebooks' order (01 to 09).
_TOPICS: tuple[ModuleType, ...] = (convolution, sizes, padding, activations, pooling, softmax, batchnorm, conv_backward, mnist)

CHECKS: dict[str, Callable[..., CheckResult]] = {
    name[len(_PREFIX):]: getattr(module, name) for module in _TOPICS for name in module.__all__
}
"""Every check by the name of its exercise (``"relu"`` -> ``check_relu``), in notebook order."""


def find_check_calls(source: str) -> list[str]:
    """The exercises whose check a piece of code calls, in the order the calls appear.

    Only real calls of a registered check count: ``checks.check_relu(relu)``,
    ``check_relu(relu)`` (after ``from cnnlib.checks import check_relu``) or
    ``cnnlib.checks.check_relu(relu)``. A check named in a string, a comment or a
    docstring, a check referred to without calling it, a function defined with a
    check's name and a ``check_...`` that is not in :data:`CHECKS` do not count.

    Code that is not valid Python (a notebook cell with IPython magics, or with a
    syntax error the grader should report) is read token by token instead, which
    also skips strings and comments.

    Parameters
    ----------
    source : str
        Python code, e.g. the source of a notebook cell.

    Returns
    -------
    list of str
        Exercise names, the keys of :data:`CHECKS` (``"relu"`` for a call of
        ``check_relu``), once per call.

    Examples
    --------
    >>> find_check_calls("checks.check_relu(relu)  # then check_tanh(tanh)")
    ['relu']
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return _calls_in_tokens(source)
    calls = []  # (line, column, exercise) of the called name's end: the order in the text
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            exercise = _exercise(name)
            if exercise:
                calls.append((func.end_lineno, func.end_col_offset, exercise))
    return [exercise for *_, exercise in sorted(calls)]


def _exercise(name: str) -> str:
    """The exercise a function name checks, or "" if it is not a registered check."""
    exercise = name[len(_PREFIX):] if name.startswith(_PREFIX) else ""
    return exercise if exercise in CHECKS else ""


def _calls_in_tokens(source: str) -> list[str]:
    """find_check_calls for code that does not parse: a check's name followed by "(" (not after def or class)."""
    tokens: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            tokens.append(token)
    except (tokenize.TokenError, SyntaxError):
        pass  # e.g. a bracket never closed: keep the tokens read so far
    code = [t for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)]
    found = []
    for i, token in enumerate(code[:-1]):
        after_def = i > 0 and code[i - 1].string in ("def", "class")
        if token.type == tokenize.NAME and code[i + 1].string == "(" and not after_def and _exercise(token.string):
            found.append(_exercise(token.string))
    return found
