"""module and mission annex translations; the language of attempts, completions, undertakings

Revision ID: 5b7d3e91c4a2
Revises: 5b7e9d41c2a8
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '5b7d3e91c4a2'
down_revision = '5b7e9d41c2a8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'module_translation',
        sa.Column('module_version_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('complete', sa.Boolean(), nullable=False),
        sa.Column('translated', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('attestation', sa.Text(), nullable=True),
        sa.Column('body_html', sa.Text(), nullable=True),
        sa.Column('toc_html', sa.Text(), nullable=True),
        sa.Column('quiz', sa.JSON(), nullable=True),
        sa.Column('rendered_at', app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['module_version_id'], ['module_version.id'], name=op.f('fk_module_translation_module_version_id_module_version')),
        sa.PrimaryKeyConstraint('module_version_id', 'language', name=op.f('pk_module_translation')),
    )
    op.create_table(
        'mission_annex_translation',
        sa.Column('mission_code', sa.String(length=32), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('contacts', sa.JSON(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('mission_code', 'language', name=op.f('pk_mission_annex_translation')),
    )
    for table in ('quiz_attempt', 'completion', 'attestation'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=False, server_default='en'))


def downgrade():
    for table in ('attestation', 'completion', 'quiz_attempt'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('language')
    op.drop_table('mission_annex_translation')
    op.drop_table('module_translation')
