"""The checking engine: results, cases, running a student's function on them, comparing, explaining.

Every topic module builds a list of :class:`_Case` (inputs, the reference answer,
a hint, the answers of typical mistakes) and hands it to :func:`_run`, which calls
the student's function on each case, compares the answer with the reference
(values, or finite differences for a backward pass), prints the feedback and
records a one-line summary in the result log that the grader reads.
"""

from __future__ import annotations

import copy
import json
import textwrap
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .._validate import is_int
from ..gradcheck import relative_error

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not implemented"

RTOL = 1e-5  # relative tolerance of value comparisons (float64 answers agree to ~1e-12)
GRAD_TOL = 1e-5  # largest relative error accepted against a finite-difference gradient


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


# --------------------------------------------------------------------------
# The result log, read by ``python -m cnnlib.grade``
# --------------------------------------------------------------------------

# Every check appends its summary here (see _finish).
_LOG: list[dict[str, Any]] = []

GRADE_LOG_MARKER = "<<cnnlib-grade-log>>"
"""Starts the output line that carries the result log (see :func:`grading_log_json`)."""


def grading_log() -> list[dict[str, Any]]:
    """The summary of every check run so far in this Python process, oldest first.

    Returns
    -------
    list of dict
        One :meth:`CheckResult.summary` per check run: ``exercise``, ``status``,
        ``cases_passed``, ``cases``, ``first_failure`` and ``note``. A copy: changing
        it does not change the log.
    """
    return [dict(entry) for entry in _LOG]


def grading_log_json() -> str:
    """The result log (:func:`grading_log`) as one line of JSON.

    The grader ends every notebook it runs with a cell that prints
    ``GRADE_LOG_MARKER + grading_log_json()``, and reads the checks' results from
    that line of the cell's output.

    Returns
    -------
    str
        A JSON list of the summaries, oldest first.
    """
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
    """The line of the student's code an exception came from (skipping this package and NumPy).

    An exception the grader brought back from the student's kernel carries that line as ``cnnlib_where``.
    """
    remote = getattr(exc, "cnnlib_where", None)
    if remote is not None:
        return remote
    here = Path(__file__).resolve().parent
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve().parent != here]
    user = [f for f in frames if "site-packages" not in f.filename and "/numpy/" not in f.filename]
    frame = (user or frames or [None])[-1]
    if frame is None:
        return ""
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"\n(at line {frame.lineno} of {frame.name}{code})"


def _run(
    exercise: str, fn: Any, cases: Sequence[_Case], argnames: Sequence[str], verbose: bool,
    review: Callable[[_Case, CaseResult, Any], None] | None = None,
) -> CheckResult:
    """Run every case and collect the results. ``review(case, result, answer)``, if given, sees each result
    with the student's answer for that case and may add to its message or hint (a topic's own diagnoses)."""
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
        results = []
        for case in cases:
            answers: list[Any] = []

            def call(*args: Any, **kwargs: Any) -> Any:
                answers.append(fn(*args, **kwargs))
                return answers[-1]

            result = _run_case(fn if review is None else call, case, argnames)
            if review is not None:
                review(case, result, answers[-1] if answers else None)
            results.append(result)
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


def _compare_one(case: _Case, name: str, e: Any, r: Any) -> str | None:
    if r is None:
        return f"received None for {name}: did you forget to compute or return it?"
    if case.kind == "int":
        if not is_int(r):
            if isinstance(r, (float, np.floating)) and float(r) == e:
                return f"received {r!r}, a float; return an int (use // for floor division, or int(...))"
            return f"expected {e}, received {r!r}"
        return None if int(r) == e else f"expected {e}, received {int(r)}"
    if case.kind == "ints":
        if not isinstance(r, (tuple, list)) or not all(is_int(v) for v in r):
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
