"""Roster files: read a CSV, XLSX or ODS file of personnel, preview what it would change,
apply it in bulk.

Rows are numbered as a spreadsheet shows them: row 1 is the header, so the first
person is row 2. Every problem reads `row N, column X: message`.

parse reads the file into rows, values checks each value, plan compares the rows with
the people on the platform (the preview), importing applies them, links e-mails the
set-password links, uploads keeps a file between its preview and its confirmation.
"""

from app.services.roster.importing import ImportResult, apply
from app.services.roster.links import Delivery, email_links
from app.services.roster.model import (
    CHUNK_SIZE,
    COLUMNS,
    MAX_LENGTHS,
    REQUIRED_COLUMNS,
    Action,
    LinkedAccount,
    Person,
    Preview,
    Problem,
    RosterError,
    RosterRow,
)
from app.services.roster.parse import file_problem
from app.services.roster.plan import preview
from app.services.roster.uploads import UPLOAD_LIFETIME, claim_upload, find_upload, store_upload
from app.services.roster.values import category_names

__all__ = [
    "CHUNK_SIZE",
    "COLUMNS",
    "MAX_LENGTHS",
    "REQUIRED_COLUMNS",
    "UPLOAD_LIFETIME",
    "Action",
    "Delivery",
    "ImportResult",
    "LinkedAccount",
    "Person",
    "Preview",
    "Problem",
    "RosterError",
    "RosterRow",
    "apply",
    "category_names",
    "claim_upload",
    "email_links",
    "file_problem",
    "find_upload",
    "preview",
    "store_upload",
]
