"""Recordings a call pipeline stored itself, and retention: old recordings are deleted from
the blob store and unlinked from their attempts, by the function and by the CLI."""

from __future__ import annotations

import io
import os
import wave
from datetime import UTC, datetime, timedelta
from typing import Any

import revox
import sqlalchemy as sa
from typer.testing import CliRunner

from openrevox.cli import app as cli
from openrevox.results.blobstore import BlobStore
from openrevox.results.recordings import pipeline_key, prune_recordings
from openrevox.store.tables import call_attempts
from tests.conftest import LiveServer
from tests.results.audio import decode, fetch
from tests.results.test_recordings import place, recording_key, recordings_of


def tiny_wav(seconds: float = 0.2, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x10\x00\xf0\xff" * int(seconds * rate))
    return buffer.getvalue()


def store_of(engine: LiveServer) -> BlobStore:
    return recordings_of(engine).store


def answered(caller: revox.Revox) -> str:
    """A finished call whose only attempt was answered: its order id."""
    call = place(caller, "+14155550100")
    assert call.call_attempts[0].answered_at is not None
    return str(call.id)


def attempt_of(caller: revox.Revox, call_id: str) -> Any:
    return caller.call.retrieve(call_id).call.call_attempts[0]


def as_pipeline(engine: LiveServer, attempt_id: str, audio: bytes, *, age_days: float = 0) -> str:
    """What a real call's pipeline does: store the audio, write the key on the attempt."""
    key = pipeline_key(attempt_id)

    async def save() -> None:
        await store_of(engine).put(key, audio)
        async with engine.app.state.services.db.transaction() as conn:
            created = datetime.now(UTC) - timedelta(days=age_days)
            await conn.execute(
                sa.update(call_attempts)
                .where(call_attempts.c.id == attempt_id)
                .values(recording_key=key, created_at=created)
            )

    engine.run(save())
    return key


def test_a_pipeline_recording_is_served_as_stored(engine: LiveServer, caller: revox.Revox) -> None:
    call_id = answered(caller)
    audio = tiny_wav()
    as_pipeline(engine, attempt_of(caller, call_id).id, audio)
    made = recordings_of(engine).synthesized
    attempt = attempt_of(caller, call_id)
    response = fetch(engine, attempt.recording_url)
    assert response.status_code == 200 and response.content == audio
    assert decode(response.content).rate == 8000
    assert recordings_of(engine).synthesized == made  # never replaced by a synthesised one


def test_prune_deletes_old_recordings_only(engine: LiveServer, caller: revox.Revox) -> None:
    old, recent = (attempt_of(caller, answered(caller)).id for _ in range(2))
    old_key = as_pipeline(engine, old, tiny_wav(), age_days=40)
    recent_key = as_pipeline(engine, recent, tiny_wav(), age_days=2)
    store = store_of(engine)
    # A file no attempt points to (a crash between the upload and the update), long ago.
    engine.run(store.put("calls/orphan.wav", tiny_wav()))
    orphan = store.local_path("calls/orphan.wav")
    assert orphan is not None
    long_ago = (datetime.now(UTC) - timedelta(days=40)).timestamp()
    os.utime(orphan, (long_ago, long_ago))

    services = engine.app.state.services
    deleted = engine.run(prune_recordings(services.db, store, datetime.now(UTC), 30))
    assert deleted == 2
    assert recording_key(engine, old) is None and not engine.run(store.exists(old_key))
    assert not orphan.exists()
    assert recording_key(engine, recent) == recent_key and engine.run(store.exists(recent_key))
    # Keep-forever (no retention set) deletes nothing.
    assert engine.run(prune_recordings(services.db, store, datetime.now(UTC), None)) == 0


def test_the_prune_command(engine: LiveServer, caller: revox.Revox) -> None:
    attempt_id = attempt_of(caller, answered(caller)).id
    key = as_pipeline(engine, attempt_id, tiny_wav(), age_days=10)
    env = {
        "OPENREVOX_DATABASE_URL": engine.settings.database_url,
        "OPENREVOX_DATA_DIR": str(engine.settings.data_dir),
        "OPENREVOX_RECORDING_RETENTION_DAYS": "",
    }
    runner = CliRunner()
    kept = runner.invoke(cli, ["recordings", "prune"], env=env)
    assert kept.exit_code == 0 and "no retention set" in kept.output
    env["OPENREVOX_RECORDING_RETENTION_DAYS"] = "7"
    result = runner.invoke(cli, ["recordings", "prune"], env=env)
    assert result.exit_code == 0, result.output
    assert "deleted 1 recordings older than 7 days" in result.output
    assert recording_key(engine, attempt_id) is None
    assert not engine.run(store_of(engine).exists(key))
