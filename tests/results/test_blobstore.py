"""One contract, two blob stores: the local directory and S3 (a moto server over real HTTP)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from openrevox.results.blobstore import (
    BlobNotFound,
    BlobStore,
    LocalBlobStore,
    build_blob_store,
    check_key,
)
from openrevox.results.blobstore_s3 import S3BlobStore
from openrevox.settings import Settings

DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture(params=["local", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> AsyncIterator[BlobStore]:
    if request.param == "local":
        made: BlobStore = LocalBlobStore(tmp_path / "recordings")
    else:
        made = S3BlobStore(
            bucket=s3_bucket, prefix="recordings/", endpoint_url=s3_endpoint, region="us-east-1"
        )
    yield made
    await made.aclose()


async def test_put_then_get_returns_the_bytes(store: BlobStore) -> None:
    await store.put("sim/a.wav", DATA)
    assert await store.get("sim/a.wav") == DATA
    assert await store.exists("sim/a.wav")


async def test_put_replaces_the_previous_blob(store: BlobStore) -> None:
    await store.put("sim/b.wav", b"old contents")
    await store.put("sim/b.wav", b"new")
    assert await store.get("sim/b.wav") == b"new"


async def test_concurrent_puts_leave_one_whole_blob(store: BlobStore) -> None:
    versions = [bytes([n]) * 50_000 for n in range(8)]
    await asyncio.gather(*(store.put("sim/race.wav", data) for data in versions))
    assert await store.get("sim/race.wav") in versions


async def test_absent_blobs(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        await store.get("sim/missing.wav")
    with pytest.raises(BlobNotFound):
        await store.read_range("sim/missing.wav", 0, 10)
    assert await store.stat("sim/missing.wav") is None
    assert not await store.exists("sim/missing.wav")
    assert await store.delete("sim/missing.wav") is False


async def test_read_range_is_inclusive_and_clipped(store: BlobStore) -> None:
    await store.put("sim/r.wav", DATA)
    assert await store.read_range("sim/r.wav", 0, 0) == DATA[:1]
    assert await store.read_range("sim/r.wav", 100, 1099) == DATA[100:1100]
    assert await store.read_range("sim/r.wav", 10_000, 99_999) == DATA[10_000:]
    assert await store.read_range("sim/r.wav", 20_000, 20_010) == b""


async def test_stat_gives_size_and_time(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    await store.put("sim/s.wav", DATA)
    info = await store.stat("sim/s.wav")
    assert info is not None and info.key == "sim/s.wav" and info.size == len(DATA)
    assert before <= info.modified <= datetime.now(UTC) + timedelta(seconds=2)


async def test_delete(store: BlobStore) -> None:
    await store.put("sim/d.wav", DATA)
    assert await store.delete("sim/d.wav") is True
    assert not await store.exists("sim/d.wav")
    assert await store.delete("sim/d.wav") is False


async def test_list_older_than(store: BlobStore) -> None:
    await store.put("sim/one.wav", b"1")
    await store.put("calls/two.wav", b"22")
    past = datetime.now(UTC) - timedelta(hours=1)
    future = datetime.now(UTC) + timedelta(seconds=5)
    assert await store.list_older_than(past) == []
    found = {info.key: info.size for info in await store.list_older_than(future)}
    assert found == {"sim/one.wav": 1, "calls/two.wav": 2}


@pytest.mark.parametrize("key", ["../escape.wav", "/etc/passwd", ".hidden", "a//b", "a/../b", ""])
async def test_keys_that_could_escape_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        await store.put(key, b"x")


def test_check_key_accepts_ordinary_keys() -> None:
    assert check_key("sim/6f1c-attempt.wav") == "sim/6f1c-attempt.wav"


async def test_local_store_serves_files_and_sweeps_crash_leftovers(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.put("sim/x.wav", DATA)
    path = store.local_path("sim/x.wav")
    assert path is not None and path.read_bytes() == DATA
    leftover = tmp_path / "sim" / ".x.wav.0123.tmp"
    leftover.write_bytes(b"partial")
    old = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(leftover, (old, old))
    os.utime(path, (old, old))
    found = await store.list_older_than(datetime.now(UTC) - timedelta(days=1))
    assert [info.key for info in found] == ["sim/x.wav"]  # the leftover is no blob...
    assert not leftover.exists()  # ...and is gone


async def test_s3_objects_live_under_the_prefix(s3_endpoint: str, s3_bucket: str) -> None:
    store = S3BlobStore(bucket=s3_bucket, prefix="recordings/", endpoint_url=s3_endpoint)
    await store.put("sim/p.wav", DATA)
    assert store.local_path("sim/p.wav") is None
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    head = client.head_object(Bucket=s3_bucket, Key="recordings/sim/p.wav")
    assert head["ContentLength"] == len(DATA) and head["ContentType"] == "audio/wav"
    await store.aclose()


def test_settings_pick_the_store(tmp_path: Path) -> None:
    local = build_blob_store(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "recordings"
    remote = build_blob_store(
        Settings(data_dir=tmp_path, blob_store="s3", s3_bucket="b", s3_region="eu-west-1")
    )
    assert isinstance(remote, S3BlobStore) and remote.prefix == "recordings/"
    with pytest.raises(ValueError, match="S3_BUCKET"):
        build_blob_store(Settings(data_dir=tmp_path, blob_store="s3"))
    with pytest.raises(ValueError, match="local or s3"):
        build_blob_store(Settings(data_dir=tmp_path, blob_store="ftp"))
