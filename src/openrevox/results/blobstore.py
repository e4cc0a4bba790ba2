"""Where recordings (and other large files) live: a small interface with a local-directory
default and an S3-compatible backend (``blobstore_s3``) for several machines.

Keys are relative paths such as ``sim/<attempt id>.wav``. A ``put`` is atomic: a reader
sees the previous blob or the new one whole, never a part, so two processes writing the
same key at once cannot leave a corrupt file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from openrevox.settings import Settings

MAX_KEY_LENGTH = 300  # call_attempts.recording_key
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_TEMP_SUFFIX = ".tmp"


class BlobNotFound(KeyError):
    """No blob under that key."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    key: str
    size: int
    modified: datetime  # UTC


def check_key(key: str) -> str:
    """Refuse keys that could leave the store's root (``..``, absolute, hidden names)."""
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(f"invalid blob key {key!r}")
    return key


@runtime_checkable
class BlobStore(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically, replacing any previous blob."""

    async def get(self, key: str) -> bytes:
        """The whole blob; BlobNotFound when absent."""

    async def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` inclusive (clipped to the blob); BlobNotFound."""

    async def stat(self, key: str) -> BlobInfo | None:
        """Size and modification time, or None when absent."""

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> bool:
        """Remove the blob; False when there was none."""

    async def list_older_than(self, cutoff: datetime) -> list[BlobInfo]:
        """Every blob last written before ``cutoff``."""

    def local_path(self, key: str) -> Path | None:
        """A file to send as is (sendfile, ranges), or None for remote stores."""

    async def aclose(self) -> None: ...


class LocalBlobStore:
    """Blobs as files under one directory (the default: ``OPENREVOX_DATA_DIR/recordings``).

    Writes go to a hidden temporary file beside the target and are renamed into place
    (``os.replace`` is atomic on POSIX and Windows).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, self._path(key), data)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{_TEMP_SUFFIX}")
        try:
            with temp.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def read_range(self, key: str, start: int, end: int) -> bytes:
        return await asyncio.to_thread(self._read_range, key, start, end)

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        if start < 0 or end < start:
            raise ValueError(f"invalid range {start}-{end}")
        try:
            with self._path(key).open("rb") as file:
                file.seek(start)
                return file.read(end - start + 1)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def stat(self, key: str) -> BlobInfo | None:
        return await asyncio.to_thread(self._stat, key)

    def _stat(self, key: str) -> BlobInfo | None:
        try:
            found = self._path(key).stat()
        except FileNotFoundError:
            return None
        return BlobInfo(key, found.st_size, datetime.fromtimestamp(found.st_mtime, UTC))

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    async def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        return True

    async def list_older_than(self, cutoff: datetime) -> list[BlobInfo]:
        """Blobs written before ``cutoff``. Temporary files a crash left behind that are
        older than ``cutoff`` are removed on the way (they are never blobs)."""
        return await asyncio.to_thread(lambda: list(self._older(cutoff.timestamp())))

    def _older(self, cutoff: float) -> Iterator[BlobInfo]:
        if not self.root.is_dir():
            return
        for directory, _dirs, files in os.walk(self.root):
            for name in files:
                path = Path(directory, name)
                try:
                    found = path.stat()
                except FileNotFoundError:
                    continue  # deleted meanwhile
                if found.st_mtime >= cutoff:
                    continue
                if name.startswith(".") and name.endswith(_TEMP_SUFFIX):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                    continue
                key = path.relative_to(self.root).as_posix()
                if _KEY.fullmatch(key):
                    modified = datetime.fromtimestamp(found.st_mtime, UTC)
                    yield BlobInfo(key, found.st_size, modified)

    async def aclose(self) -> None:
        return None


def build_blob_store(settings: Settings, *, prefix: str = "recordings") -> BlobStore:
    """The store ``OPENREVOX_BLOB_STORE`` names: ``local`` (a folder of the data dir) or
    ``s3`` (``OPENREVOX_S3_*``; credentials from the usual AWS environment variables)."""
    if settings.blob_store == "local":
        return LocalBlobStore(settings.data_dir / prefix)
    if settings.blob_store == "s3":
        from openrevox.results.blobstore_s3 import S3BlobStore

        if not settings.s3_bucket:
            raise ValueError("OPENREVOX_BLOB_STORE=s3 needs OPENREVOX_S3_BUCKET")
        return S3BlobStore(
            bucket=settings.s3_bucket,
            prefix=f"{prefix}/",
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    raise ValueError(f"unknown OPENREVOX_BLOB_STORE {settings.blob_store!r}: use local or s3")
