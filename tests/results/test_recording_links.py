"""Signed recording links: the signature, the expiry, which attempts get one, and the
server secret every process shares."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from openrevox.errors import Forbidden
from openrevox.results.recording_links import (
    EXPIRY_STEP_SECONDS,
    RecordingLinks,
    RecordingSigner,
    links_signed_when_used,
    load_secret,
)
from openrevox.settings import Settings
from openrevox.store.db import Database, create_engine
from openrevox.store.migrate import upgrade_to_head_async
from openrevox.store.repositories.calls import AttemptRecord

NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
SIGNER = RecordingSigner(b"s3cret", public_url="https://calls.example.com/", ttl_seconds=3600)


def attempt(**changes: object) -> AttemptRecord:
    values: dict[str, object] = {
        "id": "a1", "call_order_id": "o1", "attempt_number": 1, "status": "completed",
        "phone_number": "+14155550100", "dial_error": None, "result": "human",
        "ended_by": "agent", "end_reason": "tool_end_call", "handled_by_ai": True,
        "handled_by_human": False, "structured_output": None, "recording_key": None,
        "openrevox": None, "speech_events": None,
        "transcript": [{"role": "assistant", "content": "Hello."}],
        "created_at": NOW - timedelta(minutes=5), "started_at": NOW - timedelta(minutes=5),
        "answered_at": NOW - timedelta(minutes=4), "ended_at": NOW - timedelta(minutes=3),
    }  # fmt: skip
    values.update(changes)
    return AttemptRecord(**values)  # type: ignore[arg-type]


def test_the_link_shape_and_its_expiry() -> None:
    url = SIGNER.url_for("a1", NOW)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://calls.example.com/recordings/a1.wav"
    )
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    expires = int(query["expires"])
    assert 3600 <= expires - NOW.timestamp() < 3600 + EXPIRY_STEP_SECONDS
    assert expires % EXPIRY_STEP_SECONDS == 0  # the same link all minute long: cacheable
    assert len(query["signature"]) == 64
    SIGNER.verify("a1", expires, query["signature"], NOW)


def test_verification_refuses_what_was_not_signed() -> None:
    expires = SIGNER.expiry(NOW)
    good = SIGNER.signature("a1", expires)
    for attempt_id, when, signature, code in [
        ("a2", expires, good, "bad_signature"),  # another attempt
        ("a1", expires + 60, good, "bad_signature"),  # a longer life
        ("a1", expires, good[:-1] + "0", "bad_signature"),
        ("a1", expires, "", "bad_signature"),
    ]:
        with pytest.raises(Forbidden) as refused:
            SIGNER.verify(attempt_id, when, signature, NOW)
        assert refused.value.code == code and refused.value.status_code == 403
    with pytest.raises(Forbidden) as refused:
        SIGNER.verify("a1", expires, good, datetime.fromtimestamp(expires, UTC))
    assert refused.value.code == "link_expired"
    other = RecordingSigner(b"another secret", public_url="https://calls.example.com")
    with pytest.raises(Forbidden):
        other.verify("a1", expires, good, NOW)


def test_which_attempts_get_a_link() -> None:
    links = RecordingLinks(SIGNER, NOW)
    assert links(attempt()) == SIGNER.url_for("a1", NOW)
    assert links(attempt(answered_at=None, result=None, dial_error="busy")) is None
    assert links(attempt(ended_at=None)) is None  # still live
    assert links(attempt(transcript=None)) is None  # nothing to hear
    assert links(attempt(transcript=[{"role": "tool", "content": "x"}])) is None
    assert links(attempt(transcript=None, recording_key="calls/a1.wav")) is not None


def test_no_link_past_the_retention_period() -> None:
    links = RecordingLinks(SIGNER, NOW, retention_days=30)
    assert links(attempt(created_at=NOW - timedelta(days=29))) is not None
    assert links(attempt(created_at=NOW - timedelta(days=31))) is None


def test_long_lived_link_makers_sign_at_use() -> None:
    clock = [NOW]
    link = links_signed_when_used(SIGNER, lambda: clock[0])
    first = link(attempt())
    clock[0] = NOW + timedelta(hours=5)
    assert link(attempt()) == SIGNER.url_for("a1", clock[0]) != first


async def test_the_secret_is_made_once_and_shared(tmp_path: Path) -> None:
    url = Settings(data_dir=tmp_path).database_url
    await upgrade_to_head_async(url)
    processes = [Database(create_engine(url)) for _ in range(3)]
    try:
        secrets = await asyncio.gather(*(load_secret(db, None, NOW) for db in processes))
        assert len(set(secrets)) == 1 and len(secrets[0]) >= 48
        assert await load_secret(processes[0], None, NOW) == secrets[0]
        assert await load_secret(processes[0], "from-the-env", NOW) == b"from-the-env"
    finally:
        for db in processes:
            await db.dispose()
