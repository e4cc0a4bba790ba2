"""Voice routes through the official SDK: catalogue, real preview audio, clone, delete."""

from __future__ import annotations

import base64
import io
import wave

import pytest
import revox


def test_preview_returns_real_audio(client: revox.Revox) -> None:
    voice = next(
        v for v in client.voices.list().voices if v.provider == "cartesia" and v.language == "en"
    )
    raw = client.voices.with_raw_response.preview(
        provider="cartesia", voice_id=voice.id, text="Hello there, this is a preview."
    )
    assert raw.http_response.headers["content-type"].startswith("audio/")
    with wave.open(io.BytesIO(raw.http_response.content)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
        frames = audio.readframes(audio.getnframes())
    assert 0.5 < seconds < 10
    assert max(frames) > 0  # not silence


def test_preview_validates_voice_and_speed(client: revox.Revox) -> None:
    with pytest.raises(revox.NotFoundError):
        client.voices.preview(provider="cartesia", voice_id="no-such-voice")
    voice = client.voices.list().voices[0]
    with pytest.raises(revox.UnprocessableEntityError):
        client.voices.preview(provider="elevenlabs", voice_id=voice.id, speed=1.4)


def test_clone_lists_and_deletes_unless_in_use(client: revox.Revox) -> None:
    sample = base64.b64encode(b"RIFF" + bytes(4000)).decode()
    clone = client.voices.clone(
        audio=sample, content_type="audio/wav", language="fr", name="My voice"
    )
    listed = {v.id: v for v in client.voices.list().voices}
    assert listed[clone.cartesia_voice_id].is_cloned is True
    assert listed[clone.cartesia_voice_id].language == "fr"
    assert (
        client.voices.retrieve(clone.cartesia_voice_id, provider="cartesia").voice.name
        == "My voice"
    )

    assistant = client.assistants.create(
        name="Speaker", prompt="p", voice={"id": clone.cartesia_voice_id, "provider": "cartesia"}
    ).assistant
    with pytest.raises(revox.ConflictError) as caught:
        client.voices.delete(clone.id)
    assert caught.value.response.headers["x-should-retry"] == "false"
    client.assistants.delete(assistant.id)
    assert client.voices.delete(clone.id).success is True
    assert clone.cartesia_voice_id not in [v.id for v in client.voices.list().voices]


def test_preset_voices_cannot_be_deleted_and_bad_audio_is_refused(client: revox.Revox) -> None:
    preset = client.voices.list().voices[0]
    with pytest.raises(revox.ConflictError):
        client.voices.delete(preset.id)
    with pytest.raises(revox.UnprocessableEntityError):
        client.voices.clone(
            audio="%%% not base64", content_type="audio/wav", language="en", name="x"
        )
