"""Signed delivery manifests through the routes, on moto: what a partner gets and what they can check.

Attacks: a tampered manifest, a wrong key id, a file swapped after signing, and a manifest of one
link presented on another. The offline check of the README (openssl, sha256sum) runs as written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from docuserve import clock
from docuserve.adapters import signer
from docuserve.custody import manifest as manifests
from docuserve.custody import signing
from tests.support.documents import User, create_document, create_workspace, make_user, ok, sha256_b64, upload
from tests.support.gateway import call

pytestmark = pytest.mark.usefixtures("aws")

FIRST = b"%PDF-1.7 the plan as delivered"
SECOND = b"%PDF-1.7 the plan, changed after signing"


@pytest.fixture
def alice(aws: Any) -> User:
    return make_user(aws, "alice@example.com")


def _document(aws: Any, owner: User, ws: str, data: bytes, name: str = "plan.pdf") -> str:
    created = create_document(owner, ws, data, name=name)
    upload(aws, created["upload"]["upload_id"], data)
    return str(created["document"]["id"])


def _share(owner: User, document_id: str, **terms: Any) -> dict[str, Any]:
    return dict(ok(call("POST", f"/documents/{document_id}/shares", claims=owner.claims, body=terms), 201))


def _signed(token: str) -> dict[str, Any]:
    return dict(ok(call("GET", f"/public/shares/{token}/manifest")))


def _keys() -> dict[str, str]:
    return {k["key_id"]: k["pem"] for k in ok(call("GET", "/public/keys"))["keys"]}


def _verifies(signed: dict[str, Any], key_id: str | None = None) -> bool:
    """The partner's check: the signature over the manifest (or its statement) by the named key."""
    pem = _keys().get(key_id or signed["key_id"])
    if pem is None:
        return False
    message = signed.get("statement") or signed["manifest"]
    return signing.verify(message.encode(), base64.b64decode(signed["signature"]), pem)


def test_a_share_has_a_signed_canonical_manifest_of_what_it_delivers(aws: Any, alice: User) -> None:
    ws = create_workspace(alice)
    doc = _document(aws, alice, ws, FIRST)
    link = _share(alice, doc)

    signed = _signed(link["token"])

    assert _verifies(signed)
    body = json.loads(signed["manifest"])
    document = ok(call("GET", f"/documents/{doc}", claims=alice.claims))
    assert body == {
        "share_id": link["id"],
        "issuer": {"name": "DocuServe", "web_origin": "http://localhost:8000"},
        "created_at": body["created_at"],
        "expires_at": link["expires_at"],
        "files": [
            {
                "name": "plan.pdf",
                "size": len(FIRST),
                "sha256": hashlib.sha256(FIRST).hexdigest(),  # hex, as sha256sum prints it
                "version_id": document["current_version"],
            }
        ],
    }
    # RFC 8785: sorted keys, no whitespace; what was signed is exactly this string.
    assert signed["manifest"] == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_reading_the_manifest_counts_no_download(aws: Any, alice: User) -> None:
    ws = create_workspace(alice)
    link = _share(alice, _document(aws, alice, ws, FIRST), max_downloads=1)
    _signed(link["token"])
    _signed(link["token"])
    assert ok(call("GET", f"/public/shares/{link['token']}"))["downloads_remaining"] == 1


def test_a_tampered_manifest_fails_verification(aws: Any, alice: User) -> None:
    ws = create_workspace(alice)
    signed = _signed(_share(alice, _document(aws, alice, ws, FIRST))["token"])
    forged = json.loads(signed["manifest"])
    forged["files"][0]["sha256"] = hashlib.sha256(b"something else").hexdigest()
    tampered = {**signed, "manifest": manifests.canonical(forged)}
    assert _verifies(signed)
    assert not _verifies(tampered)


def test_a_wrong_key_id_fails_verification(aws: Any, alice: User) -> None:
    ws = create_workspace(alice)
    signed = _signed(_share(alice, _document(aws, alice, ws, FIRST))["token"])
    assert not _verifies(signed, key_id="not-a-listed-key")
    # A real key that did not sign it fails too.
    other = boto3.client("kms", region_name=aws.region).create_key(KeySpec=signing.KEY_SPEC, KeyUsage=signing.KEY_USAGE)
    pem = signing.pem_from_der(signer.public_key_der(other["KeyMetadata"]["KeyId"]))
    assert not signing.verify(signed["manifest"].encode(), base64.b64decode(signed["signature"]), pem)


def test_a_file_swapped_after_signing_is_resigned_and_the_old_manifest_no_longer_matches(aws: Any, alice: User) -> None:
    ws = create_workspace(alice)
    doc = _document(aws, alice, ws, FIRST)
    link = _share(alice, doc)
    before = _signed(link["token"])

    body = {"size": len(SECOND), "sha256": sha256_b64(SECOND)}
    second = ok(call("POST", f"/documents/{doc}/versions", claims=alice.claims, body=body), 201)
    upload(aws, second["upload_id"], SECOND)
    after = _signed(link["token"])

    assert _verifies(before)
    assert _verifies(after)
    assert after["manifest"] != before["manifest"]
    (old,) = json.loads(before["manifest"])["files"]
    (new,) = json.loads(after["manifest"])["files"]
    assert new["sha256"] == hashlib.sha256(SECOND).hexdigest() != old["sha256"]
    assert new["version_id"] != old["version_id"]
    # What the link serves now is the new file: its bytes do not match the old manifest's hash.
    served = ok(call("GET", f"/public/shares/{link['token']}"))
    assert served["size"] == len(SECOND) == new["size"] != old["size"]


def test_a_manifest_presented_on_another_link_names_the_other_share(aws: Any, alice: User) -> None:
    ws = create_workspace(alice)
    doc = _document(aws, alice, ws, FIRST)
    one, other = _share(alice, doc), _share(alice, doc)
    signed_one, signed_other = _signed(one["token"]), _signed(other["token"])
    # Both are genuine signatures of the same file, but each names its own share: a partner who
    # opened ``other`` and is shown ``one``'s manifest sees a share id that is not their link's.
    assert _verifies(signed_one)
    assert _verifies(signed_other)
    assert json.loads(signed_one["manifest"])["share_id"] != json.loads(signed_other["manifest"])["share_id"]
    assert json.loads(signed_one["manifest"])["files"] == json.loads(signed_other["manifest"])["files"]
    # Splicing one's signature onto the other's manifest does not verify.
    assert not _verifies({**signed_other, "signature": signed_one["signature"]})


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown", "malformed"])
def test_the_manifest_route_answers_as_the_share_page_for_an_unusable_token(
    aws: Any, alice: User, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = create_workspace(alice)
    link = _share(alice, _document(aws, alice, ws, FIRST), expires_in_days=1)
    token = link["token"]
    if how == "revoked":
        ok(call("DELETE", f"/shares/{link['id']}", claims=alice.claims), 204)
    elif how == "expired":
        moment = clock.now() + timedelta(days=2)
        monkeypatch.setattr(clock, "now", lambda: moment)
    elif how == "unknown":
        token = "A" * 43
    else:
        token = "short"
    page = call("GET", f"/public/shares/{token}")
    signed = call("GET", f"/public/shares/{token}/manifest")
    assert page.status in (404, 410)
    assert (signed.status, signed.json()) == (page.status, page.json())


def test_a_bundle_manifest_lists_its_files_and_follows_a_trashed_one(aws: Any, alice: User) -> None:
    ws = create_workspace(alice)
    docs = [_document(aws, alice, ws, FIRST, "a.pdf"), _document(aws, alice, ws, SECOND, "b.pdf")]
    body = {"document_ids": docs}
    bundle = ok(call("POST", f"/workspaces/{ws}/shares", claims=alice.claims, body=body), 201)
    signed = _signed(bundle["token"])
    assert _verifies(signed)
    assert [f["name"] for f in json.loads(signed["manifest"])["files"]] == ["a.pdf", "b.pdf"]

    ok(call("DELETE", f"/documents/{docs[1]}", claims=alice.claims), 204)
    after = _signed(bundle["token"])
    assert _verifies(after)
    assert [f["name"] for f in json.loads(after["manifest"])["files"]] == ["a.pdf"]


def test_a_manifest_over_4_kb_is_signed_through_a_statement_of_its_sha256(aws: Any, alice: User) -> None:
    ws = create_workspace(alice)
    docs = [_document(aws, alice, ws, FIRST + bytes([n]), f"{'long name ' * 8}{n}.pdf") for n in range(24)]
    bundle = ok(call("POST", f"/workspaces/{ws}/shares", claims=alice.claims, body={"document_ids": docs}), 201)
    signed = _signed(bundle["token"])

    assert len(signed["manifest"].encode()) > signing.MAX_RAW_MESSAGE_BYTES
    statement = json.loads(signed["statement"])
    assert statement == {
        "manifest_sha256": hashlib.sha256(signed["manifest"].encode()).hexdigest(),
        "share_id": json.loads(signed["manifest"])["share_id"],
        "type": manifests.STATEMENT_TYPE,
    }
    assert _verifies(signed)
    assert not signing.verify(
        signed["manifest"].encode(), base64.b64decode(signed["signature"]), _keys()[signed["key_id"]]
    )


@pytest.mark.skipif(not all(map(shutil.which, ("jq", "openssl", "sha256sum"))), reason="needs jq, openssl, sha256sum")
def test_the_readme_offline_check_passes_with_openssl_and_sha256sum(aws: Any, alice: User, tmp_path: Path) -> None:
    ws = create_workspace(alice)
    link = _share(alice, _document(aws, alice, ws, FIRST))
    # What the README's two curl commands fetch, from the real routes.
    (tmp_path / "signed.json").write_text(call("GET", f"/public/shares/{link['token']}/manifest").text)
    (tmp_path / "keys.json").write_text(call("GET", "/public/keys").text)
    (tmp_path / "plan.pdf").write_bytes(FIRST)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("### Verify a delivery offline", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    steps = [line for line in block.splitlines() if not line.startswith(("API=", 'curl -s "$API/public/shares'))]
    script = "\n".join(steps).replace('curl -s "$API/public/keys"', "cat keys.json")

    ran = subprocess.run(["bash", "-ec", script], cwd=tmp_path, capture_output=True, text=True, check=False)

    assert ran.returncode == 0, ran.stderr
    assert "Verified OK" in ran.stdout
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest == json.loads(json.loads((tmp_path / "signed.json").read_text())["manifest"])
    assert f"{manifest['files'][0]['sha256']}  plan.pdf" in ran.stdout

    # A trailing newline (echo instead of jq -j) breaks the signature: the bytes are what is signed.
    (tmp_path / "manifest.json").write_bytes((tmp_path / "manifest.json").read_bytes() + b"\n")
    check = ["openssl", "dgst", "-sha256", "-verify", "key.pem", "-signature", "sig.der", "manifest.json"]
    assert subprocess.run(check, cwd=tmp_path, capture_output=True, check=False).returncode == 1
