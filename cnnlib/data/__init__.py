"""Load the MNIST handwritten-digit data set from its four IDX files.

MNIST has 60,000 training and 10,000 test images of 28x28 grey pixels, each
labelled with the digit 0-9 it shows.  ``load_mnist()`` reads the four files
(no internet needed), checks that they are not damaged, and returns NumPy
arrays ready to feed to a network.

Where the files are: in the course's clone, ``data/mnist`` (they are part of
the repository).  When cnnlib is installed elsewhere (``pip install``), in a
per-user folder (``~/.cache/cnnlib/mnist`` on Linux), filled once by
``python -m cnnlib.data fetch``.  ``CNNLIB_DATA_DIR`` or ``data_dir=`` name
any other folder.

Command line: ``python -m cnnlib.data fetch [--from DIR | --download]`` copies
the files from a clone (or downloads them, only when asked) and verifies them;
``python -m cnnlib.data verify [--dir DIR]`` checks the files;
``python -m cnnlib.data download [--dir DIR]`` fetches them from a public mirror.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import math
import os
import shutil
import struct
import sys
import tempfile
import urllib.request
import zlib
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from .. import _validate as V

__all__ = [
    "DataFileError",
    "MNIST_SHA256",
    "DEFAULT_MIRRORS",
    "default_data_dir",
    "read_idx",
    "load_mnist",
    "download_mnist",
    "clear_mnist_cache",
]

PathLike = Union[str, "os.PathLike[str]"]

#: SHA-256 of the *decompressed* bytes of each MNIST file, keyed by the file
#: name without ``.gz``.  Checking the decompressed bytes means any correct
#: copy passes, whether it is gzip-compressed (by anyone, at any level) or not.
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: Public mirrors tried, in order, by :func:`download_mnist`.
DEFAULT_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

ENV_VAR = "CNNLIB_DATA_DIR"
# The course's clone, when cnnlib runs from one (the source tree or an editable install):
# its data/mnist holds the four files.  An installed copy has no such folder beside it.
_REPO_ROOT = Path(__file__).resolve().parent.parent.parent
_REPO_DATA_DIR = _REPO_ROOT / "data" / "mnist"
_FETCH = "python -m cnnlib.data fetch"
_DOWNLOAD_TIMEOUT = 60.0  # seconds, per connection attempt

# IDX type code -> big-endian NumPy dtype.
_IDX_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

_IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
_IMAGE_SIZE = (28, 28)

# (train images, train labels, test images, test labels) as read-only uint8
# arrays, keyed by resolved directory, together with the files' stat
# signature so that a changed file is read again.
_CACHE: dict[Path, tuple[tuple, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {}


class DataFileError(ValueError):
    """A data file exists but its contents are not what was expected."""


# ---------------------------------------------------------------------------
# IDX parsing
# ---------------------------------------------------------------------------


def _maybe_gunzip(raw: bytes, source: str, expect_gzip: bool) -> bytes:
    """Decompress ``raw`` if it is gzip data (or is expected to be)."""
    is_gzip = raw[:2] == b"\x1f\x8b"
    if not (is_gzip or expect_gzip):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        found = "gzip data that is truncated or damaged" if is_gzip else "no gzip header"
        raise DataFileError(
            f"{source}: expected a valid gzip-compressed file, found {found} ({exc})"
        ) from None


def _read_decompressed(path: Path, source: str | None = None) -> bytes:
    """Return the bytes of ``path``, decompressed if it is a gzip file."""
    raw = path.read_bytes()
    return _maybe_gunzip(raw, source or str(path), path.name.endswith(".gz"))


def _parse_idx(buf: bytes, source: str) -> np.ndarray:
    """Parse the IDX bytes ``buf``; ``source`` names the file in error messages."""
    if len(buf) < 4:
        raise DataFileError(
            f"{source}: truncated IDX header: expected at least 4 bytes "
            f"(the magic number), found {len(buf)} bytes"
        )
    if buf[0] != 0 or buf[1] != 0:
        raise DataFileError(
            f"{source}: not an IDX file: expected the magic number to start with "
            f"two zero bytes, found 0x{buf[0]:02X} 0x{buf[1]:02X}"
        )
    type_code, ndim = buf[2], buf[3]
    if type_code not in _IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in _IDX_DTYPES)
        raise DataFileError(
            f"{source}: unknown IDX type code: expected one of {known}, "
            f"found 0x{type_code:02X}"
        )
    header_len = 4 + 4 * ndim
    if len(buf) < header_len:
        raise DataFileError(
            f"{source}: truncated IDX header: expected {header_len} bytes "
            f"(magic number and {ndim} dimension sizes), found {len(buf)} bytes"
        )
    dims = struct.unpack(f">{ndim}I", buf[4:header_len])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    count = math.prod(dims)
    expected_len = header_len + count * dtype.itemsize
    if len(buf) != expected_len:
        what = "truncated" if len(buf) < expected_len else "too long"
        raise DataFileError(
            f"{source}: IDX file {what}: expected {expected_len} bytes "
            f"({header_len}-byte header + shape {tuple(dims)} x {dtype.itemsize} "
            f"byte(s) per item), found {len(buf)} bytes"
        )
    data = np.frombuffer(buf, dtype=dtype, count=count, offset=header_len)
    # astype to native byte order always makes a fresh, writable array.
    return data.reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path_or_bytes: PathLike | bytes | bytearray | memoryview) -> np.ndarray:
    """Read an array stored in the IDX format used by MNIST.

    An IDX file starts with two zero bytes, a type code byte (0x08 uint8,
    0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and a byte
    giving the number of dimensions; then one big-endian uint32 per dimension
    with its size; then the values themselves, big-endian.

    Parameters
    ----------
    path_or_bytes : str, os.PathLike, bytes, bytearray or memoryview
        A path to an IDX file, gzip-compressed (normally named ``*.gz``) or
        not, or the file's contents as bytes (compressed or not).

    Returns
    -------
    numpy.ndarray
        A new, writable array in the machine's native byte order, with the
        shape and dtype given by the header.

    Raises
    ------
    DataFileError
        If the data is not valid IDX: the first two bytes are not zero, the
        type code is unknown, the header is truncated, the data is shorter or
        longer than the header announces, or the gzip data is damaged.
    FileNotFoundError
        If a path is given and no such file exists.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        source = "<bytes>"
        buf = _maybe_gunzip(bytes(path_or_bytes), source, expect_gzip=False)
    else:
        path = Path(path_or_bytes)
        source = str(path)
        buf = _read_decompressed(path)
    return _parse_idx(buf, source)


# ---------------------------------------------------------------------------
# MNIST-specific checks
# ---------------------------------------------------------------------------


def _load_member(path: Path, base: str, source: str | None = None) -> tuple[np.ndarray, str]:
    """Read one MNIST file, check its structure, return (array, sha256 hex).

    The SHA-256 is *not* compared here, so that structural problems (wrong
    magic, bad shape, label counts) get their own, more specific message.
    """
    source = source or str(path)
    buf = _read_decompressed(path, source)
    is_images = "images" in base
    expected_magic = _IMAGE_MAGIC if is_images else _LABEL_MAGIC
    kind = "image file: unsigned bytes, 3 dimensions" if is_images else (
        "label file: unsigned bytes, 1 dimension"
    )
    if len(buf) < 4:
        raise DataFileError(
            f"{source}: truncated: expected at least 4 bytes (the IDX magic number "
            f"0x{expected_magic:08X}), found {len(buf)} bytes"
        )
    magic = int.from_bytes(buf[:4], "big")
    if magic != expected_magic:
        raise DataFileError(
            f"{source}: wrong magic number: expected 0x{expected_magic:08X} ({kind}), "
            f"found 0x{magic:08X}"
        )
    array = _parse_idx(buf, source)
    if is_images:
        if array.shape[1:] != _IMAGE_SIZE:
            raise DataFileError(
                f"{source}: wrong image shape: expected (N, 28, 28), found {array.shape}"
            )
    elif array.size and int(array.max()) > 9:
        bad = int(np.argmax(array > 9))
        raise DataFileError(
            f"{source}: bad label: expected values 0..9, found {int(array[bad])} "
            f"at index {bad}"
        )
    return array, hashlib.sha256(buf).hexdigest()


def _check_sha(source: str, base: str, digest: str) -> None:
    expected = MNIST_SHA256[base]
    if digest != expected:
        raise DataFileError(
            f"{source}: SHA-256 of the decompressed bytes does not match: "
            f"expected {expected}, found {digest} (the file is corrupted or not "
            f"the original MNIST {base})"
        )


def _check_file(path: Path, base: str, source: str | None = None) -> np.ndarray:
    """Fully check one MNIST file (structure and SHA-256); return its array."""
    array, digest = _load_member(path, base, source)
    _check_sha(source or str(path), base, digest)
    return array


def _check_counts(images: np.ndarray, labels: np.ndarray, img_path: Path, lbl_path: Path) -> None:
    if images.shape[0] != labels.shape[0]:
        raise DataFileError(
            f"{lbl_path}: label count does not match the images: expected "
            f"{images.shape[0]} labels (one per image in {img_path.name}), "
            f"found {labels.shape[0]}"
        )


def _find_file(directory: Path, base: str) -> Path | None:
    """Return ``base.gz`` (preferred) or ``base`` in ``directory``, or None."""
    for name in (base + ".gz", base):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


# ---------------------------------------------------------------------------
# Locating and loading
# ---------------------------------------------------------------------------


def _in_clone() -> bool:
    """True when cnnlib runs from the course's clone rather than from an installed copy."""
    return (_REPO_ROOT / "pyproject.toml").is_file() and _REPO_DATA_DIR.is_dir()


def _user_cache_dir() -> Path:
    """The per-user folder for MNIST: ``~/.cache/cnnlib/mnist`` on Linux (``$XDG_CACHE_HOME`` is
    honoured), ``~/Library/Caches/cnnlib/mnist`` on macOS, ``%LOCALAPPDATA%\\cnnlib\\Cache\\mnist`` on
    Windows."""
    from platformdirs import user_cache_dir  # imported here: only an installed cnnlib needs it

    return Path(user_cache_dir("cnnlib", appauthor=False)).resolve() / "mnist"


def default_data_dir() -> Path:
    """Return the directory ``load_mnist()`` uses when no ``data_dir`` is given.

    Returns
    -------
    pathlib.Path
        The directory named by the environment variable ``CNNLIB_DATA_DIR``
        if it is set and not empty; otherwise, when cnnlib runs from the
        course's clone, the clone's ``data/mnist``; otherwise (cnnlib
        installed with pip) the per-user cache folder that
        ``python -m cnnlib.data fetch`` fills, ``~/.cache/cnnlib/mnist`` on
        Linux.  The path is absolute.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
    return _REPO_DATA_DIR if _in_clone() else _user_cache_dir()


def _resolve_dir(data_dir: PathLike | None, where: str) -> tuple[Path, str]:
    """Return (absolute directory, description of where it came from)."""
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"{where}: data_dir must be a folder name (str or pathlib.Path) or None; got {type(data_dir).__name__}")
    if data_dir is not None:
        return Path(data_dir).expanduser().resolve(), "the data_dir argument"
    if os.environ.get(ENV_VAR):
        return default_data_dir(), f"the {ENV_VAR} environment variable"
    if _in_clone():
        return default_data_dir(), "the default: the course clone's data/mnist"
    return default_data_dir(), "the default: your per-user copy, as cnnlib is installed outside the course's clone"


def _fix_hint(directory: Path) -> str:
    if _in_clone() and directory == _REPO_DATA_DIR:
        how = "restore the course's copy with `git checkout -- data/mnist` in the clone"
    else:
        how = (f"copy them again from the course's clone with `{_FETCH} --from CLONE/data/mnist "
               f"--dir {directory}`")
    return (
        f"To fix it, {how}, or run `python -m cnnlib.data download --dir {directory}` "
        f"to fetch them from a public mirror."
    )


def _missing_message(directory: Path, origin: str, missing: list[str]) -> str:
    names = ", ".join(f"{base}.gz" for base in missing)
    if _in_clone() and directory == _REPO_DATA_DIR:
        restore = "  - restore the course's copy: `git checkout -- data/mnist` in the clone\n"
    else:
        restore = (
            f"  - copy them, once, from the course's clone (its data/mnist folder), verified: "
            f"`{_FETCH} --from CLONE/data/mnist"
            + ("" if _is_default_dir(directory) else f" --dir {directory}") + "`\n"
        )
    return (
        f"MNIST file(s) not found: {names} (or the uncompressed "
        f"{'versions' if len(missing) > 1 else 'version'} without .gz) in "
        f"{directory} (directory chosen by {origin}).\n"
        f"To fix it, do one of:\n"
        f"{restore}"
        f"  - download them, once, from the public mirrors, verified: `{_FETCH} --download"
        + ("" if _is_default_dir(directory) else f" --dir {directory}") + "` "
        f"(or load_mnist(download=True))\n"
        f"  - pass the directory holding the files: load_mnist(data_dir='...'), "
        f"or set the environment variable {ENV_VAR} to it"
    )


def _is_default_dir(directory: Path) -> bool:
    """True if ``directory`` is where ``load_mnist()`` looks by default (so commands need no --dir)."""
    try:
        return directory == default_data_dir()
    except ImportError:  # platformdirs missing: the hint just names the folder
        return False


def _signature(paths: list[Path]) -> tuple:
    out = []
    for path in paths:
        st = path.stat()
        out.append((path.name, st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(out)


def clear_mnist_cache() -> None:
    """Forget the MNIST arrays kept in memory by :func:`load_mnist`.

    Returns
    -------
    None
    """
    _CACHE.clear()


def load_mnist(
    data_dir: PathLike | None = None, *, download: bool = False
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``.

    The four files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` are read from
    the directory, each either gzip-compressed with a ``.gz`` suffix
    (preferred) or uncompressed.  Every file is checked (IDX magic number,
    shape, labels 0..9, matching counts, SHA-256 of the decompressed bytes).
    Results are cached in memory, so a second call is fast; each call still
    returns new arrays that the caller may modify.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Directory holding the files.  If omitted, the environment variable
        ``CNNLIB_DATA_DIR`` is used if set, else the course clone's
        ``data/mnist`` when cnnlib runs from the clone, else the per-user
        folder that ``python -m cnnlib.data fetch`` fills (see
        :func:`default_data_dir`).
    download : bool, default False
        If True and some files are missing, call :func:`download_mnist` on the
        directory first.  Nothing is ever downloaded when this is False, and
        nothing is downloaded when all files are present.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples of numpy.ndarray
        Images are float32 in [0, 1] with shape ``(N, 1, 28, 28)``; labels
        are int64 with shape ``(N,)``.  N is 60,000 for training and 10,000
        for test.

    Raises
    ------
    FileNotFoundError
        If a file is missing (and ``download`` is False).  The message lists
        the missing files, the directory searched and the commands that fill
        it.
    DataFileError
        If a file is damaged: not gzip/IDX, truncated, wrong magic number or
        shape, a label outside 0..9, image and label counts that disagree, or
        a SHA-256 that differs from :data:`MNIST_SHA256`.
        With ``download=True``, also raised if no mirror delivered a good
        copy of a missing file (see :func:`download_mnist`).
    """
    directory, origin = _resolve_dir(data_dir, "load_mnist")
    download = V.boolean(download, "download", "load_mnist")
    bases = list(MNIST_SHA256)
    found = {base: _find_file(directory, base) for base in bases}
    missing = [base for base, path in found.items() if path is None]
    if missing:
        if not download:
            raise FileNotFoundError(_missing_message(directory, origin, missing))
        download_mnist(directory)
        found = {base: _find_file(directory, base) for base in bases}
        missing = [base for base, path in found.items() if path is None]
        if missing:  # pragma: no cover - download_mnist raises before this
            raise FileNotFoundError(_missing_message(directory, origin, missing))

    paths = [found[base] for base in bases]
    signature = _signature(paths)  # type: ignore[arg-type]
    cached = _CACHE.get(directory)
    if cached is not None and cached[0] == signature:
        arrays = cached[1]
    else:
        _CACHE.pop(directory, None)
        arrays = _read_all(directory, bases, paths)  # type: ignore[arg-type]
        _CACHE[directory] = (signature, arrays)

    x_train_u8, y_train_u8, x_test_u8, y_test_u8 = arrays
    return (
        (_images_to_float(x_train_u8), y_train_u8.astype(np.int64)),
        (_images_to_float(x_test_u8), y_test_u8.astype(np.int64)),
    )


def _read_all(
    directory: Path, bases: list[str], paths: list[Path]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read and check the four files; return read-only uint8 arrays."""
    out: list[np.ndarray] = []
    try:
        for i in (0, 2):  # (train images, train labels), (test images, test labels)
            images, img_digest = _load_member(paths[i], bases[i])
            labels, lbl_digest = _load_member(paths[i + 1], bases[i + 1])
            _check_counts(images, labels, paths[i], paths[i + 1])
            _check_sha(str(paths[i]), bases[i], img_digest)
            _check_sha(str(paths[i + 1]), bases[i + 1], lbl_digest)
            out += [images, labels]
    except DataFileError as exc:
        raise DataFileError(f"{exc}\n{_fix_hint(directory)}") from None
    for array in out:
        array.setflags(write=False)
    return tuple(out)  # type: ignore[return-value]


def _images_to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> new float32 (N, 1, 28, 28) array in [0, 1]."""
    x = images.astype(np.float32).reshape(images.shape[0], 1, *images.shape[1:])
    x /= np.float32(255.0)
    return x


# ---------------------------------------------------------------------------
# Downloading
# ---------------------------------------------------------------------------


def download_mnist(
    data_dir: PathLike | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    force: bool = False,
) -> Path:
    """Download the four MNIST files from public mirrors into a directory.

    For each file the mirrors are tried in order.  The file is written to a
    temporary file in the target directory, its decompressed bytes are
    checked against :data:`MNIST_SHA256`, and only then is it renamed into
    place (so a failed or interrupted download never leaves a bad file).

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Target directory, created if needed.  Defaults to
        :func:`default_data_dir`.
    mirrors : sequence of str, optional
        Base URLs to try, in order; ``<mirror>/<name>.gz`` is fetched.  Any
        URL scheme ``urllib`` understands works, including ``file://``.
        Defaults to :data:`DEFAULT_MIRRORS`.
    force : bool, default False
        Download even files that are already present and valid.

    Returns
    -------
    pathlib.Path
        The directory now holding the four verified files.

    Raises
    ------
    DataFileError
        If every mirror failed for some file (network error, missing file or
        failed verification); the message lists each URL tried and why it
        failed.  Files downloaded successfully before that are kept.
    ValueError
        If ``mirrors`` is empty.
    TypeError
        If ``mirrors`` is not a sequence of URLs (a single URL must be in a list),
        ``force`` not a bool, or ``data_dir`` not a folder name.
    """
    where = "download_mnist"
    directory, _ = _resolve_dir(data_dir, where)
    force = V.boolean(force, "force", where)
    if isinstance(mirrors, (str, bytes)) or not (mirrors is None or hasattr(mirrors, "__iter__")):
        raise TypeError(f"{where}: mirrors must be a list of base URLs, e.g. [{DEFAULT_MIRRORS[0]!r}]; got {mirrors!r}")
    mirror_list = list(DEFAULT_MIRRORS if mirrors is None else mirrors)
    if not all(isinstance(m, str) for m in mirror_list):
        raise TypeError(f"{where}: mirrors must be a list of base URLs (str); got {mirror_list!r}")
    if not mirror_list:
        raise ValueError(f"{where}: mirrors must contain at least one base URL")
    directory.mkdir(parents=True, exist_ok=True)

    for base in MNIST_SHA256:
        if not force and _has_valid_file(directory, base):
            continue  # a damaged or missing file is downloaded again
        target = directory / (base + ".gz")
        failures: list[str] = []
        for mirror in mirror_list:
            url = mirror.rstrip("/") + "/" + base + ".gz"
            error = _download_one(url, base, directory, target)
            if error is None:
                break
            failures.append(f"  - {url}: {error}")
        else:
            raise DataFileError(
                f"could not download {base}.gz into {directory}; tried:\n"
                + "\n".join(failures)
                + f"\nAlternatively copy the files from the course's clone: "
                f"`{_FETCH} --from CLONE/data/mnist --dir {directory}`"
            )
    return directory


def _has_valid_file(directory: Path, base: str) -> bool:
    """Whether ``directory`` already holds ``base`` (.gz or not) and it passes its checksum and shape checks."""
    existing = _find_file(directory, base)
    if existing is None:
        return False
    try:
        _check_file(existing, base)
    except DataFileError:
        return False
    return True


def _download_one(url: str, base: str, directory: Path, target: Path) -> str | None:
    """Fetch ``url`` into ``target`` atomically; return None or an error text."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{base}.", suffix=".part", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "cnnlib"})
            with urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT) as response:
                shutil.copyfileobj(response, out)
        _check_file(tmp, base, source=url)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        return None
    except (OSError, ValueError, EOFError, http.client.HTTPException) as exc:
        return str(exc)
    finally:
        tmp.unlink(missing_ok=True)


def _copy_mnist(source: Path, directory: Path, force: bool = False) -> None:
    """Copy the four files from ``source`` into ``directory``, each checked before it is put in place."""
    missing = [base for base in MNIST_SHA256 if _find_file(source, base) is None]
    if missing:
        raise FileNotFoundError(_missing_message(source, "--from", missing))
    directory.mkdir(parents=True, exist_ok=True)
    for base in MNIST_SHA256:
        path = _find_file(source, base)
        if not force and _has_valid_file(directory, base):
            continue
        _check_file(path, base)  # a damaged source is never copied
        fd, tmp_name = tempfile.mkstemp(prefix=f".{base}.", suffix=".part", dir=directory)
        os.close(fd)
        try:
            shutil.copyfile(path, tmp_name)
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, directory / path.name)
        finally:
            Path(tmp_name).unlink(missing_ok=True)


def _fetch_source(given: str | None) -> Path | None:
    """The folder ``fetch`` copies from: --from, else ./data/mnist (run in the clone), else this clone's."""
    if given:
        return Path(given).expanduser().resolve()
    here = Path.cwd() / "data" / "mnist"
    if all(_find_file(here, base) for base in MNIST_SHA256):
        return here.resolve()
    return _REPO_DATA_DIR if _in_clone() else None


def _fetch(args: argparse.Namespace) -> int:
    """``python -m cnnlib.data fetch``: fill the per-user folder (or --dir), verified."""
    if args.dir:
        directory = Path(args.dir).expanduser().resolve()
    elif os.environ.get(ENV_VAR):
        directory = default_data_dir()
    else:
        directory = _user_cache_dir()
    if args.download:
        return _download_and_verify(directory, args.mirror, args.force)
    source = _fetch_source(args.source)
    if source is None:
        print(
            "No copy of MNIST found to fetch from: this folder has no data/mnist and cnnlib is installed "
            "outside the course's clone.\n"
            f"  - from a clone of the course: `{_FETCH} --from CLONE/data/mnist` (or run `{_FETCH}` in the "
            "clone's folder)\n"
            f"  - from the public mirrors (needs the internet): `{_FETCH} --download`",
            file=sys.stderr,
        )
        return 1
    if source == directory:
        print(f"{directory} is the folder to fill; nothing to copy.")
        return _verify(directory)
    print(f"Copying MNIST from {source} into {directory} ...")
    try:
        _copy_mnist(source, directory, force=args.force)
    except (OSError, ValueError) as exc:
        print(f"Copy failed: {exc}", file=sys.stderr)
        return 1
    status = _verify(directory)
    if status == 0 and _in_clone() and not args.dir and not os.environ.get(ENV_VAR):
        print(f"(This cnnlib runs from the course's clone and reads {_REPO_DATA_DIR}; the copy serves "
              "a cnnlib installed elsewhere.)")
    return status


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _verify(directory: Path) -> int:
    """Print the state of each file in ``directory``; return 0 if all OK."""
    print(f"Checking MNIST files in {directory}")
    problems = 0
    arrays: dict[str, np.ndarray] = {}
    for base in MNIST_SHA256:
        path = _find_file(directory, base)
        if path is None:
            print(f"  {base + '.gz':28s} MISSING (neither {base}.gz nor {base} found)")
            problems += 1
            continue
        try:
            arrays[base] = _check_file(path, base)
        except DataFileError as exc:
            print(f"  {path.name:28s} PROBLEM: {exc}")
            problems += 1
        else:
            print(f"  {path.name:28s} OK {arrays[base].shape}")
    for split in ("train", "t10k"):
        img, lbl = arrays.get(f"{split}-images-idx3-ubyte"), arrays.get(f"{split}-labels-idx1-ubyte")
        if img is not None and lbl is not None and img.shape[0] != lbl.shape[0]:
            print(f"  {split}: PROBLEM: {img.shape[0]} images but {lbl.shape[0]} labels")
            problems += 1
    if problems:
        print(f"{problems} problem(s). {_fix_hint(directory)}")
        return 1
    print("All files OK.")
    return 0


def _download_and_verify(directory: Path, mirrors: "Sequence[str] | None", force: bool) -> int:
    """The command line's download: fetch the files from the mirrors into ``directory``, then verify them."""
    print(f"Downloading MNIST into {directory} ...")
    try:
        download_mnist(directory, mirrors=mirrors, force=force)
    except (OSError, ValueError) as exc:
        print(f"Download failed: {exc}", file=sys.stderr)
        return 1
    return _verify(directory)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``python -m cnnlib.data`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name, e.g. ``["verify", "--dir", "d"]``.
        Defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 if everything is fine, 1 if a file is missing or
        damaged or the copy or download failed.
    """
    parser = argparse.ArgumentParser(
        prog="python -m cnnlib.data", description="Fetch, check or download the MNIST files."
    )
    default = f"${ENV_VAR}, else the clone's data/mnist or, installed, the per-user folder"
    sub = parser.add_subparsers(dest="command", required=True)
    fetch_p = sub.add_parser(
        "fetch",
        help="copy the files from a course clone (or, with --download, the public mirrors) into the "
             "per-user folder load_mnist() reads when cnnlib is installed, and verify them",
    )
    fetch_p.add_argument(
        "--from", dest="source", metavar="DIR",
        help="folder holding the four files, e.g. CLONE/data/mnist (default: ./data/mnist when run in "
             "the clone's folder)",
    )
    fetch_p.add_argument("--download", action="store_true",
                         help="download from the public mirrors instead (needs the internet)")
    fetch_p.add_argument("--dir", help=f"folder to fill (default: ${ENV_VAR}, else the per-user folder)")
    fetch_p.add_argument("--force", action="store_true", help="copy or download even files already valid")
    verify_p = sub.add_parser("verify", help="check each MNIST file and print OK or the problem")
    verify_p.add_argument("--dir", help=f"directory to check (default: {default})")
    download_p = sub.add_parser("download", help="download missing or damaged files")
    download_p.add_argument("--dir", help=f"target directory (default: {default})")
    download_p.add_argument("--force", action="store_true", help="download even valid files")
    for p in (download_p, fetch_p):
        p.add_argument(
            "--mirror", action="append", metavar="URL",
            help="base URL to try (repeatable; default: the public mirrors)",
        )
    args = parser.parse_args(argv)
    if args.command == "fetch":
        return _fetch(args)
    directory, _ = _resolve_dir(args.dir, "python -m cnnlib.data")

    if args.command == "download":
        return _download_and_verify(directory, args.mirror, args.force)
    return _verify(directory)
