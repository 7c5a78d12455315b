"""Markdown to sanitised HTML, for content rendered once when modules are loaded."""

from __future__ import annotations

import html
from typing import Any

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "li", "ol", "p", "pre", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "div": {"class"},
    "p": {"class"},
    "span": {"class"},
    "td": {"align"},
    "th": {"align"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
EXTENSIONS = ["toc", "tables", "admonition", "sane_lists", "fenced_code"]


def sanitise(html: str) -> str:
    """Keep only the tags and attributes content may use; drop scripts and handlers."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def _toc(anchors: list[str] | None) -> dict[str, dict[str, Any]]:
    """Configure the contents; with `anchors`, the headings take these ids in their order.

    A translation keeps its source's anchors, so links to a section work in every
    language and in scripts whose headings give no ASCII id.
    """
    config: dict[str, Any] = {"toc_depth": "2-3"}
    if anchors is not None:
        given = iter(anchors)
        config["slugify"] = lambda _text, _separator: next(given, "")
    return {"toc": config}


def render(text: str, anchors: list[str] | None = None) -> tuple[str, str]:
    """Render a lesson, returning its sanitised HTML and table of contents."""
    converter = markdown.Markdown(
        extensions=EXTENSIONS, extension_configs=_toc(anchors), output_format="html"
    )
    html = converter.convert(text)
    toc = getattr(converter, "toc", "")
    return sanitise(html), sanitise(toc)


def heading_ids(text: str, anchors: list[str] | None = None) -> dict[str, str]:
    """Return the anchor of each heading of a lesson, by its text, as render() makes them."""
    converter = markdown.Markdown(extensions=["toc"], extension_configs=_toc(anchors))
    converter.convert(text)
    ids: dict[str, str] = {}

    def walk(tokens: list[dict[str, Any]]) -> None:
        for token in tokens:
            ids.setdefault(html.unescape(token["name"]), token["id"])
            walk(token["children"])

    walk(getattr(converter, "toc_tokens", []))
    return ids


def render_inline(text: str) -> str:
    """Render a short text (a title, an option) without its wrapping paragraph."""
    html = markdown.markdown(text, output_format="html").strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return sanitise(html)
