"""cnnlib: a small convolutional-network library in plain NumPy, for learning.

Everything a CNN needs is here and tested: convolution, padding, pooling,
activations, batch normalization, softmax cross-entropy, backpropagation,
optimizers, gradient checking, a training loop and an MNIST loader. Layouts and
names follow PyTorch (images ``(N, C, H, W)``, weights ``(out, in, kh, kw)``).

The library is ``functional``, ``layers``, ``losses``, ``optim``, ``gradcheck``,
``training``, ``models``, ``metrics`` and ``data``; every public name of each
(its ``__all__``) is also a name of ``cnnlib`` itself, so ``cnnlib.conv2d`` is
``cnnlib.functional.conv2d``. The course tooling (``cnnlib.plots``,
``cnnlib.widgets``, ``cnnlib.checks``, ``cnnlib.grade``) builds on the library
and is never imported by it.
"""

from __future__ import annotations

import importlib

try:
    import numpy  # noqa: F401
except ImportError as exc:  # a Python without the course's environment
    raise ImportError(
        f"cnnlib needs NumPy, which this Python does not have ({exc}). Use the course's environment: "
        "`make lab` or `make test` creates .venv (then .venv/bin/python), or `conda activate cnn-course`."
    ) from exc

from . import _validate, data, functional, gradcheck, layers, losses, metrics, models, optim, training

__version__ = "0.1.0"

# The library's modules, whose public names (each module's __all__) cnnlib re-exports.
_LIBRARY = (_validate, functional, gradcheck, layers, losses, metrics, models, optim, training, data)

__all__: list[str] = []
for _module in _LIBRARY:
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name

# Course tooling imported on first use: cnnlib.plots needs matplotlib, cnnlib.widgets
# ipywidgets, which would double the time of `import cnnlib`.
_TOOLING = ("plots", "widgets", "checks", "grade")


def __getattr__(name: str):
    if name in _TOOLING:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'cnnlib' has no attribute {name!r}")
