"""Stored documents: certificates and training records rendered once, and print files.

Callers use `from app.services import documents` and `documents.<name>`: every public
name of the package's modules is available here.
"""

from app.services.documents.issued import (
    SLICE,
    RenderedRecord,
    StoredRecord,
    certificate_document,
    certificate_file,
    own_session,
    record_document,
    record_documents,
    record_file,
    render_record,
    stored_records,
)
from app.services.documents.keeping import (
    UNSIGNED,
    StoredFile,
    discard,
    keep,
    keep_file,
    published_keys,
    servable,
    servable_file,
    unsigned,
)
from app.services.documents.store import (
    CHUNK_SIZE,
    DatabaseStore,
    DirectoryStore,
    DocumentStore,
    S3Store,
    digest_of,
    document_store,
    is_external,
    read,
    s3_client,
    store_for,
)

__all__ = [
    "CHUNK_SIZE",
    "SLICE",
    "UNSIGNED",
    "DatabaseStore",
    "DirectoryStore",
    "DocumentStore",
    "RenderedRecord",
    "S3Store",
    "StoredFile",
    "StoredRecord",
    "certificate_document",
    "certificate_file",
    "digest_of",
    "discard",
    "document_store",
    "is_external",
    "keep",
    "keep_file",
    "own_session",
    "published_keys",
    "read",
    "record_document",
    "record_documents",
    "record_file",
    "render_record",
    "s3_client",
    "servable",
    "servable_file",
    "store_for",
    "stored_records",
    "unsigned",
]
