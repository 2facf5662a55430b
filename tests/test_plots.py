"""The figure helpers draw what they claim, and reject data they cannot draw."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib import History, confusion_matrix, plots  # noqa: E402
from cnnlib.metrics import accuracy  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_show_matrix_writes_every_number_and_outlines_the_window():
    a = np.arange(12).reshape(3, 4)
    fig = plots.show_matrix(a, title="A", highlight=(1, 2, 2, 2))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == [str(v) for v in range(12)]
    assert ax.get_title() == "A"
    outer, inner = ax.patches  # the frame: black, with a white line inside it
    for rect in (outer, inner):
        assert rect.get_xy() == (1.5, 0.5) and rect.get_width() == 2 and rect.get_height() == 2
    assert outer.get_edgecolor()[:3] == (0, 0, 0) and inner.get_edgecolor()[:3] == (1, 1, 1)
    assert outer.get_linewidth() > inner.get_linewidth()
    with pytest.raises(ValueError, match="2-D"):
        plots.show_matrix(np.zeros(3))


def test_show_images_grid_labels_and_shapes():
    imgs = np.random.default_rng(0).random((10, 1, 5, 6))
    fig = plots.show_images(imgs, labels=list("abcdefghij"), ncols=4, title="T")
    assert len(fig.axes) == 12  # 3 rows x 4 columns, two left empty
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 10 and shown[3].get_title() == "d"
    np.testing.assert_array_equal(shown[0].images[0].get_array(), imgs[0, 0])
    with pytest.raises(ValueError, match="labels"):
        plots.show_images(imgs, labels=["x"])
    with pytest.raises(ValueError, match="one channel"):
        plots.show_images(np.zeros((2, 3, 4, 4)))


def test_show_images_accepts_one_image_and_nan_pixels():
    img = np.arange(12.0).reshape(3, 4)
    img[1, 2] = np.nan  # drawn as a gap (e.g. a diverged model's input gradient), not refused
    fig = plots.show_images(img)
    (shown,) = [ax for ax in fig.axes if ax.images]
    np.testing.assert_array_equal(np.ma.getdata(shown.images[0].get_array()), img)
    fig = plots.show_misclassified(np.stack([img, img])[:, None], [0, 1], [0, 0])
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["1 -> 0"]


def test_feature_maps_and_filters():
    maps = np.random.default_rng(1).random((1, 5, 4, 4))
    fig = plots.show_feature_maps(maps, ncols=3)
    assert sum(bool(ax.images) for ax in fig.axes) == 5
    w = np.random.default_rng(2).normal(size=(6, 2, 3, 3))
    fig = plots.show_filters(w, in_channel=1, title="W")
    imgs = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(imgs) == 6
    np.testing.assert_array_equal(imgs[2].get_array(), w[2, 1])
    lo, hi = imgs[0].get_clim()
    assert lo == -hi == -np.abs(w[:, 1]).max()  # symmetric, shared scale
    with pytest.raises(ValueError, match="in_channel"):
        plots.show_filters(w, in_channel=2)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        plots.show_feature_maps(np.zeros((2, 2)))


def test_learning_curves_from_history_and_dict():
    h = History(loss=[1.0, 0.5], accuracy=[0.6, 0.8], val_loss=[0.9, 0.4], val_accuracy=[0.7, 0.85])
    fig = plots.plot_learning_curves(h, title="run")
    a1, a2 = fig.axes
    assert len(a1.lines) == 2 and list(a2.lines[1].get_ydata()) == [0.7, 0.85]
    assert a1.get_xlabel() == "epoch"
    fig = plots.plot_learning_curves({"loss": [1.0], "accuracy": [0.5]})
    assert len(fig.axes[0].lines) == 1
    with pytest.raises(ValueError, match="no epochs"):
        plots.plot_learning_curves(History())


def test_confusion_matrix_counts_and_plot():
    t = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    cm = confusion_matrix(t, p, num_classes=4)
    np.testing.assert_array_equal(cm, [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]])
    assert cm.sum() == len(t) and np.trace(cm) == 4
    assert accuracy(t, p) == pytest.approx(4 / 6)
    fig = plots.plot_confusion_matrix(cm)
    assert sorted(x.get_text() for x in fig.axes[0].texts) == ["1", "1", "1", "1", "2"]
    assert fig.axes[0].get_xlabel() == "predicted class"
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix(t, p, num_classes=2)
    with pytest.raises(TypeError, match="integer"):
        confusion_matrix([0.5], [0])
    with pytest.raises(ValueError, match="equal length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="square"):
        plots.plot_confusion_matrix(np.zeros((2, 3)))


def test_show_misclassified_shows_only_the_wrong_ones():
    imgs = np.arange(5 * 4).reshape(5, 1, 2, 2).astype(float)
    fig = plots.show_misclassified(imgs, [0, 1, 2, 3, 4], [0, 7, 2, 9, 4])
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["1 -> 7", "3 -> 9"]
    np.testing.assert_array_equal(shown[1].images[0].get_array(), imgs[3, 0])
    assert "2 of 5" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="nothing to show"):
        plots.show_misclassified(imgs, [0] * 5, [0] * 5)


def test_grid_figures_draw_into_a_given_figure_or_subfigure():
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    fig = Figure(figsize=(6, 4))
    top, bottom = fig.subfigures(2, 1)
    maps = np.random.default_rng(3).random((3, 4, 4))
    assert plots.show_feature_maps(maps, ncols=3, title="maps", fig=top) is top
    assert plots.show_images(maps[:2], labels=["a", "b"], fig=bottom) is bottom
    assert [len(top.axes), len(bottom.axes)] == [3, 2]  # the grids went into the subfigures, nothing new
    np.testing.assert_array_equal(top.axes[2].images[0].get_array(), maps[2])
    assert bottom.axes[1].get_title() == "b" and top._suptitle.get_text() == "maps"
    w = np.random.default_rng(4).normal(size=(2, 1, 3, 3))
    other = Figure()
    assert plots.show_filters(w, fig=other) is other and len(other.axes) == 2
    assert plt.get_fignums() == before  # pyplot never saw these figures


def test_learning_curves_into_given_axes():
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    fig = Figure()
    axes = fig.subplots(1, 2)
    h = {"loss": [1.0, 0.5, 0.25], "accuracy": [0.5, 0.7, 0.9]}
    assert plots.plot_learning_curves(h, axes=axes, title="T") is fig
    assert list(axes[0].lines[0].get_ydata()) == [1.0, 0.5, 0.25]
    assert list(axes[1].lines[0].get_ydata()) == [0.5, 0.7, 0.9]
    assert fig._suptitle.get_text() == "T"
    assert plt.get_fignums() == before
    with pytest.raises(ValueError, match="two Axes"):
        plots.plot_learning_curves(h, axes=axes[:1])
