"""cnnlib installed outside the clone: a wheel in a clean environment loads MNIST after the documented command.

The wheel is built from a copy of the sources (no warnings from setuptools), installed into a new virtual
environment that has no cnnlib of its own (its dependencies come from this environment's site-packages, read
through a .pth file, so no network is needed), and run from another folder with its own per-user cache folder:
``load_mnist()`` first says how to fill that folder, then ``python -m cnnlib.data fetch --from
CLONE/data/mnist`` (the README's one-time command) copies and verifies the files, then ``load_mnist()`` works.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import cnnlib

ROOT = Path(__file__).resolve().parent.parent
FETCH = "python -m cnnlib.data fetch"


def _run(cmd: list[str], cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check and res.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited with {res.returncode}:\n{res.stdout}\n{res.stderr}")
    return res


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of cnnlib, built without warnings from a copy of the sources (never from a stale build/)."""
    try:
        setuptools_major = int(metadata.version("setuptools").split(".")[0])
    except metadata.PackageNotFoundError:
        setuptools_major = 0
    if setuptools_major < 77:
        pytest.skip("building cnnlib needs setuptools 77 or newer in this environment (requirements/lock.txt has it)")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT / "cnnlib", src / "cnnlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    res = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--no-build-isolation",
                "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    output = res.stdout + res.stderr
    assert "warning" not in output.lower(), f"building the wheel printed warnings:\n{output}"
    (path,) = (tmp / "dist").glob("cnnlib-*.whl")
    return path


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    sources = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "cnnlib").rglob("*.py"))
    assert not [s for s in sources if s not in names], "modules missing from the wheel"
    assert not [n for n in names if n.startswith(("data/", "tests/", "tools/", "notebooks/"))]
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert f"\nVersion: {cnnlib.__version__}\n" in meta
    assert "\nLicense-Expression: MIT\n" in meta
    assert "Requires-Dist: platformdirs" in meta


@pytest.mark.slow
def test_installed_wheel_loads_mnist_after_the_one_time_command(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp_path).stdout.strip())
    # The dependencies, from this environment (a path line in a .pth file: the .pth files there, such as an
    # editable cnnlib's, are not read, so the only cnnlib is the wheel's).
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "course_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
          str(wheel)], cwd=tmp_path)

    elsewhere = tmp_path / "somewhere else"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CNNLIB_DATA_DIR", "VIRTUAL_ENV")}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    cache = (tmp_path / "cache" / "cnnlib" / "mnist").resolve() if sys.platform.startswith("linux") else None

    where = _run([str(python), "-I", "-c", "import cnnlib; print(cnnlib.__file__)"], cwd=elsewhere, env=env).stdout
    assert Path(where.strip()).is_relative_to(venv), where

    # Before the one-time command: a message for an installed package, naming the folder and the command.
    load = ("import cnnlib; (x, y), (xt, yt) = cnnlib.load_mnist(); "
            "print(x.shape, x.dtype, y.shape, xt.shape, yt.shape)")
    res = _run([str(python), "-I", "-c", load], cwd=elsewhere, env=env, check=False)
    assert res.returncode != 0 and "FileNotFoundError" in res.stderr
    message = res.stderr.split("FileNotFoundError:", 1)[1]
    assert f"`{FETCH} --from CLONE/data/mnist`" in message and f"`{FETCH} --download`" in message
    assert "per-user" in message and (cache is None or str(cache) in message)
    for wrong in ("repository", "site-packages/data", "git checkout", "shared"):
        assert wrong not in message, message

    # The README's one-time command, then load_mnist() from any folder.
    res = _run([str(python), "-I", "-m", "cnnlib.data", "fetch", "--from", str(ROOT / "data" / "mnist")],
               cwd=elsewhere, env=env)
    assert "All files OK." in res.stdout
    if cache is not None:
        assert sorted(p.name for p in cache.iterdir()) == sorted(f"{b}.gz" for b in cnnlib.data.MNIST_SHA256)
    res = _run([str(python), "-I", "-c", load], cwd=elsewhere, env=env)
    assert res.stdout.split() == ["(60000,", "1,", "28,", "28)", "float32", "(60000,)", "(10000,", "1,", "28,",
                                  "28)", "(10000,)"]
