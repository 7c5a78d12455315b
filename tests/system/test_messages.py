"""The strings translators receive: everything `make messages` extracts for the catalogs."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

ROOT = Path(__file__).resolve().parents[2]
GETTEXT_CALL = re.compile(r"""\b_\(\s*(["'])(.+?)\1\s*[,)]""")


def extracted_messages() -> dict[str, set[str]]:
    """Extract as `make messages` does, by babel.cfg: {file: its message ids}."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords={"_": None, "_l": None, "gettext": None,
                                                  "ngettext": (1, 2)}
    ):  # fmt: skip
        ids = message if isinstance(message, tuple) else (message,)
        found.setdefault(filename, set()).update(ids)
    return found


def test_every_string_of_every_template_reaches_the_translators() -> None:
    found = extracted_messages()
    templates = sorted(
        path
        for folder in ("app/templates", "certificates")
        for path in (ROOT / folder).rglob("*.html")
    )
    missing = {}
    for path in templates:
        written = {match[1] for match in GETTEXT_CALL.findall(path.read_text())}
        lost = written - found.get(str(path.relative_to(ROOT)), set())
        if lost:
            missing[str(path.relative_to(ROOT))] = sorted(lost)[:3]
    assert templates and not missing
