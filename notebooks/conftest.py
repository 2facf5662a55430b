"""pytest settings for validating the course notebooks with nbval.

``make test`` runs ``pytest --nbval`` over this folder.  This file makes a
plain ``pytest --nbval notebooks/`` behave the same way for an instructor:

* the notebooks run in the current Python environment (not whatever kernel
  name is stored in the notebook), so the checked outputs come from the
  installed cnnlib;
* outputs are compared after ``nbval_sanitize.cfg`` has masked what really
  varies between runs (memory addresses, temporary paths, progress-bar rates);
* a slow kernel cannot fail a cell (see "A busy machine" below).

One thing to know when writing a notebook: nbval runs cells without storing
them in IPython's history, so a trailing ``;`` does not hide a cell's result.
Show figures with ``plt.show()`` instead.

A busy machine
--------------
nbval (0.11) waits for a cell's reply on the kernel's shell channel and only
then reads the cell's output messages from the IOPub channel, at most 5 s
apart.  ZeroMQ holds about a thousand unread messages per channel on each side
and silently drops the rest, so a long cell that sends thousands of progress
and widget updates (notebook 10's training, more of them the slower the
machine) could lose its last messages, the kernel's "idle" among them, and
fail with "Timeout of 5 seconds exceeded waiting for output" after it had
finished.  Here nbval's kernel reads the IOPub channel while it waits for the
reply, keeping every message in order for nbval to read afterwards, and waits
up to a minute (not 5 s) for each output message.  The Makefile also gives the
kernel three minutes to start and a cell an hour to run.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from queue import Empty

SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")
OUTPUT_TIMEOUT = 60  # s nbval waits for each output message of a finished cell (nbval's own: 5)
KERNEL_STARTUP_TIMEOUT = 180  # s (nbval's default: 60)
POLL = 0.05  # s between reads of the kernel's output while a cell runs


def pytest_configure(config):
    opt = config.option
    if hasattr(opt, "nbval_sanitize_with") and opt.nbval_sanitize_with is None:
        opt.nbval_sanitize_with = str(SANITIZE)
    if hasattr(opt, "nbval_current_env") and not (opt.nbval_current_env or opt.nbval_kernel_name):
        opt.nbval_current_env = True
    if getattr(opt, "nbval_kernel_startup_timeout", None) == 60:  # nbval's default: not chosen on the command line
        opt.nbval_kernel_startup_timeout = KERNEL_STARTUP_TIMEOUT
    if getattr(opt, "nbval", False) or getattr(opt, "nbval_lax", False):
        _read_output_while_cells_run()


def pytest_itemcollected(item):
    if hasattr(item, "output_timeout"):  # an nbval cell
        item.output_timeout = OUTPUT_TIMEOUT


def _read_output_while_cells_run() -> None:
    """Make nbval's kernel read its IOPub messages while waiting for a cell's reply (see the module notes)."""
    from nbval.kernel import RunningKernel

    if getattr(RunningKernel, "_reads_output_while_waiting", False):
        return
    get_message = RunningKernel.get_message

    def backlog(kernel) -> deque:
        return kernel.__dict__.setdefault("_iopub_backlog", deque())

    def get_message_in_order(self, stream, timeout=None):
        """The oldest output message: those read while the cell ran first, then the channel."""
        if stream == "iopub" and backlog(self):
            return backlog(self).popleft()
        return get_message(self, stream, timeout=timeout)

    def await_reply(self, msg_id, timeout=None):
        """nbval's await_reply, reading the IOPub channel meanwhile so that ZeroMQ never drops a message."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pending = backlog(self)
        while True:
            while self.kc.iopub_channel.msg_ready():
                pending.append(self.kc.get_iopub_msg(timeout=0))
            wait = POLL if deadline is None else max(0.0, min(POLL, deadline - time.monotonic()))
            try:
                msg = get_message(self, "shell", timeout=wait)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                if not self.is_alive():  # a dead kernel will never reply: say so now, not at the timeout
                    raise RuntimeError("the notebook's kernel died while the cell ran") from None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                if msg["content"]["status"] == "aborted":
                    raise RuntimeError("Kernel aborted execution request")
                return

    RunningKernel.get_message = get_message_in_order
    RunningKernel.await_reply = await_reply
    RunningKernel._reads_output_while_waiting = True
