"""The web app's Content-Security-Policy, built in one place for CloudFront (``infra/web.py``) and
the local front (``local/front.py``), so the two cannot drift.

The app runs only its own scripts and styles. Document bytes never come from the app's origin:
presigned S3 URLs serve them, so the documents bucket's origins are the only place images may come
from beside the app's own files (``img-src``: image previews). Nothing is ever framed
(``frame-src 'none'``): a PDF preview opens in a tab of its own, because Chromium shows no PDF in a
sandboxed frame.
"""

from __future__ import annotations

from collections.abc import Sequence


def content_security_policy(*, connect: Sequence[str], documents: Sequence[str], upgrade_insecure: bool = True) -> str:
    """The policy: ``connect`` are the API and Cognito origins, ``documents`` the bucket's origins."""
    stored = " ".join(documents)
    reach = " ".join(["'self'", *connect, *documents])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: {stored}".rstrip(),
            "frame-src 'none'",
            f"connect-src {reach}",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            *(["upgrade-insecure-requests"] if upgrade_insecure else []),
        ]
    )
