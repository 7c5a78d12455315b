"""answers saved on an open quiz attempt; one open attempt per person and module version

Revision ID: 8b2d6f3e8a41
Revises: 5b7d3e91c4a2
Create Date: 2026-12-02 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '8b2d6f3e8a41'
down_revision = '5b7d3e91c4a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('saved_answers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('saved_at', app.models.types.UTCDateTime(timezone=True), nullable=True))
    # Open attempts drawn again before the rule held carry no answers and count for nothing:
    # of each person's open attempts at a version, the latest (the one the quiz continued)
    # is kept.
    op.execute(
        'DELETE FROM quiz_attempt WHERE submitted_at IS NULL AND EXISTS ('
        'SELECT 1 FROM quiz_attempt AS later WHERE later.submitted_at IS NULL'
        ' AND later.user_id = quiz_attempt.user_id'
        ' AND later.module_version_id = quiz_attempt.module_version_id'
        ' AND (later.started_at > quiz_attempt.started_at'
        ' OR (later.started_at = quiz_attempt.started_at AND later.id > quiz_attempt.id)))'
    )
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.create_index(
            'ix_quiz_attempt_open',
            ['user_id', 'module_version_id'],
            unique=True,
            sqlite_where=sa.text('submitted_at IS NULL'),
            postgresql_where=sa.text('submitted_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_attempt_open')
        batch_op.drop_column('saved_at')
        batch_op.drop_column('saved_answers')
