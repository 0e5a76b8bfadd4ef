"""The partner functions' hand validation of the recipient bodies answers as the Pydantic models would
(``VerifyRequest``, ``ConfirmRequest``, ``DownloadRequest`` with a grant): the same 422 field names, on
a share link's routes (the public function) and an upload request's (the partner-uploads function)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from docuserve.models import shares as models

ROUTES = {
    "verify": "/public/shares/{token}/verify",
    "verify/confirm": "/public/shares/{token}/verify/confirm",
    "download": "/public/shares/{token}/download",
    "requests/verify": "/public/requests/{token}/verify",
    "requests/verify/confirm": "/public/requests/{token}/verify/confirm",
}

BAD: list[tuple[str, Any]] = [
    ("verify", None),
    ("verify", {}),
    ("verify", []),
    ("verify", "text"),
    ("verify", {"email": None}),
    ("verify", {"email": 5}),
    ("verify", {"email": "no at sign"}),
    ("verify", {"email": "a@b.org", "code": "123456"}),
    ("verify", {"email": "x" * 250 + "@b.org"}),
    ("verify/confirm", None),
    ("verify/confirm", {"email": "a@b.org"}),
    ("verify/confirm", {"code": "123456"}),
    ("verify/confirm", {"email": "a@b.org", "code": "12345"}),
    ("verify/confirm", {"email": "a@b.org", "code": "1234567"}),
    ("verify/confirm", {"email": "a@b.org", "code": "12a456"}),
    ("verify/confirm", {"email": "a@b.org", "code": 123456}),
    ("verify/confirm", {"email": "a@b.org", "code": None}),
    ("verify/confirm", {"email": "bad", "code": "123456", "grant": "x"}),
    ("download", {"grant": 5}),
    ("download", {"grant": "g" * 201}),
    ("download", {"grant": "g", "other": 1}),
]
# An upload request's verification takes the same bodies as a share link's.
BAD += [(f"requests/{path}", body) for path, body in BAD if path.startswith("verify")]


def _event(path: str, body: Any) -> dict[str, Any]:
    from local.events import rest_event

    return rest_event(
        "POST",
        ROUTES[path],
        ROUTES[path].replace("{token}", "t"),
        path_parameters={"token": "t"},
        headers={"content-type": "application/json"},
        body=None if body is None else json.dumps(body),
    )


def _fields(answer: dict[str, Any]) -> set[str]:
    assert answer["statusCode"] == 422, answer
    return set(json.loads(answer["body"])["fields"])


@pytest.mark.parametrize(("path", "body"), BAD, ids=[f"{p}:{json.dumps(b)[:40]}" for p, b in BAD])
def test_a_bad_recipient_body_names_the_fields_the_model_names(path: str, body: Any) -> None:
    import handlers.partner_uploads as partner_uploads
    import handlers.public as public

    app = (partner_uploads if path.startswith("requests/") else public).app
    lean = _fields(app.resolve(_event(path, body), None))
    twin = _fields(app.documented().resolve(_event(path, body), None))
    # Pydantic names every failing field at once; the hand validation stops at the first, which
    # must be one of them.
    assert lean <= twin, (lean, twin)
    assert lean


def test_the_partner_body_constants_follow_the_models() -> None:
    import handlers.partner_bodies as bodies

    assert bodies.GRANT_MAX == models.GRANT_MAX
    assert bodies.EMAIL_MAX == models.EMAIL_MAX
    assert bodies.CODE_PATTERN == models.CODE_PATTERN
