"""What a device needs to keep modules for use without a connection: the web app
manifest and the service worker (app/static/service-worker.js, app/static/offline.js)."""

from __future__ import annotations

import json

from flask import current_app, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app import assets, i18n
from app.public import bp

# Read by browsers about once a day; it names the icons by their hashed names, which
# stay valid for as long as that version of the icon is served.
MANIFEST_MAX_AGE = 86400
MANIFEST_TYPE = "application/manifest+json"
# A worker must be served from the scope it controls: the site's root, for it keeps
# pages under /training/ and the files under /static/. It has no hashed name, so the
# browser asks again each time it checks for a new version (304 when unchanged).
WORKER = "service-worker.js"
WORKER_CACHE_CONTROL = "no-cache"


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    """Describe the application to a device that installs it, in the page's language."""
    locale = i18n.page_locale()
    document = {
        "name": "Blue Beret",
        "short_name": "Blue Beret",
        "description": _("Blue Beret: conduct training for United Nations peacekeeping personnel."),
        "lang": locale.language,
        "dir": i18n.direction(locale),
        "id": "/",
        "start_url": url_for("auth.index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f5f9e",
        "icons": [
            {
                "src": url_for("static", filename="favicon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
            },
            {"src": url_for("favicon"), "sizes": "16x16 32x32", "type": "image/x-icon"},
        ],
    }
    response = current_app.response_class(
        json.dumps(document, ensure_ascii=False, indent=2), mimetype=MANIFEST_TYPE
    )
    response.headers["Cache-Control"] = f"public, max-age={MANIFEST_MAX_AGE}"
    response.vary.update(("Accept-Language", "Cookie"))
    return response


@bp.route("/" + WORKER)
def service_worker() -> Response:
    """Send the service worker, for the whole site, checked again at each update check."""
    response = assets.send(current_app.extensions["assets"][WORKER], WORKER_CACHE_CONTROL)
    response.headers["Service-Worker-Allowed"] = "/"
    return response
