"""Property-based tier of SPEC promise 10: Hypothesis over every request model and the public body.

Given an owner's real workspace, document, pending upload, link and member (so requests get past
the 404s and reach the rules), each generated request — odd field values (lone surrogates,
control, format and bidi characters, huge strings and numbers, deep and odd JSON), odd content
types and odd encodings — must get:

1. a status below 500;
2. for a 422, ``fields`` naming the body or a field the request sent or the model has;
3. for any refusal, a JSON error with a stable ``code``;
4. for a refusal, stored state unchanged (every table item, object version and multipart
   upload; on the public route only for 415 and 422, since a partner's wrong password is
   audited and counted by design).

A second property sends odd query strings (and mutated real cursors) to every GET and DELETE route
with the same checks. Bounded and deterministic for ``make test`` (``PROPERTY_EXAMPLES`` per body
route, default 25, and a third of that per query route; derandomized). ``make fuzz`` runs it with
more examples and a random seed.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from docuserve.models import requests as member_models
from docuserve.models import shares as share_models
from docuserve.models import upload_requests as request_models
from docuserve.models.notifications import NotificationPreferencesBody
from docuserve.routes import ROUTES
from tests.support.gateway import Reply, call
from tests.support.links import fast_passwords  # noqa: F401  (fixture)
from tests.support.world import LINK_PASSWORD, World, build_world, snapshot

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "25"))
RANDOM = os.environ.get("FUZZ_RANDOM") is not None
CASES_RUN: dict[str, int] = {}


@dataclass(frozen=True)
class BodyRoute:
    method: str
    path: str
    model: type[BaseModel]

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        return self.path.startswith("/public/")


BODY_ROUTES = [
    BodyRoute("POST", "/workspaces", member_models.CreateWorkspace),
    BodyRoute("PATCH", "/workspaces/{workspace_id}", member_models.UpdateWorkspace),
    BodyRoute("POST", "/workspaces/{workspace_id}/members", member_models.AddMember),
    BodyRoute("PUT", "/workspaces/{workspace_id}/members/{user_id}", member_models.SetMemberRole),
    BodyRoute("POST", "/workspaces/{workspace_id}/documents", member_models.CreateDocument),
    BodyRoute("PATCH", "/documents/{document_id}", member_models.UpdateDocument),
    BodyRoute("POST", "/documents/{document_id}/versions", member_models.CreateVersion),
    BodyRoute("POST", "/uploads/{upload_id}/parts", member_models.PartChecksums),
    BodyRoute("POST", "/uploads/{upload_id}/complete", member_models.CompleteUpload),
    BodyRoute("POST", "/admin/users", member_models.InviteUser),
    BodyRoute("POST", "/documents/{document_id}/shares", share_models.CreateShare),
    BodyRoute("PATCH", "/shares/{share_id}", share_models.EditShare),
    BodyRoute("POST", "/public/shares/{token}/download", share_models.DownloadRequest),
    BodyRoute("POST", "/public/shares/{token}/verify", share_models.VerifyRequest),
    BodyRoute("POST", "/public/shares/{token}/verify/confirm", share_models.ConfirmRequest),
    BodyRoute("PUT", "/me/notifications", NotificationPreferencesBody),
    BodyRoute("POST", "/workspaces/{workspace_id}/requests", request_models.CreateUploadRequest),
    BodyRoute("PATCH", "/requests/{request_id}", request_models.EditUploadRequest),
]

# --- strategies --------------------------------------------------------------------------------

SPECIAL_CHARACTERS = [
    "\x00",
    "\x1b",
    "\x7f",
    "\u0085",
    "\u200b",  # zero-width space
    "\u200e",  # left-to-right mark
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u2028",  # line separator
    "\ufeff",  # byte order mark
    "\ufffd",
    "\U0001f600",
    "/",
    "\\",
    '"',
    "..",
    "#",
    ";",
    " ",
]
lone_surrogates = st.characters(categories=["Cs"])
odd_characters = st.one_of(st.characters(), st.sampled_from(SPECIAL_CHARACTERS), lone_surrogates)
odd_text = st.one_of(
    st.lists(odd_characters, max_size=40).map("".join),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", " ", "\u202e", "é", "x\ud800"]), st.integers(0, 70_000)),
    st.sampled_from(
        [
            "",
            " " * 8,
            "text/plain;,text/html",
            "text/html",
            "TEXT/PLAIN; charset=UTF-8",
            "a@b.co",
            "viewer",
            "owner",
            "0001-01-01T00:30:00+01:00",
            "9999-12-31T23:30:00-01:00",
            "2026-13-45T99:99:99Z",
            '"abc"',
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        ]
    ),
)
odd_numbers = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, 10_001, 5 * 1024**4 + 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
scalars = st.one_of(st.none(), odd_numbers, odd_text)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(odd_text, inner, max_size=5), max_leaves=12
)


def _model_bodies(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    """Objects with some of the model's own fields (odd values), sometimes an unknown one too."""
    fields = sorted(model.model_fields)
    known = st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields)) if fields else st.just({})
    extra = st.dictionaries(odd_text, json_values, max_size=2)
    return st.one_of(known, st.builds(lambda a, b: {**b, **a}, known, extra))


def _deep(depth: int, kind: str) -> str:
    return {"list": "[" * depth + "]" * depth, "object": '{"a":' * depth + "1" + "}" * depth}[kind]


CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json;charset=latin-1",
    "application/json; charset",
    "application/json, text/plain",
    "application/vnd.api+json",
    "text/plain",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
]


def _encode(document: Any, encoding: str) -> bytes | str:
    if encoding == "ascii":
        return json.dumps(document)
    text = json.dumps(document, ensure_ascii=False)
    if encoding == "utf-8":
        return text.encode("utf-8", "surrogatepass")  # a lone surrogate becomes bytes that are not UTF-8
    if encoding == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


@st.composite
def requests(draw: st.DrawFn, route: BodyRoute) -> tuple[bytes | str, str]:
    """(body, content type): mostly model-shaped JSON, sometimes any JSON, deep JSON or not JSON at all."""
    shape = draw(st.sampled_from(["model"] * 6 + ["any", "deep", "garbage"]))
    body: bytes | str
    if shape == "deep":
        body = _deep(draw(st.integers(1, 5_000)), draw(st.sampled_from(["list", "object"])))
    elif shape == "garbage":
        body = draw(
            st.one_of(st.binary(max_size=64), st.sampled_from(['{"a": NaN}', "[Infinity]", "{", "nul", "1e99999"]))
        )
    else:
        document = draw(_model_bodies(route.model) if shape == "model" else json_values)
        body = _encode(document, draw(st.sampled_from(["ascii"] * 4 + ["utf-8", "utf-8-bom", "utf-16", "latin-1"])))
    content_type = draw(st.sampled_from(CONTENT_TYPES[:1] * 8 + CONTENT_TYPES))
    return body, content_type


# --- the property ------------------------------------------------------------------------------


def _sent_keys(body: bytes | str) -> set[str]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return set()
    return {str(k) for k in document} if isinstance(document, dict) else set()


def _names_a_field(name: str, known: set[str]) -> bool:
    # A key holding a lone surrogate is named with JSON escapes (docuserve.screening).
    spellings = known | {json.dumps(k)[1:-1] for k in known}
    # A body field a route also takes in the query string (DELETE .../folders ?path=) is named
    # where the server looked last: ``query.path``.
    name = name.removeprefix("query.")
    return any(name == k or name.startswith(k + ".") for k in spellings)


def _check(route: BodyRoute, reply: Reply, body: bytes | str, changed: Callable[[], bool]) -> None:
    assert reply.status < 500, (reply.status, reply.text[:300])
    if reply.status >= 400:
        error = reply.json()
        assert isinstance(error, dict), reply.text[:300]
        assert isinstance(error.get("code"), str), reply.text[:300]
    if reply.status == 422:
        fields = error.get("fields") or {}
        assert fields, reply.text[:300]
        known = set(route.model.model_fields) | _sent_keys(body) | {"body"}
        assert all(_names_a_field(name, known) for name in fields), (fields, known)
    if reply.status >= 400 and (not route.public or reply.status in (415, 422)):
        assert not changed(), f"a refused request ({reply.status}) changed stored state: {reply.text[:200]}"


@pytest.mark.usefixtures("fast_passwords")
@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.key)
def test_no_generated_request_fails_the_server_or_changes_state_when_refused(aws: Any, route: BodyRoute) -> None:
    world: World = build_world(aws)
    path = route.path.format(**world.params)
    claims = None if route.public else world.owner.claims
    cases = 0

    @given(request=requests(route))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(request: tuple[bytes | str, str]) -> None:
        nonlocal cases
        cases += 1
        body, content_type = request
        before = snapshot(aws)
        reply = call(route.method, path, claims=claims, raw_body=body, headers={"content-type": content_type})
        _check(route, reply, body, lambda: snapshot(aws) != before)

    run()
    # The control case: the right password still opens the link after everything above.
    if route.public and route.path.endswith("/download"):
        good = call("POST", path, body={"password": LINK_PASSWORD})
        assert good.status in (200, 429), good.text
    CASES_RUN[route.key] = cases
    print(f"property cases for {route.key}: {cases} (total so far {sum(CASES_RUN.values())})")


# --- query strings -----------------------------------------------------------------------------

QUERY_EXAMPLES = max(1, EXAMPLES // 3)
QUERY_NAMES = ["limit", "cursor", "folder", "tag", "q", "status", "purge", "version_id", "disposition", "x"]
# What API Gateway can deliver: decoded UTF-8 text (a lone surrogate cannot travel in a URL).
query_text = st.one_of(odd_text, st.integers().map(str), st.sampled_from(["0", "201", "deleted", "inline", "true"]))
query_values = query_text.filter(lambda v: not any("\ud800" <= c <= "\udfff" for c in v))


def _cursor_text(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


# Cursors that decode to JSON of the right shape but the wrong content reach the Query itself.
cursor_values = json_values.filter(lambda v: not any("\ud800" <= c <= "\udfff" for c in json.dumps(v))).map(
    _cursor_text
)
queries = st.dictionaries(
    st.sampled_from(QUERY_NAMES), st.one_of(query_values, cursor_values), max_size=4
) | st.fixed_dictionaries({"cursor": cursor_values})

GET_ROUTES = [r for r in ROUTES if r.method in ("GET", "DELETE")]


def _issued_cursor(route: Any, path: str, claims: Any) -> dict[str, Any] | None:
    """The decoded ``next_cursor`` of the list's first one-item page, if it has a second page."""
    if route.method != "GET":
        return None
    reply = call("GET", path, claims=claims, query={"limit": "1"})
    cursor = reply.json().get("next_cursor") if reply.status == 200 and isinstance(reply.json(), dict) else None
    if not isinstance(cursor, str):
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # not a table cursor (the admin list pages through Cognito)
        return None
    return document if isinstance(document, dict) else None


@pytest.mark.usefixtures("fast_passwords")
@pytest.mark.parametrize("route", GET_ROUTES, ids=lambda r: r.key)
def test_no_generated_query_fails_the_server_or_changes_state_when_refused(aws: Any, route: Any) -> None:
    world: World = build_world(aws)
    path = route.path.format(**world.params)
    claims = None if route.public else world.owner.claims
    cases = 0
    strategy = queries
    issued = _issued_cursor(route, path, claims)
    if issued is not None:
        # Mutations of a cursor this list really issued: attributes dropped, values replaced.
        attributes = sorted(issued)
        mutated = st.builds(
            lambda dropped, replaced: _cursor_text(
                {k: v for k, v in {**issued, **replaced}.items() if k not in dropped}
            ),
            st.sets(st.sampled_from(attributes)),
            st.dictionaries(st.sampled_from(attributes), st.one_of(query_values, json_values), max_size=2),
        )
        strategy = st.one_of(queries, st.fixed_dictionaries({"cursor": mutated}))

    @given(query=strategy)
    @settings(
        max_examples=QUERY_EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(query: dict[str, str]) -> None:
        nonlocal cases
        cases += 1
        before = snapshot(aws)
        reply = call(route.method, path, claims=claims, query=query)
        assert reply.status < 500, (reply.status, reply.text[:300])
        if reply.status >= 400:
            error = reply.json()
            assert isinstance(error.get("code"), str), reply.text[:300]
            if not route.public:
                assert snapshot(aws) == before, f"a refused request ({reply.status}) changed stored state"
        if reply.status == 422:
            fields = error.get("fields") or {}
            assert fields, reply.text[:300]
            assert all(name.startswith("query.") or name.split(".")[0] in query for name in fields), fields

    run()
    CASES_RUN[route.key + " (query)"] = cases
    print(f"property cases for {route.key} (query): {cases} (total so far {sum(CASES_RUN.values())})")
