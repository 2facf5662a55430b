"""``LearningCurveMonitor``: learning curves that redraw after every epoch of :func:`cnnlib.fit`.

Pass one as ``fit``'s ``callback``; it keeps what it shows in a
:class:`~cnnlib.widgets.LearningCurveView`. Needs ipywidgets.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .. import plots
from .._validate import integer
from ._base import ipywidgets  # through _base, which says how to install it when it is missing
from ._format import _error_html, _html, _short
from .drawing import _figure, _png
from .network_views import LearningCurveView

__all__ = ["LearningCurveMonitor"]


class LearningCurveMonitor(ipywidgets.VBox):
    """Learning curves that redraw after every epoch: pass it to :func:`cnnlib.fit` as ``callback``.

    ``monitor = widgets.LearningCurveMonitor(epochs=6)``, show it
    (``display(monitor)``), then ``fit(..., epochs=6, callback=monitor)``. After
    each epoch the loss and accuracy curves are redrawn (the x axis always spans
    all planned epochs, so the plot grows) and the text gives the latest numbers.

    Parameters
    ----------
    epochs : int
        The number of epochs the training will run (the width of the x axis).
    title : str, optional
        Title of the figure.

    Attributes
    ----------
    image : ipywidgets.Image
        The learning curves.
    info : ipywidgets.HTML
        "epoch 3/6: loss 0.0412, train acc 98.71 %, validation acc 98.90 %".
    view : LearningCurveView or None
        The history shown so far (None before the first epoch).
    """

    def __init__(self, epochs: int, title: str | None = None) -> None:
        self.epochs = integer(epochs, "epochs", "LearningCurveMonitor", 1)
        self.title = title
        super().__init__()
        self.image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="100%", height="auto"))
        self.info = ipywidgets.HTML(_html([f"waiting for epoch 1/{self.epochs}"]))
        self._view: LearningCurveView | None = None
        self.children = [self.info, self.image]
        self.add_class("cnnlib-learning-curve-monitor")
        self.image.value = self._draw(None)

    @property
    def view(self) -> LearningCurveView | None:
        """The history shown so far, or None before the first epoch."""
        return self._view

    def __call__(self, epoch: int, history: Any) -> None:
        """Redraw after an epoch: ``epoch`` counts from 0 (as :func:`cnnlib.fit` passes it).

        Parameters
        ----------
        epoch : int
            The epoch just finished, 0-based.
        history : History or mapping
            The training history so far (lists ``loss``, ``accuracy`` and
            optionally ``val_loss``, ``val_accuracy``).
        """
        try:
            h = history if isinstance(history, Mapping) else history.as_dict()
            lists = {k: tuple(float(v) for v in h.get(k, ())) for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
            if not lists["loss"] or len(lists["accuracy"]) != len(lists["loss"]):
                raise ValueError("the history has no complete epoch (lists 'loss' and 'accuracy')")
            done = int(epoch) + 1
        except (AttributeError, TypeError, ValueError) as exc:  # never break a training run over a plot
            self.info.value = _error_html(f"LearningCurveMonitor: {exc}")
            return
        self._view = LearningCurveView(epoch=done, epochs=self.epochs, **lists)
        text = f"epoch {done}/{self.epochs}: loss {lists['loss'][-1]:.4f}, train acc {100 * lists['accuracy'][-1]:.2f} %"
        if lists["val_accuracy"]:
            text += f", validation acc {100 * lists['val_accuracy'][-1]:.2f} %"
        self.info.value = _html([text])
        self.image.value = self._draw(lists)

    def _draw(self, lists: dict[str, tuple[float, ...]] | None) -> bytes:
        fig = _figure(10.0, 3.6)
        a1, a2 = fig.subplots(1, 2)
        n = self.epochs
        if lists is not None:
            plots.plot_learning_curves({k: list(v) for k, v in lists.items()}, axes=(a1, a2), title=self.title)
            n = max(n, len(lists["loss"]))
        else:
            for ax, label in ((a1, "cross-entropy loss"), (a2, "accuracy")):
                ax.set_xlabel("epoch")
                ax.set_ylabel(label)
                ax.set_title(label.capitalize() + " per epoch")
                ax.text(0.5, 0.5, "waiting for the first epoch", ha="center", va="center", transform=ax.transAxes, color="gray")
                ax.set_yticks([])
        for ax in (a1, a2):
            ax.set_xlim(0.5, n + 0.5)
            ax.set_xticks(range(1, n + 1) if n <= 20 else np.linspace(1, n, 10).round().astype(int))
        fig.tight_layout()
        return _png(fig)

    def __repr__(self) -> str:
        done = 0 if self._view is None else self._view.epoch
        state = f"epoch {done}/{self.epochs}" if done else f"waiting for epoch 1/{self.epochs}"
        return _short(f"LearningCurveMonitor(epochs={self.epochs}): {state}")
