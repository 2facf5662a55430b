"""What every explorer shares: the widget layout, slider helpers, and how a change of a control is handled.

An explorer is an ``ipywidgets.VBox``: rows of controls, a picture (``image``)
and text (``info``). :class:`_Explorer` wires the controls to ``_refresh`` and
turns a ValueError from an invalid setting into a message under the picture.
This is the one module that imports ipywidgets (the explorers and the monitor
import it from here): without ipywidgets it raises an ImportError that says how
to install it, while the views of the package keep working.
"""

from __future__ import annotations

from typing import Any, Sequence

try:
    import ipywidgets
except ImportError as exc:  # the views work without ipywidgets; the explorers cannot
    raise ImportError(
        f"cnnlib's interactive explorers need ipywidgets, which cannot be imported ({exc}). "
        "Install it with `pip install ipywidgets`, or use the course's environment: "
        "`make lab` or `make test` installs it."
    ) from exc

from ._format import _error_html


_STYLE = {"description_width": "initial"}


def _int_slider(description: str, value: int, lo: int, hi: int) -> ipywidgets.IntSlider:
    """An integer slider with its description in full (not cut to the default width)."""
    return ipywidgets.IntSlider(value=value, min=lo, max=hi, description=description, style=_STYLE)


def _row(*controls: ipywidgets.Widget) -> ipywidgets.HBox:
    """Controls side by side, wrapping onto a new line when the notebook is narrow."""
    return ipywidgets.HBox(list(controls), layout=ipywidgets.Layout(flex_flow="row wrap"))


def _set_max(slider: ipywidgets.IntSlider, hi: int) -> None:
    """Change a slider's maximum (its value is clamped into range by ipywidgets)."""
    if slider.max != hi:
        slider.max = hi


class _Explorer(ipywidgets.VBox):
    """Shared machinery: a row of controls, a picture (``image``) and text (``info``).

    Subclasses build their controls, call :meth:`_start`, and implement
    :meth:`_refresh`, which recomputes and redraws. Invalid settings never raise
    from a callback: ``_refresh`` catches ValueError and shows its message.
    """

    _css = ""

    def __init__(self) -> None:
        super().__init__()
        self.image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="100%", height="auto"))
        self.info = ipywidgets.HTML()
        self._view: Any = None
        self._busy = False
        self.add_class(self._css)

    def _start(self, rows: Sequence[ipywidgets.Widget], controls: Sequence[ipywidgets.Widget]) -> None:
        self.children = [*rows, self.image, self.info]
        for c in controls:
            c.observe(self._on_change, names="value")
        self._on_change(None)

    def _on_change(self, change: Any) -> None:
        if self._busy:  # a change made by _refresh itself (e.g. a slider clamped to a new maximum)
            return
        self._busy = True
        try:
            try:
                self._refresh(change)
            except ValueError as exc:
                self._view = None
                self.info.value = _error_html(str(exc))
                self._draw_fallback()
        finally:
            self._busy = False

    def _refresh(self, change: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _draw_fallback(self) -> None:
        """What the picture shows when the settings are invalid (default: leave it as it was)."""

    @property
    def view(self) -> Any:
        """The current computed state (a frozen dataclass), or None while the settings are invalid."""
        return self._view
