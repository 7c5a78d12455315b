"""Files handed to the browser: stored PDFs (certificates, records, batches) and exported tables."""

from __future__ import annotations

import io
from collections.abc import Sequence

from flask import current_app, request, send_file, stream_with_context
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.http import is_resource_modified
from werkzeug.wrappers import Response

from app.errors import PDF_SCOPE
from app.extensions import db, limiter
from app.models import AuditAction, Document, User
from app.services import audit, documents, exports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def person_key() -> str:
    """Count requests per signed-in person, whatever address they come from."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


# A PDF that changed is rendered on the download, which takes a worker for tens of
# milliseconds: one person downloading many at once would slow everyone's pages. One
# count for all of a person's PDFs.
pdf_limit = limiter.shared_limit(
    lambda: current_app.config["PDF_LIMIT_PER_USER"], scope=PDF_SCOPE, key_func=person_key
)


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    """Send bytes as a file to save (send_file quotes any name safely)."""
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True,
                     download_name=filename)  # fmt: skip


def stored(
    document: Document | documents.StoredFile, filename: str, mimetype: str = "application/pdf"
) -> Response:
    """Send a file of the document store to save, named by its digest (a strong ETag).

    A browser that holds this very file (If-None-Match) gets 304, and the file is not
    read. Only the person's own browser may keep it, and it asks each time: a revoked
    certificate is refused at once. Bytes already read along with the document are sent
    as they are.
    """
    if not is_resource_modified(request.environ, etag=document.digest):
        response = Response(status=304)
    elif document.size <= documents.CHUNK_SIZE:
        read_along = document.body if isinstance(document, documents.StoredFile) else None
        body = read_along or documents.read(documents.document_store(), document.digest)
        response = send_file(
            io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=filename
        )
    else:
        # A print batch: sent a piece at a time, as the store reads it.
        pieces = documents.document_store().chunks(document.digest)
        response = Response(stream_with_context(pieces), mimetype=mimetype, direct_passthrough=True)
        response.headers.set("Content-Disposition", "attachment", filename=filename)
        response.content_length = document.size
    response.set_etag(document.digest)
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


def training_record(person: User) -> Response:
    """Send a person's training record, as stored unless it changed; record the download."""
    document = documents.record_file(person)
    audit.record(AuditAction.RECORD_DOWNLOADED, person.service_number, {"path": request.path})
    filename = f"training-record-{person.service_number}.pdf"  # before the commit expires it
    db.session.commit()
    return stored(document, filename)


def table(
    fmt: str, headers: Sequence[str], rows: Sequence[Sequence[object]], name: str
) -> Response:
    """Export a table as CSV or XLSX, recording the export in the audit trail."""
    if fmt == "csv":
        body, mimetype = exports.to_csv(headers, rows), "text/csv"
    else:
        body, mimetype = exports.to_xlsx(headers, rows, name), XLSX
    audit.record(AuditAction.EXPORT, request.full_path, {"rows": len(rows)})
    db.session.commit()
    return attachment(body, mimetype, f"{name}.{fmt}")
