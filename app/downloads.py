"""Files handed to the browser: PDFs of training records and exported tables."""

from __future__ import annotations

import io
from collections.abc import Sequence

from flask import current_app, request, send_file
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import AuditAction, User
from app.services import audit, certificates, exports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    """Send bytes as a file to save (send_file quotes any name safely)."""
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True,
                     download_name=filename)  # fmt: skip


def training_record(person: User) -> Response:
    """Render and send a person's consolidated training record."""
    pdf = certificates.render_pdf(
        current_app.config["CERTIFICATES_DIR"],
        certificates.consolidated_data(person),
        certificates.CONSOLIDATED,
    )
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
