"""The partner functions' lean resolver answers as the Pydantic-validating one would, and stays lean:
the public function (share links) and the partner-uploads function (upload requests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from docuserve import api, lean_api
from docuserve.models import shares as models

ROOT = Path(__file__).resolve().parents[2]


def test_security_headers_are_the_same_as_the_full_resolvers() -> None:
    assert lean_api.SECURITY_HEADERS == api.SECURITY_HEADERS


def test_public_function_constants_follow_the_models() -> None:
    import handlers.partner_bodies as bodies
    import handlers.public as public

    assert bodies.PASSWORD_MAX == models.PASSWORD_MAX
    assert tuple(models.PublicShare.model_fields) == public.PUBLIC_SHARE_FIELDS


def test_partner_uploads_function_constants_follow_the_models() -> None:
    import handlers.partner_uploads as partner_uploads
    from docuserve.models import requests, upload_requests

    assert partner_uploads.PARTNER_NAME_MAX == upload_requests.PARTNER_NAME_MAX
    assert partner_uploads.PARTS_PER_REQUEST == requests.PARTS_PER_REQUEST


BODIES: list[Any] = [
    None,
    {},
    {"password": None},
    {"password": "correct horse"},
    {"password": ""},
    {"password": "x" * 256},
    {"password": "x" * 257},
    {"password": 5},
    {"password": True},
    {"password": ["a"]},
    {"password": {"a": 1}},
    {"pasword": "typo"},
    {"password": "ok", "extra": 1, "more": 2},
    [],
    [1],
    "text",
    7,
    True,
]


def _pydantic(body: Any) -> dict[str, str] | None:
    """What the Pydantic-validating resolver answers for the same route: None (valid) or {field: message}.

    The oracle is the Powertools twin the OpenAPI document is built from: it validates the body
    against ``DownloadRequest`` and then calls a stub (a 500 means validation passed).
    """
    import handlers.public as public
    from local.events import rest_event

    twin = public.app.documented()
    event = rest_event(
        "POST",
        "/public/shares/{token}/download",
        "/public/shares/t/download",
        path_parameters={"token": "t"},
        headers={"content-type": "application/json"},
        body=None if body is None else json.dumps(body),
    )
    answer = twin.resolve(event, None)
    if answer["statusCode"] == 500:
        return None
    assert answer["statusCode"] == 422, answer
    fields: dict[str, str] = json.loads(answer["body"])["fields"]
    return fields


def _lean(body: Any) -> dict[str, str] | None:
    import handlers.public as public

    public.app.current_event = {"body": None if body is None else json.dumps(body)}
    try:
        public._password()
    except lean_api.Invalid as exc:
        return exc.fields
    finally:
        public.app.current_event = {}
    return None


@pytest.mark.parametrize("body", BODIES, ids=[json.dumps(b)[:40] for b in BODIES])
def test_hand_validation_of_the_download_body_matches_the_pydantic_model(body: Any) -> None:
    assert _lean(body) == _pydantic(body)


@pytest.mark.parametrize("module", ["public", "partner_uploads"])
def test_the_partner_functions_import_neither_pydantic_nor_the_powertools_event_handler(module: str) -> None:
    program = (
        f"import sys, handlers.{module}\n"
        "heavy = [m for m in ('pydantic', 'aws_lambda_powertools.event_handler', 'aws_xray_sdk') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT / "layers" / "domain" / "python")]),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"loaded at import: {done.stdout.strip()}"


def test_the_share_page_function_does_not_load_the_upload_request_code() -> None:
    # Upload requests are the partner-uploads function's: the share page's cold start never pays for them.
    program = "import sys, handlers.public\nprint(sorted(m for m in sys.modules if 'upload_requests' in m))\n"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT / "layers" / "domain" / "python")]),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_public_routes_are_documented_from_their_models() -> None:
    import handlers.public as public

    doc = json.loads(public.app.get_openapi_json_schema(title="t", version="1"))
    download = doc["paths"]["/public/shares/{token}/download"]["post"]
    body = json.dumps(download["requestBody"])
    assert "#/components/schemas/DownloadRequest" in body
    assert download["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DownloadGrant"
    }
    page = doc["paths"]["/public/shares/{token}"]["get"]
    assert page["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PublicShare"
    }
    # A bundle's archive answers 202 until it is built: documented with its own body, next to the 200.
    assert download["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ArchivePreparing"
    }
    assert set(doc["components"]["schemas"]["ArchivePreparing"]["properties"]) == {"status", "retry_after"}
    assert not [path for path in doc["paths"] if path.startswith("/public/requests/")]  # partner_uploads serves them


def test_the_upload_request_routes_are_documented_from_their_models() -> None:
    import handlers.partner_uploads as partner_uploads

    doc = json.loads(partner_uploads.app.get_openapi_json_schema(title="t", version="1"))
    assert set(doc["paths"]) == {
        "/public/requests/{token}",
        "/public/requests/{token}/verify",
        "/public/requests/{token}/verify/confirm",
        "/public/requests/{token}/uploads",
        "/public/requests/{token}/uploads/{upload_id}",
        "/public/requests/{token}/uploads/{upload_id}/parts",
        "/public/requests/{token}/uploads/{upload_id}/complete",
    }
    start = doc["paths"]["/public/requests/{token}/uploads"]["post"]
    assert "#/components/schemas/PartnerUploadRequest" in json.dumps(start["requestBody"])
    assert start["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PartnerUploadInstructions"
    }
    page = doc["paths"]["/public/requests/{token}"]["get"]
    assert page["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PublicUploadRequest"
    }


def test_an_unknown_route_and_an_unexpected_error_answer_like_the_full_resolver() -> None:
    app = lean_api.LeanResolver()

    @app.get("/boom/<x>")
    def boom(x: str) -> dict[str, Any]:
        raise RuntimeError("no")

    missing = app.resolve({"httpMethod": "GET", "resource": "/nope"}, None)
    assert missing["statusCode"] == 404
    assert json.loads(missing["body"]) == {"code": "not_found", "message": "no such route"}
    failed = app.resolve({"httpMethod": "GET", "resource": "/boom/{x}", "pathParameters": {"x": "1"}}, None)
    assert failed["statusCode"] == 500
    assert json.loads(failed["body"])["code"] == "internal_error"
    assert failed["headers"]["Cache-Control"] == "no-store"


def test_upload_events_function_does_not_import_the_api_models_at_cold_start() -> None:
    # Upload processing serves no HTTP: Pydantic and the event handler would only slow its start.
    import subprocess
    import sys

    probe = (
        "import sys; sys.path[:0] = ['functions', 'layers/domain/python']; import handlers.upload_events; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'docuserve') "
        "and m in ('pydantic', 'docuserve.documents', 'docuserve.models.responses')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
