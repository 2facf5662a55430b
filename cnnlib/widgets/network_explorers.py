"""The explorers of activations, batch normalization and a trained network's inside.

``activation_explorer``, ``batchnorm_explorer`` and ``model_explorer`` make the
widgets; their computations are :func:`~cnnlib.widgets.activation_view`,
:func:`~cnnlib.widgets.batchnorm_view` and :func:`~cnnlib.widgets.model_view`.
Needs ipywidgets.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from .. import plots
from .._validate import class_labels, image_stack, integer
from ..layers import Sequential
from ._base import _STYLE, _Explorer, _int_slider, _row, ipywidgets  # ipywidgets through _base: see there
from ._format import _DOT, _MINUS, _fixed, _html, _short
from .drawing import _figure, _png
from .network_views import _ACTIVATIONS, ActivationView, BatchNormView, ModelView, activation_view, batchnorm_view, model_view, synthetic_batch

__all__ = [
    "ActivationExplorer",
    "activation_explorer",
    "BatchNormExplorer",
    "batchnorm_explorer",
    "ModelExplorer",
    "model_explorer",
]


class ActivationExplorer(_Explorer):
    """Sigmoid, tanh and ReLU with their derivatives over an adjustable range, and their values at a probe point.

    Made by :func:`activation_explorer`.

    Parameters
    ----------
    x_range : (float, float), default (-6.0, 6.0)
        Starting input range (the slider spans -10 to 10).
    x : float, default 1.0
        Starting probe point.

    Attributes
    ----------
    functions : ipywidgets.SelectMultiple
        "functions": which of sigmoid, tanh, ReLU to draw (values ``"sigmoid"``, ``"tanh"``, ``"relu"``).
    x_range : ipywidgets.FloatRangeSlider
        "x range": the inputs drawn.
    x : ipywidgets.FloatSlider
        "x": the probe point (kept inside the range).
    image : ipywidgets.Image
        Two panels: the functions and their derivatives.
    info : ipywidgets.HTML
        f(x) and f'(x) at the probe point, to 4 decimals.
    view : ActivationView or None
        The current computation.
    """

    _css = "cnnlib-activation-explorer"

    def __init__(self, x_range: tuple[float, float] = (-6.0, 6.0), x: float = 1.0) -> None:
        lo, hi = (float(v) for v in x_range)
        if not -10.0 <= lo < hi <= 10.0:
            raise ValueError(f"activation_explorer: x_range must satisfy -10 <= low < high <= 10; got {x_range!r}")
        if not lo <= float(x) <= hi:
            raise ValueError(f"activation_explorer: x must lie in x_range {x_range!r}; got {x!r}")
        super().__init__()
        self.functions = ipywidgets.SelectMultiple(
            options=[(a.label, k) for k, a in _ACTIVATIONS.items()],
            value=tuple(_ACTIVATIONS),
            rows=3,
            description="functions",
            style=_STYLE,
        )
        self.x_range = ipywidgets.FloatRangeSlider(
            value=(lo, hi), min=-10.0, max=10.0, step=0.5, description="x range", style=_STYLE
        )
        self.x = ipywidgets.FloatSlider(value=float(x), min=lo, max=hi, step=0.05, description="x", style=_STYLE)
        controls = [self.functions, self.x_range, self.x]
        self._start([_row(self.functions, ipywidgets.VBox([self.x_range, self.x]))], controls)

    def _refresh(self, change: Any) -> None:
        lo, hi = self.x_range.value
        if self.x.min != lo or self.x.max != hi:
            if lo < hi:  # keep the probe's slider inside the range (min before max, or max before min)
                if lo > self.x.max:
                    self.x.max, self.x.min = hi, lo
                else:
                    self.x.min, self.x.max = lo, hi
        v = activation_view(self.functions.value, (lo, hi), self.x.value)
        self._view = v
        lines = [f"at x = {v.x:.4f}:"]
        for k in v.functions:
            f, d = v.at_x[k]
            name = _ACTIVATIONS[k].label
            lines.append(f"{name}: f(x) = {f:.4f}, f'(x) = {d:.4f}")
        self.info.value = _html([html.escape(line, quote=False) for line in lines])
        self.image.value = self._draw(v)

    @staticmethod
    def _draw(v: ActivationView) -> bytes:
        fig = _figure(11.0, 4.0)
        a1, a2 = fig.subplots(1, 2)
        for k in v.functions:
            name, color = _ACTIVATIONS[k].label, _ACTIVATIONS[k].color
            f, d = v.at_x[k]
            a1.plot(v.xs, v.values[k], color=color, label=name)
            a1.plot([v.x], [f], "o", color=color)
            a2.plot(v.xs, v.derivatives[k], color=color, label=name)
            a2.plot([v.x], [d], "o", color=color)
        for ax, title, ylabel in ((a1, "activation f(x)", "f(x)"), (a2, "derivative f'(x)", "f'(x)")):
            ax.axvline(v.x, color="gray", linestyle="--", linewidth=1)
            ax.axhline(0, color="black", linewidth=0.5)
            ax.set_xlim(v.xs[0], v.xs[-1])
            ax.set_xlabel("x")
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            ax.grid(alpha=0.3)
            ax.legend(loc="upper left")
        fig.tight_layout()
        return _png(fig)

    def __repr__(self) -> str:
        names = [_ACTIVATIONS[k].label for k in self.functions.value]
        lo, hi = self.x_range.value
        return _short(f"ActivationExplorer(functions={names}, x_range=({lo:g}, {hi:g}), x={round(self.x.value, 4):g})")


def activation_explorer(x_range: tuple[float, float] = (-6.0, 6.0), x: float = 1.0) -> ActivationExplorer:
    """Interactive activation functions: sigmoid, tanh and ReLU and their derivatives.

    Parameters
    ----------
    x_range : (float, float), default (-6.0, 6.0)
        Starting input range; the slider spans -10 to 10.
    x : float, default 1.0
        Starting probe point, where f(x) and f'(x) are printed.

    Returns
    -------
    ActivationExplorer
        A widget; end a notebook cell with it to show it.

    Examples
    --------
    >>> ex = activation_explorer()
    >>> ex
    ActivationExplorer(functions=['sigmoid', 'tanh', 'ReLU'], x_range=(-6, 6), x=1)
    >>> round(ex.view.at_x["sigmoid"][1], 4)
    0.1966
    """
    return ActivationExplorer(x_range=x_range, x=x)


class BatchNormExplorer(_Explorer):
    """A batch's per-channel distributions before and after batch normalization.

    Made by :func:`batchnorm_explorer`. ``gamma`` and ``beta`` are one pair
    shared by all channels. The running statistics come from ``steps`` earlier
    training batches (the same batch again, so their approach to the batch's
    statistics is easy to follow, see :func:`batchnorm_view`).

    Parameters
    ----------
    seed : int, default 0
        Seed of the synthetic batch (256 values for each of 3 channels).

    Attributes
    ----------
    gamma, beta : ipywidgets.FloatSlider
        "gamma" (0-3) and "beta" (-3 to 3).
    mode : ipywidgets.ToggleButtons
        "mode": training or inference.
    steps : ipywidgets.IntSlider
        "steps": training batches seen before (0-60), which set the running statistics.
    image : ipywidgets.Image
        Histograms of each channel before and after, on one shared axis.
    info : ipywidgets.HTML
        A table of each channel's mean and standard deviation before and after, and the running statistics.
    view : BatchNormView or None
        The current computation.
    """

    _css = "cnnlib-batchnorm-explorer"

    def __init__(self, seed: int = 0) -> None:
        self._x = synthetic_batch(seed=seed)
        super().__init__()
        self.gamma = ipywidgets.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.05, description="gamma", style=_STYLE)
        self.beta = ipywidgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description="beta", style=_STYLE)
        self.mode = ipywidgets.ToggleButtons(
            options=["training", "inference"], value="training", description="mode", style=_STYLE
        )
        self.steps = _int_slider("steps", 0, 0, 60)
        controls = [self.gamma, self.beta, self.mode, self.steps]
        self._start([_row(self.gamma, self.beta), _row(self.mode, self.steps)], controls)

    def _refresh(self, change: Any) -> None:
        v = batchnorm_view(self._x, self.gamma.value, self.beta.value, self.mode.value == "training", self.steps.value)
        self._view = v
        self.info.value = self._text(v)
        self.image.value = self._draw(v)

    @staticmethod
    def _text(v: BatchNormView) -> str:
        if v.training:
            how = "training mode: each channel is normalised with this batch's own mean and variance"
        else:
            how = (
                f"inference mode: each channel is normalised with the running estimates after {v.steps} "
                "training batch(es)" + (" - still the initial mean 0 and variance 1" if v.steps == 0 else "")
            )
        head = "".join(
            f"<th style='padding: 0 8px'>{h}</th>"
            for h in ("channel", "mean before", "std before", "mean after", "std after", "running mean", "running var")
        )
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td style='padding: 0 8px; text-align: right'>{t}</td>"
                for t in (
                    str(c),
                    _fixed(v.mean_before[c]),
                    _fixed(v.std_before[c]),
                    _fixed(v.mean_after[c]),
                    _fixed(v.std_after[c]),
                    _fixed(v.running_mean[c]),
                    _fixed(v.running_var[c]),
                )
            )
            + "</tr>"
            for c in range(v.x.shape[1])
        )
        formula = f"y = gamma {_DOT} (x {_MINUS} mean) / sqrt(var + eps) + beta, gamma = {v.gamma:.2f}, beta = {v.beta:.2f}"
        return _html([html.escape(formula, quote=False), html.escape(how, quote=False), f"<table><tr>{head}</tr>{rows}</table>"])

    @staticmethod
    def _draw(v: BatchNormView) -> bytes:
        fig = _figure(11.0, 3.8)
        a1, a2 = fig.subplots(1, 2, sharex=True)
        lo = float(min(v.x.min(), v.y.min()))
        hi = float(max(v.x.max(), v.y.max()))
        bins = np.linspace(lo, hi, 61)
        for c in range(v.x.shape[1]):
            color = f"C{c}"
            for ax, data in ((a1, v.x[:, c]), (a2, v.y[:, c])):
                ax.hist(data, bins=bins, color=color, alpha=0.5, histtype="stepfilled", label=f"channel {c}")
        a1.set_title("before: the batch")
        a2.set_title("after batch norm (" + ("batch statistics)" if v.training else f"running statistics, {v.steps} steps)"))
        for ax in (a1, a2):
            ax.set_xlabel("value")
            ax.set_ylabel("count")
            ax.legend(loc="upper right", fontsize=9)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        return _png(fig)

    def __repr__(self) -> str:
        return _short(
            f"BatchNormExplorer(gamma={round(self.gamma.value, 4)}, beta={round(self.beta.value, 4)}, "
            f"mode={self.mode.value!r}, steps={self.steps.value})"
        )


def batchnorm_explorer(seed: int = 0) -> BatchNormExplorer:
    """Interactive batch normalization: gamma, beta, training or inference mode, and the running statistics.

    A synthetic batch (256 values for each of 3 channels, each channel with its
    own mean and spread) is normalised by :class:`cnnlib.BatchNorm1d`; the
    picture shows each channel's histogram before and after, the text each
    channel's mean and standard deviation and the running estimates. In
    inference mode with 0 steps the running estimates are still mean 0 and
    variance 1, so the data is hardly changed: running statistics need training.

    Parameters
    ----------
    seed : int, default 0
        Seed of the synthetic batch.

    Returns
    -------
    BatchNormExplorer
        A widget; end a notebook cell with it to show it.

    Examples
    --------
    >>> ex = batchnorm_explorer()
    >>> ex.mode.value = "inference"
    >>> ex.view.running_mean, ex
    (array([0., 0., 0.]), BatchNormExplorer(gamma=1.0, beta=0.0, mode='inference', steps=0))
    """
    return BatchNormExplorer(seed=seed)


class ModelExplorer(_Explorer):
    """A network's inside for one image: the feature maps of every stage and the predicted probabilities.

    Made by :func:`model_explorer`, which documents the arguments.

    Parameters
    ----------
    model : Sequential
        The network.
    images : array_like, (N, 1, H, W) or (N, H, W)
        The images to choose from.
    labels : array_like of int, optional
        Their true classes.
    max_maps : int, default 8
        Show at most this many channels of each stage.

    Attributes
    ----------
    digit : ipywidgets.IntSlider
        "digit": which image (0 .. N-1).
    image : ipywidgets.Image
        The input and the probabilities, then one row of feature maps per stage (see :class:`ModelView`).
    info : ipywidgets.HTML
        The predicted class and its probability, the true label and whether the prediction is right.
    view : ModelView or None
        The current computation.
    """

    _css = "cnnlib-model-explorer"

    def __init__(self, model: Sequential, images: Any, labels: Any = None, max_maps: int = 8) -> None:
        where = "model_explorer"
        if not isinstance(model, Sequential):
            raise ValueError(f"{where}: model must be a cnnlib Sequential (e.g. cnnlib.mnist_cnn()); got {type(model).__name__}")
        a = np.asarray(images)
        if not (a.ndim == 3 or (a.ndim == 4 and a.shape[1] == 1)) or a.shape[0] == 0:
            raise ValueError(f"{where}: expected images of shape (N, 1, H, W) or (N, H, W) with N >= 1; got shape {a.shape}")
        self._images = image_stack(a, where)
        self._labels = None if labels is None else class_labels(labels, where, n=len(self._images))
        self._max_maps = integer(max_maps, "max_maps", where, 1)
        self._model = model
        first = model_view(model, self._images[0])  # fails here, with a clear message, if the model does not fit the images
        self._n_stages = len(first.stages)
        super().__init__()
        self.digit = _int_slider("digit", 0, 0, len(self._images) - 1)
        self.digit.continuous_update = False  # one redraw (about a second) when the slider is let go, not one per step
        self._start([_row(self.digit)], [self.digit])

    def _refresh(self, change: Any) -> None:
        i = self.digit.value
        label = None if self._labels is None else int(self._labels[i])
        v = model_view(self._model, self._images[i], label)
        self._view = v
        lines = [f"image {i}: predicted <b>{v.predicted}</b> with probability {v.probability:.4f}"]
        if v.label is not None:
            lines.append(f"true label {v.label}: " + ("right" if v.correct else "<b>wrong</b>"))
        self.info.value = _html(lines)
        self.image.value = self._draw(v)

    def _draw(self, v: ModelView) -> bytes:
        k = self._max_maps
        width = max(1.1 * k, 7.0)
        top_h, row_h = 2.6, 1.1 * width / max(k, 6) + 0.45  # a row of maps: their width plus room for the titles
        fig = _figure(width, top_h + row_h * len(v.stages))
        subs = fig.subfigures(1 + len(v.stages), 1, height_ratios=[top_h] + [row_h] * len(v.stages))
        subs = np.atleast_1d(subs)
        a_in, a_p = subs[0].subplots(1, 2, width_ratios=[1, 3])
        subs[0].subplots_adjust(left=0.03, right=0.98, bottom=0.2, top=0.88, wspace=0.25)
        a_in.imshow(v.image, cmap="gray")
        a_in.set_title("input" + (f" (label {v.label})" if v.label is not None else ""), fontsize=10)
        a_in.axis("off")
        classes = np.arange(len(v.probabilities))
        bars = a_p.bar(classes, v.probabilities, color="lightsteelblue")
        bars[v.predicted].set_color("tab:green" if v.correct in (True, None) else "tab:red")
        a_p.set_xticks(classes)
        a_p.set_ylim(0, 1)
        a_p.set_xlabel("class")
        a_p.set_ylabel("probability")
        a_p.set_title(f"softmax probabilities: predicted {v.predicted} ({v.probability:.2f})", fontsize=10)
        for sub, (name, maps) in zip(subs[1:], v.stages):
            shown = maps[:k]
            title = f"{name}: {maps.shape[0]} maps {maps.shape[1]}x{maps.shape[2]}"
            if maps.shape[0] > k:
                title += f" (first {k} shown)"
            plots.show_feature_maps(shown, ncols=k, fig=sub)
            sub.suptitle(title, fontsize=10)
            sub.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.45 / row_h, wspace=0.1)
        return _png(fig)

    def __repr__(self) -> str:
        return _short(
            f"ModelExplorer(digit={self.digit.value}, images={len(self._images)}, "
            f"stages={self._n_stages}, max_maps={self._max_maps})"
        )


def model_explorer(model: Sequential, images: Any, labels: Any = None, max_maps: int = 8) -> ModelExplorer:
    """Look inside a network: choose an image, see every stage's feature maps and the predicted probabilities.

    The model runs in inference mode on a batch of one image. Each stage, that
    is each convolution, pooling and activation layer (any layer that changes the
    feature maps' pictures, see :class:`ModelView`), gives one row of feature maps
    (each map on its own colour scale, see :func:`cnnlib.plots.show_feature_maps`).
    Batch norm and dropout, which would repeat the row before, give none.

    Parameters
    ----------
    model : Sequential
        A cnnlib network ending in class scores, e.g. :func:`cnnlib.mnist_cnn` (trained or not).
    images : array_like, (N, 1, H, W) or (N, H, W)
        The images to choose from (a handful of test digits is plenty).
    labels : array_like of int, optional
        Their true classes, to say whether each prediction is right.
    max_maps : int, default 8
        Show at most this many channels of each stage.

    Returns
    -------
    ModelExplorer
        A widget; end a notebook cell with it to show it.

    Raises
    ------
    ValueError
        If the model is not a Sequential, the images do not have one of the
        shapes above, the labels are not one per image, or the model cannot
        classify the images.
    """
    return ModelExplorer(model, images, labels=labels, max_maps=max_maps)
