"""stored documents: certificates, training records and print files rendered once

Revision ID: 5f3e9b7c2d14
Revises: a10c0e7e5b1d
Create Date: 2026-12-02 09:00:00.000000

"""
import hashlib

from alembic import op
import sqlalchemy as sa

import app.models.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '5f3e9b7c2d14'
down_revision = 'a10c0e7e5b1d'
branch_labels = None
depends_on = None

# As app/services/documents/store.py writes them.
CHUNK_SIZE = 1024 * 1024


def upgrade():
    op.create_table(
        'document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('certificate_id', sa.Integer(), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=16), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('withdrawn_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_document_certificate_id_certificate')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_document_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
        sa.UniqueConstraint('fingerprint', 'key_id', name=op.f('uq_document_fingerprint_key_id')),
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_digest'), ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_user_id'), ['user_id'], unique=False)
    op.create_table(
        'document_chunk',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('digest', 'number', name=op.f('pk_document_chunk')),
    )
    with op.batch_alter_table('print_job_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))

    # The files of finished jobs move to the document store (the database, as before).
    connection = op.get_bind()
    files = connection.execute(sa.text('SELECT job_id, content FROM print_job_file')).all()
    for job_id, content in files:
        content = bytes(content)
        digest = hashlib.sha256(content).hexdigest()
        for number, start in enumerate(range(0, max(len(content), 1), CHUNK_SIZE)):
            connection.execute(
                sa.text('INSERT INTO document_chunk (digest, number, content) VALUES (:d, :n, :c)'),
                {'d': digest, 'n': number, 'c': content[start:start + CHUNK_SIZE]},
            )
        document_id = connection.execute(
            sa.text(
                "INSERT INTO document (kind, fingerprint, key_id, digest, size, pages, created_at) "
                "VALUES ('batch', :d, '', :d, :size, 0, CURRENT_TIMESTAMP) RETURNING id"
            ),
            {'d': digest, 'size': len(content)},
        ).scalar_one()
        connection.execute(
            sa.text('UPDATE print_job_file SET document_id = :document WHERE job_id = :job'),
            {'document': document_id, 'job': job_id},
        )

    with op.batch_alter_table('print_job_file', schema=None) as batch_op:
        batch_op.alter_column('document_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_print_job_file_document_id'), ['document_id'])
        batch_op.create_foreign_key(batch_op.f('fk_print_job_file_document_id_document'), 'document', ['document_id'], ['id'])
        batch_op.drop_column('content')


def downgrade():
    with op.batch_alter_table('print_job_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content', sa.LargeBinary(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text('SELECT f.job_id, d.digest FROM print_job_file f JOIN document d ON d.id = f.document_id')
    ).all()
    for job_id, digest in rows:
        chunks = connection.execute(
            sa.text('SELECT content FROM document_chunk WHERE digest = :d ORDER BY number'), {'d': digest}
        ).scalars()
        connection.execute(
            sa.text('UPDATE print_job_file SET content = :c WHERE job_id = :job'),
            {'c': b''.join(bytes(chunk) for chunk in chunks), 'job': job_id},
        )
    # A file kept in a directory or a bucket cannot come back: its job goes with it.
    connection.execute(sa.text('DELETE FROM print_job_file WHERE content IS NULL'))
    with op.batch_alter_table('print_job_file', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_print_job_file_document_id_document'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_print_job_file_document_id'), type_='unique')
        batch_op.drop_column('document_id')
        batch_op.alter_column('content', existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table('document_chunk')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_user_id'))
        batch_op.drop_index(batch_op.f('ix_document_digest'))
        batch_op.drop_index(batch_op.f('ix_document_certificate_id'))
    op.drop_table('document')
