"""The web app's Content-Security-Policy (``docuserve.web_policy``) and the one the local front sends:
previews' images from the documents bucket only, no frames, nothing else added. What CloudFront
sends is checked on the synthesized template (``tests/infra/test_web_previews_policy.py``)."""

from __future__ import annotations

from pathlib import Path

from docuserve import web_policy
from local.front import Site


def directives(policy: str) -> dict[str, list[str]]:
    return {d.split(" ", 1)[0]: d.split(" ")[1:] for d in policy.split("; ")}


def test_the_policy_takes_images_only_from_the_bucket_frames_nothing_and_reaches_what_it_names() -> None:
    s3 = ["https://*.s3.eu-west-1.amazonaws.com", "https://*.s3.amazonaws.com"]
    api, cognito = "https://abc.execute-api.eu-west-1.amazonaws.com", "https://cognito-idp.eu-west-1.amazonaws.com"
    policy = directives(web_policy.content_security_policy(connect=[api, cognito], documents=s3))
    assert policy["img-src"] == ["'self'", "data:", *s3]
    assert policy["frame-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'", api, cognito, *s3]
    assert policy["default-src"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "upgrade-insecure-requests" in policy


def test_the_local_front_sends_the_same_policy_pointed_at_moto() -> None:
    site = Site(
        port=8000,
        web_root=Path("web"),
        web_origins=("http://localhost:8000",),
        region="us-east-1",
        user_pool_id="pool",
        user_pool_client_id="client",
        cognito_endpoint="http://127.0.0.1:5000",
        authorizer=None,  # type: ignore[arg-type]
        storage_origin="http://127.0.0.1:5000",
    )
    sent = dict(site.page_headers())["Content-Security-Policy"]
    assert sent == web_policy.content_security_policy(
        connect=["http://127.0.0.1:5000"], documents=["http://127.0.0.1:5000"], upgrade_insecure=False
    )
    policy = directives(sent)
    assert policy["img-src"] == ["'self'", "data:", "http://127.0.0.1:5000"]
    assert policy["frame-src"] == ["'none'"]


def test_without_a_bucket_origin_no_image_may_come_from_elsewhere() -> None:
    policy = directives(web_policy.content_security_policy(connect=[], documents=[]))
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
