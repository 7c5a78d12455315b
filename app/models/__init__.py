"""Typed SQLAlchemy models, one file per domain area."""

from app.models.organisation import Mission, PersonnelCategory, Position, Role, Unit, User
from app.models.training import (
    Attestation,
    Certificate,
    Completion,
    CurriculumRequirement,
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
    "Attestation",
    "Certificate",
    "Completion",
    "CurriculumRequirement",
    "Mission",
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
