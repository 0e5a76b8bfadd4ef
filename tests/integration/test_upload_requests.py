"""Upload requests (SPEC Phase 2, "Upload-request links"; issue 17), through the routes against moto.

Members create, list, read, edit and close requests; a partner holding the one-time ``/r/{token}``
link sees what is still allowed and uploads within the budgets, which hold under concurrency and
come back when an upload is cancelled, expires or fails; files land as documents of the request's
folder only after their scan; the admins' switch stops every request on its next call; the
partner can never list, read or download anything.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from docuserve import clock, keys
from docuserve.adapters.store import Store
from docuserve.settings import get_settings
from docuserve.sharing.tokens import token_hash
from tests.support.documents import (
    User,
    add_member,
    create_workspace,
    deliver,
    land,
    make_user,
    ok,
    sha256_b64,
)
from tests.support.gateway import FakeContext, Reply, call
from tests.support.links import fast_passwords  # noqa: F401  (fixture)
from tests.support.streams import audit_stream

pytestmark = pytest.mark.usefixtures("aws", "fast_passwords")


@pytest.fixture
def one_writer_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    # As tests/integration/test_shares_attacks.py: moto does not apply one request atomically
    # across threads, DynamoDB does; one lock around each request gives moto that.
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def serialised(self: Any) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", serialised)


class Team:
    def __init__(self, resources: Any) -> None:
        self.resources = resources
        self.owner = make_user(resources, "owner@example.com")
        self.editor = make_user(resources, "editor@example.com")
        self.viewer = make_user(resources, "viewer@example.com")
        self.stranger = make_user(resources, "stranger@example.com")
        self.admin = make_user(resources, "admin@example.com", admin=True)
        self.ws = create_workspace(self.owner)
        add_member(self.owner, self.ws, self.editor, "editor")
        add_member(self.owner, self.ws, self.viewer, "viewer")


@pytest.fixture
def team(aws: Any) -> Team:
    return Team(aws)


def _create(team: Team, user: User | None = None, **terms: Any) -> dict[str, Any]:
    body = {"folder": "/inbox", "max_files": 3, "max_bytes": 1000, "message": "Your tax forms, please"} | terms
    created: dict[str, Any] = ok(
        call("POST", f"/workspaces/{team.ws}/requests", claims=(user or team.editor).claims, body=body), 201
    )
    return created


def _file(data: bytes, name: str = "form.pdf", **extra: Any) -> dict[str, Any]:
    return {"name": name, "content_type": "application/pdf", "size": len(data), "sha256": sha256_b64(data)} | extra


def _start(token: str, data: bytes, name: str = "form.pdf", **extra: Any) -> Reply:
    return call("POST", f"/public/requests/{token}/uploads", body=_file(data, name, **extra))


def _request(team: Team, request_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ok(call("GET", f"/requests/{request_id}", claims=team.editor.claims))
    return found


def _folder(team: Team, folder: str = "/inbox") -> list[dict[str, Any]]:
    reply = ok(call("GET", f"/workspaces/{team.ws}/documents", claims=team.owner.claims, query={"folder": folder}))
    items: list[dict[str, Any]] = reply["items"]
    return items


# --- members ---


def test_an_editor_creates_a_request_and_sees_its_token_once(team: Team) -> None:
    created = _create(team, label="Q4", allowed_types=["application/pdf", "IMAGE/*"], max_file_size=600)
    assert created["url"] == f"http://localhost:8000/r/{created['token']}"
    assert len(created["token"]) == 43
    assert created["state"] == "open"
    assert created["allowed_types"] == ["application/pdf", "image/*"]
    assert (created["files_remaining"], created["bytes_remaining"]) == (3, 1000)
    again = _request(team, created["id"])
    assert "token" not in again
    assert "url" not in again
    assert created["token"] not in str(again)
    item = Store().get(keys.upload_request(token_hash(created["token"])))
    assert item is not None
    assert created["token"] not in str(item)
    listed = ok(call("GET", f"/workspaces/{team.ws}/requests", claims=team.owner.claims))
    assert [r["id"] for r in listed["items"]] == [created["id"]]


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"max_files": 0}, "max_files"),
        ({"max_files": 1001}, "max_files"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_files": "3"}, "max_files"),
        ({"allowed_types": ["not a type"]}, "allowed_types.0"),
        ({"expires_in_days": 91}, "expires_in_days"),
        ({"password": "short"}, "password"),
        ({"folder": "/a\x00b"}, "folder"),
    ],
)
def test_bad_terms_are_422_naming_the_field(team: Team, terms: dict[str, Any], field: str) -> None:
    body = {"folder": "/inbox", "max_files": 3, "max_bytes": 1000} | terms
    reply = call("POST", f"/workspaces/{team.ws}/requests", claims=team.editor.claims, body=body)
    assert reply.status == 422, reply.text
    assert any(field in name for name in reply.json().get("fields", {})), reply.text


def test_a_viewer_cannot_ask_and_a_stranger_does_not_see_the_workspace(team: Team) -> None:
    body = {"folder": "/", "max_files": 1, "max_bytes": 10}
    assert call("POST", f"/workspaces/{team.ws}/requests", claims=team.viewer.claims, body=body).status == 403
    assert call("POST", f"/workspaces/{team.ws}/requests", claims=team.stranger.claims, body=body).status == 404
    created = _create(team)
    assert call("GET", f"/requests/{created['id']}", claims=team.viewer.claims).status == 403
    assert call("GET", f"/requests/{created['id']}", claims=team.stranger.claims).status == 404
    assert call("DELETE", f"/requests/{created['id']}", claims=team.stranger.claims).status == 404


def test_edit_changes_terms_and_never_below_what_is_reserved(team: Team) -> None:
    created = _create(team)
    ok(_start(created["token"], b"a" * 400), 201)
    edited = ok(call("PATCH", f"/requests/{created['id']}", claims=team.editor.claims, body={"max_files": 2}))
    assert edited["max_files"] == 2
    assert edited["files_remaining"] == 1
    reply = call("PATCH", f"/requests/{created['id']}", claims=team.editor.claims, body={"max_bytes": 100})
    assert reply.status == 409, reply.text
    cleared = ok(call("PATCH", f"/requests/{created['id']}", claims=team.editor.claims, body={"message": None}))
    assert cleared["message"] is None


def test_closing_stops_the_request_and_keeps_it(team: Team) -> None:
    created = _create(team)
    assert call("DELETE", f"/requests/{created['id']}", claims=team.editor.claims).status == 204
    assert call("DELETE", f"/requests/{created['id']}", claims=team.editor.claims).status == 204  # idempotent
    assert _request(team, created["id"])["state"] == "closed"
    page = call("GET", f"/public/requests/{created['token']}")
    assert (page.status, page.json()["code"]) == (410, "request_closed")
    refused = _start(created["token"], b"x")
    assert (refused.status, refused.json()["code"]) == (410, "request_closed")
    assert call("PATCH", f"/requests/{created['id']}", claims=team.editor.claims, body={"label": "x"}).status == 409


# --- the partner ---


def test_the_partner_page_shows_what_is_still_allowed(team: Team) -> None:
    created = _create(team, allowed_types=["application/pdf"], max_file_size=500, password="correct horse")
    info = ok(call("GET", f"/public/requests/{created['token']}"))
    assert info == {
        "message": "Your tax forms, please",
        "expires_at": created["expires_at"],
        "files_remaining": 3,
        "bytes_remaining": 1000,
        "allowed_types": ["application/pdf"],
        "max_file_size": 500,
        "password_required": True,
        "recipients_required": False,
        "sender": "editor@example.com",
    }
    assert "folder" not in info
    assert "workspace_id" not in info


def test_unknown_and_malformed_tokens_are_404(team: Team) -> None:
    assert call("GET", "/public/requests/" + "A" * 43).status == 404
    assert call("GET", "/public/requests/short").status == 404
    share_like = _create(team)["token"][:-1] + "x"
    assert call("GET", f"/public/requests/{share_like}").status == 404


def test_a_partner_file_lands_in_the_folder_only_after_its_scan(team: Team) -> None:
    created = _create(team)
    data = b"%PDF-1.7 the form"
    started = ok(_start(created["token"], data, uploader_name="Pat Partner", uploader_email="Pat@Example.org"), 201)
    assert started["method"] == "PUT"
    assert started["url"]
    assert (started["files_remaining"], started["bytes_remaining"]) == (2, 1000 - len(data))
    assert "document_id" not in started
    status = ok(call("GET", f"/public/requests/{created['token']}/uploads/{started['upload_id']}"))
    assert status["status"] == "pending"
    assert status["name"] == "form.pdf"
    landed = land(team.resources, started["upload_id"], data)
    deliver(team.resources, landed, scan=False)
    (doc,) = _folder(team)
    assert doc["status"] == "pending"
    assert doc["scan_status"] == "pending"
    scanning = ok(call("GET", f"/public/requests/{created['token']}/uploads/{started['upload_id']}"))
    assert scanning["status"] == "scanning"
    deliver(team.resources, landed)  # now with the stand-in scanner's clean result
    (doc,) = _folder(team)
    assert doc["status"] == "available"
    assert doc["scan_status"] == "clean"
    assert doc["request_id"] == created["id"]
    assert doc["uploaded_by_partner"] == {"name": "Pat Partner", "email": "pat@example.org"}
    done = ok(call("GET", f"/public/requests/{created['token']}/uploads/{started['upload_id']}"))
    assert done["status"] == "completed"
    download = call("GET", f"/documents/{doc['id']}/download", claims=team.owner.claims)
    assert download.status == 200, download.text


def test_an_infected_partner_file_is_never_available(team: Team) -> None:
    created = _create(team)
    eicar = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    started = ok(_start(created["token"], eicar, name="eicar.pdf"), 201)
    deliver(team.resources, land(team.resources, started["upload_id"], eicar))
    (doc,) = _folder(team)
    assert doc["status"] != "available"
    assert doc["scan_status"] == "infected"
    status = ok(call("GET", f"/public/requests/{created['token']}/uploads/{started['upload_id']}"))
    assert status["status"] == "failed"


@pytest.mark.parametrize(
    ("terms", "file", "status", "code", "field"),
    [
        ({"max_file_size": 10}, {"size": 11}, 413, "too_large", "size"),
        ({"allowed_types": ["image/*"]}, {}, 422, "validation_error", "content_type"),
        ({"max_bytes": 10}, {"size": 11}, 413, "request_bytes_exceeded", "size"),
        ({}, {"name": "a/b.pdf"}, 422, "validation_error", "name"),
        ({}, {"content_type": "not a type"}, 422, "validation_error", "content_type"),
        ({}, {"size": -1}, 422, "validation_error", "size"),
    ],
)
def test_each_per_file_rule_refuses_naming_the_field(
    team: Team, terms: dict[str, Any], file: dict[str, Any], status: int, code: str, field: str
) -> None:
    created = _create(team, **terms)
    body = _file(b"x" * 11) | file
    reply = call("POST", f"/public/requests/{created['token']}/uploads", body=body)
    assert (reply.status, reply.json()["code"]) == (status, code), reply.text
    assert field in reply.json().get("fields", {}), reply.text
    assert _request(team, created["id"])["files_used"] == 0


def test_the_files_budget_is_never_passed(team: Team) -> None:
    created = _create(team, max_files=2)
    ok(_start(created["token"], b"one"), 201)
    ok(_start(created["token"], b"two"), 201)
    full = _start(created["token"], b"three")
    assert (full.status, full.json()["code"]) == (409, "request_full")
    assert ok(call("GET", f"/public/requests/{created['token']}"))["files_remaining"] == 0


@pytest.mark.usefixtures("one_writer_per_item")
def test_twelve_concurrent_uploads_never_pass_the_budgets(team: Team) -> None:
    created = _create(team, max_files=5, max_bytes=10_000)

    def one(n: int) -> int:
        return _start(created["token"], bytes([65 + n]) * 100, name=f"f{n}.pdf").status

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = Counter(pool.map(one, range(12)))
    assert statuses == {201: 5, 409: 7}
    found = _request(team, created["id"])
    assert (found["files_used"], found["bytes_used"]) == (5, 500)
    assert len(_folder(team)) == 5


@pytest.mark.usefixtures("one_writer_per_item")
def test_concurrent_uploads_never_pass_the_bytes_budget(team: Team) -> None:
    created = _create(team, max_files=20, max_bytes=1000)

    def one(n: int) -> int:
        return _start(created["token"], bytes([65 + n]) * 300, name=f"f{n}.pdf").status

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = Counter(pool.map(one, range(10)))
    assert statuses == {201: 3, 413: 7}
    assert _request(team, created["id"])["bytes_used"] == 900


def test_a_cancelled_upload_gives_its_budget_back(team: Team) -> None:
    created = _create(team, max_files=1)
    started = ok(_start(created["token"], b"abc"), 201)
    assert _start(created["token"], b"def").status == 409
    assert call("DELETE", f"/public/requests/{created['token']}/uploads/{started['upload_id']}").status == 204
    found = _request(team, created["id"])
    assert (found["files_used"], found["bytes_used"]) == (0, 0)
    ok(_start(created["token"], b"def"), 201)


def test_an_expired_upload_gives_its_budget_back(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    created = _create(team, max_files=1)
    started = ok(_start(created["token"], b"abc"), 201)
    later = clock.now() + timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    status = ok(call("GET", f"/public/requests/{created['token']}/uploads/{started['upload_id']}"))
    assert (status["status"], status["failure_reason"]) == ("failed", "expired")
    assert _request(team, created["id"])["files_used"] == 0


def test_a_file_failing_verification_gives_its_budget_back(team: Team) -> None:
    created = _create(team, max_files=1)
    started = ok(_start(created["token"], b"declared"), 201)
    deliver(team.resources, land(team.resources, started["upload_id"], b"other bytes"))
    status = ok(call("GET", f"/public/requests/{created['token']}/uploads/{started['upload_id']}"))
    assert status["status"] == "failed"
    assert _request(team, created["id"])["files_used"] == 0


def test_a_multipart_partner_upload_completes_through_the_public_routes(team: Team, monkeypatch: Any) -> None:
    import boto3

    from docuserve.adapters import objects
    from tests.support.documents import run_jobs

    monkeypatch.setenv("LIMIT_SINGLE_PUT_THRESHOLD", str(5 * 1024 * 1024))
    monkeypatch.setenv("LIMIT_PART_SIZE", str(5 * 1024 * 1024))
    get_settings.cache_clear()
    data = b"m" * (5 * 1024 * 1024 + 10)
    created = _create(team, max_bytes=len(data) * 2)
    started = ok(_start(created["token"], data, name="big.bin", content_type="application/octet-stream"), 201)
    assert started["method"] == "MULTIPART"
    assert started["part_count"] == 2
    base = f"/public/requests/{created['token']}/uploads/{started['upload_id']}"
    chunks = [data[: 5 * 1024 * 1024], data[5 * 1024 * 1024 :]]
    body = {"parts": [{"part_number": n + 1, "sha256": sha256_b64(c)} for n, c in enumerate(chunks)]}
    urls = ok(call("POST", f"{base}/parts", body=body))
    assert [p["part_number"] for p in urls["parts"]] == [1, 2]
    session = Store().get(keys.upload(started["upload_id"]))
    assert session is not None
    s3 = boto3.client("s3", region_name=team.resources.region)
    parts = []
    for n, chunk in enumerate(chunks, start=1):
        etag = s3.upload_part(
            Bucket=team.resources.bucket_name,
            Key=session["object_key"],
            UploadId=session["s3_upload_id"],
            PartNumber=n,
            Body=chunk,
        )["ETag"]
        parts.append({"part_number": n, "etag": etag, "sha256": sha256_b64(chunk)})
    done = call("POST", f"{base}/complete", body={"parts": parts})
    assert done.status == 202, done.text
    assert done.json()["status"] == "completing"
    assert run_jobs(team.resources)
    assert objects.inspect(session["object_key"], None) is not None
    get_settings.cache_clear()


# --- attacks ---


def test_another_requests_upload_or_a_members_upload_is_not_found(team: Team) -> None:
    first, second = _create(team), _create(team)
    started = ok(_start(first["token"], b"abc"), 201)
    for path in (f"/uploads/{started['upload_id']}",):
        assert call("GET", f"/public/requests/{second['token']}{path}").status == 404
    assert call("GET", f"/public/requests/{second['token']}/uploads/{started['upload_id']}").status == 404
    assert call("DELETE", f"/public/requests/{second['token']}/uploads/{started['upload_id']}").status == 404
    member = ok(call("POST", f"/workspaces/{team.ws}/documents", claims=team.editor.claims, body=_file(b"mine")), 201)
    member_upload = member["upload"]["upload_id"]
    assert call("GET", f"/public/requests/{first['token']}/uploads/{member_upload}").status == 404
    assert call("GET", f"/public/requests/{first['token']}/uploads/not-an-id").status == 404


def test_an_expired_request_refuses(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    created = _create(team, expires_in_days=1)
    later = clock.now() + timedelta(days=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    reply = _start(created["token"], b"abc")
    assert (reply.status, reply.json()["code"]) == (410, "request_expired")
    assert _request(team, created["id"])["state"] == "expired"


def test_wrong_passwords_lock_the_request_like_a_share_link(team: Team) -> None:
    created = _create(team, password="correct horse")
    missing = _start(created["token"], b"abc")
    assert (missing.status, missing.json()["code"]) == (403, "password_required")
    threshold = get_settings().limits.lockout_threshold
    codes = [_start(created["token"], b"abc", password="wrong guess").json()["code"] for _ in range(threshold)]
    assert codes == ["password_incorrect"] * (threshold - 1) + ["link_locked"]
    locked = _start(created["token"], b"abc", password="correct horse")
    assert locked.status == 429
    assert locked.headers.get("retry-after")
    assert _request(team, created["id"])["files_used"] == 0


def test_the_right_password_uploads(team: Team) -> None:
    created = _create(team, password="correct horse")
    ok(_start(created["token"], b"abc", password="correct horse"), 201)


def test_a_partner_never_lists_reads_or_downloads(team: Team) -> None:
    created = _create(team)
    token = created["token"]
    # No route lists uploads (API Gateway's answer for a route that does not exist is 403).
    assert call("GET", f"/public/requests/{token}/uploads").status in (403, 404, 405)
    assert call("GET", f"/public/shares/{token}").status == 404  # a request token is no share token
    assert call("POST", f"/public/shares/{token}/download", body={}).status == 404


def test_the_requester_losing_the_role_stops_the_request(team: Team) -> None:
    created = _create(team)
    ok(
        call(
            "PUT", f"/workspaces/{team.ws}/members/{team.editor.id}", claims=team.owner.claims, body={"role": "viewer"}
        )
    )
    reply = _start(created["token"], b"abc")
    assert (reply.status, reply.json()["code"]) == (410, "request_unavailable")


# --- admins ---


def test_the_switch_stops_every_request_on_its_next_call(team: Team) -> None:
    first, second = _create(team), _create(team)
    assert ok(call("GET", "/admin/settings", claims=team.admin.claims))["upload_requests"] is True
    assert call("PUT", "/admin/settings", claims=team.editor.claims, body={"upload_requests": False}).status == 403
    off = ok(call("PUT", "/admin/settings", claims=team.admin.claims, body={"upload_requests": False}))
    assert off["upload_requests"] is False
    for token in (first["token"], second["token"]):
        for reply in (call("GET", f"/public/requests/{token}"), _start(token, b"abc")):
            assert (reply.status, reply.json()["code"]) == (403, "upload_requests_disabled")
    ok(call("PUT", "/admin/settings", claims=team.admin.claims, body={"upload_requests": True}))
    ok(_start(first["token"], b"abc"), 201)


def test_admins_see_every_open_request_and_revoke_any(team: Team) -> None:
    first, second = _create(team), _create(team, user=team.owner)
    closed = _create(team)
    call("DELETE", f"/requests/{closed['id']}", claims=team.editor.claims)
    inventory = ok(call("GET", "/admin/requests", claims=team.admin.claims))
    assert {r["id"] for r in inventory["items"]} == {first["id"], second["id"]}
    assert call("GET", "/admin/requests", claims=team.owner.claims).status == 403
    assert call("DELETE", f"/requests/{first['id']}", claims=team.admin.claims).status == 204
    assert _request(team, first["id"])["state"] == "closed"
    inventory = ok(call("GET", "/admin/requests", claims=team.admin.claims, query={"limit": "1"}))
    assert [r["id"] for r in inventory["items"]] == [second["id"]]


def test_the_activity_lists_the_requests_events(team: Team) -> None:
    created = _create(team, max_files=1, password="correct horse")
    _start(created["token"], b"abc", password="wrong guess")
    ok(_start(created["token"], b"abc", password="correct horse", uploader_email="pat@example.org"), 201)
    _start(created["token"], b"def", password="correct horse")
    ok(call("PATCH", f"/requests/{created['id']}", claims=team.editor.claims, body={"label": "Q4"}))
    call("DELETE", f"/requests/{created['id']}", claims=team.editor.claims)
    audit_stream(get_settings().table_name).drain()
    activity = ok(call("GET", f"/requests/{created['id']}/activity", claims=team.editor.claims))
    actions = [e["action"] for e in activity["items"]]
    assert set(actions) == {
        "request.created",
        "request.password_failed",
        "request.upload_started",
        "request.upload_refused",
        "request.edited",
        "request.closed",
    }
    started = next(e for e in activity["items"] if e["action"] == "request.upload_started")
    assert started["request_id"] == created["id"]
    assert started["details"]["uploaded_by"] == {"email": "pat@example.org"}
    assert created["token"] not in str(activity)


# --- files arrived ---


def _land(team: Team, token: str, data: bytes, name: str, **extra: Any) -> None:
    started = ok(_start(token, data, name=name, **extra), 201)
    deliver(team.resources, land(team.resources, started["upload_id"], data))


def test_landed_files_mail_the_requester_at_most_hourly_listing_what_arrived(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.outbox import sent_to

    created = _create(team, label="Q4 forms")
    stream = audit_stream(get_settings().table_name)
    _land(team, created["token"], b"%PDF one", "one.pdf", uploader_name="Pat")
    stream.drain()
    (first,) = sent_to(team.editor.email)
    assert first.subject == "Files arrived through your upload request"
    assert "one.pdf" in first.text
    assert "Pat" in first.text
    assert created["token"] not in first.raw

    _land(team, created["token"], b"%PDF two", "two.pdf")
    stream.drain()
    assert len(sent_to(team.editor.email)) == 1  # within the hour: it waits

    later = clock.now() + timedelta(minutes=61)
    monkeypatch.setattr(clock, "now", lambda: later)
    _land(team, created["token"], b"%PDF three", "three.pdf")
    stream.drain()
    second = sent_to(team.editor.email)[-1]
    assert "two.pdf" in second.text
    assert "three.pdf" in second.text
    assert "one.pdf" not in second.text

    activity = ok(call("GET", f"/requests/{created['id']}/activity", claims=team.editor.claims, query={"limit": "200"}))
    landed = [e for e in activity["items"] if e["action"] == "request.upload_landed"]
    assert sorted(e["details"]["name"] for e in landed) == ["one.pdf", "three.pdf", "two.pdf"]
    stream.drain()  # a replay adds nothing
    again = ok(call("GET", f"/requests/{created['id']}/activity", claims=team.editor.claims, query={"limit": "200"}))
    assert len([e for e in again["items"] if e["action"] == "request.upload_landed"]) == 3


def test_a_requester_who_turned_the_mail_off_gets_none(team: Team) -> None:
    from tests.support.outbox import sent_to

    ok(call("PUT", "/me/notifications", claims=team.editor.claims, body={"files_arrived": False}))
    created = _create(team)
    _land(team, created["token"], b"%PDF one", "one.pdf")
    audit_stream(get_settings().table_name).drain()
    assert sent_to(team.editor.email) == []


def _sweep() -> dict[str, Any]:
    """The schedule's invocation of the audit-stream function (EventBridge's input, every 15 minutes)."""
    from handlers import audit_stream as function

    result: dict[str, Any] = function.handler({"task": "files_arrived_due"}, FakeContext())
    return result


def _advance(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    later = clock.now() + by
    monkeypatch.setattr(clock, "now", lambda: later)


def _marker(token: str) -> dict[str, Any] | None:
    return Store().get(keys.arrivals_due(keys.upload_request(token_hash(token))["pk"]))


def _burst(team: Team, token: str, *names: str, **extra: Any) -> None:
    """Land each file and let the stream deliver it, one after the other (a partner's burst)."""
    stream = audit_stream(get_settings().table_name)
    for name in names:
        _land(team, token, f"%PDF {name}".encode(), name, **extra)
        stream.drain()


def test_files_that_arrive_within_the_hour_are_mailed_when_the_hour_is_over(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.outbox import sent_to

    created = _create(team, label="Q4 forms")
    _burst(team, created["token"], "one.pdf", "two.pdf", "three.pdf", uploader_name="Pat")
    (first,) = sent_to(team.editor.email)
    assert "one.pdf" in first.text
    assert "two.pdf" not in first.text

    assert _sweep()["claimed"] == 0  # not due yet: the hour since the first mail is not over
    assert len(sent_to(team.editor.email)) == 1

    _advance(monkeypatch, timedelta(minutes=61))
    assert _sweep() == {"claimed": 1, "waiting": 0, "cleared": 0, "failed": 0}
    (_, second) = sent_to(team.editor.email)
    assert second.subject == "Files arrived through your upload request"
    assert "two.pdf" in second.text
    assert "three.pdf" in second.text
    assert "one.pdf" not in second.text
    assert "2 files" in second.text
    assert "sent by Pat" in second.text  # every file listed came from the same contact
    assert created["token"] not in second.raw

    assert _sweep() == {"claimed": 0, "waiting": 0, "cleared": 0, "failed": 0}  # nothing listed any more
    assert len(sent_to(team.editor.email)) == 2
    marker = _marker(created["token"])
    assert marker is not None
    assert "gsi4pk" not in marker


def test_a_swept_batch_from_several_partners_names_none_of_them(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.outbox import sent_to

    created = _create(team)
    _burst(team, created["token"], "one.pdf", uploader_name="Pat")
    _burst(team, created["token"], "two.pdf", uploader_name="Pat")
    _burst(team, created["token"], "three.pdf", uploader_name="Sam", uploader_email="sam@example.org")
    _advance(monkeypatch, timedelta(minutes=61))
    _sweep()
    second = sent_to(team.editor.email)[-1]
    assert "two.pdf" in second.text
    assert "three.pdf" in second.text
    assert "sent by" not in second.text
    assert "Pat" not in second.text
    assert "sam@example.org" not in second.text


def test_a_file_arriving_during_the_sweep_keeps_its_marker_for_the_next_hour(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docuserve.adapters import mail
    from tests.support.outbox import sent_to

    created = _create(team, max_files=5)
    _burst(team, created["token"], "one.pdf", "two.pdf")
    _advance(monkeypatch, timedelta(minutes=61))
    send, arrived_meanwhile = mail.send_quietly, []

    def send_then_a_file_lands(*args: Any, **kwargs: Any) -> Any:
        result = send(*args, **kwargs)
        if not arrived_meanwhile:  # between the sweep's claim and its clearing of the marker
            arrived_meanwhile.append(True)
            _burst(team, created["token"], "four.pdf")
        return result

    monkeypatch.setattr(mail, "send_quietly", send_then_a_file_lands)
    assert _sweep()["claimed"] == 1
    assert arrived_meanwhile
    assert "two.pdf" in sent_to(team.editor.email)[-1].text
    marker = _marker(created["token"])
    assert marker is not None
    assert marker.get("gsi4pk") == keys.ARRIVALS_DUE_PK  # the arrival's marker survived the sweep

    _advance(monkeypatch, timedelta(minutes=61))
    _sweep()
    third = sent_to(team.editor.email)[-1]
    assert "four.pdf" in third.text
    assert "two.pdf" not in third.text
    assert len(sent_to(team.editor.email)) == 3


def test_a_closed_request_still_mails_the_files_it_owes(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.outbox import sent_to

    created = _create(team)
    _burst(team, created["token"], "one.pdf", "two.pdf", "three.pdf")
    assert call("DELETE", f"/requests/{created['id']}", claims=team.editor.claims).status == 204
    _advance(monkeypatch, timedelta(minutes=61))
    assert _sweep()["claimed"] == 1
    second = sent_to(team.editor.email)[-1]
    assert "two.pdf" in second.text
    assert "three.pdf" in second.text


def test_with_the_mail_turned_off_the_sweep_sends_nothing_and_clears_the_marker(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.outbox import sent_to

    ok(call("PUT", "/me/notifications", claims=team.editor.claims, body={"files_arrived": False}))
    created = _create(team)
    _burst(team, created["token"], "one.pdf", "two.pdf", "three.pdf")
    marker = _marker(created["token"])
    assert marker is not None
    assert marker["gsi4pk"] == keys.ARRIVALS_DUE_PK
    _advance(monkeypatch, timedelta(minutes=61))
    assert _sweep()["claimed"] == 1
    assert sent_to(team.editor.email) == []
    marker = _marker(created["token"])
    assert marker is not None
    assert "gsi4pk" not in marker
    assert _sweep()["claimed"] == 0


def test_a_marker_whose_files_an_arrival_already_mailed_is_cleared(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.outbox import sent_to

    created = _create(team)
    _burst(team, created["token"], "one.pdf", "two.pdf")
    _advance(monkeypatch, timedelta(minutes=61))
    _burst(team, created["token"], "three.pdf")  # after the hour: this arrival mails two and three
    assert len(sent_to(team.editor.email)) == 2
    assert _sweep() == {"claimed": 0, "waiting": 0, "cleared": 1, "failed": 0}
    assert len(sent_to(team.editor.email)) == 2
    marker = _marker(created["token"])
    assert marker is not None
    assert "gsi4pk" not in marker


# --- recipient-restricted requests (the share links' codes, parameterized) ---


def test_a_restricted_request_needs_a_recipients_code_and_names_the_verified_address(team: Team) -> None:
    from tests.support.outbox import sent_to
    from tests.support.recipients import last_code

    partner, stranger = "partner@example.org", "stranger@example.net"
    created = _create(team, recipients=["Partner@Example.org"])
    assert created["recipients"] == [partner]
    assert ok(call("GET", f"/public/requests/{created['token']}"))["recipients_required"] is True
    refused = _start(created["token"], b"abc")
    assert (refused.status, refused.json()["code"]) == (403, "verification_required")
    for address in (partner, stranger):
        asked = call("POST", f"/public/requests/{created['token']}/verify", body={"email": address})
        assert asked.status == 202, asked.text
    assert sent_to(stranger) == []
    (mail,) = sent_to(partner)
    assert "send files to editor@example.com" in mail.text
    code = last_code(partner)
    wrong = call("POST", f"/public/requests/{created['token']}/verify/confirm", body={"email": stranger, "code": code})
    assert (wrong.status, wrong.json()["code"]) == (403, "code_incorrect")  # as a wrong code
    confirmed = ok(
        call("POST", f"/public/requests/{created['token']}/verify/confirm", body={"email": partner, "code": code})
    )
    forged = _start(created["token"], b"abc", grant="0" * 32 + "." + "A" * 43)
    assert (forged.status, forged.json()["code"]) == (403, "grant_invalid")
    ok(_start(created["token"], b"abc", grant=confirmed["grant"], uploader_email="someone@else.org"), 201)
    (doc,) = _folder(team)
    assert doc["uploaded_by_partner"] == {"email": partner}  # the verified address, not the typed one

    # Removing the address ends its grant at the next request.
    ok(
        call(
            "PATCH", f"/requests/{created['id']}", claims=team.editor.claims, body={"recipients": ["other@example.org"]}
        )
    )
    gone = _start(created["token"], b"def", grant=confirmed["grant"])
    assert (gone.status, gone.json()["code"]) == (403, "grant_invalid")
    audit_stream(get_settings().table_name).drain()
    activity = ok(call("GET", f"/requests/{created['id']}/activity", claims=team.editor.claims, query={"limit": "200"}))
    actions = {e["action"] for e in activity["items"]}
    assert {"request.code_requested", "request.recipient_verified", "request.code_failed"} <= actions


def test_a_request_grant_is_worthless_on_a_share_link_and_the_other_way_round(team: Team) -> None:
    from tests.support.recipients import last_code

    partner = "partner@example.org"
    created = _create(team, recipients=[partner])
    call("POST", f"/public/requests/{created['token']}/verify", body={"email": partner})
    grant = ok(
        call(
            "POST",
            f"/public/requests/{created['token']}/verify/confirm",
            body={"email": partner, "code": last_code(partner)},
        )
    )["grant"]
    other = _create(team, recipients=[partner])
    refused = _start(other["token"], b"abc", grant=grant)
    assert (refused.status, refused.json()["code"]) == (403, "grant_invalid")
    assert call("POST", f"/public/shares/{created['token']}/verify", body={"email": partner}).status == 404
