"""The public API and the layout rules of "How cnnlib is built" (README).

- ``cnnlib``'s names are exactly the ``__all__`` of the library's modules, and every
  ``cnnlib`` name the notebooks, exercises and README use exists.
- Two wings: the library never imports the course tooling (plots, widgets, checks, grade).
- Speed tricks live in ``cnnlib/_kernels.py``: no module reaches into another's private
  names, and the stride tricks appear nowhere else.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

import cnnlib

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "cnnlib"
LIBRARY = ["functional", "layers", "losses", "optim", "gradcheck", "training", "models", "metrics", "data", "_kernels", "_validate"]
TOOLING = {"plots", "widgets", "checks", "grade"}


def imported_cnnlib_modules(path: Path) -> set[str]:
    """The cnnlib modules a source file imports (first component after ``cnnlib.`` or the leading dot)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level and node.module:
                found.add(node.module.split(".")[0])
            elif node.level:
                found.update(a.name for a in node.names)
            elif node.module and node.module.startswith("cnnlib."):
                found.add(node.module.split(".")[1])
            elif node.module == "cnnlib":
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("cnnlib."))
    return found


def test_cnnlib_names_are_the_library_modules_all():
    expected = []
    for name in ["_validate", "functional", "gradcheck", "layers", "losses", "metrics", "models", "optim", "training", "data"]:
        module = importlib.import_module(f"cnnlib.{name}")
        for public in module.__all__:
            assert getattr(cnnlib, public) is getattr(module, public), public
            expected.append(public)
    assert sorted(cnnlib.__all__) == sorted(expected)
    assert len(set(cnnlib.__all__)) == len(cnnlib.__all__), "a name is exported by two modules"


def test_every_public_name_is_documented():
    for name in cnnlib.__all__:
        obj = getattr(cnnlib, name)
        if callable(obj):
            assert inspect.getdoc(obj), f"cnnlib.{name} has no docstring"


def test_help_shows_the_real_signature_of_load_mnist():
    assert "data_dir" in inspect.signature(cnnlib.load_mnist).parameters
    assert cnnlib.load_mnist is cnnlib.data.load_mnist


@pytest.mark.parametrize("module", LIBRARY)
def test_the_library_never_imports_the_course_tooling(module):
    files = [PKG / f"{module}.py"] if (PKG / f"{module}.py").exists() else sorted((PKG / module).glob("*.py"))
    assert files, module
    for path in files:
        assert imported_cnnlib_modules(path) & TOOLING == set(), path


def test_the_library_does_not_import_the_tooling_at_run_time_either():
    import subprocess
    import sys

    code = "import sys, cnnlib; cnnlib.fit; print(sorted(m for m in sys.modules if m.split('.')[-1] in %r))" % sorted(TOOLING)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def all_sources() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py"))


def test_no_module_uses_another_modules_private_names():
    # e.g. layers.py calling F._conv_forward_fast: the kernels are the one internal interface
    private_use = re.compile(r"\b(?:F|functional|layers|L|training|losses|optim|checks|widgets)\._[a-z]\w*")
    private_import = re.compile(r"from \.+(?:functional|layers|training|losses|optim)\w* import [^\n]*\b_[a-z]")
    for path in all_sources():
        text = path.read_text()
        assert not private_use.findall(text), f"{path.name}: {private_use.findall(text)}"
        assert not private_import.findall(text), f"{path.name}: {private_import.findall(text)}"


def test_stride_tricks_live_only_in_the_kernel_module():
    for path in all_sources():
        if path.name != "_kernels.py":
            assert "as_strided" not in path.read_text(), path.name


def test_no_module_is_longer_than_about_800_lines():
    for path in all_sources():
        assert len(path.read_text().splitlines()) <= 850, path.name


# ---------------------------------------------------------------------------
# Every cnnlib name the course uses exists
# ---------------------------------------------------------------------------


def course_code() -> list[tuple[str, str]]:
    """(where, code) of every notebook code cell and every README code block."""
    out = []
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "exercises").rglob("*.ipynb")):
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            if cell["cell_type"] == "code":
                out.append((f"{nb.relative_to(ROOT)} cell {i}", "".join(cell["source"])))
    for md in [ROOT / "README.md", ROOT / "notebooks" / "README.md", ROOT / "exercises" / "README.md"]:
        for block in re.findall(r"```(?:python)?\n(.*?)```", md.read_text(), flags=re.S):
            out.append((md.name, block))
    return out


def resolve(dotted: str) -> object:
    parts = dotted.split(".")
    obj: object = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], 1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: i + 1]))
    return obj


def test_every_cnnlib_name_the_course_uses_exists():
    missing = []
    for where, code in course_code():
        names = set(re.findall(r"\bcnnlib(?:\.[A-Za-z_]\w*)+", code))
        if re.search(r"^\s*import cnnlib as c\b", code, flags=re.M) or "c.fit" in code:
            names |= {"cnnlib." + n for n in re.findall(r"(?<![\w.])c\.([A-Za-z_]\w*)", code)}
        for module, group, line in re.findall(r"from (cnnlib(?:\.\w+)*) import (?:\(([^)]*)\)|([^\n]+))", code):
            for item in (group or line).split("#")[0].split(","):
                name = item.split(" as ")[0].strip()
                if name:
                    names.add(f"{module}.{name}")
        for dotted in sorted(names):
            try:
                resolve(dotted)
            except (AttributeError, ImportError):
                missing.append(f"{where}: {dotted}")
    assert not missing, "\n".join(missing)
