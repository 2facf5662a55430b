"""Speed of cnnlib's reference network, layer by layer and per training epoch, next to PyTorch.

Run from the repository root::

    .venv/bin/python benchmarks/benchmark.py                   # cnnlib only (PyTorch is not in .venv)
    /path/to/python-with-torch benchmarks/benchmark.py         # cnnlib and PyTorch, interleaved
    python benchmarks/benchmark.py --limit 6400 --epochs 1     # a quick look
    python benchmarks/benchmark.py --train                     # also: python -m cnnlib.train, timed

It prints, in this order:

1. the machine: CPU model, cores, load average, NumPy and its BLAS, PyTorch, and the
   BLAS/OpenMP thread count, which is pinned (``--threads``, default 2) *before* NumPy
   is imported, through ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and
   ``MKL_NUM_THREADS`` (and ``torch.set_num_threads``);
2. each layer of :func:`cnnlib.mnist_cnn`, forward and backward, on one batch of 64
   MNIST images (the minimum over ``--repeats`` runs, which filters out noise from other
   programs), with PyTorch's layer alongside when it is importable;
3. full training epochs (``--epochs``, default 2) of the reference network on the first
   ``--limit`` training images (default all 60,000): batch 64, Adam, float32, the same
   initial weights and the same shuffled batches in both libraries. Epochs of the two
   libraries alternate, so that both see the same machine load; the ratio compares
   the fastest epoch of each;
4. with ``--compete``: the same epochs again while a competing CPU-bound process (a
   Python busy loop) runs on the machine, and per library the ratio of the epoch time
   with it to the time without it (the issue's target: at most about 2x, no collapse);
5. with ``--train``: ``python -m cnnlib.train`` with its defaults (or ``--train-args``)
   in a subprocess per ``--seeds`` entry: total wall time, final test accuracy and
   peak resident memory (``os.wait4``: that process's own maximum resident set).

Beside every step and epoch time it prints the step's multiply-add count (counted from
the layers' shapes: forward, and the weight and input gradients that the backward pass
computes) and the fraction of the machine's arithmetic peak that it reaches, with the
peak's assumptions (cores, clock from ``/proc/cpuinfo``, float32 FLOPs per cycle from
the AVX-512/AVX2 flags). ``--threads 2 1`` runs the whole benchmark once per thread
count (each in its own process, as the count must be set before NumPy is imported).

PyTorch is optional; without it (or with ``--no-torch``) only cnnlib is measured.
The PyTorch side needs ``torch==2.13.0`` (the CPU build) in the same interpreter; it runs
in a second process (see ``TorchWorker``), so the two libraries' thread pools never compete.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PEAK: float | None = None  # FLOP/s, set in main()
PEAK_NOTE = ""
MACS = 0  # multiply-adds of one training step
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[2],
                   help="BLAS/OpenMP threads for NumPy and PyTorch (default %(default)s); several values run the benchmark once for each")
    p.add_argument("--epochs", type=int, default=2, help="training epochs timed per library (default %(default)s)")
    p.add_argument("--limit", type=int, default=None, help="train on only the first N images (default: all 60,000)")
    p.add_argument("--batch-size", type=int, default=64, help="images per step (default %(default)s)")
    p.add_argument("--repeats", type=int, default=20, help="runs per layer timing; the minimum is shown (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="initial weights and shuffling (default %(default)s)")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    p.add_argument("--no-layers", action="store_true", help="skip the per-layer timings")
    p.add_argument("--no-epochs", action="store_true", help="skip the epoch timings")
    p.add_argument("--compete", action="store_true",
                   help="also time the epochs while a competing CPU-bound process runs, and report the slowdown")
    p.add_argument("--train", action="store_true", help="also run python -m cnnlib.train (defaults) and report wall time, accuracy, peak memory")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds for --train (default 0)")
    p.add_argument("--train-args", default="", help="extra arguments for python -m cnnlib.train, as one string")
    p.add_argument("--torch-worker", metavar="WEIGHTS", default=None, help=argparse.SUPPRESS)  # internal: the PyTorch process
    return p


ARGS = build_parser().parse_args()
if any(t < 1 for t in ARGS.threads):
    sys.exit("benchmark.py: --threads must be >= 1")
if len(ARGS.threads) > 1:  # one process per thread count: the count must be set before NumPy is imported
    import subprocess

    _rest, _skip = [], False  # the command line without its --threads values
    for _arg in sys.argv[1:]:
        if len(_arg) > 4 and "--threads".startswith(_arg.split("=")[0]):  # --threads, or an abbreviation
            _skip = "=" not in _arg
        elif _skip and not _arg.startswith("-"):
            continue
        else:
            _skip = False
            _rest.append(_arg)
    for _t in ARGS.threads:
        print(f"######## --threads {_t}", flush=True)
        _rc = subprocess.call([sys.executable, __file__, *_rest, "--threads", str(_t)])
        if _rc:
            sys.exit(_rc)
    sys.exit(0)
ARGS.threads = ARGS.threads[0]
for _var in THREAD_VARS:  # must happen before NumPy (or PyTorch) is imported
    os.environ[_var] = str(ARGS.threads)

import shlex  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(ROOT))
import cnnlib as c  # noqa: E402
from cnnlib._runner import _ConvBlocks, _Runner  # noqa: E402 - the training runner fit uses, timed step by step

import importlib.util  # noqa: E402
import json  # noqa: E402

if ARGS.torch_worker:
    import torch  # noqa: E402

    torch.set_num_threads(ARGS.threads)
    HAVE_TORCH, TORCH_MISSING = True, ""
elif ARGS.no_torch:
    HAVE_TORCH, TORCH_MISSING = False, "--no-torch"
elif importlib.util.find_spec("torch") is None:
    HAVE_TORCH, TORCH_MISSING = False, "not installed in this Python"
else:
    HAVE_TORCH, TORCH_MISSING = True, ""


# --------------------------------------------------------------------------
# Machine
# --------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> str:
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy: no dicts mode
        return "unknown BLAS"


def cpu_flags_and_ghz() -> tuple[set[str], float | None]:
    """The CPU's feature flags and its clock in GHz ("cpu MHz" of /proc/cpuinfo, else lscpu's maximum)."""
    flags: set[str] = set()
    mhz = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "flags" and not flags:
                flags = set(value.split())
            elif key.strip() == "cpu MHz" and mhz is None:
                mhz = float(value)
    except (OSError, ValueError):
        pass
    if mhz is None:
        try:
            out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
            for line in out.splitlines():
                if line.startswith("CPU max MHz") or (mhz is None and line.startswith("CPU MHz")):
                    mhz = float(line.split(":", 1)[1])
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
    return flags, (mhz / 1000 if mhz else None)


def machine_peak() -> tuple[float | None, str]:
    """Float32 peak in FLOP/s of the usable cores, and the assumptions behind it."""
    flags, ghz = cpu_flags_and_ghz()
    cores = len(os.sched_getaffinity(0))
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512: 2 FMA units x 16 float32 lanes x 2 FLOPs"
    elif "avx2" in flags and "fma" in flags:
        per_cycle, isa = 32, "AVX2+FMA: 2 FMA units x 8 float32 lanes x 2 FLOPs"
    else:
        per_cycle, isa = 8, "SSE: 4 float32 lanes x (1 add + 1 multiply)"
    if ghz is None:
        return None, f"peak unknown (no clock found); {isa}"
    peak = cores * ghz * 1e9 * per_cycle
    return peak, (f"peak = {cores} cores x {ghz:.2f} GHz x {per_cycle} FLOPs/cycle ({isa}) = {peak / 1e9:.0f} GFLOP/s float32; "
                  "assumes the clock of /proc/cpuinfo holds under load")


def step_macs(model: Any, batch: int, input_shape: tuple[int, ...] = (1, 28, 28)) -> int:
    """Multiply-adds of one training step: each Conv2d/Linear forward, its weight gradient, and
    its input gradient except for the first layer (fit skips that, see needs_input_grad)."""
    total, shape, first = 0, (batch, *input_shape), True
    for layer in model:
        out = layer.forward(np.zeros(shape, dtype=np.float32), training=False).shape
        if isinstance(layer, (c.Conv2d, c.Linear)):
            w = layer.params["W"]
            per_output = int(np.prod(w.shape[1:]))  # C*kh*kw, or in_features
            fwd = int(np.prod(out)) * per_output
            total += fwd * (2 if first else 3)
        if isinstance(layer, (c.Conv2d, c.Linear)) or layer.params:
            first = False
        shape = out
    return total


def print_machine(worker: "TorchWorker | None") -> None:
    print("== machine")
    print(f"cpu: {cpu_model()}; {os.cpu_count()} logical cores, {len(os.sched_getaffinity(0))} usable")
    load = os.getloadavg()
    print(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"python {platform.python_version()}, numpy {np.__version__} ({blas_info()})")
    if worker is not None:
        info = worker.ask("info")
        print(f"torch {info['version']} (in a separate process), torch.get_num_threads() = {info['threads']}")
    else:
        print(f"torch: not used ({TORCH_MISSING}); install torch==2.13.0 (CPU build) to compare")
    print(f"threads pinned to {ARGS.threads}: " + ", ".join(f"{v}={os.environ[v]}" for v in THREAD_VARS)
          + (f", torch.set_num_threads({ARGS.threads})" if worker is not None else ""))
    spin = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    print(f"OpenBLAS helper threads spin {'2^' + spin + ' cycles (OPENBLAS_THREAD_TIMEOUT)' if spin else 'up to 2^28 cycles (its default)'}"
          " after each product; everything make starts sets OPENBLAS_THREAD_TIMEOUT=16 (see the Makefile)")
    print(PEAK_NOTE)
    print(f"one training step of mnist_cnn at batch {ARGS.batch_size}: {MACS / 1e6:.1f} million multiply-adds "
          f"(forward, weight gradients, input gradients but the first layer's)")
    print()


def of_peak(seconds_per_step: float) -> str:
    """Beside a step time: the step's multiply-adds and the fraction of the machine's peak that time reaches."""
    if PEAK is None or seconds_per_step <= 0:
        return f"[{MACS / 1e6:.0f}M MAC]"
    return f"[{MACS / 1e6:.0f}M MAC, {2 * MACS / seconds_per_step / PEAK:.1%} of peak]"


# --------------------------------------------------------------------------
# Timing helpers
# --------------------------------------------------------------------------


def best_of(f, repeats: int) -> float:
    """Fastest of ``repeats`` calls, in milliseconds (after one warm-up call)."""
    f()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best * 1e3


def load_data():
    (x_train, y_train), (x_test, y_test) = c.load_mnist()
    if ARGS.limit is not None:
        x_train, y_train = x_train[: ARGS.limit], y_train[: ARGS.limit]
    return x_train, y_train, x_test, y_test


# --------------------------------------------------------------------------
# PyTorch, in its own process
# --------------------------------------------------------------------------
# PyTorch runs in a second process, started from this script with --torch-worker: with
# both libraries in one process their thread pools (OpenBLAS's and PyTorch's OpenMP
# threads, which keep spinning for a while after each call) fight over the cores and
# slow each other down. The main process sends one command at a time and waits, so the
# two never run at once.


class TorchWorker:
    """The main process's handle on the PyTorch process: one JSON line per command and answer."""

    def __init__(self, weights: Path) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--torch-worker", str(weights),
               "--threads", str(ARGS.threads), "--batch-size", str(ARGS.batch_size),
               "--repeats", str(ARGS.repeats), "--seed", str(ARGS.seed)]
        if ARGS.limit is not None:
            cmd += ["--limit", str(ARGS.limit)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def ask(self, *command) -> Any:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the PyTorch worker stopped (exit code {self.proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()


def torch_twin(state: dict[str, np.ndarray]):
    """PyTorch's version of ``mnist_cnn``, starting from cnnlib's weights (a ``state_dict``)."""
    nn = torch.nn
    ch1, ch2 = state["0.W"].shape[0], state["4.W"].shape[0]
    net = nn.Sequential(
        nn.Conv2d(1, ch1, 3, padding=1), nn.BatchNorm2d(ch1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(ch1, ch2, 3, padding=1), nn.BatchNorm2d(ch2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(ch2 * 7 * 7, 10),
    )
    names = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}
    with torch.no_grad():
        for key, value in state.items():
            i, k = key.split(".")
            if k in names:
                getattr(net[int(i)], names[k]).copy_(torch.from_numpy(value))
    return net


def torch_worker_main() -> int:
    """The PyTorch process: answers the commands of :class:`TorchWorker` until its input closes."""
    F = torch.nn.functional
    with np.load(ARGS.torch_worker) as f:
        state = {k: f[k] for k in f.files}
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in load_data())
    net = torch_twin(state)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def layers() -> list:
        layer_net = torch_twin(state)
        rng = np.random.default_rng(0)
        rows, h = [], x_train[: ARGS.batch_size]
        for i, layer in enumerate(layer_net):
            xt = h.detach().requires_grad_(i > 0)
            yt = layer(xt)
            dy = torch.from_numpy(rng.normal(size=tuple(yt.shape)).astype(np.float32))
            inputs = ([xt] if i > 0 else []) + list(layer.parameters())
            t_f = best_of(lambda: layer(xt), ARGS.repeats)
            t_b = best_of(lambda: torch.autograd.grad(yt, inputs, dy, retain_graph=True), ARGS.repeats) if inputs else 0.0
            rows.append((t_f, t_b))
            h = yt.detach()
        xb, yb = x_train[: ARGS.batch_size], y_train[: ARGS.batch_size]
        step_opt = torch.optim.Adam(layer_net.parameters(), lr=1e-3)

        def step():
            step_opt.zero_grad()
            F.cross_entropy(layer_net(xb), yb).backward()
            step_opt.step()

        return [rows, best_of(step, ARGS.repeats)]

    def epoch(seed: int) -> float:
        """One epoch doing what cnnlib.fit does: shuffle, batches, loss, accuracy, Adam."""
        t = time.perf_counter()
        net.train()
        order = torch.from_numpy(np.random.default_rng(seed).permutation(len(x_train)))
        total, correct = 0.0, 0
        for start in range(0, len(x_train), ARGS.batch_size):
            idx = order[start : start + ARGS.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad()
            logits = net(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += int((logits.argmax(1) == yb).sum())
        return time.perf_counter() - t

    def accuracy() -> float:
        net.eval()
        with torch.no_grad():
            correct = sum(int((net(x_test[i : i + 128]).argmax(1) == y_test[i : i + 128]).sum()) for i in range(0, len(x_test), 128))
        return correct / len(x_test)

    commands = {
        "info": lambda: {"version": torch.__version__, "threads": torch.get_num_threads()},
        "layers": layers,
        "epoch": epoch,
        "accuracy": accuracy,
    }
    for line in sys.stdin:
        name, *args = json.loads(line)
        print(json.dumps(commands[name](*args)), flush=True)
    return 0


# --------------------------------------------------------------------------
# Per-layer timings
# --------------------------------------------------------------------------


def layer_timings(x: np.ndarray, y: np.ndarray, worker: "TorchWorker | None") -> None:
    print(f"== layers: one batch of {len(x)} MNIST images, fastest of {ARGS.repeats} runs, milliseconds")
    model = c.mnist_cnn(seed=ARGS.seed)
    rng = np.random.default_rng(0)
    rows = []
    h = x
    for layer in model:
        out = layer.forward(h)
        dy = rng.normal(size=out.shape).astype(np.float32)
        t_f = best_of(lambda: layer.forward(h), ARGS.repeats)
        layer.forward(h)
        t_b = best_of(lambda: layer.backward(dy), ARGS.repeats)
        rows.append([t_f, t_b])
        h = out
    loss = c.CrossEntropyLoss()
    opt = c.Adam(model.parameters(), lr=1e-3)
    runner = _Runner(model)  # how fit runs a model
    model.needs_input_grad = False  # as fit sets it: nothing needs the gradient with respect to the images

    def step():
        loss.forward(runner.forward(x, training=True), y)
        runner.backward(loss.backward())
        opt.step()

    t_step = best_of(step, ARGS.repeats)
    theirs = worker.ask("layers") if worker is not None else None
    print(f"{'layer':<34}{'forward':>9}{'backward':>10}" + (f"{'torch fwd':>11}{'torch bwd':>11}" if theirs else ""))
    for i, (layer, row) in enumerate(zip(model, rows)):
        line = f"({i}) {layer!r}"[:33].ljust(34) + f"{row[0]:9.3f}{row[1]:10.3f}"
        if theirs:
            line += f"{theirs[0][i][0]:11.3f}{theirs[0][i][1]:11.3f}"
        print(line)
    total = np.sum(rows, axis=0)
    line = f"{'total':<34}{total[0]:9.3f}{total[1]:10.3f}"
    if theirs:
        t_total = np.sum(theirs[0], axis=0)
        line += f"{t_total[0]:11.3f}{t_total[1]:11.3f}"
    print(line)
    # What fit runs instead of the first eight layers: two fused conv -> BN -> ReLU -> pool blocks
    # (cnnlib/_runner.py). Timed on their own, as a step of the runner, beside PyTorch's same 4 layers.
    h, start = x, 0
    for s in runner.steps:
        out = s.forward(h, training=True)
        if isinstance(s, _ConvBlocks):
            dy = rng.normal(size=out.shape).astype(np.float32)
            t_f = best_of(lambda: s.forward(h, training=True), ARGS.repeats)
            t_b = best_of(lambda: (s.forward(h, training=True), s.backward(dy)), ARGS.repeats) - t_f
            n = 4 * len(s.blocks)
            label = f"fused in fit: layers {start}-{start + n - 1}"
            line = f"{label:<34}{t_f:9.3f}{t_b:10.3f}"
            if theirs:
                t_sum = np.sum(theirs[0][start : start + n], axis=0)
                line += f"{t_sum[0]:11.3f}{t_sum[1]:11.3f}"
            print(line)
            start += n
        else:
            start += 1
        h = out
    line = f"{'training step (fwd, loss, bwd, Adam)':<34}{t_step:19.3f}"
    if theirs:
        line += f"{theirs[1]:22.3f}"
    print(line)
    print(f"  cnnlib {of_peak(t_step / 1e3)}" + (f"; torch {of_peak(theirs[1] / 1e3)}" if theirs else "") + "\n")


# --------------------------------------------------------------------------
# Epochs
# --------------------------------------------------------------------------


def epoch_timings(data, model: c.Sequential, worker: "TorchWorker | None", label: str = "") -> dict[str, list[float]]:
    x_train, y_train, x_test, y_test = data
    n = len(x_train)
    steps = -(-n // ARGS.batch_size)
    print(f"== training epochs{label}: {n:,} images, batch {ARGS.batch_size} ({steps} steps), Adam lr 1e-3, float32")
    opt = c.Adam(model.parameters(), lr=1e-3)
    runs: dict[str, list[float]] = {"cnnlib": []}
    if worker is not None:
        runs["torch"] = []
    for epoch in range(ARGS.epochs):
        # Alternate who goes first, so that both see the same machine load.
        for lib in (["cnnlib", "torch"] if epoch % 2 == 0 else ["torch", "cnnlib"]):
            seed = ARGS.seed + epoch
            if lib == "cnnlib":
                t = time.perf_counter()
                c.fit(model, x_train, y_train, epochs=1, batch_size=ARGS.batch_size, optimizer=opt, seed=seed, progress=False)
                runs[lib].append(time.perf_counter() - t)
            elif worker is not None:
                runs[lib].append(worker.ask("epoch", seed))
            else:
                continue
            per_step = runs[lib][-1] / steps
            print(f"epoch {epoch + 1} {lib:<6}: {runs[lib][-1]:7.2f} s ({per_step * 1e3:.2f} ms per step {of_peak(per_step)})", flush=True)
    acc = {"cnnlib": c.evaluate(model, x_test, y_test).accuracy}
    if worker is not None:
        acc["torch"] = worker.ask("accuracy")
    print(f"\n{'':<8}{'best epoch':>12}{'median':>10}{'per step':>12}{'60k-image epoch':>17}{'test accuracy':>15}")
    for lib, ts in runs.items():
        best = min(ts)
        print(f"{lib:<8}{best:11.2f}s{float(np.median(ts)):9.2f}s{best / steps * 1e3:9.2f} ms"
              f"{best * 60000 / n:16.1f}s{acc[lib]:14.2%}  {of_peak(best / steps)}")
    if worker is not None:
        print(f"ratio cnnlib / torch per epoch: {min(runs['cnnlib']) / min(runs['torch']):.2f}x (best epochs), "
              f"{np.median(runs['cnnlib']) / np.median(runs['torch']):.2f}x (median epochs)")
    print(f"load average now: {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    return runs


def compete_timings(data, model: c.Sequential, worker: "TorchWorker | None", alone: dict[str, list[float]]) -> None:
    """The epochs again with a competing CPU-bound process on the machine, and the slowdown per library."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # one busy core's worth of other work
    try:
        time.sleep(1.0)
        busy = epoch_timings(data, model, worker, label=" with a competing CPU-bound process (pid %d)" % hog.pid)
    finally:
        hog.kill()
        hog.wait()
    print(f"== contention: epoch time with one competing CPU-bound process / alone ({ARGS.threads} threads)")
    print(f"{'':<8}{'alone best':>11}{'median':>9}{'busy best':>11}{'median':>9}{'ratio best':>12}{'median':>9}")
    for lib in alone:
        a, b = alone[lib], busy[lib]
        print(f"{lib:<8}{min(a):10.2f}s{np.median(a):8.2f}s{min(b):10.2f}s{np.median(b):8.2f}s"
              f"{min(b) / min(a):11.2f}x{np.median(b) / np.median(a):8.2f}x")
    print()


# --------------------------------------------------------------------------
# python -m cnnlib.train
# --------------------------------------------------------------------------


def train_runs() -> None:
    print(f"== python -m cnnlib.train {ARGS.train_args} (threads {ARGS.threads})".rstrip())
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for seed in ARGS.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "cnnlib.train", "--no-progress", "--seed", str(seed),
                   "--out", str(Path(tmp) / "w.npz"), *shlex.split(ARGS.train_args)]
            t = time.perf_counter()
            with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
                proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, cwd=ROOT)
                # wait4 gives this child's own resource usage (RUSAGE_CHILDREN would report the
                # largest of all children so far, e.g. the PyTorch worker).
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                wall = time.perf_counter() - t
                out.seek(0)
                err.seek(0)
                stdout, stderr = out.read(), err.read()
            peak_kb = usage.ru_maxrss  # kilobytes on Linux
        if proc.returncode != 0:
            print(stdout + stderr)
            raise SystemExit(f"python -m cnnlib.train failed with exit code {proc.returncode}")
        for line in stdout.splitlines():
            if line.startswith("epoch "):
                print("  " + line)
        done = [line for line in stdout.splitlines() if line.startswith("done:")]
        acc = done[-1].split("test accuracy ")[1].split(" ")[0] if done else "?"
        print(f"seed {seed}: wall time {wall:.1f} s, test accuracy {acc}, peak memory {peak_kb / 1024:.0f} MiB", flush=True)
    print(f"load average now: {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")


def main() -> int:
    global PEAK, PEAK_NOTE, MACS
    if ARGS.torch_worker:
        return torch_worker_main()
    PEAK, PEAK_NOTE = machine_peak()
    MACS = step_macs(c.mnist_cnn(seed=ARGS.seed), ARGS.batch_size)
    data = load_data()
    model = c.mnist_cnn(seed=ARGS.seed)
    worker = None
    if HAVE_TORCH and not (ARGS.no_layers and ARGS.no_epochs):
        tmp = tempfile.TemporaryDirectory()
        weights = Path(tmp.name) / "initial.npz"
        np.savez(weights, **model.state_dict())  # PyTorch starts from the same weights
        worker = TorchWorker(weights)
    try:
        print_machine(worker)
        if not ARGS.no_layers:
            layer_timings(data[0][: ARGS.batch_size], data[1][: ARGS.batch_size], worker)
        if not ARGS.no_epochs:
            alone = epoch_timings(data, model, worker)
            if ARGS.compete:
                compete_timings(data, model, worker, alone)
    finally:
        if worker is not None:
            worker.close()
    if ARGS.train:
        train_runs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
