"""Lambda code assets that carry bytecode for Lambda's Python, built on this machine (no Docker).

Lambda cannot write ``.pyc`` files next to a function's code (its file system is read-only), so
without bytecode in the asset every cold start compiles each of our modules from source again.
The asset is therefore a copy of the folder, compiled by a Python of the runtime's version
(``RUNTIME_VERSION``; bytecode is only valid for one minor version) with
``--invalidation-mode unchecked-hash``: the interpreter loads the ``.pyc`` without comparing it with
the source's modification time (CDK zips with fixed timestamps) or hashing the source, and the
``.pyc`` is built from exactly the source shipped beside it, in the same synth, so it cannot be
stale. Code objects name the paths Lambda sees (``/var/task``, ``/opt``), so tracebacks do too.

The Python 3.13 is ``DOCUSERVE_RUNTIME_PYTHON`` when set, else ``python3.13`` on the ``PATH``, else
pyenv's, else whatever ``.ci/python313`` prints: that script also installs 3.13 with pyenv where
the machine has pyenv but not 3.13 (a fresh CI machine), so ``make synth`` and the infra tests need
no step of their own. Synth stops with the reason when none of them gives one.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_

RUNTIME_VERSION = (3, 13)  # lambda_.Runtime.PYTHON_3_13 (infra/functions.py)
# Finds or installs a Python of RUNTIME_VERSION and prints its path (also used by make test-lambda-python).
FIND_OR_INSTALL = Path(__file__).resolve().parent.parent / ".ci" / "python313"
# What never goes into an asset: bytecode of this machine's Python, and packaging metadata.
EXCLUDE = ("__pycache__", "*.pyc", "*.egg-info")
# Compiles every module below argv[1] for this interpreter, naming paths as below argv[2].
_COMPILE = (
    "import compileall, py_compile, sys\n"
    "ok = compileall.compile_dir(sys.argv[1], ddir=sys.argv[2], quiet=1, workers=1,\n"
    "    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)\n"
    "sys.exit(0 if ok else 1)\n"
)


class RuntimePythonMissing(RuntimeError):
    """No Python of Lambda's runtime version on this machine: the assets cannot carry bytecode."""


def _version_of(candidate: str) -> tuple[int, int] | None:
    try:
        done = subprocess.run(  # noqa: S603  (an interpreter we were pointed at or found)
            [candidate, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    major, minor = done.stdout.split()
    return int(major), int(minor)


def _pyenv_candidates() -> list[str]:
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return []
    versions = subprocess.run(  # noqa: S603
        [pyenv, "versions", "--bare"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.split()
    root = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30, check=False).stdout.strip()  # noqa: S603
    wanted = "{}.{}".format(*RUNTIME_VERSION)
    matching = sorted(v for v in versions if v == wanted or v.startswith(f"{wanted}."))
    return [str(Path(root) / "versions" / version / "bin" / "python") for version in matching]


@cache
def runtime_python() -> str:
    """Path of a Python of Lambda's runtime version (``RuntimePythonMissing`` when there is none)."""
    override = os.environ.get("DOCUSERVE_RUNTIME_PYTHON")
    candidates = [override] if override else [shutil.which("python3.13") or "", *_pyenv_candidates()]
    for candidate in filter(None, candidates):
        if _version_of(candidate) == RUNTIME_VERSION:
            return candidate
    if not override:
        installed = _find_or_install()
        if installed and _version_of(installed) == RUNTIME_VERSION:
            return installed
    raise RuntimePythonMissing(
        "the Lambda assets carry bytecode for Python {}.{} and no such interpreter was found "
        "(set DOCUSERVE_RUNTIME_PYTHON, put python3.13 on the PATH, or let {} install one with "
        "pyenv)".format(*RUNTIME_VERSION, FIND_OR_INSTALL)
    )


def _find_or_install() -> str | None:
    """The path ``.ci/python313`` prints (it may install 3.13 with pyenv first), or None."""
    if not FIND_OR_INSTALL.is_file():
        return None
    done = subprocess.run(  # noqa: S603  (the project's own script)
        ["/bin/bash", str(FIND_OR_INSTALL)], capture_output=True, text=True, timeout=1800, check=False
    )
    lines = done.stdout.strip().splitlines()
    return lines[-1].strip() if done.returncode == 0 and lines else None


def compiled_copy(source: Path, target: Path, runtime_root: str, python: str) -> None:
    """Copy ``source`` to ``target`` without bytecode or metadata, then compile it with ``python``.

    ``runtime_root`` is where the folder lands in Lambda (``/var/task`` or ``/opt``).
    """
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*EXCLUDE), dirs_exist_ok=True)
    subprocess.run([python, "-c", _COMPILE, str(target), runtime_root], check=True, timeout=300)  # noqa: S603


def _source_hash(source: Path, exclude: Sequence[str]) -> str:
    """SHA-256 of the folder's files (relative path and bytes) as the asset ships them, and the runtime."""
    digest = hashlib.sha256("python{}.{}".format(*RUNTIME_VERSION).encode())
    ignored = shutil.ignore_patterns(*exclude)
    for folder, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in ignored(folder, [d]))
        for name in sorted(f for f in files if f not in ignored(folder, [f])):
            path = Path(folder) / name
            digest.update(path.relative_to(source).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_with_bytecode(source: Path, runtime_root: str) -> lambda_.Code:
    """``Code.from_asset(source)``, shipped with bytecode for Lambda's Python, compiled on this machine.

    The compiled copy is made in a temporary folder at synth (CDK copies it into ``cdk.out``) and
    named by the hash of the source, so the same source gives the same asset.
    """
    staging = Path(tempfile.mkdtemp(prefix="docuserve-asset-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    compiled_copy(source, staging / "code", runtime_root, runtime_python())
    return lambda_.Code.from_asset(
        str(staging / "code"), asset_hash_type=AssetHashType.CUSTOM, asset_hash=_source_hash(source, EXCLUDE)
    )
