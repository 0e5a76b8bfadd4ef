"""The route table: which function serves which route, and whether it needs a signed-in caller.

API Gateway (``infra/api.py``), the local HTTP front (``local/``) and the authorization-matrix
tests are all generated from this one list. A handler module serves exactly the routes listed
for its function; ``tests/unit/test_routes.py`` checks both directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Function(StrEnum):
    """Lambda functions, split by privilege: each role holds only what its routes need."""

    SYSTEM = "system"  # health, OpenAPI, /me: no data access at all
    MEMBERS = "members"  # workspaces, documents, uploads, shares management, audit
    ADMIN = "admin"  # Cognito user administration
    # Share-link pages and redemption (presigned GETs): every share link hits it, so it can read
    # link items and presign reads, and never write a document, an upload or an object.
    PUBLIC = "public"
    # Upload-request links (``/public/requests/*``): the partner's uploads (presigned PUTs and
    # multipart parts, upload sessions, quota and budget reservations), apart from the share page.
    PARTNER_UPLOADS = "partner_uploads"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: Function
    public: bool = False

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _r(method: str, path: str, function: Function, *, public: bool = False) -> Route:
    return Route(method=method, path=path, function=function, public=public)


S, M, A, P, U = Function.SYSTEM, Function.MEMBERS, Function.ADMIN, Function.PUBLIC, Function.PARTNER_UPLOADS

ROUTES: tuple[Route, ...] = (
    _r("GET", "/health", S, public=True),
    _r("GET", "/openapi.json", S, public=True),
    _r("GET", "/me", S),
    # documents issue
    _r("POST", "/workspaces", M),
    _r("GET", "/workspaces", M),
    _r("GET", "/workspaces/{workspace_id}", M),
    _r("PATCH", "/workspaces/{workspace_id}", M),
    _r("DELETE", "/workspaces/{workspace_id}", M),
    _r("GET", "/workspaces/{workspace_id}/members", M),
    # One variable per path level (API Gateway refuses sibling variables): members are added by
    # e-mail in the body, then named by their user id.
    _r("POST", "/workspaces/{workspace_id}/members", M),
    _r("PUT", "/workspaces/{workspace_id}/members/{user_id}", M),
    _r("DELETE", "/workspaces/{workspace_id}/members/{user_id}", M),
    _r("POST", "/workspaces/{workspace_id}/documents", M),
    _r("GET", "/workspaces/{workspace_id}/documents", M),
    _r("GET", "/documents/{document_id}", M),
    _r("PATCH", "/documents/{document_id}", M),
    _r("DELETE", "/documents/{document_id}", M),
    _r("POST", "/documents/{document_id}/restore", M),
    _r("POST", "/documents/{document_id}/versions", M),
    _r("POST", "/documents/{document_id}/versions/{version_id}/restore", M),
    _r("POST", "/documents/{document_id}/versions/{version_id}/release", M),
    _r("GET", "/documents/{document_id}/download", M),
    _r("GET", "/uploads/{upload_id}", M),
    _r("POST", "/uploads/{upload_id}/parts", M),
    _r("POST", "/uploads/{upload_id}/complete", M),
    _r("DELETE", "/uploads/{upload_id}", M),
    _r("GET", "/workspaces/{workspace_id}/audit", M),
    _r("GET", "/workspaces/{workspace_id}/audit/export", M),  # the hash-chained export (issue 18)
    _r("GET", "/documents/{document_id}/audit", M),
    # explicit folders (issue 15)
    _r("POST", "/workspaces/{workspace_id}/folders", M),
    _r("GET", "/workspaces/{workspace_id}/folders", M),
    _r("DELETE", "/workspaces/{workspace_id}/folders", M),
    _r("POST", "/admin/users", A),
    _r("GET", "/admin/users", A),
    _r("POST", "/admin/users/{user_id}/disable", A),
    _r("POST", "/admin/users/{user_id}/enable", A),
    # quotas (issue 17): an admin sets a workspace's quota
    _r("PATCH", "/admin/workspaces/{workspace_id}", A),
    # sharing issue
    _r("POST", "/documents/{document_id}/shares", M),
    _r("GET", "/documents/{document_id}/shares", M),
    _r("GET", "/workspaces/{workspace_id}/links", M),
    _r("GET", "/shares/{share_id}", M),
    _r("PATCH", "/shares/{share_id}", M),
    _r("DELETE", "/shares/{share_id}", M),
    _r("GET", "/shares/{share_id}/activity", M),
    # bundles (issue 17): one link for several documents of a workspace
    _r("POST", "/workspaces/{workspace_id}/shares", M),
    # e-mail (issue 16): the caller's mail preferences (members: the table; /me itself is system's)
    _r("GET", "/me/notifications", M),
    _r("PUT", "/me/notifications", M),
    _r("GET", "/public/shares/{token}", P, public=True),
    _r("POST", "/public/shares/{token}/verify", P, public=True),
    _r("POST", "/public/shares/{token}/verify/confirm", P, public=True),
    _r("POST", "/public/shares/{token}/download", P, public=True),
    # signed delivery manifests (issue 18): a share's manifest, and the keys that verify it
    _r("GET", "/public/shares/{token}/manifest", P, public=True),
    _r("GET", "/public/keys", P, public=True),
    # upload requests (issue 17): members manage, admins oversee, partners upload (public, by token)
    _r("POST", "/workspaces/{workspace_id}/requests", M),
    _r("GET", "/workspaces/{workspace_id}/requests", M),
    _r("GET", "/requests/{request_id}", M),
    _r("PATCH", "/requests/{request_id}", M),
    _r("DELETE", "/requests/{request_id}", M),
    _r("GET", "/requests/{request_id}/activity", M),
    _r("GET", "/admin/requests", A),
    _r("GET", "/admin/settings", A),
    _r("PUT", "/admin/settings", A),
    _r("GET", "/public/requests/{token}", U, public=True),
    _r("POST", "/public/requests/{token}/verify", U, public=True),
    _r("POST", "/public/requests/{token}/verify/confirm", U, public=True),
    _r("POST", "/public/requests/{token}/uploads", U, public=True),
    _r("GET", "/public/requests/{token}/uploads/{upload_id}", U, public=True),
    _r("DELETE", "/public/requests/{token}/uploads/{upload_id}", U, public=True),
    _r("POST", "/public/requests/{token}/uploads/{upload_id}/parts", U, public=True),
    _r("POST", "/public/requests/{token}/uploads/{upload_id}/complete", U, public=True),
)


def routes_for(function: Function) -> list[Route]:
    """Routes served by one function."""
    return [r for r in ROUTES if r.function == function]


def _matches(template: str, path: str) -> dict[str, str] | None:
    t_parts = template.strip("/").split("/")
    p_parts = path.strip("/").split("/")
    if len(t_parts) != len(p_parts):
        return None
    params: dict[str, str] = {}
    for t, p in zip(t_parts, p_parts, strict=True):
        if t.startswith("{") and t.endswith("}"):
            if not p:
                return None
            params[t[1:-1]] = p
        elif t != p:
            return None
    return params


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick for ``method path``, with its (still encoded) path params.

    Literal segments win over ``{param}`` segments, as in API Gateway.
    """
    candidates = []
    for route in ROUTES:
        if route.method != method:
            continue
        params = _matches(route.path, path)
        if params is not None:
            candidates.append((len(params), route, params))
    if not candidates:
        return None
    _, route, params = min(candidates, key=lambda c: c[0])
    return route, params


def path_exists(path: str) -> bool:
    """Whether any method is routed at ``path`` (API Gateway answers 403/405-like for others)."""
    return any(_matches(r.path, path) is not None for r in ROUTES)
