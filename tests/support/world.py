"""An owner's world built through the routes, for tests that must reach the logic behind them.

A request with made-up ids stops at 404 before any rule runs. ``build_world`` gives an owner (also
an admin) a workspace with an available document, a pending multipart upload of a new version,
an active link with a password (and its token), and a second member; ``snapshot`` captures every
item and every object version so a test can show that a refused request changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from tests.support.documents import (
    User,
    add_member,
    create_document,
    create_workspace,
    make_user,
    ok,
    sha256_b64,
    upload,
)
from tests.support.gateway import call

LINK_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class World:
    owner: User
    member: User
    workspace_id: str
    document_id: str
    version_id: str
    upload_id: str
    share_id: str
    token: str

    @property
    def params(self) -> dict[str, str]:
        """Real values for every path parameter of the route table."""
        return {
            "workspace_id": self.workspace_id,
            "document_id": self.document_id,
            "upload_id": self.upload_id,
            "share_id": self.share_id,
            "token": self.token,
            "user_id": self.member.id,
            "email": self.member.email,
        }


def build_world(resources: Any, *, email: str = "owner@example.com") -> World:
    owner = make_user(resources, email, admin=True)
    member = make_user(resources, "member." + email)
    ws = create_workspace(owner)
    add_member(owner, ws, member, "viewer")
    created = create_document(owner, ws, b"%PDF-1.7 plan", name="plan.pdf")
    document_id = created["document"]["id"]
    upload(resources, created["upload"]["upload_id"], b"%PDF-1.7 plan")
    detail = ok(call("GET", f"/documents/{document_id}", claims=owner.claims))
    big = {"size": 200 * 1024 * 1024, "sha256": sha256_b64(b"big")}
    pending = ok(call("POST", f"/documents/{document_id}/versions", claims=owner.claims, body=big), 201)
    share = ok(
        call("POST", f"/documents/{document_id}/shares", claims=owner.claims, body={"password": LINK_PASSWORD}),
        201,
    )
    return World(
        owner=owner,
        member=member,
        workspace_id=ws,
        document_id=document_id,
        version_id=detail["versions"][0]["id"],
        upload_id=pending["upload_id"],
        share_id=share["id"],
        token=share["token"],
    )


def snapshot(resources: Any) -> tuple[list[Any], list[Any]]:
    """Every item of the table and every object version (with its ETag) in the bucket, sorted."""
    dynamodb = boto3.client("dynamodb", region_name=resources.region)
    items: list[Any] = []
    kwargs: dict[str, Any] = {"TableName": resources.table_name}
    while True:
        page = dynamodb.scan(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    s3 = boto3.client("s3", region_name=resources.region)
    listed = s3.list_object_versions(Bucket=resources.bucket_name)
    objects = [(v["Key"], v["VersionId"], v["ETag"]) for v in listed.get("Versions", [])]
    objects += [(m["Key"], m["VersionId"], "delete-marker") for m in listed.get("DeleteMarkers", [])]
    uploads = s3.list_multipart_uploads(Bucket=resources.bucket_name).get("Uploads", [])
    objects += [(u["Key"], u["UploadId"], "multipart") for u in uploads]
    order = repr
    return sorted(items, key=order), sorted(objects, key=order)
