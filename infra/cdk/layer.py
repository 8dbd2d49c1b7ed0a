"""The shared Lambda layer: the ``engagekit`` library plus its runtime dependencies, built without Docker.

``python -m infra.cdk.layer`` builds ``build/layer/python/`` (the layout Lambda puts on ``sys.path``
as ``/opt/python``) with ``pip install --platform manylinux2014_aarch64 --only-binary=:all:`` for
CPython 3.12 on arm64, then copies ``shared/engagekit`` next to the packages.

What goes in: the closure of ``[project].dependencies`` in pyproject.toml, pinned to the exact
versions of requirements.lock, minus the CLI-only packages (typer, rich) and minus the AWS SDK
(boto3, botocore, s3transfer), which the Lambda Python runtime ships; leaving the SDK out keeps the
layer about 35 MB smaller unzipped (limit: 250 MB for function + layers).

The layer ships bytecode: Lambda's ``/opt`` is read-only, so a layer of sources is compiled again
at every cold start (measured: about 40% of our modules' import time). When a CPython 3.12
interpreter is on the PATH (``python3.12``; bytecode is specific to the Python version, not to the
CPU), :func:`build` runs ``compileall --invalidation-mode unchecked-hash`` over the layer, so the
``.pyc`` files are used whatever the zip's timestamps; without one it prints a notice and ships
sources only.

Synthesis never builds it: when ``build/layer/python`` is absent, :func:`layer_asset` stages just
``shared/engagekit`` (fast, offline) and the app prints a one-line notice. Such a stack synthesizes
and lints but its functions would fail to import their dependencies if deployed.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Final

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.cdk.errors import SynthError

ROOT: Final = Path(__file__).resolve().parents[2]
LAYER_DIR: Final = ROOT / "build" / "layer"
SHARED_ONLY_DIR: Final = ROOT / "build" / "layer-shared-only"
LIBRARY: Final = ROOT / "shared" / "engagekit"

CLI_ONLY: Final = frozenset({"typer", "rich"})
PROVIDED_BY_LAMBDA: Final = frozenset({"boto3", "botocore", "s3transfer"})
"""Packages the Lambda Python 3.12 runtime already has on its path (the AWS SDK)."""

TARGET_ENV: Final = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
}
"""PEP 508 marker environment of the Lambda runtime (python3.12, arm64)."""

PIP_PLATFORM: Final = "manylinux2014_aarch64"
PY_VERSION: Final = "3.12"
_IGNORE: Final = shutil.ignore_patterns("__pycache__", "*.pyc")


def read_lock(lock: Path) -> dict[str, str]:
    """``requirements.lock`` as ``{canonical name: exact version}``; raises SynthError on a loose pin."""
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)", line)
        if not match:
            raise SynthError(f"{lock.name}: {line!r} is not an exact pin")
        pins[canonicalize_name(match.group(1))] = match.group(3)
    return pins


def _marker_ok(marker: Marker | None, extras: set[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({**TARGET_ENV, "extra": extra}) for extra in (extras or {""}))


def runtime_requirements(pyproject: Path, lock: Path) -> list[str]:
    """The pinned runtime closure for the layer, sorted: ``["annotated-types==0.8.0", ...]``.

    Roots are ``[project].dependencies`` minus :data:`CLI_ONLY`; edges come from the installed
    distributions' metadata evaluated for :data:`TARGET_ENV`; :data:`PROVIDED_BY_LAMBDA` is pruned.
    Raises :class:`SynthError` when a needed package has no pin in the lock.
    """
    pins = read_lock(lock)
    roots = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    todo = [Requirement(r) for r in roots]
    extras_of: dict[str, set[str]] = {}
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in CLI_ONLY or name in PROVIDED_BY_LAMBDA:
            continue
        known = extras_of.get(name)
        if known is not None and set(req.extras) <= known:
            continue
        extras_of[name] = (known or set()) | set(req.extras)
        for dep in md.requires(req.name) or []:
            child = Requirement(dep)
            if _marker_ok(child.marker, extras_of[name]):
                todo.append(child)
    missing = sorted(n for n in extras_of if n not in pins)
    if missing:
        raise SynthError(f"runtime dependencies without a pin in {lock.name}: {missing}")
    return sorted(f"{name}=={pins[name]}" for name in extras_of)


def target_python() -> tuple[str, ...] | None:
    """The command of a CPython ``PY_VERSION`` interpreter to compile the layer with, or None."""
    found = shutil.which(f"python{PY_VERSION}")
    if found is None:
        return None
    probe = subprocess.run(
        [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return (found,) if probe.returncode == 0 and probe.stdout.strip() == PY_VERSION else None


def compile_bytecode(site: Path, python: tuple[str, ...]) -> None:
    """Compile every module under ``site`` with ``python`` into ``__pycache__`` (unchecked hash-based
    pycs, PEP 552: valid whatever the files' timestamps after the zip round trip).

    Raises :class:`SynthError` if compileall fails.
    """
    cmd = [*python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(site)]
    result = subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
    if result.returncode != 0:
        raise SynthError(f"compileall failed (exit {result.returncode}): {' '.join(cmd)}")


def build(
    target: Path = LAYER_DIR,
    *,
    pip: tuple[str, ...] = (sys.executable, "-m", "pip"),
    python: tuple[str, ...] | None = None,
) -> Path:
    """Build the full layer into ``target/python`` (replacing it) and return ``target``.

    ``python`` compiles the layer's bytecode (default: :func:`target_python`; none found: sources
    only, with a notice on stderr). Needs network access to PyPI (or a configured index). Raises
    :class:`SynthError` if pip or the compilation fails.
    """
    reqs = runtime_requirements(ROOT / "pyproject.toml", ROOT / "requirements.lock")
    site = target / "python"
    shutil.rmtree(target, ignore_errors=True)
    site.mkdir(parents=True)
    cmd = [
        *pip, "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-compile",
        "--platform", PIP_PLATFORM, "--only-binary=:all:", "--python-version", PY_VERSION,
        "--implementation", "cp", "--target", str(site), *reqs,
    ]  # fmt: skip
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        raise SynthError(f"pip could not build the layer (exit {result.returncode}): {' '.join(cmd)}")
    shutil.copytree(LIBRARY, site / "engagekit", ignore=_IGNORE)
    compiler = python or target_python()
    if compiler is None:
        print(
            f"notice: no python{PY_VERSION} on the PATH; the layer ships sources only and Lambda will "
            "compile them at every cold start",
            file=sys.stderr,
        )
    else:
        compile_bytecode(site, compiler)
    return target


def layer_asset() -> tuple[Path, bool]:
    """The folder to use as the layer asset and whether it is the full build.

    ``(build/layer, True)`` after :func:`build`; otherwise ``(build/layer-shared-only, False)``,
    freshly staged with only ``python/engagekit``.
    """
    if (LAYER_DIR / "python" / "engagekit").is_dir():
        return LAYER_DIR, True
    staged = SHARED_ONLY_DIR / "python" / "engagekit"
    shutil.rmtree(SHARED_ONLY_DIR, ignore_errors=True)
    shutil.copytree(LIBRARY, staged, ignore=_IGNORE)
    return SHARED_ONLY_DIR, False


def main() -> None:
    """``python -m infra.cdk.layer``: build the layer and print its path and requirement count."""
    reqs = runtime_requirements(ROOT / "pyproject.toml", ROOT / "requirements.lock")
    print(f"building {LAYER_DIR.relative_to(ROOT)} from {len(reqs)} pinned packages: {' '.join(reqs)}")
    build()
    print(f"layer ready: {LAYER_DIR.relative_to(ROOT)}/python")


if __name__ == "__main__":
    main()
