"""Train the course's reference CNN on the full MNIST data from the command line.

Run ``python -m cnnlib.train`` (``--help`` lists the options). It trains
:func:`cnnlib.models.mnist_cnn` on all 60,000 training images with Adam,
prints the time and the test accuracy (all 10,000 test images) after every
epoch, and saves the weights to ``mnist_cnn.npz``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .data import load_mnist
from .models import mnist_cnn
from .optim import Adam, lr_at  # noqa: F401 - lr_at is re-exported: from cnnlib.train import lr_at
from .training import evaluate, fit, save

DEFAULTS = {"epochs": 6, "batch_size": 64, "lr": 2e-3, "seed": 0}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cnnlib.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"], help="passes over the training set (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="images per step (default %(default)s)")
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="Adam's initial learning rate, decayed over the run (default %(default)s)")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="seeds the initialisation and the shuffling (default %(default)s)")
    p.add_argument("--channels", type=int, nargs=2, default=(16, 32), metavar=("C1", "C2"), help="filters per conv layer (default 16 32)")
    p.add_argument("--data-dir", type=Path, default=None, help="directory with the MNIST files (default: the repository's data/mnist, or $CNNLIB_DATA_DIR)")
    p.add_argument("--out", type=Path, default=Path("mnist_cnn.npz"), help="where to save the weights (default %(default)s)")
    p.add_argument("--limit", type=int, default=None, help="train on only the first N training images (for quick tests; default: all)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--blas-threads", type=int, default=None, metavar="N",
                   help="threads for NumPy's matrix products while training; 1 keeps a busy machine fast (default: as they are)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    t0 = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    print(f"MNIST: {len(x_train):,} training and {len(x_test):,} test images "
          f"(loaded in {time.perf_counter() - t0:.1f} s)")
    model = mnist_cnn(tuple(args.channels), seed=args.seed)
    print(model)
    print(f"parameters: {model.num_parameters():,}")
    optimizer = Adam(model.parameters(), lr=args.lr)

    def report(epoch: int, history) -> None:
        print(
            f"epoch {epoch + 1}/{args.epochs}: {history.epoch_time[-1]:.1f} s, "
            f"lr {optimizer.lr:.2e}, train loss {history.loss[-1]:.4f}, "
            f"train accuracy {history.accuracy[-1]:.2%}, test loss {history.val_loss[-1]:.4f}, "
            f"test accuracy {history.val_accuracy[-1]:.2%}",
            flush=True,
        )

    start = time.perf_counter()
    fit(
        model, x_train, y_train,
        epochs=args.epochs, batch_size=args.batch_size, optimizer=optimizer,
        validation_data=(x_test, y_test), seed=args.seed, progress=not args.no_progress,
        lr_schedule=lambda e: lr_at(e, args.epochs, args.lr), callback=report, blas_threads=args.blas_threads,
    )
    total = time.perf_counter() - start
    final = evaluate(model, x_test, y_test)
    path = save(model, args.out)
    print(f"done: {total:.1f} s of training ({total / args.epochs:.1f} s per epoch with evaluation), "
          f"test accuracy {final.accuracy:.2%} on {len(x_test):,} images; weights saved to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
