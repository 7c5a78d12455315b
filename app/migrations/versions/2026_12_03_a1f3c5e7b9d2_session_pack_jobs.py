"""a session's pack is printed as a background print job

Revision ID: a1f3c5e7b9d2
Revises: 9e4a1c7b3d52
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1f3c5e7b9d2'
down_revision = '9e4a1c7b3d52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.create_index(batch_op.f('ix_print_job_session_id'), ['session_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_print_job_session_id_classroom_session'), 'classroom_session', ['session_id'], ['id'])


def downgrade():
    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_print_job_session_id_classroom_session'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_print_job_session_id'))
        batch_op.drop_column('language')
        batch_op.drop_column('session_id')
