"""One student's kernel: run code in it with time limits, and kill it with everything it started.

The kernel is this very Python (``sys.executable -m ipykernel_launcher``), started
in a session of its own, so that every process the student's code starts is in
its process group. A cell that runs past its limit is interrupted; if the
interrupt is ignored (a cell that catches ``KeyboardInterrupt``, or ignores
SIGINT) for :data:`GRACE` seconds, the whole process group is killed.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CellRun", "Kernel", "GRACE"]

GRACE = 5.0  # seconds an interrupted cell gets to stop before the kernel is killed


@dataclass
class CellRun:
    """What running one piece of code in the kernel gave.

    Attributes
    ----------
    status : str
        ``"ok"``, ``"error"`` (the code raised), ``"timeout"`` (it ran past its limit;
        the kernel was interrupted, or killed if it ignored that) or ``"dead"`` (the
        kernel process ended: ``exit()``, ``os._exit``, a crash, out of memory).
    error : str
        ``"Type: message"`` of the exception, or what ended the kernel.
    stdout : str
        What the code printed.
    seconds : float
        Wall-clock time.
    """

    status: str
    error: str = ""
    stdout: str = ""
    seconds: float = 0.0


def _this_python_kernel_manager() -> Any:
    """A KernelManager whose kernel is this very interpreter (not whatever "python3" kernelspec is installed)."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import KernelManager

    class ThisPythonKernelManager(KernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="cnnlib grader", language="python", name="python3")

    return ThisPythonKernelManager()


@dataclass
class Kernel:
    """A kernel in ``cwd`` with environment ``env``. Use as a context manager; :meth:`close` kills it."""

    cwd: Path
    env: dict[str, str]
    startup_timeout: float = 60.0
    km: Any = field(default=None, init=False)
    kc: Any = field(default=None, init=False)
    pid: int | None = field(default=None, init=False)

    def __enter__(self) -> "Kernel":
        self.km = _this_python_kernel_manager()
        self.km.start_kernel(cwd=str(self.cwd), env=self.env, extra_arguments=["--log-level=ERROR"])
        self.pid = self._process().pid if self._process() is not None else None
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=self.startup_timeout)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _process(self) -> Any:
        provisioner = getattr(self.km, "provisioner", None)
        return getattr(provisioner, "process", None)

    def alive(self) -> bool:
        proc = self._process()
        return proc is not None and proc.poll() is None

    def exit_description(self) -> str:
        """How the kernel process ended: its exit code or the signal that killed it."""
        proc = self._process()
        code = None if proc is None else proc.poll()
        if code is None:
            return "the kernel stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the kernel was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        return f"the kernel exited with status {code}"

    def run(self, code: str, timeout: float) -> CellRun:
        """Run ``code``; wait at most ``timeout`` seconds for it to finish."""
        start = time.monotonic()
        if not self.alive():
            return CellRun("dead", self.exit_description())
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        stdout: list[str] = []
        error = ""
        deadline = start + timeout
        interrupted_at: float | None = None
        while True:
            now = time.monotonic()
            if interrupted_at is None and now >= deadline:
                self.km.interrupt_kernel()
                interrupted_at = now
            if interrupted_at is not None and now >= interrupted_at + GRACE:
                self.kill()
                return CellRun("timeout", f"ran past its time limit of {timeout:g} s and ignored the interrupt; the kernel was killed",
                               "".join(stdout), time.monotonic() - start)
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                if not self.alive():
                    return CellRun("dead", self.exit_description(), "".join(stdout), time.monotonic() - start)
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                stdout.append(content.get("text", ""))
            elif kind == "error":
                error = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}".strip()
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        seconds = time.monotonic() - start
        if interrupted_at is not None:
            return CellRun("timeout", f"ran past its time limit of {timeout:g} s and was interrupted", "".join(stdout), seconds)
        return CellRun("error" if error else "ok", error, "".join(stdout), seconds)

    def kill(self) -> None:
        """Kill the kernel and every process in its process group (what the student's code started)."""
        if self.pid is not None:
            try:
                os.killpg(os.getpgid(self.pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - it is dead either way
            pass

    def close(self) -> None:
        """Stop the channels and kill the kernel with its process group."""
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        if self.km is not None:
            self.kill()
