"""List scaling: items read for one 50-item page in a small and in a large workspace.

A page is a Query on the workspace's listing index with ``Limit``; DynamoDB reads at most that
many items whatever the partition holds, so the two figures must be equal. The large workspace is
written with BatchWriteItem (25 items a request), cloning one real document item.
"""

from __future__ import annotations

from typing import Any

from bench.calls import counting
from bench.scenarios import CONTENT
from tests.support.documents import create_document, create_workspace, make_user, ok, upload
from tests.support.gateway import call

PAGE = 50


def _seed(resources: Any, workspace_id: str, template: dict[str, Any], count: int) -> None:
    from docuserve import ids, keys
    from docuserve.adapters import aws
    from docuserve.adapters.store import serialize

    client = aws.dynamodb()
    batch: list[dict[str, Any]] = []
    for n in range(count):
        doc = ids.new_child_id(workspace_id)
        name = f"doc-{n:06d}.pdf"
        item = {
            **template,
            "id": doc,
            "name": name,
            **keys.document(doc),
            **keys.document_listing_keys(workspace_id, doc, name=name, folder="/", status="available"),
        }
        batch.append({"PutRequest": {"Item": serialize(item)}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={resources.table_name: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={resources.table_name: batch})


def page_cost(resources: Any, owner: Any, workspace_id: str) -> dict[str, Any]:
    with counting() as tally:
        body = ok(call("GET", f"/workspaces/{workspace_id}/documents", claims=owner.claims, query={"limit": str(PAGE)}))
    return {
        "items_returned": len(body["items"]),
        "items_read": tally.items_read,
        "keys_read": tally.keys_read,
        "round_trips": tally.total_round_trips,
        "has_next_cursor": bool(body.get("next_cursor")),
        "operations": tally.operations,
    }


def measure(resources: Any, sizes: tuple[int, ...] = (100, 20_000)) -> dict[str, Any]:
    from docuserve import keys
    from docuserve.adapters.store import Store

    owner = make_user(resources, "scaling@example.com")
    results: dict[str, Any] = {}
    for size in sizes:
        ws = create_workspace(owner, f"scale {size}")
        created = create_document(owner, ws, CONTENT)
        upload(resources, created["upload"]["upload_id"], CONTENT)
        template = Store().get(keys.document(created["document"]["id"]))
        assert template is not None
        _seed(resources, ws, template, size - 1)
        results[str(size)] = page_cost(resources, owner, ws)
    small, large = (results[str(s)]["items_read"] for s in sizes)
    return {"page": PAGE, "workspaces": results, "equal": small == large}
