"""Drawing for the explorers: matplotlib figures that never enter pyplot, turned into PNG bytes.

An explorer draws into a :class:`matplotlib.figure.Figure` of its own (so no
figure is left behind for a notebook to show a second time) at a fixed
resolution, and keeps the PNG. The helpers outline a window, shade cells, and
show a matrix with its numbers when it is small.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .. import plots

_DPI = 72  # fixed, so that the pictures have the same size everywhere
_NUMBERS_UP_TO = 10  # write the numbers into the cells of matrices up to this many rows and columns


def _figure(width: float, height: float) -> Any:
    """A figure of ``width`` x ``height`` inches at the fixed resolution, outside pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=_DPI)  # not registered with pyplot: nothing to close, nothing leaks


def _png(fig: Any) -> bytes:
    """The figure as PNG bytes, without the matplotlib version in the metadata (same bytes everywhere)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def _outline(ax: Any, top: float, left: float, height: float, width: float, **style: Any) -> None:
    """Outline the cells rows ``top``.. and columns ``left``.. of a matrix drawn with imshow.

    Without ``style``: the course's frame (:func:`cnnlib.plots.frame`, black with a white line inside);
    with it, a plain rectangle of that style (a dashed padding border, the other pooling windows).
    """
    from matplotlib.patches import Rectangle

    if not style:
        plots.frame(ax, top, left, height, width)
        return
    style = {"fill": False, "linewidth": 3, **style}
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, **style))


def _shade(ax: Any, mask: np.ndarray, rgba: tuple[float, float, float, float]) -> None:
    """Paint the cells where ``mask`` is True with a translucent colour."""
    if mask.any():
        layer = np.zeros((*mask.shape, 4))
        layer[mask] = rgba
        ax.imshow(layer, interpolation="nearest")


def _matrix_panel(ax: Any, a: np.ndarray, title: str, *, cmap: str = "gray", values: bool = False) -> None:
    """A matrix with its numbers when it is small (plots.show_matrix), as an image otherwise."""
    if max(a.shape) <= _NUMBERS_UP_TO:
        plots.show_matrix(a, ax=ax, fmt="{:.3g}")  # the course's colours: red positive, blue negative
    else:
        # values (a layer's output): the course's colours, red positive; else a picture in ``cmap``
        colours = plots.value_colours(a) if values else {"cmap": cmap}
        ax.imshow(a, **colours, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title(title, fontsize=11)
