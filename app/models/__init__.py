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
from app.models.training import (
    Attestation,
    Certificate,
    Completion,
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
    "Role",
    "RosterUpload",
    "TrainingModule",
    "TrainingRecord",
    "Unit",
    "User",
]
