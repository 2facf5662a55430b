"""One colour convention in every figure: red is positive (cnnlib.plots.value_colours).

Signed values: RdBu_r centred on zero (red positive, blue negative, white zero). Values that cannot be
negative: Reds (white zero). Pixel images: grey. Both ColorBrewer maps are safe for the common colour-vision
deficiencies, and the one-hue map reads in greyscale (its lightness falls as the value grows).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from cnnlib import plots

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent

# Every colour map a notebook or cnnlib names, and why it is allowed.
ALLOWED = {
    "RdBu_r": "signed values, centred on zero",
    "Reds": "values that cannot be negative",
    "gray": "pixel images",
    "Greys": "pixel images (black ink on white)",
    "Blues": "notebook 07 only: the identity of channel 0 (next to channel 1 in Oranges), not a value",
    "Oranges": "notebook 07 only: the identity of channel 1",
    "autumn": "notebook 09 only: one flat highlight colour over a receptive field, with a red outline",
}


def test_value_colours_signed_and_positive():
    assert plots.value_colours([[1, -3], [2, 0]]) == {"cmap": "RdBu_r", "vmin": -3.0, "vmax": 3.0}
    assert plots.value_colours([0.0, 2.0, 5.0]) == {"cmap": "Reds", "vmin": 0.0, "vmax": 5.0}
    # all zero, empty, NaNs: zero stays white, no NaN limits
    assert plots.value_colours(np.zeros((2, 2))) == {"cmap": "Reds", "vmin": 0.0, "vmax": 1.0}
    assert plots.value_colours([]) == {"cmap": "Reds", "vmin": 0.0, "vmax": 1.0}
    assert plots.value_colours([np.nan, -2.0, 1.0]) == {"cmap": "RdBu_r", "vmin": -2.0, "vmax": 2.0}


def test_zero_is_white_and_red_is_positive():
    import matplotlib.pyplot as plt

    fig = plots.show_matrix(np.array([[-2.0, 0.0, 2.0]]))
    image = fig.axes[0].images[0]
    rgba = image.cmap(image.norm(np.array([-2.0, 0.0, 2.0])))
    plt.close(fig)
    blue, white, red = rgba[:, :3]
    assert red[0] > red[2] and blue[2] > blue[0], (red, blue)
    assert np.all(white > 0.95), white
    fig = plots.show_feature_maps(np.stack([np.array([[0.0, 1.0]]), np.array([[-1.0, 3.0]])]))
    cmaps = [ax.images[0].cmap.name for ax in fig.axes if ax.images]
    lims = [ax.images[0].get_clim() for ax in fig.axes if ax.images]
    plt.close(fig)
    assert cmaps == ["Reds", "RdBu_r"] and lims == [(0.0, 1.0), (-3.0, 3.0)]


def test_show_matrix_numbers_stay_readable():
    """Dark cells (far from zero, either sign) get white numbers, pale ones black."""
    import matplotlib.pyplot as plt

    fig = plots.show_matrix(np.array([[-9.0, -1.0, 0.0, 1.0, 9.0]]))
    colours = [t.get_color() for t in fig.axes[0].texts]
    plt.close(fig)
    assert colours == ["white", "black", "black", "black", "white"]


CMAP_NAME = re.compile(r"""cmap\s*=\s*["']([\w.]+)["']""")


def _named_cmaps():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] == "code":
                for name in CMAP_NAME.findall("".join(cell["source"])):
                    yield f"{path.relative_to(ROOT)} cell {i}", name
    for path in sorted((ROOT / "cnnlib").rglob("*.py")):
        for name in CMAP_NAME.findall(path.read_text(encoding="utf-8")):
            yield str(path.relative_to(ROOT)), name
        for name in re.findall(r"""_CMAP\s*=\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")):
            yield str(path.relative_to(ROOT)), name


def test_only_the_course_colour_maps_are_used():
    found = list(_named_cmaps())
    assert len(found) > 10, found  # the scan reads the sources
    bad = [(where, name) for where, name in found if name not in ALLOWED]
    assert not bad, f"colour maps outside the course's convention (see {__name__}.ALLOWED): {bad}"
    for where, name in found:
        if name in ("Blues", "Oranges"):
            assert where.startswith("notebooks/07"), (where, name)
        if name == "autumn":
            assert where.startswith("notebooks/09"), (where, name)


@pytest.mark.parametrize("source", ['ax.imshow(a, cmap="jet")', "imshow(a, cmap = 'viridis', vmin=0)",
                                    'show_matrix(m, cmap="rainbow")'])
def test_the_scan_would_catch_another_map(source):
    (name,) = CMAP_NAME.findall(source)
    assert name not in ALLOWED


def _luminance(cmap_name: str, values: np.ndarray) -> np.ndarray:
    rgb = matplotlib.colormaps[cmap_name](values)[:, :3]
    return rgb @ np.array([0.2126, 0.7152, 0.0722])  # relative luminance weights (sRGB, ITU-R BT.709)


def test_the_positive_map_reads_in_greyscale():
    """Reds: every step up in value is a step darker, so a greyscale print keeps the order."""
    lum = _luminance(plots.POSITIVE_CMAP, np.linspace(0, 1, 256))
    assert np.all(np.diff(lum) < 0), "lightness must fall as the value grows"
    assert lum[0] > 0.9 and lum[-1] < 0.2  # white-ish zero, dark maximum


def test_the_signed_map_shows_size_not_sign_in_greyscale():
    """RdBu_r: zero is the lightest colour and lightness falls with |v| on both sides (size reads in grey);
    +v and -v have about the same lightness, which is why signed figures also write numbers or name the sign."""
    v = np.linspace(0, 1, 257)
    lum = _luminance(plots.SIGNED_CMAP, v)
    mid = 128
    assert lum[mid] >= lum.max() - 1e-3  # zero is (within a rounding step) the lightest
    assert np.all(np.diff(lum[mid:]) <= 1e-3) and np.all(np.diff(lum[:mid + 1]) >= -1e-3)
    assert np.max(np.abs(lum[mid:] - lum[mid::-1])) < 0.15  # +v and -v: nearly the same grey
