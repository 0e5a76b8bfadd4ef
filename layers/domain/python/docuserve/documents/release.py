"""Releasing an unscannable version (SPEC Phase 2: "an owner may release it explicitly, audited").

GuardDuty answers ``UNSUPPORTED`` (e.g. a password-protected archive), ``ACCESS_DENIED`` or
``FAILED`` for some objects; such a version is ``unscannable`` and never served. An owner who
knows the file may release it: the object version is tagged ``DocuServeScanRelease=released``
(which the bucket policy honours, and only this function's role may set), then one transaction
moves the version from ``unscannable`` to ``available`` (scan status ``released``) while the
caller is still an owner and the document takes versions, with the audit event
``version.released``. From there it is made current like any version that lands. An infected
version can never be released.
"""

from __future__ import annotations

from docuserve import audit, clock, ids, keys
from docuserve.access import document_access, holds_role, lost_role, refuse_lost_role
from docuserve.adapters import objects
from docuserve.adapters.store import Store, TransactionCancelled
from docuserve.audit import Actor, AuditEvent
from docuserve.errors import Conflict, NotFound
from docuserve.identity import Caller
from docuserve.records import Version
from docuserve.roles import Role

WHAT = "releasing unscannable versions"


def release(caller: Caller, document_id: str, version_id: str) -> Version:
    """Serve an ``unscannable`` version after all (owner only); returns it, now available."""
    if not ids.is_valid(version_id):
        raise NotFound("version not found")
    store = Store()
    access = document_access(caller, document_id, Role.OWNER, version_id=version_id, what=WHAT, store=store)
    doc, version = access.document, access.version
    assert version is not None  # asked for: a missing version is a NotFound above
    if version.status == "infected":
        raise Conflict("a version in which a threat was found can never be released")
    if version.status != "unscannable":
        raise Conflict(f"only an unscannable version can be released; this one is {version.status}")
    if doc.status == "purging":
        raise Conflict("this document is being purged")
    objects.tag_released(version.object_key, version.s3_version_id)
    event = AuditEvent(
        "version.released",
        Actor.member(caller),
        workspace_id=doc.workspace_id,
        document_id=doc.id,
        details={"version_id": version.id, "number": version.number},
    )
    try:
        store.transact(
            [
                {
                    "Update": {
                        "Key": keys.version(doc.id, version.id),
                        "UpdateExpression": "SET #s = :available, scan_status = :released, available_at = :at,"
                        " released_by = :by",
                        "ConditionExpression": "#s = :unscannable",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":available": "available",
                            ":released": "released",
                            ":unscannable": "unscannable",
                            ":at": clock.iso(clock.now()),
                            ":by": caller.user_id,
                        },
                    }
                },
                audit.put_action(event),
                {
                    "ConditionCheck": {
                        "Key": keys.document(doc.id),
                        "ConditionExpression": "attribute_exists(pk) AND #s <> :purging",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":purging": "purging"},
                    }
                },
                holds_role(doc.workspace_id, caller.user_id, Role.OWNER),
            ]
        )
    except TransactionCancelled as cancelled:
        if lost_role(cancelled.reasons):
            refuse_lost_role(
                caller, doc.workspace_id, Role.OWNER, what=WHAT, not_found="document not found", store=store
            )
        if cancelled.reasons[0] == "ConditionalCheckFailed":
            raise Conflict("this version changed meanwhile; reload it") from None
        raise Conflict("this document is being purged") from None
    version.status, version.scan_status = "available", "released"
    from docuserve import processing  # the landing path's last step, shared

    landed = processing.parse_key(version.object_key, version.s3_version_id)
    if landed is not None:
        processing.make_current(landed, version, store)
    return version
