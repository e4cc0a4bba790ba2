"""Recordings of simulated calls, end to end: placed through the official SDK, fetched by
the signed ``recording_url`` the API hands out, decoded and measured."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import revox
import sqlalchemy as sa

from openrevox.results.recordings import Recordings, synthesized_key
from openrevox.store.tables import call_attempts
from tests.conftest import LiveServer
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done
from tests.results.audio import decode, fetch, local_url, words

VOICEMAIL = "Hi Alex, this is Acme about the spring offer. Please call us back."
FIELDS = [
    {"name": "full_name", "required": True, "type": "string", "description": "full name"},
    {"name": "email", "required": True, "type": "string", "description": "email address"},
]


def place(client: revox.Revox, number: str, **assistant: Any) -> Any:
    config = {
        "prompt": "You call on behalf of Acme about the spring offer.",
        "first_sentence": "Hello, this is Acme calling about our spring offer.",
        "first_sentence_mode": "static",
        "call_retry_config": retry_config(1),
        **assistant,
    }
    call_id = client.call.create(phone_number=number, assistant=config).call.id  # type: ignore[arg-type]
    return wait_until_done(client, call_id, timeout=60)


def recordings_of(server: LiveServer) -> Recordings:
    found: Recordings = server.app.state.services.recordings
    return found


def recording_key(server: LiveServer, attempt_id: str) -> str | None:
    async def read() -> str | None:
        async with server.app.state.services.db.read() as conn:
            query = sa.select(call_attempts.c.recording_key).where(call_attempts.c.id == attempt_id)
            key: str | None = (await conn.execute(query)).scalar_one()
            return key

    return server.run(read())


@dataclass
class Fetched:
    attempt: Any
    url: str
    body: bytes
    seconds: float
    api_key: str


@pytest.fixture(scope="module")
def conversation(engine: LiveServer) -> Fetched:
    """A cooperative person giving two fields (the typical sandbox call), and the first
    fetch of its recording, which synthesises it."""
    org = engine.new_org()
    client = revox.Revox(api_key=org.test_key, base_url=f"{engine.url}/api", max_retries=0)
    attempt = place(client, "+14155550100", structured_output_config=FIELDS).call_attempts[0]
    assert attempt.answered_at is not None and attempt.recording_url
    started = time.perf_counter()
    response = fetch(engine, attempt.recording_url)
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text
    print(f"\nfirst fetch (synthesis) of a {words(attempt.transcript)}-word call: {seconds:.1f}s")
    return Fetched(attempt, attempt.recording_url, response.content, seconds, org.test_key)


def test_the_recording_is_stereo_wav_with_both_speakers(conversation: Fetched) -> None:
    audio = decode(conversation.body)
    assert (audio.channels, audio.sample_width, audio.rate) == (2, 2, 22050)
    rate = words(conversation.attempt.transcript) / audio.duration
    assert 0.8 < rate < 4.5, f"{audio.duration:.1f}s for the transcript: not speech"
    agent, callee = audio.active_windows(0), audio.active_windows(1)
    assert audio.rms(0) > 300 and audio.rms(1) > 300  # neither channel is silent
    assert agent.mean() > 0.1 and callee.mean() > 0.05
    assert (agent & callee).mean() < 0.02  # turns, one speaker at a time
    first_speaker = conversation.attempt.transcript[0].role
    first_active = 0 if agent.argmax() < callee.argmax() else 1
    assert first_active == (0 if first_speaker == "assistant" else 1)


def test_headers_and_a_range_request(engine: LiveServer, conversation: Fetched) -> None:
    size = len(conversation.body)
    whole = fetch(engine, conversation.url)
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == size
    head = httpx.head(local_url(engine, conversation.url))
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == size
    part = fetch(engine, conversation.url, range="bytes=1000-4999")
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-4999/{size}"
    assert part.content == conversation.body[1000:5000]
    tail = fetch(engine, conversation.url, range="bytes=-100")
    assert tail.status_code == 206 and tail.content == conversation.body[-100:]
    assert fetch(engine, conversation.url, range=f"bytes={size + 10}-").status_code == 416


def test_the_second_fetch_is_served_from_the_cache(
    engine: LiveServer, conversation: Fetched
) -> None:
    attempt_id = conversation.attempt.id
    assert recording_key(engine, attempt_id) == synthesized_key(attempt_id)
    store = recordings_of(engine).store
    before = engine.run(store.stat(synthesized_key(attempt_id)))
    made = recordings_of(engine).synthesized
    again = fetch(engine, conversation.url)
    assert again.status_code == 200 and again.content == conversation.body
    assert recordings_of(engine).synthesized == made  # nothing synthesised again
    assert engine.run(store.stat(synthesized_key(attempt_id))) == before  # not rewritten


def test_every_route_that_shows_the_attempt_links_the_recording(
    engine: LiveServer, conversation: Fetched
) -> None:
    auth = {"authorization": f"Bearer {conversation.api_key}"}
    attempt_id = conversation.attempt.id
    legacy = httpx.get(f"{engine.url}/call", headers=auth)  # SDK 0.1.1 lists attempts
    listed = {item["id"]: item["recording_url"] for item in legacy.json()["calls"]}
    assert listed[attempt_id] and fetch(engine, listed[attempt_id]).content == conversation.body
    found = httpx.post(f"{engine.url}/call/search", headers=auth, json={}).json()["calls"]
    assert found[0]["call_attempts"][0]["recording_url"]


def test_expired_and_altered_links_are_refused(engine: LiveServer, conversation: Fetched) -> None:
    signer = engine.app.state.services.recording_signer
    attempt_id = conversation.attempt.id
    expired = signer.url(attempt_id, int(time.time()) - 5)
    response = fetch(engine, expired)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "link_expired"
    url, _, signature = conversation.url.rpartition("signature=")
    flipped = url + "signature=" + signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert fetch(engine, flipped).json()["error"]["code"] == "bad_signature"
    later = conversation.url.replace("expires=", "expires=9")  # a longer life, same signature
    assert fetch(engine, later).status_code == 403
    unsigned = conversation.url.split("?")[0]
    response = fetch(engine, unsigned)
    assert response.status_code == 403 and response.json()["error"]["type"] == "permission_error"


def test_unknown_attempts_are_not_found(engine: LiveServer) -> None:
    signer = engine.app.state.services.recording_signer
    response = fetch(engine, signer.url(str(uuid.uuid4()), int(time.time()) + 60))
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"


def test_an_unanswered_attempt_has_no_recording(engine: LiveServer, caller: revox.Revox) -> None:
    call = place(caller, "+12125550140")  # busy
    attempt = call.call_attempts[0]
    assert attempt.dial_error == "busy" and attempt.recording_url is None
    assert call.last_call_attempt.recording_url is None
    signer = engine.app.state.services.recording_signer
    assert fetch(engine, signer.url(attempt.id, int(time.time()) + 60)).status_code == 404


def test_concurrent_first_fetches_synthesise_once(engine: LiveServer, caller: revox.Revox) -> None:
    """A voicemail (greeting, beep, message): four listeners at once."""
    attempt = place(caller, "+14155550120", voicemail_message=VOICEMAIL).call_attempts[0]
    assert attempt.result == "voicemail" and attempt.recording_url
    (tone,) = (attempt.model_extra or {})["openrevox"]["answer_detection"]["beeps"]
    made = recordings_of(engine).synthesized
    bodies: list[bytes] = []

    def listen() -> None:
        response = httpx.get(local_url(engine, attempt.recording_url), timeout=180)
        assert response.status_code == 200
        bodies.append(response.content)

    listeners = [threading.Thread(target=listen) for _ in range(4)]
    for thread in listeners:
        thread.start()
    for thread in listeners:
        thread.join()
    assert len(bodies) == 4 and len(set(bodies)) == 1
    assert recordings_of(engine).synthesized == made + 1
    # The beep the line heard is a real tone of its pitch on the callee's channel.
    audio = decode(bodies[0])
    window = int(audio.rate * min(0.1, tone["ms"] / 2000))
    best = max(
        audio.tone_ratio(1, float(tone["hz"]), start, window)
        for start in range(0, len(audio.samples) - window, window // 2)
    )
    assert best > 0.9
