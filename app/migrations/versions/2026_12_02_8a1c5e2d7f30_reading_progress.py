"""how far each person has read each module version

Revision ID: 8a1c5e2d7f30
Revises: 8b2d6f3e8a41
Create Date: 2026-12-02 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = '8a1c5e2d7f30'
down_revision = '8b2d6f3e8a41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reading_progress',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('module_version_id', sa.Integer(), nullable=False),
    sa.Column('furthest', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.Column('updated_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['module_version_id'], ['module_version.id'], name=op.f('fk_reading_progress_module_version_id_module_version')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_reading_progress_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', 'module_version_id', name=op.f('pk_reading_progress'))
    )


def downgrade():
    op.drop_table('reading_progress')
