"""Interactive explorers for the course: move a slider, watch the numbers and the picture change.

Each explorer is a small panel of controls (sliders, drop-down lists) above a
picture and a few lines of text. A notebook makes one in one line, for example
``widgets.convolution_explorer()``, and shows it by ending the cell with it.
Every change of a control recomputes the result with :mod:`cnnlib.functional`
or :mod:`cnnlib.layers` and redraws the picture.

The computations behind the explorers are plain functions that return small,
read-only records (``convolution_view``, ``pooling_view``, ``activation_view``,
``batchnorm_view``, ``model_view``); they need no widgets and are what the
tests check. ``LearningCurveMonitor`` redraws the learning curves after each
epoch of :func:`cnnlib.fit`.

Only the explorers and the monitor need ipywidgets: ``import cnnlib.widgets`` and
the ``*_view`` functions work without it, and the explorers are imported on first
use (``widgets.convolution_explorer``), with an ImportError that says how to
install ipywidgets if it is missing.

Every public name is imported from here (``cnnlib.widgets.convolution_view``);
the modules behind them are

- ``views``: convolution and pooling computations, ``parse_kernel``, ``output_size_formula``, ``KERNELS``;
- ``network_views``: activation, batch-norm and whole-network computations, ``synthetic_batch``;
- ``explorers``: the convolution and pooling explorers;
- ``network_explorers``: the activation, batch-norm and model explorers;
- ``monitor``: ``LearningCurveMonitor``;
- ``samples`` (the images offered), ``drawing`` (figures to PNG), ``_format`` (numbers as text),
  ``_base`` (what every explorer shares).
"""

from __future__ import annotations

import importlib
from typing import Any

from . import network_views, views
from .network_views import *  # noqa: F403 - the views need no ipywidgets
from .views import *  # noqa: F403

# The names that need ipywidgets, and the module that defines each; imported on first use.
_NEEDS_IPYWIDGETS = {
    "ConvolutionExplorer": "explorers",
    "convolution_explorer": "explorers",
    "PoolingExplorer": "explorers",
    "pooling_explorer": "explorers",
    "ActivationExplorer": "network_explorers",
    "activation_explorer": "network_explorers",
    "BatchNormExplorer": "network_explorers",
    "batchnorm_explorer": "network_explorers",
    "ModelExplorer": "network_explorers",
    "model_explorer": "network_explorers",
    "LearningCurveMonitor": "monitor",
}

# Every public name: each view module's __all__, then the explorers (one list each, nothing written twice).
__all__ = [*views.__all__, *network_views.__all__, *_NEEDS_IPYWIDGETS]


def __getattr__(name: str) -> Any:
    """Import an explorer (and with it ipywidgets) the first time it is asked for.

    Parameters
    ----------
    name : str
        The attribute asked for, e.g. ``"convolution_explorer"``.

    Returns
    -------
    Any
        The explorer class or function.

    Raises
    ------
    ImportError
        If ipywidgets cannot be imported; the message says how to install it.
    AttributeError
        For any other unknown name.
    """
    module = _NEEDS_IPYWIDGETS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next look-up finds it directly
    return value


def __dir__() -> list[str]:
    """The module's names, including the explorers not imported yet."""
    return sorted(set(globals()) | set(_NEEDS_IPYWIDGETS))
