"""Values across the boundary between the grader and a student's kernel, without pickle.

The grader sends a check's inputs into the kernel and brings the student
function's answer back. Pickle would let the kernel run code in the grader when
the answer is read, so values travel as JSON plus an ``.npz`` file read with
``allow_pickle=False``: numbers, strings, None, tuples, lists, dicts with string
keys, NumPy arrays of numbers or booleans, NumPy scalars. Anything else comes
back as a description (``Opaque``), which no check accepts as an answer.

:data:`KERNEL_SOURCE` is the code the grader runs in the kernel once: it defines
``_cnnlib_grader_call``, which reads the inputs, calls the student's function,
and writes the answer, the inputs as the function left them (so that a function
that changes its input in place is still caught), the NumPy warnings it raised,
and any exception, as a type name, a message and the line it came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Opaque", "RemoteError", "encode", "decode", "write", "read", "KERNEL_SOURCE"]


class Opaque:
    """An answer that cannot cross the boundary (an object of the student's own class, a function, ...)."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name = type_name
        self.text = text

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>"


class RemoteError(Exception):
    """An exception raised by the student's function inside the kernel, re-raised in the grader.

    ``type(exc).__name__`` is the original exception's name and ``cnnlib_where`` the
    line it came from, so the feedback reads as it does inside the notebook.
    """

    cnnlib_where: str = ""


def encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON-able tree for ``value``; arrays go into ``arrays`` under a fresh key."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"int": str(value)}  # JSON would lose precision on huge ints
    if isinstance(value, float):
        return {"float": repr(value)}  # keeps nan, inf and every bit
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"array": key}
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"scalar": key}
    if isinstance(value, tuple):
        return {"tuple": [encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return {"list": [encode(v, arrays) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": [[k, encode(v, arrays)] for k, v in value.items()]}
    return {"opaque": [type(value).__name__, repr(value)[:200]]}


def decode(tree: Any, arrays: Any) -> Any:
    """The value :func:`encode` described (``arrays``: the loaded ``.npz``)."""
    if tree is None or isinstance(tree, (bool, str)):
        return tree
    if not isinstance(tree, dict) or len(tree) != 1:
        raise ValueError(f"not an encoded value: {str(tree)[:80]}")
    (kind, v), = tree.items()
    if kind == "int":
        return int(v)
    if kind == "float":
        return float(v)
    if kind == "array":
        return np.array(arrays[v])
    if kind == "scalar":
        return np.array(arrays[v])[()]
    if kind == "tuple":
        return tuple(decode(t, arrays) for t in v)
    if kind == "list":
        return [decode(t, arrays) for t in v]
    if kind == "dict":
        return {str(k): decode(t, arrays) for k, t in v}
    if kind == "opaque":
        return Opaque(str(v[0]), str(v[1]))
    raise ValueError(f"unknown kind {kind!r}")


def write(path: Path, message: dict[str, Any]) -> None:
    """Write a message (a dict of values) as ``path`` (JSON) and ``path + '.npz'`` (its arrays)."""
    arrays: dict[str, np.ndarray] = {}
    tree = encode(message, arrays)
    np.savez(str(path) + ".npz", **arrays)
    Path(path).write_text(json.dumps(tree))


def read(path: Path) -> dict[str, Any]:
    """Read a message written by :func:`write`, never unpickling anything."""
    tree = json.loads(Path(path).read_text())
    with np.load(str(path) + ".npz", allow_pickle=False) as arrays:
        return decode(tree, arrays)


# The kernel side. It uses only NumPy and this module's encode/write, whose source is sent
# along, so the kernel needs nothing the student could have replaced in cnnlib.
KERNEL_SOURCE = r'''
def _cnnlib_grader_call(name, in_path, out_path):
    import traceback as _tb
    import warnings as _warnings
    import numpy as _np
    message = _cnnlib_grader_read(in_path)
    args, kwargs = list(message["args"]), dict(message["kwargs"])
    answer = {"ok": False}
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            fn = globals()[name]
            with _np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                result = fn(*args, **kwargs)
            if all(hasattr(result, a) for a in ("forward", "backward", "params", "buffers")):  # a model
                arrays = {}
                answer = {"ok": True, "model": {"spec": _cnnlib_grader_describe(result, arrays), "arrays": arrays}}
            else:
                answer = {"ok": True, "result": result}
        except KeyError:
            answer = {"ok": False, "type": "NameError", "message": f"name {name!r} is not defined", "where": ""}
        except BaseException as exc:
            frames = [f for f in _tb.extract_tb(exc.__traceback__)[1:]
                      if "site-packages" not in f.filename and "/numpy/" not in f.filename]
            frame = frames[-1] if frames else None
            where = f"\n(at line {frame.lineno} of {frame.name}: {(frame.line or '').strip()})" if frame else ""
            answer = {"ok": False, "type": type(exc).__name__, "message": str(exc), "where": where}
    answer["args"] = tuple(args)
    answer["kwargs"] = kwargs
    answer["warnings"] = [str(w.message) for w in caught]
    _cnnlib_grader_write(out_path, answer)
'''
