"""audit key epoch

Revision ID: fa245d1ba0dd
Revises: c31fbffaf08e
Create Date: 2026-12-01 21:50:00.000000

Entries from before this revision keep their plain SHA-256 hashes (the triggers forbid
rewriting them, and rewriting would destroy the evidence they are): their key_id stays
NULL, marking the epoch before the key. Every entry written after it is an HMAC keyed
with AUDIT_KEY, and `flask audit verify` refuses an unkeyed entry after a keyed one.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fa245d1ba0dd'
down_revision = 'c31fbffaf08e'
branch_labels = None
depends_on = None


def upgrade():
    # Not a batch operation: on SQLite that would copy the table and lose its triggers.
    op.add_column('audit_entry', sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('key_id')
    # SQLite copied the table without its triggers: put them back.
    if op.get_bind().dialect.name != "postgresql":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_entry_no_{event.lower()}")
            op.execute(
                f"CREATE TRIGGER audit_entry_no_{event.lower()} BEFORE {event} ON audit_entry "
                "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
            )
