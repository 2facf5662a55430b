"""Figures for the course: small matrices with their numbers, images, feature maps,
filters, learning curves, the confusion matrix and the misclassified digits.

Every function draws one matplotlib figure and returns it, so a notebook can show
it (``fig = plots.show_images(...)`` then ``plt.show()``) and a test can inspect it.

Colours follow one convention in every notebook and explorer: **red is positive**.
Values of either sign are drawn with :data:`SIGNED_CMAP` (ColorBrewer's RdBu reversed:
red positive, blue negative, white zero, limits at plus and minus the largest size);
values that cannot be negative (counts, |gradients|, outputs of ReLU) with
:data:`POSITIVE_CMAP`, the red half of the same map (white zero); pixel images in grey.
Both ColorBrewer maps stay distinct for the common colour-vision deficiencies, and
the one-hue map's lightness grows with the value, so it reads in greyscale too. A
diverging map cannot do that for the sign (plus and minus the same size have the same
lightness), so the course's signed figures also write the numbers or name the sign.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ._validate import image_stack

__all__ = [
    "SIGNED_CMAP",
    "POSITIVE_CMAP",
    "value_colours",
    "frame",
    "show_matrix",
    "show_images",
    "show_feature_maps",
    "show_filters",
    "plot_learning_curves",
    "plot_confusion_matrix",
    "show_misclassified",
]


SIGNED_CMAP = "RdBu_r"
"""Colour map for values of either sign: red positive, blue negative, white zero."""
POSITIVE_CMAP = "Reds"
"""Colour map for values that cannot be negative: white zero, darker red for larger values."""


def value_colours(a: Any) -> dict[str, Any]:
    """The course's colours for the values ``a``: ``imshow`` arguments ``cmap``, ``vmin`` and ``vmax``.

    Parameters
    ----------
    a : array_like
        The values to draw (NaNs are ignored).

    Returns
    -------
    dict
        ``{"cmap": SIGNED_CMAP, "vmin": -m, "vmax": m}`` with ``m`` the largest ``|a|`` when any value is
        negative, else ``{"cmap": POSITIVE_CMAP, "vmin": 0, "vmax": m}``; ``m`` is 1 for an all-zero or
        empty array, so zero is always white.

    Examples
    --------
    >>> value_colours([[1, -3], [2, 0]])
    {'cmap': 'RdBu_r', 'vmin': -3.0, 'vmax': 3.0}
    >>> value_colours([0, 2, 5])
    {'cmap': 'Reds', 'vmin': 0.0, 'vmax': 5.0}
    """
    m = np.asarray(a, dtype=float)
    finite = m[np.isfinite(m)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    top = top or 1.0
    if finite.size and finite.min() < 0:
        return {"cmap": SIGNED_CMAP, "vmin": -top, "vmax": top}
    return {"cmap": POSITIVE_CMAP, "vmin": 0.0, "vmax": top}


def frame(ax: Any, row: float, col: float, height: float, width: float, *, dashed: bool = False) -> None:
    """Frame the cells ``row``.. and ``col``.. of a matrix drawn with ``imshow`` (a window, a chosen cell).

    The frame is black with a white line inside it, so it shows on every colour of the course's maps and
    on grey images alike: white cells and red ones, dark ones and light ones.

    Parameters
    ----------
    ax : matplotlib Axes
        The axes the matrix is drawn in.
    row, col : float
        Top-left cell of the framed block (cell centres are at integer coordinates).
    height, width : float
        Size of the block in cells.
    dashed : bool, default False
        A dashed frame, for a second window beside a solid one.
    """
    from matplotlib.patches import Rectangle

    style = "--" if dashed else "-"
    for colour, line in (("black", 3.5), ("white", 1.2)):
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor=colour,
                               linewidth=line, linestyle=style))


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _grid(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return (n + ncols - 1) // ncols, ncols


def _image_grid(
    arrays: np.ndarray,
    captions: Sequence[str] | None,
    *,
    ncols: int,
    size: float,
    title: str | None,
    caption_size: int,
    fig: Any = None,
    per_image: Sequence[Mapping[str, Any]] | None = None,
    **imshow: Any,
) -> Any:
    """Draw ``arrays`` (K, H, W) in a grid of ``ncols`` columns with optional captions.

    With ``fig`` (a Figure or SubFigure) the grid is drawn into it instead of a new figure.
    ``per_image`` gives each array its own ``imshow`` arguments (over those of ``imshow``).
    """
    rows, cols = _grid(len(arrays), ncols)
    if fig is None:
        row_height = size + (0.3 if captions is not None else 0.0)  # room for each caption
        figsize = (size * cols, row_height * rows + (0.5 if title else 0))
        fig, axes = _plt().subplots(rows, cols, figsize=figsize, squeeze=False)
        own = True
    else:
        axes = fig.subplots(rows, cols, squeeze=False)
        own = False
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(arrays):
            ax.imshow(arrays[k], **{**imshow, **(per_image[k] if per_image is not None else {})})
            if captions is not None:
                ax.set_title(str(captions[k]), fontsize=caption_size)
    if title:
        fig.suptitle(title)
    if own:
        fig.tight_layout()
    return fig


def show_matrix(
    a: Any,
    *,
    title: str | None = None,
    fmt: str = "{:g}",
    cmap: str | None = None,
    highlight: tuple[int, int, int, int] | None = None,
    ax: Any = None,
) -> Any:
    """Draw a small 2-D array as a grid of coloured cells with the numbers written in.

    Parameters
    ----------
    a : array_like, (H, W)
        The matrix, e.g. an image patch, a kernel or a feature map.
    title : str, optional
        Title above the grid.
    fmt : str, default "{:g}"
        Format for the numbers.
    cmap : str, optional
        Matplotlib colour map; by default the course's (:func:`value_colours`): red positive, blue
        negative, white zero.
    highlight : (row, col, height, width), optional
        A block of cells to frame (:func:`frame`: black with a white line inside), e.g. the kernel's
        current window.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    m = np.asarray(a, dtype=float)
    if m.ndim != 2:
        raise ValueError(f"show_matrix: expected a 2-D array, got shape {m.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.55 * m.shape[1] + 1.2, 0.55 * m.shape[0] + 0.9))
    else:
        fig = ax.figure
    if cmap is None:
        colours = value_colours(m)
        ax.imshow(m, **colours)
        # Dark cells (far from zero) get white numbers.
        dark = np.abs(m) > 0.6 * colours["vmax"]
    else:
        ax.imshow(m, cmap=cmap)
        span = np.nanmax(m) - np.nanmin(m) if m.size else 0.0
        dark = (m > np.nanmin(m) + span / 2) if span else np.zeros(m.shape, bool)
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=10,
                color="white" if dark[i, j] else "black")
    ax.set_xticks(range(m.shape[1]))
    ax.set_yticks(range(m.shape[0]))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if highlight is not None:
        frame(ax, *highlight)
    if title:
        ax.set_title(title)
    return fig


def show_images(
    images: Any,
    labels: Sequence[Any] | None = None,
    *,
    ncols: int = 8,
    title: str | None = None,
    cmap: str = "gray",
    size: float = 1.4,
    fig: Any = None,
) -> Any:
    """Show grey-scale images in a grid, each with an optional label.

    Parameters
    ----------
    images : array_like, (N, H, W) or (N, 1, H, W) or (H, W)
        The images.
    labels : sequence, optional
        One caption per image.
    ncols : int, default 8
        Images per row.
    title : str, optional
        Title of the whole figure.
    cmap : str, default "gray"
        Colour map.
    size : float, default 1.4
        Size of one image in inches.
    fig : matplotlib Figure or SubFigure, optional
        Draw into this (empty) figure instead of a new one, e.g. one row of a larger figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    imgs = image_stack(images, "show_images", finite=False)  # NaN pixels are drawn as gaps
    if labels is not None and len(labels) != len(imgs):
        raise ValueError(f"show_images: got {len(imgs)} images but {len(labels)} labels")
    return _image_grid(imgs, labels, ncols=ncols, size=size, title=title, caption_size=9, fig=fig, cmap=cmap)


def show_feature_maps(
    maps: Any,
    *,
    ncols: int = 8,
    title: str | None = None,
    cmap: str | None = None,
    size: float = 1.4,
    fig: Any = None,
) -> Any:
    """Show the channels of one feature map stack, each on its own colour scale.

    Parameters
    ----------
    maps : array_like, (C, H, W) or (1, C, H, W)
        The feature maps of one image (a layer's output for a batch of one).
    ncols : int, default 8
        Maps per row.
    title : str, optional
        Title of the whole figure.
    cmap : str, optional
        Colour map; by default the course's (:func:`value_colours`, per map): red positive, blue
        negative, white zero, so the maps after a ReLU are white where it cut.
    size : float, default 1.4
        Size of one map in inches.
    fig : matplotlib Figure or SubFigure, optional
        Draw into this (empty) figure instead of a new one, e.g. one row of a larger figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    m = np.asarray(maps)
    if m.ndim == 4 and m.shape[0] == 1:
        m = m[0]  # (1, C, H, W) -> (C, H, W)
    if m.ndim != 3:
        raise ValueError(f"show_feature_maps: expected (C, H, W) or (1, C, H, W), got shape {np.shape(maps)}")
    captions = [f"channel {k}" for k in range(len(m))]
    colours = None if cmap is not None else [value_colours(channel) for channel in m]
    return _image_grid(m, captions, ncols=ncols, size=size, title=title, caption_size=8, fig=fig,
                       cmap=cmap, per_image=colours)


def show_filters(
    weight: Any,
    *,
    in_channel: int = 0,
    ncols: int = 8,
    title: str | None = None,
    size: float = 1.2,
    fig: Any = None,
) -> Any:
    """Show a convolution layer's kernels for one input channel.

    Colours are symmetric around zero (red positive, blue negative, white zero),
    on one scale shared by all kernels so their strengths can be compared.

    Parameters
    ----------
    weight : array_like, (out_channels, in_channels, kh, kw)
        Convolution weights in PyTorch's layout.
    in_channel : int, default 0
        Which input channel's kernels to show.
    ncols : int, default 8
        Kernels per row.
    title : str, optional
        Title of the whole figure.
    size : float, default 1.2
        Size of one kernel in inches.
    fig : matplotlib Figure or SubFigure, optional
        Draw into this (empty) figure instead of a new one, e.g. one row of a larger figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    w = np.asarray(weight)
    if w.ndim != 4:
        raise ValueError(f"show_filters: expected weights (out, in, kh, kw), got shape {w.shape}")
    if not 0 <= in_channel < w.shape[1]:
        raise ValueError(f"show_filters: in_channel must be in 0..{w.shape[1] - 1}, got {in_channel}")
    k = w[:, in_channel]  # (out, kh, kw)
    vmax = float(np.abs(k).max()) or 1.0
    captions = [f"filter {i}" for i in range(len(k))]
    return _image_grid(k, captions, ncols=ncols, size=size, title=title, caption_size=8, fig=fig,
                       cmap=SIGNED_CMAP, vmin=-vmax, vmax=vmax)


def plot_learning_curves(history: Any, *, title: str | None = None, axes: Sequence[Any] | None = None) -> Any:
    """Plot loss and accuracy per epoch, for training and (if present) validation.

    Parameters
    ----------
    history : History or mapping
        A :class:`cnnlib.training.History` or a dict with the lists ``loss``,
        ``accuracy`` and optionally ``val_loss``, ``val_accuracy``.
    title : str, optional
        Title of the figure.
    axes : pair of matplotlib Axes, optional
        Draw the loss and the accuracy into these two axes (of one figure)
        instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    h: Mapping[str, Sequence[float]] = history if isinstance(history, Mapping) else history.as_dict()
    if not h.get("loss"):
        raise ValueError("plot_learning_curves: the history has no epochs (empty 'loss')")
    if axes is None:
        fig, (a1, a2) = _plt().subplots(1, 2, figsize=(10, 3.6))
    else:
        if len(axes) != 2:
            raise ValueError(f"plot_learning_curves: axes must be two Axes (loss, accuracy); got {len(axes)}")
        a1, a2 = axes
        fig = a1.figure
    for ax, key, label in ((a1, "loss", "cross-entropy loss"), (a2, "accuracy", "accuracy")):
        epochs = np.arange(1, len(h[key]) + 1)
        ax.plot(epochs, h[key], "o-", label="training")
        if h.get("val_" + key):
            ax.plot(epochs, h["val_" + key], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title(label.capitalize() + " per epoch")
    if title:
        fig.suptitle(title)
    if axes is None:  # a caller that passes its own axes arranges its own figure
        fig.tight_layout()
    return fig


def plot_confusion_matrix(cm: Any, *, class_names: Sequence[str] | None = None, title: str | None = None) -> Any:
    """Draw a confusion matrix with its counts; the diagonal holds the correct predictions.

    Parameters
    ----------
    cm : array_like of int, (K, K)
        Counts, rows are true classes and columns predicted ones
        (see :func:`cnnlib.metrics.confusion_matrix`).
    class_names : sequence of str, optional
        Names of the K classes; default ``0 .. K-1``.
    title : str, optional
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    m = np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square (K, K) matrix, got shape {m.shape}")
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(m))]
    if len(names) != len(m):
        raise ValueError(f"plot_confusion_matrix: {len(m)} classes but {len(names)} class names")
    fig, ax = plt.subplots(figsize=(0.6 * len(m) + 2, 0.6 * len(m) + 1.5))
    # A log-like scale keeps the few mistakes visible next to the large diagonal.
    ax.imshow(np.log1p(m), cmap=POSITIVE_CMAP)
    big = np.log1p(m.max()) / 2 if m.size else 0
    for (i, j), v in np.ndenumerate(m):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if np.log1p(v) > big else "black")
    ax.set_xticks(range(len(m)), names)
    ax.set_yticks(range(len(m)), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or "Confusion matrix")
    fig.tight_layout()
    return fig


def show_misclassified(
    images: Any,
    y_true: Any,
    y_pred: Any,
    *,
    max_images: int = 24,
    ncols: int = 8,
    title: str | None = None,
) -> Any:
    """Show the images whose prediction is wrong, captioned "true -> predicted".

    Parameters
    ----------
    images : array_like, (N, 1, H, W) or (N, H, W)
        All images that were classified.
    y_true, y_pred : array_like of int, (N,)
        True and predicted labels.
    max_images : int, default 24
        Show at most this many (the first ones in order).
    ncols : int, default 8
        Images per row.
    title : str, optional
        Title; by default it says how many were wrong.

    Returns
    -------
    matplotlib.figure.Figure
    """
    imgs = image_stack(images, "show_misclassified", finite=False)  # NaN pixels are drawn as gaps
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if not (len(imgs) == len(t) == len(p)):
        raise ValueError(f"show_misclassified: {len(imgs)} images, {len(t)} true labels and {len(p)} predictions must match")
    wrong = np.flatnonzero(t != p)
    if wrong.size == 0:
        raise ValueError("show_misclassified: every prediction is correct, nothing to show")
    shown = wrong[:max_images]
    return show_images(
        imgs[shown],
        [f"{t[i]} -> {p[i]}" for i in shown],
        ncols=ncols,
        title=title or f"{wrong.size} of {len(t)} misclassified (true -> predicted), first {len(shown)} shown",
    )
