"""Public addresses of the site's pages, built the same inside a request or outside one.

The base is PUBLIC_BASE_URL, else the host of the request being answered. A command
or a print worker has no request: it builds paths from the URL map and puts the base
in front, so an e-mail sent from the command line links where a page would.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, url_for


def configured_base_url() -> str:
    """Return PUBLIC_BASE_URL without its trailing slash; empty when it is not set."""
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")


def site_url() -> str:
    """Return the public site's address: PUBLIC_BASE_URL, else this request's host."""
    base = configured_base_url()
    if not base:
        base = str(request.host_url).rstrip("/") if has_request_context() else "http://localhost"
    return base


def site_path(endpoint: str, **values: Any) -> str:
    """Return the path of one of the site's pages, outside a request too (a print worker)."""
    if has_request_context():
        return url_for(endpoint, **values)
    adapter = current_app.url_map.bind(
        "localhost", script_name=current_app.config["APPLICATION_ROOT"]
    )
    return adapter.build(endpoint, values)


def public_url(path: str, base_url: str | None = None) -> str:
    """Return an absolute address on the public site (at `base_url`, else `site_url()`)."""
    return (base_url or site_url()).rstrip("/") + path


def page_url(endpoint: str, base_url: str | None = None, **values: Any) -> str:
    """Return the absolute address of one of the site's pages, for an e-mail.

    At `base_url`, else PUBLIC_BASE_URL; without either, Flask's own external address
    (this request's host, or SERVER_NAME on the command line).
    """
    base = (base_url or configured_base_url()).rstrip("/")
    if not base:
        return url_for(endpoint, _external=True, **values)
    return base + site_path(endpoint, **values)


def can_build_links() -> bool:
    """Return whether absolute links can be built here, inside a request or not."""
    config = current_app.config
    return has_request_context() or bool(config["PUBLIC_BASE_URL"] or config["SERVER_NAME"])
