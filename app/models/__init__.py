"""Typed SQLAlchemy models, one file per domain area."""

from app.models.organisation import Mission, PersonnelCategory, Position, Role, Unit, User
from app.models.training import (
    Attestation,
    Certificate,
    Completion,
    ModuleVersion,
    QuizAttempt,
    TrainingModule,
)

__all__ = [
    "Attestation",
    "Certificate",
    "Completion",
    "Mission",
    "ModuleVersion",
    "PersonnelCategory",
    "Position",
    "QuizAttempt",
    "Role",
    "TrainingModule",
    "Unit",
    "User",
]
