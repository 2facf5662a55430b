"""The convolution and pooling explorers: sliders for stride, padding and window, one output explained.

``convolution_explorer`` and ``pooling_explorer`` make the widgets; their
computations are :func:`~cnnlib.widgets.convolution_view` and
:func:`~cnnlib.widgets.pooling_view`. Needs ipywidgets.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from .. import functional as F
from .._validate import class_labels, image_stack, integer
from ._base import _STYLE, _Explorer, _int_slider, _row, _set_max, ipywidgets  # ipywidgets through _base: see there
from ._format import _DOT, _MINUS, _factor, _html, _num, _shape, _short
from .drawing import _figure, _matrix_panel, _outline, _png, _shade
from .samples import _MNIST_CHOICE, _mnist_digits, _mnist_test_digit, _named_images, _pooling_images, _test_images
from .views import KERNELS, ConvolutionView, PoolingView, convolution_view, parse_kernel, pooling_view

__all__ = ["ConvolutionExplorer", "convolution_explorer", "PoolingExplorer", "pooling_explorer"]


class ConvolutionExplorer(_Explorer):
    """Slide a kernel over an image: stride, padding, pad mode, and one output value explained.

    Made by :func:`convolution_explorer`, which documents the arguments.

    Parameters
    ----------
    images : array_like, optional
        ``(N, H, W)`` or ``(N, 1, H, W)`` images offered first; by default ten
        MNIST test digits (one of each class), loaded on construction.
    labels : array_like of int, optional
        One label per image in ``images``, shown in the image list.
    image : int, default 0
        Which entry of the image list to start with.
    kernel : str, default "edge (vertical)"
        A name from :data:`KERNELS`.
    stride, padding : int, default 1 and 0
        Starting stride (1-4) and padding (0-3).
    pad_mode : {"zeros", "edge"}, default "zeros"
        Starting pad mode.

    Attributes
    ----------
    input : ipywidgets.Dropdown
        "image": the input (MNIST digits or the caller's images, then small test images).
    kernel : ipywidgets.Dropdown
        "kernel": identity, edge (vertical), edge (horizontal), blur (box 3x3), sharpen, custom.
    values : ipywidgets.Text
        "values": the kernel's numbers, rows separated by ';'. Typing here switches the kernel to custom.
    stride, padding : ipywidgets.IntSlider
        "stride" (1-4) and "padding" (0-3).
    pad_mode : ipywidgets.Dropdown
        "pad mode": zeros or edge.
    out_row, out_col : ipywidgets.IntSlider
        "out row" and "out col": the output position explained (maximum = output size - 1).
    image : ipywidgets.Image
        The picture: padded input with the window, the kernel, the output with the chosen cell.
    info : ipywidgets.HTML
        The output-size formulas and the chosen value as a sum of products.
    view : ConvolutionView or None
        The current computation.
    """

    _css = "cnnlib-convolution-explorer"

    def __init__(
        self,
        images: Any = None,
        labels: Any = None,
        *,
        image: int = 0,
        kernel: str = "edge (vertical)",
        stride: int = 1,
        padding: int = 0,
        pad_mode: str = "zeros",
    ) -> None:
        where = "convolution_explorer"
        if images is None:
            if labels is not None:
                raise ValueError(f"{where}: labels need images; pass both or neither")
            choices = _mnist_digits()
        else:
            stack = image_stack(images, where)
            choices = _named_images(stack, None if labels is None else class_labels(labels, where, n=len(stack)))
        self._choices = choices + _test_images()
        if kernel not in KERNELS:
            raise ValueError(f"{where}: kernel must be one of {list(KERNELS)}; got {kernel!r}")
        if pad_mode not in ("zeros", "edge"):
            raise ValueError(f"{where}: pad_mode must be 'zeros' or 'edge'; got {pad_mode!r}")
        image = integer(image, "image", where, 0)
        if image >= len(self._choices):
            raise ValueError(f"{where}: image must be an index below {len(self._choices)}; got {image}")
        super().__init__()
        self.input = ipywidgets.Dropdown(
            options=[(name, i) for i, (name, _) in enumerate(self._choices)], value=image, description="image", style=_STYLE
        )
        self.kernel = ipywidgets.Dropdown(options=[*KERNELS, "custom"], value=kernel, description="kernel", style=_STYLE)
        self.values = ipywidgets.Text(
            value=KERNELS[kernel],
            description="values",
            placeholder="1 0 -1; 1 0 -1; 1 0 -1",
            continuous_update=False,
            style=_STYLE,
            layout=ipywidgets.Layout(width="360px"),
        )
        self.stride = _int_slider("stride", integer(stride, "stride", where, 1), 1, 4)
        self.padding = _int_slider("padding", integer(padding, "padding", where, 0), 0, 3)
        self.pad_mode = ipywidgets.Dropdown(options=["zeros", "edge"], value=pad_mode, description="pad mode", style=_STYLE)
        self.out_row = _int_slider("out row", 0, 0, 0)
        self.out_col = _int_slider("out col", 0, 0, 0)
        controls = [self.input, self.kernel, self.values, self.stride, self.padding, self.pad_mode, self.out_row, self.out_col]
        rows = [
            _row(self.input, self.kernel, self.values),
            _row(self.stride, self.padding, self.pad_mode),
            _row(self.out_row, self.out_col),
        ]
        self._start(rows, controls)

    def _current_image(self) -> np.ndarray:
        return self._choices[self.input.value][1]

    def _refresh(self, change: Any) -> None:
        owner = None if change is None else change["owner"]
        if owner is self.kernel and self.kernel.value != "custom":
            self.values.value = KERNELS[self.kernel.value]
        elif owner is self.values and self.kernel.value != "custom" and self.values.value != KERNELS[self.kernel.value]:
            self.kernel.value = "custom"
        x = self._current_image()
        w = parse_kernel(self.values.value)
        s, p = self.stride.value, self.padding.value
        (h, wd), (kh, kw) = x.shape, w.shape
        if kh > h + 2 * p or kw > wd + 2 * p:
            raise ValueError(
                f"the kernel ({kh}x{kw}) is larger than the padded input ({h + 2 * p}x{wd + 2 * p}, padding {p}): "
                "choose a smaller kernel or more padding"
            )
        _set_max(self.out_row, F.conv_output_size(h, kh, s, p) - 1)
        _set_max(self.out_col, F.conv_output_size(wd, kw, s, p) - 1)
        v = convolution_view(x, w, s, p, self.pad_mode.value, self.out_row.value, self.out_col.value)
        self._view = v
        self.info.value = self._text(v)
        self.image.value = self._draw(v)

    @staticmethod
    def _text(v: ConvolutionView) -> str:
        kh, kw = v.kernel.shape
        lines = [
            f"<b>Output size</b> = floor((input + 2{_DOT}padding {_MINUS} kernel) / stride) + 1",
            v.formula_h,
            v.formula_w,
            f"<b>Output at (row {v.row}, col {v.col})</b>: the kernel on rows {v.top}..{v.top + kh - 1}, "
            f"cols {v.left}..{v.left + kw - 1} of the padded input",
        ]
        if v.kernel.size <= 25:
            terms = " + ".join(f"{_factor(a)}{_DOT}{_factor(b)}" for a, b in zip(v.window.ravel(), v.kernel.ravel()))
            lines.append(f"= {terms}")
        lines.append(f"= {_num(v.value)}")
        return _html([html.escape(line, quote=False) if not line.startswith("<b>") else line for line in lines])

    def _draw(self, v: ConvolutionView) -> bytes:
        fig = _figure(12.5, 4.4)
        a1, a2, a3 = fig.subplots(1, 3)
        self._draw_padded(a1, v.image, v.padding, v.pad_mode)
        kh, kw = v.kernel.shape
        _outline(a1, v.top, v.left, kh, kw)
        _matrix_panel(a2, v.kernel, f"kernel {kh}x{kw}")
        _matrix_panel(a3, v.output, f"output {_shape(v.output)} (stride {v.stride})", values=True)
        _outline(a3, v.row, v.col, 1, 1)
        fig.tight_layout()
        return _png(fig)

    @staticmethod
    def _draw_padded(ax: Any, x: np.ndarray, p: int, mode: str) -> None:
        padded = F.pad2d(x, p, mode=mode)
        _matrix_panel(ax, padded, f"padded input {_shape(padded)}" + (f" (padding {p}, {mode}: orange)" if p else ""))
        if p:
            border = np.ones(padded.shape, dtype=bool)
            border[p:-p, p:-p] = False
            _shade(ax, border, (1.0, 0.6, 0.0, 0.45))
            _outline(ax, p, p, x.shape[0], x.shape[1], edgecolor="darkorange", linewidth=1.5, linestyle="--")

    def _draw_fallback(self) -> None:
        fig = _figure(5.0, 4.4)
        ax = fig.subplots()
        p = self.padding.value
        self._draw_padded(ax, self._current_image(), p, self.pad_mode.value)
        fig.tight_layout()
        self.image.value = _png(fig)

    def __repr__(self) -> str:
        kernel = self.kernel.value
        if kernel == "custom":
            try:
                kernel = f"custom {_shape(parse_kernel(self.values.value))}"
            except ValueError:
                kernel = "custom (invalid)"
        x = self._current_image()
        out = _shape(self._view.output) if self._view is not None else "invalid"
        return _short(
            f"ConvolutionExplorer(kernel={kernel!r}, stride={self.stride.value}, padding={self.padding.value}, "
            f"mode={self.pad_mode.value!r}): {_shape(x)} -> {out}"
        )


def convolution_explorer(
    images: Any = None,
    labels: Any = None,
    *,
    image: int = 0,
    kernel: str = "edge (vertical)",
    stride: int = 1,
    padding: int = 0,
    pad_mode: str = "zeros",
) -> ConvolutionExplorer:
    """An interactive convolution: choose the image, kernel, stride, padding and one output position.

    The picture shows the padded input (padding shaded orange) with the
    kernel's window outlined, the kernel, and the output feature map with the
    chosen cell outlined; the text shows the output-size formulas with the
    current numbers and the chosen value as a sum of products.

    Parameters
    ----------
    images : array_like, optional
        ``(N, H, W)`` or ``(N, 1, H, W)`` images to offer first. By default the
        first MNIST test image of each digit 0-9 (MNIST is loaded only then).
        Small test images (a square, a line, a cross, a checkerboard and the
        lecture notes' examples) are always offered after them.
    labels : array_like of int, optional
        One label per image in ``images``.
    image : int, default 0
        Position of the starting image in the list.
    kernel : str, default "edge (vertical)"
        Starting kernel, a name from :data:`KERNELS`.
    stride : int, default 1
        Starting stride (the slider goes from 1 to 4).
    padding : int, default 0
        Starting padding (the slider goes from 0 to 3).
    pad_mode : {"zeros", "edge"}, default "zeros"
        Starting pad mode.

    Returns
    -------
    ConvolutionExplorer
        A widget; end a notebook cell with it to show it.

    Examples
    --------
    >>> ex = convolution_explorer(np.eye(6)[None], kernel="identity")
    >>> ex.stride.value = 2
    >>> ex.view.output.shape, ex
    ((2, 2), ConvolutionExplorer(kernel='identity', stride=2, padding=0, mode='zeros'): 6x6 -> 2x2)
    """
    return ConvolutionExplorer(images, labels, image=image, kernel=kernel, stride=stride, padding=padding, pad_mode=pad_mode)


class PoolingExplorer(_Explorer):
    """Max or average pooling: window, stride (overlapping windows when stride < window), one output explained.

    Made by :func:`pooling_explorer`, which documents the arguments.

    Parameters
    ----------
    images : array_like, optional
        ``(N, H, W)`` or ``(N, 1, H, W)`` images offered first. By default an
        8x8 image of small integers comes first, and an MNIST digit is offered
        (loaded only when chosen).
    image : int, default 0
        Which entry of the image list to start with.
    pool : {"max", "average"}, default "max"
        Starting pooling.
    window, stride : int, default 2
        Starting window size and stride (sliders from 1 to 4).

    Attributes
    ----------
    input : ipywidgets.Dropdown
        "image": the input.
    pool : ipywidgets.Dropdown
        "pool": max or average.
    window, stride : ipywidgets.IntSlider
        "window" and "stride" (1-4).
    out_row, out_col : ipywidgets.IntSlider
        "out row" and "out col": the output position explained.
    image : ipywidgets.Image
        The picture: the input with the chosen window (and, for max pooling, its
        winning cell), and the output with the chosen cell.
    info : ipywidgets.HTML
        The output-size formulas and the window's values and result.
    view : PoolingView or None
        The current computation.
    """

    _css = "cnnlib-pooling-explorer"

    def __init__(self, images: Any = None, *, image: int = 0, pool: str = "max", window: int = 2, stride: int = 2) -> None:
        where = "pooling_explorer"
        self._choices: list[tuple[str, np.ndarray | None]]
        if images is None:
            self._choices = [*_pooling_images(), (_MNIST_CHOICE, None)]  # None: load MNIST when chosen
        else:
            stack = image_stack(images, where)
            self._choices = [*_named_images(stack, None), *_pooling_images()]
        image = integer(image, "image", where, 0)
        if image >= len(self._choices):
            raise ValueError(f"{where}: image must be an index below {len(self._choices)}; got {image}")
        if pool not in ("max", "average"):
            raise ValueError(f"{where}: pool must be 'max' or 'average'; got {pool!r}")
        super().__init__()
        self.input = ipywidgets.Dropdown(
            options=[(name, i) for i, (name, _) in enumerate(self._choices)], value=image, description="image", style=_STYLE
        )
        self.pool = ipywidgets.Dropdown(options=["max", "average"], value=pool, description="pool", style=_STYLE)
        self.window = _int_slider("window", integer(window, "window", where, 1), 1, 4)
        self.stride = _int_slider("stride", integer(stride, "stride", where, 1), 1, 4)
        self.out_row = _int_slider("out row", 0, 0, 0)
        self.out_col = _int_slider("out col", 0, 0, 0)
        controls = [self.input, self.pool, self.window, self.stride, self.out_row, self.out_col]
        rows = [_row(self.input, self.pool), _row(self.window, self.stride), _row(self.out_row, self.out_col)]
        self._start(rows, controls)

    def _current_image(self) -> np.ndarray:
        i = self.input.value
        name, x = self._choices[i]
        if x is None:  # the MNIST digit, loaded on first use
            x = _mnist_test_digit()
            self._choices[i] = (name, x)
        return x

    def _refresh(self, change: Any) -> None:
        x = self._current_image()
        k, s = self.window.value, self.stride.value
        h, w = x.shape
        if k > min(h, w):
            raise ValueError(f"the window ({k}x{k}) is larger than the image ({h}x{w}): choose a smaller window")
        _set_max(self.out_row, F.conv_output_size(h, k, s) - 1)
        _set_max(self.out_col, F.conv_output_size(w, k, s) - 1)
        v = pooling_view(x, self.pool.value, k, s, self.out_row.value, self.out_col.value)
        self._view = v
        self.info.value = self._text(v)
        self.image.value = self._draw(v)

    @staticmethod
    def _text(v: PoolingView) -> str:
        k, s = v.window, v.stride
        lines = [
            html.escape(f"Output size = floor((input {_MINUS} window) / stride) + 1 (no padding)", quote=False),
            v.formula_h,
            v.formula_w,
        ]
        if s < k:
            lines.append(f"stride {s} &lt; window {k}: neighbouring windows overlap and share cells")
        elif s > k:
            lines.append(f"stride {s} &gt; window {k}: some cells lie in no window and are never looked at (grey)")
        values = ", ".join(_num(a) for a in v.patch.ravel())
        lines.append(
            f"<b>Output at (row {v.row}, col {v.col})</b>: window rows {v.top}..{v.top + k - 1}, "
            f"cols {v.left}..{v.left + k - 1}: [{values}]"
        )
        if v.pool == "max":
            assert v.winner is not None
            lines.append(f"max = {_num(v.value)} (at input row {v.winner[0]}, col {v.winner[1]})")
        else:
            lines.append(f"mean = ({' + '.join(_num(a) for a in v.patch.ravel())}) / {k * k} = {_num(v.value)}")
        return _html(lines)

    @staticmethod
    def _draw(v: PoolingView) -> bytes:
        fig = _figure(10.0, 4.6)
        a1, a2 = fig.subplots(1, 2)
        _matrix_panel(a1, v.image, f"input {_shape(v.image)}, {v.pool} pooling {v.window}x{v.window}, stride {v.stride}")
        _shade(a1, ~v.covered, (0.5, 0.5, 0.5, 0.6))
        oh, ow = v.output.shape
        if v.stride < v.window and (ow > 1 or oh > 1):  # show a neighbouring window to make the overlap visible
            if ow > 1:
                r, c = v.row, (v.col + 1 if v.col + 1 < ow else v.col - 1)
            else:
                r, c = (v.row + 1 if v.row + 1 < oh else v.row - 1), v.col
            _outline(a1, r * v.stride, c * v.stride, v.window, v.window, edgecolor="royalblue", linewidth=2, linestyle="--")
        _outline(a1, v.top, v.left, v.window, v.window)
        if v.winner is not None:
            _outline(a1, v.winner[0] + 0.12, v.winner[1] + 0.12, 0.76, 0.76, edgecolor="gold", linewidth=3)
        _matrix_panel(a2, v.output, f"output {_shape(v.output)}")
        _outline(a2, v.row, v.col, 1, 1)
        fig.tight_layout()
        return _png(fig)

    def _draw_fallback(self) -> None:
        try:
            x = self._current_image()
        except ValueError:  # no image to show (MNIST missing): leave the picture as it was
            return
        fig = _figure(5.0, 4.6)
        _matrix_panel(fig.subplots(), x, f"input {_shape(x)}")
        fig.tight_layout()
        self.image.value = _png(fig)

    def __repr__(self) -> str:
        i = self.input.value
        x = self._choices[i][1]
        size = _shape(x) if x is not None else "28x28"
        out = _shape(self._view.output) if self._view is not None else "invalid"
        return _short(
            f"PoolingExplorer(pool={self.pool.value!r}, window={self.window.value}, stride={self.stride.value}): "
            f"{size} -> {out}"
        )


def pooling_explorer(
    images: Any = None, *, image: int = 0, pool: str = "max", window: int = 2, stride: int = 2
) -> PoolingExplorer:
    """An interactive pooling: max or average, window and stride, one output position explained.

    The picture shows the input with the chosen window framed (black with a white line inside; a
    neighbouring window dashed in blue when windows overlap, cells no window
    reaches in grey, the winning cell of max pooling in gold) and the output
    with the chosen cell outlined; the text shows the output-size formulas and
    the window's values and result.

    Parameters
    ----------
    images : array_like, optional
        ``(N, H, W)`` or ``(N, 1, H, W)`` images to offer first. By default an
        8x8 image of small integers (numbers written in the cells) comes first;
        small test images follow, and an MNIST digit when ``images`` is None.
    image : int, default 0
        Position of the starting image in the list.
    pool : {"max", "average"}, default "max"
        Starting pooling.
    window : int, default 2
        Starting window size (the slider goes from 1 to 4).
    stride : int, default 2
        Starting stride (1 to 4); smaller than the window means overlapping windows.

    Returns
    -------
    PoolingExplorer
        A widget; end a notebook cell with it to show it.

    Examples
    --------
    >>> ex = pooling_explorer()
    >>> ex
    PoolingExplorer(pool='max', window=2, stride=2): 8x8 -> 4x4
    >>> ex.window.value = 3
    >>> ex.stride.value = 1
    >>> ex.view.output.shape, ex.out_row.max
    ((6, 6), 5)
    """
    return PoolingExplorer(images, image=image, pool=pool, window=window, stride=stride)
