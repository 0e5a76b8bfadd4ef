"""The pure parts of the ``docuserve`` CLI: resume state, exit codes, config discovery, places,
folder plans, the saved session and manifest verification (no sockets)."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from docuserve_cli import errors, session
from docuserve_cli.config import Deployment, config_dir, normalise_origin
from docuserve_cli.errors import CliError, api_error, exit_code_for_status
from docuserve_cli.main import split_place
from docuserve_cli.state import StateStore, UploadState, state_key
from docuserve_cli.upload import part_range, plan
from docuserve_cli.verify import token_of, verify

CONFIG = {
    "api_url": "https://api.example.com/prod/",
    "region": "eu-west-1",
    "user_pool_id": "eu-west-1_x",
    "user_pool_client_id": "client",
}


def _state(**changes: Any) -> UploadState:
    fields: dict[str, Any] = {
        "web_origin": "https://docs.example.com",
        "workspace_id": "ws",
        "folder": "/x",
        "name": "big.bin",
        "local_path": "/tmp/big.bin",
        "size": 40,
        "sha256": "c2hh",
        "upload_id": "up",
        "document_id": "doc",
        "part_size": 16,
    }
    return UploadState(**(fields | changes))


# -- resume state --------------------------------------------------------------------------------


def test_a_state_file_round_trips_with_its_landed_parts(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "uploads")
    state = _state()
    store.save("k.json", state)
    store.record_part("k.json", state, 2, '"etag-2"', "c2hh")
    store.record_part("k.json", state, 1, '"etag-1"', "c2gx")

    loaded = store.load("k.json")
    assert loaded == state
    assert loaded is not None
    assert loaded.parts == {1: {"etag": '"etag-1"', "sha256": "c2gx"}, 2: {"etag": '"etag-2"', "sha256": "c2hh"}}
    assert list(json.loads((tmp_path / "uploads" / "k.json").read_text())["parts"]) == ["1", "2"]
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == ["k.json"]  # no temp file left


def test_a_missing_or_corrupt_state_file_means_no_resume(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    assert store.load("absent.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert store.load("bad.json") is None
    store.delete("absent.json")  # deleting what is not there is fine


def test_the_state_key_depends_on_destination_and_local_file() -> None:
    base = state_key("https://o", "ws", "/x", "a.bin", "/tmp/a.bin")
    assert base == state_key("https://o", "ws", "/x", "a.bin", "/tmp/a.bin")
    assert base != state_key("https://o", "ws", "/y", "a.bin", "/tmp/a.bin")
    assert base != state_key("https://o", "other", "/x", "a.bin", "/tmp/a.bin")
    assert base != state_key("https://o", "ws", "/x", "a.bin", "/elsewhere/a.bin")


def test_parts_cover_the_file_and_the_last_one_is_short() -> None:
    assert part_range(40, 16, 1) == (0, 16)
    assert part_range(40, 16, 3) == (32, 8)


# -- exit codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, errors.AUTH),
        (403, errors.NOT_FOUND),
        (404, errors.NOT_FOUND),
        (410, errors.NOT_FOUND),
        (409, errors.CONFLICT),
        (413, errors.CONFLICT),
        (422, errors.CONFLICT),
        (429, errors.CONFLICT),
        (500, errors.NETWORK),
        (503, errors.NETWORK),
    ],
)
def test_each_http_status_has_its_exit_code(status: int, code: int) -> None:
    assert exit_code_for_status(status) == code


def test_exit_codes_are_distinct() -> None:
    codes = [errors.OK, errors.UNEXPECTED, errors.USAGE, errors.AUTH, errors.NOT_FOUND]
    codes += [errors.CONFLICT, errors.NETWORK, errors.VERIFY_FAILED]
    assert sorted(codes) == list(range(8))


def test_an_api_error_names_its_code_and_fields_in_one_line() -> None:
    error = api_error(422, {"code": "validation_error", "message": "bad", "fields": {"max_downloads": "too small"}})
    assert error.exit_code == errors.CONFLICT
    assert error.message == "The API refused the request (422 validation_error): bad [max_downloads: too small]"
    assert "\n" not in error.message


def test_a_401_tells_you_to_sign_in_again() -> None:
    error = api_error(401, {"message": "Unauthorized"})
    assert error.exit_code == errors.AUTH
    assert "docuserve login" in error.message


# -- config discovery ----------------------------------------------------------------------------


def test_config_json_names_the_api_and_the_pool() -> None:
    deployment = Deployment.from_config("https://docs.example.com", CONFIG)
    assert deployment.api_url == "https://api.example.com/prod"
    assert (deployment.region, deployment.user_pool_id, deployment.client_id) == ("eu-west-1", "eu-west-1_x", "client")
    assert deployment.cognito_endpoint is None
    local = Deployment.from_config("http://localhost:8000", CONFIG | {"cognito_endpoint": "http://127.0.0.1:5000"})
    assert local.cognito_endpoint == "http://127.0.0.1:5000"


def test_a_config_without_the_api_is_a_usage_error() -> None:
    with pytest.raises(CliError) as raised:
        Deployment.from_config("https://example.com", {"region": "x"})
    assert raised.value.exit_code == errors.USAGE


def test_the_web_origin_needs_a_scheme_and_loses_its_slash() -> None:
    assert normalise_origin("https://docs.example.com/") == "https://docs.example.com"
    with pytest.raises(CliError):
        normalise_origin("docs.example.com")


def test_the_config_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_dir() == tmp_path / "docuserve"


# -- places and plans ----------------------------------------------------------------------------


def test_places_split_into_workspace_and_normalised_path() -> None:
    assert split_place("WS") == ("WS", "/")
    assert split_place("WS:/a/b/") == ("WS", "/a/b")
    assert split_place("My space:a//b") == ("My space", "/a/b")
    with pytest.raises(CliError):
        split_place(":/a")


def test_a_folder_keeps_its_tree_under_the_target(tmp_path: Path) -> None:
    (tmp_path / "site" / "a" / "b").mkdir(parents=True)
    (tmp_path / "site" / "top.txt").write_text("t")
    (tmp_path / "site" / "a" / "b" / "deep.txt").write_text("d")
    (tmp_path / "single.txt").write_text("s")

    planned = plan([tmp_path / "site", tmp_path / "single.txt"], "/x")
    assert [(f.folder, f.name) for f in planned] == [
        ("/x/site", "top.txt"),
        ("/x/site/a/b", "deep.txt"),
        ("/x", "single.txt"),
    ]


# -- the saved session ---------------------------------------------------------------------------


def test_the_session_file_is_0600_and_keyed_by_origin(tmp_path: Path) -> None:
    path = tmp_path / "docuserve" / "session.json"
    session.save_session("https://a", {"refresh_token": "r1"}, path)
    session.save_session("https://b", {"refresh_token": "r2"}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert session.load_session("https://a", path) == {"refresh_token": "r1"}
    session.forget_session("https://a", path)
    assert session.load_session("https://a", path) is None
    assert session.load_session("https://b", path) == {"refresh_token": "r2"}


def test_jwt_claims_are_read_without_verification() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": 123, "email": "a@example.com"}).encode()).rstrip(b"=")
    assert session.jwt_claims(f"h.{payload.decode()}.s") == {"exp": 123, "email": "a@example.com"}
    assert session.jwt_claims("garbage") == {}


# -- manifest verification -----------------------------------------------------------------------


def _signed(
    key: ec.EllipticCurvePrivateKey, files: dict[str, bytes], key_id: str = "k1", *, via_statement: bool = False
) -> dict[str, Any]:
    """A manifest answer as ``GET /public/shares/{token}/manifest`` gives it (file digests in hex)."""
    manifest = {
        "share_id": "s1",
        "files": [
            {"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest(), "version_id": "v1"}
            for n, b in files.items()
        ],
    }
    text = json.dumps(manifest, separators=(",", ":"), sort_keys=True)
    answer: dict[str, Any] = {"manifest": text, "key_id": key_id}
    message = text
    if via_statement:
        digest = hashlib.sha256(text.encode()).hexdigest()
        message = json.dumps(
            {"manifest_sha256": digest, "share_id": "s1", "type": "docuserve.manifest-digest.v1"},
            separators=(",", ":"),
            sort_keys=True,
        )
        answer["statement"] = message
    answer["signature"] = base64.b64encode(key.sign(message.encode(), ec.ECDSA(hashes.SHA256()))).decode()
    return answer


def _keys(key: ec.EllipticCurvePrivateKey, key_id: str = "k1") -> list[dict[str, Any]]:
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return [{"key_id": key_id, "pem": pem.decode()}]


@pytest.fixture
def delivered(tmp_path: Path) -> tuple[ec.EllipticCurvePrivateKey, dict[str, bytes], dict[str, Path]]:
    key = ec.generate_private_key(ec.SECP256R1())
    files = {"a.pdf": b"alpha", "b.txt": b"beta"}
    paths = {}
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
        paths[name] = tmp_path / name
    return key, files, paths


def test_a_signed_manifest_and_its_files_verify(delivered: Any) -> None:
    key, files, paths = delivered
    report = verify(_signed(key, files), _keys(key), paths)
    assert report.ok
    assert [f["ok"] for f in report.files] == [True, True]


def test_a_tampered_manifest_fails_its_signature(delivered: Any) -> None:
    key, files, paths = delivered
    signed = _signed(key, files)
    signed["manifest"] = signed["manifest"].replace('"s1"', '"s2"')
    report = verify(signed, _keys(key), paths)
    assert not report.signature_ok
    assert not report.ok


def test_a_file_swapped_after_signing_fails(delivered: Any) -> None:
    key, files, paths = delivered
    signed = _signed(key, files)
    paths["b.txt"].write_bytes(b"BETA")
    report = verify(signed, _keys(key), paths)
    assert report.signature_ok
    assert [(f["name"], f.get("problem")) for f in report.files if not f["ok"]] == [("b.txt", "sha256 differs")]


def test_an_unknown_key_id_or_another_key_fails(delivered: Any) -> None:
    key, files, paths = delivered
    with pytest.raises(CliError) as raised:
        verify(_signed(key, files, key_id="k9"), _keys(key), paths)
    assert raised.value.exit_code == errors.VERIFY_FAILED
    other = ec.generate_private_key(ec.SECP256R1())
    assert not verify(_signed(key, files), _keys(other), paths).signature_ok


def test_a_large_manifest_verifies_through_its_signed_statement(delivered: Any) -> None:
    key, files, paths = delivered
    signed = _signed(key, files, via_statement=True)
    assert verify(signed, _keys(key), paths).ok
    signed["manifest"] = signed["manifest"].replace('"s1"', '"s2"')  # no longer the digest the statement carries
    assert not verify(signed, _keys(key), paths).signature_ok


def test_share_links_give_their_token() -> None:
    assert token_of("https://docs.example.com/s/abc_DEF-1") == "abc_DEF-1"
    assert token_of("abc") == "abc"


# -- resuming: S3's held parts win over the state file --------------------------------------------


class _FakeApi:
    """Answers ``GET /uploads/{id}`` with a fixed status; records every call."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status
        self.calls: list[tuple[str, str]] = []
        self.deployment = Deployment.from_config("https://docs.example.com", CONFIG)

    def get(self, path: str, **_: Any) -> Any:
        self.calls.append(("GET", path))
        return self.status

    def call(self, method: str, path: str, **_: Any) -> Any:
        self.calls.append((method, path))
        return None


def _uploader(api: _FakeApi, tmp_path: Path) -> Any:
    from rich.progress import Progress

    from docuserve_cli.upload import Uploader

    return Uploader(api, "ws", StateStore(tmp_path), Progress(disable=True))  # type: ignore[arg-type]


def _local(tmp_path: Path) -> Any:
    from docuserve_cli.upload import LocalFile

    return LocalFile(tmp_path / "big.bin", "/x", "big.bin", size=40, sha256="c2hh")


def test_a_resume_keeps_only_the_parts_s3_holds_with_the_same_checksum(tmp_path: Path) -> None:
    held = [
        {"part_number": 1, "etag": '"s3-1"', "sha256": "c2gx"},
        {"part_number": 2, "etag": '"s3-2"', "sha256": "other"},  # not this file's part 2
    ]
    api = _FakeApi({"status": "pending", "part_size": 16, "parts": held})
    store = StateStore(tmp_path)
    recorded = {n: {"etag": f'"{n}"', "sha256": sha} for n, sha in ((1, "c2gx"), (2, "c2g2"), (3, "c2g3"))}
    state = _state(parts=recorded)
    store.save("k.json", state)

    resumed = _uploader(api, tmp_path)._resumable("k.json", _local(tmp_path))
    assert resumed is not None
    assert resumed.parts == {1: {"etag": '"s3-1"', "sha256": "c2gx"}}  # 2 differs, 3 never reached S3


def test_a_changed_local_file_aborts_the_old_upload_and_starts_over(tmp_path: Path) -> None:
    api = _FakeApi({"status": "pending"})
    store = StateStore(tmp_path)
    store.save("k.json", _state(sha256="b2xk"))

    assert _uploader(api, tmp_path)._resumable("k.json", _local(tmp_path)) is None
    assert api.calls == [("DELETE", "/uploads/up")]
    assert store.load("k.json") is None


def test_an_upload_that_failed_or_expired_meanwhile_starts_over(tmp_path: Path) -> None:
    api = _FakeApi({"status": "failed", "reason": "expired"})
    store = StateStore(tmp_path)
    store.save("k.json", _state())

    assert _uploader(api, tmp_path)._resumable("k.json", _local(tmp_path)) is None
    assert store.load("k.json") is None


def test_an_upload_completed_before_the_interruption_is_not_sent_again(tmp_path: Path) -> None:
    api = _FakeApi({"status": "completing"})
    store = StateStore(tmp_path)
    store.save("k.json", _state(parts={1: {"etag": '"1"', "sha256": "c2gx"}}))

    resumed = _uploader(api, tmp_path)._resumable("k.json", _local(tmp_path))
    assert resumed is not None
    assert resumed.completed
    assert store.load("k.json") is None
    assert "completed" not in json.dumps(resumed.to_json())
