"""Typed SQLAlchemy models, one file per domain area."""

from app.models.audit import AuditAction, AuditEntry
from app.models.documents import Document, DocumentChunk, DocumentKind
from app.models.organisation import (
    CATEGORY_LABELS,
    Mission,
    PersonnelCategory,
    Position,
    Role,
    Unit,
    User,
)
from app.models.reports import ReportAnchor, ReportCount
from app.models.training import (
    Attestation,
    Certificate,
    Completion,
    ContentStamp,
    CurriculumRequirement,
    MissionAnnex,
    ModuleVersion,
    PrintJob,
    PrintJobFile,
    PrintJobStatus,
    QuizAttempt,
    Reminder,
    RosterUpload,
    TrainingModule,
    TrainingRecord,
)

__all__ = [
    "CATEGORY_LABELS",
    "Attestation",
    "AuditAction",
    "AuditEntry",
    "Certificate",
    "Completion",
    "ContentStamp",
    "CurriculumRequirement",
    "Document",
    "DocumentChunk",
    "DocumentKind",
    "Mission",
    "MissionAnnex",
    "ModuleVersion",
    "PersonnelCategory",
    "Position",
    "PrintJob",
    "PrintJobFile",
    "PrintJobStatus",
    "QuizAttempt",
    "Reminder",
    "ReportAnchor",
    "ReportCount",
    "Role",
    "RosterUpload",
    "TrainingModule",
    "TrainingRecord",
    "Unit",
    "User",
]
