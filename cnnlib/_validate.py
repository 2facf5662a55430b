"""Input checks shared by the whole library.

Every public function and layer runs its inputs through these helpers, so that a
mistake (a wrong shape, a NaN, a string where a number belongs) stops with a
message that says what was expected and what was given, instead of a silent
wrong answer or an IndexError deep inside NumPy.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

__all__ = ["NonFiniteError"]


class NonFiniteError(ValueError):
    """Raised when an array that must be finite contains NaN or infinity."""


def as_float_array(x: Any, name: str, where: str) -> np.ndarray:
    """Return ``x`` as a floating-point array.

    Floating arrays keep their dtype (float32 stays float32); integers and
    booleans become float64 so that the lecture notes' integer examples work.
    Anything else (strings, objects, complex numbers) is rejected.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy raises many kinds
        raise TypeError(f"{where}: {name} must be array-like numbers; got {type(x).__name__}") from exc
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    raise TypeError(
        f"{where}: {name} must hold real numbers (float or int); got dtype {arr.dtype}"
        + (f" from {type(x).__name__}" if not isinstance(x, np.ndarray) else "")
    )


def check_finite(x: np.ndarray, name: str, where: str) -> None:
    """Raise :class:`NonFiniteError` if ``x`` holds NaN or +-inf.

    Summing first is much cheaper than building a boolean mask, and the sum of
    finite numbers is only non-finite in the (rare) overflow case, which the
    exact elementwise test then settles.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # a huge but finite sum may overflow; settled below
        if x.size == 0 or np.isfinite(np.sum(x)):
            return
    bad = ~np.isfinite(x)
    if bad.any():
        n_nan = int(np.isnan(x).sum())
        n_inf = int(bad.sum()) - n_nan
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NonFiniteError(
            f"{where}: {name} must be finite, but it contains {n_nan} NaN and {n_inf} infinite "
            f"value(s) (first at index {first}). Check the data, or lower the learning rate "
            "if this appeared during training."
        )


def check_ndim(x: np.ndarray, ndims: Sequence[int], name: str, where: str, layout: str) -> None:
    """Raise ValueError unless ``x.ndim`` is one of ``ndims``."""
    if x.ndim not in ndims:
        want = " or ".join(str(n) for n in ndims)
        raise ValueError(
            f"{where}: expected {name} with {want} dimensions {layout}; "
            f"got shape {tuple(x.shape)} ({x.ndim} dimension{'s' if x.ndim != 1 else ''})"
        )


def pair(value: Any, name: str, where: str, minimum: int = 1) -> tuple[int, int]:
    """Turn an int or a pair of ints into a ``(height, width)`` tuple of ints >= minimum."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        out = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{where}: {name} must be an int or a pair of ints (height, width); got {value!r}")
    if min(out) < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}; got {value!r}")
    return out


def real_number(value: Any, name: str, where: str) -> float:
    """Return ``value`` as a float, raising a clear error unless it is a real number (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{where}: {name} must be a finite real number; got {value!r}")
    return float(value)


def positive_int(value: Any, name: str, where: str) -> int:
    """Return ``value`` as an int, raising a clear error unless it is a positive integer."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer; got {value!r}")
    return int(value)
