"""Results entered from the answer sheets: the grid, its preview and its confirmation."""

from app.classroom import bp  # noqa: F401
