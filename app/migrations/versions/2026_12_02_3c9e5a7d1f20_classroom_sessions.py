"""facilitated classroom sessions, their answer sheets, and how completions were earned

Revision ID: 3c9e5a7d1f20
Revises: 8a1c5e2d7f30
Create Date: 2026-12-02 16:15:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '3c9e5a7d1f20'
down_revision = '8a1c5e2d7f30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('classroom_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['user.id'], name=op.f('fk_classroom_session_cancelled_by_id_user')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_classroom_session_created_by_id_user')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_classroom_session_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_classroom_session_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classroom_session')),
    sa.UniqueConstraint('code', name=op.f('uq_classroom_session_code'))
    )
    with op.batch_alter_table('classroom_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classroom_session_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_classroom_session_unit_id'), ['unit_id'], unique=False)

    op.create_table('answer_sheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('module_version_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('printed_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempt.id'], name=op.f('fk_answer_sheet_attempt_id_quiz_attempt')),
    sa.ForeignKeyConstraint(['module_version_id'], ['module_version.id'], name=op.f('fk_answer_sheet_module_version_id_module_version')),
    sa.ForeignKeyConstraint(['session_id'], ['classroom_session.id'], name=op.f('fk_answer_sheet_session_id_classroom_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_answer_sheet_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_sheet')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_answer_sheet_attempt_id')),
    sa.UniqueConstraint('code', name=op.f('uq_answer_sheet_code')),
    sa.UniqueConstraint('session_id', 'user_id', 'module_version_id', name=op.f('uq_answer_sheet_session_id_user_id_module_version_id'))
    )
    with op.batch_alter_table('answer_sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_sheet_session_id'), ['session_id'], unique=False)

    op.create_table('classroom_facilitator',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['classroom_session.id'], name=op.f('fk_classroom_facilitator_session_id_classroom_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_classroom_facilitator_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'user_id', name=op.f('pk_classroom_facilitator'))
    )
    op.create_table('classroom_participant',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['classroom_session.id'], name=op.f('fk_classroom_participant_session_id_classroom_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_classroom_participant_user_id_user')),
    sa.PrimaryKeyConstraint('session_id', 'user_id', name=op.f('pk_classroom_participant'))
    )
    with op.batch_alter_table('classroom_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classroom_participant_user_id'), ['user_id'], unique=False)

    op.create_table('classroom_session_module',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('module_version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['module_version_id'], ['module_version.id'], name=op.f('fk_classroom_session_module_module_version_id_module_version')),
    sa.ForeignKeyConstraint(['session_id'], ['classroom_session.id'], name=op.f('fk_classroom_session_module_session_id_classroom_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'module_version_id', name=op.f('pk_classroom_session_module'))
    )
    with op.batch_alter_table('attestation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attested_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_attestation_session_id_classroom_session'), 'classroom_session', ['session_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_attestation_attested_by_id_user'), 'user', ['attested_by_id'], ['id'])

    with op.batch_alter_table('completion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_mode', sa.Enum('online', 'classroom', name='deliverymode', native_enum=False, length=16), server_default='online', nullable=False))
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('facilitator_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_completion_session_id'), ['session_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_completion_facilitator_id_user'), 'user', ['facilitator_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_completion_session_id_classroom_session'), 'classroom_session', ['session_id'], ['id'])



def downgrade():
    with op.batch_alter_table('completion', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_completion_session_id_classroom_session'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_completion_facilitator_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_completion_session_id'))
        batch_op.drop_column('facilitator_id')
        batch_op.drop_column('session_id')
        batch_op.drop_column('delivery_mode')

    with op.batch_alter_table('attestation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attestation_attested_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_attestation_session_id_classroom_session'), type_='foreignkey')
        batch_op.drop_column('attested_by_id')
        batch_op.drop_column('session_id')

    op.drop_table('classroom_session_module')
    with op.batch_alter_table('classroom_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classroom_participant_user_id'))

    op.drop_table('classroom_participant')
    op.drop_table('classroom_facilitator')
    with op.batch_alter_table('answer_sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_sheet_session_id'))

    op.drop_table('answer_sheet')
    with op.batch_alter_table('classroom_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classroom_session_unit_id'))
        batch_op.drop_index(batch_op.f('ix_classroom_session_held_on'))

    op.drop_table('classroom_session')
