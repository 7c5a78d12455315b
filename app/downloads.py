"""Files handed to the browser: PDFs of training records and exported tables."""

from __future__ import annotations

import io
from collections.abc import Sequence

from flask import current_app, request, send_file
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response

from app.errors import PDF_SCOPE
from app.extensions import db, limiter
from app.models import AuditAction, User
from app.services import audit, certificates, exports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def person_key() -> str:
    """Count requests per signed-in person, whatever address they come from."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


# Rendering a PDF takes a worker for tens of milliseconds: one person downloading many at
# once would slow everyone's pages. One count for all of a person's PDFs.
pdf_limit = limiter.shared_limit(
    lambda: current_app.config["PDF_LIMIT_PER_USER"], scope=PDF_SCOPE, key_func=person_key
)


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    """Send bytes as a file to save (send_file quotes any name safely)."""
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True,
                     download_name=filename)  # fmt: skip


def training_record(person: User) -> Response:
    """Render and send a person's consolidated training record, recording the download."""
    pdf = certificates.render_pdf(
        current_app.config["CERTIFICATES_DIR"],
        certificates.consolidated_data(person),
        certificates.CONSOLIDATED,
    )
    audit.record(AuditAction.RECORD_DOWNLOADED, person.service_number, {"path": request.path})
    db.session.commit()
    return attachment(pdf, "application/pdf", f"training-record-{person.service_number}.pdf")


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
