"""The session pack: handout, answer sheets and attendance sheet, as one PDF."""

from app.classroom import bp  # noqa: F401
