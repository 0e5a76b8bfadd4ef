"""The function and layer assets carry bytecode that Lambda's Python loads as is (infra/bytecode.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import bytecode
from infra.bytecode import RUNTIME_VERSION, runtime_python

# Run by the runtime's Python over one asset: each module's .pyc is where that Python looks for it,
# of its version, hash-based and unchecked, built from the source beside it, and names the path
# Lambda sees. Prints what is wrong, one line each.
CHECK = r"""
import importlib.util, marshal, pathlib, sys
root, runtime_root = pathlib.Path(sys.argv[1]), sys.argv[2]
sources = sorted(root.rglob("*.py"))
for source in sources:
    pyc = pathlib.Path(importlib.util.cache_from_source(str(source)))
    if not pyc.is_file():
        print(f"no bytecode: {source.relative_to(root)}"); continue
    data = pyc.read_bytes()
    flags = int.from_bytes(data[4:8], "little")
    if data[:4] != importlib.util.MAGIC_NUMBER:
        print(f"other Python's bytecode: {pyc.name}")
    if flags != 0b01:
        print(f"not unchecked-hash (flags {flags}): {pyc.name}")
    if data[8:16] != importlib.util.source_hash(source.read_bytes()):
        print(f"not built from the shipped source: {pyc.name}")
    expected = f"{runtime_root}/{source.relative_to(root).as_posix()}"
    if marshal.loads(data[16:]).co_filename != expected:
        print(f"names {marshal.loads(data[16:]).co_filename}, not {expected}")
stray = [p for p in root.rglob("*.pyc") if ".cpython-{}{}.".format(*sys.version_info[:2]) not in p.name]
for p in stray:
    print(f"bytecode of another Python: {p.relative_to(root)}")
print(f"checked {len(sources)}")
"""


def _asset_folders(out: Path) -> dict[str, Path]:
    """Asset folder of the function code and of the domain layer, named by the template's S3 keys."""
    template: dict[str, Any] = json.loads(next(out.glob("*.template.json")).read_text())
    folders = {}
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties") or {}
        key = (properties.get("Code") or properties.get("Content") or {}).get("S3Key")
        if not isinstance(key, str) or not key.endswith(".zip"):
            continue
        folder = out / f"asset.{key.removesuffix('.zip')}"
        if str(properties.get("Handler", "")).startswith("handlers."):
            folders["functions"] = folder
        elif name.startswith("FunctionsDomainLayer"):
            folders["layer"] = folder
    return folders


@pytest.mark.parametrize(("asset", "runtime_root"), [("functions", "/var/task"), ("layer", "/opt")])
def test_every_module_of_the_asset_ships_bytecode_lambdas_python_loads_unchecked(
    dev: Any, dev_out: Path, asset: str, runtime_root: str
) -> None:
    folder = _asset_folders(dev_out)[asset]
    done = subprocess.run(
        [runtime_python(), "-c", CHECK, str(folder), runtime_root], capture_output=True, text=True, check=True
    )
    *problems, summary = done.stdout.strip().splitlines()
    assert problems == []
    assert int(summary.split()[1]) > 10  # the modules were found


def test_the_assets_are_compiled_by_a_python_of_the_functions_runtime(dev: Any) -> None:
    runtimes = {r["Properties"]["Runtime"] for r in dev.find_resources("AWS::Lambda::Function").values()}
    runtimes.discard(None)
    version = "python{}.{}".format(*RUNTIME_VERSION)
    assert version in runtimes
    assert {r for r in runtimes if r.startswith("python")} == {version}
    done = subprocess.run([runtime_python(), "-V"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("Python {}.{}.".format(*RUNTIME_VERSION))


def _without_path_pythons(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str) -> None:
    """A machine where only the find-or-install script can give a Python 3.13 (no PATH, no pyenv)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    finder = tmp_path / "python313"
    finder.write_text(script)
    monkeypatch.delenv("DOCUSERVE_RUNTIME_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(bytecode, "FIND_OR_INSTALL", finder)
    runtime_python.cache_clear()


def test_without_python313_on_the_path_or_pyenv_the_ci_script_provides_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = runtime_python()  # this machine's, found the ordinary way
    _without_path_pythons(monkeypatch, tmp_path, f"echo '==> installing' >&2\necho {real}\n")
    try:
        assert runtime_python() == real
    finally:
        runtime_python.cache_clear()


def test_synth_names_the_ways_to_get_python313_when_even_the_ci_script_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_path_pythons(monkeypatch, tmp_path, "echo 'no Python 3.13 here' >&2\nexit 1\n")
    try:
        with pytest.raises(bytecode.RuntimePythonMissing, match=r"DOCUSERVE_RUNTIME_PYTHON.*python313"):
            runtime_python()
    finally:
        runtime_python.cache_clear()
