"""Modules and mission annexes in other languages, from gettext catalogs of their text.

segments cuts a source file into the texts to translate, catalogs reads and measures the
catalogs (coverage, stale and mismatched strings), importing builds a catalog from a
parallel Markdown translation, store renders complete translations when modules are
loaded, and serving gives a learner the texts of the language they read.
"""

from app.services.translations.catalogs import SOURCE_LANGUAGE, TranslationStatus
from app.services.translations.serving import (
    AnnexText,
    ModuleText,
    annex_text,
    in_title_order,
    language_name,
    module_text,
    quiz_in,
    served_language,
    titles,
    titles_by_module,
    wanted_language,
)
from app.services.translations.store import sync_translations

__all__ = [
    "SOURCE_LANGUAGE",
    "AnnexText",
    "ModuleText",
    "TranslationStatus",
    "annex_text",
    "in_title_order",
    "language_name",
    "module_text",
    "quiz_in",
    "served_language",
    "sync_translations",
    "titles",
    "titles_by_module",
    "wanted_language",
]
