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

from .explorers import ConvolutionExplorer, PoolingExplorer, convolution_explorer, pooling_explorer
from .monitor import LearningCurveMonitor
from .network_explorers import (
    ActivationExplorer,
    BatchNormExplorer,
    ModelExplorer,
    activation_explorer,
    batchnorm_explorer,
    model_explorer,
)
from .network_views import (
    ActivationView,
    BatchNormView,
    LearningCurveView,
    ModelView,
    activation_view,
    batchnorm_view,
    model_view,
    synthetic_batch,
)
from .views import KERNELS, ConvolutionView, PoolingView, convolution_view, output_size_formula, parse_kernel, pooling_view

__all__ = [
    "KERNELS",
    "parse_kernel",
    "output_size_formula",
    "ConvolutionView",
    "convolution_view",
    "PoolingView",
    "pooling_view",
    "ActivationView",
    "activation_view",
    "synthetic_batch",
    "BatchNormView",
    "batchnorm_view",
    "ModelView",
    "model_view",
    "LearningCurveView",
    "ConvolutionExplorer",
    "convolution_explorer",
    "PoolingExplorer",
    "pooling_explorer",
    "ActivationExplorer",
    "activation_explorer",
    "BatchNormExplorer",
    "batchnorm_explorer",
    "ModelExplorer",
    "model_explorer",
    "LearningCurveMonitor",
]

