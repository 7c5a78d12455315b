"""Training modules written in Markdown: parse, check and load them into the database.

reader parses a module file, questions its quiz, meta checks its front matter,
catalogue checks what spans files (slugs, citations, sections), sync loads the
checked modules into the database.
"""

from app.services.content.catalogue import Catalogue, check_modules, read_catalogue
from app.services.content.meta import (
    CATEGORIES,
    LEADERSHIP_POSITIONS,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
)
from app.services.content.meta import mandatory_categories as _categories
from app.services.content.model import FieldPlace, ModuleError, ModuleSource, Option, Question
from app.services.content.questions import CATEGORY_TAGS, QUESTION_TAGS
from app.services.content.reader import module_paths, read_module, read_modules
from app.services.content.sync import SyncResult, _cited, all_modules, sync_modules
from app.services.frontmatter import Problem, display_path

__all__ = [
    "CATEGORIES",
    "CATEGORY_TAGS",
    "LEADERSHIP_POSITIONS",
    "OPTIONAL_FIELDS",
    "QUESTION_TAGS",
    "REQUIRED_FIELDS",
    "Catalogue",
    "FieldPlace",
    "ModuleError",
    "ModuleSource",
    "Option",
    "Problem",
    "Question",
    "SyncResult",
    "_categories",
    "_cited",
    "all_modules",
    "check_modules",
    "display_path",
    "module_paths",
    "read_catalogue",
    "read_module",
    "read_modules",
    "sync_modules",
]
