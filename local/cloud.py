"""moto as an in-process HTTP server on loopback, answering CORS the way AWS does.

moto's server normally wraps every service in a global CORS layer that echoes any ``Origin``. That
would let a page from any origin read S3 responses, which the real bucket (CORS rules for the web
origins only) refuses. So the global layer is switched off (``MOTO_DISABLE_GLOBAL_CORS``, read when
moto is imported) and S3 answers from the bucket's own CORS rules, as in AWS. The Cognito user-pool
API, which real Cognito serves to browsers from any origin, gets that any-origin CORS back here.
"""

from __future__ import annotations

import copy
import io
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"

import moto.dynamodb.models as moto_dynamodb
from moto.core.common_models import BaseModel
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from local.cognito_extras import cognito_extras

if not werkzeug_app.DISABLE_GLOBAL_CORS:  # moto was imported before this module set the switch
    raise RuntimeError("import local.cloud before anything imports moto")


class LiveInstances:
    """moto's per-model list of instances (``instances_tracked``), holding them weakly.

    moto appends every model object it ever creates to a class-level list, for its dashboard and for
    ``reset``. A test resets moto; the local stack runs for hours and never does. moto's
    TransactWriteItems deep-copies the whole table (items, indexes and stream records are model
    objects) before every transaction, so the strong list kept each copy alive: memory grew with
    transactions times table size, gigabytes in a long e2e run. Weakly held, a copy dies with the
    transaction; whatever a backend still holds stays listed (``/moto-api/data.json``) and disposed
    on reset, as before.
    """

    def __init__(self, instances: Iterable[object] = ()) -> None:
        self._refs: list[weakref.ref[object]] = []
        self._strong: list[object] = []  # a model without weak-reference support (none in moto 5.2)
        self._purge_at = 64
        self._lock = threading.Lock()  # moto's server answers on many threads
        for instance in instances:
            self.append(instance)

    def append(self, instance: object) -> None:
        with self._lock:
            try:
                self._refs.append(weakref.ref(instance))
            except TypeError:
                self._strong.append(instance)
                return
            if len(self._refs) >= self._purge_at:  # amortized: the list stays within twice the live count
                self._refs = [ref for ref in self._refs if ref() is not None]
                self._purge_at = max(64, 2 * len(self._refs))

    def __iter__(self) -> Iterator[object]:
        with self._lock:
            refs = list(self._refs)
        live = (instance for ref in refs if (instance := ref()) is not None)
        return iter([*self._strong, *live])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _new_model(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
    instance = super(BaseModel, cls).__new__(cls)
    tracked = cls.__dict__.get("instances_tracked")
    if not isinstance(tracked, LiveInstances):  # class creation and moto's reset set a plain list
        tracked = LiveInstances(tracked or ())
        cls.instances_tracked = tracked
    tracked.append(instance)
    return instance


BaseModel.__new__ = _new_model  # type: ignore[method-assign]


class _Rollback:
    """What a transaction may change, kept before it runs: the items it names and the stream's length.

    moto's TransactWriteItems deep-copies every table it touches before each transaction, applies
    the writes one by one, and on a cancellation puts the copy back in the table's place. The copy
    costs time in proportion to the whole table, its indexes and its stream history: over an e2e
    session each transaction grew to seconds and the run past CI's time. A transaction only ever
    changes the items it names (at most 100) and appends to the stream, so that is what is kept,
    and a cancellation puts exactly that back: the items as they were (or absent), the stream
    without the records the cancelled writes appended, the same table and shard objects (as in
    DynamoDB, where a cancelled transaction leaves no trace).
    """

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        self.items: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        self.streams: dict[int, tuple[Any, int]] = {}
        for action in transact_items:
            op = next(iter(action.values()), None)
            if not isinstance(op, dict):
                continue
            table = backend.tables.get(op.get("TableName"))
            key = op.get("Item") if "Put" in action else op.get("Key")
            if table is None or not isinstance(key, dict) or table.hash_key_attr not in key:
                continue  # moto refuses the action itself; nothing of it is applied
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            if table.range_key_attr is not None and range_value is None:
                continue
            current = table.items.get(hash_value)
            if range_value is not None and isinstance(current, dict):
                current = current.get(range_value)
            self.items.append((table, hash_value, range_value, copy.deepcopy(current)))
            if table.stream_shard is not None:
                self.streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))

    def restore(self) -> None:
        for table, hash_value, range_value, before in reversed(self.items):
            if range_value is None:
                if before is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = before
            elif before is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = before
        for shard, length in self.streams.values():
            del shard.items[length:]


class _TableCopyShim:
    """``copy`` as moto's DynamoDB backend sees it: a table "copied" for a transaction is the table
    itself (``_Rollback`` keeps what the transaction may change); everything else copies as usual."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_moto_transact_write_items = moto_dynamodb.DynamoDBBackend.transact_write_items


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    rollback = _Rollback(self, transact_items)
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        rollback.restore()
        raise


moto_dynamodb.copy = _TableCopyShim()  # type: ignore[assignment]
moto_dynamodb.DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# What cognito-idp.<region>.amazonaws.com sends to browsers.
COGNITO_EXPOSED = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"


def _is_cognito_preflight(environ: dict[str, Any]) -> bool:
    # A browser preflight for the Cognito JSON API: POST to "/" announcing the X-Amz-Target header.
    requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").lower()
    return (
        environ.get("REQUEST_METHOD") == "OPTIONS"
        and environ.get("PATH_INFO", "") == "/"
        and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "").upper() == "POST"
        and "x-amz-target" in [h.strip() for h in requested.split(",")]
    )


def cognito_cors(app: WSGIApp) -> WSGIApp:
    """Give the Cognito user-pool API (and only it) real Cognito's any-origin CORS."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if origin and _is_cognito_preflight(environ):
            start_response(
                "200 OK",
                [
                    ("Access-Control-Allow-Origin", "*"),
                    ("Access-Control-Allow-Methods", "POST"),
                    ("Access-Control-Allow-Headers", environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")),
                    ("Access-Control-Max-Age", "86400"),
                    ("Content-Length", "0"),
                ],
            )
            return [b""]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not (origin and target.startswith(COGNITO_TARGET_PREFIX)):
            return app(environ, start_response)

        def start_with_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [h for h in headers if not h[0].lower().startswith("access-control-")]
            headers += [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", COGNITO_EXPOSED)]
            return start_response(status, headers, exc_info)

        return app(environ, start_with_cors)

    return wrapped


DYNAMODB_TARGET_PREFIX = "DynamoDB"  # DynamoDB_20120810.* and DynamoDBStreams_20120810.*


def one_call_at_a_time(app: WSGIApp) -> WSGIApp:
    """Each DynamoDB call is atomic, as each DynamoDB request is: moto's backends have no locks.

    The local functions run concurrently (``local/invoke.py``); without this, two threads inside
    moto could interleave one conditional write's check and set. Only DynamoDB is serialized:
    other services keep their own timing (an SQS long poll waits without holding anyone up). The
    body is read before the lock, and the answer is produced inside it.
    """
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(DYNAMODB_TARGET_PREFIX):
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
        with lock:
            return list(app(environ, start_response))

    return wrapped


class _QuietHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """moto's per-request access log would drown the local stack's own console output."""


class MotoServer:
    """moto on ``127.0.0.1`` (a free port unless given), in a daemon thread."""

    def __init__(self, port: int = 0) -> None:
        moto_app = cognito_extras(DomainDispatcherApplication(create_backend_app))
        app = one_call_at_a_time(cognito_cors(moto_app))
        self._server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> MotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
