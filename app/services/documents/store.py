"""Where rendered files are kept, named by the SHA-256 of their bytes: DOCUMENT_STORE.

- `database` (the default): in the document_chunk table, in pieces of CHUNK_SIZE;
- a directory every instance can read and write (a shared volume): one file per digest;
- `s3://bucket/prefix`: objects of an S3-compatible bucket (boto3, the `s3` extra).

Files are written and read a piece at a time, so a print batch of any size passes
through memory one piece at a time. A file is never changed once written: putting the
same digest again does nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import DocumentChunk

CHUNK_SIZE = 1024 * 1024
DATABASE = "database"


class DocumentStore(Protocol):
    """Files named by their digest: put once, read in pieces."""

    def put(self, digest: str, source: BinaryIO) -> None:
        """Keep the bytes of `source` (read from where it stands) under their digest."""

    def chunks(self, digest: str) -> Iterator[bytes]:
        """Yield a file's bytes, a piece at a time."""

    def delete(self, digests: Collection[str]) -> None:
        """Remove files that nothing refers to any more."""


def digest_of(source: BinaryIO) -> str:
    """Return the SHA-256 of a file's bytes (hex), read a piece at a time from its start."""
    source.seek(0)
    hashed = hashlib.sha256()
    while piece := source.read(CHUNK_SIZE):
        hashed.update(piece)
    source.seek(0)
    return hashed.hexdigest()


def read(store: DocumentStore, digest: str) -> bytes:
    """Return a whole file (for the small ones: a certificate, a record)."""
    return b"".join(store.chunks(digest))


class DatabaseStore:
    """Files in the database, in pieces: every instance reads them, backups hold them."""

    def put(self, digest: str, source: BinaryIO) -> None:
        exists = db.session.scalar(
            sa.select(DocumentChunk.number).where(
                DocumentChunk.digest == digest, DocumentChunk.number == 0
            )
        )
        if exists is not None:
            return
        dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
        number = 0
        while True:
            piece = source.read(CHUNK_SIZE)
            if not piece and number > 0:
                break
            db.session.execute(
                dialect.insert(DocumentChunk)
                .values(digest=digest, number=number, content=piece)
                .on_conflict_do_nothing()
            )
            number += 1
            if len(piece) < CHUNK_SIZE:
                break

    def chunks(self, digest: str) -> Iterator[bytes]:
        for number in range(2**31):
            piece = db.session.scalar(
                sa.select(DocumentChunk.content).where(
                    DocumentChunk.digest == digest, DocumentChunk.number == number
                )
            )
            if piece is None:
                if number == 0:
                    raise FileNotFoundError(digest)
                return
            yield bytes(piece)

    def delete(self, digests: Collection[str]) -> None:
        # In the caller's transaction: rolled back with it.
        db.session.execute(sa.delete(DocumentChunk).where(DocumentChunk.digest.in_(digests)))


class DirectoryStore:
    """Files in a directory, two levels deep (ab/abcdef…), written whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        """Return where a file is kept."""
        return self.root / digest[:2] / digest

    def put(self, digest: str, source: BinaryIO) -> None:
        path = self.path(digest)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader never sees half a file.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                shutil.copyfileobj(source, file, CHUNK_SIZE)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def chunks(self, digest: str) -> Iterator[bytes]:
        with self.path(digest).open("rb") as file:
            while piece := file.read(CHUNK_SIZE):
                yield piece

    def delete(self, digests: Collection[str]) -> None:
        for digest in digests:
            self.path(digest).unlink(missing_ok=True)


class S3Store:
    """Files as objects of an S3-compatible bucket, under a prefix."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def key(self, digest: str) -> str:
        """Return a file's object key."""
        return self.prefix + digest

    def put(self, digest: str, source: BinaryIO) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(digest))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in {"404", "NoSuchKey", "NotFound"}:
                raise
        else:
            return
        # In parts for a large file: never all of it in memory.
        self.client.upload_fileobj(
            source, self.bucket, self.key(digest), ExtraArgs={"ContentType": "application/pdf"}
        )

    def chunks(self, digest: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self.key(digest))["Body"]
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def delete(self, digests: Collection[str]) -> None:
        for digest in digests:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(digest))


def document_store() -> DocumentStore:
    """Return the store DOCUMENT_STORE names."""
    return store_for(str(current_app.config["DOCUMENT_STORE"] or DATABASE))


def store_for(setting: str) -> DocumentStore:
    """Return the store a DOCUMENT_STORE value names (see config.check_document_store)."""
    if setting == DATABASE:
        return DatabaseStore()
    if setting.startswith("s3://"):
        parts = urlsplit(setting)
        prefix = parts.path.strip("/")
        return S3Store(s3_client(), parts.netloc, f"{prefix}/" if prefix else "")
    return DirectoryStore(Path(setting).expanduser())


def is_external(store: DocumentStore) -> bool:
    """Say whether a store keeps its files outside the database's transactions."""
    return not isinstance(store, DatabaseStore)


@lru_cache(maxsize=1)
def s3_client() -> Any:
    """Return an S3 client, configured the usual way (AWS_* variables, AWS_ENDPOINT_URL)."""
    import boto3

    return boto3.client("s3")
