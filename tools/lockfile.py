"""The lock file's pins: keep environment.yml equal to them, and show how a fresh install drifts from them.

    python tools/lockfile.py sync-environment   # rewrite environment.yml's pins from requirements/lock.txt
    python tools/lockfile.py drift              # this Python's installed packages against the lock

``make lock`` runs the first after uv has rewritten the lock; ``make test-latest`` runs the second in its
throwaway environment of the newest releases, so the packages that moved are listed before the tests run.
Only the standard library is used (``packaging``, if installed, evaluates the lock's environment markers).
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
ENVIRONMENT = ROOT / "environment.yml"
PYPROJECT = ROOT / "pyproject.toml"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def normalize(name: str) -> str:
    """A package name as PyPI compares them (PEP 503): lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = LOCK) -> dict[str, list[tuple[str, str | None]]]:
    """``{name: [(version, environment marker or None), ...]}`` of a file written by ``uv pip compile``.

    A universal lock may pin one package twice, under different markers (e.g. one version for older Pythons).
    """
    pins: dict[str, list[tuple[str, str | None]]] = {}
    for line in path.read_text().splitlines():
        m = _PIN.match(line)
        if m:
            pins.setdefault(normalize(m.group(1)), []).append((m.group(2), m.group(3)))
    return pins


def pin_here(entries: list[tuple[str, str | None]]) -> str | None:
    """The version that applies to this Python and platform (None if no entry's marker applies)."""
    try:
        from packaging.markers import Marker
    except ImportError:  # without packaging: the first unconditional pin, else the first
        return next((v for v, marker in entries if marker is None), entries[0][0])
    for version, marker in entries:
        if marker is None or Marker(marker).evaluate():
            return version
    return None


def _marker_class():
    try:
        from packaging.markers import Marker
    except ImportError:  # pip carries its own copy
        from pip._vendor.packaging.markers import Marker
    return Marker


#: The Python that environment.yml asks conda for (python=3.11): the lock's pins for it are the ones to copy.
CONDA_PYTHON = {"python_version": "3.11", "python_full_version": "3.11.15", "sys_platform": "linux",
                "os_name": "posix", "platform_system": "Linux", "implementation_name": "cpython",
                "platform_python_implementation": "CPython", "platform_machine": "x86_64"}


def pin_for_conda(entries: list[tuple[str, str | None]]) -> str:
    """The version the lock pins for environment.yml's Python (a universal lock may fork by Python version)."""
    marker = _marker_class()
    versions = {v for v, m in entries if m is None or marker(m).evaluate(CONDA_PYTHON)}
    if len(versions) != 1:
        raise SystemExit(f"{LOCK.name}: expected one version for Python {CONDA_PYTHON['python_version']}, "
                         f"found {sorted(versions)} in {entries}")
    return versions.pop()


def direct_dependencies() -> list[str]:
    """The normalized names of pyproject.toml's run-time dependencies."""
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return [normalize(re.match(r"[A-Za-z0-9._-]+", d).group(0)) for d in deps]


def sync_environment() -> int:
    """Rewrite environment.yml's conda pins (``- name=version``) of pyproject's dependencies from the lock
    (the versions it pins for Python 3.11, the one environment.yml asks for)."""
    pins = read_pins()
    wanted = set(direct_dependencies())
    out, seen = [], set()
    for line in ENVIRONMENT.read_text().splitlines(keepends=True):
        m = re.match(r"^(  - )([A-Za-z0-9._-]+)([=<>!~][^\s#]*)?(\s*(?:#.*)?)$", line.rstrip("\n"))
        if m and normalize(m.group(2)) in wanted:
            name = normalize(m.group(2))
            line = f"{m.group(1)}{m.group(2)}={pin_for_conda(pins[name])}{m.group(4)}\n"
            seen.add(name)
        out.append(line)
    missing = sorted(wanted - seen)
    if missing:
        raise SystemExit(f"environment.yml lists no conda package for {missing}: add a line '  - NAME' for each")
    text = "".join(out)
    if text != ENVIRONMENT.read_text():
        ENVIRONMENT.write_text(text)
        print("environment.yml: pins updated from requirements/lock.txt")
    return 0


def drift() -> int:
    """Print the installed packages whose version is not the lock's; always returns 0 (it only reports)."""
    pins = read_pins()
    moved, new = [], []
    for dist in sorted(metadata.distributions(), key=lambda d: normalize(d.metadata["Name"])):
        name = normalize(dist.metadata["Name"])
        if name == "cnnlib":
            continue
        locked = pin_here(pins[name]) if name in pins else None
        if locked is None:
            new.append(f"{name} {dist.version}")
        elif locked != dist.version:
            moved.append(f"{name} {locked} -> {dist.version}")
    print(f"Packages that moved since requirements/lock.txt ({len(moved)}):")
    print("\n".join(f"  {line}" for line in moved) or "  none")
    if new:
        print(f"Installed but not in the lock ({len(new)}): {', '.join(new)}")
    return 0


def main(argv: list[str]) -> int:
    commands = {"sync-environment": sync_environment, "drift": drift}
    if len(argv) != 1 or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
