"""certificates state how they were earned: online, or in a facilitated session

Revision ID: 9e4a1c7b3d52
Revises: 7d4f2b8e6a13
Create Date: 2026-12-02 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e4a1c7b3d52'
down_revision = '7d4f2b8e6a13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_mode', sa.Enum('online', 'classroom', name='deliverymode', native_enum=False, length=16), server_default='online', nullable=False))
        batch_op.add_column(sa.Column('session_place', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('session_held_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('facilitator_name', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('facilitator_name')
        batch_op.drop_column('session_held_on')
        batch_op.drop_column('session_place')
        batch_op.drop_column('delivery_mode')
