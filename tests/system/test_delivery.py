"""What a slow link carries: pages compressed, static files kept a year, an icon found."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from app import assets

STATIC = Path(assets.__file__).parent / "static"
LINKED = re.compile(r'(?:href|src)="(/static/[^"]+)"')
GZIP = {"Accept-Encoding": "gzip"}


def linked(page: str) -> dict[str, str]:
    """Return the static files a page links, by their plain name: {"style.css": url}."""
    found = {}
    for url in LINKED.findall(page):
        name = re.sub(r"\.[0-9a-f]{10}(\.\w+)$", r"\1", url.removeprefix("/static/"))
        found[name] = url
    return found


def test_a_page_is_compressed_for_a_browser_that_reads_gzip_or_brotli(client):
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers
    zipped = client.get("/login", headers=GZIP)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 2
    best = client.get("/login", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert best.headers["Content-Encoding"] == "br"
    assert brotli.decompress(best.data) == plain.data
    # Still the same page, headers included.
    assert zipped.headers["Content-Security-Policy"] == plain.headers["Content-Security-Policy"]


def test_every_static_file_is_linked_by_its_content_and_kept_a_year(client):
    page = client.get("/login").get_data(as_text=True)
    urls = linked(page)
    assert set(urls) == {"style.css", "favicon.svg"}
    for name, url in urls.items():
        body = (STATIC / name).read_bytes()
        assert url == "/static/" + assets.hashed_name(name, body)
        response = client.get(url)
        assert response.status_code == 200 and response.data == body
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    script = client.get("/set-password").get_data(as_text=True)
    assert linked(script)["set-password.js"].startswith("/static/set-password.")


def test_a_changed_file_gets_another_name():
    assert assets.hashed_name("style.css", b"a {}") != assets.hashed_name("style.css", b"b {}")
    assert re.fullmatch(r"style\.[0-9a-f]{10}\.css", assets.hashed_name("style.css", b"a {}"))


def test_static_files_are_sent_compressed_as_the_browser_reads_them(client):
    url = linked(client.get("/login").get_data(as_text=True))["style.css"]
    css = (STATIC / "style.css").read_bytes()
    zipped = client.get(url, headers=GZIP)
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == css
    best = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert best.headers["Content-Encoding"] == "br" and brotli.decompress(best.data) == css
    assert "Accept-Encoding" in best.headers["Vary"]
    # Each encoding has its own validator: a cache never mixes them up.
    assert len({zipped.headers["ETag"], best.headers["ETag"], client.get(url).headers["ETag"]}) == 3
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.data == css


def test_the_plain_name_still_answers_briefly_kept(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.data == (STATIC / "style.css").read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert client.get("/static/no-such-file.css").status_code == 404
    assert client.get("/static/style.0000000000.css").status_code == 404


def test_a_signed_in_persons_static_files_are_kept_all_the_same(client, make_user, login):
    login(make_user())
    url = linked(client.get("/training/").get_data(as_text=True))["style.css"]
    assert client.get(url).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/favicon.ico").headers["Cache-Control"] == "public, max-age=86400"
    assert client.get("/training/").headers["Cache-Control"] == "no-store"


def test_the_icon_is_found_at_its_usual_address_and_linked_by_every_page(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/verify").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert icon
    svg = client.get(icon.group(1))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_the_second_factor_key_is_never_sent_compressed(client, make_user, login, encoding):
    """A secret shown again on each request, beside text from the address, would leak
    through the sizes of compressed responses (BREACH)."""
    login(make_user())
    page = client.get("/account/second-factor?next=x", headers={"Accept-Encoding": encoding})
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
    assert "<code>" in page.get_data(as_text=True)
    other = client.get("/training/", headers={"Accept-Encoding": encoding})
    assert other.headers["Content-Encoding"] == encoding
