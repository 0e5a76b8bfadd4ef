"""Resume state of a multipart upload: one JSON file per upload, rewritten after every part.

A file records which local file (path, size, SHA-256) goes to which upload (``upload_id``,
``document_id``, ``part_size``) and every part that landed with its ETag and SHA-256. After an
interruption the next ``docuserve upload`` of the same file to the same place finds it, asks the
API which parts S3 holds (``GET /uploads/{id}``), and sends only the others. Writes are atomic
(temp file + rename), so a kill at any moment leaves the previous or the next state, never half.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class UploadState:
    """One multipart upload in progress."""

    web_origin: str
    workspace_id: str
    folder: str
    name: str
    local_path: str
    size: int
    sha256: str
    upload_id: str
    document_id: str
    part_size: int
    parts: dict[int, dict[str, str]] = field(default_factory=dict)  # part_number -> {etag, sha256}
    completed: bool = field(default=False, compare=False)  # found completed on resume (never saved)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["completed"]
        data["parts"] = {str(n): part for n, part in sorted(self.parts.items())}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadState:
        fields = dict(data)
        fields["parts"] = {int(n): dict(part) for n, part in dict(data.get("parts", {})).items()}
        return cls(**fields)


def state_key(web_origin: str, workspace_id: str, folder: str, name: str, local_path: str) -> str:
    """The file name of the state of one local file's upload to one place."""
    raw = json.dumps([web_origin, workspace_id, folder, name, os.path.abspath(local_path)])
    return hashlib.sha256(raw.encode()).hexdigest()[:32] + ".json"


class StateStore:
    """Resume states under ``directory`` (created 0700 on first write)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def path(self, key: str) -> Path:
        return self.directory / key

    def load(self, key: str) -> UploadState | None:
        try:
            return UploadState.from_json(json.loads(self.path(key).read_text()))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def save(self, key: str, state: UploadState) -> None:
        """Write ``state`` atomically (thread-safe: parts finish on several threads)."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            target = self.path(key)
            tmp = target.with_name(f"{target.name}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(state.to_json()))
            os.replace(tmp, target)

    def record_part(self, key: str, state: UploadState, number: int, etag: str, sha256: str) -> None:
        with self._lock:
            state.parts[number] = {"etag": etag, "sha256": sha256}
        self.save(key, state)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
