"""Third-party pure-Python packages the Powertools layer lacks, shipped as a layer of their own.

``zipstream-ng`` (bundle archives, ``docuserve.sharing.archive``) and ``rfc8785`` (canonical JSON of
signed delivery manifests, ``docuserve.custody.manifest``). No Docker and no
download at synth: the layer is a copy of the package installed in the synthesizing virtualenv
from ``pyproject.toml``'s exact pin, checked to be that version and to hold nothing but Python
source (a compiled extension would be built for this machine, not for Lambda's arm64), then
compiled to bytecode for the runtime like every other asset (``infra/bytecode.py``).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

from infra.bytecode import code_with_bytecode

# distribution -> (version, the top-level packages it installs)
VENDORED = {"zipstream-ng": ("1.9.3", ("zipstream",)), "rfc8785": ("0.1.4", ("rfc8785",))}
# zipstream.server is an HTTP server for the command line; the job never imports it.
LEFT_OUT = {"zipstream/server.py"}


class VendoredPackageProblem(RuntimeError):
    """The installed package is missing, of another version than the pin, or not pure Python."""


def vendor_tree() -> Path:
    """A folder ``python/<package>/...`` of every vendored package, made once per synth."""
    staging = Path(tempfile.mkdtemp(prefix="docuserve-vendor-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    target = staging / "python"
    for distribution, (version, packages) in VENDORED.items():
        try:
            installed = metadata.distribution(distribution)
        except metadata.PackageNotFoundError:
            missing = f"{distribution} is not installed: run `make` (pip install -e '.[dev]')"
            raise VendoredPackageProblem(missing) from None
        if installed.version != version:
            raise VendoredPackageProblem(f"{distribution} {installed.version} is installed; the pin is {version}")
        for file in installed.files or []:
            name = str(file)
            if not name.startswith(tuple(f"{p}/" for p in packages)) or name in LEFT_OUT:
                continue
            if not name.endswith(".py"):
                if name.endswith((".so", ".pyd", ".dylib")):
                    raise VendoredPackageProblem(f"{distribution} ships compiled code ({name}); it cannot be vendored")
                continue  # bytecode of this machine's Python and the like
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(str(file.locate())), destination)
    return staging


def vendor_code() -> lambda_.Code:
    """The layer's code asset: the vendored packages, with bytecode for Lambda's Python."""
    return code_with_bytecode(vendor_tree(), "/opt")
