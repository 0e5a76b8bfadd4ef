"""A bundle over the local stack: share three documents, download one, then all of them as a ZIP
(202 while the archive job runs on the upload-jobs queue, then 200), unzip and compare (issue 17)."""

from __future__ import annotations

import base64
import hashlib
import io
import time
import zipfile

import pytest
import requests

from tests.e2e.client import LocalStack, available_document

pytestmark = pytest.mark.e2e

FILES = {
    "Plan.pdf": b"%PDF-1.7 plan\n" + bytes(range(256)) * 30,
    "Budget.xlsx": b"PK budget " * 400,
    "Notes.txt": b"notes, notes\n" * 100,
}


def _sha(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def test_a_partner_downloads_one_file_and_then_all_of_a_bundle_as_one_zip(local_stack: LocalStack) -> None:
    member = local_stack.member_token()
    workspace = local_stack.api("POST", "/workspaces", token=member, json={"name": "e2e bundle"}).json()["id"]
    docs = [available_document(local_stack, member, body, name, workspace_id=workspace) for name, body in FILES.items()]
    created = local_stack.api(
        "POST",
        f"/workspaces/{workspace}/shares",
        token=member,
        json={"document_ids": [d["id"] for d in docs], "max_downloads": 5, "label": "Pack"},
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    api = f"{local_stack.api_url}/public/shares/{token}"

    page = requests.get(api, timeout=10).json()
    assert [(f["name"], f["size"], f["sha256"]) for f in page["files"]] == [
        (n, len(b), _sha(b)) for n, b in FILES.items()
    ]

    one = requests.post(f"{api}/download", json={"document_id": docs[1]["id"]}, timeout=10)
    assert one.status_code == 200, one.text
    assert requests.get(one.json()["url"], timeout=10).content == FILES["Budget.xlsx"]

    deadline = time.monotonic() + 60
    answer = requests.post(f"{api}/download", json={"archive": True}, timeout=10)
    assert answer.status_code == 202, answer.text
    while answer.status_code == 202 and time.monotonic() < deadline:
        assert answer.json()["status"] == "preparing"
        time.sleep(0.5)
        answer = requests.post(f"{api}/download", json={"archive": True}, timeout=10)
    assert answer.status_code == 200, f"{answer.text}\n{local_stack.log()[-3000:]}"
    assert answer.json()["downloads_remaining"] == 3  # the file and the archive; never a 202
    fetched = requests.get(answer.json()["url"], timeout=10)
    assert fetched.status_code == 200
    with zipfile.ZipFile(io.BytesIO(fetched.content)) as zipped:
        assert zipped.testzip() is None
        assert {i.filename: zipped.read(i) for i in zipped.infolist()} == FILES
