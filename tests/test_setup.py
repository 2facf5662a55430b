"""The Makefile's student commands and the notebook validation settings, tested without setting anything up.

- ``make work`` copies the course into git-ignored ``work/`` and never overwrites a student's file;
- ``make grade NB=exercises/...`` grades the student's copy in ``work/`` when there is one;
- ``make lab`` trusts the course's notebooks and opens the first notebook in ``work/``;
- nbval keeps every output message of a cell that floods the kernel's output channel (notebooks/conftest.py).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _load_work_tool():
    spec = importlib.util.spec_from_file_location("course_work_tool", ROOT / "tools" / "work.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def course(tmp_path) -> Path:
    """A small course folder: two notebooks, an exercise, their READMEs and a solution."""
    root = tmp_path / "course"
    for rel in ("notebooks/01_a.ipynb", "notebooks/02_b.ipynb", "notebooks/README.md",
                "exercises/01_x.ipynb", "exercises/README.md", "exercises/solutions/01_x.ipynb",
                "notebooks/conftest.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"course version 1 of {rel}\n")
    return root


def test_make_work_copies_the_course_and_keeps_your_files(course, capsys):
    work_tool = _load_work_tool()
    work = course / "work"
    first = work_tool.copy_course(course, work)
    copied = sorted(p.as_posix() for p in first["copied"])
    assert copied == ["exercises/01_x.ipynb", "exercises/README.md", "notebooks/01_a.ipynb", "notebooks/02_b.ipynb",
                      "notebooks/README.md"]  # not the solutions, not the validation settings
    assert (work / "notebooks" / "01_a.ipynb").read_text() == "course version 1 of notebooks/01_a.ipynb\n"

    # Your changes stay; the course's later changes and new files do not overwrite them.
    (work / "notebooks" / "01_a.ipynb").write_text("my answers\n")
    (course / "notebooks" / "01_a.ipynb").write_text("course version 2\n")
    (course / "notebooks" / "02_b.ipynb").write_text("course version 2\n")
    (course / "notebooks" / "03_new.ipynb").write_text("a new notebook\n")
    second = work_tool.copy_course(course, work)
    assert [p.as_posix() for p in second["copied"]] == ["notebooks/03_new.ipynb"]
    assert (work / "notebooks" / "01_a.ipynb").read_text() == "my answers\n"
    assert (work / "notebooks" / "02_b.ipynb").read_text() == "course version 1 of notebooks/02_b.ipynb\n"
    # both course updates are listed once, so that you can compare
    assert sorted(p.as_posix() for p in second["updated"]) == ["notebooks/01_a.ipynb", "notebooks/02_b.ipynb"]
    assert work_tool.copy_course(course, work)["updated"] == []

    third = work_tool.copy_course(course, work, force=True)  # make work FORCE=1
    assert len(third["copied"]) == 6
    assert (work / "notebooks" / "01_a.ipynb").read_text() == "course version 2\n"


def test_work_is_git_ignored():
    assert "/work/" in (ROOT / ".gitignore").read_text().splitlines()
    if shutil.which("git") and (ROOT / ".git").exists():
        res = subprocess.run(["git", "check-ignore", "-q", "work/notebooks/01_why_convolutions.ipynb"], cwd=ROOT)
        assert res.returncode == 0


@pytest.fixture
def fake_setup(tmp_path) -> Path:
    """The Makefile in a folder whose environment counts as set up, with a `python` that prints its arguments."""
    root = tmp_path / "clone"
    (root / "requirements").mkdir(parents=True)
    for rel in ("Makefile", "pyproject.toml", "requirements/lock.txt"):
        shutil.copy2(ROOT / rel, root / rel)
    (root / "tools").mkdir()
    shutil.copy2(ROOT / "tools" / "work.py", root / "tools" / "work.py")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "jupyter"):
        (bin_dir / name).write_text(f'#!/bin/sh\necho "{name} $*"\n')
        (bin_dir / name).chmod(0o755)
    stamp = root / ".venv" / ".installed"
    stamp.touch()
    newer = max((root / rel).stat().st_mtime for rel in ("pyproject.toml", "requirements/lock.txt")) + 10
    os.utime(stamp, (newer, newer))
    return root


def _make(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MAKE, "--no-print-directory", "-C", str(root), *args], capture_output=True, text=True,
                          timeout=60)


@needs_make
def test_make_grade_grades_your_copy_when_you_have_one(fake_setup):
    nb = "exercises/05_pooling.ipynb"
    (fake_setup / "exercises").mkdir()
    (fake_setup / nb).write_text("{}")
    res = _make(fake_setup, "grade", f"NB={nb}")
    assert res.returncode == 0, res.stderr
    assert f"python -m cnnlib.grade --exit-zero {nb}" in res.stdout
    (fake_setup / "work" / "exercises").mkdir(parents=True)
    (fake_setup / "work" / nb).write_text("{}")
    res = _make(fake_setup, "grade", f"NB={nb}")
    assert f"python -m cnnlib.grade --exit-zero work/{nb}" in res.stdout
    res = _make(fake_setup, "grade", f"NB=work/{nb}")  # the explicit path works as well
    assert f"python -m cnnlib.grade --exit-zero work/{nb}" in res.stdout
    res = _make(fake_setup, "grade")
    assert res.returncode != 0 and "usage: make grade NB=exercises/05_pooling.ipynb" in res.stderr


@needs_make
@pytest.mark.parametrize("stamp", ["out of date", "up to date"])
def test_every_install_step_has_its_installer(fake_setup, stamp):
    """uv is installed (from its hash-checked lock) before the first command that uses it: for the environment,
    and for Playwright and the book's packages added to an environment set up earlier (by pip, or before uv);
    INSTALLER=pip never needs it. Runs the real recipes with stand-ins for python3, the tools' python and uv."""
    for rel in ("requirements/uv.txt", "requirements/browser.txt", "requirements/book.txt"):
        shutil.copy2(ROOT / rel, fake_setup / rel)
    if stamp == "out of date":
        (fake_setup / ".venv" / ".installed").unlink()
    python3 = fake_setup / "python3-stand-in"
    python3.write_text(textwrap.dedent("""\
        #!/bin/sh
        echo "python3 $*"
        if [ "$1 $2 $3" = "-m venv build/tools" ]; then
            mkdir -p build/tools/bin
            printf '#!/bin/sh\\necho "tools-python $*"\\n' > build/tools/bin/python
            printf '#!/bin/sh\\necho "uv $*"\\n' > build/tools/bin/uv
            chmod +x build/tools/bin/python build/tools/bin/uv
        fi
        """))
    python3.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("INSTALLER", "MAKEFLAGS", "MAKELEVEL")}

    def run(*args: str) -> list[str]:
        res = subprocess.run([MAKE, "--no-print-directory", "-s", "-C", str(fake_setup), f"PYTHON={python3}", *args,
                              ".venv/.installed-browser", ".venv/.installed-book"],
                             capture_output=True, text=True, timeout=60, env=env)
        assert res.returncode == 0, res.stderr
        return res.stdout.splitlines()

    wanted = ["lock.txt", "-e .", "browser.txt", "book.txt"] if stamp == "out of date" else ["browser.txt", "book.txt"]
    lines = run("INSTALLER=pip")
    assert not (fake_setup / "build").exists(), lines
    pip = [line for line in lines if line.startswith("python -m pip install --quiet")]  # .venv/bin/python's stand-in
    assert len(pip) == len(wanted) and all(w in line for w, line in zip(wanted, pip)), lines
    for path in fake_setup.joinpath(".venv").glob(".installed-*"):
        path.unlink()
    if stamp == "out of date":
        fake_setup.joinpath(".venv", ".installed").unlink()
    lines = run()
    bootstrap = lines.index("tools-python -m pip install --quiet --require-hashes -r requirements/uv.txt")
    uses = [i for i, line in enumerate(lines) if line.startswith("uv pip install --python .venv/bin/python --quiet")]
    assert len(uses) == len(wanted) and all(w in lines[i] for w, i in zip(wanted, uses)), lines
    assert bootstrap < uses[0] and lines.count(lines[bootstrap]) == 1, lines  # once, before the first use


@needs_make
def test_make_starts_python_with_a_short_openblas_spin(fake_setup):
    """make train, make grade and make lab (JupyterLab, hence its kernels) run with OPENBLAS_THREAD_TIMEOUT=16,
    unless it is already set: on a busy machine OpenBLAS's helper threads then sleep instead of spinning."""
    for name in ("python", "jupyter"):
        (fake_setup / ".venv" / "bin" / name).write_text(f'#!/bin/sh\necho "{name} $* timeout=$OPENBLAS_THREAD_TIMEOUT"\n')
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}

    def run(*args: str, **extra: str) -> str:
        res = subprocess.run([MAKE, "--no-print-directory", "-C", str(fake_setup), *args], capture_output=True,
                             text=True, timeout=60, env={**env, **extra})
        assert res.returncode == 0, res.stderr
        return res.stdout

    assert "python -m cnnlib.train timeout=16" in run("train")
    assert "python -m cnnlib.grade --exit-zero x.ipynb timeout=16" in run("grade", "NB=x.ipynb")
    assert "timeout=16" in run("lab", "PYTHON=true").splitlines()[-1]
    assert "python -m cnnlib.train timeout=28" in run("train", OPENBLAS_THREAD_TIMEOUT="28")  # yours is kept
    assert "python -m cnnlib.train timeout=20" in run("train", "OPENBLAS_THREAD_TIMEOUT=20")


@needs_make
def test_make_lab_makes_work_trusts_the_course_and_opens_notebook_01(fake_setup):
    for rel in ("notebooks/01_why_convolutions.ipynb", "exercises/01_convolution.ipynb",
                "exercises/solutions/01_convolution.ipynb"):
        (fake_setup / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, fake_setup / rel)
    res = _make(fake_setup, "lab", f"PYTHON={sys.executable}")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "work: your working copies are in work/" in out
    assert (fake_setup / "work" / "notebooks" / "01_why_convolutions.ipynb").is_file()
    assert "trust: 3 course notebooks trusted" in out
    # jupyter trust, on every course notebook (signatures go to the Jupyter data folder, not the files)
    dry = _make(fake_setup, "-n", "trust").stdout
    trusted = re.search(r"^\.venv/bin/jupyter trust (.*) >/dev/null$", dry, re.M).group(1).split()
    assert sorted(trusted) == sorted(["notebooks/01_why_convolutions.ipynb", "exercises/01_convolution.ipynb",
                                      "exercises/solutions/01_convolution.ipynb"])
    lab = re.search(r"^jupyter lab (.*)$", out, re.M).group(1)
    assert "--LabApp.default_url=/lab/tree/work/notebooks/01_why_convolutions.ipynb" in lab
    assert "--ServerApp.root_dir=." in lab
    if os.geteuid() == 0:
        assert "--allow-root" in lab
    assert (ROOT / "notebooks" / "01_why_convolutions.ipynb").is_file()


FLOOD = 20_000  # display updates: far more than ZeroMQ keeps unread (about 8,000 here)


@pytest.mark.slow
def test_nbval_keeps_every_output_of_a_cell_that_floods_the_kernels_output(tmp_path):
    """Without notebooks/conftest.py, nbval 0.11 fails this cell with 'Timeout of 5 seconds exceeded waiting
    for output': the messages pile up unread while the cell runs, and ZeroMQ drops those past its limit, the
    kernel's final 'idle' among them. Notebook 10's training did this on a busy machine."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbval")
    nb = nbformat.v4.new_notebook()
    flood = nbformat.v4.new_code_cell(textwrap.dedent(f"""\
        from IPython.display import display
        handle = display("update 0", display_id=True)
        for i in range({FLOOD}):
            handle.update(f"update {{i + 1}}")
        print("done")"""))
    flood.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "'update 0'"}),
                     nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    flood.execution_count = 1
    after = nbformat.v4.new_code_cell("print(1 + 1)")
    after.execution_count = 2
    after.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    nb.cells = [flood, after]
    nbformat.write(nb, tmp_path / "flood.ipynb")
    shutil.copy2(ROOT / "notebooks" / "conftest.py", tmp_path / "conftest.py")
    shutil.copy2(ROOT / "notebooks" / "nbval_sanitize.cfg", tmp_path / "nbval_sanitize.cfg")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "-q", "flood.ipynb"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    report = "\n".join(line for line in res.stdout.splitlines() if "unhandled iopub msg" not in line)
    assert res.returncode == 0 and "2 passed" in res.stdout, report[-4000:] + res.stderr[-2000:]
