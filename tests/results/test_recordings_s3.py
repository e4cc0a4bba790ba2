"""A server whose recordings live in S3 (moto's server over real HTTP): synthesised on
first fetch into the bucket, then streamed back from it, ranges included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import revox

from openrevox.results.recordings import synthesized_key
from openrevox.settings import Settings
from openrevox.store.migrate import upgrade_to_head
from tests.conftest import LiveServer, make_settings
from tests.dispatch.conftest import SIM_SPEED
from tests.results.audio import decode, fetch
from tests.results.test_recordings import VOICEMAIL, place, recordings_of


@pytest.fixture(scope="module")
def s3_server(
    tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, s3_bucket_for_module: str
) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("s3-engine")
    url = Settings(data_dir=data_dir).database_url
    upgrade_to_head(url)
    settings = make_settings(
        url,
        data_dir,
        sim_speed=SIM_SPEED,
        blob_store="s3",
        s3_bucket=s3_bucket_for_module,
        s3_endpoint_url=s3_endpoint,
        s3_region="us-east-1",
    )
    live = LiveServer(settings, embedded_worker=True).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def s3_bucket_for_module(s3_endpoint: str) -> str:
    name = "openrevox-recordings"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def test_a_recording_goes_to_the_bucket_and_streams_back(
    s3_server: LiveServer, s3_endpoint: str, s3_bucket_for_module: str
) -> None:
    org = s3_server.new_org()
    client = revox.Revox(api_key=org.test_key, base_url=f"{s3_server.url}/api", max_retries=0)
    attempt = place(client, "+14155550120", voicemail_message=VOICEMAIL).call_attempts[0]
    assert recordings_of(s3_server).store.local_path("x") is None  # the S3 store

    first = fetch(s3_server, attempt.recording_url)
    assert first.status_code == 200 and first.headers["content-type"] == "audio/wav"
    audio = decode(first.content)
    assert audio.channels == 2 and audio.rms(0) > 300 and audio.rms(1) > 300
    bucket = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    stored = bucket.get_object(
        Bucket=s3_bucket_for_module, Key=f"recordings/{synthesized_key(attempt.id)}"
    )
    assert stored["Body"].read() == first.content

    size = len(first.content)
    part = fetch(s3_server, attempt.recording_url, range="bytes=44-2047")
    assert part.status_code == 206 and part.content == first.content[44:2048]
    assert part.headers["content-range"] == f"bytes 44-2047/{size}"
    assert fetch(s3_server, attempt.recording_url, range=f"bytes={size}-").status_code == 416
    made = recordings_of(s3_server).synthesized
    assert fetch(s3_server, attempt.recording_url).content == first.content
    assert recordings_of(s3_server).synthesized == made
