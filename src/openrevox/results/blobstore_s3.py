"""The S3-compatible blob store (AWS S3, MinIO, Ceph, R2, ...), for API processes on
several machines. boto3 is synchronous: every call runs in a worker thread.

A ``PutObject`` is atomic in S3 (the object appears whole or not at all), which gives the
same guarantee as the local store's write-then-rename.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from openrevox.results.blobstore import BlobInfo, BlobNotFound, check_key

_MISSING = {"NoSuchKey", "404", "NotFound"}


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class S3BlobStore:
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        if client is None:
            # Path-style addressing for custom endpoints (MinIO and most emulators).
            style = "path" if endpoint_url else "auto"
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                config=Config(
                    s3={"addressing_style": style},
                    retries={"max_attempts": 4, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=30,
                ),
            )
        self._s3 = client  # boto3 clients are thread-safe

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def local_path(self, key: str) -> Path | None:
        return None

    async def put(self, key: str, data: bytes) -> None:
        name = self._name(key)
        await asyncio.to_thread(
            self._s3.put_object, Bucket=self.bucket, Key=name, Body=data, ContentType=_type(key)
        )

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, self._name(key), None)

    async def read_range(self, key: str, start: int, end: int) -> bytes:
        if start < 0 or end < start:
            raise ValueError(f"invalid range {start}-{end}")
        return await asyncio.to_thread(self._get, self._name(key), f"bytes={start}-{end}")

    def _get(self, name: str, byte_range: str | None) -> bytes:
        extra = {"Range": byte_range} if byte_range else {}
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=name, **extra)
        except ClientError as error:
            if _missing(error):
                raise BlobNotFound(name) from None
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # start lies past the end
            raise
        body = response["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    async def stat(self, key: str) -> BlobInfo | None:
        name = self._name(key)
        try:
            head = await asyncio.to_thread(self._s3.head_object, Bucket=self.bucket, Key=name)
        except ClientError as error:
            if _missing(error):
                return None
            raise
        return BlobInfo(key, int(head["ContentLength"]), _utc(head["LastModified"]))

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    async def delete(self, key: str) -> bool:
        # S3 deletes are idempotent and say nothing of absence: ask first.
        if not await self.exists(key):
            return False
        await asyncio.to_thread(self._s3.delete_object, Bucket=self.bucket, Key=self._name(key))
        return True

    async def list_older_than(self, cutoff: datetime) -> list[BlobInfo]:
        return await asyncio.to_thread(self._older, cutoff)

    def _older(self, cutoff: datetime) -> list[BlobInfo]:
        found: list[BlobInfo] = []
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                modified = _utc(item["LastModified"])
                key = str(item["Key"])[len(self.prefix) :]
                if modified < cutoff and _valid(key):
                    found.append(BlobInfo(key, int(item["Size"]), modified))
        return found

    async def aclose(self) -> None:
        await asyncio.to_thread(self._s3.close)


def _valid(key: str) -> bool:
    try:
        check_key(key)
    except ValueError:
        return False  # not written through this interface
    return True


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _type(key: str) -> str:
    return "audio/wav" if key.endswith(".wav") else "application/octet-stream"
