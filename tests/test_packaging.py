"""The project's promises about itself: dependencies, commands, documentation, no hidden frameworks."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker

import cnnlib

ROOT = Path(__file__).resolve().parent.parent
MODULES = ["functional", "layers", "losses", "optim", "gradcheck", "training", "models", "data", "train", "metrics", "plots", "checks", "grade", "widgets"]
# Submodules whose own __all__ is public API too (used as cnnlib.plots.show_images etc.).
SUBMODULE_APIS = ["plots", "metrics", "widgets"]


def _name_and_bound(spec: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*((?:[<>=!~]=?|==)\s*[^\s]+)?\s*", spec)
    assert m, f"cannot parse requirement {spec!r}"
    return m.group(1).lower(), (m.group(2) or "").replace(" ", "")


def _environment_yml() -> tuple[list[str], list[str], list[str]]:
    """Channels, conda dependencies and pip dependencies of environment.yml (a small, strict reader)."""
    channels, conda, pip = [], [], []
    section = None
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith(" "):
            section = line.split(":", 1)[0]
            continue
        item = line.strip()
        if section == "channels":
            channels.append(item.lstrip("- ").strip())
        elif section == "dependencies":
            indent = len(line) - len(line.lstrip())
            if item == "- pip:":
                continue
            (pip if indent > 2 else conda).append(item[2:].strip())
    return channels, conda, pip


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock_pins(path: Path) -> dict[str, list[tuple[str, str | None]]]:
    """{name: [(version, marker or None)]} of a lock file written by uv pip compile."""
    pins: dict[str, list[tuple[str, str | None]]] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if m:
            pins.setdefault(_normalize(m.group(1)), []).append((m.group(2), m.group(3)))
    return pins


LOCK = ROOT / "requirements" / "lock.txt"
BROWSER_LOCK = ROOT / "requirements" / "browser.txt"
BOOK_LOCK = ROOT / "requirements" / "book.txt"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_matches_pyproject_and_the_lock():
    """environment.yml lists pyproject's dependencies, each pinned (conda `=`) to the lock's version."""
    deps = _pyproject()["project"]["dependencies"]
    from_pyproject = {_normalize(_name_and_bound(d)[0]) for d in deps}
    channels, conda, pip = _environment_yml()
    assert channels == ["conda-forge"]
    assert pip == ["-e ."]
    pinned = {}
    for dep in conda:
        m = re.fullmatch(r"([A-Za-z0-9._-]+)(?:=([\w.]+))?", dep)
        assert m, f"environment.yml: {dep!r} is not NAME or NAME=VERSION"
        pinned[_normalize(m.group(1))] = m.group(2)
    assert pinned.pop("python") == "3.11"  # the Python the lock is resolved from
    assert pinned.pop("pip") is None
    assert set(pinned) == from_pyproject
    lock = _lock_pins(LOCK)
    conda_python = {"python_version": "3.11", "python_full_version": "3.11.15", "sys_platform": "linux",
                    "os_name": "posix", "platform_system": "Linux", "implementation_name": "cpython",
                    "platform_python_implementation": "CPython", "platform_machine": "x86_64"}
    for name, version in pinned.items():
        # a universal lock may pin newer versions for newer Pythons; conda gets Python 3.11's
        for_311 = [v for v, marker in lock[name] if marker is None or Marker(marker).evaluate(conda_python)]
        assert for_311 == [version], (
            f"environment.yml pins {name}={version}, requirements/lock.txt {lock[name]}: run `make lock`")


def test_the_lock_pins_every_dependency_with_hashes():
    """requirements/lock.txt: every package exactly, with hashes, resolved by uv from pyproject.toml."""
    text = LOCK.read_text()
    assert "uv" in text.splitlines()[0] and "make lock" in text.splitlines()[1]
    lock = _lock_pins(LOCK)
    for dep in _pyproject()["project"]["dependencies"] + ["setuptools", "pip"]:
        assert _normalize(_name_and_bound(dep)[0]) in lock, f"{dep} is not in requirements/lock.txt: run `make lock`"
    # every pin carries at least one sha256 hash (pip --require-hashes refuses the file otherwise)
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    for block in blocks:
        if re.match(r"[A-Za-z0-9]", block):
            assert "--hash=sha256:" in block, block.splitlines()[0]
    assert not [name for name in lock if name in ("torch", "playwright", "cnnlib")]  # optional extras stay out
    # the setuptools of the lock can build cnnlib (SPDX license), as the Makefile builds it without isolation
    (setuptools_version, _), = lock["setuptools"]
    assert int(setuptools_version.split(".")[0]) >= 77
    assert _pyproject()["build-system"]["requires"] == ["setuptools>=77"]


def test_the_browser_lock_is_the_lock_plus_playwright():
    lock, browser = _lock_pins(LOCK), _lock_pins(BROWSER_LOCK)
    for name, pins in lock.items():
        assert browser.get(name) == pins, f"{name}: requirements/browser.txt and lock.txt differ: run `make lock`"
    extra = _pyproject()["project"]["optional-dependencies"]["browser"]
    assert extra == ["playwright==1.64.1"]
    assert [v for v, _ in browser["playwright"]] == ["1.64.1"]
    assert "--hash=sha256:" in BROWSER_LOCK.read_text().split("playwright==", 1)[1].split("\n", 2)[1]


def test_the_book_lock_is_the_lock_plus_the_book_packages():
    """requirements/book.txt (make book-setup): the lock's pins unchanged, plus the book extra, hashed."""
    lock, book = _lock_pins(LOCK), _lock_pins(BOOK_LOCK)
    for name, pins in lock.items():
        assert book.get(name) == pins, f"{name}: requirements/book.txt and lock.txt differ: run `make lock`"
    extra = _pyproject()["project"]["optional-dependencies"]["book"]
    for dep in extra:
        assert _normalize(_name_and_bound(dep)[0]) in book, f"{dep} is not in requirements/book.txt: run `make lock`"
    assert "playwright" not in book and "torch" not in book
    blocks = re.split(r"\n(?=[A-Za-z0-9])", BOOK_LOCK.read_text().split("\n", 2)[2])
    assert all("--hash=sha256:" in b for b in blocks if re.match(r"[A-Za-z0-9]", b))
    # the site's npm packages: exact versions, each with its integrity hash in the npm lock
    package = json.loads((ROOT / "tools" / "book" / "package.json").read_text())
    npm_lock = json.loads((ROOT / "tools" / "book" / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"tools/book/package.json: {name} {version} is not exact"
        entry = npm_lock["packages"][f"node_modules/{name}"]
        assert entry["version"] == version and entry["integrity"].startswith("sha512-")


def test_makefile_installs_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(STAMP\): pyproject.toml \$\(LOCK\)$", makefile, re.M)  # redone when either changes
    assert "$(INSTALL) --quiet --require-hashes -r $(LOCK)" in makefile
    assert "$(INSTALL) --quiet --no-deps --no-build-isolation -e ." in makefile
    assert "$(INSTALL) --quiet --require-hashes -r $(BROWSER_LOCK)" in makefile
    assert "$(INSTALL) --quiet --require-hashes -r $(BOOK_LOCK)" in makefile
    # the installer: uv by default, pip on request, both into the environment and hash-checked
    install = re.search(r"^INSTALL = (.*)$", makefile, re.M).group(1)
    assert install == "$(if $(filter pip,$(INSTALLER)),$(BIN)/python -m pip install,$(UV) pip install --python $(BIN)/python)"
    assert re.search(r"^INSTALLER \?= uv$", makefile, re.M)
    # uv trusts the system's certificates, as pip does here (a proxy's certificate: "UnknownIssuer" otherwise)
    assert re.search(r"^export UV_SYSTEM_CERTS \?= 1$", makefile, re.M)
    # uv itself: the exact version of requirements/uv.in, every file hash-checked
    assert re.search(r"^\$\(UV\): \$\(UV_LOCK\)$", makefile, re.M)
    assert "pip install --quiet --require-hashes -r $(UV_LOCK)" in makefile
    assert "$(UV) pip compile $(LOCK_FLAGS) requirements/uv.in -o $(UV_LOCK)" in makefile.split("\nlock: ")[1]
    uv_lock = (ROOT / "requirements" / "uv.txt").read_text()
    (pin,) = re.findall(r"^uv==\S+", (ROOT / "requirements" / "uv.in").read_text(), re.M)
    assert re.search(rf"^{re.escape(pin)} \\$", uv_lock, re.M), f"requirements/uv.txt does not pin {pin}: run make lock"
    assert uv_lock.count("--hash=sha256:") >= 10 and re.findall(r"^\w\S*==", uv_lock, re.M) == ["uv=="]
    assert "--upgrade pip" not in makefile.split("test-latest:")[0]  # nothing unpinned before make test-latest
    assert re.search(r"^lock: ", makefile, re.M) and "--generate-hashes" in makefile
    assert re.search(r"^test-latest:", makefile, re.M)
    assert "test-latest" not in re.search(r"^test: .*$", makefile, re.M).group(0)


def test_version_is_single_sourced():
    """cnnlib.__version__ is the package's version (setuptools reads it), the CHANGELOG's newest release,
    and the README explains the vX.Y.Z tags."""
    project = _pyproject()
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cnnlib.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", cnnlib.__version__)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[?(\d+\.\d+\.\d+)\]?", changelog, re.M)
    assert releases and releases[0] == cnnlib.__version__, releases
    assert f"v{cnnlib.__version__}" in (ROOT / "README.md").read_text() or "vX.Y.Z" in (ROOT / "README.md").read_text()
    assert project["project"]["license"] == "MIT"


def test_no_deep_learning_framework_at_run_time():
    deps = " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]).lower()
    for framework in ("torch", "tensorflow", "jax", "keras"):
        assert framework not in deps
    for path in (ROOT / "cnnlib").rglob("*.py"):  # subpackages too (cnnlib/widgets/, cnnlib/checks/)
        tree = ast.parse(path.read_text())
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not imported & {"torch", "tensorflow", "jax", "keras"}, path


def test_readme_quick_start_and_ci():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)$", quick, flags=re.M)
    assert commands[:2] == ["make lab", "make test"]
    assert "conda env create -f environment.yml" in quick
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab: setup work trust$", makefile, re.M)
    assert re.search(r"^test: setup \$\(BROWSER_STAMP\) book-setup$", makefile, re.M)  # and Playwright, the book


def test_mnist_files_ship_with_the_repository():
    data = ROOT / "data" / "mnist"
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert (data / f"{name}.gz").is_file()
    assert "Creative Commons Attribution-Share Alike 3.0" in (data / "README.md").read_text()


@pytest.mark.parametrize("module", MODULES)
def test_modules_have_plain_language_docstrings(module):
    mod = importlib.import_module(f"cnnlib.{module}")
    assert mod.__doc__ and len(mod.__doc__.strip()) > 40


def _public_callables():
    for name in cnnlib.__all__:
        obj = getattr(cnnlib, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield name, obj
    for module in SUBMODULE_APIS:
        mod = importlib.import_module(f"cnnlib.{module}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{module}.{name}", obj


@pytest.mark.parametrize("name,obj", list(_public_callables()))
def test_public_api_is_documented_and_typed(name, obj):
    assert obj.__doc__ and obj.__doc__.strip(), f"{name} has no docstring"
    if inspect.isclass(obj) and (issubclass(obj, Exception) or dataclasses.is_dataclass(obj)):
        return  # exceptions take a message; dataclasses document their fields as Attributes
    func = obj.__init__ if inspect.isclass(obj) else obj
    if func is object.__init__ or name == "load_mnist":
        return
    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.name not in ("self", "args", "kwargs")]
    missing = [p.name for p in params if p.annotation is inspect.Parameter.empty]
    assert not missing, f"{name}: parameters without type hints: {missing}"
    # numpydoc: anything taking arguments documents them in a Parameters section
    # (a class may document them in its own docstring).
    if params and not (inspect.isclass(obj) and obj.__doc__ and "Parameters" in obj.__doc__):
        doc = obj.__doc__ if not inspect.isclass(obj) else (obj.__doc__ + (func.__doc__ or ""))
        assert "Parameters" in doc or "Same arguments" in doc or "Arguments as in" in doc, f"{name}: no Parameters section"


def test_all_names_resolve():
    for name in cnnlib.__all__:
        assert hasattr(cnnlib, name), name


def _imported_modules(path: Path) -> set[str]:
    """Every module a cnnlib source file imports, as dotted names (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            out |= {module} | {f"{module}.{a.name}" for a in node.names}
    return out


def test_the_library_never_imports_the_exercise_checks():
    """cnnlib.checks is course tooling: only the grader may import it, never the library."""
    importers = {
        path.relative_to(ROOT / "cnnlib").parts[0] for path in (ROOT / "cnnlib").rglob("*.py")
        if "checks" not in path.relative_to(ROOT / "cnnlib").parts
        and any(m == "cnnlib.checks" or m.startswith("cnnlib.checks.") for m in _imported_modules(path))
    }
    assert importers == {"grade"}  # the grader package
    code = "import sys, cnnlib, cnnlib.training, cnnlib.data, cnnlib.train; print('cnnlib.checks' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert run.stdout.strip() == "False"
