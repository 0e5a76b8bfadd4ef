"""Lambda asset sizes from ``cdk.out`` (``make synth``): the function code and the domain layer.

The template names each function's and layer's asset; the size is that of the zip CDK would upload
(compressed, as Lambda counts it) and of the unpacked folder.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return buffer.tell()


def measure(cdk_out: Path | None = None) -> dict[str, Any]:
    out = cdk_out or ROOT / "cdk.out" / "dev"
    templates = sorted(out.glob("*.template.json"))
    if not templates:
        return {"available": False, "reason": f"no synthesized template under {out} (run `make synth`)"}
    assets: dict[str, dict[str, Any]] = {}
    for template_path in templates:
        template = json.loads(template_path.read_text())
        for resource in template.get("Resources", {}).values():
            kind = resource.get("Type")
            if kind not in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion"):
                continue
            path = (resource.get("Metadata") or {}).get("aws:asset:path")
            if not path:
                continue
            folder = out / path
            if not folder.is_dir() or path in assets:
                continue
            assets[path] = {
                "asset": path,
                "kind": "layer" if kind.endswith("LayerVersion") else "function",
                "used_by": [],
                "files": sum(1 for p in folder.rglob("*") if p.is_file()),
                "unpacked_kib": round(_folder_size(folder) / 1024, 1),
                "zipped_kib": round(_zipped_size(folder) / 1024, 1),
            }
        for logical_id, resource in template.get("Resources", {}).items():
            path = (resource.get("Metadata") or {}).get("aws:asset:path")
            if path in assets:
                assets[path]["used_by"].append(logical_id)
    return {"available": True, "cdk_out": str(out.relative_to(ROOT)), "assets": list(assets.values())}
