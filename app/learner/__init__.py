"""The peacekeeper's own training: modules, quizzes, results and certificates."""

from flask import Blueprint

from app.access import guard

bp = Blueprint("learner", __name__, url_prefix="/training")
# Every signed-in person may take their own training, whatever else they do.
guard(bp)

from app.learner import views  # noqa: E402, F401
