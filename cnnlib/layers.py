"""Layers: the pieces a network is built from, each with a forward and a backward pass.

A layer turns an input ``x`` into an output ``y = layer.forward(x)``. During
training, ``layer.backward(dy)`` takes the gradient of the loss with respect to
``y`` and returns the gradient with respect to ``x``; a layer with learnable
numbers keeps them in ``layer.params`` and, after ``backward``, their gradients
in ``layer.grads`` under the same keys. The names, shapes, initialisation and
defaults follow PyTorch's ``torch.nn`` so that habits carry over.

Two differences from PyTorch: ``backward`` *overwrites* ``grads`` with the
gradient of the latest batch instead of adding to what was there, and an
input is converted to the dtype of the layer's parameters (float32 unless
``layer.astype(np.float64)`` was called) instead of raising an error.

Each layer's ``forward`` and ``backward`` are the maths; where a computation
needs a speed trick (im2col, tiled pooling windows, per-channel BLAS sums) it
calls the private kernel module :mod:`cnnlib._kernels`, and every argument
check comes from :mod:`cnnlib._validate`.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from . import _kernels as K
from . import _validate as V
from ._validate import as_float_array, check_ndim, pair, positive_int, real_number

__all__ = [
    "Layer",
    "Parameter",
    "Conv2d",
    "Linear",
    "BatchNorm1d",
    "BatchNorm2d",
    "MaxPool2d",
    "AvgPool2d",
    "GlobalAvgPool2d",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Flatten",
    "Dropout",
    "Sequential",
]

DEFAULT_DTYPE = np.float32


class Parameter:
    """A handle on one learnable array of a layer, as optimizers see it.

    Parameters
    ----------
    layer : Layer
    key : str
    name : str, optional

    Attributes
    ----------
    layer : Layer
        The layer that owns the array.
    key : str
        Its key in ``layer.params`` and ``layer.grads``.
    name : str
        A readable name such as ``"0.W"`` (layer index in a Sequential, then key).
    """

    __slots__ = ("layer", "key", "name")

    def __init__(self, layer: "Layer", key: str, name: str | None = None) -> None:
        self.layer = layer
        self.key = key
        self.name = name or key

    @property
    def value(self) -> np.ndarray:
        """The array itself (updated in place by optimizers)."""
        return self.layer.params[self.key]

    @property
    def grad(self) -> np.ndarray | None:
        """The gradient from the latest ``backward``, or None before the first one."""
        return self.layer.grads.get(self.key)

    def zero_grad(self) -> None:
        """Set the gradient to zeros shaped like the value."""
        self.layer.grads[self.key] = np.zeros_like(self.value)

    def __repr__(self) -> str:
        return f"Parameter({self.name}, shape={self.value.shape})"


class Layer:
    """Base class of all layers.

    Subclasses implement :meth:`forward` and :meth:`backward`; layers with
    learnable arrays put them in ``self.params`` (and running statistics, which
    are saved but not learned, in ``self.buffers``).

    Attributes
    ----------
    needs_input_grad : bool, default True
        Whether :meth:`backward` must return the gradient with respect to its
        input. Nothing uses that gradient for a network's first layer (the
        images are not learned), so :func:`~cnnlib.training.fit` sets this to
        False on the first layer while it trains. A layer for which that
        gradient is real work (:class:`Conv2d`) then skips it and returns None;
        every other layer may ignore the flag. The idea and the name are
        PyTorch's (``ctx.needs_input_grad`` in ``torch.autograd.Function``).
    """

    needs_input_grad: bool = True

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}

    # -- the interface every layer implements ---------------------------------------
    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Compute the output for input ``x`` (remembering what backward needs).

        ``training`` must be True or False (a TypeError otherwise: the string
        ``"False"`` would count as true). A batch of no examples, ``(0, ...)``,
        gives an empty output, except in batch normalisation's training mode.
        """
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        """Given dLoss/dy, store parameter gradients in ``grads`` and return dLoss/dx.

        May return None instead of dLoss/dx when ``needs_input_grad`` is False.
        """
        raise NotImplementedError

    def __call__(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        return self.forward(x, training=training)

    # -- helpers shared by all layers ----------------------------------------------
    def parameters(self) -> list[Parameter]:
        """Handles on every learnable array, for an optimizer: ``SGD(model.parameters(), lr=0.1)``."""
        return [Parameter(self, k) for k in self.params]

    def num_parameters(self) -> int:
        """How many learnable numbers the layer has."""
        return int(sum(p.value.size for p in self.parameters()))

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        for p in self.parameters():
            p.zero_grad()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters and buffers, by name (what :func:`cnnlib.save` writes)."""
        return {k: v.copy() for k, v in {**self.params, **self.buffers}.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays from ``state`` into this layer; names and shapes must match exactly.

        Every array is checked first (names, shapes, real floating-point numbers,
        finite), so a state that does not fit raises KeyError, ValueError or
        TypeError and changes nothing.
        """
        own = {**self.params, **self.buffers}
        for k, v in V.state_arrays(state, own, f"{type(self).__name__}.load_state_dict").items():
            own[k][...] = v  # in place, so optimizers keep pointing at the same arrays

    def astype(self, dtype: Any) -> "Layer":
        """Convert parameters and buffers to ``dtype`` (e.g. float64 for gradient checks); returns self.

        ``dtype`` must be a floating-point dtype (TypeError otherwise).
        """
        dtype = V.float_dtype(dtype, f"{type(self).__name__}.astype")
        for d in (self.params, self.buffers):
            for k in d:
                d[k] = d[k].astype(dtype)
        self.grads = {}
        return self

    def _input(self, x: Any, training: Any, ndims: tuple[int, ...] | None = None, layout: str = "") -> np.ndarray:
        """Check ``training`` is a bool; convert ``x`` to floats, check its number of dimensions (unless ``ndims`` is None) and that it is finite."""
        where = f"{type(self).__name__}.forward"
        V.boolean(training, "training", where)
        x = as_float_array(x, "x", where)
        if ndims is not None:
            check_ndim(x, ndims, "x", where, layout)
        V.check_finite_layer_input(x, "x", where)
        return x

    def _cached(self) -> Any:
        """What the latest forward stored for backward; a clear error if there was none."""
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call forward before backward")
        return cache

    def _grad_input(self, dy: Any, expected_shape: tuple[int, ...]) -> np.ndarray:
        where = f"{type(self).__name__}.backward"
        dy = V.upstream_gradient(dy, expected_shape, where, check=False)
        V.check_finite_layer_input(dy, "dy", where)
        return dy

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def _uniform(rng: np.random.Generator, bound: float, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(DEFAULT_DTYPE)


class Conv2d(Layer):
    """2-D convolution layer, as ``torch.nn.Conv2d``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and number of filters (output channels).
    kernel_size : int or (int, int)
        Filter height and width.
    stride : int or (int, int), default 1
    padding : int, (int, int), "valid" or "same", default 0
        See :func:`cnnlib.functional.conv2d`.
    seed : int, optional
        Seed of the weight initialisation (uniform in +-1/sqrt(in_channels*kh*kw),
        PyTorch's default). Same seed, same weights.
    pad_mode : {"zeros", "edge"}, default "zeros"

    Attributes
    ----------
    params : dict
        ``"W"`` with shape ``(out_channels, in_channels, kh, kw)`` and ``"b"`` with shape ``(out_channels,)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        seed: int | None = None,
        pad_mode: str = "zeros",
    ) -> None:
        super().__init__()
        where = "Conv2d"
        self.in_channels = positive_int(in_channels, "in_channels", where)
        self.out_channels = positive_int(out_channels, "out_channels", where)
        self.kernel_size = pair(kernel_size, "kernel_size", where)
        self.stride = pair(stride, "stride", where)
        self.padding = V.padding_spec(padding, where)
        self.pad_mode = V.pad_mode(pad_mode, where)
        rng = np.random.default_rng(V.seed(seed, where))
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / np.sqrt(fan_in)
        self.params["W"] = _uniform(rng, bound, (self.out_channels, self.in_channels, *self.kernel_size))
        self.params["b"] = _uniform(rng, bound, (self.out_channels,))
        self._cache = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x = self._input(x, training, (4,), "(N, C, H, W)")
        W, b = self.params["W"], self.params["b"]
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"Conv2d.forward: this layer expects {self.in_channels} input channel(s), "
                f"but x has {x.shape[1]} (x.shape = {x.shape}, NCHW)"
            )
        pads = V.conv_pads(self.padding, x.shape[2:], self.kernel_size, self.stride, "Conv2d.forward")
        x = x.astype(W.dtype, copy=False)
        # y[n, o] = b[o] + sum over c of (x[n, c] cross-correlated with W[o, c]), as one matrix product
        y, cols = K.conv2d_forward(x, W, b, self.stride, pads, self.pad_mode)
        self._cache = (cols, x.shape, pads)
        self._out_shape = y.shape
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        """dW sums ``dy * window`` over every position the kernel visited, db sums dy, and dx
        sends ``dy * W`` back to each window's pixels (None when ``needs_input_grad`` is False)."""
        cols, x_shape, pads = self._cached()
        dy = self._grad_input(dy, self._out_shape).astype(self.params["W"].dtype, copy=False)
        dx, dW, db = K.conv2d_backward(
            dy, cols, x_shape, self.params["W"], self.stride, pads, self.pad_mode, need_dx=self.needs_input_grad
        )
        self.grads = {"W": dW, "b": db}
        return dx

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding!r}"
            + (f", pad_mode={self.pad_mode!r}" if self.pad_mode != "zeros" else "")
        )


class Linear(Layer):
    """Fully connected (dense) layer ``y = x @ W.T + b``, as ``torch.nn.Linear``.

    Parameters
    ----------
    in_features, out_features : int
        Length of each input and output vector.
    seed : int, optional
        Seed of the initialisation (uniform in +-1/sqrt(in_features)).

    Attributes
    ----------
    params : dict
        ``"W"`` with shape ``(out_features, in_features)`` and ``"b"`` with shape ``(out_features,)``.
    """

    def __init__(self, in_features: int, out_features: int, seed: int | None = None) -> None:
        super().__init__()
        self.in_features = positive_int(in_features, "in_features", "Linear")
        self.out_features = positive_int(out_features, "out_features", "Linear")
        rng = np.random.default_rng(V.seed(seed, "Linear"))
        bound = 1.0 / np.sqrt(self.in_features)
        self.params["W"] = _uniform(rng, bound, (self.out_features, self.in_features))
        self.params["b"] = _uniform(rng, bound, (self.out_features,))
        self._cache = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x = self._input(x, training, (2,), "(N, in_features)")
        if x.shape[1] != self.in_features:
            raise ValueError(
                f"Linear.forward: this layer expects {self.in_features} input features, but x has "
                f"{x.shape[1]} (x.shape = {x.shape}); did you forget Flatten, or miscount its size?"
            )
        x = x.astype(self.params["W"].dtype, copy=False)
        self._cache = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = self._cached()
        dy = self._grad_input(dy, (x.shape[0], self.out_features)).astype(x.dtype, copy=False)
        self.grads = {"W": dy.T @ x, "b": dy.sum(axis=0)}
        return dy @ self.params["W"]

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class _BatchNorm(Layer):
    """Shared code of BatchNorm1d and BatchNorm2d; statistics are per channel (axis 1)."""

    _ndims: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(num_features, "num_features", name)
        self.eps = real_number(eps, "eps", name, low=0.0, low_open=True)
        self.momentum = real_number(momentum, "momentum", name, low=0.0, high=1.0)
        self.params["gamma"] = np.ones(self.num_features, dtype=DEFAULT_DTYPE)
        self.params["beta"] = np.zeros(self.num_features, dtype=DEFAULT_DTYPE)
        self.buffers["running_mean"] = np.zeros(self.num_features, dtype=DEFAULT_DTYPE)
        self.buffers["running_var"] = np.ones(self.num_features, dtype=DEFAULT_DTYPE)
        self._cache = None

    @property
    def running_mean(self) -> np.ndarray:
        """Exponential moving average of the batch means (used when ``training=False``)."""
        return self.buffers["running_mean"]

    @property
    def running_var(self) -> np.ndarray:
        """Exponential moving average of the *unbiased* batch variances."""
        return self.buffers["running_var"]

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        name = type(self).__name__
        x = self._input(x, training, self._ndims, self._layout)
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}.forward: this layer normalises {self.num_features} channel(s), "
                f"but x has {x.shape[1]} (x.shape = {x.shape})"
            )
        gamma, beta = self.params["gamma"], self.params["beta"]
        x = x.astype(gamma.dtype, copy=False)
        x3, back = K.channels_in_middle(x)  # (A, C, B): the statistics are over A and B
        m = x.size // self.num_features  # values per channel
        if training:
            if m < 2:
                raise V.SmallBatchError(
                    f"{name}.forward: training needs more than 1 value per channel to compute a variance; "
                    f"got x of shape {x.shape}. Use a larger batch, or training=False."
                )
            mean = K.channel_sum(x3) / m
            xc = x3 - mean[:, None]  # (A, C, B), centred
            var = K.channel_dot(xc, xc) / m  # biased variance normalises the batch
            self.update_running_stats(mean, var, m)
        else:
            xc = x3 - self.running_mean[:, None]
            var = self.running_var
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(gamma.dtype)
        # y = gamma * xhat + beta with xhat = xc * inv_std; xhat itself is never stored,
        # backward gets it from xc (one array less to write and read).
        y = np.multiply(xc, (gamma * inv_std)[:, None])
        y += beta[:, None]
        self._cache = (xc, inv_std, training, back)
        return back(y)

    def update_running_stats(self, mean: np.ndarray, var: np.ndarray, m: int) -> None:
        """Move the running estimates towards a batch's ``mean`` and biased ``var`` over ``m`` values per channel.

        ``running = (1 - momentum) * running + momentum * batch``, with the variance
        made unbiased, ``var * m / (m - 1)``, as PyTorch does.
        """
        mom, dtype = self.momentum, self.params["gamma"].dtype
        self.buffers["running_mean"] = ((1 - mom) * self.running_mean + mom * mean).astype(dtype)
        self.buffers["running_var"] = ((1 - mom) * self.running_var + mom * var * (m / (m - 1))).astype(dtype)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        xc, inv_std, training, back = self._cached()
        gamma = self.params["gamma"]
        dy = self._grad_input(dy, back(xc).shape).astype(gamma.dtype, copy=False)
        dy3, _ = K.channels_in_middle(dy, like=xc)
        dbeta = K.channel_sum(dy3)
        dgamma = K.channel_dot(dy3, xc) * inv_std  # sum(dy * xhat)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        scale = gamma * inv_std
        if not training:  # running statistics are constants
            return back(dy3 * scale[:, None])
        m = xc.size // self.num_features
        # dx = gamma/std * (dy - mean(dy) - xhat * mean(dy * xhat)), the means over each channel;
        # as dx = scale * (dy - mean(dy)) - k * xc with k = scale * inv_std * mean(dy * xhat).
        dx = np.subtract(dy3, (dbeta / m)[:, None])
        dx *= scale[:, None]
        dx -= xc * (scale * inv_std * (dgamma / m))[:, None]
        return back(dx)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of features ``(N, C)`` or sequences ``(N, C, L)``, as ``torch.nn.BatchNorm1d``.

    In training mode each channel is normalised with the mean and the biased
    variance of the batch, ``y = gamma * (x - mean) / sqrt(var + eps) + beta``,
    and the running estimates are updated as
    ``running = (1 - momentum) * running + momentum * batch_statistic``
    (with the unbiased variance). With ``training=False`` the running
    estimates are used instead.

    Parameters
    ----------
    num_features : int
        Number of channels C.
    eps : float, default 1e-5
        Added to the variance before the square root.
    momentum : float, default 0.1
        Weight of the newest batch in the running estimates.

    In training mode a channel needs more than one value: a batch ``(1, C)``
    raises ValueError (with :func:`~cnnlib.training.fit`, ``drop_last=True``
    leaves out a last batch of one example).
    """

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images ``(N, C, H, W)``, as ``torch.nn.BatchNorm2d``.

    Statistics are per channel, over the batch and all positions (N, H, W): a
    convolution applies the same filter everywhere, so its output channel is
    normalised as one population. Otherwise as :class:`BatchNorm1d`.

    Parameters
    ----------
    num_features : int
        Number of channels C.
    eps : float, default 1e-5
    momentum : float, default 0.1
    """

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class _Pool(Layer):
    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", name)
        self.padding = V.pool_padding(padding, self.kernel_size, name)
        self._cache = None

    def _prepare(self, x: Any, training: Any) -> tuple[np.ndarray, tuple[int, int]]:
        x = self._input(x, training, (4,), "(N, C, H, W)")
        *_, out_hw = V.pool_arguments(x.shape, self.kernel_size, self.stride, self.padding, f"{type(self).__name__}.forward")
        return x, out_hw

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool):
    """Max pooling layer, as ``torch.nn.MaxPool2d``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``; smaller values make windows overlap.
    padding : int or (int, int), default 0
        Acts as -inf (never the maximum); at most half the kernel.

    Backward sends each window's gradient to its (first) maximum only.
    """

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x, out_hw = self._prepare(x, training)
        # y = the largest value of each window; `record` says which input won it
        y, record = K.max_pool2d_forward(x, self.kernel_size, self.stride, self.padding, out_hw)
        self._cache = (x, y, record)
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x, y, record = self._cached()
        dy = self._grad_input(dy, y.shape).astype(y.dtype, copy=False)
        # each window's gradient goes to its winner; every other input of the window gets 0
        return K.max_pool2d_backward(dy, x, y, record, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool):
    """Average pooling layer, as ``torch.nn.AvgPool2d`` (zero padding counts in the mean).

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int), default 0
    """

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x, out_hw = self._prepare(x, training)
        self._cache = (x.shape, (*x.shape[:2], *out_hw))
        return K.avg_pool2d_forward(x, self.kernel_size, self.stride, self.padding, out_hw)  # mean of each window

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x_shape, out_shape = self._cached()
        dy = self._grad_input(dy, out_shape)
        # each window shares its gradient equally among its kh*kw inputs
        return K.avg_pool2d_backward(dy, x_shape, self.kernel_size, self.stride, self.padding)


class GlobalAvgPool2d(Layer):
    """Global average pooling ``(N, C, H, W) -> (N, C)``: the mean of each feature map (Lin et al., 2014).

    A classifier after it no longer depends on the image size. PyTorch's twin is
    ``nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())``; see
    :func:`cnnlib.functional.global_avg_pool2d`. Backward gives each of the
    ``H * W`` positions an equal share, ``dy[n, c] / (H * W)``.
    """

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x = self._input(x, training, (4,), "(N, C, H, W)")
        if x.shape[2] * x.shape[3] == 0:
            raise ValueError(f"GlobalAvgPool2d.forward: expected x with at least one position per map; got shape {x.shape}")
        self._cache = (x.shape, x.dtype)
        return x.mean(axis=(2, 3))  # y[n, c] = mean of the map x[n, c]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        (N, C, H, W), dtype = self._cached()
        dy = self._grad_input(dy, (N, C)).astype(dtype, copy=False)
        return np.broadcast_to(dy[:, :, None, None] / (H * W), (N, C, H, W)).copy()  # an equal share per position


class _Activation(Layer):
    """Elementwise layers: any input shape, output shaped like the input."""

    def _prepare(self, x: Any, training: Any) -> np.ndarray:
        return self._input(x, training)


class ReLU(_Activation):
    """``max(0, x)`` elementwise; its gradient is 1 where x > 0 and 0 elsewhere (also at 0, as in PyTorch)."""

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x = self._prepare(x, training)
        y, mask = K.relu_forward(x)  # y = max(0, x), mask = (x > 0)
        self._cache = mask
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        mask = self._cached()
        dy = self._grad_input(dy, mask.shape)
        return dy * mask


class LeakyReLU(_Activation):
    """Leaky ReLU elementwise, as ``torch.nn.LeakyReLU``: ``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    Its gradient is 1 where x > 0 and ``negative_slope`` elsewhere (also at 0,
    as in PyTorch), so negative inputs still pass a little gradient back. See
    :func:`cnnlib.functional.leaky_relu`.

    Parameters
    ----------
    negative_slope : float, default 0.01
        Slope for negative inputs (PyTorch's default).
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = real_number(negative_slope, "negative_slope", "LeakyReLU")
        self._cache = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x = self._prepare(x, training)
        slope = np.where(x > 0, 1.0, self.negative_slope).astype(x.dtype)  # dy/dx, elementwise
        self._cache = slope
        return x * slope

    def backward(self, dy: np.ndarray) -> np.ndarray:
        slope = self._cached()
        dy = self._grad_input(dy, slope.shape)
        return dy * slope

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(_Activation):
    """Logistic sigmoid elementwise; its gradient is ``s * (1 - s)``, at most 0.25."""

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x = self._prepare(x, training)
        s = 0.5 * (1.0 + np.tanh(0.5 * x))
        self._cache = s
        return s

    def backward(self, dy: np.ndarray) -> np.ndarray:
        s = self._cached()
        dy = self._grad_input(dy, s.shape)
        return dy * s * (1.0 - s)


class Tanh(_Activation):
    """Hyperbolic tangent elementwise; its gradient is ``1 - tanh(x)**2``."""

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x = self._prepare(x, training)
        t = np.tanh(x)
        self._cache = t
        return t

    def backward(self, dy: np.ndarray) -> np.ndarray:
        t = self._cached()
        dy = self._grad_input(dy, t.shape)
        return dy * (1.0 - t * t)


class Flatten(Layer):
    """Reshape ``(N, C, H, W)`` (or any ``(N, ...)``) to ``(N, C*H*W)``, keeping the batch axis."""

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x = self._input(x, training)
        if x.ndim < 2:
            raise ValueError(f"Flatten.forward: expected x with a batch axis, (N, ...); got shape {x.shape}")
        self._cache = x.shape
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))  # (N, C, H, W) -> (N, C*H*W), also for N = 0

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape = self._cached()
        dy = self._grad_input(dy, (shape[0], int(np.prod(shape[1:]))))
        return dy.reshape(shape)  # (N, C*H*W) -> (N, C, H, W)


class Dropout(Layer):
    """Inverted dropout, as ``torch.nn.Dropout``.

    In training, each value is zeroed with probability ``p`` and the survivors
    are scaled by ``1 / (1 - p)``, so the expected output equals the input and
    nothing needs rescaling at test time. With ``training=False`` it does nothing.

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing a value, in [0, 1].
    seed : int, optional
        Seed of the random masks.
    """

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        super().__init__()
        self.p = real_number(p, "p", "Dropout", low=0.0, high=1.0, what="a probability")
        self.rng = np.random.default_rng(V.seed(seed, "Dropout"))
        self._cache = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        x = self._input(x, training)
        if not training or self.p == 0.0:
            self._cache = np.ones((), dtype=x.dtype)
            self._shape = x.shape
            return x
        keep = self.rng.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64) >= self.p
        scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        mask = keep.astype(x.dtype) * x.dtype.type(scale)
        self._cache = mask
        self._shape = x.shape
        return x * mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        mask = self._cached()
        dy = self._grad_input(dy, self._shape)
        return dy * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential(Layer):
    """Layers applied one after another; backward runs them in reverse.

    ``params``, ``grads`` and ``buffers`` gather those of the inner layers under
    names ``"<index>.<key>"`` (e.g. ``"0.W"``), the same arrays, not copies.

    Each layer object may appear only once (also inside nested Sequentials): a
    cnnlib layer remembers its latest forward pass for its backward pass, so a
    layer used at two places would compute the first place's gradient from the
    second place's input. PyTorch allows this (autograd keeps one record per
    call); here it raises, naming the layer and both places: give each place a
    layer of its own.

    Parameters
    ----------
    *layers : Layer
        The layers, first to last.

    Raises
    ------
    TypeError
        If an argument is not a Layer.
    ValueError
        If one layer object appears twice.

    Examples
    --------
    >>> model = Sequential(Conv2d(1, 4, 3, padding=1, seed=0), ReLU(), MaxPool2d(2), Flatten(), Linear(4 * 14 * 14, 10, seed=0))
    >>> model.forward(np.zeros((2, 1, 28, 28), dtype=np.float32)).shape
    (2, 10)
    """

    def __init__(self, *layers: Layer) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: argument {i} must be a Layer; got {type(layer).__name__}")
        self.layers = list(layers)
        V.each_layer_once(self)

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Run the layers in order: each one's output is the next one's input."""
        V.boolean(training, "training", "Sequential.forward")
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        """Run the layers' backward passes in reverse order; returns the gradient with respect to the input
        (None if the first layer's ``needs_input_grad`` is False and it skipped that work)."""
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    @property
    def needs_input_grad(self) -> bool:  # type: ignore[override]
        """The first layer's ``needs_input_grad``: only it computes the gradient with respect to the input."""
        return self.layers[0].needs_input_grad if self.layers else True

    @needs_input_grad.setter
    def needs_input_grad(self, value: bool) -> None:
        if self.layers:
            self.layers[0].needs_input_grad = value

    def _gather(self, attr: str) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in getattr(layer, attr).items()}

    # A Sequential owns no arrays itself: its params, grads and buffers are those of its layers, gathered
    # under "<index>.<key>" each time they are read (Layer.__init__'s assignments are ignored).
    params = property(lambda self: self._gather("params"), lambda self, value: None)  # type: ignore[assignment]
    grads = property(lambda self: self._gather("grads"), lambda self, value: None)  # type: ignore[assignment]
    buffers = property(lambda self: self._gather("buffers"), lambda self, value: None)  # type: ignore[assignment]

    def parameters(self) -> list[Parameter]:
        return [Parameter(layer, k, f"{i}.{k}") for i, layer in enumerate(self.layers) for k in layer.params]

    def state_dict(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.state_dict().items()}

    def astype(self, dtype: Any) -> "Sequential":
        for layer in self.layers:
            layer.astype(dtype)
        return self

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}".replace("\n", "\n  ") for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"

    def summary(self, input_shape: tuple[int, ...]) -> str:
        """A table of each layer's output shape and parameter count for one input shape ``(N, C, H, W)``.

        Runs a forward pass on zeros in inference mode (running statistics are not changed).
        """
        x = np.zeros(V.shape(input_shape, "input_shape", "Sequential.summary"), dtype=DEFAULT_DTYPE)
        rows = [("layer", "output shape", "parameters")]
        for i, layer in enumerate(self.layers):
            x = layer.forward(x, training=False)
            rows.append((f"({i}) {type(layer).__name__}", str(tuple(x.shape)), f"{layer.num_parameters():,}"))
        rows.append(("total", "", f"{self.num_parameters():,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}" for r in rows)
