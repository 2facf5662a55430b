"""Numbers, formulas and short texts as the explorers write them.

Plain string helpers shared by the views (the output-size formula) and the
explorers (their text under the picture, their ``repr``): integers without a
decimal point, the typographic minus and multiplication dot, HTML lines, and
reprs cut to what ipywidgets keeps.
"""

from __future__ import annotations

import html
from typing import Sequence

import numpy as np

_MAX_REPR = 100  # ipywidgets cuts the text/plain of a widget at 110 characters
_MINUS = "\u2212"  # the minus sign of the formulas
_DOT = "\u00b7"  # the multiplication dot of the formulas


def _num(v: float) -> str:
    """A number as short text: integers without a decimal point, others with at most 4 decimals."""
    v = float(v)
    if v.is_integer() and abs(v) < 1e9:
        return str(int(v))
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _fixed(v: float, decimals: int = 4) -> str:
    """A number with a fixed number of decimals, never "-0.0000"."""
    text = f"{float(v):.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _factor(v: float) -> str:
    """A number inside a product: negative ones in parentheses."""
    text = _num(v)
    return f"({text})" if text.startswith("-") else text


def _html(lines: Sequence[str]) -> str:
    """Lines of text (HTML allowed) joined by ``<br>`` in the explorers' monospace block."""
    body = "<br>".join(lines)
    return f'<div style="font-family: var(--jp-code-font-family, monospace); line-height: 1.6">{body}</div>'


def _error_html(message: str) -> str:
    """The message of an invalid setting, escaped, in red."""
    text = html.escape(message, quote=False)
    return f'<div style="color: #b00020; line-height: 1.6"><b>Cannot show this setting:</b> {text}</div>'


def _short(text: str) -> str:
    """A repr cut to ``_MAX_REPR`` characters, with an ellipsis (ipywidgets would cut it silently)."""
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 1] + "\u2026"


def _shape(a: np.ndarray) -> str:
    """An array's shape as text, e.g. ``"9x12"``."""
    return "x".join(str(d) for d in a.shape)
