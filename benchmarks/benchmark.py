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
4. with ``--train``: ``python -m cnnlib.train`` with its defaults (or ``--train-args``)
   in a subprocess per ``--seeds`` entry: total wall time, final test accuracy and
   peak resident memory (``resource.getrusage``).

PyTorch is optional; without it (or with ``--no-torch``) only cnnlib is measured.
The PyTorch side needs ``torch==2.13.0`` (the CPU build) in the same interpreter.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP threads for NumPy and PyTorch (default %(default)s)")
    p.add_argument("--epochs", type=int, default=2, help="training epochs timed per library (default %(default)s)")
    p.add_argument("--limit", type=int, default=None, help="train on only the first N images (default: all 60,000)")
    p.add_argument("--batch-size", type=int, default=64, help="images per step (default %(default)s)")
    p.add_argument("--repeats", type=int, default=20, help="runs per layer timing; the minimum is shown (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="initial weights and shuffling (default %(default)s)")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    p.add_argument("--no-layers", action="store_true", help="skip the per-layer timings")
    p.add_argument("--no-epochs", action="store_true", help="skip the epoch timings")
    p.add_argument("--train", action="store_true", help="also run python -m cnnlib.train (defaults) and report wall time, accuracy, peak memory")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds for --train (default 0)")
    p.add_argument("--train-args", default="", help="extra arguments for python -m cnnlib.train, as one string")
    return p


ARGS = build_parser().parse_args()
if ARGS.threads < 1:
    sys.exit("benchmark.py: --threads must be >= 1")
for _var in THREAD_VARS:  # must happen before NumPy (or PyTorch) is imported
    os.environ[_var] = str(ARGS.threads)

import resource  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(ROOT))
import cnnlib as c  # noqa: E402

try:
    if ARGS.no_torch:
        raise ImportError("--no-torch")
    import torch  # noqa: E402

    torch.set_num_threads(ARGS.threads)
except ImportError as exc:
    torch = None
    TORCH_MISSING = str(exc)


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


def print_machine() -> None:
    print("== machine")
    print(f"cpu: {cpu_model()}; {os.cpu_count()} logical cores, {len(os.sched_getaffinity(0))} usable")
    load = os.getloadavg()
    print(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"python {platform.python_version()}, numpy {np.__version__} ({blas_info()})")
    if torch is not None:
        print(f"torch {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()}")
    else:
        print(f"torch: not used ({TORCH_MISSING}); install torch==2.13.0 (CPU build) to compare")
    print(f"threads pinned to {ARGS.threads}: " + ", ".join(f"{v}={os.environ[v]}" for v in THREAD_VARS)
          + (f", torch.set_num_threads({ARGS.threads})" if torch is not None else ""))
    print()


# --------------------------------------------------------------------------
# The same network in PyTorch
# --------------------------------------------------------------------------


def torch_twin(model: c.Sequential):
    """PyTorch's version of ``mnist_cnn``, starting from the same weights."""
    nn = torch.nn
    ch1, ch2 = model[0].out_channels, model[4].out_channels
    net = nn.Sequential(
        nn.Conv2d(1, ch1, 3, padding=1), nn.BatchNorm2d(ch1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(ch1, ch2, 3, padding=1), nn.BatchNorm2d(ch2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(ch2 * 7 * 7, 10),
    )
    names = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}
    with torch.no_grad():
        for i, layer in enumerate(model):
            for k, v in layer.params.items():
                getattr(net[i], names[k]).copy_(torch.from_numpy(v))
    return net


# --------------------------------------------------------------------------
# Per-layer timings
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


def layer_timings(x: np.ndarray, y: np.ndarray) -> None:
    print(f"== layers: one batch of {len(x)} MNIST images, fastest of {ARGS.repeats} runs, milliseconds")
    model = c.mnist_cnn(seed=ARGS.seed)
    net = torch_twin(model) if torch is not None else None
    rng = np.random.default_rng(0)
    head = f"{'layer':<34}{'forward':>9}{'backward':>10}"
    print(head + (f"{'torch fwd':>11}{'torch bwd':>11}" if net is not None else ""))
    totals = np.zeros(4)
    h = x
    for i, layer in enumerate(model):
        out = layer.forward(h)
        dy = rng.normal(size=out.shape).astype(np.float32)
        t_f = best_of(lambda: layer.forward(h), ARGS.repeats)
        layer.forward(h)
        t_b = best_of(lambda: layer.backward(dy), ARGS.repeats)
        row = [t_f, t_b]
        line = f"({i}) {layer!r:<30}"[:34].ljust(34) + f"{t_f:9.3f}{t_b:10.3f}"
        if net is not None:
            tl = net[i]
            xt = torch.from_numpy(np.ascontiguousarray(h)).requires_grad_(i > 0)
            dyt = torch.from_numpy(dy)
            inputs = ([xt] if i > 0 else []) + list(tl.parameters())
            tf = best_of(lambda: tl(xt), ARGS.repeats)
            yt = tl(xt)

            def tb():
                torch.autograd.grad(yt, inputs, dyt, retain_graph=True)

            tbk = best_of(tb, ARGS.repeats) if inputs else 0.0
            row += [tf, tbk]
            line += f"{tf:11.3f}{tbk:11.3f}"
        totals[: len(row)] += row
        print(line)
        h = out
    line = f"{'total':<34}{totals[0]:9.3f}{totals[1]:10.3f}"
    if net is not None:
        line += f"{totals[2]:11.3f}{totals[3]:11.3f}"
    print(line)

    loss = c.CrossEntropyLoss()
    opt = c.Adam(model.parameters(), lr=1e-3)

    def step():
        loss_value = loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
        return loss_value

    line = f"{'one training step (fwd, loss, bwd, Adam)':<43}{best_of(step, ARGS.repeats):10.3f}"
    if net is not None:
        xt, yt_ = torch.from_numpy(x), torch.from_numpy(y)
        topt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def tstep():
            topt.zero_grad()
            out = torch.nn.functional.cross_entropy(net(xt), yt_)
            out.backward()
            topt.step()

        line += f"{best_of(tstep, ARGS.repeats):22.3f}"
    print(line)
    print()


# --------------------------------------------------------------------------
# Epochs
# --------------------------------------------------------------------------


def cnnlib_epoch(model, opt, x, y, seed: int) -> float:
    t = time.perf_counter()
    c.fit(model, x, y, epochs=1, batch_size=ARGS.batch_size, optimizer=opt, seed=seed, progress=False)
    return time.perf_counter() - t


def torch_epoch(net, opt, x, y, seed: int) -> float:
    """One epoch in PyTorch, doing what fit does: shuffle, batches, loss, accuracy, Adam."""
    F = torch.nn.functional
    t = time.perf_counter()
    net.train()
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))
    total, correct = 0.0, 0
    for start in range(0, len(x), ARGS.batch_size):
        idx = order[start : start + ARGS.batch_size]
        xb, yb = x[idx], y[idx]
        opt.zero_grad()
        logits = net(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(yb)
        correct += int((logits.argmax(1) == yb).sum())
    return time.perf_counter() - t


def torch_accuracy(net, x, y) -> float:
    net.eval()
    with torch.no_grad():
        correct = sum(int((net(x[i : i + 128]).argmax(1) == y[i : i + 128]).sum()) for i in range(0, len(x), 128))
    return correct / len(x)


def epoch_timings(x_train, y_train, x_test, y_test) -> None:
    n = len(x_train)
    steps = -(-n // ARGS.batch_size)
    print(f"== training epochs: {n:,} images, batch {ARGS.batch_size} ({steps} steps), Adam lr 1e-3, float32")
    model = c.mnist_cnn(seed=ARGS.seed)
    opt = c.Adam(model.parameters(), lr=1e-3)
    runs = {"cnnlib": []}
    if torch is not None:
        net = torch_twin(model)
        topt = torch.optim.Adam(net.parameters(), lr=1e-3)
        xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
        runs["torch"] = []
    for epoch in range(ARGS.epochs):
        # Alternate who goes first, so that neither always runs right after the other.
        order = ["cnnlib", "torch"] if epoch % 2 == 0 else ["torch", "cnnlib"]
        for lib in order:
            if lib == "cnnlib":
                runs[lib].append(cnnlib_epoch(model, opt, x_train, y_train, ARGS.seed + epoch))
            elif torch is not None:
                runs[lib].append(torch_epoch(net, topt, xt, yt, ARGS.seed + epoch))
            else:
                continue
            print(f"epoch {epoch + 1} {lib:<6}: {runs[lib][-1]:7.2f} s ({runs[lib][-1] / steps * 1e3:.2f} ms per step)", flush=True)
    scale = 60000 / n
    print()
    print(f"{'':<8}{'best epoch':>12}{'median':>10}{'per step':>11}{'60k-image epoch':>17}{'test accuracy':>15}")
    acc = {"cnnlib": c.evaluate(model, x_test, y_test).accuracy}
    if torch is not None:
        acc["torch"] = torch_accuracy(net, torch.from_numpy(x_test), torch.from_numpy(y_test))
    for lib, ts in runs.items():
        best = min(ts)
        print(f"{lib:<8}{best:11.2f}s{float(np.median(ts)):9.2f}s{best / steps * 1e3:8.2f} ms{best * scale:16.1f}s{acc[lib]:14.2%}")
    if torch is not None:
        ratio = min(runs["cnnlib"]) / min(runs["torch"])
        print(f"ratio cnnlib / torch (best epochs): {ratio:.2f}x"
              f"  (median epochs: {np.median(runs['cnnlib']) / np.median(runs['torch']):.2f}x)")
    print(f"load average now: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
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
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
            wall = time.perf_counter() - t
            peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far
        if res.returncode != 0:
            print(res.stdout + res.stderr)
            raise SystemExit(f"python -m cnnlib.train failed with exit code {res.returncode}")
        epochs = [line for line in res.stdout.splitlines() if line.startswith("epoch ")]
        for line in epochs:
            print("  " + line)
        done = [line for line in res.stdout.splitlines() if line.startswith("done:")]
        acc = done[-1].split("test accuracy ")[1].split(" ")[0] if done else "?"
        note = "" if peak_kb > before else " (not above an earlier run's; ru_maxrss is the largest child)"
        print(f"seed {seed}: wall time {wall:.1f} s, test accuracy {acc}, peak memory {peak_kb / 1024:.0f} MB{note}")
    print()


def main() -> int:
    print_machine()
    (x_train, y_train), (x_test, y_test) = c.load_mnist()
    if ARGS.limit is not None:
        x_train, y_train = x_train[: ARGS.limit], y_train[: ARGS.limit]
    if not ARGS.no_layers:
        layer_timings(x_train[: ARGS.batch_size], y_train[: ARGS.batch_size])
    if not ARGS.no_epochs:
        epoch_timings(x_train, y_train, x_test, y_test)
    if ARGS.train:
        train_runs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
