"""Typed SQLAlchemy models, one file per domain area."""

from app.models.organisation import Mission, PersonnelCategory, Position, Role, Unit, User
from app.models.training import (
    Certificate,
    Completion,
    ModuleVersion,
    QuizAttempt,
    TrainingModule,
)

__all__ = [
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
