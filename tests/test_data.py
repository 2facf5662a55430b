"""Tests for cnnlib.data: IDX parsing, MNIST loading, integrity checks, download, CLI.

No test uses the network: downloads go to ``file://`` mirrors in tmp directories.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from cnnlib import data
from cnnlib.data import DataFileError, download_mnist, load_mnist, main, read_idx

REPO_DATA = Path(data.__file__).resolve().parents[2] / "data" / "mnist"
BASES = list(data.MNIST_SHA256)
GZ_NAMES = sorted(base + ".gz" for base in BASES)

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ---------------------------------------------------------------------------
# helpers and fixtures
# ---------------------------------------------------------------------------


def make_idx(array: np.ndarray, type_code: int) -> bytes:
    """Build IDX bytes by hand: magic, big-endian uint32 dims, big-endian data."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_gz(path: Path, payload: bytes) -> None:
    path.write_bytes(gzip.compress(payload, compresslevel=1))


def file_listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))  # includes dot-files (temp files)


@pytest.fixture(scope="module", autouse=True)
def _no_env_var():
    """Make the tests independent of a CNNLIB_DATA_DIR set in the caller's shell."""
    mp = pytest.MonkeyPatch()
    mp.delenv(data.ENV_VAR, raising=False)
    yield
    mp.undo()


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(REPO_DATA)


@pytest.fixture(scope="module")
def good_dir(tmp_path_factory) -> Path:
    """A module-wide copy of the four real .gz files. Tests must not modify it."""
    directory = tmp_path_factory.mktemp("good") / "mnist"
    directory.mkdir()
    for name in GZ_NAMES:
        shutil.copyfile(REPO_DATA / name, directory / name)
    return directory


@pytest.fixture(scope="module")
def label_bytes(good_dir) -> dict[str, bytes]:
    """Decompressed bytes of the two (small) label files."""
    return {
        base: gzip.decompress((good_dir / (base + ".gz")).read_bytes())
        for base in BASES
        if "labels" in base
    }


@pytest.fixture
def copy_dir(tmp_path, good_dir) -> Path:
    """A fresh, modifiable copy of the four .gz files for one test."""
    directory = tmp_path / "mnist"
    shutil.copytree(good_dir, directory)
    return directory


def flip_label(payload: bytes, index: int = 1234) -> bytes:
    """Change one label in the payload to another valid digit (so only SHA-256 catches it)."""
    buf = bytearray(payload)
    buf[8 + index] = (buf[8 + index] + 1) % 10
    return bytes(buf)


@pytest.fixture(scope="module")
def bad_mirror(tmp_path_factory, good_dir, label_bytes) -> Path:
    """A mirror whose every file is damaged: truncated gzip for images, one flipped label."""
    directory = tmp_path_factory.mktemp("bad_mirror")
    for base in BASES:
        if "images" in base:
            gz = (good_dir / (base + ".gz")).read_bytes()
            (directory / (base + ".gz")).write_bytes(gz[: len(gz) // 2])
        else:
            write_gz(directory / (base + ".gz"), flip_label(label_bytes[base]))
    return directory


# ---------------------------------------------------------------------------
# full load of the real data
# ---------------------------------------------------------------------------


def test_shapes_and_dtypes(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 1, 28, 28)
    assert x_test.shape == (10000, 1, 28, 28)
    assert y_train.shape == (60000,)
    assert y_test.shape == (10000,)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64


def test_value_range(mnist):
    (x_train, _), (x_test, _) = mnist
    for x in (x_train, x_test):
        assert x.min() == 0.0
        assert x.max() == 1.0
    # values are exactly k/255
    assert np.array_equal(np.unique(x_test * 255).round(), np.unique(x_test * 255))


def test_label_counts(mnist):
    (_, y_train), (_, y_test) = mnist
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == TEST_COUNTS


def test_mean_training_pixel(mnist):
    (x_train, _), _ = mnist
    assert x_train.mean(dtype=np.float64) * 255 == pytest.approx(33.318, abs=1e-3)


def test_second_call_is_cached_and_returns_fresh_arrays(mnist, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("files were read again instead of using the cache")

    monkeypatch.setattr(data, "_read_all", no_reading)
    (x_train, y_train), (x_test, y_test) = load_mnist(REPO_DATA)
    assert x_train is not mnist[0][0]
    x_train[:] = 7.0
    y_test[:] = 3
    (x_train2, _), (_, y_test2) = load_mnist(REPO_DATA)
    assert x_train2.max() == 1.0
    assert np.bincount(y_test2, minlength=10).tolist() == TEST_COUNTS


def test_uncompressed_files_and_gz_preferred(tmp_path, good_dir, mnist, label_bytes):
    directory = tmp_path / "mixed"
    directory.mkdir()
    for base in BASES:
        if base.startswith("train"):  # uncompressed copies only
            payload = gzip.decompress((good_dir / (base + ".gz")).read_bytes())
            (directory / base).write_bytes(payload)
        else:  # .gz, plus a broken uncompressed file that must be ignored
            shutil.copyfile(good_dir / (base + ".gz"), directory / (base + ".gz"))
            (directory / base).write_bytes(b"garbage")
    (x_train, y_train), (x_test, y_test) = load_mnist(directory)
    assert np.array_equal(x_train, mnist[0][0])
    assert np.array_equal(y_train, mnist[0][1])
    assert np.array_equal(y_test, mnist[1][1])


# ---------------------------------------------------------------------------
# read_idx on synthetic data
# ---------------------------------------------------------------------------

SYNTHETIC = [
    (0x08, np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10),
    (0x09, np.array([-128, -1, 0, 1, 127], dtype=np.int8)),
    (0x0B, np.array([[-32768, -2], [258, 32767]], dtype=np.int16)),
    (0x0C, np.array([[1, -2, 0x01020304], [2**31 - 1, -(2**31), 7]], dtype=np.int32)),
    (0x0D, np.array([1.5, -0.25, 1e30, np.inf], dtype=np.float32)),
    (0x0E, np.array([[np.pi, -1e-300]], dtype=np.float64)),
    (0x08, np.zeros((0, 28, 28), dtype=np.uint8)),
]


@pytest.mark.parametrize("type_code,expected", SYNTHETIC)
def test_read_idx_roundtrip_bytes(type_code, expected):
    result = read_idx(make_idx(expected, type_code))
    assert result.dtype == expected.dtype
    assert result.dtype.isnative
    assert result.shape == expected.shape
    assert np.array_equal(result, expected)
    assert result.flags.writeable


def test_read_idx_big_endian_by_hand():
    raw = b"\x00\x00\x0c\x01" + b"\x00\x00\x00\x02" + b"\x01\x02\x03\x04" + b"\xff\xff\xff\xfe"
    assert read_idx(raw).tolist() == [0x01020304, -2]
    raw = b"\x00\x00\x0d\x01" + b"\x00\x00\x00\x01" + b"\x3f\x80\x00\x00"
    result = read_idx(raw)
    assert result.dtype == np.float32 and result.tolist() == [1.0]
    raw = b"\x00\x00\x08\x02" + b"\x00\x00\x00\x02" + b"\x00\x00\x00\x03" + bytes(range(6))
    assert read_idx(raw).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_read_idx_raw_and_gz_paths(tmp_path):
    expected = np.arange(-6, 6, dtype=np.int32).reshape(3, 4) * 1000003
    payload = make_idx(expected, 0x0C)
    raw_path = tmp_path / "numbers-idx2-int"
    raw_path.write_bytes(payload)
    gz_path = tmp_path / "numbers-idx2-int.gz"
    write_gz(gz_path, payload)
    for source in (raw_path, str(raw_path), gz_path, str(gz_path)):
        assert np.array_equal(read_idx(source), expected)
    assert np.array_equal(read_idx(gzip.compress(payload)), expected)  # gzip bytes
    assert np.array_equal(read_idx(bytearray(payload)), expected)


def test_read_idx_real_label_file():
    labels = read_idx(REPO_DATA / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == TEST_COUNTS


GOOD = make_idx(np.arange(12, dtype=np.int16).reshape(3, 4), 0x0B)  # 12-byte header + 24


@pytest.mark.parametrize(
    "payload,expected_text",
    [
        (b"\x01" + GOOD[1:], "two zero bytes"),
        (GOOD[:2] + b"\x07" + GOOD[3:], "0x07"),
        (GOOD[:3], "at least 4 bytes"),
        (GOOD[:10], "expected 12 bytes"),
        (GOOD[:-1], "expected 36 bytes"),
        (GOOD + b"\x00", "expected 36 bytes"),
    ],
    ids=["nonzero-magic", "unknown-type", "short-magic", "short-header", "short-data", "long-data"],
)
def test_read_idx_errors_name_file_and_expectation(tmp_path, payload, expected_text):
    path = tmp_path / "broken-idx2-short"
    path.write_bytes(payload)
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    message = str(info.value)
    assert "broken-idx2-short" in message
    assert expected_text in message
    assert "found" in message
    with pytest.raises(ValueError):  # DataFileError is a ValueError
        read_idx(payload)


def test_read_idx_truncated_and_bad_gzip(tmp_path):
    gz = gzip.compress(GOOD)
    truncated = tmp_path / "cut.gz"
    truncated.write_bytes(gz[:-12])
    with pytest.raises(DataFileError, match=r"cut\.gz.*gzip"):
        read_idx(truncated)
    not_gzip = tmp_path / "plain.gz"
    not_gzip.write_bytes(GOOD)
    with pytest.raises(DataFileError, match=r"plain\.gz.*gzip"):
        read_idx(not_gzip)


def test_read_idx_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.gz")


# ---------------------------------------------------------------------------
# load_mnist failure modes
# ---------------------------------------------------------------------------


def test_corrupted_label_file_sha256_and_cache_invalidation(copy_dir, label_bytes):
    load_mnist(copy_dir)  # good copy loads, and is now cached
    base = "train-labels-idx1-ubyte"
    write_gz(copy_dir / (base + ".gz"), flip_label(label_bytes[base]))
    with pytest.raises(DataFileError) as info:
        load_mnist(copy_dir)  # the changed file must be noticed despite the cache
    message = str(info.value)
    assert base + ".gz" in message
    assert "SHA-256" in message
    assert data.MNIST_SHA256[base] in message
    actual = hashlib.sha256(flip_label(label_bytes[base])).hexdigest()
    assert actual in message
    assert "python -m cnnlib.data fetch --from CLONE/data/mnist" in message  # copy again from a clone
    assert "python -m cnnlib.data download" in message
    assert "shared" not in message


def test_truncated_label_file(copy_dir, label_bytes):
    base = "train-labels-idx1-ubyte"
    write_gz(copy_dir / (base + ".gz"), label_bytes[base][:-100])
    with pytest.raises(DataFileError) as info:
        load_mnist(copy_dir)
    assert base + ".gz" in str(info.value)
    assert "expected 60008 bytes" in str(info.value)


def test_truncated_gzip_file(copy_dir):
    path = copy_dir / "t10k-images-idx3-ubyte.gz"
    gz = path.read_bytes()
    path.write_bytes(gz[: len(gz) // 3])
    with pytest.raises(DataFileError, match=r"t10k-images-idx3-ubyte\.gz.*gzip"):
        load_mnist(copy_dir)


def test_wrong_magic(copy_dir, label_bytes):
    base = "train-labels-idx1-ubyte"
    payload = bytearray(label_bytes[base])
    payload[3] = 3  # 0x00000803 is the images magic
    write_gz(copy_dir / (base + ".gz"), bytes(payload))
    with pytest.raises(DataFileError) as info:
        load_mnist(copy_dir)
    message = str(info.value)
    assert base + ".gz" in message
    assert "0x00000801" in message and "0x00000803" in message


def test_label_out_of_range(copy_dir, label_bytes):
    base = "train-labels-idx1-ubyte"
    payload = bytearray(label_bytes[base])
    payload[8 + 5] = 10
    write_gz(copy_dir / (base + ".gz"), bytes(payload))
    with pytest.raises(DataFileError, match=r"train-labels-idx1-ubyte\.gz.*0\.\.9"):
        load_mnist(copy_dir)


def test_label_count_mismatch(copy_dir, label_bytes):
    base = "t10k-labels-idx1-ubyte"
    labels = np.frombuffer(label_bytes[base], dtype=np.uint8, offset=8)[:9999]
    write_gz(copy_dir / (base + ".gz"), make_idx(labels, 0x08))
    with pytest.raises(DataFileError) as info:
        load_mnist(copy_dir)
    message = str(info.value)
    assert base + ".gz" in message
    assert "expected 10000 labels" in message and "found 9999" in message


def test_missing_file(copy_dir, monkeypatch):
    monkeypatch.setattr(data, "download_mnist", _must_not_download)
    (copy_dir / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(copy_dir)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message
    assert str(copy_dir) in message
    assert "CNNLIB_DATA_DIR" in message
    assert "data_dir=" in message
    assert "download=True" in message
    assert "python -m cnnlib.data fetch --from CLONE/data/mnist" in message
    assert "python -m cnnlib.data fetch --download" in message
    assert "train-images" not in message  # only the missing file is named
    assert "shared" not in message and "git checkout" not in message  # not the clone's own folder


def _must_not_download(*args, **kwargs):
    raise AssertionError("download_mnist must not be called")


# ---------------------------------------------------------------------------
# where load_mnist looks
# ---------------------------------------------------------------------------


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNLIB_DATA_DIR", raising=False)
    assert data.default_data_dir() == REPO_DATA
    monkeypatch.setenv("CNNLIB_DATA_DIR", "")
    assert data.default_data_dir() == REPO_DATA
    monkeypatch.setenv("CNNLIB_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path.resolve()


@pytest.fixture
def installed(monkeypatch, tmp_path):
    """cnnlib as installed by pip outside the clone: no data/mnist beside the package, and a per-user
    cache folder of its own (XDG_CACHE_HOME, which platformdirs honours on Linux)."""
    site = tmp_path / "site-packages"
    (site / "cnnlib").mkdir(parents=True)
    monkeypatch.setattr(data, "_REPO_ROOT", site)
    monkeypatch.setattr(data, "_REPO_DATA_DIR", site / "data" / "mnist")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CNNLIB_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cache" / "cnnlib" / "mnist"


def test_installed_copy_reads_the_per_user_folder_and_says_how_to_fill_it(installed, monkeypatch):
    assert not data._in_clone()
    assert data.default_data_dir() == installed.resolve()
    monkeypatch.setattr(data, "download_mnist", _must_not_download)
    with pytest.raises(FileNotFoundError) as info:
        load_mnist()
    message = str(info.value)
    assert str(installed.resolve()) in message and "per-user" in message
    # the commands fill the default folder, so they need no --dir; nothing about a repository
    assert "`python -m cnnlib.data fetch --from CLONE/data/mnist`" in message
    assert "`python -m cnnlib.data fetch --download`" in message
    for wrong in ("site-packages/data", "repository", "git checkout", "shared"):
        assert wrong not in message


def test_fetch_copies_from_a_clone_verified(installed, good_dir, capsys, mnist):
    assert main(["fetch", "--from", str(good_dir)]) == 0
    assert file_listing(installed) == GZ_NAMES
    out = capsys.readouterr().out
    assert f"Copying MNIST from {good_dir}" in out and out.count(" OK (") == 4
    (_, _), (_, y_test) = load_mnist()  # now found without any argument
    assert np.array_equal(y_test, mnist[1][1])
    # run again: the valid files are left alone
    mtimes = {name: (installed / name).stat().st_mtime_ns for name in GZ_NAMES}
    assert main(["fetch", "--from", str(good_dir)]) == 0
    assert {name: (installed / name).stat().st_mtime_ns for name in GZ_NAMES} == mtimes


def test_fetch_in_the_clones_folder_needs_no_argument(installed, good_dir, capsys):
    shutil.copytree(good_dir, installed.parent.parent.parent / "data" / "mnist")  # cwd/data/mnist
    assert main(["fetch"]) == 0
    assert file_listing(installed) == GZ_NAMES


def test_fetch_never_copies_a_damaged_file(installed, copy_dir, label_bytes, capsys):
    base = "t10k-labels-idx1-ubyte"
    write_gz(copy_dir / (base + ".gz"), flip_label(label_bytes[base]))
    assert main(["fetch", "--from", str(copy_dir)]) == 1
    assert "SHA-256" in capsys.readouterr().err
    assert base + ".gz" not in file_listing(installed)
    assert not [name for name in file_listing(installed) if name.endswith(".part")]


def test_fetch_without_a_source_downloads_only_when_asked(installed, good_dir, capsys):
    assert main(["fetch"]) == 1  # no clone here, no --download: nothing is fetched
    err = capsys.readouterr().err
    assert "--from CLONE/data/mnist" in err and "--download" in err
    assert not installed.exists()
    assert main(["fetch", "--download", "--mirror", good_dir.as_uri()]) == 0
    assert file_listing(installed) == GZ_NAMES


def test_fetch_honours_dir_and_env_var(installed, good_dir, tmp_path, monkeypatch):
    assert main(["fetch", "--from", str(good_dir), "--dir", str(tmp_path / "mine")]) == 0
    assert file_listing(tmp_path / "mine") == GZ_NAMES
    monkeypatch.setenv("CNNLIB_DATA_DIR", str(tmp_path / "env"))
    assert main(["fetch", "--from", str(good_dir)]) == 0
    assert file_listing(tmp_path / "env") == GZ_NAMES
    assert not installed.exists()


def test_env_var_is_honoured_and_argument_beats_it(monkeypatch, tmp_path, mnist):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("CNNLIB_DATA_DIR", str(empty))
    with pytest.raises(FileNotFoundError) as info:
        load_mnist()
    assert str(empty) in str(info.value)
    assert "CNNLIB_DATA_DIR" in str(info.value)
    # an explicit data_dir wins over the environment variable
    (_, _), (_, y_test) = load_mnist(data_dir=REPO_DATA)
    assert np.array_equal(y_test, mnist[1][1])


def test_env_var_pointing_to_good_copy(monkeypatch, good_dir, mnist):
    monkeypatch.setenv("CNNLIB_DATA_DIR", str(good_dir))
    (x_train, _), (_, y_test) = load_mnist()
    assert x_train.shape == (60000, 1, 28, 28)
    assert np.array_equal(y_test, mnist[1][1])


# ---------------------------------------------------------------------------
# download (file:// mirrors only)
# ---------------------------------------------------------------------------


def test_download_from_file_mirror(tmp_path, good_dir, capsys):
    target = tmp_path / "new" / "mnist"
    assert download_mnist(target, mirrors=[good_dir.as_uri()]) == target
    assert file_listing(target) == GZ_NAMES
    assert main(["verify", "--dir", str(target)]) == 0
    # already present and valid: nothing is fetched (this mirror has nothing)
    mtimes = {name: (target / name).stat().st_mtime_ns for name in GZ_NAMES}
    download_mnist(target, mirrors=[(tmp_path / "nowhere").as_uri()])
    assert {name: (target / name).stat().st_mtime_ns for name in GZ_NAMES} == mtimes


def test_download_bad_mirror_raises_and_leaves_nothing(tmp_path, bad_mirror):
    target = tmp_path / "target"
    with pytest.raises(DataFileError) as info:
        download_mnist(target, mirrors=[bad_mirror.as_uri()])
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert bad_mirror.as_uri() in message
    assert file_listing(target) == []  # no file and no temp file


def test_download_sha_failure_keeps_earlier_files_only(tmp_path, good_dir, bad_mirror):
    target = tmp_path / "target"
    target.mkdir()
    shutil.copyfile(good_dir / "train-images-idx3-ubyte.gz", target / "train-images-idx3-ubyte.gz")
    with pytest.raises(DataFileError) as info:
        download_mnist(target, mirrors=[bad_mirror.as_uri(), (tmp_path / "empty").as_uri()])
    message = str(info.value)
    assert "train-labels-idx1-ubyte.gz" in message
    assert "SHA-256" in message
    assert str(tmp_path / "empty") in message  # the second mirror was tried too
    assert file_listing(target) == ["train-images-idx3-ubyte.gz"]


def test_download_falls_through_to_good_mirror(tmp_path, good_dir, bad_mirror):
    target = tmp_path / "target"
    download_mnist(target, mirrors=[bad_mirror.as_uri(), good_dir.as_uri()])
    assert file_listing(target) == GZ_NAMES
    for name in GZ_NAMES:
        data._check_file(target / name, name[:-3])  # every file verifies


def test_download_replaces_damaged_file_and_force(tmp_path, good_dir, label_bytes):
    target = tmp_path / "target"
    shutil.copytree(good_dir, target)
    base = "t10k-labels-idx1-ubyte"
    write_gz(target / (base + ".gz"), flip_label(label_bytes[base]))
    download_mnist(target, mirrors=[good_dir.as_uri()])
    assert (target / (base + ".gz")).read_bytes() == (good_dir / (base + ".gz")).read_bytes()
    with pytest.raises(DataFileError):  # force: even valid files are fetched again
        download_mnist(target, mirrors=[(tmp_path / "empty").as_uri()], force=True)


def test_load_mnist_download_flag(tmp_path, good_dir, monkeypatch, mnist):
    calls = []

    def fake_download(directory, **kwargs):
        calls.append(directory)
        return download_mnist(directory, mirrors=[good_dir.as_uri()])

    monkeypatch.setattr(data, "download_mnist", fake_download)
    target = tmp_path / "dl"
    (_, _), (_, y_test) = load_mnist(target, download=True)
    assert calls == [target]
    assert np.array_equal(y_test, mnist[1][1])
    # files present: download=True does not download again
    load_mnist(target, download=True)
    assert len(calls) == 1


def test_load_mnist_download_not_called_when_present(monkeypatch):
    monkeypatch.setattr(data, "download_mnist", _must_not_download)
    (x_train, _), _ = load_mnist(REPO_DATA, download=True)
    assert x_train.shape[0] == 60000


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------


def test_cli_verify_good(good_dir, capsys):
    assert main(["verify", "--dir", str(good_dir)]) == 0
    out = capsys.readouterr().out
    assert out.count(" OK (") == 4
    for name in GZ_NAMES:
        assert name in out


def test_cli_verify_corrupted_and_missing(copy_dir, label_bytes, capsys):
    base = "t10k-labels-idx1-ubyte"
    write_gz(copy_dir / (base + ".gz"), flip_label(label_bytes[base]))
    (copy_dir / "train-labels-idx1-ubyte.gz").unlink()
    assert main(["verify", "--dir", str(copy_dir)]) == 1
    out = capsys.readouterr().out
    assert "SHA-256" in out and base in out
    assert "MISSING" in out and "train-labels-idx1-ubyte" in out


def test_cli_download(tmp_path, good_dir, capsys):
    target = tmp_path / "cli"
    assert main(["download", "--dir", str(target), "--mirror", good_dir.as_uri()]) == 0
    assert file_listing(target) == GZ_NAMES
    assert main(["download", "--dir", str(tmp_path / "x"), "--mirror", (tmp_path / "none").as_uri()]) == 1
    assert "Download failed" in capsys.readouterr().err
