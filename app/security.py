"""Response headers that keep browsers from leaking or misusing our pages."""

from __future__ import annotations

from flask import Response, current_app, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response: Response) -> Response:
    """Add the security headers, and keep personal pages out of shared caches."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    # A stored document says itself that only the person's own browser may keep it.
    private = response.cache_control.private is True
    # The stylesheet, scripts and icons are everyone's, and kept as they say (app/assets.py);
    # so are the manifest and the service worker (app/public/offline.py).
    shared = request.endpoint in (
        "static",
        "favicon",
        "public.manifest",
        "public.service_worker",
    )
    if current_user.is_authenticated and not shared and not private:
        response.headers["Cache-Control"] = "no-store"
    return response
