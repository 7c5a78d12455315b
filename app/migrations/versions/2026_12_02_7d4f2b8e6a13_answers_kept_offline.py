"""when the answers of a quiz attempt were given on the device, and when they arrived

Revision ID: 7d4f2b8e6a13
Revises: 3c9e5a7d1f20
Create Date: 2026-12-02 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = '7d4f2b8e6a13'
down_revision = '3c9e5a7d1f20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_at', app.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('arrived_at', app.models.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_column('arrived_at')
        batch_op.drop_column('answered_at')
