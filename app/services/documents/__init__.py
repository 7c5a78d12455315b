"""Stored documents: certificates and training records rendered once, and print files.

Callers use `from app.services import documents` and `documents.<name>`: every public
name of the package's modules is available here.
"""

from app.services.documents.issued import (
    SLICE,
    RenderedRecord,
    StoredRecord,
    certificate_document,
    own_session,
    record_document,
    record_documents,
    render_record,
    stored_records,
)
from app.services.documents.keeping import (
    discard,
    keep,
    keep_file,
    published_keys,
    servable,
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
    "DatabaseStore",
    "DirectoryStore",
    "DocumentStore",
    "RenderedRecord",
    "S3Store",
    "StoredRecord",
    "certificate_document",
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
    "render_record",
    "s3_client",
    "servable",
    "store_for",
    "stored_records",
]
