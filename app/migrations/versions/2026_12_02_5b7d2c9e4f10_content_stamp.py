"""content stamp: which state of the published content instances hold in memory

Revision ID: 5b7d2c9e4f10
Revises: 5f3e9b7c2d14
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '5b7d2c9e4f10'
down_revision = '5f3e9b7c2d14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'content_stamp',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stamp', sa.String(length=32), nullable=False),
        sa.Column('changed_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_stamp')),
    )


def downgrade():
    op.drop_table('content_stamp')
