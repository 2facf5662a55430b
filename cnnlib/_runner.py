"""The training runner: how :func:`~cnnlib.training.fit`, :func:`~cnnlib.training.evaluate`
and :func:`~cnnlib.training.predict` run a model, in a cheaper plan than layer after layer.

With :mod:`cnnlib._kernels`, the one place for speed tricks: the layers stay as
written, and this module decides how to run them (which checks to skip, which
layers to run as one fused block). Every plan is tested against running the
layers one by one (tests/test_runner.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _kernels as K
from . import _validate as V
from ._validate import check_finite, inner_layers_trusted
from .layers import BatchNorm2d, Conv2d, Layer, MaxPool2d, ReLU, Sequential


class _Runner:
    """How :func:`fit`, :func:`evaluate` and :func:`predict` run a model: each layer's own
    ``forward`` and ``backward``, in a cheaper plan.

    A plain :class:`~cnnlib.layers.Sequential` (nested ones included) is run as its
    list of layers, with three savings:

    - NaN/inf checks: only the first layer checks its input, and only the last one
      its upstream gradient. The layers in between receive numbers that cnnlib
      computed from checked ones, which can only stop being finite through
      overflow, and that reaches the output, which the runner checks once.
    - ``Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d(2)`` blocks run fused
      (:class:`_ConvBlocks`): the same numbers up to float rounding.
    - Elsewhere, a ``ReLU`` directly followed by a ``MaxPool2d`` runs as the pool,
      then the ReLU. ReLU never changes which value of a window is largest, and a
      window with no positive value gives 0 and no gradient either way, so outputs
      and gradients are bit-for-bit the same; the ReLU then works on the pooled
      array, a quarter of the size for 2x2 pooling.

    Layers are matched by exact type, so a subclass that overrides ``forward`` or
    ``backward`` runs as written. Any other model (a Layer or Sequential subclass)
    runs through its own ``forward`` and ``backward``, with every check.
    """

    def __init__(self, model: Layer, inference: bool = False) -> None:
        """``inference=True``: a runner for :func:`evaluate` and :func:`predict`; its fused blocks
        also run fused with ``training=False``, and refuse ``backward``."""
        V.each_layer_once(model)
        self.model = model
        self.steps = self._plan(model, inference)

    @staticmethod
    def _layers(model: Layer) -> list[Layer] | None:
        """The layers of a plain Sequential, nested ones flattened; None for any other model."""
        if type(model) is not Sequential:
            return None
        layers: list[Layer] = []
        for layer in model.layers:
            inner = _Runner._layers(layer)
            layers += inner if inner is not None else [layer]
        return layers

    @staticmethod
    def _plan(model: Layer, inference: bool = False) -> list[Any] | None:
        """The steps forward runs, in order (layers and fused blocks), or None to run ``model`` itself."""
        layers = _Runner._layers(model)
        if layers is None:
            return None
        steps: list[Any] = []
        i = 0
        while i < len(layers):
            blocks = []  # consecutive blocks, each reading the channels the previous one makes
            while (block := _ConvBlocks.block_at(layers, i)) is not None and (
                not blocks or block[0].in_channels == blocks[-1][0].out_channels
            ):
                blocks.append(block)
                i += 4
            if blocks:
                steps.append(_ConvBlocks(blocks, inference))
                continue
            pair = layers[i : i + 2]
            if i > 0 and len(pair) == 2 and type(pair[0]) is ReLU and type(pair[1]) is MaxPool2d:
                steps += [pair[1], pair[0]]  # max-pool first, then the ReLU
                i += 2
            else:
                steps.append(layers[i])
                i += 1
        return steps

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if self.steps is None:
            return self.model.forward(x, training=training)
        if not self.steps:
            return x
        x = self.steps[0].forward(x, training=training)  # checks the input
        with inner_layers_trusted():
            for layer in self.steps[1:]:
                x = layer.forward(x, training=training)
        check_finite(x, "the model's output", f"{type(self.model).__name__}.forward")
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        if self.steps is None:
            return self.model.backward(dy)
        if not self.steps:
            return dy
        last, *rest = self.steps[::-1]
        dy = last.backward(dy)  # checks the loss gradient
        with inner_layers_trusted():
            for layer in rest:
                dy = layer.backward(dy)
        return dy


class _ConvBlocks:
    """Consecutive ``Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d(2)`` blocks, run fused.

    The kernels (:func:`cnnlib._kernels.bn_relu_pool_forward` and the
    ``im2col_phases`` family) store each convolution's output with the four
    entries of every pooling window in four separate blocks, pool before
    normalising (batch norm with a positive scale is increasing, so it keeps each
    window's winner) and hand the next block its input in the layout its
    convolution reads. The layers' own state is kept as their ``forward`` and
    ``backward`` would keep it: batch norm's running statistics, and ``grads``.

    Outputs and gradients equal the layers' up to float rounding (tested in
    tests/test_runner.py); one difference is possible, where two values of a
    window differ before batch norm but round to the same number after it: the
    layers send that window's gradient to the first, the fused block to the
    larger. With ``training=False`` the blocks run fused only for :func:`evaluate`
    and :func:`predict` (``inference=True``), which never go backward. Anything else
    runs layer by layer, as the plain runner does: evaluation in a training runner,
    sizes that the pooling does not halve exactly, an input that is not an array of
    floats (the layers convert it; other floats are converted to the weights' dtype
    here, as Conv2d does), or layers whose arrays differ in dtype.
    """

    def __init__(self, blocks: list[tuple[Conv2d, BatchNorm2d, ReLU, MaxPool2d]], inference: bool = False) -> None:
        self.blocks = blocks
        self.inference = inference  # for evaluation only: training=False runs fused too, and backward is refused
        # layer by layer, with the runner's ReLU/max-pool swap (bit-for-bit the layers' numbers)
        self.layer_steps = [layer for conv, bn, relu, pool in blocks for layer in (conv, bn, pool, relu)]
        self._fused: list[tuple] | None = None  # the caches of the last fused forward, until its backward
        self._layers_ran = False  # whether the last forward ran layer by layer
        self._out_shape: tuple[int, ...] = ()
        self._work: dict[str, np.ndarray] = {}

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A work array kept from one step to the next: fresh megabytes every step cost page faults."""
        buf = self._work.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._work[name] = np.empty(shape, dtype=dtype)
        return buf

    @staticmethod
    def block_at(layers: list[Layer], i: int) -> tuple[Conv2d, BatchNorm2d, ReLU, MaxPool2d] | None:
        """The block starting at ``layers[i]``, if the four layers there can run fused: a stride-1
        zero-padded convolution, batch norm of its channels, ReLU, and 2x2 max-pooling without padding."""
        block = layers[i : i + 4]
        if len(block) < 4 or [type(layer) for layer in block] != [Conv2d, BatchNorm2d, ReLU, MaxPool2d]:
            return None
        conv, bn, _, pool = block
        if (conv.stride != (1, 1) or conv.pad_mode != "zeros" or bn.num_features != conv.out_channels
                or pool.kernel_size != (2, 2) or pool.stride != (2, 2) or pool.padding != (0, 0)):
            return None
        return conv, bn, block[2], pool

    def _fusion_pads(self, x: Any, training: Any) -> list[tuple[int, int]] | None:
        """Each block's (top, left) padding if the blocks can run fused on ``x``, else None (run the layers)."""
        first = self.blocks[0][0]
        dtype = first.params["W"].dtype
        if not isinstance(training, (bool, np.bool_)) or not (training or self.inference):
            return None
        if not isinstance(x, np.ndarray) or x.ndim != 4 or x.dtype.kind != "f":
            return None
        N, C, H, W = x.shape
        f = 2 ** len(self.blocks)
        if N == 0 or C != first.in_channels or H % f or W % f:
            return None
        pads = []
        for conv, bn, _, _ in self.blocks:
            if any(a.dtype != dtype for a in (*conv.params.values(), *bn.params.values(), *bn.buffers.values())):
                return None
            try:
                (t, b), (l, r) = V.conv_pads(conv.padding, (H, W), conv.kernel_size, conv.stride, "Conv2d.forward")
            except (TypeError, ValueError):
                return None
            if t + b != conv.kernel_size[0] - 1 or l + r != conv.kernel_size[1] - 1:  # not "same": the size changes
                return None
            pads.append((t, l))
            H, W = H // 2, W // 2
        return pads

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        pads = self._fusion_pads(x, training)
        self._fused, self._layers_ran = None, pads is None
        if pads is None:
            for layer in self.layer_steps:
                x = layer.forward(x, training=training)
            return x
        V.check_finite_layer_input(x, "x", "Conv2d.forward")
        N, _, H, W = x.shape
        f = 2 ** len(self.blocks)  # the first block's phases: each block pools away a factor 2
        out, caches = x.astype(self.blocks[0][0].params["W"].dtype, copy=False), []
        for k, ((conv, bn, _, _), (t, l)) in enumerate(zip(self.blocks, pads)):
            w = conv.params["W"]
            O, C, kh, kw = w.shape
            cols = self._buffer(f"cols{k}", (C * kh * kw, N * H * W), w.dtype)
            if k == 0:  # the images, (N, C, H, W)
                K.im2col_phases_from_image(out, kh, kw, t, l, f, out=cols)
            else:  # the previous block's output, already in f x f phases
                K.im2col_phases(out.reshape(C, f * f, -1), f, N, H, W, kh, kw, t, l, out=cols)
            # z = W @ cols, (O, 4 * M), without the bias: batch norm subtracts the mean, which holds it
            z = np.matmul(w.reshape(O, C * kh * kw), cols, out=self._buffer(f"z{k}", (O, N * H * W), w.dtype))
            if training:
                out, cache, mean, var = K.bn_relu_pool_forward(z.reshape(O, 4, -1), bn.params["gamma"], bn.params["beta"], bn.eps)
                bn.update_running_stats(mean + conv.params["b"], var, z.shape[1])
                caches.append((cols, z, cache, (C, H, W), (t, l), f))
            else:  # batch norm with the running statistics is a fixed affine map; here the bias counts
                scale = (bn.params["gamma"] / np.sqrt(bn.running_var + bn.eps)).astype(w.dtype)
                shift = bn.params["beta"] + (conv.params["b"] - bn.running_mean) * scale
                out = K.bn_relu_pool_inference(z.reshape(O, 4, -1), scale, shift)
            H, W, f = H // 2, W // 2, f // 2
        self._fused = caches if training else None
        self._out_shape = (N, out.shape[0], H, W)
        return out.reshape(-1, H, W, N).transpose(3, 0, 1, 2)  # (O, H, W, N) in memory, NCHW view

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        if self.inference:
            raise RuntimeError("_ConvBlocks.backward: this runner was built for evaluation (inference=True), not training")
        if self._layers_ran:
            for layer in self.layer_steps[::-1]:
                dy = layer.backward(dy)
            return dy
        if self._fused is None:  # its memory now holds the gradients: one backward per forward
            raise RuntimeError("_ConvBlocks.backward: call forward(x, training=True) before each backward")
        dy = V.upstream_gradient(dy, self._out_shape, "MaxPool2d.backward", check=False)
        V.check_finite_layer_input(dy, "dy", "MaxPool2d.backward")
        caches, self._fused = self._fused, None
        N, O = self._out_shape[:2]
        d = dy.astype(self.blocks[-1][0].params["W"].dtype, copy=False).transpose(1, 2, 3, 0).reshape(O, -1)
        for k in range(len(self.blocks) - 1, -1, -1):
            conv, bn, _, _ = self.blocks[k]
            cols, z, cache, (C, H, W), (t, l), f = caches[k]
            w = conv.params["W"]
            O, _, kh, kw = w.shape
            dgamma, dbeta = K.bn_relu_pool_backward(d, cache)
            bn.grads = {"gamma": dgamma, "beta": dbeta}
            dz = z  # bn_relu_pool_backward wrote the gradient over z
            # blocks of 2048 (not the layers' 4096): measured 0.48 ms instead of 0.9 for (9, 50176) @ (50176, 32)
            dw = K.matmul_long_inner(cols, dz.T, block=2048).T
            conv.grads = {"W": dw.reshape(w.shape), "b": K.channel_sum(dz[None])}
            if k == 0 and not conv.needs_input_grad:
                return None
            dcols = np.matmul(w.reshape(O, C * kh * kw).T, dz, out=cols)  # the columns are not needed any more
            if k > 0:
                d = K.col2im_phases(dcols, C, f, N, H, W, kh, kw, t, l).reshape(C, -1)  # the previous block's output layout
            else:
                return K.col2im_phases_to_image(dcols, (N, C, H, W), kh, kw, t, l, f)
        raise AssertionError("unreachable")
