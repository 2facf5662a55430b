"""One row per layer: the table that drives the generic layer tests.

``tests/test_layer_table.py`` runs every row through the same tests: a gradient
check in float64 with a random upstream gradient (training and inference mode),
bad input (NaN, strings, a wrong number of dimensions, a wrong ``dy``, backward
before forward), the functional version (and the loop version where there is
one), the training runner and, where PyTorch is installed, PyTorch's own layer.

Adding a layer to cnnlib is its function in ``functional.py``, its class in
``layers.py``, and one row here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import cnnlib as c
import cnnlib.functional as F


@dataclass(frozen=True)
class LayerCase:
    """How to test one layer.

    Attributes
    ----------
    id : str
        Test id (the class name, plus what is special about this configuration).
    make : callable
        ``make()`` returns a fresh, seeded layer (float32, as users build them).
    input_shape : tuple of int
        A valid input shape; odd and non-square where the layer allows.
    has_params : bool
        The layer learns arrays (``params`` is not empty).
    random : bool
        Its training-mode forward draws random numbers (dropout).
    bad_ndim : tuple of int, optional
        An input shape with a wrong number of dimensions, rejected by ``forward``; None when any shape goes.
    reference : callable, optional
        ``reference(layer, x)``: the output computed another way (the functional version, or its loop version).
    reference_backward : callable, optional
        ``reference_backward(layer, x, dy)``: dx computed another way.
    torch : callable, optional
        ``torch(layer)``: PyTorch's module with the same weights (float64), for the optional oracle.
    """

    id: str
    make: Callable[[], c.Layer]
    input_shape: tuple[int, ...]
    has_params: bool = False
    random: bool = False
    bad_ndim: tuple[int, ...] | None = None
    reference: Callable[[Any, np.ndarray], np.ndarray] | None = None
    reference_backward: Callable[[Any, np.ndarray, np.ndarray], np.ndarray] | None = None
    torch: Callable[[Any], Any] | None = field(default=None, compare=False)


def _copy_weights(module: Any, layer: c.Layer, names: dict[str, str]) -> Any:
    import torch

    with torch.no_grad():
        for ours, theirs in names.items():
            getattr(module, theirs).copy_(torch.tensor(np.asarray(layer.params[ours], dtype=np.float64)))
    return module.double()


def _torch_conv(layer: c.Conv2d) -> Any:
    import torch

    m = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride, padding=layer.padding,
                        padding_mode="replicate" if layer.pad_mode == "edge" else "zeros")
    return _copy_weights(m, layer, {"W": "weight", "b": "bias"})


def _torch_linear(layer: c.Linear) -> Any:
    import torch

    return _copy_weights(torch.nn.Linear(layer.in_features, layer.out_features), layer, {"W": "weight", "b": "bias"})


def _torch_bn(cls_name: str) -> Callable[[Any], Any]:
    def make(layer: Any) -> Any:
        import torch

        m = getattr(torch.nn, cls_name)(layer.num_features, eps=layer.eps, momentum=layer.momentum)
        return _copy_weights(m, layer, {"gamma": "weight", "beta": "bias"})

    return make


def _torch_simple(name: str, **kwargs: Any) -> Callable[[Any], Any]:
    def make(layer: Any) -> Any:
        import torch

        args = {k: (v(layer) if callable(v) else v) for k, v in kwargs.items()}
        return getattr(torch.nn, name)(**args).double()

    return make


def _torch_global_avg_pool(layer: Any) -> Any:
    import torch

    return torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).double()


def _conv_args(layer: c.Conv2d) -> dict[str, Any]:
    return dict(stride=layer.stride, padding=layer.padding, pad_mode=layer.pad_mode)


def _pool_args(layer: Any) -> dict[str, Any]:
    return dict(stride=layer.stride, padding=layer.padding)


LAYERS: list[LayerCase] = [
    LayerCase(
        "Conv2d-stride2-pad1", lambda: c.Conv2d(3, 4, (3, 2), stride=2, padding=1, seed=0), (2, 3, 7, 6),
        has_params=True, bad_ndim=(3, 7, 6),
        reference=lambda L, x: F.conv2d_naive(x, L.params["W"], L.params["b"], **_conv_args(L)),
        reference_backward=lambda L, x, dy: F.conv2d_backward_naive(dy, x, L.params["W"], **_conv_args(L))[0],
        torch=_torch_conv,
    ),
    LayerCase(
        "Conv2d-same", lambda: c.Conv2d(2, 3, 3, padding="same", seed=1), (1, 2, 5, 4),
        has_params=True, bad_ndim=(5, 4),
        reference=lambda L, x: F.conv2d_naive(x, L.params["W"], L.params["b"], **_conv_args(L)),
        reference_backward=lambda L, x, dy: F.conv2d_backward_naive(dy, x, L.params["W"], **_conv_args(L))[0],
        torch=_torch_conv,
    ),
    LayerCase(
        "Conv2d-edge", lambda: c.Conv2d(2, 2, 3, padding=1, pad_mode="edge", seed=2), (2, 2, 4, 5),
        has_params=True, bad_ndim=(2, 2, 1, 4, 5),
        reference=lambda L, x: F.conv2d_naive(x, L.params["W"], L.params["b"], **_conv_args(L)),
        reference_backward=lambda L, x, dy: F.conv2d_backward_naive(dy, x, L.params["W"], **_conv_args(L))[0],
        torch=_torch_conv,
    ),
    LayerCase(
        "Linear", lambda: c.Linear(5, 3, seed=0), (4, 5), has_params=True, bad_ndim=(4, 5, 1),
        reference=lambda L, x: x @ L.params["W"].T + L.params["b"],
        reference_backward=lambda L, x, dy: dy @ L.params["W"],
        torch=_torch_linear,
    ),
    LayerCase("BatchNorm1d", lambda: c.BatchNorm1d(3), (5, 3), has_params=True, bad_ndim=(5, 3, 2, 2), torch=_torch_bn("BatchNorm1d")),
    LayerCase("BatchNorm1d-seq", lambda: c.BatchNorm1d(2), (3, 2, 4), has_params=True, bad_ndim=(6,), torch=_torch_bn("BatchNorm1d")),
    LayerCase("BatchNorm2d", lambda: c.BatchNorm2d(3), (2, 3, 5, 4), has_params=True, bad_ndim=(2, 3), torch=_torch_bn("BatchNorm2d")),
    LayerCase(
        "MaxPool2d-tiles", lambda: c.MaxPool2d(2), (2, 3, 7, 6), bad_ndim=(7, 6),
        reference=lambda L, x: F.max_pool2d_naive(x, L.kernel_size, **_pool_args(L)),
        reference_backward=lambda L, x, dy: F.max_pool2d_backward_naive(dy, x, L.kernel_size, **_pool_args(L)),
        torch=_torch_simple("MaxPool2d", kernel_size=lambda L: L.kernel_size, stride=lambda L: L.stride, padding=lambda L: L.padding),
    ),
    LayerCase(
        "MaxPool2d-overlap-pad", lambda: c.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 5), bad_ndim=(2, 7, 5),
        reference=lambda L, x: F.max_pool2d_naive(x, L.kernel_size, **_pool_args(L)),
        reference_backward=lambda L, x, dy: F.max_pool2d_backward_naive(dy, x, L.kernel_size, **_pool_args(L)),
        torch=_torch_simple("MaxPool2d", kernel_size=lambda L: L.kernel_size, stride=lambda L: L.stride, padding=lambda L: L.padding),
    ),
    LayerCase(
        "AvgPool2d", lambda: c.AvgPool2d(2, stride=1, padding=1), (2, 2, 5, 4), bad_ndim=(5, 4),
        reference=lambda L, x: F.avg_pool2d(x, L.kernel_size, **_pool_args(L)),
        reference_backward=lambda L, x, dy: F.avg_pool2d_backward(dy, x, L.kernel_size, **_pool_args(L)),
        torch=_torch_simple("AvgPool2d", kernel_size=lambda L: L.kernel_size, stride=lambda L: L.stride, padding=lambda L: L.padding),
    ),
    LayerCase(
        "GlobalAvgPool2d", lambda: c.GlobalAvgPool2d(), (2, 3, 5, 4), bad_ndim=(3, 5, 4),
        reference=lambda L, x: F.global_avg_pool2d(x),
        reference_backward=lambda L, x, dy: F.global_avg_pool2d_backward(dy, x),
        torch=_torch_global_avg_pool,
    ),
    LayerCase("ReLU", lambda: c.ReLU(), (2, 3, 4, 5), reference=lambda L, x: F.relu(x), torch=_torch_simple("ReLU")),
    LayerCase(
        "LeakyReLU", lambda: c.LeakyReLU(0.1), (3, 7), reference=lambda L, x: F.leaky_relu(x, L.negative_slope),
        torch=_torch_simple("LeakyReLU", negative_slope=lambda L: L.negative_slope),
    ),
    LayerCase("Sigmoid", lambda: c.Sigmoid(), (2, 3, 4), reference=lambda L, x: F.sigmoid(x), torch=_torch_simple("Sigmoid")),
    LayerCase("Tanh", lambda: c.Tanh(), (6,), reference=lambda L, x: F.tanh(x), torch=_torch_simple("Tanh")),
    LayerCase(
        "Flatten", lambda: c.Flatten(), (2, 3, 4, 5), bad_ndim=(7,),
        reference=lambda L, x: F.flatten(x, start_dim=1), torch=_torch_simple("Flatten"),
    ),
    LayerCase("Dropout", lambda: c.Dropout(0.3, seed=0), (4, 6), random=True),
]


def layer_input(case: LayerCase, seed: int = 0) -> np.ndarray:
    """A float64 input for ``case``: normal numbers, with some exact zeros and ties for the kinks of ReLU and max."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=case.input_shape)
    return x
