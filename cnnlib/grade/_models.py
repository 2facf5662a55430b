"""A trained model across the boundary: described in the student's kernel, rebuilt from cnnlib's layers in the grader.

The MNIST exercise returns a trained network. The grader does not trust a number
the notebook printed, nor an object the kernel pickled: the kernel describes the
model as data (each layer's class name and constructor arguments, read from its
attributes, plus its arrays), and the grader rebuilds it from cnnlib's own layer
classes and evaluates it itself. A layer cnnlib does not provide (a class of the
student's own, e.g. a lookup table keyed on the test images) cannot be rebuilt,
and the exercise fails with a message that says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LAYER_ARGUMENTS", "build_model", "ModelNotRebuilt"]

# The constructor arguments of each cnnlib layer, as the attributes that hold them.
LAYER_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "pad_mode"),
    "Linear": ("in_features", "out_features"),
    "BatchNorm1d": ("num_features", "eps", "momentum"),
    "BatchNorm2d": ("num_features", "eps", "momentum"),
    "MaxPool2d": ("kernel_size", "stride", "padding"),
    "AvgPool2d": ("kernel_size", "stride", "padding"),
    "GlobalAvgPool2d": (),
    "ReLU": (),
    "LeakyReLU": ("negative_slope",),
    "Sigmoid": (),
    "Tanh": (),
    "Flatten": (),
    "Dropout": ("p",),
}

# Runs in the kernel (sent as source, with LAYER_ARGUMENTS): a model as plain data.
DESCRIBE_SOURCE = r'''
def _cnnlib_grader_describe(layer, arrays):
    kind = type(layer).__name__
    if type(layer).__module__ != "cnnlib.layers":
        return {"type": kind, "module": type(layer).__module__}
    if kind == "Sequential":
        return {"type": kind, "layers": [_cnnlib_grader_describe(inner, arrays) for inner in layer.layers]}
    if kind not in _CNNLIB_LAYER_ARGUMENTS:
        return {"type": kind, "module": type(layer).__module__}
    args = {name: getattr(layer, name) for name in _CNNLIB_LAYER_ARGUMENTS[kind]}
    state = {}
    for key, value in {**layer.params, **layer.buffers}.items():
        name = f"s{len(arrays)}"
        arrays[name] = value
        state[key] = name
    return {"type": kind, "args": args, "state": state}
'''


class ModelNotRebuilt(ValueError):
    """The kernel's description is not a model made of cnnlib's layers."""


def build_model(spec: Any, arrays: Any) -> Any:
    """The cnnlib model a description stands for, with its arrays loaded (checked: shapes, real floats, finite)."""
    from .. import layers as L

    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ModelNotRebuilt("the answer is not a model description")
    kind = spec["type"]
    if kind == "Sequential" and "layers" in spec:
        return L.Sequential(*(build_model(inner, arrays) for inner in spec["layers"]))
    if kind not in LAYER_ARGUMENTS or "args" not in spec:
        where = spec.get("module", "?")
        raise ModelNotRebuilt(
            f"the model uses {kind} (from {where}), which is not one of cnnlib's layers; the grader rebuilds "
            f"the trained model from cnnlib's layers ({', '.join(LAYER_ARGUMENTS)}, Sequential) to test it itself"
        )
    args = {k: spec["args"][k] for k in LAYER_ARGUMENTS[kind] if k in spec["args"]}
    layer = getattr(L, kind)(**args)
    state = {}
    for key, name in spec.get("state", {}).items():
        value = np.asarray(arrays[name])
        if value.dtype.kind != "f" or not np.isfinite(value).all():
            raise ModelNotRebuilt(f"{kind}'s {key!r} must hold finite floating-point numbers")
        state[key] = value
    layer.load_state_dict(state)
    return layer
