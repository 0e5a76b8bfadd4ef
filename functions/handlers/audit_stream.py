"""The audit-stream function: the table's DynamoDB stream → append-only audit items.

Link writes on the partner side carry their audit event in ``last_event`` (one atomic write with
the counters); this function materialises each one (``docuserve.sharing.activity``). Records are
processed in order; on a failure it reports that record's sequence number so Lambda retries from
there (partial batch response), and after the retries the batch goes to the on-failure queue.
A download event appended here may also owe the link's creator "your link was downloaded"
(``docuserve.notify``: at most hourly per link, never an error of this function).
Every new audit item of a workspace is chained (``docuserve.audit_chain``: ``seq``, ``prev_hash``,
``hash``), in stream order, exactly once however often its record is delivered.

Invoked with ``{"task": "files_arrived_due"}`` (EventBridge, every 15 minutes) it instead sends the
upload requests' "files arrived" mails that came due (``docuserve.upload_requests.arrivals``:
files that arrived within the hour after a mail), stopping while 10 s of the invocation is left.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from docuserve import audit_chain, notify
from docuserve.adapters.store import Store, deserialize
from docuserve.observability import event_entry, logger
from docuserve.sharing.activity import materialise
from docuserve.upload_requests import arrivals


def process(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("task") == arrivals.SWEEP_TASK:
        sweep = arrivals.send_due(remaining_ms=context.get_remaining_time_in_millis)
        logger.info("due files-arrived mails", extra=asdict(sweep))
        return asdict(sweep)
    store = Store()
    written = chained = 0
    for record in event.get("Records", []):
        stream = record.get("dynamodb") or {}
        image = stream.get("NewImage")
        if record.get("eventName") not in ("INSERT", "MODIFY") or not image:
            continue
        try:
            item = deserialize(image)
            if audit_chain.chained_workspace(item):
                if record.get("eventName") == "INSERT" and audit_chain.append(item, store) is not None:
                    chained += 1
            elif materialise(item, store):
                written += 1
                # A download appended just now may owe the link's creator a mail (at most hourly);
                # that never raises, so a mail can never hold up the audit trail.
                notify.link_downloaded(item, store)
            elif arrivals.landed(item, store):  # a partner's file landed (upload requests)
                written += 1
        except Exception:
            logger.exception("audit event not materialised; Lambda retries from this record")
            return {"batchItemFailures": [{"itemIdentifier": stream.get("SequenceNumber", "")}]}
    if written:
        logger.info("audit events materialised", extra={"count": written})
    if chained:
        logger.info("audit events chained", extra={"count": chained})
    return {"batchItemFailures": []}


handler = event_entry(process)
