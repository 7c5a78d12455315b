"""sources cited by module versions, mission annexes

Revision ID: a10c0e7e5b1d
Revises: 8e1f0c2a7b54
Create Date: 2026-12-01 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'a10c0e7e5b1d'
down_revision = '8e1f0c2a7b54'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('module_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sources', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('mission_annex', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'mission_annex',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mission_code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('is_example', sa.Boolean(), nullable=False),
        sa.Column('reviewed_on', sa.Date(), nullable=False),
        sa.Column('contacts', sa.JSON(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mission_annex')),
        sa.UniqueConstraint('mission_code', name=op.f('uq_mission_annex_mission_code')),
    )


def downgrade():
    op.drop_table('mission_annex')
    with op.batch_alter_table('module_version', schema=None) as batch_op:
        batch_op.drop_column('mission_annex')
        batch_op.drop_column('sources')
