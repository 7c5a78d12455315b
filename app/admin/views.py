"""The administrator's view of published modules."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.orm import selectinload

from app.admin import bp
from app.extensions import db
from app.models import TrainingModule


@bp.route("/")
def index() -> str:
    modules = db.session.scalars(
        sa.select(TrainingModule)
        .options(selectinload(TrainingModule.versions))
        .order_by(TrainingModule.slug)
    ).all()
    return render_template("admin/index.html", modules=modules)
