"""cnnlib: a small convolutional-network library in plain NumPy, for learning.

Everything a CNN needs is here and tested: convolution, padding, pooling,
activations, batch normalization, softmax cross-entropy, backpropagation,
optimizers, gradient checking, a training loop and an MNIST loader. Layouts and
names follow PyTorch (images ``(N, C, H, W)``, weights ``(out, in, kh, kw)``).
"""

from __future__ import annotations

from ._validate import NonFiniteError
from .functional import (
    avg_pool2d,
    avg_pool2d_backward,
    conv1d,
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_naive,
    conv_output_size,
    flatten,
    log_softmax,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_backward_naive,
    max_pool2d_naive,
    pad2d,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from .gradcheck import GradcheckResult, gradcheck, numerical_gradient, relative_error
from .layers import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Layer,
    Linear,
    MaxPool2d,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from .losses import CrossEntropyLoss, one_hot
from .metrics import accuracy, confusion_matrix
from .models import mnist_cnn
from .optim import SGD, Adam, Optimizer
from .training import Evaluation, History, TrainingDivergedError, evaluate, fit, load, predict, save
from . import metrics, plots  # noqa: E402 - submodules: cnnlib.plots.show_images(...)


def load_mnist(*args, **kwargs):  # noqa: D103 - documented in cnnlib.data.load_mnist
    from .data import load_mnist as _load

    return _load(*args, **kwargs)


load_mnist.__doc__ = "Load MNIST; see :func:`cnnlib.data.load_mnist`."


def __getattr__(name: str):
    # cnnlib.widgets (the interactive explorers) needs ipywidgets, which would double the
    # time of `import cnnlib`; it is imported on first use instead: cnnlib.widgets.convolution_explorer().
    if name == "widgets":
        import importlib

        return importlib.import_module(".widgets", __name__)
    raise AttributeError(f"module 'cnnlib' has no attribute {name!r}")

__version__ = "0.1.0"

__all__ = [
    "NonFiniteError",
    "avg_pool2d", "avg_pool2d_backward", "conv1d", "conv2d", "conv2d_backward", "conv2d_backward_naive",
    "conv2d_naive", "conv_output_size", "flatten", "log_softmax", "max_pool2d", "max_pool2d_backward",
    "max_pool2d_backward_naive", "max_pool2d_naive", "pad2d", "relu", "sigmoid", "softmax", "tanh",
    "GradcheckResult", "gradcheck", "numerical_gradient", "relative_error",
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Flatten", "Layer", "Linear",
    "MaxPool2d", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh",
    "CrossEntropyLoss", "one_hot", "mnist_cnn", "SGD", "Adam", "Optimizer",
    "Evaluation", "History", "TrainingDivergedError", "evaluate", "fit", "load", "predict", "save",
    "load_mnist", "accuracy", "confusion_matrix",
]
