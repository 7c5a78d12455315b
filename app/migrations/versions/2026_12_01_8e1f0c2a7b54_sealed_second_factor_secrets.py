"""sealed second-factor secrets

Revision ID: 8e1f0c2a7b54
Revises: fa245d1ba0dd
Create Date: 2026-12-01 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '8e1f0c2a7b54'
down_revision = 'fa245d1ba0dd'
branch_labels = None
depends_on = None

user = sa.table('user', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def upgrade():
    from app.services import mfa

    # A sealed secret is longer than the plain base32 one.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column(
            'totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255)
        )
    # Seal the secrets stored in clear (the application also reads them as they are).
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(user.c.id, user.c.totp_secret).where(
            user.c.totp_secret.is_not(None), ~user.c.totp_secret.startswith(mfa.SEALED)
        )
    ).all()
    for row in rows:
        connection.execute(
            user.update().where(user.c.id == row.id).values(totp_secret=mfa.seal(row.totp_secret))
        )


def downgrade():
    from app.services import mfa

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(user.c.id, user.c.totp_secret).where(user.c.totp_secret.is_not(None))
    ).all()
    for row in rows:
        connection.execute(
            user.update().where(user.c.id == row.id).values(totp_secret=mfa.unseal(row.totp_secret))
        )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column(
            'totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64)
        )
