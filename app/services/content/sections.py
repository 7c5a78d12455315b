"""Cut a rendered lesson into its sections, one for each `##` heading, to read one at a time.

Done once per version and language (`ModuleContent.of`, `Snapshot.sections`), never per
request. A translation keeps its source's structure and anchors, so it is cut into the
same sections with the same anchors: a learner who switches language stays where they are.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# The lesson's HTML comes from markdown.render (sanitised): its `##` headings are top-level
# `<h2 id="...">` elements, never nested in another element.
H2_RE = re.compile(r"<h2 id=\"(?P<anchor>[^\"]*)\">(?P<title>.*?)</h2>", re.DOTALL)
ANCHOR_RE = re.compile(r"<h[1-6] id=\"([^\"]*)\"")
TAG_RE = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Section:
    """One section of a lesson: its number (from 1), heading, anchor and sanitised HTML."""

    number: int
    anchor: str
    title: str
    # Sanitised when the module was loaded (markdown.render), like the lesson it is cut from.
    html: str
    # Every heading id in the section: where a link to one of its headings goes.
    anchors: tuple[str, ...]


def split(body_html: str) -> tuple[Section, ...]:
    """Return a lesson's sections; what comes before the first `##` opens the first."""
    starts = list(H2_RE.finditer(body_html))
    if not starts:
        return (_section(1, "", "", body_html),) if body_html.strip() else ()
    sections = []
    for number, match in enumerate(starts, start=1):
        begin = 0 if number == 1 else match.start()
        end = starts[number].start() if number < len(starts) else len(body_html)
        title = html.unescape(TAG_RE.sub("", match["title"])).strip()
        sections.append(_section(number, match["anchor"], title, body_html[begin:end]))
    return tuple(sections)


def _section(number: int, anchor: str, title: str, part: str) -> Section:
    # Cut only between top-level elements: each part stays well-formed.
    return Section(number, anchor, title, part.strip(), tuple(ANCHOR_RE.findall(part)))


def containing(sections: tuple[Section, ...], anchor: str) -> int:
    """Return the number of the section holding the heading `anchor` (1 if none does)."""
    return next((s.number for s in sections if anchor in s.anchors), 1)
