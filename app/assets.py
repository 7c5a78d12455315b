"""The stylesheet, scripts and icons, named by their content so browsers keep them for a year.

Over a slow, distant link every request a page makes costs a round trip: a stylesheet a
browser must ask about again on each page doubles what the page costs. Each file in
app/static gets a name holding the first characters of its SHA-256 at start-up
(style.css is linked as style.<hash>.css), and that name is sent as never changing:
a new version of the file has another name. The plain name still answers, kept briefly.

Text files are compressed once at start-up (gzip and, when the browser reads it,
Brotli) rather than on every request.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
from flask import Flask, abort, current_app, request
from werkzeug.wrappers import Response

HASH_LENGTH = 10
IMMUTABLE = "public, max-age=31536000, immutable"
# A page of an older version of the application may still link the plain name.
SHORT = "public, max-age=300"
COMPRESSIBLE = {"text/css", "text/javascript", "image/svg+xml", "application/json"}
# The encodings a browser may choose, best first.
ENCODINGS = ("br", "gzip")


@dataclass(frozen=True)
class Asset:
    """One file of app/static: its bytes, compressed forms, and its hashed name."""

    name: str
    hashed: str
    mimetype: str
    body: bytes
    encoded: dict[str, bytes] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return self.hashed


def hashed_name(name: str, body: bytes) -> str:
    """Return `name` with the first characters of its content's SHA-256 before its suffix."""
    digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
    path = Path(name)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def load(folder: Path) -> dict[str, Asset]:
    """Read every file of the folder, by plain and by hashed name."""
    assets: dict[str, Asset] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        body = path.read_bytes()
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if mimetype == "application/javascript":
            mimetype = "text/javascript"  # RFC 9239
        encoded = {}
        if mimetype in COMPRESSIBLE:
            encoded = {"br": brotli.compress(body, quality=11), "gzip": gzip.compress(body, 9)}
        asset = Asset(name, hashed_name(name, body), mimetype, body, encoded)
        assets[name] = assets[asset.hashed] = asset
    return assets


def register(app: Flask) -> None:
    """Link static files by hashed name and serve them; serve /favicon.ico."""
    assert app.static_folder is not None
    assets = load(Path(app.static_folder))
    app.extensions["assets"] = assets

    @app.url_defaults
    def link_hashed(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and values.get("filename") in assets:
            values["filename"] = assets[values["filename"]].hashed

    app.view_functions["static"] = serve
    app.add_url_rule("/favicon.ico", "favicon", favicon)


def serve(filename: str) -> Response:
    """Send a static file: kept a year under its hashed name, five minutes under its own."""
    asset = current_app.extensions["assets"].get(filename)
    if asset is None:
        abort(404)
    return send(asset, IMMUTABLE if filename == asset.hashed else SHORT)


def favicon() -> Response:
    """Send the icon browsers ask for at /favicon.ico before they read any page."""
    return send(current_app.extensions["assets"]["favicon.ico"], "public, max-age=86400")


def send(asset: Asset, cache_control: str) -> Response:
    """Send an asset, compressed as the browser accepts, or 304 when it holds this version."""
    encoding = next((e for e in ENCODINGS if e in asset.encoded and accepts(e)), None)
    body = asset.encoded[encoding] if encoding else asset.body
    response = Response(body, mimetype=asset.mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    if asset.encoded:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = cache_control
    response.set_etag(f"{asset.etag}-{encoding}" if encoding else asset.etag)
    response.make_conditional(request)
    return response


def accepts(encoding: str) -> bool:
    """Tell whether the request's Accept-Encoding allows the encoding (q > 0)."""
    return request.accept_encodings[encoding] > 0
