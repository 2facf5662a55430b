"""Checks for the exercise notebooks: is the function you wrote right, and if not, where not?

Each ``check_*`` function takes a function you wrote (the function itself, not its
result), calls it on several small inputs chosen to catch the mistakes a first
attempt usually makes (stride > 1 together with padding, non-square inputs,
overlapping pooling windows, windows where every value is negative, very large
logits, ...) and compares each answer with cnnlib's tested reference
implementation. Backward passes are also compared with finite differences.

The check prints what it found and returns a :class:`CheckResult`:

- ``passed``: every case matches;
- ``failed``: the first case that went wrong is shown with the expected and the
  received values (rounded) and a hint; an exception raised by your function
  counts as a failure and is shown with the line it came from;
- ``not implemented``: your function still raises ``NotImplementedError`` (the
  stub as handed out).

Use it from a notebook, or from plain Python::

    from cnnlib import checks
    result = checks.check_conv2d(my_conv2d)
    result.status          # "passed", "failed" or "not implemented"
"""

from __future__ import annotations

import copy
import json
import textwrap
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from . import functional as F
from .gradcheck import numerical_gradient, relative_error
from .layers import BatchNorm2d, Layer
from .losses import CrossEntropyLoss

__all__ = [
    "PASSED",
    "FAILED",
    "NOT_IMPLEMENTED",
    "CaseResult",
    "CheckResult",
    "check_conv2d_single",
    "check_conv2d",
    "check_output_size",
    "check_conv_output_shape",
    "check_conv_param_count",
    "check_pad_zeros",
    "check_pad_edge",
    "check_same_padding",
    "check_relu",
    "check_relu_backward",
    "check_sigmoid",
    "check_sigmoid_backward",
    "check_tanh",
    "check_tanh_backward",
    "check_max_pool2d",
    "check_max_pool2d_backward",
    "check_avg_pool2d",
    "check_avg_pool2d_backward",
    "check_softmax",
    "check_cross_entropy",
    "check_cross_entropy_backward",
    "check_flatten",
    "check_flatten_backward",
    "check_batchnorm_forward",
    "check_batchnorm_backward",
    "check_running_stats",
    "check_conv2d_grad_weight",
    "check_conv2d_grad_input",
    "check_mnist_cnn",
]

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not implemented"

RTOL = 1e-5  # relative tolerance of value comparisons (float64 answers agree to ~1e-12)
GRAD_TOL = 1e-5  # largest relative error accepted against a finite-difference gradient

# Every check appends a one-line summary here; ``python -m cnnlib.grade`` reads it.
_LOG: list[dict[str, Any]] = []


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass
class CaseResult:
    """Outcome of one case of a check.

    Attributes
    ----------
    id : str
        Short name of the case, e.g. ``"stride_and_padding"``.
    description : str
        What the case tries, in words.
    passed : bool
        True when the answer matched.
    message : str
        What went wrong (expected and received values), empty when passed.
    hint : str
        A suggestion for fixing it.
    not_implemented : bool
        True when the function raised ``NotImplementedError``.
    """

    id: str
    description: str
    passed: bool
    message: str = ""
    hint: str = ""
    not_implemented: bool = False


@dataclass
class CheckResult:
    """What a check found: an overall status and one :class:`CaseResult` per case.

    Attributes
    ----------
    exercise : str
        The name of the exercise (the checked function), e.g. ``"conv2d"``.
    status : str
        ``"passed"``, ``"failed"`` or ``"not implemented"``.
    cases : list of CaseResult
        Every case, in the order they were tried.
    note : str
        A remark about the whole check (a function was expected; the MNIST check's accuracy).
    details : dict
        Extra numbers some checks report (the MNIST check: accuracy, model, time).
    """

    exercise: str
    status: str
    cases: list[CaseResult] = field(default_factory=list)
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every case passed."""
        return self.status == PASSED

    @property
    def not_implemented(self) -> bool:
        """True when the function still raises ``NotImplementedError``."""
        return self.status == NOT_IMPLEMENTED

    @property
    def failed_cases(self) -> list[CaseResult]:
        """The cases that did not pass."""
        return [c for c in self.cases if not c.passed]

    @property
    def failed_case_ids(self) -> list[str]:
        """The ids of the cases that did not pass."""
        return [c.id for c in self.failed_cases]

    @property
    def n_passed(self) -> int:
        """How many cases passed."""
        return sum(c.passed for c in self.cases)

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary (the grader collects these)."""
        first = self.failed_cases[0] if self.status == FAILED and self.failed_cases else None
        return {
            "exercise": self.exercise,
            "status": self.status,
            "cases_passed": self.n_passed,
            "cases": len(self.cases),
            "first_failure": first.id if first else ("" if self.status != FAILED else "(see note)"),
            "note": self.note or (next((c.message for c in self.cases if c.message), "") if self.status == PASSED else ""),
        }

    def feedback(self) -> str:
        """The text a check prints: a clear pass, "not implemented", or the first failing case in detail."""
        name = self.exercise
        if self.status == PASSED:
            text = f"PASSED  {name}: {self.note or f'all {len(self.cases)} cases match the reference.'} Well done!"
            notes = [c.message for c in self.cases if c.message]
            if notes:
                text += "\n" + _indent(notes[0], 2)
            return text
        if self.status == NOT_IMPLEMENTED:
            return (
                f"NOT IMPLEMENTED  {name}: the function still raises NotImplementedError.\n"
                f"  Replace `raise NotImplementedError` (under # YOUR CODE HERE) with your code, run that cell,\n"
                f"  then run this check again."
            )
        lines = [f"FAILED  {name}: {self.n_passed} of {len(self.cases)} cases pass."]
        if self.note:
            lines.append(_indent(self.note, 2))
        ok = [c.id for c in self.cases if c.passed]
        if ok:
            lines.append(f"  passed: {', '.join(ok)}")
        bad = self.failed_cases
        if bad:
            first = bad[0]
            lines.append(_wrap(f"FAILED case '{first.id}': {first.description}", 2, 4))
            if first.message:
                lines.append(_indent(first.message, 4))
            if first.hint:
                lines.append(_wrap("hint: " + first.hint, 4, 10))
            for other in bad[1:]:
                head = other.message.splitlines()[0] if other.message else ""
                lines.append(_wrap(f"also failed: '{other.id}' ({other.description})" + (f": {head}" if head else ""), 2, 6))
            if len(bad) > 1:
                lines.append("  Fix the first failing case, then run the check again.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.feedback()

    def __repr__(self) -> str:
        return f"CheckResult({self.exercise!r}, {self.status!r}, {self.n_passed}/{len(self.cases)} cases)"


def _log_json() -> str:
    """Every check run so far in this Python process, as JSON (read by the grader)."""
    return json.dumps(_LOG)


# --------------------------------------------------------------------------
# The engine: run cases, compare, explain
# --------------------------------------------------------------------------


@dataclass
class _Case:
    id: str
    description: str
    args: tuple
    expected: Any
    hint: str
    kwargs: dict = field(default_factory=dict)
    names: tuple[str, ...] = ("y",)  # output names; more than one means a tuple is expected
    kind: str = "array"  # "array", "int", "ints" (a tuple of ints) or "scalar"
    numerical: bool = False  # expected comes from finite differences
    diagnoses: tuple[tuple[str, Any], ...] = ()  # (what it looks like, the answer of that mistake)


def _indent(text: str, n: int) -> str:
    return textwrap.indent(text, " " * n)


def _wrap(text: str, first: int, rest: int, width: int = 100) -> str:
    return textwrap.fill(text, width=width, initial_indent=" " * first, subsequent_indent=" " * rest,
                         break_long_words=False, break_on_hyphens=False)


def _where(exc: BaseException) -> str:
    """The line of the student's code an exception came from (skipping this module and NumPy)."""
    here = Path(__file__).resolve()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() != here]
    user = [f for f in frames if "site-packages" not in f.filename and "/numpy/" not in f.filename]
    frame = (user or frames or [None])[-1]
    if frame is None:
        return ""
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"\n(at line {frame.lineno} of {frame.name}{code})"


def _run(exercise: str, fn: Any, cases: Sequence[_Case], argnames: Sequence[str], verbose: bool) -> CheckResult:
    if not callable(fn):
        result = CheckResult(
            exercise,
            FAILED,
            [],
            note=(
                f"expected a function, but got {type(fn).__name__}. Pass the function itself, without "
                f"calling it: checks.check_{exercise}({exercise})"
            ),
        )
    else:
        results = [_run_case(fn, case, argnames) for case in cases]
        if all(r.not_implemented for r in results):
            status = NOT_IMPLEMENTED
        elif all(r.passed for r in results):
            status = PASSED
        else:
            status = FAILED
        result = CheckResult(exercise, status, results)
    return _finish(result, verbose)


def _finish(result: CheckResult, verbose: bool) -> CheckResult:
    _LOG.append(result.summary())
    if verbose:
        print(result.feedback(), flush=True)
    return result


def _run_case(fn: Callable, case: _Case, argnames: Sequence[str]) -> CaseResult:
    args = copy.deepcopy(case.args)
    kwargs = copy.deepcopy(case.kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                received = fn(*args, **kwargs)
        except NotImplementedError:
            return CaseResult(case.id, case.description, False, "raised NotImplementedError", not_implemented=True)
        except Exception as exc:  # any mistake in the student's code is a failed case, not a crash
            msg = f"your function raised {type(exc).__name__}: {exc}{_where(exc)}"
            return CaseResult(case.id, case.description, False, msg, case.hint)
    numpy_warnings = sorted({str(w.message) for w in caught})
    try:
        problem = _compare(case, received)
    except Exception as exc:  # an answer so odd that comparing it fails
        problem = f"could not compare the answer ({type(exc).__name__}: {exc}); received {_describe(received)}"
    if problem is None:
        changed = [nm for nm, a, b in zip(argnames, args, case.args) if not _same(a, b)]
        if changed:
            return CaseResult(
                case.id, case.description, False,
                f"the answer is right, but your function changed its input {', '.join(changed)} in place",
                "work on a copy (y = x.copy(), or np.maximum(x, 0) instead of x[x < 0] = 0): "
                "the caller (and the backward pass) still needs the original values",
            )
        note = (f"note: right answer, but NumPy warned: {'; '.join(numpy_warnings)}" if numpy_warnings else "")
        return CaseResult(case.id, case.description, True, note)
    if numpy_warnings:
        problem += f"\nNumPy warned: {'; '.join(numpy_warnings)}"
    hint = case.hint
    for looks_like, wrong in case.diagnoses:
        if _matches(received, wrong):
            problem += f"\nThis looks like {looks_like}."
            break
    return CaseResult(case.id, case.description, False, problem, hint)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return True


def _matches(received: Any, wrong: Any) -> bool:
    try:
        if isinstance(wrong, tuple):
            return isinstance(received, (tuple, list)) and len(received) == len(wrong) and all(
                _matches(r, w) for r, w in zip(received, wrong)
            )
        r = np.asarray(received, dtype=np.float64)
        w = np.asarray(wrong, dtype=np.float64)
        return r.shape == w.shape and bool(np.allclose(r, w, rtol=RTOL, atol=1e-9, equal_nan=True))
    except Exception:
        return False


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} item(s)"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


def _compare(case: _Case, received: Any) -> str | None:
    """None when ``received`` matches ``case.expected``, else what is wrong."""
    if received is None:
        return "received None: did you forget the `return` statement?"
    if len(case.names) > 1:
        if not isinstance(received, (tuple, list)) or len(received) != len(case.names):
            return (
                f"expected a tuple of {len(case.names)} arrays ({', '.join(case.names)}); received {_describe(received)}. "
                f"End with: return {', '.join(case.names)}"
            )
        for name, e, r in zip(case.names, case.expected, received):
            problem = _compare_one(case, name, e, r)
            if problem:
                return problem
        return None
    return _compare_one(case, case.names[0], case.expected, received)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _compare_one(case: _Case, name: str, e: Any, r: Any) -> str | None:
    if r is None:
        return f"received None for {name}: did you forget to compute or return it?"
    if case.kind == "int":
        if not _is_int(r):
            if isinstance(r, (float, np.floating)) and float(r) == e:
                return f"received {r!r}, a float; return an int (use // for floor division, or int(...))"
            return f"expected {e}, received {r!r}"
        return None if int(r) == e else f"expected {e}, received {int(r)}"
    if case.kind == "ints":
        if not isinstance(r, (tuple, list)) or not all(_is_int(v) for v in r):
            return f"expected a tuple of ints {e}, received {r!r}" + (
                " (use // for floor division so that sizes are ints)" if isinstance(r, (tuple, list)) else ""
            )
        return None if tuple(int(v) for v in r) == tuple(e) else f"expected {tuple(e)}, received {tuple(int(v) for v in r)}"
    if case.kind == "scalar":
        try:
            rv = np.asarray(r, dtype=np.float64)
        except (TypeError, ValueError):
            return f"expected a number, received {_describe(r)}"
        if rv.ndim != 0:
            return f"expected a single number, received an array of shape {rv.shape}: {_fmt(rv)}"
        rv = float(rv)
        if not np.isfinite(rv):
            return f"expected {e:.6g}, received {rv} (not a finite number: something overflowed or took log(0))"
        ok = abs(rv - e) <= RTOL * max(abs(e), 1e-3) + 1e-9
        return None if ok else f"expected {e:.6g}, received {rv:.6g}"
    # arrays
    try:
        ra = np.asarray(r, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected {name} as an array of numbers, received {_describe(r)}"
    ea = np.asarray(e, dtype=np.float64)
    if ra.shape != ea.shape:
        text = f"expected {name} of shape {ea.shape}, received shape {ra.shape}"
        if ea.ndim <= 2 and ra.ndim <= 2 and ea.size <= 64 and ra.size <= 64:
            text += f"\nexpected {name}:\n{_indent(_fmt(ea), 2)}\nreceived:\n{_indent(_fmt(ra), 2)}"
        return text
    bad = ~np.isfinite(ra)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        text = (
            f"received {int(bad.sum())} NaN or infinite value(s) in {name}, e.g. {name}{list(idx)} = {ra[idx]} "
            f"where {ea[idx]:.6g} was expected (an overflow, or 0/0)"
        )
        return text + "\n" + _show_pair(name, ea, ra, idx)
    scale = float(np.abs(ea).max()) if ea.size else 0.0
    if case.numerical:
        err = relative_error(ra, ea, floor=max(1e-3 * scale, 1e-12))
        if err <= GRAD_TOL:
            return None
        idx = np.unravel_index(int(np.argmax(np.abs(ra - ea))), ea.shape) if ea.size else ()
        idx = tuple(int(i) for i in idx)
        return (
            f"{name} does not match the finite-difference gradient (relative error {err:.1e}, allowed {GRAD_TOL:g})\n"
            + _show_pair(name, ea, ra, idx, expected_label="numerical")
        )
    close = np.isclose(ra, ea, rtol=RTOL, atol=1e-9 + 1e-7 * scale)
    if close.all():
        return None
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(ra - ea) * ~close)), ea.shape))
    return f"{int((~close).sum())} of {ea.size} value(s) of {name} differ\n" + _show_pair(name, ea, ra, idx)


def _fmt(a: np.ndarray) -> str:
    with np.printoptions(precision=4, suppress=True, threshold=64, edgeitems=3, linewidth=96, floatmode="maxprec"):
        return np.array2string(np.asarray(a))


def _show_pair(name: str, e: np.ndarray, r: np.ndarray, idx: tuple[int, ...], expected_label: str = "expected") -> str:
    """Expected and received, rounded; for large arrays only the 2-D slice that holds ``idx``."""
    if e.ndim > 2 and e.size > 64:
        lead = idx[:-2]
        label = f"{name}[{', '.join(map(str, lead))}]"
        es, rs = e[lead], r[lead]
        shape_note = f" (one slice of {e.shape})"
    else:
        label, es, rs, shape_note = name, e, r, ""
    pos = f"{name}[{', '.join(map(str, idx))}]" if idx else name
    return (
        f"{expected_label} {label}{shape_note}:\n{_indent(_fmt(es), 2)}\n"
        f"received {label}:\n{_indent(_fmt(rs), 2)}\n"
        f"first difference at {pos}: {expected_label} {e[idx]:.6g}, received {r[idx]:.6g}"
    )


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _ints(rng: np.random.Generator, shape: tuple[int, ...], low: int = -4, high: int = 5) -> np.ndarray:
    """Small integers as float64: easy to read in feedback, exact in every sum."""
    return rng.integers(low, high, size=shape).astype(np.float64)


# --------------------------------------------------------------------------
# 01 convolution
# --------------------------------------------------------------------------


def check_conv2d_single(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, k)``: a single-channel 2-D convolution, stride 1, no padding, with loops.

    Parameters
    ----------
    fn : callable
        ``fn(x, k)`` with an image ``x`` of shape ``(H, W)`` and a kernel ``k`` of
        shape ``(kh, kw)``, returning ``(H - kh + 1, W - kw + 1)``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    rng = _rng(1)
    hint = (
        "y[i, j] = sum over p, q of x[i + p, j + q] * k[p, q]; the output has H - kh + 1 rows and "
        "W - kw + 1 columns (rows first); the kernel is not flipped"
    )
    cases = []

    def add(id_: str, desc: str, x: np.ndarray, k: np.ndarray, h: str = hint) -> None:
        diag = [("a true convolution: the kernel is flipped. Deep-learning 'convolution' slides it unflipped", F.conv2d(x, k[::-1, ::-1]))]
        if k.shape[0] == k.shape[1]:
            diag.append(("the kernel transposed: k[p, q] is row p, column q", F.conv2d(x, k.T)))
        cases.append(_Case(id_, desc, (x, k), F.conv2d(x, k), h, diagnoses=tuple(diag)))

    add("lecture_example", "the worked example: 3x4 image, 2x2 kernel",
        np.array([[5, 2, 2, 3], [3, 1, 2, 1], [9, 0, 4, 5]], dtype=float), np.array([[1, 2], [-1, 0]], dtype=float))
    add("square_3x3", "5x5 image, 3x3 kernel", _ints(rng, (5, 5)), _ints(rng, (3, 3)))
    add("non_square", "6x9 image, 2x3 kernel (rows and columns differ)", _ints(rng, (6, 9)), _ints(rng, (2, 3)),
        "rows come first: the output is (H - kh + 1, W - kw + 1); loop i over rows with kh, j over columns with kw")
    add("kernel_as_big_as_image", "3x4 image, 3x4 kernel: a single output number", _ints(rng, (3, 4)), _ints(rng, (3, 4)),
        "with a kernel as big as the image there is exactly one position: range(H - kh + 1) has one entry")
    add("one_by_one_kernel", "4x5 image, 1x1 kernel: just scales the image", _ints(rng, (4, 5)), np.array([[2.5]]))
    return _run("conv2d_single", fn, cases, ("x", "k"), verbose)


def check_conv2d(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, w, b=None, stride=1, padding=0)``: multi-channel convolution of a batch.

    Parameters
    ----------
    fn : callable
        ``fn(x, w, b=None, stride=1, padding=0)`` with ``x`` of shape ``(N, C, H, W)``,
        ``w`` of shape ``(O, C, kh, kw)``, ``b`` of shape ``(O,)`` or None, integer
        stride and zero padding; returns ``(N, O, OH, OW)``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    rng = _rng(2)
    size = "OH = (H + 2*padding - kh) // stride + 1, and likewise OW"
    cases = []

    def add(id_: str, desc: str, x, w, b=None, stride=None, padding=None, hint=""):
        kwargs = {}
        if stride is not None:
            kwargs["stride"] = stride
        if padding is not None:
            kwargs["padding"] = padding
        s, p = stride or 1, padding or 0
        expected = F.conv2d(x, w, b, stride=s, padding=p)
        diag = [("a true convolution (kernel flipped); deep-learning convolution does not flip it",
                 F.conv2d(x, w[..., ::-1, ::-1], b, stride=s, padding=p))]
        if b is not None:
            diag.append(("the bias was left out", F.conv2d(x, w, None, stride=s, padding=p)))
        if x.shape[1] > 1:
            diag.append(("only the first input channel was used: sum over all C channels",
                         F.conv2d(x[:, :1], w[:, :1], b, stride=s, padding=p)))
        if w.shape[2] == w.shape[3]:
            diag.append(("the kernel transposed (rows and columns swapped)",
                         F.conv2d(x, w.transpose(0, 1, 3, 2), b, stride=s, padding=p)))
        cases.append(_Case(id_, desc, (x, w, b), expected, hint, kwargs, diagnoses=tuple(diag)))

    add("one_channel", "one 4x5 image, one channel, one 3x3 filter, defaults (no bias, stride 1, no padding)",
        _ints(rng, (1, 1, 4, 5)), _ints(rng, (1, 1, 3, 3)),
        hint="y[n, o, i, j] = sum over c, p, q of x[n, c, i + p, j + q] * w[o, c, p, q]; b=None means no bias")
    add("multi_channel", "2 images, 3 channels, 4 filters of 3x3, with bias",
        _ints(rng, (2, 3, 5, 6)), _ints(rng, (4, 3, 3, 3)), _ints(rng, (4,)),
        hint="each filter w[o] has one kernel per input channel: sum window * w[o] over all C channels, rows and "
        "columns, then add b[o]; loop over images n and filters o")
    add("padding", "padding=1 (zeros) on a 5x4 image with 2 channels, 3 filters",
        _ints(rng, (1, 2, 5, 4)), _ints(rng, (3, 2, 3, 3)), _ints(rng, (3,)), padding=1,
        hint="first pad rows and columns with `padding` zeros on every side, e.g. np.pad(x, ((0, 0), (0, 0), "
        f"(p, p), (p, p))), then slide over the padded image; {size}")
    add("stride", "stride=2, no padding, on a 7x7 image",
        _ints(rng, (2, 1, 7, 7)), _ints(rng, (2, 1, 3, 3)), stride=2,
        hint=f"output (i, j) reads the window starting at row i*stride and column j*stride; {size}")
    add("stride_and_padding", "stride=2 with padding=1 on a non-square 7x6 image, 3 channels",
        _ints(rng, (2, 3, 7, 6)), _ints(rng, (2, 3, 3, 3)), _ints(rng, (2,)), stride=2, padding=1,
        hint=f"pad first, then step by the stride over the padded image; {size} (here 4 x 3)")
    add("stride_3_leftover", "stride=3, padding=2, 2x3 kernel on an 8x10 image: the last rows do not fit a whole step",
        _ints(rng, (1, 1, 8, 10)), _ints(rng, (1, 1, 2, 3)), _ints(rng, (1,)), stride=3, padding=2,
        hint=f"positions that do not fit a whole window are dropped (floor division): {size}, here 4 x 4")
    add("non_square_kernel", "2 channels, 2x4 kernels, stride 1",
        _ints(rng, (1, 2, 5, 6)), _ints(rng, (2, 2, 2, 4)), _ints(rng, (2,)),
        hint="kh = w.shape[2] (rows) and kw = w.shape[3] (columns) can differ")
    return _run("conv2d", fn, cases, ("x", "w", "b"), verbose)


# --------------------------------------------------------------------------
# 02 sizes and parameters
# --------------------------------------------------------------------------


def _out(n: int, k: int, s: int = 1, p: int = 0) -> int:
    return (n + 2 * p - k) // s + 1


def check_output_size(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(n, kernel_size, stride=1, padding=0)``: the length of one output dimension.

    Parameters
    ----------
    fn : callable
        ``fn(n, kernel_size, stride=1, padding=0)`` returning an int.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = "out = (n + 2*padding - kernel_size) // stride + 1: padding is added on both sides; // rounds down"
    rows = [
        ("same_28_k3_p1", "28 pixels, 3x3 kernel, padding 1: the size is kept", 28, 3, 1, 1),
        ("valid_28_k5", "28 pixels, 5x5 kernel, no padding", 28, 5, 1, 0),
        ("stride2_pad1_odd", "7 pixels, kernel 3, stride 2, padding 1", 7, 3, 2, 1),
        ("stride2_pad1_even_floor", "8 pixels, kernel 3, stride 2, padding 1: (8 + 2 - 3) / 2 is not whole", 8, 3, 2, 1),
        ("stride3_pad2", "32 pixels, kernel 5, stride 3, padding 2", 32, 5, 3, 2),
        ("kernel_equals_input", "5 pixels, kernel 5: one position", 5, 5, 1, 0),
        ("pool_2x2", "a 2x2 pooling window with stride 2 on 28 pixels", 28, 2, 2, 0),
    ]
    cases = [
        _Case(id_, desc, (n, k), _out(n, k, s, p), hint, {"stride": s, "padding": p}, kind="int",
              diagnoses=(("rounding up instead of down (ceil); leftover pixels that do not fit a window are dropped",
                          -(-(n + 2 * p - k) // s) + 1),
                         ("padding counted on one side only; it is added on both sides", _out(n, k, s, 0) if p == 0 else (n + p - k) // s + 1),
                         ("the + 1 is missing (the first position counts too)", (n + 2 * p - k) // s)))
        for id_, desc, n, k, s, p in rows
    ]
    return _run("output_size", fn, cases, (), verbose)


def check_conv_output_shape(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(input_shape, out_channels, kernel_size, stride=1, padding=0)``: a conv layer's output shape.

    Parameters
    ----------
    fn : callable
        Returns ``(N, out_channels, OH, OW)`` as a tuple of ints for an input
        shape ``(N, C, H, W)`` and a square ``kernel_size``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = "(N, C, H, W) becomes (N, out_channels, OH, OW): the batch stays, the channels become out_channels, and OH, OW follow the output-size formula"
    rows = [
        ("mnist_first_layer", "MNIST batch (64, 1, 28, 28), 16 filters of 3x3, padding 1", (64, 1, 28, 28), 16, 3, 1, 1),
        ("non_square", "(8, 3, 32, 24), 10 filters of 5x5, no padding", (8, 3, 32, 24), 10, 5, 1, 0),
        ("stride_and_padding", "(2, 4, 15, 9), 6 filters of 3x3, stride 2, padding 1", (2, 4, 15, 9), 6, 3, 2, 1),
        ("one_by_one", "(5, 32, 7, 7), 8 filters of 1x1", (5, 32, 7, 7), 8, 1, 1, 0),
    ]
    cases = [
        _Case(id_, desc, (shape, o, k), (shape[0], o, _out(shape[2], k, s, p), _out(shape[3], k, s, p)), hint,
              {"stride": s, "padding": p}, kind="ints")
        for id_, desc, shape, o, k, s, p in rows
    ]
    return _run("conv_output_shape", fn, cases, (), verbose)


def check_conv_param_count(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(in_channels, out_channels, kernel_size, bias=True)``: learnable numbers of a conv layer.

    Parameters
    ----------
    fn : callable
        ``kernel_size`` is an int (square) or a pair ``(kh, kw)``; returns an int.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("each of the out_channels filters has in_channels x kh x kw weights, plus one bias per filter "
            "(when bias=True); a kernel_size pair (kh, kw) means kh rows and kw columns")
    rows = [
        ("mnist_first_layer", "1 -> 16 channels, 3x3", (1, 16, 3), {}, 16 * 9 + 16),
        ("mnist_second_layer", "16 -> 32 channels, 3x3", (16, 32, 3), {}, 32 * 16 * 9 + 32),
        ("non_square_kernel", "3 -> 64 channels, (5, 3) kernel", (3, 64, (5, 3)), {}, 64 * 3 * 15 + 64),
        ("no_bias", "2 -> 4 channels, 5x5, bias=False", (2, 4, 5), {"bias": False}, 4 * 2 * 25),
        ("one_by_one", "32 -> 10 channels, 1x1", (32, 10, 1), {}, 330),
    ]
    cases = [_Case(id_, desc, args, exp, hint, kw, kind="int") for id_, desc, args, kw, exp in rows]
    return _run("conv_param_count", fn, cases, (), verbose)


# --------------------------------------------------------------------------
# 03 padding
# --------------------------------------------------------------------------


def _pads(p: Any) -> tuple[int, int]:
    return (p, p) if isinstance(p, int) else (int(p[0]), int(p[1]))


def _pad_cases(mode: str, seed: int) -> list[_Case]:
    rng = _rng(seed)
    other = "zeros" if mode == "edge" else "edge"
    hint = (
        "pad only the last two axes (rows, columns), `padding` on each side; "
        + ("the new entries are 0" if mode == "zeros" else
           "each new entry copies the nearest border pixel (corners copy the corner pixel), e.g. np.pad(..., mode='edge')")
        + "; a pair (ph, pw) means ph rows above and below, pw columns left and right"
    )
    rows = [
        ("one_pixel", "padding 1 around one 3x4 image", _ints(rng, (1, 1, 3, 4), 1, 10), 1),
        ("two_pixels_non_square", "padding 2 around a batch of 2 images with 3 channels, 3x5", _ints(rng, (2, 3, 3, 5), 1, 10), 2),
        ("no_padding", "padding 0 changes nothing", _ints(rng, (1, 2, 2, 3), 1, 10), 0),
        ("rows_and_cols", "padding (1, 2): 1 row above and below, 2 columns left and right", _ints(rng, (1, 2, 4, 3), 1, 10), (1, 2)),
    ]
    cases = []
    for id_, desc, x, p in rows:
        ph, pw = _pads(p)
        diag = [(f"'{other}' padding instead of '{mode}'", F.pad2d(x, (ph, pw), other))]
        if mode == "edge":
            diag.append(("reflection (np.pad mode 'reflect'); 'edge' repeats the border pixel itself",
                         np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="reflect") if min(x.shape[2:]) > max(ph, pw) else None))
        if ph != pw:
            diag.append(("rows and columns swapped: (ph, pw) is (rows, columns)", F.pad2d(x, (pw, ph), mode)))
        cases.append(_Case(id_, desc, (x, p), F.pad2d(x, (ph, pw), mode), hint, diagnoses=tuple(d for d in diag if d[1] is not None)))
    return cases


def check_pad_zeros(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, padding)``: zero padding of the rows and columns of ``(N, C, H, W)``.

    Parameters
    ----------
    fn : callable
        ``padding`` is an int or a pair ``(ph, pw)``; returns ``(N, C, H + 2ph, W + 2pw)``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _run("pad_zeros", fn, _pad_cases("zeros", 3), ("x",), verbose)


def check_pad_edge(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, padding)``: edge-replication padding of ``(N, C, H, W)``.

    Parameters
    ----------
    fn : callable
        As in :func:`check_pad_zeros`, but the border repeats the outermost pixels.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _run("pad_edge", fn, _pad_cases("edge", 4), ("x",), verbose)


def _same_pads(n: int, k: int, s: int) -> tuple[int, int]:
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return (total // 2, total - total // 2)


def check_same_padding(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(n, kernel_size, stride=1)``: the (before, after) padding of ``padding="same"``.

    Parameters
    ----------
    fn : callable
        Returns ``(before, after)``: the smallest total padding for which the output
        has ``ceil(n / stride)`` entries, split with the odd one after.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("out = ceil(n / stride); the last window starts at (out - 1) * stride and must end inside the padded input: "
            "total = max((out - 1) * stride + kernel_size - n, 0); before = total // 2, after = total - before")
    rows = [
        ("k3_stride1", "n=28, 3x3 kernel, stride 1", 28, 3, 1),
        ("k5_stride1", "n=28, 5x5 kernel, stride 1", 28, 5, 1),
        ("even_kernel", "n=28, kernel 4, stride 1: an odd total, the extra one goes after", 28, 4, 1),
        ("stride2_odd_n", "n=7, kernel 3, stride 2", 7, 3, 2),
        ("stride2_even_n", "n=8, kernel 3, stride 2: only one padding pixel is needed", 8, 3, 2),
        ("no_padding_needed", "n=10, kernel 2, stride 2: windows tile exactly", 10, 2, 2),
        ("one_by_one", "n=5, kernel 1, stride 1", 5, 1, 1),
    ]
    cases = [
        _Case(id_, desc, (n, k), _same_pads(n, k, s), hint, {"stride": s}, kind="ints",
              diagnoses=(("(kernel_size - 1) // 2 on each side, which ignores the stride", ((k - 1) // 2, (k - 1) // 2)),))
        for id_, desc, n, k, s in rows
    ]
    return _run("same_padding", fn, cases, (), verbose)


# --------------------------------------------------------------------------
# 04 activations
# --------------------------------------------------------------------------


def _activation_inputs(seed: int) -> dict[str, np.ndarray]:
    rng = _rng(seed)
    return {
        "mixed": np.array([[-2.0, -0.5, 0.0, 0.5, 2.0], [3.0, -1.0, 0.25, -0.25, 1.5]]),
        "batch_4d": rng.normal(size=(2, 3, 4, 5)),
        "large_inputs": np.array([-1000.0, -50.0, -5.0, 0.0, 5.0, 50.0, 1000.0]),
    }


def _numerical_elementwise(forward: Callable, x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    xx = x.astype(np.float64).copy()
    return numerical_gradient(lambda v: float((forward(v) * dy).sum()), xx)


def check_relu(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x)``: ReLU, ``max(0, x)`` elementwise, for any shape.

    Parameters
    ----------
    fn : callable
        Returns an array shaped like ``x``; must not change ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    inp = _activation_inputs(5)
    hint = "relu(x) = max(0, x) elementwise, e.g. np.maximum(x, 0), for any shape; keep negatives at 0 and positives unchanged"
    cases = [
        _Case("mixed", "negative, zero and positive values", (inp["mixed"],), F.relu(inp["mixed"]), hint),
        _Case("batch_4d", "a 4-D batch (2, 3, 4, 5)", (inp["batch_4d"],), F.relu(inp["batch_4d"]), hint),
        _Case("all_negative", "every value negative", (-np.abs(inp["batch_4d"]) - 0.1,), np.zeros((2, 3, 4, 5)), hint),
        _Case("large_inputs", "values up to +-1000", (inp["large_inputs"],), F.relu(inp["large_inputs"]), hint),
    ]
    return _run("relu", fn, cases, ("x",), verbose)


def _backward_cases(name: str, forward: Callable, deriv: Callable, seed: int, wrong: list[tuple[str, Callable]]) -> list[_Case]:
    rng = _rng(seed)
    inp = _activation_inputs(seed)
    hint = f"dx = dy * {name}'(x), elementwise (the chain rule): the upstream gradient dy times the local derivative"
    cases = []
    for id_, desc, x in (
        ("mixed", "negative, zero and positive x, random dy", inp["mixed"]),
        ("batch_4d", "a 4-D batch (2, 3, 4, 5), random dy", inp["batch_4d"]),
        ("large_inputs", "x up to +-1000", inp["large_inputs"]),
    ):
        dy = rng.normal(size=x.shape)
        diag = tuple((msg, w(dy, x)) for msg, w in wrong)
        cases.append(_Case(id_, desc, (dy, x), dy * deriv(x), hint, names=("dx",), diagnoses=diag))
    x = rng.normal(size=(3, 4, 5))
    x = np.where(np.abs(x) < 0.05, 0.3, x)  # finite differences need a step away from ReLU's kink at 0
    dy = rng.normal(size=x.shape)
    cases.append(_Case("numerical", "finite differences, float64, random dy", (dy, x),
                       _numerical_elementwise(forward, x, dy), hint, names=("dx",), numerical=True))
    return cases


def check_relu_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x)``: the gradient of ReLU with respect to its input.

    Parameters
    ----------
    fn : callable
        ``fn(dy, x)`` returns ``dx = dy * (x > 0)``; the derivative at exactly 0 is
        taken as 0, as in PyTorch.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    wrong = [
        ("a derivative of 1 at x == 0 (x >= 0); at exactly 0 it is taken as 0 (x > 0)", lambda dy, x: dy * (x >= 0)),
        ("the local derivative alone, without multiplying by dy", lambda dy, x: (x > 0).astype(float)),
        ("relu(dy), the mask taken from dy instead of x", lambda dy, x: dy * (dy > 0)),
    ]
    cases = _backward_cases("relu", F.relu, lambda x: (x > 0).astype(float), 6, wrong)
    cases[0].hint += "; relu'(x) is 1 where x > 0 and 0 elsewhere, including at x == 0 (as PyTorch)"
    return _run("relu_backward", fn, cases, ("dy", "x"), verbose)


def check_sigmoid(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x)``: the logistic sigmoid ``1 / (1 + exp(-x))`` elementwise.

    Parameters
    ----------
    fn : callable
        Returns an array shaped like ``x`` with values in [0, 1], also for ``|x|`` up to 1000.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    inp = _activation_inputs(7)
    hint = "sigmoid(x) = 1 / (1 + exp(-x)); for large |x| use a form that cannot overflow, e.g. 0.5 * (1 + tanh(x / 2))"
    cases = [_Case(k, d, (inp[k],), F.sigmoid(inp[k]), hint) for k, d in (
        ("mixed", "negative, zero and positive values"),
        ("batch_4d", "a 4-D batch (2, 3, 4, 5)"),
        ("large_inputs", "values up to +-1000: sigmoid(1000) = 1, sigmoid(-1000) = 0"),
    )]
    return _run("sigmoid", fn, cases, ("x",), verbose)


def check_sigmoid_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x)``: the gradient of the sigmoid, ``dy * s * (1 - s)`` with ``s = sigmoid(x)``.

    Parameters
    ----------
    fn : callable
        ``fn(dy, x)`` returns ``dx`` shaped like ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    s = F.sigmoid
    wrong = [
        ("x * (1 - x): the formula s * (1 - s) needs s = sigmoid(x), not x", lambda dy, x: dy * x * (1 - x)),
        ("sigmoid(x) itself rather than its derivative", lambda dy, x: dy * s(x)),
        ("the local derivative alone, without multiplying by dy", lambda dy, x: s(x) * (1 - s(x))),
    ]
    cases = _backward_cases("sigmoid", s, lambda x: s(x) * (1 - s(x)), 8, wrong)
    for c in cases:
        c.hint += "; sigmoid'(x) = s * (1 - s) with s = sigmoid(x)"
    return _run("sigmoid_backward", fn, cases, ("dy", "x"), verbose)


def check_tanh(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x)``: the hyperbolic tangent elementwise, also for ``|x|`` up to 1000.

    Parameters
    ----------
    fn : callable
        Returns an array shaped like ``x`` with values in [-1, 1].
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    inp = _activation_inputs(9)
    hint = ("tanh(x) = (e^x - e^-x) / (e^x + e^-x); written that way, e^1000 overflows to inf and inf / inf = nan. "
            "Use np.tanh, or the stable form 2 * sigmoid(2x) - 1")
    cases = [_Case(k, d, (inp[k],), F.tanh(inp[k]), hint) for k, d in (
        ("mixed", "negative, zero and positive values"),
        ("batch_4d", "a 4-D batch (2, 3, 4, 5)"),
        ("large_inputs", "values up to +-1000: tanh(1000) = 1"),
    )]
    return _run("tanh", fn, cases, ("x",), verbose)


def check_tanh_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x)``: the gradient of tanh, ``dy * (1 - tanh(x)**2)``.

    Parameters
    ----------
    fn : callable
        ``fn(dy, x)`` returns ``dx`` shaped like ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    t = F.tanh
    wrong = [
        ("1 - x**2: the formula 1 - t**2 needs t = tanh(x), not x", lambda dy, x: dy * (1 - x**2)),
        ("1 - tanh(x) (the square is missing)", lambda dy, x: dy * (1 - t(x))),
        ("the local derivative alone, without multiplying by dy", lambda dy, x: 1 - t(x) ** 2),
    ]
    cases = _backward_cases("tanh", t, lambda x: 1 - t(x) ** 2, 10, wrong)
    for c in cases:
        c.hint += "; tanh'(x) = 1 - tanh(x)**2"
    return _run("tanh_backward", fn, cases, ("dy", "x"), verbose)


# --------------------------------------------------------------------------
# 05 pooling
# --------------------------------------------------------------------------

_LECTURE_POOL = np.array([[[[1, 3, 2, 0], [4, 2, 1, 1], [0, 0, 5, 6], [1, 2, 7, 8]]]], dtype=float)


def _pool_inputs(seed: int) -> list[tuple[str, str, np.ndarray, int, int | None]]:
    rng = _rng(seed)
    x_overlap = rng.normal(size=(1, 2, 7, 5)).round(2)
    return [
        ("lecture_example", "the worked example: 4x4, 2x2 windows, stride defaults to the kernel size", _LECTURE_POOL, 2, None),
        ("all_negative", "every value negative (2 channels, 4x6), 2x2 windows", -np.abs(rng.normal(size=(1, 2, 4, 6))).round(2) - 0.5, 2, None),
        ("non_square", "2 images, 3 channels, 6x8, 2x2 windows", rng.normal(size=(2, 3, 6, 8)).round(2), 2, None),
        ("overlapping", "3x3 windows with stride 2 (they overlap) on 7x5", x_overlap, 3, 2),
        ("leftover", "5x7 input with 2x2 windows: the last row and column fit no window", rng.normal(size=(1, 1, 5, 7)).round(2), 2, None),
    ]


def _pool_kwargs(stride: int | None) -> dict:
    return {} if stride is None else {"stride": stride}


def check_max_pool2d(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, kernel_size, stride=None)``: max pooling of ``(N, C, H, W)``, stride defaulting to the kernel size.

    Parameters
    ----------
    fn : callable
        Returns ``(N, C, OH, OW)`` with ``OH = (H - k) // stride + 1``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("y[n, c, i, j] = the max of x[n, c, i*s : i*s + k, j*s : j*s + k] with s = stride (= kernel_size when "
            "stride is None); OH = (H - k) // s + 1")
    hints = {
        "all_negative": "start each window's maximum from the window itself (window.max()) or from -inf, never from 0",
        "overlapping": hint + "; here stride 2 is smaller than the kernel 3, so windows share rows and columns",
        "leftover": "OH = (H - k) // s + 1 rounds down: rows and columns that fit no whole window are dropped",
    }
    cases = []
    for id_, desc, x, k, s in _pool_inputs(11):
        diag = (("a stride of 1: stride=None means stride = kernel_size", F.max_pool2d(x, k, 1)),) if s is None else ()
        cases.append(_Case(id_, desc, (x, k), F.max_pool2d(x, k, s), hints.get(id_, hint), _pool_kwargs(s), diagnoses=diag))
    return _run("max_pool2d", fn, cases, ("x",), verbose)


def check_avg_pool2d(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, kernel_size, stride=None)``: average pooling of ``(N, C, H, W)``.

    Parameters
    ----------
    fn : callable
        Returns ``(N, C, OH, OW)``, the mean of each window.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("y[n, c, i, j] = the mean of x[n, c, i*s : i*s + k, j*s : j*s + k]: the window's sum divided by k*k "
            "(the number of values in it); s = kernel_size when stride is None")
    cases = []
    for id_, desc, x, k, s in _pool_inputs(12):
        diag = (("the window sum divided by kernel_size instead of kernel_size**2", F.avg_pool2d(x, k, s) * k),
                ("the window sum without dividing", F.avg_pool2d(x, k, s) * k * k))
        cases.append(_Case(id_, desc, (x, k), F.avg_pool2d(x, k, s), hint, _pool_kwargs(s), diagnoses=diag))
    return _run("avg_pool2d", fn, cases, ("x",), verbose)


def _pool_backward_cases(kind: str, seed: int) -> list[_Case]:
    rng = _rng(seed)
    fwd = F.max_pool2d if kind == "max" else F.avg_pool2d
    bwd = F.max_pool2d_backward if kind == "max" else F.avg_pool2d_backward
    if kind == "max":
        hint = ("each window sends its dy to the one input that was its maximum (the first one, np.argmax, if "
                "several tie); the other inputs of the window get nothing from it; with overlapping windows add (+=)")
    else:
        hint = ("each window shares its dy equally: every one of its k*k inputs gets dy / (k*k); with overlapping "
                "windows an input collects (+=) a share from each window it belongs to")
    rows = _pool_inputs(seed)
    shared = rng.normal(size=(1, 1, 5, 5)).round(2)
    shared[0, 0, 2, 2] = 9.0  # the maximum of all four overlapping 3x3 windows
    rows.append(("shared_maximum", "3x3 windows, stride 2, on 5x5: one value is the maximum of all four windows", shared, 3, 2))
    if kind == "max":
        ties = np.array([[[[1.0, 1.0, 0.0, 2.0], [0.0, 0.5, 2.0, 2.0]]]])
        rows.append(("ties", "windows with two equal maxima (2x4, 2x2 windows)", ties, 2, None))
    cases = []
    for id_, desc, x, k, s in rows:
        y = fwd(x, k, s)
        dy = rng.normal(size=y.shape).round(2)
        exp = bwd(dy, x, k, s)
        h = hint
        if id_ in ("overlapping", "shared_maximum"):
            h += "; here windows overlap, so use dx[...] += ..., not dx[...] = ..."
        if id_ == "ties":
            h = "when several inputs tie for a window's maximum, send dy only to the first one (np.argmax), as PyTorch does"
        diag = []
        if kind == "max":
            win = np.zeros_like(x)
            for idx in np.ndindex(*x.shape[:2]):
                ss = s or k
                for i in range(y.shape[2]):
                    for j in range(y.shape[3]):
                        win[idx + (slice(i * ss, i * ss + k), slice(j * ss, j * ss + k))] += dy[idx + (i, j)]
            diag.append(("every input of a window received the window's gradient; only its maximum should", win))
            diag.append(("average pooling's gradient (dy shared equally), not max pooling's", F.avg_pool2d_backward(dy, x, k, s)))
        cases.append(_Case(id_, desc, (dy, x, k), exp, h, _pool_kwargs(s), names=("dx",), diagnoses=tuple(diag)))
    # finite differences: random values (no ties), overlapping windows
    x = rng.normal(size=(2, 2, 6, 7))
    dy = rng.normal(size=fwd(x, 3, 2).shape)
    num = numerical_gradient(lambda v: float((fwd(v, 3, 2) * dy).sum()), x.copy())
    cases.append(_Case("numerical", "finite differences, float64: 2x2x6x7 input, 3x3 windows, stride 2, random dy",
                       (dy, x, 3), num, hint, {"stride": 2}, names=("dx",), numerical=True))
    return cases


def check_max_pool2d_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, kernel_size, stride=None)``: the gradient of max pooling with respect to ``x``.

    Parameters
    ----------
    fn : callable
        Returns ``dx`` shaped like ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _run("max_pool2d_backward", fn, _pool_backward_cases("max", 13), ("dy", "x"), verbose)


def check_avg_pool2d_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, kernel_size, stride=None)``: the gradient of average pooling with respect to ``x``.

    Parameters
    ----------
    fn : callable
        Returns ``dx`` shaped like ``x``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    return _run("avg_pool2d_backward", fn, _pool_backward_cases("avg", 14), ("dy", "x"), verbose)


# --------------------------------------------------------------------------
# 06 softmax, cross-entropy, flatten
# --------------------------------------------------------------------------


def _logit_inputs(seed: int) -> list[tuple[str, str, np.ndarray]]:
    rng = _rng(seed)
    return [
        ("one_row", "one example, logits [2, 1, 0.1]", np.array([[2.0, 1.0, 0.1]])),
        ("batch", "a batch of 4 examples, 6 classes", rng.normal(size=(4, 6)).round(2)),
        ("square_batch", "3 examples, 3 classes (rows and columns could be confused)", rng.normal(size=(3, 3)).round(2) * 2),
        ("large_logits", "logits around 1000: exp(1000) overflows", np.array([[1000.0, 1001.0, 1002.0], [1000.0, 0.0, -1000.0]])),
        ("very_negative", "logits around -1000: every exp underflows to 0", np.array([[-1000.0, -1001.0, -1002.0]])),
        ("rows_far_apart", "two rows on very different scales", np.array([[1000.0, 1001.0], [-1000.0, -999.0]])),
    ]


def check_softmax(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(z)``: softmax of logits ``(N, C)`` along the class axis (the last one).

    Parameters
    ----------
    fn : callable
        Returns probabilities shaped like ``z``, each row summing to 1, also for
        logits of +-1000.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("p[n, c] = exp(z[n, c] - m[n]) / sum over c' of exp(z[n, c'] - m[n]) with m[n] = the largest logit of "
            "row n: z.max(axis=1, keepdims=True). Subtracting it changes nothing mathematically but keeps exp "
            "from overflowing (exp(1000) = inf, inf / inf = nan)")
    hints = {
        "rows_far_apart": "subtract each row's own maximum (axis=1, keepdims=True), not the maximum of the whole array",
        "square_batch": "normalise each row (axis=1, the classes), with keepdims=True so that (N, 1) broadcasts against (N, C)",
    }
    cases = []
    for id_, desc, z in _logit_inputs(15):
        with np.errstate(all="ignore"):
            diag = (("softmax over the wrong axis (columns instead of rows)", F.softmax(z, axis=0)),)
        cases.append(_Case(id_, desc, (z,), F.softmax(z), hints.get(id_, hint), names=("p",), diagnoses=diag))
    return _run("softmax", fn, cases, ("z",), verbose)


def _labels_for(z: np.ndarray, seed: int) -> np.ndarray:
    return _rng(seed).integers(0, z.shape[1], size=z.shape[0])


def _ce(z: np.ndarray, labels: np.ndarray) -> float:
    return CrossEntropyLoss().forward(z, labels)


def check_cross_entropy(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(logits, labels)``: the mean softmax cross-entropy of a batch.

    Parameters
    ----------
    fn : callable
        ``logits`` is ``(N, C)``, ``labels`` integer classes ``(N,)``; returns one
        number, ``-mean_n log softmax(logits)[n, labels[n]]``, finite for huge logits.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("loss = -mean over n of log p[n, labels[n]]; compute log p stably as z - m - log(sum(exp(z - m))) "
            "with m the row maximum, so that log never sees an underflowed 0")
    cases = []
    for i, (id_, desc, z) in enumerate(_logit_inputs(16)):
        labels = _labels_for(z, 100 + i)
        if id_ == "large_logits":
            labels = np.array([0, 1])  # the second row's correct class has probability e^-1000
        n = z.shape[0]
        with np.errstate(all="ignore"):
            lp = F.log_softmax(z)
            picked = lp[np.arange(n), labels]
            diag = (("the sum over the batch instead of the mean", -picked.sum()),
                    ("the loss without its minus sign", picked.mean()))
        cases.append(_Case(id_, desc, (z, labels), _ce(z, labels), hint, kind="scalar", diagnoses=diag if n > 1 else diag[1:]))
    return _run("cross_entropy", fn, cases, ("logits", "labels"), verbose)


def check_cross_entropy_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(logits, labels)``: the gradient of the mean cross-entropy with respect to the logits.

    Parameters
    ----------
    fn : callable
        Returns ``(softmax(logits) - one_hot(labels)) / N``, shaped like ``logits``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("dz = (softmax(z) - one_hot(labels)) / N: subtract 1 at each row's correct class, and divide by the batch "
            "size N because the loss is a mean; use a softmax that subtracts the row maximum")
    cases = []
    for i, (id_, desc, z) in enumerate(_logit_inputs(17)):
        labels = _labels_for(z, 200 + i)
        loss = CrossEntropyLoss()
        loss.forward(z, labels)
        exp = loss.backward()
        n = z.shape[0]
        diag = (("the gradient of the summed loss: divide by the batch size N", exp * n),
                ("the sign flipped: it is softmax minus one-hot", -exp))
        cases.append(_Case(id_, desc, (z, labels), exp, hint, names=("dz",), diagnoses=diag if n > 1 else diag[1:]))
    rng = _rng(18)
    z = rng.normal(size=(5, 4)) * 3
    labels = rng.integers(0, 4, size=5)
    num = numerical_gradient(lambda v: _ce(v, labels), z.copy())
    cases.append(_Case("numerical", "finite differences of the mean loss, float64, 5 examples, 4 classes",
                       (z, labels), num, hint, names=("dz",), numerical=True))
    return _run("cross_entropy_backward", fn, cases, ("logits", "labels"), verbose)


def check_flatten(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x)``: ``(N, C, H, W)`` to ``(N, C*H*W)``, row by row as PyTorch (C order).

    Parameters
    ----------
    fn : callable
        Returns the flattened batch.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("keep the batch axis and join the rest in C order (channel, then row, then column), as torch.flatten: "
            "x.reshape(x.shape[0], -1); a dense layer after it relies on this order")
    cases = []
    for id_, desc, shape in (
        ("small", "a (2, 3, 2, 2) batch holding 0, 1, 2, ...", (2, 3, 2, 2)),
        ("non_square", "a (3, 2, 4, 5) batch", (3, 2, 4, 5)),
        ("one_image", "a batch of one (1, 4, 3, 3)", (1, 4, 3, 3)),
    ):
        x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
        diag = (("channels-last order (N, H, W, C), as TensorFlow flattens; PyTorch flattens (C, H, W)",
                 x.transpose(0, 2, 3, 1).reshape(shape[0], -1)),
                ("Fortran (column-major) order", x.reshape(shape[0], -1, order="F")))
        cases.append(_Case(id_, desc, (x,), F.flatten(x, 1), hint, diagnoses=diag))
    return _run("flatten", fn, cases, ("x",), verbose)


def check_flatten_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x_shape)``: the gradient of flatten, ``dy`` reshaped back to the input's shape.

    Parameters
    ----------
    fn : callable
        ``dy`` is ``(N, C*H*W)`` and ``x_shape`` the tuple ``(N, C, H, W)``; returns ``dx``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = "flatten only moves numbers around, so its backward moves them back: dy.reshape(x_shape), in the same (C) order"
    cases = []
    for id_, desc, shape in (("small", "x of shape (2, 3, 2, 2)", (2, 3, 2, 2)), ("non_square", "x of shape (3, 2, 4, 5)", (3, 2, 4, 5))):
        dy = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape[0], -1)
        diag = (("the channels-last order (N, H, W, C)", dy.reshape(shape[0], shape[2], shape[3], shape[1]).transpose(0, 3, 1, 2)),)
        cases.append(_Case(id_, desc, (dy, shape), dy.reshape(shape), hint, names=("dx",), diagnoses=diag))
    return _run("flatten_backward", fn, cases, ("dy",), verbose)


# --------------------------------------------------------------------------
# 07 batch normalization
# --------------------------------------------------------------------------


def _bn_layer(gamma: np.ndarray, beta: np.ndarray, eps: float) -> BatchNorm2d:
    bn = BatchNorm2d(len(gamma), eps=eps).astype(np.float64)
    bn.params["gamma"] = np.array(gamma, dtype=np.float64)
    bn.params["beta"] = np.array(beta, dtype=np.float64)
    return bn


def _bn_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    return _bn_layer(gamma, beta, eps).forward(x, training=True)


def _bn_inputs(seed: int) -> list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]]:
    rng = _rng(seed)

    def x_of(shape: tuple[int, ...]) -> np.ndarray:
        # each channel its own mean and spread, so normalising over the wrong axes shows
        c = shape[1]
        return rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=(1, c, 1, 1)) + rng.uniform(-4, 4, size=(1, c, 1, 1))

    tiny = x_of((4, 2, 3, 3))
    tiny[:, 1] = 1e-3 * rng.normal(size=(4, 3, 3)) + 5.0
    return [
        ("per_channel", "(4, 3, 5, 6), gamma = 1, beta = 0", x_of((4, 3, 5, 6)), np.ones(3), np.zeros(3)),
        ("gamma_beta", "(3, 2, 4, 4) with gamma and beta", x_of((3, 2, 4, 4)), np.array([2.0, 0.5]), np.array([-1.0, 3.0])),
        ("non_square", "(2, 3, 2, 5) with gamma and beta", x_of((2, 3, 2, 5)), np.array([1.5, -0.5, 1.0]), np.array([0.1, 0.2, -0.3])),
        ("small_batch", "(2, 3, 1, 1): two numbers per channel", x_of((2, 3, 1, 1)), np.array([1.0, 2.0, 3.0]), np.zeros(3)),
        ("tiny_variance", "a channel with spread 0.001, where eps matters", tiny, np.ones(2), np.zeros(2)),
    ]


def _bn_wrong_forward(x, gamma, beta, eps, axes, ddof=0, eps_outside=False):
    b = (1, -1, 1, 1)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return (x - mean) / std * gamma.reshape(b) + beta.reshape(b)


def check_batchnorm_forward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(x, gamma, beta, eps=1e-5)``: batch normalization of ``(N, C, H, W)`` in training mode.

    Parameters
    ----------
    fn : callable
        Normalises each channel with the mean and the biased variance over
        ``(N, H, W)``, then scales by ``gamma`` and shifts by ``beta`` (both ``(C,)``).
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("per channel c: mean and variance over axes (0, 2, 3) (the batch and every position), the biased variance "
            "(divide by m, np.var's default); y = gamma[c] * (x - mean) / sqrt(var + eps) + beta[c]. Use keepdims=True "
            "or reshape gamma to (1, C, 1, 1) so that it broadcasts")
    cases = []
    for id_, desc, x, g, b in _bn_inputs(19):
        eps = 1e-5
        diag = (
            ("statistics over the batch axis only (axis 0); a channel is normalised over (N, H, W)", _bn_wrong_forward(x, g, b, eps, (0,))),
            ("statistics over (N, C); they are per channel, over (N, H, W)", _bn_wrong_forward(x, g, b, eps, (0, 1))),
            ("statistics per image (axes (2, 3)); batch norm pools the whole batch", _bn_wrong_forward(x, g, b, eps, (2, 3))),
            ("the unbiased variance (ddof=1); normalisation uses the biased one, np.var's default", _bn_wrong_forward(x, g, b, eps, (0, 2, 3), ddof=1)),
            ("eps added outside the square root; it goes inside: sqrt(var + eps)", _bn_wrong_forward(x, g, b, eps, (0, 2, 3), eps_outside=True)),
        )
        cases.append(_Case(id_, desc, (x, g, b), _bn_forward(x, g, b, eps), hint, diagnoses=diag))
    return _run("batchnorm_forward", fn, cases, ("x", "gamma", "beta"), verbose)


def _bn_backward(dy: np.ndarray, x: np.ndarray, gamma: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    bn = _bn_layer(gamma, np.zeros_like(gamma), eps)
    bn.forward(x, training=True)
    dx = bn.backward(dy)
    return dx, bn.grads["gamma"], bn.grads["beta"]


def check_batchnorm_backward(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, gamma, eps=1e-5)``: gradients of training-mode batch norm.

    Parameters
    ----------
    fn : callable
        Returns ``(dx, dgamma, dbeta)``, shaped like ``x``, ``(C,)`` and ``(C,)``.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("with xhat = (x - mean) / sqrt(var + eps) and sums and means over (N, H, W) per channel: dbeta = sum(dy), "
            "dgamma = sum(dy * xhat), dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat)). "
            "The mean and variance depend on x too, which is where the two subtracted means come from")
    rng = _rng(20)
    cases = []
    for id_, desc, x, g, _ in _bn_inputs(21)[:4]:
        dy = rng.normal(size=x.shape)
        exp = _bn_backward(dy, x, g)
        xhat = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
        diag = (("the gradient with the mean and variance treated as constants: they depend on x as well",
                 (dy * g.reshape(1, -1, 1, 1) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5), exp[1], exp[2])),
                ("dgamma as sum(dy): it is sum(dy * xhat)", (exp[0], dy.sum(axis=(0, 2, 3)), exp[2])),
                ("means instead of sums for dgamma and dbeta", (exp[0], (dy * xhat).mean(axis=(0, 2, 3)), dy.mean(axis=(0, 2, 3)))))
        cases.append(_Case(id_, desc, (dy, x, g), exp, hint, names=("dx", "dgamma", "dbeta"), diagnoses=diag))
    x = rng.normal(size=(3, 2, 3, 4)) * 2 + 1
    g = np.array([1.5, -0.7])
    b = np.array([0.2, 0.1])
    dy = rng.normal(size=x.shape)
    num_x = numerical_gradient(lambda v: float((_bn_forward(v, g, b) * dy).sum()), x.copy())
    gg, bb = g.copy(), b.copy()
    num_g = numerical_gradient(lambda v: float((_bn_forward(x, v, bb) * dy).sum()), gg)
    num_b = numerical_gradient(lambda v: float((_bn_forward(x, gg, v) * dy).sum()), bb)
    cases.append(_Case("numerical", "finite differences, float64: (3, 2, 3, 4), random gamma and dy",
                       (dy, x, g), (num_x, num_g, num_b), hint, names=("dx", "dgamma", "dbeta"), numerical=True))
    return _run("batchnorm_backward", fn, cases, ("dy", "x", "gamma"), verbose)


def check_running_stats(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(running_mean, running_var, x, momentum=0.1)``: one update of batch norm's running statistics.

    Parameters
    ----------
    fn : callable
        Returns ``(new_mean, new_var)``:
        ``(1 - momentum) * running + momentum * batch_statistic`` per channel, with
        the *unbiased* batch variance, as PyTorch.
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("new = (1 - momentum) * running + momentum * batch value, per channel over (N, H, W); the running "
            "variance uses the unbiased batch variance (np.var(..., ddof=1)), as PyTorch")
    rng = _rng(22)
    cases = []
    rows = [
        ("first_step", "from the initial statistics (mean 0, variance 1)", np.zeros(3), np.ones(3), _bn_inputs(23)[0][2], None),
        ("later_step", "from other running values, momentum 0.3", rng.normal(size=2), rng.uniform(0.5, 2, size=2), _bn_inputs(24)[1][2], 0.3),
        ("small_batch", "(2, 3, 1, 1): with m = 2 values the unbiased correction doubles the variance", np.zeros(3), np.ones(3), _bn_inputs(25)[3][2], None),
    ]
    for id_, desc, rm, rv, x, mom in rows:
        bn = BatchNorm2d(x.shape[1], momentum=0.1 if mom is None else mom).astype(np.float64)
        bn.buffers["running_mean"] = rm.copy()
        bn.buffers["running_var"] = rv.copy()
        bn.forward(x, training=True)
        m = 0.1 if mom is None else mom
        diag = (("the biased variance; the running variance uses the unbiased one (ddof=1)",
                 (bn.running_mean, (1 - m) * rv + m * x.var(axis=(0, 2, 3)))),
                ("momentum weighting the old value: new = (1 - momentum) * old + momentum * batch",
                 (m * rm + (1 - m) * x.mean(axis=(0, 2, 3)), m * rv + (1 - m) * x.var(axis=(0, 2, 3), ddof=1))))
        kwargs = {} if mom is None else {"momentum": mom}
        cases.append(_Case(id_, desc, (rm, rv, x), (bn.running_mean.copy(), bn.running_var.copy()), hint, kwargs,
                           names=("new_mean", "new_var"), diagnoses=diag))
    return _run("running_stats", fn, cases, ("running_mean", "running_var", "x"), verbose)


# --------------------------------------------------------------------------
# 08 convolution backward
# --------------------------------------------------------------------------


def _conv_grad_inputs(seed: int) -> list[tuple[str, str, np.ndarray, np.ndarray, int, int]]:
    rng = _rng(seed)
    return [
        ("one_position", "kernel as big as the 3x3 image: a single position", _ints(rng, (1, 1, 3, 3)), _ints(rng, (1, 1, 3, 3)), 1, 0),
        ("single_channel", "one 5x6 image, one 3x3 filter: the kernel is used at 12 positions", _ints(rng, (1, 1, 5, 6)), _ints(rng, (1, 1, 3, 3)), 1, 0),
        ("multi_channel_batch", "2 images, 3 channels, 4 filters", _ints(rng, (2, 3, 5, 5)), _ints(rng, (4, 3, 3, 3)), 1, 0),
        ("stride_and_padding", "stride 2 with padding 1 on a non-square 7x6 image", _ints(rng, (2, 2, 7, 6)), _ints(rng, (3, 2, 3, 3)), 2, 1),
        ("non_square_kernel", "2x3 kernels, stride 2, padding 1, 6x8 image", _ints(rng, (1, 2, 6, 8)), _ints(rng, (2, 2, 2, 3)), 2, 1),
    ]


def _conv_kwargs(s: int, p: int) -> dict:
    kw = {}
    if s != 1:
        kw["stride"] = s
    if p != 0:
        kw["padding"] = p
    return kw


def check_conv2d_grad_weight(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, w, stride=1, padding=0)``: the gradients of a convolution's weights and bias.

    Parameters
    ----------
    fn : callable
        Returns ``(dw, db)`` shaped like ``w`` ``(O, C, kh, kw)`` and ``(O,)``. The
        kernel is shared by every position, so ``dw`` is a sum over all positions
        (and images).
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("revisit every place the kernel was applied: output y[n, o, i, j] used the padded window "
            "xp[n, :, i*s : i*s + kh, j*s : j*s + kw], so it adds dy[n, o, i, j] * window to dw[o] (+=, a sum over "
            "all positions and images: the weights are tied) and dy[n, o, i, j] to db[o]")
    rng = _rng(26)
    cases = []
    for id_, desc, x, w, s, p in _conv_grad_inputs(27):
        y = F.conv2d(x, w, stride=s, padding=p)
        dy = _ints(rng, y.shape, -3, 4)
        _, dw, db = F.conv2d_backward(dy, x, w, stride=s, padding=p)
        positions = y.shape[0] * y.shape[2] * y.shape[3]
        diag = [("the average over positions; tied weights add up the gradient of every position", (dw / positions, db / positions))]
        cases.append(_Case(id_, desc, (dy, x, w), (dw, db), hint, _conv_kwargs(s, p), names=("dw", "db"), diagnoses=tuple(diag)))
    x = rng.normal(size=(2, 2, 5, 6))
    w = rng.normal(size=(2, 2, 3, 2))
    b = rng.normal(size=2)
    dy = rng.normal(size=F.conv2d(x, w, b, stride=2, padding=1).shape)
    ww, bb = w.copy(), b.copy()
    num_w = numerical_gradient(lambda v: float((F.conv2d(x, v, bb, stride=2, padding=1) * dy).sum()), ww)
    num_b = numerical_gradient(lambda v: float((F.conv2d(x, ww, v, stride=2, padding=1) * dy).sum()), bb)
    cases.append(_Case("numerical", "finite differences, float64: stride 2, padding 1, 3x2 kernels, random dy",
                       (dy, x, w), (num_w, num_b), hint, {"stride": 2, "padding": 1}, names=("dw", "db"), numerical=True))
    return _run("conv2d_grad_weight", fn, cases, ("dy", "x", "w"), verbose)


def check_conv2d_grad_input(fn: Callable, verbose: bool = True) -> CheckResult:
    """Check ``fn(dy, x, w, stride=1, padding=0)``: the gradient of a convolution with respect to its input.

    Parameters
    ----------
    fn : callable
        Returns ``dx`` shaped like ``x`` ``(N, C, H, W)`` (the padding's gradient is dropped).
    verbose : bool, default True
        Print the feedback.

    Returns
    -------
    CheckResult
    """
    hint = ("output y[n, o, i, j] used the window xp[n, :, i*s : i*s + kh, j*s : j*s + kw], so add "
            "dy[n, o, i, j] * w[o] to that window of a zero array dxp shaped like the padded input (+=: windows overlap, "
            "and every filter o contributes); finally drop the padding: dx = dxp[:, :, p : p + H, p : p + W]")
    rng = _rng(28)
    cases = []
    for id_, desc, x, w, s, p in _conv_grad_inputs(29):
        y = F.conv2d(x, w, stride=s, padding=p)
        dy = _ints(rng, y.shape, -3, 4)
        dx, _, _ = F.conv2d_backward(dy, x, w, stride=s, padding=p)
        flipped, _, _ = F.conv2d_backward(dy, x, w[..., ::-1, ::-1], stride=s, padding=p)
        diag = (("the kernel flipped; the backward pass spreads dy with w[o] as it is (no flip needed in this loop form)", flipped),)
        cases.append(_Case(id_, desc, (dy, x, w), dx, hint, _conv_kwargs(s, p), names=("dx",), diagnoses=diag))
    x = rng.normal(size=(2, 2, 5, 6))
    w = rng.normal(size=(3, 2, 3, 2))
    dy = rng.normal(size=F.conv2d(x, w, stride=2, padding=1).shape)
    num = numerical_gradient(lambda v: float((F.conv2d(v, w, stride=2, padding=1) * dy).sum()), x.copy())
    cases.append(_Case("numerical", "finite differences, float64: stride 2, padding 1, 3x2 kernels, random dy",
                       (dy, x, w), num, hint, {"stride": 2, "padding": 1}, names=("dx",), numerical=True))
    return _run("conv2d_grad_input", fn, cases, ("dy", "x", "w"), verbose)


# --------------------------------------------------------------------------
# 09 your own CNN on MNIST
# --------------------------------------------------------------------------


def check_mnist_cnn(
    model_or_train_fn: Any, target_accuracy: float = 0.985, verbose: bool = True, data: Any = None
) -> CheckResult:
    """Check a CNN trained on MNIST: its accuracy on all 10,000 test images must reach ``target_accuracy``.

    Parameters
    ----------
    model_or_train_fn : Layer or callable
        A trained cnnlib model (e.g. a :class:`~cnnlib.layers.Sequential`), or a
        function ``train_fn(x_train, y_train)`` that builds and trains one on the
        60,000 training images and returns it. The check then times the training.
    target_accuracy : float, default 0.985
        The test accuracy to reach (a fraction).
    verbose : bool, default True
        Print the feedback.
    data : tuple, optional
        ``((x_train, y_train), (x_test, y_test))``; by default :func:`cnnlib.data.load_mnist`.

    Returns
    -------
    CheckResult
        ``details`` holds ``"accuracy"``, ``"model"`` and (when it trained) ``"train_seconds"``.
    """
    from .training import evaluate

    exercise = "mnist_cnn"
    desc = f"accuracy on all 10,000 MNIST test images at least {target_accuracy:.2%}"
    details: dict[str, Any] = {}
    if data is None:
        from .data import load_mnist

        data = load_mnist()
    (x_train, y_train), (x_test, y_test) = data
    model = model_or_train_fn
    if not isinstance(model, Layer):
        if not callable(model):
            return _finish(CheckResult(exercise, FAILED, [CaseResult("model", "a cnnlib model or a training function", False,
                           f"received {_describe(model)}", "pass your trained model, or the function that trains it")]), verbose)
        start = time.perf_counter()
        try:
            model = model_or_train_fn(x_train, y_train)
        except NotImplementedError:
            return _finish(CheckResult(exercise, NOT_IMPLEMENTED, [CaseResult("test_accuracy", desc, False, not_implemented=True)]), verbose)
        except Exception as exc:
            return _finish(CheckResult(exercise, FAILED, [CaseResult("training", "train the network", False,
                           f"your function raised {type(exc).__name__}: {exc}{_where(exc)}",
                           "run your training cell on its own first and read the error")]), verbose)
        details["train_seconds"] = time.perf_counter() - start
    if not isinstance(model, Layer):
        return _finish(CheckResult(exercise, FAILED, [CaseResult("model", "a cnnlib model", False,
                       f"expected a cnnlib Layer (e.g. Sequential), received {_describe(model)}",
                       "build the network from cnnlib layers and return the trained model")], details=details), verbose)
    details["model"] = model
    try:
        accuracy = float(evaluate(model, x_test, y_test).accuracy)
    except Exception as exc:
        return _finish(CheckResult(exercise, FAILED, [CaseResult("test_accuracy", desc, False,
                       f"evaluating the model raised {type(exc).__name__}: {exc}",
                       "the model must take (N, 1, 28, 28) images and return (N, 10) class scores")], details=details), verbose)
    details["accuracy"] = accuracy
    trained = f" after {details['train_seconds']:.0f} s of training" if "train_seconds" in details else ""
    if accuracy >= target_accuracy:
        return _finish(CheckResult(exercise, PASSED, [CaseResult("test_accuracy", desc, True)], details=details,
                                   note=f"test accuracy {accuracy:.2%} (target {target_accuracy:.2%}){trained}."), verbose)
    case = CaseResult("test_accuracy", desc, False,
                      f"expected at least {target_accuracy:.2%}, received {accuracy:.2%}{trained}",
                      "more filters, batch norm after each convolution, another epoch, or a learning rate that "
                      "decays over the run usually help; see notebook 10_full_mnist")
    return _finish(CheckResult(exercise, FAILED, [case], details=details), verbose)
